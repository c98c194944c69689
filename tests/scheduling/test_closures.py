"""Closures: nothing is booked into one, the slot finder skips it, series mark it, the desk gets the list to move."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from clinic import roles
from scheduling.booking import appointment_book
from scheduling.closures import closure_affected, closure_create, holidays_import
from scheduling.exceptions import ClinicClosed
from scheduling.models import Closure
from scheduling.series import series_preview
from scheduling.slots import slots_find
from tests.factories import ClosureFactory, LocationFactory, RoomFactory, UserFactory
from tests.scheduling.conftest import at

CHRISTMAS = dt.date(2026, 12, 25)


def _book(clinic, **overrides):
    fields = {
        "patient": clinic.patient,
        "provider": clinic.doctor,
        "room": clinic.room,
        "appointment_type": clinic.tpi,
        "start": at(2026, 12, 25, 10),
        "by": None,
    }
    return appointment_book(**(fields | overrides))


def test_nothing_is_booked_into_a_clinic_wide_closure(clinic):
    ClosureFactory(first_day=CHRISTMAS, last_day=CHRISTMAS, reason="Christmas Day")

    with pytest.raises(ClinicClosed) as refused:
        _book(clinic)

    assert refused.value.message == "The clinic is closed on Fri 25 Dec 2026 (Christmas Day); choose another day."
    assert refused.value.code == "clinic_closed"
    assert _book(clinic, start=at(2026, 12, 26, 10)).start == at(2026, 12, 26, 10)


def test_a_closure_of_hours_at_one_location_leaves_the_other_open(clinic):
    west = RoomFactory(name="West 1", location=LocationFactory(name="Westside"))
    ClosureFactory(
        location=clinic.room.location, start=at(2026, 12, 1, 12), end=at(2026, 12, 1, 14), reason="Fire drill"
    )

    with pytest.raises(ClinicClosed) as refused:
        _book(clinic, start=at(2026, 12, 1, 13))

    assert refused.value.message == (
        "Main location is closed from Tue 01 Dec 12:00 to Tue 01 Dec 14:00 (Fire drill); choose another time."
    )
    assert _book(clinic, room=west, start=at(2026, 12, 1, 13)).room == west
    day = dt.date(2026, 12, 1)
    main = slots_find(appointment_type=clinic.tpi, first_day=day, last_day=day, room=clinic.room)
    assert at(2026, 12, 1, 11, 30) in [s.start for s in main]
    assert not [s for s in main if at(2026, 12, 1, 11, 31) < s.start < at(2026, 12, 1, 14)]


def test_the_slot_finder_never_offers_a_closed_day(clinic):
    ClosureFactory(first_day=CHRISTMAS, last_day=CHRISTMAS, reason="Christmas Day")

    slots = slots_find(appointment_type=clinic.tpi, first_day=dt.date(2026, 12, 24), last_day=dt.date(2026, 12, 26))

    assert {s.start.astimezone(at(2026, 1, 1).tzinfo).date() for s in slots} == {
        dt.date(2026, 12, 24),
        dt.date(2026, 12, 26),
    }


def test_a_series_preview_marks_the_closed_occurrence_and_offers_alternatives(clinic):
    ClosureFactory(first_day=CHRISTMAS, last_day=CHRISTMAS, reason="Christmas Day")

    previews = series_preview(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        dtstart=at(2026, 12, 18, 10),
        rrule="FREQ=WEEKLY;COUNT=3",
    )

    assert [(p.start, p.status, p.label) for p in previews] == [
        (at(2026, 12, 18, 10), "free", "Free"),
        (at(2026, 12, 25, 10), "closed", "Clinic closed"),
        (at(2027, 1, 1, 10), "free", "Free"),
    ]
    assert previews[1].problem == "The clinic is closed on Fri 25 Dec 2026 (Christmas Day); choose another day."
    # Nearest in time to the closed occurrence, none on the closed day.
    assert [a.start for a in previews[1].alternatives] == [
        at(2026, 12, 24, 16, 30),
        at(2026, 12, 24, 16, 15),
        at(2026, 12, 24, 16),
    ]


def test_adding_a_closure_lists_the_appointments_to_move(clinic):
    west = RoomFactory(name="West 1", location=LocationFactory(name="Westside"))
    inside = _book(clinic, start=at(2026, 12, 2, 10))
    elsewhere = _book(clinic, room=west, start=at(2026, 12, 2, 11), patient=clinic.patient2)
    _book(clinic, start=at(2026, 12, 3, 10))

    closure, affected = closure_create(
        location=clinic.room.location, first_day=dt.date(2026, 12, 2), reason="Burst pipe"
    )

    assert (closure.first_day, closure.last_day, closure.source) == (
        dt.date(2026, 12, 2),
        dt.date(2026, 12, 2),
        "manual",
    )
    assert affected == [inside]
    everywhere, _ = closure_create(first_day=dt.date(2026, 12, 2), reason="Snow")
    assert closure_affected(closure=everywhere) == [inside, elsewhere]


def test_a_closure_needs_whole_days_or_a_start_and_an_end(clinic):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        closure_create(reason="Nothing given")
    assert refused.value.message_dict == {
        "first_day": ["Give either whole days (first and last day) or a start and an end time."]
    }
    with pytest.raises(ValidationError) as backwards:
        closure_create(first_day=dt.date(2026, 12, 3), last_day=dt.date(2026, 12, 2), reason="Backwards")
    assert backwards.value.message_dict == {"last_day": ["The last day cannot be before the first."]}
    assert not Closure.objects.exists()


def test_holidays_import_adds_the_countrys_public_holidays_once(clinic, settings):
    settings.SCHEDULING_HOLIDAYS_COUNTRY = "US"
    settings.SCHEDULING_HOLIDAYS_SUBDIVISION = ""

    created = holidays_import(years=[2026])
    again = holidays_import(years=[2026])

    assert again == []
    assert len(created) == Closure.objects.count() == 12
    christmas = Closure.objects.get(first_day=CHRISTMAS)
    assert (christmas.reason, christmas.source, christmas.location, christmas.last_day) == (
        "Christmas Day",
        "holiday",
        None,
        CHRISTMAS,
    )


def test_the_holidays_command_imports_this_year_and_next(clinic, settings):
    settings.SCHEDULING_HOLIDAYS_COUNTRY = "US"
    out = io.StringIO()

    call_command("holidays_import", stdout=out)

    assert Closure.objects.filter(first_day__year=2026).count() == 12
    assert Closure.objects.filter(first_day=dt.date(2027, 12, 24), reason="Christmas Day (observed)").exists()
    assert "2026-12-25  Christmas Day" in out.getvalue()
    assert out.getvalue().strip().endswith("holiday closure(s) added for 2026, 2027.")


def _clinic_admin_client(client):
    manager = UserFactory(username="manager")
    manager.groups.add(Group.objects.get(name=roles.CLINIC_ADMIN))
    client.force_login(manager)
    return client


def test_the_admin_shows_the_appointments_a_new_closure_covers_with_their_move_pages(clinic, client):
    appointment = _book(clinic, start=at(2026, 12, 2, 10))
    admin = _clinic_admin_client(client)

    response = admin.post(
        "/admin/scheduling/closure/add/",
        {"location": "", "first_day": "2026-12-02", "last_day": "2026-12-02", "reason": "Burst pipe"},
    )

    closure = Closure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/scheduling/closure/{closure.pk}/affected/"
    page = admin.get(response["Location"]).content.decode()
    assert f'href="/admin/scheduling/appointment/{appointment.pk}/move/"' in page
    assert "Wed 2 Dec 2026 10:00" in page
    assert clinic.patient.display_name in page


def test_an_imported_holiday_is_edited_in_the_admin_and_a_rerun_keeps_the_edit(clinic, client, settings):
    settings.SCHEDULING_HOLIDAYS_COUNTRY = "US"
    settings.SCHEDULING_HOLIDAYS_SUBDIVISION = ""
    holidays_import(years=[2026])
    christmas = Closure.objects.get(first_day=CHRISTMAS)
    admin = _clinic_admin_client(client)

    response = admin.post(
        f"/admin/scheduling/closure/{christmas.pk}/change/",
        {"location": "", "first_day": "2026-12-25", "last_day": "2026-12-26", "reason": "Christmas break"},
    )
    rerun = holidays_import(years=[2026])
    boxing_day = dt.date(2026, 12, 26)

    assert response.status_code == 302
    christmas.refresh_from_db()
    assert (christmas.last_day, christmas.reason, christmas.source) == (boxing_day, "Christmas break", "holiday")
    assert rerun == []
    assert slots_find(appointment_type=clinic.tpi, first_day=boxing_day, last_day=boxing_day) == []
    assert admin.post(f"/admin/scheduling/closure/{christmas.pk}/delete/", {"post": "yes"}).status_code == 302
    assert slots_find(appointment_type=clinic.tpi, first_day=boxing_day, last_day=boxing_day) != []


def test_the_admin_refuses_a_closure_without_days_or_times(clinic, client):
    admin = _clinic_admin_client(client)

    response = admin.post("/admin/scheduling/closure/add/", {"location": "", "reason": "Nothing"})

    assert response.status_code == 200
    assert "Give either whole days (first and last day) or a start and an end time." in response.content.decode()
    assert not Closure.objects.exists()


def test_the_api_adds_a_closure_and_refuses_bookings_into_it(clinic):
    appointment = _book(clinic, start=at(2026, 12, 2, 10))
    manager = UserFactory(username="manager")
    manager.groups.add(Group.objects.get(name=roles.CLINIC_ADMIN))
    api = APIClient()
    api.force_authenticate(manager)

    created = api.post("/api/closures/", {"first_day": "2026-12-02", "reason": "Burst pipe"}, format="json")
    booked = api.post(
        "/api/appointments/",
        {
            "patient": clinic.patient2.pk,
            "provider": clinic.doctor.pk,
            "room": clinic.room2.pk,
            "appointment_type": clinic.tpi.pk,
            "start": "2026-12-02T14:00:00-05:00",
        },
        format="json",
    )
    bad = api.post("/api/closures/", {"reason": "Nothing"}, format="json")

    assert created.status_code == 201
    assert (created.json()["last_day"], [a["id"] for a in created.json()["affected"]]) == (
        "2026-12-02",
        [appointment.pk],
    )
    assert booked.status_code == 409
    assert booked.json() == {
        "detail": "The clinic is closed on Wed 02 Dec 2026 (Burst pipe); choose another day.",
        "code": "clinic_closed",
    }
    assert bad.status_code == 400


def test_the_appointments_to_move_are_shown_in_their_locations_zone(clinic, client):
    chicago = RoomFactory(name="Chicago 1", location=LocationFactory(name="Chicago", time_zone="America/Chicago"))
    _book(clinic, room=chicago, start=at(2026, 12, 2, 10))  # 10:00 in New York is 09:00 in Chicago
    closure, _ = closure_create(first_day=dt.date(2026, 12, 2), reason="Snow")

    page = _clinic_admin_client(client).get(f"/admin/scheduling/closure/{closure.pk}/affected/").content.decode()

    assert "Wed 2 Dec 2026 09:00" in page
    assert "Chicago 1 (Chicago)" in page
