"""Scheduling records: locations, rooms, closures, appointment types, working hours, time off, appointments and series.

Appointments are created, moved and cancelled only by `scheduling.booking` (and `scheduling.series`).
No-overlap rules live in the database on PostgreSQL (exclusion constraints, migration 0003) and in
the booking service under SQLite's write lock.
"""

import datetime as dt
import secrets
import zoneinfo
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from clinic.clock import staff_datetime
from clinic.models import Provider
from clinic.transitions import Transitions
from scheduling.lead_times import lead_time_format, lead_times_default, lead_times_parse, lead_times_validate

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


def _default_zone() -> str:
    return settings.TIME_ZONE


def zone_validate(value: str) -> None:
    """Refuse a time zone name the IANA database does not know."""
    try:
        ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. America/New_York).") from exc


class Location(models.Model):
    """A place the clinic works from: its address, its time zone, its opening hours and its rooms."""

    name = models.CharField(max_length=100, unique=True)
    address = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64,
        default=_default_zone,
        validators=[zone_validate],
        help_text="IANA time zone, e.g. America/New_York; staff read this location's times in it",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        """Return the location's time zone."""
        return ZoneInfo(self.time_zone)


class OpeningHours(models.Model):
    """One interval a location is open on a weekday, in the location's own time. No rows: no limit."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start_time = models.TimeField(help_text="Local time of the location")
    end_time = models.TimeField(help_text="Local time of the location")

    class Meta:
        ordering = ["location", "weekday", "start_time"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="openinghours_end_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="openinghours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.location} {self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class Closure(models.Model):
    """A time the clinic (LOCATION empty) or one location is closed: whole local days or start/end instants.

    Whole days (first_day..last_day) are read in each location's own zone, so a clinic-wide holiday
    closes every location on its local calendar day.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by staff"
        HOLIDAY = "holiday", "Public holiday"

    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        related_name="closures",
        null=True,
        blank=True,
        help_text="Empty: every location is closed",
    )
    first_day = models.DateField(null=True, blank=True, help_text="Whole local days closed, from")
    last_day = models.DateField(null=True, blank=True, help_text="Whole local days closed, until (inclusive)")
    start = models.DateTimeField(null=True, blank=True, help_text="Or closed from this time")
    end = models.DateTimeField(null=True, blank=True, help_text="... until this time")
    reason = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_day", "start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(first_day__isnull=False, last_day__isnull=False, start__isnull=True, end__isnull=True)
                    & Q(last_day__gte=models.F("first_day"))
                )
                | (
                    Q(first_day__isnull=True, last_day__isnull=True, start__isnull=False, end__isnull=False)
                    & Q(end__gt=models.F("start"))
                ),
                name="closure_days_or_instants",
                violation_error_message="Give either whole days (first and last day) or a start and an end time.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="closure_has_reason", violation_error_message="Give the reason."
            ),
        ]
        indexes = [models.Index(fields=["first_day"]), models.Index(fields=["start"])]

    def __str__(self) -> str:
        where = self.location.name if self.location_id and self.location else "All locations"
        if self.first_day is not None:
            days = f"{self.first_day:%Y-%m-%d}"
            if self.last_day and self.last_day != self.first_day:
                days += f" to {self.last_day:%Y-%m-%d}"
            return f"{where} closed {days}: {self.reason}"
        return f"{where} closed: {self.reason}"

    def clean(self) -> None:
        whole_days = self.first_day is not None or self.last_day is not None
        instants = self.start is not None or self.end is not None
        # Every error names a field, so Django skips the check constraints over it (no constraint names shown).
        if whole_days == instants:
            raise ValidationError(
                {"first_day": "Give either whole days (first and last day) or a start and an end time."}
            )
        if whole_days and (self.first_day is None or self.last_day is None):
            raise ValidationError({"last_day": "Give the first and the last day closed."})
        if whole_days and self.last_day < self.first_day:  # type: ignore[operator]
            raise ValidationError({"last_day": "The last day cannot be before the first."})
        if instants and (self.start is None or self.end is None):
            raise ValidationError({"end": "Give the start and the end of the closure."})
        if instants and self.end <= self.start:  # type: ignore[operator]
            raise ValidationError({"end": "The end must be after the start."})


def _all_roles() -> list[str]:
    return list(Provider.Role.values)


class AppointmentType(models.Model):
    """What a visit is for (TPI procedure, massage, reassessment, consult), with its durations."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    default_duration_minutes = models.PositiveSmallIntegerField(default=30)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    allowed_roles = models.JSONField(
        default=_all_roles, blank=True, help_text="Provider roles that may take this type of visit"
    )
    is_active = models.BooleanField(default=True)
    send_confirmations = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Tell the patient (SMS and/or email, as they prefer) when a visit of this type is booked, moved "
        "or cancelled",
    )
    reminder_lead_times = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        validators=[lead_times_validate],
        help_text='When to remind the patient before the visit, e.g. "24 hours" or "2 days, 2 hours"; "none" for '
        "no reminders; empty for the clinic default (SCHEDULING_REMINDER_LEAD_TIMES)",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def allows_role(self, role: str) -> bool:
        """Return True when a provider with ROLE may take this type of visit."""
        return role in (self.allowed_roles or [])

    @property
    def reminder_leads(self) -> tuple[dt.timedelta, ...]:
        """Return how long before a visit of this type its reminders go, longest first (the default if unset)."""
        if self.reminder_lead_times.strip():
            return lead_times_parse(self.reminder_lead_times)
        return lead_times_default()


class Room(models.Model):
    """A treatment room at one location; an appointment holds exactly one, of a type the room can host."""

    name = models.CharField(max_length=100, unique=True)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    appointment_types = models.ManyToManyField(
        AppointmentType,
        related_name="rooms",
        blank=True,
        verbose_name="hosted visit types",
        help_text="The visit types this room is equipped for.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def can_host(self, appointment_type: AppointmentType) -> bool:
        """Return True when this room is equipped for APPOINTMENT_TYPE visits."""
        return self.appointment_types.filter(pk=appointment_type.pk).exists()


class WorkingHours(models.Model):
    """One interval of a provider's weekly template at one location, or at any (several per day allowed).

    The times are wall times of the location where the visit happens: of LOCATION when it is set, else
    of whichever location the provider is booked at (rows without a location predate locations).
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    provider = models.ForeignKey("clinic.Provider", on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        related_name="working_hours",
        null=True,
        blank=True,
        help_text="Where the provider works these hours; empty: at any location",
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Local time of the location")
    end_time = models.TimeField(help_text="Local time of the location")

    class Meta:
        ordering = ["provider", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="workinghours_end_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="workinghours_weekday_range"),
        ]

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location_id is not None and self.location else ""
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}{where}"


class TimeOff(models.Model):
    """A period a provider is not available (holiday, training, sick day)."""

    provider = models.ForeignKey("clinic.Provider", on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="timeoff_end_after_start")]

    def __str__(self) -> str:
        return f"{self.provider} off {staff_datetime(self.start)}"


class Series(models.Model):
    """A recurring run of appointments (e.g. injections every 4 weeks), from an RFC 5545 RRULE."""

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="appointment_series")
    provider = models.ForeignKey("clinic.Provider", on_delete=models.PROTECT, related_name="appointment_series")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="series")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="series")
    dtstart = models.DateTimeField(help_text="First occurrence; the rule repeats its local clock time")
    rrule = models.CharField("RRULE", max_length=500, help_text="RFC 5545 rule, e.g. FREQ=WEEKLY;INTERVAL=4;COUNT=3")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at", "id"])]  # the default ordering: the series list's page
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.rrule}"


# No appointment blocks more than this (the service refuses longer ones), so overlap queries can bound
# `start` from below and use the (provider|room|patient, start) indexes instead of scanning all history.
MAX_BLOCKED_SPAN = dt.timedelta(hours=24)


class AppointmentQuerySet(models.QuerySet):
    def active(self) -> "AppointmentQuerySet":
        """Return appointments that hold their time (not cancelled, not no-show)."""
        return self.exclude(status__in=Appointment.INACTIVE_STATUSES)

    def overlapping(self, start, end) -> "AppointmentQuerySet":
        """Return appointments whose blocked range [start, blocked_end) meets [START, END)."""
        return self.filter(start__lt=end, start__gt=start - MAX_BLOCKED_SPAN, blocked_end__gt=start)


@dataclass(frozen=True)
class AppointmentStatusRow:
    """What one appointment status means everywhere: booking, the day sheet, the calendar feed, the constraints."""

    to: frozenset[str] = frozenset()  # the statuses it may move to
    holds_time: bool = True  # counts against double booking (migration 0003's constraints skip the others)
    movable: bool = False  # may still be moved to another time, provider or room
    reason_prompt: str = ""  # set when the move into it must say why: what to ask for
    action: str = ""  # the day sheet's button that moves an appointment into it
    confirm: bool = False  # the day sheet asks "are you sure?" before the move (it frees time or starts the visit)


def _undo_transitions(forward: Transitions) -> Transitions:
    """Return the table of moves back: each status may return to the statuses it can be reached from."""
    return Transitions(f"{forward.field} undo", {status: forward.sources(status) for status in forward.statuses})


class Appointment(models.Model):
    """A booked visit of one patient with one provider in one room. Created only by the booking service."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    class ConfirmedVia(models.TextChoices):
        SMS = "sms", "SMS reply"
        STAFF = "staff", "Staff"

    # The one statement of the statuses: a new one is a row here plus its migration (and, when it frees
    # its time, a migration redefining the exclusion constraints; tests/scheduling/test_statuses.py checks).
    STATUSES = {
        Status.BOOKED: AppointmentStatusRow(
            to=frozenset({Status.CONFIRMED, Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW}), movable=True
        ),
        Status.CONFIRMED: AppointmentStatusRow(
            to=frozenset({Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW}), movable=True, action="Confirm"
        ),
        Status.CHECKED_IN: AppointmentStatusRow(
            to=frozenset({Status.COMPLETED, Status.CANCELLED}), action="Check in", confirm=True
        ),
        Status.COMPLETED: AppointmentStatusRow(action="Complete"),
        Status.CANCELLED: AppointmentStatusRow(
            holds_time=False, reason_prompt="Give a reason for the cancellation.", action="Cancel", confirm=True
        ),
        Status.NO_SHOW: AppointmentStatusRow(holds_time=False, action="No-show", confirm=True),
    }
    TRANSITIONS = Transitions("appointment status", {status: row.to for status, row in STATUSES.items()})
    # The undo moves: back along a forward move, to the status it came from (appointment_status_undo adds the
    # time window and who may undo). Derived, so a new forward move is undoable with no second edit.
    UNDO_TRANSITIONS = _undo_transitions(TRANSITIONS)
    INACTIVE_STATUSES = tuple(status for status, row in STATUSES.items() if not row.holds_time)
    MOVABLE_STATUSES = tuple(status for status, row in STATUSES.items() if row.movable)

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey("clinic.Provider", on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    # end + the type's buffer: the provider and the room are blocked until then (docs/decisions.md).
    blocked_end = models.DateTimeField(editable=False)
    notes = models.TextField(blank=True)
    cancellation_reason = models.CharField(max_length=300, blank=True)
    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="appointments", null=True, blank=True)
    series_occurrence = models.DateTimeField(
        null=True, blank=True, help_text="The rule's occurrence this appointment stands for (it may have moved)"
    )
    hours_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    hours_override_at = models.DateTimeField(null=True, blank=True)
    is_backdated = models.BooleanField(
        "back-dated",
        default=False,
        db_default=False,
        editable=False,
        help_text="Booked after its start had passed (a clinic admin's entry)",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True, null=True)
    updated_at = models.DateTimeField(auto_now=True, null=True)
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="When the visit was confirmed")
    confirmed_via = models.CharField(
        max_length=5,
        choices=ConfirmedVia.choices,
        blank=True,
        default="",
        db_default="",
        help_text="Who confirmed: the patient by SMS, or staff",
    )
    reschedule_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient last asked (SMS reply R) to move this visit"
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start", "id"]
        permissions = [("view_appointment_numbers", "Can view the confirmation and no-show numbers")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_end__gte=models.F("end")), name="appointment_blocked_end_after_end"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancellation_reason=""),
                name="appointment_cancelled_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True, confirmed_via="")
                | Q(confirmed_at__isnull=False, confirmed_via__in=["sms", "staff"]),
                name="appointment_confirmed_says_how",
            ),
        ]
        indexes = [
            models.Index(fields=["start"]),
            models.Index(fields=["provider", "start"]),
            models.Index(fields=["room", "start"]),
            models.Index(fields=["patient", "start"]),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.local_when}"

    @property
    def local_when(self) -> str:
        """Return the start as staff read it: on its location's clock, naming the zone when it is not the clinic's."""
        return staff_datetime(self.start, zone=self.local_zone, name_zone=True)

    @property
    def confirmed_how(self) -> str:
        """Return e.g. "by SMS reply, 2026-11-30 14:05" (on the clock of the visit's location), or "" when not
        confirmed."""
        if self.confirmed_at is None:
            return ""
        how = "SMS reply" if self.confirmed_via == self.ConfirmedVia.SMS else "staff"
        return f"by {how}, {staff_datetime(self.confirmed_at, zone=self.local_zone, name_zone=True)}"

    @property
    def confirmation_text(self) -> str:
        """Return e.g. "Confirmed by SMS reply, 2026-11-30 14:05", or "" when not confirmed."""
        return f"Confirmed {self.confirmed_how}" if self.confirmed_at is not None else ""

    @property
    def local_zone(self) -> ZoneInfo:
        """Return the zone staff read this appointment's times in: its room's location's (the clinic's without one)."""
        if self.room_id is None:
            return ZoneInfo(settings.TIME_ZONE)
        return self.room.location.zone

    @property
    def local_start(self) -> dt.datetime:
        """Return the start as wall time of the appointment's location (what staff read)."""
        return self.start.astimezone(self.local_zone)

    @property
    def local_end(self) -> dt.datetime:
        """Return the end as wall time of the appointment's location."""
        return self.end.astimezone(self.local_zone)

    @property
    def is_active(self) -> bool:
        """Return True while the appointment holds its time."""
        return self.status not in self.INACTIVE_STATUSES

    @property
    def is_movable(self) -> bool:
        """Return True while the appointment may still move."""
        return self.status in self.MOVABLE_STATUSES


# The statuses of a visit still to happen as booked: reminders go only to these (the others withdraw them).
REMINDABLE_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


class AppointmentReminder(models.Model):
    """One reminder of one appointment, LEAD before the start it was scheduled for; due times live here.

    Created when the visit is booked (and again for the new time when it moves), for every lead time of
    its type not already passed; withdrawn (cancelled) when the visit moves, is cancelled or ends.
    The sweep claims due rows and queues their messages (one per channel, source key "reminder:<id>").
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Withdrawn"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    TRANSITIONS = Transitions(
        "AppointmentReminder.status",
        {
            Status.SCHEDULED: {Status.SENT, Status.CANCELLED, Status.SKIPPED, Status.FAILED},
            Status.SENT: {Status.CANCELLED},  # every message withdrawn before it left the outbox
            Status.CANCELLED: set(),
            Status.SKIPPED: set(),
            Status.FAILED: set(),
        },
    )

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    lead = models.DurationField(help_text="How long before the visit it goes")
    for_start = models.DateTimeField(help_text="The appointment's start this reminder announces")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    status_reason = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # One live reminder per lead time and start: a move back to a time already reminded of sends nothing new.
            models.UniqueConstraint(
                fields=["appointment", "lead", "for_start"],
                condition=~Q(status="cancelled"),
                name="appointmentreminder_once_per_lead_and_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="appointmentreminder_sent_has_time"
            ),
            models.CheckConstraint(condition=Q(lead__gt=dt.timedelta(0)), name="appointmentreminder_lead_positive"),
        ]
        indexes = [
            # In the sweep's claim order (due_at, id), so a batch is read from the index, not sorted.
            models.Index(fields=["due_at", "id"], condition=Q(status="scheduled"), name="appointmentreminder_due"),
        ]

    def __str__(self) -> str:
        zone = self.appointment.local_zone  # the visit's clock: its location's
        return f"{lead_time_format(self.lead)} before {staff_datetime(self.for_start, zone=zone, name_zone=True)}"

    @property
    def source_key(self) -> str:
        """Return the outbox source key of this reminder's messages."""
        return f"reminder:{self.pk}"


class AppointmentStatusChange(models.Model):
    """Who changed an appointment's status, when, from what to what (one row per change, booking included)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=Appointment.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Appointment.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    is_undo = models.BooleanField(
        default=False, db_default=False, help_text="This change took back the change before it"
    )

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The secret token in a provider's iCalendar feed URL; regenerate it to revoke old subscriptions."""

    provider = models.OneToOneField("clinic.Provider", on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar feed of {self.provider}"


# The waitlist's models live in their own module; Django finds an app's models through this one.
from scheduling.waitlist_models import FreedSlot, WaitlistEntry, WaitlistOffer  # noqa: E402, F401
