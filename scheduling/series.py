"""Recurring series: expand an RRULE in the room's location's wall time, preview, commit all-or-none, scoped edits.

Occurrences repeat the local clock time of the first one (10:00 stays 10:00 across a DST change):
the rule is expanded on naive wall times of the room's location (the clinic's zone without a room)
and each occurrence is then localized in that zone.
"""

import datetime as dt
import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.models import Patient, Provider
from scheduling.booking import (
    Actor,
    appointment_book,
    appointment_cancel,
    appointment_move,
    booking_validate,
    closed_message,
    collisions_find,
)
from scheduling.clock import Zone, local_date, localize, zone_of
from scheduling.exceptions import BookingError, Collision
from scheduling.hours import hours_problem
from scheduling.locations import closure_problem, opening_problem
from scheduling.models import Appointment, AppointmentType, Room, Series
from scheduling.slots import Slot, slots_find

Scope = Literal["this", "following"]


@dataclass
class OccurrencePreview:
    """One occurrence of a planned series: free, in conflict with what, or outside working hours; and alternatives."""

    occurrence: dt.datetime
    start: dt.datetime
    end: dt.datetime
    status: Literal["free", "conflict", "closed", "outside_hours"]
    problem: str = ""
    collisions: list[Collision] = field(default_factory=list)
    alternatives: list[Slot] = field(default_factory=list)

    @property
    def label(self) -> str:
        return {
            "free": "Free",
            "conflict": "Conflict",
            "closed": "Clinic closed",
            "outside_hours": "Outside working hours",
        }[self.status]


@dataclass(frozen=True)
class SeriesChoice:
    """What the user accepted for one occurrence: book it at START (an alternative) or, when None, as planned."""

    occurrence: dt.datetime
    start: dt.datetime | None = None


def series_rule_build(
    *, every_weeks: int | None, times: int | None, until: dt.date | None, first_day: dt.date | None
) -> str:
    """Return the RRULE of "every EVERY_WEEKS weeks, TIMES visits (or until the day UNTIL)".

    Raises ValidationError keyed by field, saying what to fix; FIRST_DAY is the first visit's local day.
    """
    errors: dict[str, str] = {}
    limit = settings.SCHEDULING_SERIES_MAX_OCCURRENCES
    if every_weeks is None or not 1 <= every_weeks <= 52:
        errors["every_weeks"] = "Say how many weeks apart the visits are: a number from 1 to 52."
    if times is None and until is None:
        errors["times"] = "Say how many visits (e.g. 3) or give the last possible day below."
    elif times is not None and until is not None:
        errors["until"] = "Give the number of visits or the last day, not both."
    elif times is not None and not 1 <= times <= limit:
        errors["times"] = f"A series has from 1 to {limit} visits."
    elif until is not None and first_day is not None and until < first_day:
        errors["until"] = "The last day is before the first visit."
    if errors:
        raise ValidationError(errors)
    end = f"COUNT={times}" if times is not None else f"UNTIL={until:%Y%m%d}T235959"
    return f"FREQ=WEEKLY;INTERVAL={every_weeks};{end}"


def series_occurrences(*, dtstart: dt.datetime, rrule: str, zone: Zone = None) -> list[dt.datetime]:
    """Return the occurrences (aware) of RRULE from DTSTART, keeping DTSTART's wall-clock time in ZONE (clinic's)."""
    if timezone.is_naive(dtstart):
        raise ValidationError({"dtstart": "The first occurrence must include a time zone."})
    text = rrule.strip()
    text = text.removeprefix("RRULE:")
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise ValidationError({"rrule": "Give one RRULE value, e.g. FREQ=WEEKLY;INTERVAL=4;COUNT=3."})
    local_start = dtstart.astimezone(zone_of(zone)).replace(tzinfo=None)
    try:
        with warnings.catch_warnings():
            # dateutil only warns about COUNT with UNTIL (RFC 5545 forbids it); refuse it instead.
            warnings.simplefilter("error", DeprecationWarning)
            rule = rrulestr(text, dtstart=local_start)
    except DeprecationWarning as exc:
        raise ValidationError({"rrule": "Give COUNT or UNTIL, not both (RFC 5545)."}) from exc
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            {
                "rrule": "The repeat rule could not be read: write it like FREQ=WEEKLY;INTERVAL=4;COUNT=3 "
                "(every 4 weeks, 3 visits) or FREQ=WEEKLY;INTERVAL=2;UNTIL=20270301 (every 2 weeks until 1 March)."
            }
        ) from exc
    # dateutil keeps COUNT and UNTIL only in private attributes, which its stubs leave out.
    if not isinstance(rule, RRule) or (rule._count is None and rule._until is None):  # type: ignore[attr-defined]
        raise ValidationError({"rrule": "The rule must end: give COUNT or UNTIL."})
    limit = settings.SCHEDULING_SERIES_MAX_OCCURRENCES
    wall_times = list(itertools.islice(rule, limit + 1))
    if len(wall_times) > limit:
        raise ValidationError({"rrule": f"A series may have at most {limit} occurrences."})
    if not wall_times:
        raise ValidationError({"rrule": "The rule has no occurrences."})
    return [localize(wall, zone=zone) for wall in wall_times]


def _alternatives(
    *,
    occurrence: dt.datetime,
    patient: Patient,
    provider: Provider,
    room: Room,
    appointment_type: AppointmentType,
    taken: list[tuple[dt.datetime, dt.datetime]],
) -> list[Slot]:
    day = local_date(occurrence, zone=room.location.zone)
    spread = dt.timedelta(days=settings.SCHEDULING_SERIES_ALTERNATIVE_DAYS)
    slots = slots_find(
        appointment_type=appointment_type,
        first_day=day - spread,
        last_day=day + spread,
        provider=provider,
        room=room,
        patient=patient,
    )
    buffer = dt.timedelta(minutes=appointment_type.buffer_after_minutes)
    slots = [s for s in slots if all(s.end + buffer <= t0 or s.start >= t1 for t0, t1 in taken)]
    slots.sort(key=lambda s: (local_date(s.start, zone=room.location.zone) != day, abs(s.start - occurrence)))
    return slots[: settings.SCHEDULING_SERIES_ALTERNATIVES]


def series_preview(
    *,
    patient: Patient,
    provider: Provider,
    room: Room,
    appointment_type: AppointmentType,
    dtstart: dt.datetime,
    rrule: str,
) -> list[OccurrencePreview]:
    """Return every occurrence with its status and, for each problem, the nearest free alternatives. Writes nothing."""
    occurrences = series_occurrences(dtstart=dtstart, rrule=rrule, zone=room.location.zone)
    duration = dt.timedelta(minutes=appointment_type.default_duration_minutes)
    buffer = dt.timedelta(minutes=appointment_type.buffer_after_minutes)
    booking_validate(
        patient=patient,
        provider=provider,
        room=room,
        appointment_type=appointment_type,
        start=occurrences[0],
        end=occurrences[0] + duration,
    )
    previews = []
    for occurrence in occurrences:
        start, end = occurrence, occurrence + duration
        collisions = collisions_find(
            patient=patient, provider=provider, room=room, start=start, end=end, blocked_end=end + buffer
        )
        closure = closure_problem(location=room.location, start=start, end=end)
        problem = opening_problem(location=room.location, start=start, end=end) or hours_problem(
            provider_id=provider.pk, start=start, end=end, location=room.location
        )
        if closure is not None:
            preview = OccurrencePreview(
                occurrence=occurrence,
                start=start,
                end=end,
                status="closed",
                problem=closed_message(closure=closure, location=room.location, start=start),
            )
        elif collisions:
            preview = OccurrencePreview(
                occurrence=occurrence,
                start=start,
                end=end,
                status="conflict",
                problem="Conflict: " + "; ".join(c.describe() for c in collisions) + ".",
                collisions=collisions,
            )
        elif problem:
            preview = OccurrencePreview(
                occurrence=occurrence, start=start, end=end, status="outside_hours", problem=problem
            )
        else:
            preview = OccurrencePreview(occurrence=occurrence, start=start, end=end, status="free")
        previews.append(preview)
    taken = [(p.start, p.end + buffer) for p in previews if p.status == "free"]
    for preview in previews:
        if preview.status != "free":
            preview.alternatives = _alternatives(
                occurrence=preview.occurrence,
                patient=patient,
                provider=provider,
                room=room,
                appointment_type=appointment_type,
                taken=taken,
            )
    return previews


def series_commit(
    *,
    patient: Patient,
    provider: Provider,
    room: Room,
    appointment_type: AppointmentType,
    dtstart: dt.datetime,
    rrule: str,
    by: Actor,
    choices: Sequence[SeriesChoice] | None = None,
    notes: str = "",
    override_hours: bool = False,
) -> Series:
    """Book the accepted occurrences (at their chosen times) atomically: all of them or none.

    CHOICES lists the occurrences the user accepted (an occurrence left out is skipped); None accepts
    every occurrence as planned. Every booking goes through appointment_book, so each one is re-checked
    under the database constraints; the first refusal rolls the whole series back and is re-raised with
    the occurrence it concerns (`error.occurrence`).
    """
    zone = room.location.zone
    occurrences = series_occurrences(dtstart=dtstart, rrule=rrule, zone=zone)
    if choices is None:
        choices = [SeriesChoice(occurrence=o) for o in occurrences]
    planned = set(occurrences)
    seen: set[dt.datetime] = set()
    for choice in choices:
        if choice.occurrence not in planned:
            local = choice.occurrence.astimezone(zone)
            raise ValidationError({"choices": f"{local:%Y-%m-%d %H:%M} is not an occurrence of the rule."})
        if choice.occurrence in seen:
            raise ValidationError({"choices": "Each occurrence may be chosen once."})
        if choice.start is not None and timezone.is_naive(choice.start):
            raise ValidationError({"choices": "Alternative times must include a time zone."})
        seen.add(choice.occurrence)
    if not choices:
        raise ValidationError({"choices": "Accept at least one occurrence."})
    span = dt.timedelta(minutes=appointment_type.default_duration_minutes + appointment_type.buffer_after_minutes)
    starts = sorted(c.start or c.occurrence for c in choices)
    for earlier, later in itertools.pairwise(starts):
        if later < earlier + span:
            a, b = earlier.astimezone(zone), later.astimezone(zone)
            raise ValidationError({"choices": f"{a:%Y-%m-%d %H:%M} and {b:%Y-%m-%d %H:%M} overlap each other."})
    with transaction.atomic():
        series = Series.objects.create(
            patient=patient,
            provider=provider,
            room=room,
            appointment_type=appointment_type,
            dtstart=occurrences[0],
            rrule=rrule.strip().removeprefix("RRULE:"),
            created_by=by,
        )
        for choice in sorted(choices, key=lambda c: c.occurrence):
            try:
                appointment_book(
                    patient=patient,
                    provider=provider,
                    room=room,
                    appointment_type=appointment_type,
                    start=choice.start or choice.occurrence,
                    by=by,
                    notes=notes,
                    override_hours=override_hours,
                    series=series,
                    series_occurrence=choice.occurrence,
                )
            except BookingError as exc:
                local = (choice.start or choice.occurrence).astimezone(zone)
                exc.occurrence = choice.occurrence
                exc.message = f"Occurrence {local:%Y-%m-%d %H:%M}: {exc.message}"
                exc.args = (exc.message,)
                raise
    return series


def _scope(appointment: Appointment, scope: Scope) -> list[Appointment]:
    if scope == "this":
        return [appointment]
    if scope != "following":
        raise ValidationError({"scope": "Scope is 'this' or 'following'."})
    if appointment.series_id is None:
        raise ValidationError({"scope": "This appointment is not part of a series."})
    anchor = appointment.series_occurrence or appointment.start
    return list(
        Appointment.objects.select_related("room__location")
        .filter(
            series_id=appointment.series_id,
            series_occurrence__gte=anchor,
            status__in=Appointment.MOVABLE_STATUSES,
        )
        .order_by("series_occurrence", "start")
    )


def appointments_cancel_scoped(*, appointment: Appointment, scope: Scope, by: Actor, reason: str) -> list[Appointment]:
    """Cancel this appointment, or this and the following open ones of its series, atomically."""
    with transaction.atomic():
        return [appointment_cancel(appointment=a, by=by, reason=reason) for a in _scope(appointment, scope)]


def appointments_move_scoped(
    *, appointment: Appointment, scope: Scope, start: dt.datetime, by: Actor, override_hours: bool = False
) -> list[Appointment]:
    """Move this appointment to START, or shift this and the following ones of its series by the same wall-clock
    change (10:00 -> 11:00 moves each later one to 11:00 local, DST or not), atomically: all or none."""
    if timezone.is_naive(start):
        raise ValidationError({"start": "The start must include a time zone."})
    tz = appointment.local_zone
    wall_shift = start.astimezone(tz).replace(tzinfo=None) - appointment.start.astimezone(tz).replace(tzinfo=None)
    moved = []
    with transaction.atomic():
        for other in _scope(appointment, scope):
            there = other.local_zone  # each on its own location's clock (one may have moved rooms)
            new_start = localize(other.start.astimezone(there).replace(tzinfo=None) + wall_shift, zone=there)
            moved.append(appointment_move(appointment=other, start=new_start, by=by, override_hours=override_hours))
    return moved
