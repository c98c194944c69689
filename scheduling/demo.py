"""Demo scheduling: two locations, rooms and what they host, visit types, working hours (one provider splits the
week between the locations), holidays, this week's appointments (with their reminders scheduled, one confirmed
by the patient's SMS reply), two patients on the waitlist. Idempotent."""

import contextlib
import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from clinic.models import Patient, Provider
from scheduling.booking import appointment_book, appointment_status_set
from scheduling.calendar import calendar_feed_ensure
from scheduling.clock import local_datetime
from scheduling.closures import holidays_import
from scheduling.exceptions import BookingError
from scheduling.models import (
    Appointment,
    AppointmentReminder,
    AppointmentType,
    Location,
    OpeningHours,
    Room,
    Series,
    WaitlistEntry,
    WorkingHours,
)
from scheduling.series import series_commit
from scheduling.waitlist import waitlist_entry_create

# name, address, opening hours on weekdays (local time of the location; both share the clinic's zone).
LOCATIONS = [
    ("Main clinic", "100 Main Street", (dt.time(8), dt.time(18))),
    ("Westside clinic", "25 West Avenue", (dt.time(9), dt.time(18))),
]
# room, location, the visit types it can host (set once, when the room is created; clinic admins edit them).
ROOMS = [
    ("Room 1", "Main clinic", ["tpi", "reassessment", "consult"]),
    ("Massage room", "Main clinic", ["massage"]),
    ("Room 2", "Westside clinic", ["tpi", "reassessment", "consult"]),
    ("Room 3", "Main clinic", ["tpi", "reassessment", "consult"]),
]
INJECTORS = [Provider.Role.PHYSICIAN, Provider.Role.NP_PA]
TYPES = [
    # code, name, minutes, buffer after, roles, reminder lead times ("": the clinic default, 24 hours)
    ("tpi", "TPI procedure", 30, 10, INJECTORS, "2 days, 2 hours"),
    ("massage", "Post-injection massage", 45, 15, [Provider.Role.MASSAGE_THERAPIST], "none"),
    ("reassessment", "Reassessment", 20, 5, [*INJECTORS, Provider.Role.NURSE], ""),
    ("consult", "New-patient consult", 45, 0, INJECTORS, ""),
]
WEEKDAYS = range(5)
HOURS = {
    "drlee": [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))],
    "drpatel": [(dt.time(9), dt.time(13)), (dt.time(14), dt.time(18))],
    "pasi": [(dt.time(9), dt.time(17))],
}
# Past reassessments recorded for the reminder numbers page: this many days back, two each weekday.
HISTORY_DAYS = 75
# Where each provider works on each weekday (absent: at any location): Dr Patel is at Westside on Monday,
# Wednesday and Friday and at the main clinic on Tuesday and Thursday.
PLACES = {
    "drpatel": {0: "Westside clinic", 1: "Main clinic", 2: "Westside clinic", 3: "Main clinic", 4: "Westside clinic"}
}
# The room each provider's visits go to at each location (DAY_PLAN names the Westside one).
ROOM_AT = {"Westside clinic": "Room 2", "Main clinic": "Room 3"}
# (username, type code, room, patient index, local hour, minute) booked on each of the next working days.
DAY_PLAN = [
    ("drlee", "tpi", "Room 1", 0, 9, 0),
    ("pasi", "massage", "Massage room", 0, 9, 45),
    ("drlee", "reassessment", "Room 1", 1, 10, 0),
    ("drpatel", "consult", "Room 2", 2, 9, 30),
    ("drpatel", "tpi", "Room 2", 3, 14, 0),
]


def seed() -> None:
    locations = {}
    for name, address, (opens, closes) in LOCATIONS:
        location, created = Location.objects.get_or_create(name=name, defaults={"address": address})
        if created:
            for weekday in WEEKDAYS:
                OpeningHours.objects.create(location=location, weekday=weekday, start_time=opens, end_time=closes)
        locations[name] = location
    for code, name, minutes, buffer, roles, leads in TYPES:
        AppointmentType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "default_duration_minutes": minutes,
                "buffer_after_minutes": buffer,
                "allowed_roles": list(roles),
                "reminder_lead_times": leads,
            },
        )
    for name, location_name, codes in ROOMS:
        new_room, created = Room.objects.get_or_create(name=name, defaults={"location": locations[location_name]})
        if created:
            new_room.appointment_types.set(AppointmentType.objects.filter(code__in=codes))
    today = timezone.localdate()
    holidays_import(years=[today.year, today.year + 1])
    providers = {p.user.username: p for p in Provider.objects.select_related("user").filter(user__username__in=HOURS)}
    for username, intervals in HOURS.items():
        provider = providers.get(username)
        if provider is None or provider.working_hours.exists():
            continue
        for weekday in WEEKDAYS:
            place = PLACES.get(username, {}).get(weekday)
            for start_time, end_time in intervals:
                WorkingHours.objects.create(
                    provider=provider,
                    location=locations[place] if place else None,
                    weekday=weekday,
                    start_time=start_time,
                    end_time=end_time,
                )
    for provider in providers.values():
        calendar_feed_ensure(provider=provider)
    patients = list(Patient.objects.order_by("id")[:4])
    if len(patients) < 4 or len(providers) < len(HOURS):
        return
    admin = get_user_model().objects.filter(username="admin").first()
    days = [today + dt.timedelta(days=n) for n in range(7) if (today + dt.timedelta(days=n)).weekday() in WEEKDAYS][:3]
    types = {t.code: t for t in AppointmentType.objects.all()}
    rooms = {r.name: r for r in Room.objects.all()}
    for day in days:
        for username, code, room, patient_index, hour, minute in DAY_PLAN:
            place = PLACES.get(username, {}).get(day.weekday())
            room = ROOM_AT[place] if place else room
            start = local_datetime(day, dt.time(hour, minute), zone=rooms[room].location.zone)
            if Appointment.objects.filter(provider=providers[username], start=start).exists():
                continue
            try:
                appointment_book(
                    patient=patients[(patient_index + days.index(day)) % len(patients)],
                    provider=providers[username],
                    room=rooms[room],
                    appointment_type=types[code],
                    start=start,
                    by=admin,
                )
            except BookingError:
                continue  # the demo never double-books; a clash just leaves that slot out
    if not Series.objects.exists() and days:
        with contextlib.suppress(BookingError):  # the demo never double-books
            series_commit(
                patient=patients[3],
                provider=providers["drlee"],
                room=rooms["Room 1"],
                appointment_type=types["tpi"],
                dtstart=local_datetime(days[-1], dt.time(11)),
                rrule="FREQ=WEEKLY;INTERVAL=4;COUNT=3",
                by=admin,
            )
    _confirmed_by_reply()
    _history(patients=patients, provider=providers["drlee"], room=rooms["Room 1"], visit_type=types["reassessment"])
    _waitlist(patients=patients, provider=providers["drlee"], location=locations["Main clinic"], tpi=types["tpi"],
              admin=admin, today=today)  # fmt: skip


def _confirmed_by_reply() -> None:
    """Show a visit the patient confirmed by answering C to its reminder, and one they asked to move (R)."""
    if Appointment.objects.filter(confirmed_via=Appointment.ConfirmedVia.SMS).exists():
        return
    now = timezone.now()
    upcoming = Appointment.objects.filter(status=Appointment.Status.BOOKED, start__gt=now, appointment_type__code="tpi")
    chosen = list(upcoming.order_by("start", "id")[:2])
    lead = dt.timedelta(days=2)
    for appointment in chosen:  # as if booked earlier: their 2-day reminder went out when due
        due = appointment.start - lead
        AppointmentReminder.objects.get_or_create(
            appointment=appointment,
            lead=lead,
            for_start=appointment.start,
            defaults={"due_at": due, "status": AppointmentReminder.Status.SENT, "sent_at": due,
                      "status_reason": "queued: sms"},
        )  # fmt: skip
    if chosen:
        appointment_status_set(
            appointment=chosen[0],
            status=Appointment.Status.CONFIRMED,
            by=None,
            reason="confirmed by the patient's SMS reply",
            via=Appointment.ConfirmedVia.SMS,
        )
    if len(chosen) > 1:
        Appointment.objects.filter(pk=chosen[1].pk).update(reschedule_requested_at=now)


def _history(*, patients: list[Patient], provider: Provider, room: Room, visit_type: AppointmentType) -> None:
    """Record past reassessments (HISTORY_DAYS of weekdays, two a day) with how they went, so the reminder
    numbers page has months to show: most were reminded, some confirmed, a few no-shows (more without a
    reminder). Recorded as an import would (a system job may record past visits), outcomes set directly."""
    today = timezone.localdate()
    first = today - dt.timedelta(days=HISTORY_DAYS)
    since, until = local_datetime(first, dt.time(0)), local_datetime(today, dt.time(0))
    if Appointment.objects.filter(start__gte=since, start__lt=until).exists():
        return
    index = 0
    for offset in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=offset)
        if day.weekday() not in WEEKDAYS:
            continue
        for hour in (14, 15):
            try:
                appointment = appointment_book(
                    patient=patients[index % len(patients)],
                    provider=provider,
                    room=room,
                    appointment_type=visit_type,
                    start=local_datetime(day, dt.time(hour)),
                    by=None,
                )
            except BookingError:
                continue  # a holiday: the clinic was closed
            _history_outcome(appointment, index)
            index += 1


def _history_outcome(appointment: Appointment, index: int) -> None:
    reminded, confirmed = index % 5 != 0, index % 5 != 0 and index % 3 != 0
    no_show = (reminded and not confirmed and index % 4 == 1) or (not reminded and index % 10 == 5)
    lead = dt.timedelta(hours=24)
    if reminded:
        due = appointment.start - lead
        AppointmentReminder.objects.create(
            appointment=appointment, lead=lead, for_start=appointment.start, due_at=due,
            status=AppointmentReminder.Status.SENT, sent_at=due, status_reason="queued: sms",
        )  # fmt: skip
    fields: dict[str, object] = {
        "status": Appointment.Status.NO_SHOW if no_show else Appointment.Status.COMPLETED,
    }
    if confirmed:
        via = Appointment.ConfirmedVia.SMS if index % 2 == 0 else Appointment.ConfirmedVia.STAFF
        fields |= {"confirmed_at": appointment.start - dt.timedelta(hours=20), "confirmed_via": via}
    Appointment.objects.filter(pk=appointment.pk).update(**fields)


def _waitlist(*, patients: list, provider: Provider, location: Location, tpi: AppointmentType, admin, today) -> None:
    """Two patients waiting for an earlier injection: one with Dr Lee on weekday mornings, one with anyone."""
    if WaitlistEntry.objects.exists():
        return
    until = today + dt.timedelta(days=28)
    waitlist_entry_create(
        patient=patients[1], appointment_type=tpi, location=location, provider=provider, weekdays=[0, 1, 2, 3, 4],
        earliest_time=dt.time(8), latest_time=dt.time(12), until=until, by=admin, notes="prefers mornings",
    )  # fmt: skip
    waitlist_entry_create(patient=patients[2], appointment_type=tpi, location=location, until=until, by=admin)
