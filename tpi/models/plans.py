"""Treatment plans: recurring injections, one PlanOccurrence row per planned visit."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.transitions import Transitions


class TreatmentPlanQuerySet(models.QuerySet):
    def active(self) -> "TreatmentPlanQuerySet":
        return self.filter(status=TreatmentPlan.Status.ACTIVE)


class TreatmentPlan(models.Model):
    """Injections every INTERVAL_WEEKS from START_DATE, for INJECTIONS visits or until END_DATE."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS = Transitions(
        "plan status",
        {Status.ACTIVE: {Status.COMPLETED, Status.CANCELLED}, Status.COMPLETED: set(), Status.CANCELLED: set()},
    )

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="treatment_plans")
    provider = models.ForeignKey(
        "clinic.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="treatment_plans",
        help_text="Empty: any provider who may take the appointment type",
    )
    room = models.ForeignKey(
        "scheduling.Room",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: any free room",
    )
    appointment_type = models.ForeignKey("scheduling.AppointmentType", on_delete=models.PROTECT, related_name="+")
    interval_weeks = models.PositiveSmallIntegerField(help_text="Weeks between injections")
    injections = models.PositiveSmallIntegerField(null=True, blank=True, help_text="How many injections in all")
    end_date = models.DateField(null=True, blank=True, help_text="No injection after this day")
    start_date = models.DateField(help_text="The day of the first injection")
    preferred_time = models.TimeField(
        help_text="Wall time at the location of the room each injection is booked in (that location's time zone)"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)

    objects = TreatmentPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "patient"]),
            models.Index(fields=["created_at", "id"]),  # the default ordering: the plan list's page
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(injections__isnull=False) | Q(end_date__isnull=False),
                name="plan_has_count_or_end_date",
            ),
            models.CheckConstraint(condition=Q(interval_weeks__gte=1), name="plan_interval_at_least_a_week"),
            models.CheckConstraint(
                condition=Q(injections__isnull=True) | Q(injections__gte=1), name="plan_at_least_one_injection"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="plan_end_not_before_start",
            ),
            # BOOK replies name no plan: one active plan per patient keeps them unambiguous.
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="active"), name="plan_one_active_per_patient"
            ),
        ]

    def __str__(self) -> str:
        # Staff read names and days, never "#id" (issue 9).
        return (
            f"Plan for {self.patient}: every {self.interval_weeks} weeks from {self.start_date:%Y-%m-%d}"
            f" ({self.get_status_display().lower()})"
        )

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class PlanOccurrence(models.Model):
    """One planned injection of a plan; at most one appointment each (and each appointment serves one)."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        BOOKED = "booked", "Booked"
        NEEDS_REVIEW = "needs_review", "Needs review"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS = Transitions(
        "plan occurrence status",
        {
            Status.PLANNED: {Status.BOOKED, Status.NEEDS_REVIEW, Status.CANCELLED},
            Status.NEEDS_REVIEW: {Status.BOOKED, Status.NEEDS_REVIEW, Status.CANCELLED},  # tried again, still no slot
            Status.BOOKED: set(),  # the appointment lives on in scheduling; cancel it there
            Status.CANCELLED: set(),
        },
    )
    # Still to be placed: what the booking job and a BOOK reply may book.
    OPEN_STATUSES = tuple(sorted(TRANSITIONS.sources(Status.BOOKED), key=Status.values.index))

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="occurrences")
    sequence = models.PositiveSmallIntegerField(help_text="1 for the first injection of the plan")
    target_date = models.DateField()
    appointment = models.OneToOneField(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan_occurrence",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it needs review")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "sequence"]
        indexes = [
            models.Index(fields=["status", "target_date"]),
            models.Index(fields=["target_date", "id"]),  # the review queue's and the API list's order
        ]
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="plan_occurrence_unique_sequence"),
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(appointment__isnull=False), name="plan_occurrence_booked_has_visit"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Injection {self.sequence} of the plan, {self.target_date:%Y-%m-%d} ({self.get_status_display().lower()})"
        )
