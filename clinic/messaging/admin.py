"""Admin: the message log, the failed/unknown list with retry, the reply review queue, consent log."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q

from clinic.admin_tools import GrowingTableAdminMixin, PickerLabelMixin, ReadOnlyAdminMixin
from clinic.messaging.consent import consent_change
from clinic.messaging.inbound import inbound_mark_handled
from clinic.messaging.models import (
    ConsentEvent,
    InboundMessage,
    Message,
    MessageEvent,
    MessageNeedingAttention,
    ReplyToReview,
)
from clinic.messaging.outbox import (
    STAFF_MARK_SENT_FROM,
    STAFF_RETRY_FROM,
    NotRetryable,
    message_mark_sent,
    message_retry,
)

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


@admin.register(ReplyToReview)
class ReplyToReviewAdmin(InboundAdmin):
    list_filter = ["kind"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(needs_review=True)


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
