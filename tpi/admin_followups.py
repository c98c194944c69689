"""The follow-ups page: due today, sent, answered (with pain scores), failed, needing review.

Actions retry (failed messages again), cancel (with a reason) and mark handled call tpi/followups.py.
"""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from clinic.admin_tools import GrowingTableAdminMixin, admin_page_context
from clinic.exceptions import StateConflict
from clinic.messaging.models import Message
from tpi.followups import followup_cancel, followup_mark_handled, followup_messages, followup_retry
from tpi.models import FollowUp

S = FollowUp.Status


def _end_of_today() -> dt.datetime:
    today = timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()))


class QueueFilter(admin.SimpleListFilter):
    """The work lists of the page."""

    title = "list"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("due_today", "Due today (and overdue)"),
            ("sent", "Sent, waiting for an answer"),
            ("answered", "Answered"),
            ("failed", "Failed"),
            ("review", "Needing review"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "due_today":
            return queryset.filter(status=S.SCHEDULED, due_at__lt=_end_of_today())
        if value in ("sent", "answered", "failed"):
            return queryset.filter(status=value)
        if value == "review":
            return queryset.filter(needs_review=True)
        return queryset


@admin.register(FollowUp)
class FollowUpAdmin(GrowingTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "id", "patient_link", "procedure_link", "kind", "due_at", "status", "answer_pain_score", "answered_at",
        "status_reason", "review", "message_log",
    ]  # fmt: skip
    list_filter = [QueueFilter, "kind", "status"]
    list_select_related = ["procedure__patient"]
    search_fields = ["procedure__patient__mrn", "procedure__patient__legal_last_name"]
    date_hierarchy = "due_at"
    actions = ["retry_selected", "cancel_selected", "mark_handled_selected"]

    def get_queryset(self, request):
        troubled = Exists(followup_messages(Message.objects.filter(Q(needs_review=True) | Q(status="unknown"))))
        return (
            super()
            .get_queryset(request)
            .annotate(needs_review=(Q(status=S.FAILED) | troubled) & Q(handled_at__isnull=True))
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="patient", ordering="procedure__patient__legal_last_name")
    def patient_link(self, obj):
        patient = obj.procedure.patient
        url = reverse("admin:clinic_patient_change", args=[patient.pk])
        return format_html('<a href="{}">{}</a>', url, patient.display_name)

    @admin.display(description="procedure", ordering="procedure_id")
    def procedure_link(self, obj):
        url = reverse("admin:tpi_procedure_change", args=[obj.procedure_id])
        return format_html('<a href="{}">#{}</a>', url, obj.procedure_id)

    @admin.display(description="needs review", boolean=True, ordering="needs_review")
    def review(self, obj):
        return bool(getattr(obj, "needs_review", False))

    @admin.display(description="messages")
    def message_log(self, obj):
        url = reverse("admin:messaging_message_changelist")
        return format_html('<a href="{}?patient__id__exact={}">message log</a>', url, obj.procedure.patient_id)

    def _each(self, request, queryset, service, done_text: str) -> None:
        done = 0
        for follow_up in queryset:
            try:
                service(follow_up)
            except (StateConflict, ValidationError) as exc:
                text = exc.message if isinstance(exc, StateConflict) else "; ".join(exc.messages)
                self.message_user(request, f"Follow-up {follow_up.pk}: {text}", messages.WARNING)
                continue
            done += 1
        self.message_user(request, f"{done_text}: {done}.", messages.SUCCESS)

    @admin.action(description="Retry the failed messages of the selected follow-ups", permissions=["change"])
    def retry_selected(self, request, queryset):
        self._each(request, queryset, lambda f: followup_retry(follow_up=f, by=request.user), "Retried")

    @admin.action(description="Cancel selected scheduled follow-ups (asks for the reason)", permissions=["change"])
    def cancel_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if "confirm" not in request.POST or not reason:
            context = admin_page_context(self, request, title="Cancel follow-ups", follow_ups=queryset)
            return TemplateResponse(request, "admin/tpi/followup/cancel.html", context)
        self._each(request, queryset, lambda f: followup_cancel(follow_up=f, by=request.user, reason=reason),
                   "Cancelled")  # fmt: skip
        return None

    @admin.action(description="Mark selected follow-ups handled", permissions=["change"])
    def mark_handled_selected(self, request, queryset):
        self._each(request, queryset, lambda f: followup_mark_handled(follow_up=f, by=request.user), "Marked handled")
