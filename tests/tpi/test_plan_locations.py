"""Treatment plans never book a room that cannot host the visit, nor into a closure (moved or sent to review)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from scheduling.models import Appointment
from tests.factories import AppointmentTypeFactory, ClosureFactory, RoomFactory
from tests.tpi.plan_setup import at, make_plan
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plans import plans_book_due

CHRISTMAS = dt.date(2026, 12, 25)  # a Friday
BEFORE_CHRISTMAS = dt.datetime(2026, 12, 20, 14, tzinfo=dt.UTC)


@pytest.fixture
def christmas(plan_clinic):
    return ClosureFactory(first_day=CHRISTMAS, last_day=CHRISTMAS, reason="Christmas Day")


def test_an_occurrence_on_christmas_day_moves_within_the_tolerance(plan_clinic, christmas):
    plan = make_plan(plan_clinic, start_date=CHRISTMAS, injections=1)

    totals = plans_book_due(now=BEFORE_CHRISTMAS)

    occurrence = plan.occurrences.select_related("appointment").get()
    assert totals == {"plans": 1, "booked": 1, "needs_review": 0}
    # The nearest free time to 10:00 on the closed day: the end of the day before (the doctor works 08-17).
    assert (occurrence.status, occurrence.appointment.start) == ("booked", at(2026, 12, 24, 16, 30))


def test_an_occurrence_on_christmas_day_goes_to_review_when_the_tolerance_allows_no_other_day(
    plan_clinic, christmas, settings
):
    settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS = 0
    plan = make_plan(plan_clinic, start_date=CHRISTMAS, injections=1)

    totals = plans_book_due(now=BEFORE_CHRISTMAS)

    occurrence = plan.occurrences.get()
    assert totals == {"plans": 1, "booked": 0, "needs_review": 1}
    assert (occurrence.status, occurrence.reason) == (
        PlanOccurrence.Status.NEEDS_REVIEW,
        "clinic closed: Christmas Day; no free slot within 0 days of 2026-12-25.",
    )
    assert not Appointment.objects.exists()


def test_a_plan_without_a_room_books_only_a_room_that_can_host_the_visit(plan_clinic):
    massage = AppointmentTypeFactory(code="massage", name="Massage", rooms=[])
    massage_room = RoomFactory(name="A massage room", appointment_types=[massage])  # sorts before Room 1
    plan = make_plan(plan_clinic, injections=1)

    plans_book_due()

    appointment = plan.occurrences.select_related("appointment__room").get().appointment
    assert appointment.room == plan_clinic.room
    assert not Appointment.objects.filter(room=massage_room).exists()


def test_a_plan_in_a_room_that_cannot_host_its_visit_is_refused(plan_clinic):
    massage = AppointmentTypeFactory(code="massage", name="Massage", rooms=[])
    massage_room = RoomFactory(name="Massage room", appointment_types=[massage])

    with pytest.raises(ValidationError) as refused:
        make_plan(plan_clinic, room=massage_room)

    assert refused.value.message_dict == {
        "room": ["Massage room cannot host TPI procedure visits; choose a room equipped for them."]
    }


def test_the_admin_and_the_api_refuse_a_plan_in_a_room_that_cannot_host_its_visit(plan_clinic, admin_client):
    massage = AppointmentTypeFactory(code="massage", name="Massage", rooms=[])
    massage_room = RoomFactory(name="Massage room", appointment_types=[massage])
    api = APIClient()
    plan_clinic.doctor.user.is_superuser = True
    plan_clinic.doctor.user.save()
    api.force_authenticate(plan_clinic.doctor.user)
    form = {
        "patient": plan_clinic.patient.pk,
        "provider": plan_clinic.doctor.pk,
        "room": massage_room.pk,
        "appointment_type": plan_clinic.tpi.pk,
        "interval_weeks": 4,
        "injections": 2,
        "end_date": "",
        "start_date": "2026-03-03",
        "preferred_time": "10:00",
        "occurrences-TOTAL_FORMS": 0,
        "occurrences-INITIAL_FORMS": 0,
        "_save": "Save",
    }

    page = admin_client.post("/admin/tpi/treatmentplan/add/", form)
    answer = api.post(
        "/api/treatment-plans/",
        {
            "patient": plan_clinic.patient.pk,
            "room": massage_room.pk,
            "start_date": "2026-03-03",
            "preferred_time": "10:00",
            "injections": 1,
        },
        format="json",
    )

    refusal = "Massage room cannot host TPI procedure visits; choose a room equipped for them."
    assert page.status_code == 200
    assert page.context["adminform"].form.errors["room"] == [refusal]
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"room": [refusal]}
    assert not TreatmentPlan.objects.exists()


def test_book_next_over_the_api_moves_a_christmas_injection_within_the_tolerance(plan_clinic, christmas):
    plan = make_plan(plan_clinic, start_date=CHRISTMAS, injections=1)
    api = APIClient()
    plan_clinic.doctor.user.is_superuser = True
    plan_clinic.doctor.user.save()
    api.force_authenticate(plan_clinic.doctor.user)

    with time_machine.travel(BEFORE_CHRISTMAS, tick=False):
        body = api.post(f"/api/treatment-plans/{plan.pk}/book-next/").json()

    assert [(o["status"], o["appointment_start"]) for o in body["occurrences"]] == [
        ("booked", "2026-12-24T16:30:00-05:00")
    ]
