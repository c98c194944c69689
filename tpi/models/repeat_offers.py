"""The offer to book a repeat injection after a one-month answer shows the relief has worn off."""

from django.db import models
from django.db.models import Q

from clinic.transitions import Transitions


class RepeatOffer(models.Model):
    """One per procedure (the constraint that keeps a repeated answer or a retry from texting twice).

    offered (the patient was asked to reply BOOK) -> slot_offered (a time was texted, reply YES; a
    time gone by the YES is replaced by a fresh one) -> booked (the appointment), or sent_to_desk (no
    free time, or none left: a triage item for the front desk). Every step is one SMS with its own
    outbox key, so a retried step never texts twice.
    """

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered (asked to reply BOOK)"
        SLOT_OFFERED = "slot_offered", "Time offered (asked to reply YES)"
        BOOKED = "booked", "Booked"
        SENT_TO_DESK = "sent_to_desk", "Sent to the front desk"

    TRANSITIONS = Transitions(
        "repeat offer status",
        {
            Status.OFFERED: {Status.SLOT_OFFERED, Status.SENT_TO_DESK},
            # A time gone between the offer and the YES: a fresh time is offered.
            Status.SLOT_OFFERED: {Status.SLOT_OFFERED, Status.BOOKED, Status.SENT_TO_DESK},
            Status.BOOKED: set(),
            Status.SENT_TO_DESK: set(),
        },
    )

    procedure = models.OneToOneField("tpi.Procedure", on_delete=models.PROTECT, related_name="repeat_offer")
    follow_up = models.ForeignKey(
        "tpi.FollowUp", on_delete=models.PROTECT, related_name="+", help_text="The answer that showed the pain back"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OFFERED)
    offered_at = models.DateTimeField()
    # The time last texted (reply YES to book it); slots_offered counts them (each has its own SMS).
    appointment_type = models.ForeignKey(
        "scheduling.AppointmentType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slot_provider = models.ForeignKey(
        "clinic.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slot_room = models.ForeignKey("scheduling.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    slot_start = models.DateTimeField(null=True, blank=True)
    slot_end = models.DateTimeField(null=True, blank=True)
    slot_offered_at = models.DateTimeField(null=True, blank=True)
    slots_offered = models.PositiveSmallIntegerField(default=0)
    appointment = models.OneToOneField(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    triage_item = models.ForeignKey(
        "messaging.TriageItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status_reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(appointment__isnull=False), name="repeat_offer_booked_has_visit"
            ),
            models.CheckConstraint(
                condition=~Q(status="slot_offered") | Q(slot_start__isnull=False, slot_provider__isnull=False),
                name="repeat_offer_slot_offered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Repeat offer after {self.procedure} ({self.get_status_display().lower()})"

    @property
    def source_key(self) -> str:
        """Return the outbox key of the first SMS (reply BOOK)."""
        return f"repeat_offer:{self.pk}"
