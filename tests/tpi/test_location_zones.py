"""Treatment plans and the procedure's visit picker at a location in another zone than the clinic's.

The clinic reads New York time; Venice Beach reads Los Angeles time (three hours behind). A plan's
preferred time is a wall time of the location the injection is booked at, across DST too: the clocks
of both zones spring forward on Sunday 2026-03-08, between the plan's first and second injections.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from scheduling.booking import appointment_book
from scheduling.models import Appointment, WorkingHours
from tests.factories import ClosureFactory, LocationFactory, PatientFactory, RoomFactory
from tests.tpi.plan_setup import at, make_plan
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plans import plan_book_next, plans_book_due

LA = ZoneInfo("America/Los_Angeles")
PLANS = "/admin/tpi/treatmentplan/"
OCCURRENCES = "/admin/tpi/planoccurrence/"


def la(year, month, day, hour=0, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LA)


def utc(year, month, day, hour=0, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def venice(plan_clinic):
    """A Los Angeles location with one TPI room; the doctor's hours (08:00-17:00 anywhere) hold there on its clock."""
    location = LocationFactory(name="Venice Beach", time_zone="America/Los_Angeles")
    plan_clinic.venice = location
    plan_clinic.venice_room = RoomFactory(name="Venice 1", location=location, appointment_types=[plan_clinic.tpi])
    return plan_clinic


def _starts(plan: TreatmentPlan) -> list[dt.datetime]:
    return [o.appointment.start for o in plan.occurrences.select_related("appointment").order_by("sequence")]


def test_a_plan_books_its_preferred_time_on_the_clock_of_its_rooms_location_across_dst(venice):
    plan = make_plan(venice, room=venice.venice_room)  # weekly from Tue 3 March at 10:00, three injections

    totals = plans_book_due()

    assert totals == {"plans": 1, "booked": 3, "needs_review": 0}
    assert _starts(plan) == [la(2026, 3, 3, 10), la(2026, 3, 10, 10), la(2026, 3, 17, 10)]
    # 10:00 Pacific is 18:00 UTC before the change and 17:00 UTC after it (13:00 in the clinic either way).
    assert _starts(plan) == [utc(2026, 3, 3, 18), utc(2026, 3, 10, 17), utc(2026, 3, 17, 17)]
    assert [o.appointment.local_start.hour for o in plan.occurrences.all()] == [10, 10, 10]


def test_a_plan_without_a_room_books_the_location_the_provider_works_at_then_on_its_clock(venice):
    # Tuesdays at Venice Beach only: the main location (first by name) is tried and skipped, not the end of the search.
    venice.doctor.working_hours.all().delete()
    WorkingHours.objects.create(
        provider=venice.doctor, location=venice.venice, weekday=1, start_time="08:00", end_time="17:00"
    )
    plan = make_plan(venice, injections=1)

    plans_book_due()

    appointment = plan.occurrences.select_related("appointment__room").get().appointment
    assert (appointment.room, appointment.start) == (venice.venice_room, la(2026, 3, 3, 10))


def test_when_the_preferred_time_is_taken_the_nearest_free_time_is_measured_on_the_rooms_clock(venice):
    appointment_book(
        patient=PatientFactory(),
        provider=venice.doctor,
        room=venice.venice_room,
        appointment_type=venice.tpi,
        start=la(2026, 3, 3, 10),
        by=None,
    )
    plan = make_plan(venice, room=venice.venice_room, injections=1)

    plans_book_due()

    # The doctor is blocked 10:00-10:40 (visit and buffer): 09:15 and 10:45 are both 45 minutes away; the earlier wins.
    # On the clinic's clock the nearest time to 10:00 New York (07:00 here) would have been 08:00.
    assert _starts(plan) == [la(2026, 3, 3, 9, 15)]


def test_a_closure_of_hours_at_the_location_moves_the_visit_to_the_nearest_open_time_there(venice, settings):
    settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS = 0
    ClosureFactory(location=venice.venice, start=la(2026, 3, 3, 10), end=la(2026, 3, 3, 11), reason="Fire drill")
    plan = make_plan(venice, room=venice.venice_room, injections=1)

    plans_book_due()

    assert _starts(plan) == [la(2026, 3, 3, 9, 30)]  # ends as the closure starts; 11:00 is an hour away


def test_a_closed_day_at_the_location_sends_the_injection_to_review_in_words(venice, settings):
    settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS = 0
    ClosureFactory(location=venice.venice, first_day=dt.date(2026, 3, 3), last_day=dt.date(2026, 3, 3))
    plan = make_plan(venice, room=venice.venice_room, injections=1)

    totals = plans_book_due()

    occurrence = plan.occurrences.get()
    assert totals == {"plans": 1, "booked": 0, "needs_review": 1}
    assert (occurrence.status, occurrence.reason) == (
        PlanOccurrence.Status.NEEDS_REVIEW,
        "clinic closed: Staff training; no free slot within 0 days of 2026-03-03.",
    )


def test_when_no_time_is_free_the_review_reason_says_the_preferred_wall_time(venice, settings):
    settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS = 0
    venice.doctor.working_hours.all().delete()
    plan = make_plan(venice, room=venice.venice_room, injections=1)

    plans_book_due()

    assert plan.occurrences.get().reason == "No free slot at 10:00 on 2026-03-03 nor within 0 days of it."


def test_the_plan_admin_shows_each_occurrence_on_its_locations_clock(admin_client, venice):
    form = {
        "patient": venice.patient.pk,
        "provider": venice.doctor.pk,
        "room": venice.venice_room.pk,
        "appointment_type": venice.tpi.pk,
        "interval_weeks": 1,
        "injections": 2,
        "end_date": "",
        "start_date": "2026-03-03",
        "preferred_time": "10:00",
        "occurrences-TOTAL_FORMS": 0,
        "occurrences-INITIAL_FORMS": 0,
        "_save": "Save",
    }
    assert admin_client.post(f"{PLANS}add/", form).status_code == 302
    plan = TreatmentPlan.objects.get()

    booked = admin_client.post(PLANS, {"action": "book_now", "_selected_action": [plan.pk]}, follow=True)
    active = admin_client.get(f"{PLANS}{plan.pk}/change/").content.decode()
    plans_book_due()
    change = admin_client.get(f"{PLANS}{plan.pk}/change/").content.decode()
    occurrences = admin_client.get(OCCURRENCES).content.decode()
    plans = admin_client.get(PLANS).content.decode()

    assert f"{plan}: booked TPI procedure 2026-03-03 10:00 PST." in booked.content.decode()
    assert "TPI procedure 2026-03-03 10:00 PST" in change
    assert "TPI procedure 2026-03-10 10:00 PDT" in change  # after the change to summer time, still 10:00 there
    assert 'name="preferred_time" value="10:00"' in active  # still active: the time can change, as staff write it
    assert "TPI procedure 2026-03-03 10:00 PST" in occurrences
    assert "TPI procedure 2026-03-10 10:00 PDT" in occurrences
    assert '<td class="field-preferred">10:00 (local time)</td>' in plans


def test_a_finished_plan_shows_its_time_and_dates_as_staff_write_them(admin_client, venice):
    plan = make_plan(venice, room=venice.venice_room, injections=1)
    plans_book_due()  # the only injection is booked: the plan is completed

    page = admin_client.get(f"{PLANS}{plan.pk}/change/").content.decode()

    assert TreatmentPlan.objects.get().status == "completed"
    assert re.search(r'<div class="readonly">10:00 \(local time\)</div>', page)
    assert re.search(r'<div class="readonly">2026-03-02 10:00</div>', page)  # created at, clinic time
    assert re.findall(r"[ap]\.m\.", page) == []


@pytest.fixture
def api(venice):
    user = venice.doctor.user
    codenames = ["view_treatmentplan", "add_treatmentplan", "change_treatmentplan", "view_planoccurrence"]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="tpi", codename__in=codenames))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_books_the_plans_wall_time_at_its_location_and_names_the_zone(api, venice):
    created = api.post(
        "/api/treatment-plans/",
        {
            "patient": venice.patient.pk,
            "provider": venice.doctor.pk,
            "room": venice.venice_room.pk,
            "start_date": "2026-03-03",
            "preferred_time": "10:00",
            "interval_weeks": 1,
            "injections": 2,
        },
        format="json",
    )
    plan_id = created.json()["id"]

    first = api.post(f"/api/treatment-plans/{plan_id}/book-next/").json()["occurrences"][0]
    plans_book_due()
    listed = api.get("/api/plan-occurrences/", {"plan": plan_id}).json()["results"]

    assert created.status_code == 201, created.json()
    assert (first["appointment_start"], first["appointment_time_zone"]) == (
        "2026-03-03T13:00:00-05:00",  # 10:00 in Los Angeles, written with the clinic's offset
        "America/Los_Angeles",
    )
    assert [(o["appointment_start"], o["appointment_time_zone"]) for o in listed] == [
        ("2026-03-03T13:00:00-05:00", "America/Los_Angeles"),
        ("2026-03-10T13:00:00-04:00", "America/Los_Angeles"),
    ]
    assert Appointment.objects.get(pk=listed[1]["appointment"]).start == la(2026, 3, 10, 10)


def test_an_occurrence_not_yet_booked_has_no_zone_in_the_api(api, venice):
    plan = make_plan(venice, room=venice.venice_room, injections=1)

    body = api.get("/api/plan-occurrences/", {"plan": plan.pk}).json()["results"][0]

    assert (body["appointment"], body["appointment_start"], body["appointment_time_zone"]) == (None, None, None)


def test_the_procedures_visit_picker_reads_each_visit_on_its_locations_clock(client, venice):
    there = plan_book_next(plan=make_plan(venice, room=venice.venice_room, injections=1)).appointment
    here = appointment_book(
        patient=venice.patient,
        provider=venice.doctor,
        room=venice.room,
        appointment_type=venice.tpi,
        start=at(2026, 3, 4, 9),
        by=None,
    )
    client.force_login(venice.doctor.user)
    query = f"patient={venice.patient.pk}&provider={venice.doctor.pk}&appointment={there.pk}"

    page = client.get(f"/admin/tpi/procedure/add/?{query}").content.decode()

    picker = page.split('name="appointment"')[1].split("</select>")[0]
    options = re.findall(r'<option value="(\d*)"(?: selected)?>([^<]*)</option>', picker)
    assert options == [
        ("", "---------"),
        (str(there.pk), "2026-03-03 10:00 PST TPI procedure with Morgan Lee, MD (Booked)"),
        (str(here.pk), "2026-03-04 09:00 TPI procedure with Morgan Lee, MD (Booked)"),  # the clinic's zone: unnamed
    ]
