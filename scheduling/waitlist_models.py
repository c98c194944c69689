"""Waitlist records: who waits for an earlier visit, the time a cancellation or a move freed, the offers.

Imported at the end of scheduling.models (Django finds an app's models there). The database keeps the
rules a race could break: one offer per slot and entry, one accepted offer per freed slot (the single
winner), and the booking's exclusion constraints behind it.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.clock import staff_date, staff_datetime
from scheduling.models import WEEKDAYS, Appointment, AppointmentType, Location, Room


class WaitlistEntry(models.Model):
    """A patient waiting for an earlier visit of one type, at one location, with one provider or any."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked from the waitlist"
        WITHDRAWN = "withdrawn", "Withdrawn"

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="waitlist_entries")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        "clinic.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty: any provider who takes this type of visit",
    )  # fmt: skip
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    weekdays = models.JSONField(
        default=list, blank=True, help_text="Days that suit (0 = Monday ... 6 = Sunday); empty: any day"
    )
    earliest_time = models.TimeField(null=True, blank=True, help_text="Local time of the location; empty: any")
    latest_time = models.TimeField(
        null=True, blank=True, help_text="The visit must end by then (local time); empty: any"
    )
    until = models.DateField(help_text="Last day the patient would take an offer for")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The visit booked from an offer",
    )  # fmt: skip
    notes = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(help_text="When the patient joined: offers go in this order")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "waitlist entry"
        verbose_name_plural = "waitlist entries"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "appointment_type", "location", "created_at"]),
            models.Index(fields=["created_at", "id"]),  # the default ordering: the waitlist's page
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(earliest_time__isnull=True)
                | Q(latest_time__isnull=True)
                | Q(earliest_time__lt=models.F("latest_time")),
                name="waitlist_times_in_order",
            ),
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(appointment__isnull=False), name="waitlist_booked_has_visit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} until {staff_date(self.until)}"

    @property
    def days_label(self) -> str:
        """Return the days that suit, e.g. "Mon, Wed" or "Mon-Fri" (or "any day")."""
        if not self.weekdays:
            return "any day"
        names = dict(WEEKDAYS)
        runs: list[list[int]] = []
        for day in sorted(self.weekdays):  # consecutive days as one run: "Mon-Fri"
            if runs and day == runs[-1][-1] + 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        return ", ".join(
            names[run[0]][:3] if len(run) < 3 else f"{names[run[0]][:3]}-{names[run[-1]][:3]}" for run in runs
        )

    @property
    def times_label(self) -> str:
        """Return the times that suit, e.g. "09:00-12:00" (or "any time")."""
        if self.earliest_time is None and self.latest_time is None:
            return "any time"
        start = f"{self.earliest_time:%H:%M}" if self.earliest_time else ""
        end = f"{self.latest_time:%H:%M}" if self.latest_time else ""
        return f"{start}-{end}" if start and end else (f"from {start}" if start else f"until {end}")

    def fits(self, start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> bool:
        """Return True when a visit [START, END) suits this entry's days, times and last day (in ZONE)."""
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        if local_start.date() > self.until:
            return False
        if self.weekdays and local_start.weekday() not in self.weekdays:
            return False
        if self.earliest_time is not None and local_start.time() < self.earliest_time:
            return False
        return self.latest_time is None or (
            local_end.date() == local_start.date() and local_end.time() <= self.latest_time
        )


class FreedSlot(models.Model):
    """The time a cancellation, a move or a released no-show freed: offered to the waitlist until filled."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        FILLED = "filled", "Filled from the waitlist"
        LAPSED = "lapsed", "Lapsed"

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("clinic.Provider", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    freed_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    status_reason = models.CharField(max_length=200, blank=True)
    next_offer_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweep offers it next (the batch before has expired)"
    )

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["status", "next_offer_at"]),
            models.Index(fields=["start", "id"]),  # the default ordering: the freed slots' page
        ]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "start"], name="freed_slot_once_per_visit_time"),
            models.CheckConstraint(
                condition=~Q(status="open") | Q(next_offer_at__isnull=False), name="freed_slot_open_is_due"
            ),
        ]

    def __str__(self) -> str:
        # On the clock of the room's location (its zone named when it is not the clinic's), as the visit reads.
        return f"{self.appointment_type} {staff_datetime(self.start, zone=self.room.location.zone, name_zone=True)}"


class WaitlistOffer(models.Model):
    """One SMS offer of a freed slot to one waitlist entry; the first YES within its life books it."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted (booked)"
        GONE = "gone", "Gone to someone else"
        EXPIRED = "expired", "Expired"

    slot = models.ForeignKey(FreedSlot, on_delete=models.PROTECT, related_name="offers")
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OFFERED)
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["offered_at", "id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(fields=["slot", "entry"], name="waitlist_one_offer_per_slot_and_entry"),
            # The single winner: at most one accepted offer per freed slot, whatever answers race in.
            models.UniqueConstraint(
                fields=["slot"], condition=Q(status="accepted"), name="waitlist_one_accepted_offer_per_slot"
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(appointment__isnull=False), name="waitlist_accepted_has_visit"
            ),
        ]

    def __str__(self) -> str:
        return f"Offer of {self.slot} ({self.get_status_display().lower()})"

    @property
    def source_key(self) -> str:
        """Return the outbox key of this offer's SMS."""
        return f"waitlist_offer:{self.pk}"
