"""/api/treatment-plans/ and /api/plan-occurrences/: create, errors naming fields, cancel, book now, query counts."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from scheduling.models import Appointment
from tests.factories import PatientFactory, ProviderFactory
from tests.tpi.plan_setup import at, make_plan
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plans import plan_book_next, plans_book_due

URL = "/api/treatment-plans/"


@pytest.fixture
def api(plan_clinic):
    """The provider, holding the model permissions a role would give (in case model permissions apply)."""
    user = plan_clinic.doctor.user
    codenames = ["view_treatmentplan", "add_treatmentplan", "change_treatmentplan", "view_planoccurrence"]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="tpi", codename__in=codenames))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_a_plan(api, plan_clinic):
    response = api.post(
        URL,
        {
            "patient": plan_clinic.patient.pk,
            "provider": plan_clinic.doctor.pk,
            "start_date": "2026-03-03",
            "preferred_time": "10:30",
            "interval_weeks": 4,
            "injections": 2,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    plan = TreatmentPlan.objects.get()
    assert body["id"] == plan.pk
    creator = {"id": plan_clinic.doctor.user.pk, "name": str(plan_clinic.doctor)}
    assert (body["status"], body["created_by"], body["appointment_type"]) == ("active", creator, plan_clinic.tpi.pk)
    assert body["preferred_time"] == "10:30:00"
    assert [(o["sequence"], o["target_date"], o["status"]) for o in body["occurrences"]] == [
        (1, "2026-03-03", "planned"),
        (2, "2026-03-31", "planned"),
    ]


def test_validation_errors_name_the_fields_and_write_nothing(api, plan_clinic):
    response = api.post(
        URL,
        {"patient": plan_clinic.patient.pk, "start_date": "2026-03-01", "preferred_time": "10:00"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {
            "start_date": ["The first injection cannot be in the past."],
            "injections": ["Give the number of injections or an end date."],
        },
    }
    assert TreatmentPlan.objects.count() == 0


def test_malformed_input_is_a_400_naming_the_field(api, plan_clinic):
    response = api.post(
        URL,
        {"patient": 999999, "start_date": "soon", "preferred_time": "25:00", "interval_weeks": 0},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"patient", "start_date", "preferred_time", "interval_weeks"}


def test_a_provider_who_may_not_inject_is_refused(api, plan_clinic):
    therapist = ProviderFactory(role="massage_therapist", credentials="LMT")
    response = api.post(
        URL,
        {
            "patient": plan_clinic.patient.pk,
            "provider": therapist.pk,
            "start_date": "2026-03-03",
            "preferred_time": "10:00",
            "injections": 1,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "provider": [f"{therapist} (Massage therapist) may not take TPI procedure visits."]
    }


def test_change_the_preferred_time_but_not_the_schedule(api, plan_clinic):
    plan = make_plan(plan_clinic)

    response = api.patch(f"{URL}{plan.pk}/", {"preferred_time": "14:00"}, format="json")
    assert response.status_code == 200
    assert response.json()["preferred_time"] == "14:00:00"

    response = api.patch(f"{URL}{plan.pk}/", {"interval_weeks": 2}, format="json")
    assert response.status_code == 200  # unknown fields are ignored by the update serializer
    plan.refresh_from_db()
    assert plan.interval_weeks == 1


def test_put_and_delete_are_not_offered(api, plan_clinic):
    plan = make_plan(plan_clinic)

    assert api.delete(f"{URL}{plan.pk}/").status_code == 405
    assert api.put(f"{URL}{plan.pk}/", {}, format="json").status_code == 405
    assert TreatmentPlan.objects.count() == 1


def test_cancel_needs_a_reason(api, plan_clinic):
    plan = make_plan(plan_clinic)

    response = api.post(f"{URL}{plan.pk}/cancel/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"reason"}

    response = api.post(f"{URL}{plan.pk}/cancel/", {"reason": "patient improved"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert {o["status"] for o in response.json()["occurrences"]} == {"cancelled"}

    response = api.post(f"{URL}{plan.pk}/cancel/", {"reason": "again"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"status": ["A cancelled plan cannot be cancelled."]}


def test_book_next_now(api, plan_clinic):
    plan = make_plan(plan_clinic, start_date=dt.date(2026, 6, 2), injections=2)

    response = api.post(f"{URL}{plan.pk}/book-next/")

    assert response.status_code == 200
    first = response.json()["occurrences"][0]
    assert first["status"] == "booked"
    assert first["appointment"] == Appointment.objects.get().pk
    assert first["appointment_start"] == "2026-06-02T10:00:00-04:00"
    assert Appointment.objects.get().start == at(2026, 6, 2, 10)


def test_occurrences_filter_by_status(api, plan_clinic):
    plan_clinic.doctor.working_hours.all().delete()
    plan = make_plan(plan_clinic, injections=2)
    plans_book_due()

    response = api.get("/api/plan-occurrences/", {"status": "needs_review"})
    assert response.status_code == 200
    assert [o["id"] for o in response.json()["results"]] == [
        o.pk for o in plan.occurrences.order_by("sequence") if o.target_date <= dt.date(2026, 4, 13)
    ]
    assert PlanOccurrence.objects.filter(status="needs_review").count() == 2


def test_anonymous_is_refused(plan_clinic):
    assert APIClient().get(URL).status_code in (401, 403)


@pytest.mark.parametrize("rows", [3, 30])
def test_lists_run_a_constant_number_of_queries(api, plan_clinic, rows, django_assert_max_num_queries):
    for _ in range(rows):
        plan = make_plan(plan_clinic, patient=PatientFactory(), injections=3)
        plan_book_next(plan=plan)

    with django_assert_max_num_queries(6):
        response = api.get(URL, {"page_size": 50})
    assert response.status_code == 200
    assert response.json()["count"] == rows
    with django_assert_max_num_queries(5):
        response = api.get("/api/plan-occurrences/", {"page_size": 200})
    assert response.json()["count"] == rows * 3


def test_filters_by_unknown_ids_find_nothing(api, plan_clinic):
    make_plan(plan_clinic)

    assert api.get("/api/plan-occurrences/", {"plan": 999999}).json()["count"] == 0
    assert api.get(URL, {"patient": 999999}).json()["count"] == 0
    assert api.get(URL, {"patient": plan_clinic.patient.pk}).json()["count"] == 1


@pytest.mark.parametrize("value", ["1.5", "-1", "0", "1e400", str(2**63)])
def test_a_filter_id_that_cannot_name_a_row_is_a_400_naming_the_parameter(api, plan_clinic, value):
    response = api.get("/api/plan-occurrences/", {"plan": value})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["plan"]
