"""Locations, opening hours and rooms that list what they host: booking, series, slot finder, API."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from clinic import roles
from scheduling.booking import appointment_book, appointment_move
from scheduling.exceptions import OutsideOpeningHours, RoomCannotHost
from scheduling.models import Appointment, AppointmentType, Location, Series
from scheduling.series import series_commit, series_preview
from scheduling.slots import slots_find
from tests.factories import LocationFactory, OpeningHoursFactory, RoomFactory, UserFactory
from tests.scheduling.conftest import at


@pytest.fixture
def massage_room(clinic):
    """The massage room hosts massage only."""
    return RoomFactory(name="Massage room", appointment_types=[clinic.massage])


def _book(clinic, **overrides):
    fields = {
        "patient": clinic.patient,
        "provider": clinic.doctor,
        "room": clinic.room,
        "appointment_type": clinic.tpi,
        "start": at(2026, 11, 30, 10),
        "by": None,
    }
    return appointment_book(**(fields | overrides))


def test_a_room_that_cannot_host_the_visit_is_refused_on_booking_and_moving(clinic, massage_room):
    with pytest.raises(RoomCannotHost) as refused:
        _book(clinic, room=massage_room)

    assert refused.value.message == ("Massage room cannot host TPI procedure visits; choose a room equipped for them.")
    assert refused.value.code == "room_cannot_host"
    assert not Appointment.objects.exists()
    appointment = _book(clinic)
    with pytest.raises(RoomCannotHost):
        appointment_move(appointment=appointment, start=at(2026, 11, 30, 11), room=massage_room, by=None)
    appointment.refresh_from_db()
    assert (appointment.room, appointment.start) == (clinic.room, at(2026, 11, 30, 10))


def test_a_series_in_a_room_that_cannot_host_it_is_refused_before_anything_is_booked(clinic, massage_room):
    plan = {
        "patient": clinic.patient,
        "provider": clinic.doctor,
        "room": massage_room,
        "appointment_type": clinic.tpi,
        "dtstart": at(2026, 11, 30, 10),
        "rrule": "FREQ=WEEKLY;COUNT=3",
    }
    with pytest.raises(RoomCannotHost):
        series_preview(**plan)
    with pytest.raises(RoomCannotHost):
        series_commit(**plan, by=None)
    assert not Series.objects.exists()
    assert not Appointment.objects.exists()


def test_the_slot_finder_never_offers_a_room_that_cannot_host_the_visit(clinic, massage_room):
    clinic.room.appointment_types.set([clinic.massage])  # Room 1 now hosts massage only, too
    day = dt.date(2026, 11, 30)

    slots = slots_find(appointment_type=clinic.tpi, first_day=day, last_day=day)

    assert {s.room for s in slots} == {clinic.room2}
    assert slots_find(appointment_type=clinic.tpi, first_day=day, last_day=day, room=massage_room) == []
    massage = slots_find(appointment_type=clinic.massage, first_day=day, last_day=day, room=massage_room)
    assert massage[0].room == massage_room


def test_opening_hours_of_the_location_limit_booking_and_slots(clinic):
    location = clinic.room.location
    OpeningHoursFactory(location=location, weekday=0, start_time=dt.time(9), end_time=dt.time(12))

    with pytest.raises(OutsideOpeningHours) as refused:
        _book(clinic, start=at(2026, 11, 30, 13))

    assert refused.value.message == "Main location is not open at 13:00 on Monday 30 Nov (America/New_York)."
    slots = slots_find(appointment_type=clinic.tpi, first_day=dt.date(2026, 11, 30), last_day=dt.date(2026, 11, 30))
    assert slots[0].start == at(2026, 11, 30, 9)
    assert slots[-1].start == at(2026, 11, 30, 11, 30)
    # Tuesday has no opening hours: that location is closed all day.
    assert slots_find(appointment_type=clinic.tpi, first_day=dt.date(2026, 12, 1), last_day=dt.date(2026, 12, 1)) == []


def test_only_a_clinic_admin_may_book_outside_opening_hours_and_it_is_recorded(clinic):
    OpeningHoursFactory(location=clinic.room.location, weekday=0, start_time=dt.time(9), end_time=dt.time(12))
    with pytest.raises(PermissionDenied):
        _book(clinic, start=at(2026, 11, 30, 13), override_hours=True, by=clinic.frontdesk)
    manager = UserFactory(username="manager")
    manager.groups.add(Group.objects.get(name=roles.CLINIC_ADMIN))

    appointment = _book(clinic, start=at(2026, 11, 30, 13), override_hours=True, by=manager)

    assert (appointment.hours_override_by, appointment.start) == (manager, at(2026, 11, 30, 13))


def test_a_location_in_another_zone_opens_on_its_own_clock(clinic):
    chicago = LocationFactory(name="Chicago clinic", time_zone="America/Chicago")
    OpeningHoursFactory(location=chicago, weekday=0, start_time=dt.time(9), end_time=dt.time(10))
    room = RoomFactory(name="Chicago 1", location=chicago)

    slots = slots_find(
        appointment_type=clinic.tpi, first_day=dt.date(2026, 11, 30), last_day=dt.date(2026, 11, 30), room=room
    )

    # 09:00 in Chicago is 10:00 in New York (the clinic's zone).
    assert [s.start for s in slots] == [at(2026, 11, 30, 10), at(2026, 11, 30, 10, 15), at(2026, 11, 30, 10, 30)]
    appointment = _book(clinic, room=room, start=slots[0].start)
    assert str(appointment.local_zone) == "America/Chicago"
    assert appointment.start.astimezone(appointment.local_zone).hour == 9


def test_the_slot_finder_keeps_to_the_location_asked_for(clinic):
    west = RoomFactory(name="West 1", location=LocationFactory(name="Westside"))
    day = dt.date(2026, 11, 30)

    slots = slots_find(appointment_type=clinic.tpi, first_day=day, last_day=day, location=west.location)

    assert {s.room for s in slots} == {west}


@pytest.fixture
def api(clinic):
    client = APIClient()
    client.force_authenticate(clinic.frontdesk)
    return client


def test_the_api_refuses_a_room_that_cannot_host_the_visit_with_a_stable_code(clinic, massage_room, api):
    body = {
        "patient": clinic.patient.pk,
        "provider": clinic.doctor.pk,
        "room": massage_room.pk,
        "appointment_type": clinic.tpi.pk,
        "start": "2026-11-30T10:00:00-05:00",
    }
    response = api.post("/api/appointments/", body, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Massage room cannot host TPI procedure visits; choose a room equipped for them.",
        "code": "room_cannot_host",
    }
    series = api.post(
        "/api/series/preview/",
        {**body, "dtstart": body.pop("start"), "rrule": "FREQ=WEEKLY;COUNT=2"},
        format="json",
    )
    assert (series.status_code, series.json()["code"]) == (409, "room_cannot_host")


def test_the_api_lists_locations_rooms_with_capabilities_and_slots_by_location(clinic, massage_room, api):
    OpeningHoursFactory(location=clinic.room.location, weekday=0, start_time=dt.time(9), end_time=dt.time(12))

    locations = api.get("/api/locations/").json()["results"]
    rooms = {r["name"]: r for r in api.get("/api/rooms/").json()["results"]}
    slots = api.get(
        "/api/free-slots/",
        {
            "appointment_type": clinic.tpi.pk,
            "location": clinic.room.location_id,
            "date_from": "2026-11-30",
            "date_to": "2026-11-30",
            "limit": 2,
        },
    ).json()

    assert locations == [
        {
            "id": clinic.room.location_id,
            "name": "Main location",
            "address": "1 Main Street",
            "time_zone": "America/New_York",
            "is_active": True,
            "opening_hours": [{"weekday": 0, "start_time": "09:00:00", "end_time": "12:00:00"}],
        }
    ]
    assert rooms["Massage room"]["appointment_types"] == [clinic.massage.pk]
    assert sorted(rooms["Room 1"]["appointment_types"]) == sorted([clinic.tpi.pk, clinic.massage.pk])
    assert [(s["start"], s["room"]) for s in slots] == [
        ("2026-11-30T09:00:00-05:00", clinic.room.pk),
        ("2026-11-30T09:15:00-05:00", clinic.room.pk),
    ]


def test_a_clinic_admin_sets_up_a_location_and_what_a_room_hosts_in_the_admin(clinic, client):
    manager = UserFactory(username="manager")
    manager.groups.add(Group.objects.get(name=roles.CLINIC_ADMIN))
    client.force_login(manager)

    added = client.post(
        "/admin/scheduling/location/add/",
        {
            "name": "Westside",
            "address": "25 West Avenue",
            "time_zone": "America/Chicago",
            "is_active": "on",
            "opening_hours-TOTAL_FORMS": "1",
            "opening_hours-INITIAL_FORMS": "0",
            "opening_hours-0-weekday": "0",
            "opening_hours-0-start_time": "09:00",
            "opening_hours-0-end_time": "17:00",
            "rooms-TOTAL_FORMS": "0",
            "rooms-INITIAL_FORMS": "0",
        },
    )
    bad_zone = client.post(
        "/admin/scheduling/location/add/",
        {
            "name": "Nowhere",
            "time_zone": "Mars/Olympus",
            "opening_hours-TOTAL_FORMS": "0",
            "opening_hours-INITIAL_FORMS": "0",
            "rooms-TOTAL_FORMS": "0",
            "rooms-INITIAL_FORMS": "0",
        },
    )
    west = Location.objects.get(name="Westside")
    page = client.get(f"/admin/scheduling/room/{clinic.room.pk}/change/").content.decode()
    changed = client.post(
        f"/admin/scheduling/room/{clinic.room.pk}/change/",
        {"name": "Room 1", "location": west.pk, "appointment_types": [clinic.massage.pk], "is_active": "on"},
    )

    assert added.status_code == 302
    assert [(o.weekday, o.start_time, o.end_time) for o in west.opening_hours.all()] == [(0, dt.time(9), dt.time(17))]
    assert "&#x27;Mars/Olympus&#x27; is not an IANA time zone (e.g. America/New_York)." in bad_zone.content.decode()
    assert 'class="selectfilter"' in page or "SelectFilter" in page  # filter_horizontal: the two-box picker
    assert changed.status_code == 302
    clinic.room.refresh_from_db()
    assert (clinic.room.location, list(clinic.room.appointment_types.all())) == (west, [clinic.massage])
    listing = client.get("/admin/scheduling/room/").content.decode()
    assert '<td class="field-hosts">Massage</td>' in listing


def test_a_new_visit_type_is_hosted_by_the_rooms_ticked_on_its_admin_page(clinic, client):
    manager = UserFactory(username="manager")
    manager.groups.add(Group.objects.get(name=roles.CLINIC_ADMIN))
    client.force_login(manager)

    response = client.post(
        "/admin/scheduling/appointmenttype/add/",
        {
            "code": "reassessment",
            "name": "Reassessment",
            "default_duration_minutes": "20",
            "buffer_after_minutes": "5",
            "allowed_roles": ["physician"],
            "rooms": [clinic.room2.pk],
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    reassessment = AppointmentType.objects.get(code="reassessment")
    assert list(reassessment.rooms.all()) == [clinic.room2]
    page = client.get(f"/admin/scheduling/appointmenttype/{reassessment.pk}/change/").content.decode()
    ticked = re.findall(r'<input type="checkbox" name="rooms" value="(\d+)"[^>]*checked', page)
    assert ticked == [str(clinic.room2.pk)]
