"""Working hours: a provider's weekly template of local intervals minus time off, as UTC instants."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from scheduling.clock import local_date, local_datetime
from scheduling.models import TimeOff, WorkingHours

Interval = tuple[dt.datetime, dt.datetime]


def working_intervals(
    *, provider_ids: Iterable[int], first_day: dt.date, last_day: dt.date
) -> dict[int, list[Interval]]:
    """Return each provider's working intervals (UTC, time off removed) on the local days FIRST_DAY..LAST_DAY."""
    provider_ids = list(provider_ids)
    templates: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = defaultdict(lambda: defaultdict(list))
    for wh in WorkingHours.objects.filter(provider_id__in=provider_ids):
        templates[wh.provider_id][wh.weekday].append((wh.start_time, wh.end_time))
    range_start = local_datetime(first_day, dt.time(0))
    range_end = local_datetime(last_day + dt.timedelta(days=1), dt.time(0))
    time_off: dict[int, list[Interval]] = defaultdict(list)
    for off in TimeOff.objects.filter(provider_id__in=provider_ids, start__lt=range_end, end__gt=range_start):
        time_off[off.provider_id].append((off.start, off.end))
    result: dict[int, list[Interval]] = {}
    for provider_id in provider_ids:
        intervals: list[Interval] = []
        day = first_day
        while day <= last_day:
            for start_time, end_time in sorted(templates[provider_id][day.weekday()]):
                intervals.append((local_datetime(day, start_time), local_datetime(day, end_time)))
            day += dt.timedelta(days=1)
        result[provider_id] = _subtract(_merge(intervals), time_off[provider_id])
    return result


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


def hours_problem(*, provider_id: int, start: dt.datetime, end: dt.datetime) -> str | None:
    """Return why [START, END) is not bookable for the provider (outside hours, time off), or None when it is."""
    day = local_date(start)
    intervals = working_intervals(provider_ids=[provider_id], first_day=day, last_day=local_date(end))[provider_id]
    if any(s <= start and end <= e for s, e in intervals):
        return None
    off = TimeOff.objects.filter(provider_id=provider_id, start__lt=end, end__gt=start).first()
    if off is not None:
        reason = f" ({off.reason})" if off.reason else ""
        return f"The provider is off{reason} at that time."
    return "The time is outside the provider's working hours."
