"""The clinic's clock: local dates and wall times in settings.TIME_ZONE, turned into UTC correctly over DST."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings


def clinic_tz() -> ZoneInfo:
    """Return the clinic's time zone."""
    return ZoneInfo(settings.TIME_ZONE)


def local_datetime(day: dt.date, time: dt.time) -> dt.datetime:
    """Return the aware UTC instant of wall time TIME on DAY in the clinic (DST gaps resolve forward)."""
    tz = clinic_tz()
    naive = dt.datetime.combine(day, time)
    aware = naive.replace(tzinfo=tz)
    # A wall time inside a spring-forward gap does not exist; round trip it to the real instant.
    return aware.astimezone(dt.UTC)


def localize(naive: dt.datetime) -> dt.datetime:
    """Return the aware UTC instant of a naive clinic wall time."""
    return local_datetime(naive.date(), naive.time())


def local_date(instant: dt.datetime) -> dt.date:
    """Return the clinic-local calendar date of an aware instant."""
    return instant.astimezone(clinic_tz()).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC instants of local midnight starting DAY and the next one (23, 24 or 25 hours apart)."""
    return local_datetime(day, dt.time(0)), local_datetime(day + dt.timedelta(days=1), dt.time(0))
