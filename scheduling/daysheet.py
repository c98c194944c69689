"""The front desk's day sheet: one day's appointments in columns per provider or per room."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Literal

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from clinic import roles
from clinic.accounts.actors import Actor
from clinic.clock import patient_phone
from clinic.models import Patient, Provider
from clinic.roles import has_role, is_clinic_admin
from scheduling.booking import status_undo_problem
from scheduling.clock import day_bounds, local_date
from scheduling.hours import Interval, working_intervals, working_intervals_at, working_intervals_by_place
from scheduling.locations import open_intervals_many
from scheduling.models import (
    MAX_BLOCKED_SPAN,
    Appointment,
    AppointmentQuerySet,
    AppointmentStatusChange,
    Location,
    Room,
)

View = Literal["provider", "room"]


@dataclass(frozen=True)
class Action:
    """One button on an appointment's card: move it to STATUS."""

    status: str
    label: str
    reason_prompt: str  # non-empty: the button asks for a reason
    scoped: bool  # may apply to the following appointments of the series too (cancelling does)
    confirm: bool = False  # the button leads to a confirmation page first


def appointment_actions(appointment: Appointment) -> list[Action]:
    """Return the buttons for the moves Appointment.TRANSITIONS allows from the appointment's status."""
    allowed = Appointment.TRANSITIONS.targets(appointment.status)
    return [
        Action(
            status=status,
            label=row.action,
            reason_prompt=row.reason_prompt,
            scoped=status == Appointment.Status.CANCELLED and appointment.series_id is not None,
            confirm=row.confirm,
        )
        for status, row in Appointment.STATUSES.items()
        if status in allowed
    ]


@dataclass(frozen=True)
class Alert:
    """A flag on an appointment's card that the person treating the patient must not miss."""

    kind: Literal["allergy", "anticoagulant"]
    text: str


def patient_alerts(patient: Patient) -> list[Alert]:
    """Return the patient's allergy and anticoagulant flags, most dangerous for an injection first."""
    alerts = []
    if patient.local_anaesthetic_allergy:
        alerts.append(Alert("allergy", "Local anaesthetic allergy"))
    if patient.allergies.strip():
        alerts.append(Alert("allergy", f"Allergies: {patient.allergies.strip()}"))
    if patient.on_anticoagulants:
        details = f": {patient.anticoagulant_details}" if patient.anticoagulant_details else ""
        alerts.append(Alert("anticoagulant", f"Anticoagulant{details}"))
    return alerts


def sees_patient_phone(user: Actor) -> bool:
    """Return whether USER sees patients' phone numbers on the sheet: front desk, providers, clinic admins."""
    # Massage therapists treat but do not call patients; the desk arranges visits (docs/decisions.md).
    return has_role(user, roles.FRONT_DESK) or has_role(user, roles.PROVIDER) or is_clinic_admin(user)


def sees_patient_alerts(user: Actor) -> bool:
    """Return whether USER sees allergy and anticoagulant flags: every clinic role (all of them treat or triage)."""
    return is_clinic_admin(user) or any(has_role(user, role) for role in roles.ROLES)


@dataclass(frozen=True)
class Gap:
    """Free time in a column (a provider's working time, a room's bookable time), at least one slot step long."""

    start: dt.datetime
    end: dt.datetime
    zone: str = ""  # the IANA zone its times are read in (the column's location's, else the clinic's)
    is_gap: bool = True  # lets the template tell a gap from an appointment in Column.rows
    location: Location | None = None  # where the free time is (None: working hours valid at any location)
    room: Room | None = None  # the room "Book" fills in, so the booking form reads the time on the gap's clock
    where: str = ""  # "at Venice Beach (PST)" on the all-locations sheet, for time at another location

    @property
    def minutes(self) -> int:
        """Return the gap's length in whole minutes."""
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class Column:
    """One column of the sheet: a provider or a room and its appointments in time order."""

    key: int
    title: str
    appointments: list[Appointment] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def rows(self) -> list[Appointment | Gap]:
        """Return the appointments and the free gaps between them, in time order."""
        return sorted([*self.appointments, *self.gaps], key=lambda row: row.start)


def free_gaps(
    *, frame: list[Interval], busy: list[Appointment], zone: str = "", location: Location | None = None
) -> list[Gap]:
    """Return the free stretches of at least one slot step within FRAME (working or open time) outside BUSY visits.

    Their times are read in ZONE (default the clinic's): LOCATION's when the frame is that location's time.
    """
    zone = zone or (location.time_zone if location is not None else settings.TIME_ZONE)
    taken = sorted((a.start, a.blocked_end) for a in busy if a.is_active)
    step = dt.timedelta(minutes=settings.SCHEDULING_SLOT_STEP_MINUTES)
    gaps = []
    for begin, finish in sorted(frame):
        cursor = begin
        for t_start, t_end in taken:
            if t_end <= cursor or t_start >= finish:
                continue
            if t_start - cursor >= step:
                gaps.append(Gap(cursor, t_start, zone, location=location))
            cursor = max(cursor, t_end)
        if finish - cursor >= step:
            gaps.append(Gap(cursor, finish, zone, location=location))
    return gaps


def _room_to_book(gap: Gap, *, rooms: list[Room], taken: list[Appointment]) -> Room | None:
    """Return the first of ROOMS (the gap's location's) free when GAP starts, else the first of them."""
    step = dt.timedelta(minutes=settings.SCHEDULING_SLOT_STEP_MINUTES)
    for room in rooms:
        if all(
            not (a.room_id == room.pk and a.start < gap.start + step and a.blocked_end > gap.start)
            for a in taken
            if a.is_active
        ):
            return room
    return rooms[0] if rooms else None


def _placed(gaps: list[Gap], *, rooms: dict[int, list[Room]], taken: list[Appointment], name_place: bool) -> list[Gap]:
    """Return GAPS with the room "Book" fills in (one of their location's) and, when NAME_PLACE, where they are."""
    placed = []
    for gap in gaps:
        if gap.location is None:
            placed.append(gap)
            continue
        where = ""
        if name_place:
            where = f"at {gap.location}"
            if gap.zone != settings.TIME_ZONE:
                where += f" ({gap.start.astimezone(gap.location.zone):%Z})"
        room = _room_to_book(gap, rooms=rooms.get(gap.location.pk, []), taken=taken)
        placed.append(replace(gap, room=room, where=where))
    return placed


def _clip(intervals: list[Interval], start: dt.datetime, end: dt.datetime) -> list[Interval]:
    return [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    return sorted((max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if s1 < e2 and s2 < e1)


def _union(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


LAST_CHANGE = ("from_status", "to_status", "changed_by_id", "changed_at", "is_undo")


def with_last_change(appointments: AppointmentQuerySet) -> AppointmentQuerySet:
    """Annotate each appointment with its last status change's fields (last_<field>), inside the same query."""
    latest = AppointmentStatusChange.objects.filter(appointment=OuterRef("pk")).order_by("-changed_at", "-id")
    return appointments.annotate(**{f"last_{name}": Subquery(latest.values(name)[:1]) for name in LAST_CHANGE})


def is_undoable(appointment: Appointment, *, by: Actor, now: dt.datetime) -> bool:
    """Return whether BY may undo the last status change of an appointment annotated by with_last_change."""
    if getattr(appointment, "last_changed_at", None) is None:
        return False
    change = AppointmentStatusChange(**{name: getattr(appointment, f"last_{name}") for name in LAST_CHANGE})
    return not status_undo_problem(change=change, current=appointment.status, by=by, now=now)


def day_sheet(
    *, day: dt.date, view: View = "provider", by: Actor = None, location: Location | None = None
) -> list[Column]:
    """Return the day's columns: of LOCATION on its own local day, else of every location on the clinic's day.

    Provider columns show the provider's free working time (at LOCATION when given) as gaps; room columns
    show when the room could be booked (its location open and someone working there) and is free.
    A fixed number of queries whatever the number of appointments.
    """
    zone = location.zone if location is not None else None
    start, end = day_bounds(day, zone=zone)
    booked = Appointment.objects.filter(start__lt=end, start__gt=start - MAX_BLOCKED_SPAN, end__gt=start)
    if location is not None:
        booked = booked.filter(room__location=location)
    appointments = list(
        with_last_change(booked)
        .select_related("patient", "provider__user", "room__location", "appointment_type")
        .order_by("start", "id")
    )
    providers = list(Provider.objects.filter(is_active=True).select_related("user"))
    rooms = []
    if view == "room":
        rooms = list(Room.objects.filter(is_active=True).select_related("location"))
        if location is not None:
            rooms = [r for r in rooms if r.location_id == location.pk]
        columns = {r.pk: Column(key=r.pk, title=str(r)) for r in rooms}
        owner = "room"
    else:
        columns = {p.pk: Column(key=p.pk, title=str(p)) for p in providers}
        owner = "provider"
    now = timezone.now()
    phone, alerts = sees_patient_phone(by), sees_patient_alerts(by)
    for appointment in appointments:
        number = appointment.patient.mobile_phone
        appointment.phone = patient_phone(str(number)) if phone and number else ""
        appointment.alerts = patient_alerts(appointment.patient) if alerts else []
        # Per-row attributes the day-sheet template reads; not model fields.
        appointment.undoable = is_undoable(appointment, by=by, now=now)
        key = getattr(appointment, f"{owner}_id")
        if key not in columns:  # an inactive provider or room that still has visits this day
            columns[key] = Column(key=key, title=str(getattr(appointment, owner)))
        appointment.actions = appointment_actions(appointment)
        columns[key].appointments.append(appointment)
    provider_ids = [p.pk for p in providers]
    if view == "provider":
        active_rooms: dict[int, list[Room]] = defaultdict(list)
        for room in Room.objects.filter(is_active=True).select_related("location").order_by("name", "id"):
            active_rooms[room.location_id].append(room)
        where: dict[int, list[tuple[Location | None, list[Interval]]]]
        if location is not None:
            hours = working_intervals(provider_ids=provider_ids, first_day=day, last_day=day, location=location)
            where = {pid: [(location, hours[pid])] for pid in provider_ids}
        else:
            # Each stretch on its own clock: a location's hours in its zone, so "Book" asks for the time there.
            where = working_intervals_by_place(provider_ids=provider_ids, first_day=day, last_day=day)
        for provider in providers:
            busy = columns[provider.pk].appointments
            gaps = [
                gap
                for place, intervals in where[provider.pk]
                for gap in free_gaps(frame=_clip(intervals, start, end), busy=busy, location=place)
            ]
            columns[provider.pk].gaps = _placed(
                gaps, rooms=active_rooms, taken=appointments, name_place=location is None
            )
    elif rooms:
        places = list({r.location_id: r.location for r in rooms}.values())
        # Each room's location on its own day: the all-locations sheet still shows each room's local hours.
        first, last = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
        hours_at = working_intervals_at(provider_ids=provider_ids, locations=places, first_day=first, last_day=last)
        open_at = open_intervals_many(locations=places, start=start, end=end)
        for room in rooms:
            staffed = _union([i for pid in provider_ids for i in hours_at[(pid, room.location_id)]])
            frame = _clip(_intersect(open_at[room.location_id], staffed), start, end)
            busy = columns[room.pk].appointments
            columns[room.pk].gaps = free_gaps(frame=frame, busy=busy, location=room.location)
    return list(columns.values())


def provider_week(*, provider: Provider, day: dt.date, location: Location | None = None) -> list[Column]:
    """Return seven columns, Monday to Sunday of DAY's week, of PROVIDER's appointments; one query.

    The days are LOCATION's local days (its visits only) when given, else the clinic's (every location).
    """
    zone = location.zone if location is not None else None
    monday = day - dt.timedelta(days=day.weekday())
    start, _ = day_bounds(monday, zone=zone)
    _, end = day_bounds(monday + dt.timedelta(days=6), zone=zone)
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    columns = {d: Column(key=d.toordinal(), title=f"{d:%a %d %b}") for d in days}
    visits = Appointment.objects.filter(provider=provider, start__gte=start, start__lt=end)
    if location is not None:
        visits = visits.filter(room__location=location)
    for appointment in visits.select_related("patient", "room__location", "appointment_type").order_by("start", "id"):
        columns[local_date(appointment.start, zone=zone)].appointments.append(appointment)
    return list(columns.values())
