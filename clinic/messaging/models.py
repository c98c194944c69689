"""The outbox (Message and its history), the consent log and inbound SMS."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.db.models import Q

from clinic.models import Patient
from clinic.transitions import Transitions


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class MessageQuerySet(models.QuerySet):
    def due(self, *, now):
        """Return queued messages whose next attempt time has come."""
        return self.filter(status=Message.Status.QUEUED, next_attempt_at__lte=now)


class Message(models.Model):
    """One outbound SMS or email: rendered once, sent at most once, every state change recorded."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        UNKNOWN = "unknown", "Outcome unknown"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="messages")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    recipient = models.CharField(max_length=254, blank=True, help_text="E.164 number or email address")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    template = models.CharField(max_length=100)
    purpose = models.CharField(max_length=50)
    language = models.CharField(max_length=8, default="en")
    automated = models.BooleanField(default=True, help_text="Automated messages respect consent and quiet hours")
    source_key = models.CharField(
        max_length=100, null=True, blank=True, help_text='What caused this message, e.g. "followup:123:check_in"'
    )
    in_reply_to = models.ForeignKey(
        "messaging.InboundMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.TextField(blank=True, help_text="Why it was skipped, failed or is unknown")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Sends started, ever (never reset)")
    attempts_at_staff_retry = models.PositiveSmallIntegerField(
        default=0, help_text="Attempts already made when staff last asked for a retry (retries count from here)"
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its delivery task was last published (the sweep skips waiting ones)"
    )
    provider_message_id = models.CharField(max_length=100, blank=True)
    needs_review = models.BooleanField(default=False, help_text="Staff must decide (outcome unknown or failed)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["provider_message_id"]),
            models.Index(fields=["patient", "-created_at"]),
            models.Index(fields=["created_at", "id"]),  # the default ordering: the message list's page
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "channel"],
                condition=Q(source_key__isnull=False),
                name="message_one_per_source_and_channel",
            ),
            models.CheckConstraint(
                condition=~Q(status="queued") | Q(next_attempt_at__isnull=False),
                name="message_queued_has_next_attempt",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "delivered"]) | Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.purpose} #{self.pk} ({self.status})"


_S = Message.Status
# Every move of Message.status (creation is queued or skipped). The outbox derives each claim's
# `status__in` from it; a self-move (queued -> queued, unknown -> unknown) records a new due time
# or a new reason without changing the status.
MESSAGE_TRANSITIONS = Transitions(
    "Message.status",
    {
        _S.QUEUED: {_S.QUEUED, _S.SENDING, _S.SKIPPED},  # wait for the window, claim, skip or withdraw
        _S.SENDING: {_S.SENT, _S.DELIVERED, _S.FAILED, _S.QUEUED, _S.UNKNOWN},  # the attempt's outcome
        # an attempt's late outcome, the provider's answer on reconciling, a staff decision
        _S.UNKNOWN: {_S.UNKNOWN, _S.SENT, _S.DELIVERED, _S.FAILED, _S.QUEUED},
        _S.SENT: {_S.DELIVERED, _S.FAILED},  # the provider's delivery report
        _S.FAILED: {_S.QUEUED},  # staff retry
        _S.DELIVERED: set(),
        _S.SKIPPED: set(),
    },
)


class MessageEvent(models.Model):
    """One status change of a Message: the audit trail staff read when something went wrong."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, choices=Message.Status.choices)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class ConsentEvent(models.Model):
    """One change of a patient's consent for a channel, with who or what changed it."""

    class Source(models.TextChoices):
        REPLY = "reply", "Patient reply"
        STAFF = "staff", "Staff"
        FORM = "form", "Form"
        IMPORT = "import", "Imported from the previous system"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consent_events")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=6, choices=Source.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    inbound = models.ForeignKey(
        "messaging.InboundMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="consent_events"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["at", "id"])]  # the default ordering: the consent log's page

    def __str__(self) -> str:
        return f"{self.channel} {'granted' if self.granted else 'revoked'} ({self.source})"


class InboundMessage(models.Model):
    """One SMS a patient sent us; unique on the provider's id so a redelivered webhook counts once."""

    class Kind(models.TextChoices):
        OPT_OUT = "opt_out", "Opt-out (STOP)"
        OPT_IN = "opt_in", "Opt-in (START)"
        HELP = "help", "Help"
        REPLY = "reply", "Reply"

    provider_message_id = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32, blank=True)
    body = models.TextField(blank=True)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_messages"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.REPLY)
    received_at = models.DateTimeField()
    handled_by = models.CharField(max_length=200, blank=True, help_text="The handler that took this reply")
    needs_review = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["needs_review", "-received_at"]),
            models.Index(fields=["received_at", "id"]),  # the default ordering: the reply list's page
        ]

    def __str__(self) -> str:
        return f"SMS from {self.from_number} ({self.get_kind_display()})"


class MessageNeedingAttention(Message):
    """Failed and unknown-outcome messages staff must look at (the admin's failed list)."""

    class Meta:
        proxy = True
        verbose_name = "failed or unknown message"
        verbose_name_plural = "failed or unknown messages"


class TriageItem(models.Model):
    """One thing a patient said that needs a person: the triage inbox, most urgent first.

    The core knows nothing of appointments or procedures: what the item concerns (a visit, a
    procedure) and what the patient answered (a follow-up, an offer) are generic links the opening
    app fills in (`clinic.messaging.triage.triage_open`), with their labels kept for the list.
    """

    class Reason(models.TextChoices):
        FREE_TEXT = "free_text", "Free-text reply"
        RESCHEDULE = "reschedule", "Asks to reschedule"
        BOOKING = "booking", "Asks to book a visit"
        PAIN = "pain", "Pain score"
        SYMPTOM = "symptom", "Symptom reported"
        UNKNOWN_NUMBER = "unknown_number", "Unknown number"

    class Urgency(models.IntegerChoices):
        ROUTINE = 10, "Routine"
        SOON = 20, "Soon"
        URGENT = 30, "Urgent"

    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="triage_items")
    inbound = models.OneToOneField(
        InboundMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="triage_item"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices, default=Urgency.ROUTINE)
    detail = models.CharField(max_length=300, blank=True, help_text="Why it needs a person, e.g. the pain score")
    concerns_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    concerns_id = models.PositiveBigIntegerField(null=True, blank=True)
    concerns = GenericForeignKey("concerns_type", "concerns_id")
    concerns_label = models.CharField(max_length=200, blank=True, help_text="What it concerns, as staff read it")
    answers_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answers_id = models.PositiveBigIntegerField(null=True, blank=True)
    answers = GenericForeignKey("answers_type", "answers_id")
    answers_label = models.CharField(max_length=200, blank=True, help_text="What the patient answered")
    opened_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "triage item"
        verbose_name_plural = "triage items"
        # Most urgent first; within one urgency, whoever has waited longest.
        ordering = ["-urgency", "opened_at", "id"]
        indexes = [
            models.Index(fields=["handled_at", "-urgency", "opened_at"], name="triage_open_idx"),
            models.Index(fields=["-urgency", "opened_at", "id"], name="triage_order_idx"),  # the list's order
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(handled_by__isnull=True) | Q(handled_at__isnull=False), name="triage_handled_has_time"
            ),
            models.CheckConstraint(
                condition=Q(concerns_type__isnull=True, concerns_id__isnull=True)
                | Q(concerns_type__isnull=False, concerns_id__isnull=False),
                name="triage_concerns_complete",
            ),
            models.CheckConstraint(
                condition=Q(answers_type__isnull=True, answers_id__isnull=True)
                | Q(answers_type__isnull=False, answers_id__isnull=False),
                name="triage_answers_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.get_urgency_display().lower()})"

    @property
    def is_open(self) -> bool:
        """Return True until someone marked it handled."""
        return self.handled_at is None


class TriageAnswer(models.Model):
    """One SMS staff sent from the triage inbox: who, when, and the outbox message it became."""

    item = models.ForeignKey(TriageItem, on_delete=models.PROTECT, related_name="staff_answers")
    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="triage_answer")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Answer to triage item {self.item_id}"
