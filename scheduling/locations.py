"""Where a visit happens: a location's opening hours and closures as UTC instants, and what a room can host.

Opening hours are wall times of the location's own zone; a location without any opening hours sets no
limit (the providers' working hours still do). Whole-day closures are read in each location's zone, so
a clinic-wide holiday closes every location on its own calendar day. The booking service, the slot
finder, series and treatment plans all ask this module, so they agree.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q

from scheduling.clock import local_datetime
from scheduling.models import AppointmentType, Closure, Location, OpeningHours, Room

Interval = tuple[dt.datetime, dt.datetime]


def closure_span(*, closure: Closure, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC instants CLOSURE covers where the zone is TZ (whole days are local days there)."""
    if closure.first_day is not None and closure.last_day is not None:
        return local_datetime(closure.first_day, dt.time(0), zone=tz), local_datetime(
            closure.last_day + dt.timedelta(days=1), dt.time(0), zone=tz
        )
    if closure.start is None or closure.end is None:  # the check constraint makes this impossible once saved
        raise ValueError(f"closure {closure.pk} has neither whole days nor a start and an end")
    return closure.start, closure.end


@dataclass(frozen=True)
class ClosedSpan:
    """One closure as the UTC instants it covers at one location."""

    start: dt.datetime
    end: dt.datetime
    closure: Closure


def closures_at(*, location: Location, start: dt.datetime, end: dt.datetime) -> list[ClosedSpan]:
    """Return the closures (clinic-wide or of LOCATION) that meet [START, END), in time order."""
    return closures_at_many(locations=[location], start=start, end=end)[location.pk]


def closures_at_many(
    *, locations: Iterable[Location], start: dt.datetime, end: dt.datetime
) -> dict[int, list[ClosedSpan]]:
    """Return closures_at for each of LOCATIONS, keyed by location id, in one query."""
    locations = list(locations)
    # Whole days are local to each location; a day either side of the UTC dates covers any zone offset.
    first = start.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    last = end.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    rows = list(
        Closure.objects.filter(Q(location__isnull=True) | Q(location__in=locations)).filter(
            Q(first_day__lte=last, last_day__gte=first) | Q(start__lt=end, end__gt=start)
        )
    )
    return {location.pk: _spans(rows, location=location, start=start, end=end) for location in locations}


def _spans(rows: list[Closure], *, location: Location, start: dt.datetime, end: dt.datetime) -> list[ClosedSpan]:
    tz = location.zone
    spans = []
    for closure in rows:
        if closure.location_id is not None and closure.location_id != location.pk:
            continue
        span_start, span_end = closure_span(closure=closure, tz=tz)
        if span_start < end and span_end > start:
            spans.append(ClosedSpan(start=span_start, end=span_end, closure=closure))
    spans.sort(key=lambda s: s.start)
    return spans


def _opening_templates(location_ids: Iterable[int]) -> dict[int, dict[int, list[tuple[dt.time, dt.time]]]]:
    templates: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = defaultdict(lambda: defaultdict(list))
    for oh in OpeningHours.objects.filter(location_id__in=list(location_ids)):
        templates[oh.location_id][oh.weekday].append((oh.start_time, oh.end_time))
    return templates


def open_intervals(*, location: Location, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """Return when LOCATION is open within [START, END): its opening hours (or all of it) minus closures."""
    return open_intervals_many(locations=[location], start=start, end=end)[location.pk]


def open_intervals_many(
    *, locations: Iterable[Location], start: dt.datetime, end: dt.datetime
) -> dict[int, list[Interval]]:
    """Return open_intervals for each of LOCATIONS, keyed by location id (one query for the opening hours)."""
    locations = list(locations)
    templates = _opening_templates(location.pk for location in locations)
    closed = closures_at_many(locations=locations, start=start, end=end)
    result: dict[int, list[Interval]] = {}
    for location in locations:
        tz = location.zone
        if templates.get(location.pk):
            intervals: list[Interval] = []
            day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
            while day <= last:
                for open_time, close_time in sorted(templates[location.pk][day.weekday()]):
                    s, e = local_datetime(day, open_time, zone=tz), local_datetime(day, close_time, zone=tz)
                    if s < end and e > start:
                        intervals.append((max(s, start), min(e, end)))
                day += dt.timedelta(days=1)
        else:
            intervals = [(start, end)]
        holes = [(span.start, span.end) for span in closed[location.pk]]
        result[location.pk] = _subtract(intervals, holes)
    return result


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    for hole_start, hole_end in holes:
        pieces: list[Interval] = []
        for s, e in intervals:
            if hole_end <= s or hole_start >= e:
                pieces.append((s, e))
                continue
            if s < hole_start:
                pieces.append((s, hole_start))
            if hole_end < e:
                pieces.append((hole_end, e))
        intervals = pieces
    return intervals


def closure_problem(*, location: Location, start: dt.datetime, end: dt.datetime) -> Closure | None:
    """Return the closure [START, END) falls into at LOCATION, or None."""
    spans = closures_at(location=location, start=start, end=end)
    return spans[0].closure if spans else None


def opening_problem(*, location: Location, start: dt.datetime, end: dt.datetime) -> str | None:
    """Return why [START, END) is outside LOCATION's opening hours, or None when it is inside them."""
    if not OpeningHours.objects.filter(location=location).exists():
        return None
    templates = _opening_templates([location.pk])[location.pk]
    tz = location.zone
    day = start.astimezone(tz).date()
    for open_time, close_time in templates[day.weekday()]:
        if local_datetime(day, open_time, zone=tz) <= start and end <= local_datetime(day, close_time, zone=tz):
            return None
    local = start.astimezone(tz)
    return f"{location} is not open at {local:%H:%M} on {local:%A %d %b} ({location.time_zone})."


def rooms_hosting(
    *, appointment_type: AppointmentType, location: Location | None = None, room: Room | None = None
) -> list[Room]:
    """Return the active rooms that can host APPOINTMENT_TYPE (only ROOM, or only LOCATION's, when given)."""
    rooms = Room.objects.filter(is_active=True, appointment_types=appointment_type).select_related("location")
    if room is not None:
        rooms = rooms.filter(pk=room.pk)
    if location is not None:
        rooms = rooms.filter(location=location)
    return list(rooms.order_by("location__name", "name", "id"))
