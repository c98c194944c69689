from django.conf import settings
from django.db import models

from clinic.transitions import Transitions


class FollowUp(models.Model):
    """A message owed to the patient after a signed procedure; created by signing, sent by the sweep."""

    class Kind(models.TextChoices):
        CHECK_IN = "check_in", "72-hour check-in"
        REASSESSMENT = "reassessment", "One-month reassessment"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent"
        ANSWERED = "answered", "Answered"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"  # every message failed (or some failed, the rest skipped)

    class AnswerMethod(models.TextChoices):
        """How the pain score reached us (the observation's method in the API and exports)."""

        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        IN_CLINIC = "in_clinic", "In clinic"

    # Every move is a conditional UPDATE whose `status__in` is TRANSITIONS.sources(target) (tpi.followups).
    TRANSITIONS = Transitions(
        "follow-up status",
        {
            Status.SCHEDULED: {Status.SENT, Status.EXPIRED, Status.SKIPPED, Status.CANCELLED, Status.FAILED},
            Status.SENT: {Status.ANSWERED, Status.FAILED, Status.SKIPPED, Status.CANCELLED},
            Status.FAILED: {Status.SENT},  # its messages were queued again
            Status.ANSWERED: set(),
            Status.EXPIRED: set(),
            Status.CANCELLED: set(),
            Status.SKIPPED: set(),
        },
    )

    procedure = models.ForeignKey("tpi.Procedure", on_delete=models.PROTECT, related_name="follow_ups")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    status_reason = models.CharField(max_length=200, blank=True)
    answer_pain_score = models.PositiveSmallIntegerField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_method = models.CharField(max_length=9, choices=AnswerMethod.choices, blank=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweep queued its messages (the reply window starts here)"
    )
    sent_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="carried",
        help_text="The follow-up whose message asked this one too (same kind, same patient, due together)",
    )  # fmt: skip
    handled_at = models.DateTimeField(null=True, blank=True, help_text="When staff marked it handled")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # (status, due_at, id): the sweep's claim reads its batch in this order from the index and stops after
            # LIMIT rows, instead of sorting every due row for each batch (100,000 due: quadratic).
            models.Index(fields=["status", "due_at", "id"]),
            # The "consider repeat" list (tpi.repeat): the latest one-month answers first, from an index.
            models.Index(
                fields=["answered_at", "procedure"],
                condition=models.Q(kind="reassessment"),
                name="followup_reassessment_answered",
            ),
            # Follow-ups asked in another one's message, by status: the sweep gives them their lead's state
            # each run (tpi.followups._carried_follow) without reading every sent follow-up ever.
            models.Index(
                fields=["status"], condition=models.Q(sent_with__isnull=False), name="followup_carried_status"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "kind"], name="followup_one_per_kind"),
            models.CheckConstraint(
                condition=models.Q(answer_pain_score__isnull=True) | models.Q(answer_pain_score__lte=10),
                name="followup_pain_score_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(answer_pain_score__isnull=True) | models.Q(answered_at__isnull=False),
                name="followup_answer_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for procedure {self.procedure_id} ({self.status})"

    @property
    def source_key(self) -> str:
        """Return the outbox key of this follow-up's messages (one Message per key and channel)."""
        return f"followup:{self.pk}:{self.kind}"
