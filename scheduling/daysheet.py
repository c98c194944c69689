"""The front desk's day sheet: one day's appointments in columns per provider or per room."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from clinic.models import Provider
from scheduling.clock import day_bounds
from scheduling.models import MAX_BLOCKED_SPAN, Appointment, Room

View = Literal["provider", "room"]


@dataclass(frozen=True)
class Action:
    """One button on an appointment's card: move it to STATUS."""

    status: str
    label: str
    reason_prompt: str  # non-empty: the button asks for a reason
    scoped: bool  # may apply to the following appointments of the series too (cancelling does)


def appointment_actions(appointment: Appointment) -> list[Action]:
    """Return the buttons for the moves Appointment.TRANSITIONS allows from the appointment's status."""
    allowed = Appointment.TRANSITIONS.targets(appointment.status)
    return [
        Action(
            status=status,
            label=row.action,
            reason_prompt=row.reason_prompt,
            scoped=status == Appointment.Status.CANCELLED and appointment.series_id is not None,
        )
        for status, row in Appointment.STATUSES.items()
        if status in allowed
    ]


@dataclass
class Column:
    """One column of the sheet: a provider or a room and its appointments in time order."""

    key: int
    title: str
    appointments: list[Appointment] = field(default_factory=list)


def day_sheet(*, day: dt.date, view: View = "provider") -> list[Column]:
    """Return the day's columns; three queries whatever the number of appointments."""
    start, end = day_bounds(day)
    appointments = list(
        Appointment.objects.filter(start__lt=end, start__gt=start - MAX_BLOCKED_SPAN, end__gt=start)
        .select_related("patient", "provider__user", "room", "appointment_type")
        .order_by("start", "id")
    )
    if view == "room":
        columns = {r.pk: Column(key=r.pk, title=str(r)) for r in Room.objects.filter(is_active=True)}
        owner = "room"
    else:
        columns = {
            p.pk: Column(key=p.pk, title=str(p)) for p in Provider.objects.filter(is_active=True).select_related("user")
        }
        owner = "provider"
    for appointment in appointments:
        key = getattr(appointment, f"{owner}_id")
        if key not in columns:  # an inactive provider or room that still has visits this day
            columns[key] = Column(key=key, title=str(getattr(appointment, owner)))
        # A per-row attribute the day-sheet template reads; not a model field.
        appointment.actions = appointment_actions(appointment)  # type: ignore[attr-defined]
        columns[key].appointments.append(appointment)
    return list(columns.values())
