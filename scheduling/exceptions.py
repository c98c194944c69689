"""Errors the booking service raises besides ValidationError; the admin and the API turn them into messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from clinic.clock import local_time, staff_datetime, staff_time

if TYPE_CHECKING:
    from scheduling.models import Appointment


class BookingError(Exception):
    """Base of the scheduling errors that are not bad input."""

    code = "booking_error"
    occurrence: dt.datetime | None = None  # set when the refusal concerns one occurrence of a series

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Collision:
    """One existing appointment a request collides with, and on what (provider, room or patient)."""

    appointment: Appointment
    on: tuple[str, ...]

    def describe(self) -> str:
        """Return who is taken by which visit, in words and the wall time of the visit's location.

        E.g. 'Morgan Lee, MD is already booked: TPI procedure for Ana Ruiz with Morgan Lee, MD in Room 1,
        Mon 2026-11-30 10:00-10:30'.
        """
        a = self.appointment
        what = {"provider": str(a.provider), "room": str(a.room), "patient": "the patient"}
        names = [what[o] for o in self.on]
        held = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        verb = "is" if len(names) == 1 else "are"
        zone = a.local_zone  # the visit's location's clock
        when = (
            f"{local_time(a.start, zone=zone):%a} {staff_datetime(a.start, zone=zone)}-{staff_time(a.end, zone=zone)}"
        )
        visit = f"{a.appointment_type} for {a.patient.display_name} with {a.provider} in {a.room}, {when}"
        return f"{held} {verb} already booked: {visit}"


class BookingConflict(BookingError):
    """The requested time collides with active appointments of the provider, the room or the patient."""

    code = "conflict"

    def __init__(self, collisions: list[Collision]):
        self.collisions = collisions
        if collisions:
            message = "Conflict: " + "; ".join(c.describe() for c in collisions) + "."
        else:
            message = "Conflict: the time was taken a moment ago; choose another."
        super().__init__(message)

    @property
    def appointments(self) -> list[Appointment]:
        return [c.appointment for c in self.collisions]


class OutsideWorkingHours(BookingError):
    """The requested time is outside the provider's working hours or during their time off."""

    code = "outside_working_hours"

    def __init__(self, message: str, *, start: dt.datetime):
        super().__init__(message)
        self.start = start


class RoomCannotHost(BookingError):
    """The room is not equipped for the visit type (e.g. a procedure in the massage room)."""

    code = "room_cannot_host"

    def __init__(self, *, room: object, appointment_type: object):
        super().__init__(f"{room} cannot host {appointment_type} visits; choose a room equipped for them.")
        self.room = room
        self.appointment_type = appointment_type


class ClinicClosed(BookingError):
    """The requested time falls into a closure (public holiday, staff training, ...); nobody may override it."""

    code = "clinic_closed"

    def __init__(self, message: str, *, start: dt.datetime, reason: str):
        super().__init__(message)
        self.start = start
        self.reason = reason


class OutsideOpeningHours(BookingError):
    """The requested time is outside the opening hours of the room's location."""

    code = "outside_opening_hours"

    def __init__(self, message: str, *, start: dt.datetime):
        super().__init__(message)
        self.start = start


class BackdatedRefused(PermissionDenied):
    """A booking or a move to a start already past, asked by someone who is not a clinic admin (403 on the start)."""

    code = "backdated"
    field = "start"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
