"""The audit trail in the admin: searchable by clinic admins, read-only for everybody."""

import datetime as dt
from types import SimpleNamespace

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from auditlog.render import render_logentry_changes_html
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from clinic.admin_tools import GrowingTableAdminMixin, ReadOnlyAdminMixin
from clinic.audit.models import AccessLog
from clinic.clock import staff_datetime
from clinic.roles import is_clinic_admin


class ReadOnlyAuditAdminMixin(ReadOnlyAdminMixin):
    """Nobody adds, changes or deletes audit rows here, not even a superuser; clinic admins read."""

    def has_module_permission(self, request) -> bool:
        return is_clinic_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_clinic_admin(request.user)

    def get_actions(self, request):
        return {}


@admin.register(AccessLog)
class AccessLogAdmin(GrowingTableAdminMixin, ReadOnlyAuditAdminMixin, admin.ModelAdmin):
    list_display = ["at", "user", "action", "patient", "content_type", "object_id", "remote_addr", "path"]
    list_filter = ["action", "user", "at", "content_type"]
    list_select_related = ["user", "patient", "content_type"]
    search_fields = ["patient__mrn", "patient__legal_last_name", "user__username", "path"]
    search_help_text = "Search by patient MRN or last name, staff username, or path."
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AccessLog._meta.fields]

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # Links such as ?patient__id__exact=42 filter one patient's trail.
        return lookup in ("patient__id__exact", "patient") or super().lookup_allowed(lookup, value, request)


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class WriteLogEntryAdmin(GrowingTableAdminMixin, ReadOnlyAuditAdminMixin, LogEntryAdmin):
    list_filter = ["action", "actor", "timestamp", *LogEntryAdmin.list_filter[1:]]

    @admin.display(description="Changes")
    def msg(self, obj):
        # auditlog keeps datetimes as UTC text; staff read them in clinic time like everything else.
        return render_logentry_changes_html(
            SimpleNamespace(changes_dict=_changes_in_clinic_time(obj), content_type=obj.content_type)
        )


def _changes_in_clinic_time(entry: LogEntry) -> dict:
    """Return ENTRY's changes with every datetime value written in the clinic's zone."""
    model = entry.content_type.model_class()
    changes = {}
    for name, change in entry.changes_dict.items():
        try:
            field = model._meta.get_field(name) if model else None
        except FieldDoesNotExist:
            field = None
        if isinstance(field, models.DateTimeField) and isinstance(change, list):
            change = [_clinic_time(value) for value in change]
        changes[name] = change
    return changes


def _clinic_time(value):
    try:
        instant = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return value  # "None" and anything else auditlog wrote stays as it was
    return staff_datetime(instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC))
