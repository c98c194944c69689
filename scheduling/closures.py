"""Closures: enter one and learn which booked appointments it covers; prefill public holidays.

A closure never cancels or moves anything itself: the front desk gets the list of appointments it
covers and moves them (people, not a job, tell patients their visit moved).
"""

import datetime as dt

import holidays
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from scheduling.locations import closure_span, closures_at
from scheduling.models import Appointment, Closure, Location


def closure_affected(*, closure: Closure) -> list[Appointment]:
    """Return the active appointments CLOSURE covers, in time order: the front desk's list to move."""
    locations = [closure.location] if closure.location is not None else list(Location.objects.all())
    covered = Q(pk__in=[])
    for location in locations:
        start, end = closure_span(closure=closure, tz=location.zone)
        covered |= Q(room__location=location, start__lt=end, blocked_end__gt=start)
    return list(
        Appointment.objects.active()
        .filter(covered)
        .select_related("patient", "provider__user", "room__location", "appointment_type")
        .order_by("start", "id")
    )


def closure_create(
    *,
    reason: str,
    location: Location | None = None,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    source: str = Closure.Source.MANUAL,
) -> tuple[Closure, list[Appointment]]:
    """Save a closure (whole days or instants; raises ValidationError) and return it with the appointments it covers."""
    if first_day is not None and last_day is None:
        last_day = first_day
    closure = Closure(
        location=location,
        first_day=first_day,
        last_day=last_day,
        start=start,
        end=end,
        reason=reason.strip(),
        source=source,
    )
    closure.full_clean()
    with transaction.atomic():
        closure.save()
    return closure, closure_affected(closure=closure)


def holidays_import(*, years: list[int], country: str | None = None, subdivision: str | None = None) -> list[Closure]:
    """Add the public holidays of YEARS as clinic-wide whole-day closures; return the new ones (idempotent).

    The country and subdivision default to SCHEDULING_HOLIDAYS_COUNTRY / _SUBDIVISION. A holiday day
    that already has a clinic-wide closure is left as it is, so staff edits and deletions of other
    days survive a re-run.
    """
    country = country or settings.SCHEDULING_HOLIDAYS_COUNTRY
    subdivision = subdivision if subdivision is not None else settings.SCHEDULING_HOLIDAYS_SUBDIVISION
    calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    created = []
    with transaction.atomic():
        for day, name in sorted(calendar.items()):
            if Closure.objects.filter(location__isnull=True, first_day__lte=day, last_day__gte=day).exists():
                continue
            created.append(
                Closure.objects.create(
                    first_day=day, last_day=day, reason=str(name)[:200], source=Closure.Source.HOLIDAY
                )
            )
    return created


def closed_reason(*, location: Location, start: dt.datetime, end: dt.datetime) -> str | None:
    """Return the reason of the first closure meeting [START, END) at LOCATION, or None."""
    spans = closures_at(location=location, start=start, end=end)
    return spans[0].closure.reason if spans else None
