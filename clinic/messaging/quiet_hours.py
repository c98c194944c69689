"""Quiet hours: automated messages go out only inside the daily window, in the patient's zone."""

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from clinic.models import Patient


def send_window() -> tuple[dt.time, dt.time]:
    """Return the (opens, closes) local times of the daily send window."""
    return _window(settings.MESSAGING_QUIET_HOURS_START, settings.MESSAGING_QUIET_HOURS_END)


@functools.lru_cache(maxsize=16)
def _window(start: str, end: str) -> tuple[dt.time, dt.time]:
    """Parse the window's settings (a sweep asks once per message: cached by their values)."""
    opens = _clock("MESSAGING_QUIET_HOURS_START", start)
    closes = _clock("MESSAGING_QUIET_HOURS_END", end)
    if opens >= closes:
        raise ImproperlyConfigured("MESSAGING_QUIET_HOURS_START must be before MESSAGING_QUIET_HOURS_END")
    return opens, closes


def _clock(name: str, value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not a time of day like 09:00") from exc


def _wall_to_utc(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """Return local wall time DAY AT as a UTC instant.

    fold=0 makes an ambiguous time (autumn) its first occurrence and a time inside the spring gap
    the instant just after the gap (it is read with the offset from before the change).
    """
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def next_send_time(*, patient: Patient, at: dt.datetime) -> dt.datetime:
    """Return AT if it falls inside the patient's send window, else the window's next opening."""
    zone = ZoneInfo(patient.time_zone or settings.TIME_ZONE)
    opens, closes = send_window()
    today = at.astimezone(zone).date()
    today_opens, today_closes, tomorrow_opens = _day_window(today, opens, closes, zone)
    if today_opens <= at < today_closes:
        return at
    if at < today_opens:
        return today_opens
    return tomorrow_opens


@functools.lru_cache(maxsize=1024)
def _day_window(day: dt.date, opens: dt.time, closes: dt.time, zone: ZoneInfo) -> tuple[dt.datetime, ...]:
    """Return when the window opens and closes on DAY in ZONE and opens the day after, as UTC instants (a sweep
    asks for the same few days and zones thousands of times)."""
    return (
        _wall_to_utc(day, opens, zone),
        _wall_to_utc(day, closes, zone),
        _wall_to_utc(day + dt.timedelta(days=1), opens, zone),
    )
