"""The clinic's clock: local dates and wall times in a zone (a location's, else settings.TIME_ZONE), turned into UTC
correctly over DST."""

import datetime as dt

from clinic.clock import Zone, clinic_tz, local_date, zone_of

__all__ = ["Zone", "clinic_tz", "day_bounds", "local_date", "local_datetime", "localize", "zone_of"]


def local_datetime(day: dt.date, time: dt.time, *, zone: Zone = None) -> dt.datetime:
    """Return the aware UTC instant of wall time TIME on DAY in ZONE (default the clinic's; DST gaps roll forward)."""
    naive = dt.datetime.combine(day, time)
    aware = naive.replace(tzinfo=zone_of(zone))
    # A wall time inside a spring-forward gap does not exist; round trip it to the real instant.
    return aware.astimezone(dt.UTC)


def localize(naive: dt.datetime, *, zone: Zone = None) -> dt.datetime:
    """Return the aware UTC instant of a naive wall time of ZONE (default: the clinic's)."""
    return local_datetime(naive.date(), naive.time(), zone=zone)


def day_bounds(day: dt.date, *, zone: Zone = None) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC instants of local midnight (in ZONE, default the clinic's) starting DAY and the next one."""
    return local_datetime(day, dt.time(0), zone=zone), local_datetime(day + dt.timedelta(days=1), dt.time(0), zone=zone)
