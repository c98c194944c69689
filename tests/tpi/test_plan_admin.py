"""Admin: plans with their occurrences, the needs-review queue, "book now", query counts."""

import datetime as dt

import pytest

from scheduling.models import Appointment
from tests.factories import PatientFactory, working_week
from tests.tpi.plan_setup import at, make_plan
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plans import plans_book_due

PLANS = "/admin/tpi/treatmentplan/"
OCCURRENCES = "/admin/tpi/planoccurrence/"


def _form(plan_clinic, **overrides):
    data = {
        "patient": plan_clinic.patient.pk,
        "provider": plan_clinic.doctor.pk,
        "room": "",
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
    return data | overrides


def test_add_a_plan_in_the_admin(admin_client, plan_clinic):
    response = admin_client.post(f"{PLANS}add/", _form(plan_clinic))

    assert response.status_code == 302, response.context["adminform"].form.errors
    plan = TreatmentPlan.objects.get()
    assert plan.created_by.username == "admin"
    assert list(plan.occurrences.values_list("target_date", flat=True)) == [dt.date(2026, 3, 3), dt.date(2026, 3, 31)]


def test_add_form_shows_the_service_errors_on_their_fields(admin_client, plan_clinic):
    response = admin_client.post(f"{PLANS}add/", _form(plan_clinic, injections="", start_date="2026-02-01"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["injections"] == ["Give the number of injections or an end date."]
    assert errors["start_date"] == ["The first injection cannot be in the past."]
    assert TreatmentPlan.objects.count() == 0


def test_add_form_defaults_to_the_tpi_visit_and_the_signed_in_provider(client, plan_clinic):
    plan_clinic.doctor.user.is_superuser = True
    plan_clinic.doctor.user.save()
    client.force_login(plan_clinic.doctor.user)

    response = client.get(f"{PLANS}add/")

    initial = response.context["adminform"].form.initial
    assert (initial["appointment_type"], initial["provider"], initial["interval_weeks"]) == (
        plan_clinic.tpi.pk,
        plan_clinic.doctor.pk,
        4,
    )


def test_change_page_shows_the_occurrences(admin_client, plan_clinic):
    plan = make_plan(plan_clinic)
    plans_book_due()

    response = admin_client.get(f"{PLANS}{plan.pk}/change/")

    assert response.status_code == 200
    assert response.content.decode().count("Booked") >= 3


def test_needs_review_filter_and_book_now(admin_client, plan_clinic):
    plan_clinic.doctor.working_hours.all().delete()
    plan = make_plan(plan_clinic, injections=1)
    fine = make_plan(plan_clinic, patient=PatientFactory(), provider=None, injections=1)
    plans_book_due()

    booked = make_plan(plan_clinic, patient=PatientFactory(), injections=1)
    PlanOccurrence.objects.filter(plan=booked).update(status="cancelled")

    response = admin_client.get(OCCURRENCES, {"needs_review": "yes"})
    assert sorted(o.plan_id for o in response.context["cl"].result_list) == [plan.pk, fine.pk]  # nobody works yet
    response = admin_client.get(PLANS, {"needs_review": "yes"})
    assert sorted(p.pk for p in response.context["cl"].result_list) == [plan.pk, fine.pk]
    response = admin_client.get(PLANS, {"needs_review": "no"})
    assert [p.pk for p in response.context["cl"].result_list] == [booked.pk]

    working_week(plan_clinic.doctor)
    occurrence = plan.occurrences.get()
    response = admin_client.post(OCCURRENCES, {"action": "book_now", "_selected_action": [occurrence.pk]}, follow=True)

    occurrence.refresh_from_db()
    assert occurrence.status == "booked"
    assert occurrence.appointment.start == at(2026, 3, 3, 10)
    assert f"booked {occurrence.appointment}" in response.content.decode()

    response = admin_client.post(PLANS, {"action": "book_now", "_selected_action": [fine.pk]}, follow=True)
    fine.refresh_from_db()
    assert fine.occurrences.get().status == "booked"
    assert fine.status == "completed"


def test_skip_from_the_review_queue(admin_client, plan_clinic):
    plan_clinic.doctor.working_hours.all().delete()
    plan = make_plan(plan_clinic, injections=1)
    plans_book_due()
    occurrence = plan.occurrences.get()

    admin_client.post(OCCURRENCES, {"action": "skip", "_selected_action": [occurrence.pk]})

    occurrence.refresh_from_db()
    assert occurrence.status == "cancelled"
    assert occurrence.reason == "skipped by admin: handled by the front desk"


def test_cancel_plans_action(admin_client, plan_clinic):
    plan = make_plan(plan_clinic)

    admin_client.post(PLANS, {"action": "cancel_plans", "_selected_action": [plan.pk]})

    plan.refresh_from_db()
    assert (plan.status, plan.cancel_reason) == ("cancelled", "cancelled in the admin by admin")


def test_plans_are_never_deleted(admin_client, plan_clinic):
    plan = make_plan(plan_clinic)

    assert admin_client.post(f"{PLANS}{plan.pk}/delete/", {"post": "yes"}).status_code == 403
    assert TreatmentPlan.objects.count() == 1


@pytest.mark.parametrize("rows", [3, 30])
def test_changelists_run_a_constant_number_of_queries(admin_client, plan_clinic, rows, django_assert_max_num_queries):
    for _ in range(rows):
        make_plan(plan_clinic, patient=PatientFactory(), provider=None, injections=2)
    plans_book_due()
    assert Appointment.objects.count() == rows * 2

    with django_assert_max_num_queries(12):
        response = admin_client.get(PLANS)
    assert response.context["cl"].result_count == rows
    with django_assert_max_num_queries(12):
        response = admin_client.get(OCCURRENCES)
    assert response.context["cl"].result_count == rows * 2
    assert PlanOccurrence.objects.filter(status="booked").count() == rows * 2
