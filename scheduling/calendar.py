"""iCalendar (RFC 5545) output with the `icalendar` package: a provider's feed and one appointment's .ics."""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from icalendar import Calendar, Event

from clinic.api.filters import MAX_ID
from clinic.models import Provider
from scheduling.models import Appointment, CalendarFeed

PRODID = "-//TPI clinic//scheduling//EN"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    return calendar


def _event(appointment: Appointment, *, summary: str, now: dt.datetime) -> Event:
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{settings.CLINIC_NAME.lower().replace(' ', '-')}")
    event.add("dtstamp", now)
    event.add("dtstart", appointment.start.astimezone(dt.UTC))
    event.add("dtend", appointment.end.astimezone(dt.UTC))
    event.add("summary", summary)
    event.add("location", f"{settings.CLINIC_NAME}, {appointment.room}")
    # RFC 5545: a visit that no longer holds its time (Appointment.STATUSES) is a cancelled event.
    event.add("status", "CONFIRMED" if appointment.is_active else "CANCELLED")
    event.add("last-modified", appointment.updated_at or now)
    return event


def _initials(appointment: Appointment) -> str:
    patient = appointment.patient
    return f"{(patient.preferred_name or patient.legal_first_name)[:1]}. {patient.legal_last_name[:1]}."


def provider_feed(*, provider: Provider, appointments: Iterable[Appointment]) -> bytes:
    """Return the provider's calendar; a subscribed feed leaves the clinic, so it names patients by initials only."""
    now = timezone.now()
    calendar = _calendar(f"{settings.CLINIC_NAME}: {provider}")
    for appointment in appointments:
        calendar.add_component(
            _event(appointment, summary=f"{appointment.appointment_type} ({_initials(appointment)})", now=now)
        )
    return calendar.to_ical()


def provider_feed_appointments(*, provider: Provider) -> QuerySet[Appointment]:
    """Return the appointments a provider's feed shows: a window around today, cancelled ones included."""
    now = timezone.now()
    return (
        Appointment.objects.filter(
            provider=provider,
            start__gte=now - dt.timedelta(days=settings.SCHEDULING_FEED_PAST_DAYS),
            start__lt=now + dt.timedelta(days=settings.SCHEDULING_FEED_FUTURE_DAYS),
        )
        .select_related("patient", "room", "appointment_type")
        .order_by("start")
    )


def provider_by_feed_token(*, provider_id: int, token: str) -> Provider | None:
    """Return the provider whose feed TOKEN this is, or None."""
    if not 1 <= provider_id <= MAX_ID:  # no row has such an id (and SQLite cannot even compare it)
        return None
    feed = CalendarFeed.objects.select_related("provider__user").filter(provider_id=provider_id, token=token).first()
    return feed.provider if feed is not None else None


def appointment_ics(*, appointment: Appointment) -> bytes:
    """Return one appointment as an .ics file (for staff: the patient's display name is in the summary)."""
    calendar = _calendar(settings.CLINIC_NAME)
    calendar.add("method", "PUBLISH")
    event = _event(
        appointment, summary=f"{appointment.appointment_type}: {appointment.patient.display_name}", now=timezone.now()
    )
    event.add("description", f"With {appointment.provider} in {appointment.room}.")
    calendar.add_component(event)
    return calendar.to_ical()


def calendar_feed_ensure(*, provider: Provider) -> CalendarFeed:
    """Return the provider's feed, creating its secret token on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(provider=provider)
    return feed
