"""Working hours: a provider's weekly template of local intervals minus time off, as UTC instants, per location.

A template row with a location applies there only; a row without one applies at every location. Its
times are wall times of the location the visit is at, so a provider working 09:00-17:00 "anywhere"
works 09:00-17:00 on each location's own clock. Without a location (callers that do not know one) the
rows are read on the clinic's clock.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from scheduling.clock import Zone, local_date, local_datetime
from scheduling.models import Location, TimeOff, WorkingHours

Interval = tuple[dt.datetime, dt.datetime]
Template = dict[int, list[tuple[dt.time, dt.time]]]  # weekday -> (start, end) wall times


def _templates(
    provider_ids: list[int], location_ids: list[int] | None
) -> tuple[dict[int, Template], dict[tuple[int, int], Template]]:
    """Return the rows without a location per provider, and those of each (provider, location); one query."""
    anywhere: dict[int, Template] = defaultdict(lambda: defaultdict(list))
    at: dict[tuple[int, int], Template] = defaultdict(lambda: defaultdict(list))
    rows = WorkingHours.objects.filter(provider_id__in=provider_ids)
    if location_ids is not None:
        rows = rows.filter(Q(location__isnull=True) | Q(location_id__in=location_ids))
    for wh in rows:
        if wh.location_id is None:
            anywhere[wh.provider_id][wh.weekday].append((wh.start_time, wh.end_time))
        else:
            at[(wh.provider_id, wh.location_id)][wh.weekday].append((wh.start_time, wh.end_time))
    return anywhere, at


def working_intervals_at(
    *, provider_ids: Iterable[int], locations: Iterable[Location], first_day: dt.date, last_day: dt.date
) -> dict[tuple[int, int], list[Interval]]:
    """Return each (provider id, location id)'s working intervals (UTC, time off removed) on the local days
    FIRST_DAY..LAST_DAY of that location; two queries whatever the number of providers and locations."""
    provider_ids, locations = list(provider_ids), list(locations)
    anywhere, at = _templates(provider_ids, [loc.pk for loc in locations])
    starts = [local_datetime(first_day, dt.time(0), zone=loc.zone) for loc in locations]
    ends = [local_datetime(last_day + dt.timedelta(days=1), dt.time(0), zone=loc.zone) for loc in locations]
    time_off: dict[int, list[Interval]] = defaultdict(list)
    if locations:
        for off in TimeOff.objects.filter(provider_id__in=provider_ids, start__lt=max(ends), end__gt=min(starts)):
            time_off[off.provider_id].append((off.start, off.end))
    result: dict[tuple[int, int], list[Interval]] = {}
    for location in locations:
        for provider_id in provider_ids:
            template = {
                weekday: anywhere[provider_id][weekday] + at[(provider_id, location.pk)][weekday]
                for weekday in range(7)
            }
            intervals = _days(template, first_day=first_day, last_day=last_day, zone=location.zone)
            result[(provider_id, location.pk)] = _subtract(_merge(intervals), time_off[provider_id])
    return result


def working_intervals(
    *, provider_ids: Iterable[int], first_day: dt.date, last_day: dt.date, location: Location | None = None
) -> dict[int, list[Interval]]:
    """Return each provider's working intervals (UTC, time off removed) on the local days FIRST_DAY..LAST_DAY.

    At LOCATION: its rows and the rows without a location, on its clock. Without one (an overview that
    does not ask where): every row, a location's row on that location's clock, the others on the clinic's.
    """
    provider_ids = list(provider_ids)
    if location is not None:
        at = working_intervals_at(
            provider_ids=provider_ids, locations=[location], first_day=first_day, last_day=last_day
        )
        return {provider_id: at[(provider_id, location.pk)] for provider_id in provider_ids}
    places = working_intervals_by_place(provider_ids=provider_ids, first_day=first_day, last_day=last_day)
    return {
        provider_id: _merge([i for _, intervals in places[provider_id] for i in intervals])
        for provider_id in provider_ids
    }


def working_intervals_by_place(
    *, provider_ids: Iterable[int], first_day: dt.date, last_day: dt.date
) -> dict[int, list[tuple[Location | None, list[Interval]]]]:
    """Return each provider's working intervals (UTC, time off removed) on the local days FIRST_DAY..LAST_DAY, by
    where they hold: a location's rows on its clock (with the location), the rows without one on the clinic's clock
    (with None). Two queries whatever the number of providers."""
    provider_ids = list(provider_ids)
    rows: dict[int, dict[int | None, list[Interval]]] = defaultdict(lambda: defaultdict(list))
    places: dict[int | None, Location | None] = {None: None}
    for wh in WorkingHours.objects.filter(provider_id__in=provider_ids).select_related("location"):
        zone = wh.location.zone if wh.location is not None else None
        places[wh.location_id] = wh.location
        template = {wh.weekday: [(wh.start_time, wh.end_time)]}
        rows[wh.provider_id][wh.location_id].extend(_days(template, first_day=first_day, last_day=last_day, zone=zone))
    range_start = local_datetime(first_day, dt.time(0)) - dt.timedelta(days=1)  # any zone's local days
    range_end = local_datetime(last_day + dt.timedelta(days=1), dt.time(0)) + dt.timedelta(days=1)
    time_off: dict[int, list[Interval]] = defaultdict(list)
    for off in TimeOff.objects.filter(provider_id__in=provider_ids, start__lt=range_end, end__gt=range_start):
        time_off[off.provider_id].append((off.start, off.end))
    # The rows without a location first, then the locations by name: a stable order for the sheet.
    return {
        provider_id: [
            (places[location_id], _subtract(_merge(intervals), time_off[provider_id]))
            for location_id, intervals in sorted(
                rows[provider_id].items(), key=lambda item: "" if item[0] is None else str(places[item[0]])
            )
        ]
        for provider_id in provider_ids
    }


def _days(template: Template, *, first_day: dt.date, last_day: dt.date, zone: Zone) -> list[Interval]:
    intervals: list[Interval] = []
    day = first_day
    while day <= last_day:
        for start_time, end_time in sorted(template.get(day.weekday(), [])):
            intervals.append((local_datetime(day, start_time, zone=zone), local_datetime(day, end_time, zone=zone)))
        day += dt.timedelta(days=1)
    return intervals


def _merge(intervals: list[Interval]) -> list[Interval]:
    """Join intervals that touch or overlap (08-12 and 12-17 make 08-17), so a visit may span them."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    for hole_start, hole_end in holes:
        pieces: list[Interval] = []
        for start, end in intervals:
            if hole_end <= start or hole_start >= end:
                pieces.append((start, end))
                continue
            if start < hole_start:
                pieces.append((start, hole_start))
            if hole_end < end:
                pieces.append((hole_end, end))
        intervals = pieces
    return intervals


def hours_problem(
    *, provider_id: int, start: dt.datetime, end: dt.datetime, location: Location | None = None
) -> str | None:
    """Return why [START, END) is not bookable for the provider at LOCATION (outside hours there, time off), or None."""
    zone = location.zone if location is not None else None
    day = local_date(start, zone=zone)
    intervals = working_intervals(
        provider_ids=[provider_id], first_day=day, last_day=local_date(end, zone=zone), location=location
    )[provider_id]
    if any(s <= start and end <= e for s, e in intervals):
        return None
    off = TimeOff.objects.filter(provider_id=provider_id, start__lt=end, end__gt=start).first()
    if off is not None:
        reason = f" ({off.reason})" if off.reason else ""
        return f"The provider is off{reason} at that time."
    if location is not None:
        elsewhere = (
            WorkingHours.objects.filter(provider_id=provider_id, weekday=day.weekday())
            .exclude(location=location)
            .exclude(location__isnull=True)
            .select_related("location")
            .order_by("location__name", "start_time")
            .first()
        )
        if elsewhere is not None and elsewhere.location is not None:
            local = start.astimezone(location.zone)
            return (
                f"On {local:%A}s the provider works at {elsewhere.location}, not at {location}; "
                "choose another day or location."
            )
    return "The time is outside the provider's working hours."
