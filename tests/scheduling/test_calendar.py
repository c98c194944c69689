import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from icalendar import Calendar
from rest_framework.test import APIClient

from scheduling.booking import appointment_book, appointment_cancel
from scheduling.calendar import calendar_feed_ensure
from tests.factories import PatientFactory
from tests.scheduling.conftest import at


def feed_url(feed):
    return f"/api/calendar/providers/{feed.provider_id}/{feed.token}.ics"


@pytest.fixture
def booked(clinic):
    patient = PatientFactory(legal_first_name="Jordan", legal_last_name="Rivera", preferred_name="")
    first = appointment_book(
        patient=patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 12, 1, 9),
        by=None,
    )
    second = appointment_book(
        patient=patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 12, 2, 9),
        by=None,
    )
    appointment_cancel(appointment=second, by=None, reason="ill")
    appointment_book(
        patient=clinic.patient,
        provider=clinic.therapist,
        room=clinic.room2,
        appointment_type=clinic.massage,
        start=at(2026, 12, 1, 9),
        by=None,
    )
    return first, second


def test_provider_feed_parses_back_with_initials_only(clinic, booked, client):
    first = booked[0]
    feed = calendar_feed_ensure(provider=clinic.doctor)

    response = client.get(feed_url(feed))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["TPI procedure (J. R.)", "TPI procedure (J. R.)"]
    assert [e.decoded("dtstart") for e in events] == [at(2026, 12, 1, 9), at(2026, 12, 2, 9)]
    assert events[0].decoded("dtend") == at(2026, 12, 1, 9, 30)
    assert [str(e["status"]) for e in events] == ["CONFIRMED", "CANCELLED"]
    assert str(events[0]["uid"]).startswith(f"appointment-{first.pk}@")
    assert "Rivera" not in response.content.decode()
    assert str(calendar["x-wr-timezone"]) == "America/New_York"


def test_feed_needs_the_right_token(clinic, booked, client):
    feed = calendar_feed_ensure(provider=clinic.doctor)
    other = calendar_feed_ensure(provider=clinic.therapist)

    assert client.get(f"/api/calendar/providers/{clinic.doctor.pk}/wrong-token.ics").status_code == 404
    assert client.get(f"/api/calendar/providers/{clinic.doctor.pk}/{other.token}.ics").status_code == 404
    assert len(feed.token) >= 40
    assert calendar_feed_ensure(provider=clinic.doctor).token == feed.token


def test_a_provider_id_beyond_any_row_is_not_found(clinic, client):
    feed = calendar_feed_ensure(provider=clinic.doctor)

    assert client.get(f"/api/calendar/providers/{2**63}/{feed.token}.ics").status_code == 404
    assert client.get(f"/api/calendar/providers/{10**30}/{feed.token}.ics").status_code == 404


def test_appointment_ics_needs_login_and_parses_back(clinic, booked):
    first, _ = booked
    client = APIClient()
    assert client.get(f"/api/appointments/{first.pk}/ics/").status_code == 401
    clinic.frontdesk.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client.force_authenticate(clinic.frontdesk)

    response = client.get(f"/api/appointments/{first.pk}/ics/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="appointment-{first.pk}.ics"'
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["summary"]) == "TPI procedure: Jordan Rivera"
    assert event.decoded("dtstart") == at(2026, 12, 1, 9)
    assert event.decoded("dtstart").astimezone(dt.UTC).hour == 14
    assert str(event["location"]) == "Riverside Pain Clinic, Room 1"
    assert str(event["description"]) == "With Morgan Lee, MD in Room 1."
