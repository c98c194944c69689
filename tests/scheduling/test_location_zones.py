"""Times in the location's own zone: a second location in Los Angeles while the clinic's zone is New York.

The clock stands at Mon 30 Nov 2026 23:30 in New York (04:30 UTC on 1 Dec, 20:30 in Los Angeles): the
UTC, New York and Los Angeles readings differ, and at the late-evening visits below so do the dates.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from clinic.clock import local_date, staff_date, staff_datetime, staff_time
from scheduling.booking import appointment_book, appointment_move, appointment_status_set
from scheduling.clock import day_bounds, local_datetime, localize
from scheduling.daysheet import day_sheet, provider_week
from scheduling.exceptions import BookingConflict
from scheduling.models import Appointment, AppointmentReminder, WorkingHours
from scheduling.slots import slots_find
from tests.factories import LocationFactory, ProviderFactory, RoomFactory
from tests.scheduling.conftest import at

LA = ZoneInfo("America/Los_Angeles")
SHEET = "/admin/scheduling/appointment/day-sheet/"


def la(year, month, day, hour=0, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LA)


@pytest.fixture
def west(clinic, frozen):
    """A Los Angeles location with one TPI room; the doctor works 08:00-22:00 there on Mondays, on its clock."""
    frozen.move_to(at(2026, 11, 30, 7))
    location = LocationFactory(name="Venice Beach", time_zone="America/Los_Angeles")
    room = RoomFactory(name="Venice 1", location=location, appointment_types=[clinic.tpi])
    WorkingHours.objects.filter(provider=clinic.doctor).delete()
    WorkingHours.objects.create(
        provider=clinic.doctor, location=location, weekday=0, start_time="08:00", end_time="22:00"
    )
    WorkingHours.objects.create(
        provider=clinic.doctor, location=clinic.room.location, weekday=1, start_time="08:00", end_time="17:00"
    )
    clinic.west, clinic.west_room = location, room
    return clinic


def _book(c, start, room=None, **extra):
    return appointment_book(
        patient=c.patient,
        provider=c.doctor,
        room=room or c.west_room,
        appointment_type=c.tpi,
        start=start,
        by=None,
        **extra,
    )


def test_the_clock_helpers_take_a_zone_and_default_to_the_clinics():
    instant = dt.datetime(2026, 12, 1, 4, 30, tzinfo=dt.UTC)  # Mon 23:30 in New York, Mon 20:30 in Los Angeles

    assert (staff_datetime(instant), staff_datetime(instant, zone=LA)) == ("2026-11-30 23:30", "2026-11-30 20:30")
    assert staff_datetime(instant, zone="America/Los_Angeles", name_zone=True) == "2026-11-30 20:30 PST"
    assert staff_datetime(instant, zone="America/New_York", name_zone=True) == "2026-11-30 23:30"
    assert (staff_time(instant, zone=LA), staff_date(instant, zone=LA)) == ("20:30", "2026-11-30")
    assert local_date(dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC), zone=LA) == dt.date(2026, 11, 30)
    assert local_date(dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)) == dt.date(2026, 12, 1)
    assert local_datetime(dt.date(2026, 11, 30), dt.time(21), zone=LA) == dt.datetime(2026, 12, 1, 5, tzinfo=dt.UTC)
    assert localize(dt.datetime(2026, 11, 30, 21), zone="America/Los_Angeles") == la(2026, 11, 30, 21)
    assert day_bounds(dt.date(2026, 11, 30), zone=LA) == (la(2026, 11, 30), la(2026, 12, 1))


def test_an_appointment_reads_in_its_locations_zone_everywhere(west):
    appointment = _book(west, la(2026, 11, 30, 21))  # 21:00 Monday in LA = 00:00 Tuesday in New York

    assert str(appointment) == "TPI procedure 2026-11-30 21:00 PST"  # the zone named: not the clinic's
    assert (appointment.local_start.hour, appointment.local_end.hour) == (21, 21)
    with pytest.raises(BookingConflict) as clash:
        appointment_book(
            patient=west.patient2,
            provider=west.doctor,
            room=west.west_room,
            appointment_type=west.tpi,
            start=la(2026, 11, 30, 21, 15),
            by=None,
        )
    assert clash.value.message.endswith("in Venice 1, Mon 2026-11-30 21:00-21:30.")


def test_working_hours_of_a_location_are_read_on_its_clock_and_only_there(west):
    # Monday at Venice Beach 08:00-22:00 Los Angeles time; Tuesday at the main location, New York time.
    monday, tuesday = dt.date(2026, 11, 30), dt.date(2026, 12, 1)

    venice = slots_find(appointment_type=west.tpi, first_day=monday, last_day=monday, provider=west.doctor)
    main_monday = slots_find(
        appointment_type=west.tpi, first_day=monday, last_day=monday, provider=west.doctor, room=west.room
    )
    main_tuesday = slots_find(
        appointment_type=west.tpi, first_day=tuesday, last_day=tuesday, provider=west.doctor, room=west.room
    )
    venice_tuesday = slots_find(
        appointment_type=west.tpi, first_day=tuesday, last_day=tuesday, provider=west.doctor, room=west.west_room
    )

    assert {s.room for s in venice} == {west.west_room}
    assert (venice[0].start, venice[-1].start) == (la(2026, 11, 30, 8), la(2026, 11, 30, 21, 30))
    assert main_monday == []
    assert venice_tuesday == []
    assert (main_tuesday[0].start, main_tuesday[0].room) == (at(2026, 12, 1, 8), west.room)


def test_booking_outside_the_providers_hours_at_that_location_is_refused_in_words(west):
    from scheduling.exceptions import OutsideWorkingHours

    with pytest.raises(OutsideWorkingHours) as refused:
        _book(west, at(2026, 11, 30, 10), room=west.room)  # Monday at the main location
    assert refused.value.message == (
        "On Mondays the provider works at Venice Beach, not at Main location; choose another day or location."
    )
    with pytest.raises(OutsideWorkingHours) as late:
        _book(west, la(2026, 11, 30, 22))  # after 22:00 Los Angeles time
    assert late.value.message == "The time is outside the provider's working hours."
    assert _book(west, la(2026, 11, 30, 21, 30)).start == la(2026, 11, 30, 21, 30)
    appointment = _book(west, at(2026, 12, 1, 9), room=west.room)  # Tuesday at the main location
    with pytest.raises(OutsideWorkingHours):
        appointment_move(appointment=appointment, start=la(2026, 12, 1, 9), room=west.west_room, by=None)


def test_hours_without_a_location_hold_at_every_location_on_its_own_clock(clinic):
    location = LocationFactory(name="Venice Beach", time_zone="America/Los_Angeles")
    room = RoomFactory(name="Venice 1", location=location, appointment_types=[clinic.tpi])
    day = dt.date(2026, 11, 30)

    slots = slots_find(appointment_type=clinic.tpi, first_day=day, last_day=day, provider=clinic.doctor, room=room)

    # working_week: 08:00-17:00 at any location; at Venice Beach that is 08:00-17:00 Los Angeles time.
    assert (slots[0].start, slots[-1].start) == (la(2026, 11, 30, 8), la(2026, 11, 30, 16, 30))


def test_the_day_sheet_of_a_location_lays_out_its_own_local_day(west, frozen):
    late = _book(west, la(2026, 11, 30, 21))  # Monday in LA, Tuesday 00:00 in New York
    frozen.move_to(at(2026, 11, 30, 23, 30))

    venice_monday = day_sheet(day=dt.date(2026, 11, 30), location=west.west)
    clinic_tuesday = day_sheet(day=dt.date(2026, 12, 1))
    week = provider_week(provider=west.doctor, day=dt.date(2026, 11, 30), location=west.west)

    assert [a.pk for c in venice_monday for a in c.appointments] == [late.pk]
    assert [a.pk for c in clinic_tuesday for a in c.appointments] == [late.pk]
    assert [len(c.appointments) for c in week] == [1, 0, 0, 0, 0, 0, 0]
    doctor = next(c for c in venice_monday if c.key == west.doctor.pk)
    assert [(g.start, g.end, g.zone) for g in doctor.gaps] == [
        (la(2026, 11, 30, 8), la(2026, 11, 30, 21), "America/Los_Angeles"),
        (la(2026, 11, 30, 21, 40), la(2026, 11, 30, 22), "America/Los_Angeles"),
    ]


@pytest.fixture
def desk(west, client):
    west.frontdesk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_appointment", "add_appointment", "change_appointment"])
    )
    client.force_login(west.frontdesk)
    return client


def test_admin_pages_show_the_visit_in_its_locations_time(west, desk, frozen):
    appointment = _book(west, la(2026, 11, 30, 21))
    frozen.move_to(at(2026, 11, 30, 23, 30))
    desk.force_login(west.frontdesk)  # the idle session of 07:00 has expired

    sheet = desk.get(SHEET, {"date": "2026-11-30", "location": west.west.pk}).content.decode()
    all_locations = desk.get(SHEET, {"date": "2026-12-01"}).content.decode()
    week = desk.get(
        reverse("admin:scheduling_appointment_week"),
        {"provider": west.doctor.pk, "date": "2026-11-30", "location": west.west.pk},
    ).content.decode()
    change = desk.get(reverse("admin:scheduling_appointment_change", args=[appointment.pk])).content.decode()
    listing = desk.get(reverse("admin:scheduling_appointment_changelist")).content.decode()
    move = desk.get(reverse("admin:scheduling_appointment_move", args=[appointment.pk])).content.decode()

    assert re.findall(r'class="time">([^<]+)<', sheet) == ["21:00&ndash;21:30"]
    assert "Venice Beach: its local day and times (America/Los_Angeles)." in sheet
    assert re.findall(r'class="time">([^<]+)<', all_locations) == ["21:00&ndash;21:30"]
    assert re.findall(r'class="time">([^<]+)<', week) == ["21:00&ndash;21:30"]
    assert "TPI procedure 2026-11-30 21:00" in change
    assert "2026-11-30 21:00 PST" in listing
    assert 'value="2026-11-30T21:00"' in move
    assert "Times are Venice Beach time (America/Los_Angeles)." in move
    assert desk.get(SHEET, {"location": "abc"}).status_code == 400
    assert desk.get(SHEET, {"location": "999999"}).status_code == 404


def test_the_appointment_page_writes_every_time_as_staff_do_on_the_locations_clock(west, desk, frozen):
    appointment = _book(west, la(2026, 11, 30, 21))  # booked at 07:00 in New York, 04:00 in Los Angeles
    AppointmentReminder.objects.create(
        appointment=appointment, lead=dt.timedelta(hours=2), for_start=appointment.start, due_at=la(2026, 11, 30, 19)
    )
    frozen.move_to(at(2026, 11, 30, 23, 30))  # 20:30 in Los Angeles, 04:30 UTC on 1 December
    appointment_status_set(appointment=appointment, status="confirmed", reason="", by=west.frontdesk)
    Appointment.objects.filter(pk=appointment.pk).update(reschedule_requested_at=la(2026, 11, 30, 20, 15))
    LogEntry.objects.create(
        user=west.frontdesk,
        content_type=ContentType.objects.get_for_model(Appointment),
        object_id=str(appointment.pk),
        object_repr=str(appointment),
        action_flag=CHANGE,
        change_message="Changed notes.",
    )
    desk.force_login(west.frontdesk)

    change = desk.get(reverse("admin:scheduling_appointment_change", args=[appointment.pk])).content.decode()
    history = desk.get(reverse("admin:scheduling_appointment_history", args=[appointment.pk])).content.decode()
    added = desk.get(reverse("admin:scheduling_appointment_add"))

    fields = dict(re.findall(r'<label>([^<]+):</label>\s*<div class="readonly">([^<]*)</div>', change, flags=re.S))
    assert "Times are Venice Beach time (America/Los_Angeles)." in change
    assert {name: fields[name] for name in ["Start", "End", "Confirmed", "Created at"]} == {
        "Start": "2026-11-30 21:00 PST",
        "End": "2026-11-30 21:30 PST",
        "Confirmed": "Confirmed by staff, 2026-11-30 20:30 PST",
        "Created at": "2026-11-30 04:00 PST",
    }
    assert fields["Patient asked to move it (SMS reply R) at"] == "2026-11-30 20:15 PST"
    assert re.findall(r'class="field-changed">\s*<p>([^<]+)</p>', change) == [
        "2026-11-30 04:00 PST",
        "2026-11-30 20:30 PST",
    ]
    assert re.findall(r'class="field-due">\s*<p>([^<]+)</p>', change) == ["2026-11-30 19:00 PST"]
    assert re.findall(r'<th scope="row">([^<]+)</th>', history) == ["2026-11-30 20:30"]
    for page in (change, history):
        # Neither Django's own style nor the clinic's (New York) or UTC reading of any of these instants.
        assert not re.search(r"[ap]\.m\.|Nov\. |Dec\. |23:30|00:00|04:30|07:00", page.split("<body")[1])
    assert (added.status_code, added["Location"]) == (302, "/admin/scheduling/appointment/book/")


def test_the_booking_message_says_the_time_at_the_location_and_its_zone(west, desk):
    data = {
        "patient": west.patient.pk,
        "provider": west.doctor.pk,
        "room": west.west_room.pk,
        "appointment_type": west.tpi.pk,
        "start": "2026-11-30T21:00",
        "notes": "",
    }

    page = desk.post("/admin/scheduling/appointment/book/", data, follow=True).content.decode()

    assert f"Booked TPI procedure for {west.patient} at 2026-11-30 21:00 PST (Venice Beach)." in page


def test_the_booking_form_reads_the_start_on_the_rooms_clock(west, desk):
    data = {
        "patient": west.patient.pk,
        "provider": west.doctor.pk,
        "room": west.west_room.pk,
        "appointment_type": west.tpi.pk,
        "start": "2026-11-30T21:00",
        "notes": "",
    }

    response = desk.post("/admin/scheduling/appointment/book/", data)

    assert response.status_code == 302
    assert response["Location"] == f"{SHEET}?date=2026-11-30&location={west.west.pk}"
    assert Appointment.objects.get().start == la(2026, 11, 30, 21)


def test_the_all_locations_sheet_offers_another_zones_free_time_on_its_clock_and_books_exactly_it(west, desk):
    # Monday at Venice Beach 08:00-22:00 Los Angeles time; the clinic's Monday ends at 21:00 there.
    gaps = next(c for c in day_sheet(day=dt.date(2026, 11, 30)) if c.key == west.doctor.pk).gaps
    sheet = desk.get(SHEET, {"date": "2026-11-30"}).content.decode()
    column = sheet.split(f'data-column="{west.doctor.pk}"')[1].split("</section>")[0]
    link = re.findall(r'class="book-gap" href="([^"]+)"', column)

    assert [(g.start, g.end, g.zone, g.room, g.where) for g in gaps] == [
        (la(2026, 11, 30, 8), la(2026, 11, 30, 21), "America/Los_Angeles", west.west_room, "at Venice Beach (PST)")
    ]
    assert re.findall(r'class="gap"[^>]*>(Free [^<]*)', column) == [
        "Free 08:00&ndash;21:00 at Venice Beach (PST) (780 min) "
    ]
    assert link == [
        f"/admin/scheduling/appointment/book/?provider={west.doctor.pk}&amp;room={west.west_room.pk}"
        "&amp;start=2026-11-30T08:00"
    ]
    form = desk.get(link[0].replace("&amp;", "&")).context["form"]
    booked = desk.post(
        "/admin/scheduling/appointment/book/",
        {
            "patient": west.patient.pk,
            "provider": form.initial["provider"],
            "room": form.initial["room"],
            "appointment_type": west.tpi.pk,
            "start": form.initial["start"],
            "notes": "",
        },
    )
    assert booked.status_code == 302
    assert Appointment.objects.get().start == gaps[0].start  # the slot booked is the free time shown


def test_a_locations_sheet_prefills_one_of_its_rooms_free_when_the_gap_starts(west, desk):
    second = RoomFactory(name="Venice 2", location=west.west, appointment_types=[west.tpi])
    colleague = ProviderFactory()
    WorkingHours.objects.create(provider=colleague, location=west.west, weekday=0, start_time="08:00", end_time="22:00")
    appointment_book(
        patient=west.patient2,
        provider=colleague,
        room=west.west_room,
        appointment_type=west.tpi,
        start=la(2026, 11, 30, 8),
        by=None,
    )

    sheet = desk.get(SHEET, {"date": "2026-11-30", "location": west.west.pk}).content.decode()
    column = sheet.split(f'data-column="{west.doctor.pk}"')[1].split("</section>")[0]

    # The location's own sheet names no place (every time on it is Los Angeles time); Venice 1 is taken at 08:00.
    assert re.findall(r'class="gap"[^>]*>(Free [^<]*)', column) == ["Free 08:00&ndash;22:00 (840 min) "]
    assert re.findall(r'class="book-gap" href="([^"]+)"', column) == [
        f"/admin/scheduling/appointment/book/?provider={west.doctor.pk}&amp;room={second.pk}&amp;start=2026-11-30T08:00"
    ]


def test_booking_suggestions_are_offered_on_the_rooms_clock(west, desk):
    _book(west, la(2026, 11, 30, 20))
    data = {
        "patient": west.patient2.pk,
        "provider": west.doctor.pk,
        "room": west.west_room.pk,
        "appointment_type": west.tpi.pk,
        "start": "2026-11-30T20:15",
        "notes": "",
    }

    response = desk.post("/admin/scheduling/appointment/book/", data)
    body = response.content.decode()

    assert response.status_code == 200
    values = re.findall(r'name="suggestion" value="([^"]+)"', body)
    assert values[0] == f"2026-11-30T20:45|{west.doctor.pk}|{west.west_room.pk}"
    assert "Mon 30 Nov 20:45" in body


def test_the_api_reads_wall_times_on_the_rooms_clock_and_names_the_zone(west):
    api = APIClient()
    west.frontdesk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_appointment", "add_appointment", "change_appointment"])
    )
    api.force_authenticate(west.frontdesk)
    body = {
        "patient": west.patient.pk,
        "provider": west.doctor.pk,
        "room": west.west_room.pk,
        "appointment_type": west.tpi.pk,
        "start": "2026-11-30T21:00",
    }

    created = api.post("/api/appointments/", body, format="json")
    with_offset = api.post(
        "/api/appointments/", {**body, "patient": west.patient2.pk, "start": "2026-11-30T16:00:00Z"}, format="json"
    )
    listed = api.get(
        "/api/appointments/", {"location": west.west.pk, "date_from": "2026-11-30", "date_to": "2026-11-30"}
    )
    slots = api.get(
        "/api/free-slots/",
        {"appointment_type": west.tpi.pk, "location": west.west.pk, "date_from": "2026-11-30", "date_to": "2026-11-30"},
    )

    assert created.status_code == 201, created.json()
    assert created.json()["start"] == "2026-12-01T00:00:00-05:00"  # machines read ISO 8601 with an offset
    assert Appointment.objects.get(pk=created.json()["id"]).start == la(2026, 11, 30, 21)
    assert (created.json()["summary"], created.json()["time_zone"]) == (
        "TPI procedure 2026-11-30 21:00 PST",
        "America/Los_Angeles",
    )
    assert Appointment.objects.get(pk=with_offset.json()["id"]).start == la(2026, 11, 30, 8)
    assert [a["id"] for a in listed.json()["results"]] == [with_offset.json()["id"], created.json()["id"]]
    assert slots.status_code == 200
    assert {s["time_zone"] for s in slots.json()} == {"America/Los_Angeles"}


def test_the_suite_instant_differs_in_utc_and_local_dates():
    # A guard for the module's premise: 23:30 in New York is already the next day in UTC.
    with time_machine.travel(at(2026, 11, 30, 23, 30), tick=False):
        now = dt.datetime.now(dt.UTC)
        assert (now.date(), local_date(now), local_date(now, zone=LA)) == (
            dt.date(2026, 12, 1),
            dt.date(2026, 11, 30),
            dt.date(2026, 11, 30),
        )
