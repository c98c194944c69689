"""The front desk's day sheet: one day's appointments in columns per provider or per room."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from django.db.models import Aggregate, CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone

from clinic import roles
from clinic.accounts.actors import Actor
from clinic.clock import patient_phone
from clinic.models import Patient, Provider
from clinic.roles import has_role, is_clinic_admin
from scheduling.booking import status_undo_problem
from scheduling.clock import day_bounds, local_date, local_datetime
from scheduling.models import (
    MAX_BLOCKED_SPAN,
    Appointment,
    AppointmentQuerySet,
    AppointmentStatusChange,
    Room,
    TimeOff,
    WorkingHours,
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
    """Free working time in a provider's column, at least one slot step long."""

    start: dt.datetime
    end: dt.datetime
    is_gap: bool = True  # lets the template tell a gap from an appointment in Column.rows

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


class _Concat(Aggregate):
    """Join text values with commas (GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra_context)


def with_day_hours(providers: QuerySet[Provider], *, day: dt.date) -> QuerySet[Provider]:
    """Annotate providers with DAY's working intervals ("08:00:00-12:00:00,...") and the span of its time off."""
    start, end = day_bounds(day)
    hours = (
        WorkingHours.objects.filter(provider=OuterRef("pk"), weekday=day.weekday())
        .values("provider")
        .annotate(spans=_Concat(Concat("start_time", Value("-"), "end_time", output_field=CharField())))
        .values("spans")
    )
    off = TimeOff.objects.filter(provider=OuterRef("pk"), start__lt=end, end__gt=start)
    return providers.annotate(
        day_hours=Subquery(hours),
        # Several time offs on one day count as one span from the first start to the last end.
        off_start=Subquery(off.order_by("start").values("start")[:1]),
        off_end=Subquery(off.order_by("-end").values("end")[:1]),
    )


def free_gaps(
    *, day: dt.date, day_hours: str | None, off: tuple[dt.datetime, dt.datetime] | None, busy: list[Appointment]
) -> list[Gap]:
    """Return the free stretches of at least one slot step within DAY_HOURS, outside time off and BUSY visits."""
    if not day_hours:
        return []
    intervals = []
    for span in day_hours.split(","):
        first, last = span.split("-")
        begin = local_datetime(day, dt.time.fromisoformat(first))
        intervals.append((begin, local_datetime(day, dt.time.fromisoformat(last))))
    taken = [(a.start, a.blocked_end) for a in busy if a.is_active]
    if off is not None:
        taken.append(off)
    step = dt.timedelta(minutes=settings.SCHEDULING_SLOT_STEP_MINUTES)
    gaps = []
    for begin, finish in sorted(intervals):
        cursor = begin
        for t_start, t_end in sorted(taken):
            if t_end <= cursor or t_start >= finish:
                continue
            if t_start - cursor >= step:
                gaps.append(Gap(cursor, t_start))
            cursor = max(cursor, t_end)
        if finish - cursor >= step:
            gaps.append(Gap(cursor, finish))
    return gaps


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


def day_sheet(*, day: dt.date, view: View = "provider", by: Actor = None) -> list[Column]:
    """Return the day's columns; three queries whatever the number of appointments."""
    start, end = day_bounds(day)
    appointments = list(
        with_last_change(Appointment.objects.filter(start__lt=end, start__gt=start - MAX_BLOCKED_SPAN, end__gt=start))
        .select_related("patient", "provider__user", "room", "appointment_type")
        .order_by("start", "id")
    )
    if view == "room":
        columns = {r.pk: Column(key=r.pk, title=str(r)) for r in Room.objects.filter(is_active=True)}
        owner = "room"
    else:
        providers = list(with_day_hours(Provider.objects.filter(is_active=True).select_related("user"), day=day))
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
    if view == "provider":
        for provider in providers:
            column = columns[provider.pk]
            # with_day_hours's annotations: not model fields, so the type checker does not know them.
            hours, off_start, off_end = (provider.__dict__[name] for name in ("day_hours", "off_start", "off_end"))
            off = (off_start, off_end) if off_start else None
            column.gaps = free_gaps(day=day, day_hours=hours, off=off, busy=column.appointments)
    return list(columns.values())


def provider_week(*, provider: Provider, day: dt.date) -> list[Column]:
    """Return seven columns, Monday to Sunday of DAY's week, of PROVIDER's appointments; one query."""
    monday = day - dt.timedelta(days=day.weekday())
    start, _ = day_bounds(monday)
    _, end = day_bounds(monday + dt.timedelta(days=6))
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    columns = {d: Column(key=d.toordinal(), title=f"{d:%a %d %b}") for d in days}
    for appointment in (
        Appointment.objects.filter(provider=provider, start__gte=start, start__lt=end)
        .select_related("patient", "room", "appointment_type")
        .order_by("start", "id")
    ):
        columns[local_date(appointment.start)].appointments.append(appointment)
    return list(columns.values())
