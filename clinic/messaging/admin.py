"""Admin: the message log, the failed/unknown list with retry, the triage inbox, the consent log."""

from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from clinic.admin_tools import GrowingTableAdminMixin, PickerLabelMixin, ReadOnlyAdminMixin
from clinic.clock import staff_datetime
from clinic.messaging.consent import consent_change
from clinic.messaging.inbound import inbound_mark_handled
from clinic.messaging.models import (
    ConsentEvent,
    InboundMessage,
    Message,
    MessageEvent,
    MessageNeedingAttention,
    TriageAnswer,
    TriageItem,
)
from clinic.messaging.outbox import (
    STAFF_MARK_SENT_FROM,
    STAFF_RETRY_FROM,
    NotRetryable,
    message_mark_sent,
    message_retry,
)
from clinic.messaging.triage import triage_answer, triage_answer_problem, triage_handle

# The staff actions on a message and the statuses they may start from (the outbox derives both from
# MESSAGE_TRANSITIONS); the services refuse any other move.
STAFF_ACTIONS = (("retry", STAFF_RETRY_FROM), ("mark sent", STAFF_MARK_SENT_FROM))


class MessageEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MessageEvent
    extra = 0
    fields = readonly_fields = ("at", "from_status", "to_status", "detail")


@admin.register(Message)
class MessageAdmin(GrowingTableAdminMixin, PickerLabelMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "patient", "channel", "purpose", "status", "attempts", "next_attempt_at", "sent_at", "reason"]
    list_filter = ["status", "channel", "purpose", "needs_review"]
    list_select_related = ["patient"]
    search_fields = ["patient__mrn", "patient__legal_last_name", "recipient", "provider_message_id", "source_key"]
    raw_id_fields = ["patient", "in_reply_to"]
    date_hierarchy = "created_at"
    inlines = [MessageEventInline]
    actions = ["retry", "mark_sent"]

    def lookup_allowed(self, lookup, value, request=None):
        # The per-patient message log: /admin/messaging/message/?patient__id__exact=N
        return lookup in ("patient__id__exact", "patient") or super().lookup_allowed(lookup, value, request)

    def has_change_permission(self, request, obj=None):
        # Needed for actions; every field is still read-only.
        return request.user.has_perm("messaging.change_message")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description="Retry selected failed / unknown (checked not sent) messages", permissions=["change"])
    def retry(self, request, queryset):
        done = 0
        for message in queryset:
            try:
                message_retry(message=message, by=request.user)
                done += 1
            except NotRetryable as exc:
                self.message_user(request, f"Message {message.pk}: {exc.messages[0]}", messages.WARNING)
        self.message_user(request, f"Queued {done} message(s) again.", messages.SUCCESS)

    @admin.action(description="Mark selected unknown messages sent (checked with the provider)", permissions=["change"])
    def mark_sent(self, request, queryset):
        done = 0
        for message in queryset:
            try:
                message_mark_sent(message=message, by=request.user)
                done += 1
            except NotRetryable as exc:
                self.message_user(request, f"Message {message.pk}: {exc.messages[0]}", messages.WARNING)
        self.message_user(request, f"Marked {done} message(s) sent.", messages.SUCCESS)


@admin.register(MessageNeedingAttention)
class MessageNeedingAttentionAdmin(MessageAdmin):
    list_display = ["id", "patient", "channel", "purpose", "status", "staff_may", "attempts", "sent_at", "reason"]
    list_filter = ["status", "channel", "purpose"]

    @admin.display(description="Staff may")
    def staff_may(self, obj: Message) -> str:
        """Offer the actions the transition table allows from this message's status."""
        offered = [name for name, sources in STAFF_ACTIONS if obj.status in sources]
        return ", ".join(offered) or "-"

    def get_queryset(self, request):
        # The messages a staff action can move, from the transition table, and those flagged for a person.
        actionable = STAFF_RETRY_FROM | STAFF_MARK_SENT_FROM
        return super().get_queryset(request).filter(Q(status__in=actionable) | Q(needs_review=True))

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("messaging.change_message")


class InboundAdmin(GrowingTableAdminMixin, PickerLabelMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "received_at", "from_number", "patient", "kind", "body", "handled_by", "needs_review"]
    list_filter = ["kind", "needs_review"]
    list_select_related = ["patient"]
    search_fields = ["from_number", "patient__mrn", "patient__legal_last_name", "provider_message_id"]
    raw_id_fields = ["patient"]
    actions = ["mark_handled"]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("messaging.change_inboundmessage")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description="Mark selected replies handled", permissions=["change"])
    def mark_handled(self, request, queryset):
        for inbound in queryset:
            inbound_mark_handled(inbound=inbound, by=request.user)
        self.message_user(request, f"Marked {len(queryset)} reply(ies) handled.", messages.SUCCESS)


admin.site.register(InboundMessage, InboundAdmin)


class TriageStateFilter(admin.SimpleListFilter):
    """Open items by default: the inbox is the work still to do; handled ones stay one click away."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("handled", "Handled"), ("all", "All")]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "open") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "open":
            return queryset.filter(handled_at__isnull=True)
        if value == "handled":
            return queryset.filter(handled_at__isnull=False)
        return queryset


class TriageAnswerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TriageAnswer
    extra = 0
    fields = readonly_fields = ("sent_by", "when", "text", "status")
    verbose_name_plural = "answers sent"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("message", "by")

    @admin.display(description="By")
    def sent_by(self, obj: TriageAnswer) -> str:
        return obj.by.get_username() if obj.by else "-"

    @admin.display(description="When (clinic time)")
    def when(self, obj: TriageAnswer) -> str:
        return staff_datetime(obj.at)

    @admin.display(description="Text")
    def text(self, obj: TriageAnswer) -> str:
        return obj.message.body

    @admin.display(description="Message")
    def status(self, obj: TriageAnswer) -> str:
        message = obj.message
        if message.status == Message.Status.QUEUED and message.next_attempt_at and message.next_attempt_at > obj.at:
            return f"waiting for the patient's send window ({staff_datetime(message.next_attempt_at)})"
        return message.get_status_display()


class TriageItemForm(forms.ModelForm):
    """The item's page: answer the patient by SMS and/or mark it handled; the services decide."""

    answer = forms.CharField(
        label="Answer by SMS",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Sent through the outbox: the patient's consent and quiet hours apply.",
    )
    mark_handled = forms.BooleanField(label="Mark handled", required=False)

    class Meta:
        model = TriageItem
        fields: list[str] = []

    def clean(self):
        data = super().clean() or {}
        if data.get("answer", "").strip():
            problem = triage_answer_problem(item=self.instance, text=data["answer"])
            if problem:
                raise ValidationError({"answer": problem["text"]})
        return data


# The user whose page is being rendered: a link to a record they may not open shows its label only.
_viewer: ContextVar[Any] = ContextVar("triage_viewer", default=None)


def _admin_link(content_type_id: int | None, object_id: int | None, label: str) -> str:
    """Return a link to a generic link's admin page; its label only when there is none or the viewer may not open it."""
    if content_type_id is None or object_id is None:
        return "-"
    content_type = ContentType.objects.get_for_id(content_type_id)  # cached: no query per row
    viewer = _viewer.get()
    text = label or content_type.name
    if viewer is None or not viewer.has_perm(f"{content_type.app_label}.view_{content_type.model}"):
        return text
    try:
        url = reverse(f"admin:{content_type.app_label}_{content_type.model}_change", args=[object_id])
    except NoReverseMatch:
        return text
    return format_html('<a href="{}">{}</a>', url, text)


_ITEM_FIELDS: list = ["urgency_shown", "opened", "patient_link", "reason", "detail", "said", "concerns_link",
                "answers_link", "handled"]  # fmt: skip


@admin.register(TriageItem)
class TriageItemAdmin(GrowingTableAdminMixin, admin.ModelAdmin):
    """The triage inbox: every reply that needs a person, most urgent first, with what it is about."""

    form = TriageItemForm
    list_display = ["urgency_shown", "opened", "patient_link", "why", "said", "about", "handled"]

    def get_list_display(self, request):
        # The open list (the default) needs no "handled" column; the handled and all lists do.
        if request.GET.get("state", "open") == "open":
            return [name for name in self.list_display if name != "handled"]
        return self.list_display

    list_display_links = ["urgency_shown", "opened"]
    list_filter = [TriageStateFilter, "urgency", "reason"]
    list_select_related = ["patient", "inbound", "handled_by"]
    search_fields = ["patient__mrn", "patient__legal_last_name", "inbound__body"]
    actions = ["mark_handled"]
    inlines = [TriageAnswerInline]
    fieldsets = [(None, {"fields": _ITEM_FIELDS}), ("Act", {"fields": ["answer", "mark_handled"]})]
    readonly_fields = _ITEM_FIELDS

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": "Triage inbox: most urgent first", **(extra_context or {})}
        return self._as_viewer(request, super().changelist_view, request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._as_viewer(request, super().change_view, request, object_id, form_url, extra_context)

    @staticmethod
    def _as_viewer(request, view, *args):
        """Render VIEW with the signed-in user as the viewer the links are checked for."""
        token = _viewer.set(request.user)
        try:
            response = view(*args)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response
        finally:
            _viewer.reset(token)

    @admin.display(description="Urgency", ordering="-urgency")
    def urgency_shown(self, obj: TriageItem) -> str:
        return obj.get_urgency_display()

    @admin.display(description="Received", ordering="opened_at")
    def opened(self, obj: TriageItem) -> str:
        return staff_datetime(obj.opened_at)

    @admin.display(description="Patient")
    def patient_link(self, obj: TriageItem) -> str:
        if obj.patient is None:
            return f"unknown number {obj.inbound.from_number}" if obj.inbound else "-"
        url = reverse("admin:clinic_patient_change", args=[obj.patient_id])
        return format_html('<a href="{}">{}</a>', url, obj.patient)

    @admin.display(description="Patient wrote")
    def said(self, obj: TriageItem) -> str:
        return obj.inbound.body if obj.inbound else "-"

    @admin.display(description="Why")
    def why(self, obj: TriageItem) -> str:
        return f"{obj.get_reason_display()}: {obj.detail}" if obj.detail else obj.get_reason_display()

    @admin.display(description="About")
    def about(self, obj: TriageItem) -> str:
        links = [
            _admin_link(obj.concerns_type_id, obj.concerns_id, obj.concerns_label),
            _admin_link(obj.answers_type_id, obj.answers_id, obj.answers_label),
        ]
        shown = [link for link in links if link != "-"]
        return format_html_join(mark_safe("<br>"), "{}", ((link,) for link in shown)) if shown else "-"

    @admin.display(description="Concerns")
    def concerns_link(self, obj: TriageItem) -> str:
        return _admin_link(obj.concerns_type_id, obj.concerns_id, obj.concerns_label)

    @admin.display(description="Answering")
    def answers_link(self, obj: TriageItem) -> str:
        return _admin_link(obj.answers_type_id, obj.answers_id, obj.answers_label)

    @admin.display(description="Handled")
    def handled(self, obj: TriageItem) -> str:
        if obj.handled_at is None:
            return "open"
        who = obj.handled_by.get_username() if obj.handled_by else "system"
        return f"by {who}, {staff_datetime(obj.handled_at)}"

    def save_model(self, request, obj, form, change):
        text = form.cleaned_data.get("answer", "").strip()
        if text:
            try:
                answer = triage_answer(item=obj, text=text, by=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                waits = answer.message.next_attempt_at and answer.message.next_attempt_at > timezone.now()
                when = f"; it goes out at {staff_datetime(answer.message.next_attempt_at)}" if waits else ""
                self.message_user(request, f"Answer queued for the patient{when}.", messages.SUCCESS)
        if form.cleaned_data.get("mark_handled"):
            triage_handle(item=obj, by=request.user)

    @admin.action(description="Mark selected items handled", permissions=["change"])
    def mark_handled(self, request, queryset):
        for item in queryset:
            triage_handle(item=item, by=request.user)
        self.message_user(request, f"Marked {len(queryset)} item(s) handled.", messages.SUCCESS)


class ConsentChangeForm(forms.ModelForm):
    """Staff record a consent change (signed form, phone call); saved through consent_change."""

    source = forms.ChoiceField(choices=[(ConsentEvent.Source.STAFF, "Staff"), (ConsentEvent.Source.FORM, "Form")])

    class Meta:
        model = ConsentEvent
        fields = ["patient", "channel", "granted", "source"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(GrowingTableAdminMixin, PickerLabelMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "patient", "channel", "granted", "source", "by"]
    list_filter = ["channel", "granted", "source"]
    list_select_related = ["patient", "by"]
    search_fields = ["patient__mrn", "patient__legal_last_name"]
    raw_id_fields = ["patient"]
    form = ConsentChangeForm

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("messaging.add_consentevent")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        changed = consent_change(
            patient=data["patient"], channel=data["channel"], granted=data["granted"], source=data["source"],
            by=request.user,
        )  # fmt: skip
        if not changed:
            self.message_user(request, "Nothing changed: the patient's consent already was so.", messages.WARNING)
        # The event (if any) was written by consent_change; point the admin's redirect at it.
        obj.pk = ConsentEvent.objects.filter(patient=data["patient"]).values_list("pk", flat=True).first()

    def response_add(self, request, obj, post_url_continue=None):
        return self.response_post_save_add(request, obj)
