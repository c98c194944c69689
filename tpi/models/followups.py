from django.db import models


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

    procedure = models.ForeignKey("tpi.Procedure", on_delete=models.PROTECT, related_name="follow_ups")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    status_reason = models.CharField(max_length=200, blank=True)
    answer_pain_score = models.PositiveSmallIntegerField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"])]
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
