"""The audit trail in the admin: searchable by clinic admins, read-only for everybody."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

from clinic.admin_tools import ReadOnlyAdminMixin
from clinic.audit.models import AccessLog
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
class AccessLogAdmin(ReadOnlyAuditAdminMixin, admin.ModelAdmin):
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
class WriteLogEntryAdmin(ReadOnlyAuditAdminMixin, LogEntryAdmin):
    list_filter = ["action", "actor", "timestamp", *LogEntryAdmin.list_filter[1:]]
