"""The clinic's clock: local dates and wall times in settings.TIME_ZONE, turned into UTC correctly over DST."""

import datetime as dt

from clinic.clock import clinic_tz, local_date

__all__ = ["clinic_tz", "day_bounds", "local_date", "local_datetime", "localize"]


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


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC instants of local midnight starting DAY and the next one (23, 24 or 25 hours apart)."""
    return local_datetime(day, dt.time(0)), local_datetime(day + dt.timedelta(days=1), dt.time(0))
