"""plan_create / plan_update / plan_cancel and the database constraints behind them."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import AppointmentTypeFactory, PatientFactory, ProviderFactory
from tests.tpi.plan_setup import make_plan
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plans import patient_has_active_plan, plan_cancel, plan_create, plan_dates, plan_update


def _errors(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


def test_a_plan_gets_one_occurrence_per_injection_on_its_interval(plan_clinic):
    plan = make_plan(plan_clinic, interval_weeks=4, injections=3)

    assert plan.status == TreatmentPlan.Status.ACTIVE
    assert plan.appointment_type == plan_clinic.tpi
    assert plan.created_by == plan_clinic.doctor.user
    assert list(plan.occurrences.values_list("sequence", "target_date", "status", "appointment")) == [
        (1, dt.date(2026, 3, 3), "planned", None),
        (2, dt.date(2026, 3, 31), "planned", None),
        (3, dt.date(2026, 4, 28), "planned", None),
    ]


def test_defaults_are_the_tpi_visit_type_and_the_configured_interval(plan_clinic, plan_settings):
    plan_settings.TPI_PLAN_DEFAULT_INTERVAL_WEEKS = 6
    plan = plan_create(
        patient=plan_clinic.patient, by=plan_clinic.doctor.user, start_date=dt.date(2026, 3, 3),
        preferred_time=dt.time(9, 30), end_date=dt.date(2026, 5, 1),
    )  # fmt: skip

    assert (plan.appointment_type, plan.interval_weeks, plan.provider, plan.injections) == (
        plan_clinic.tpi,
        6,
        None,
        None,
    )
    assert list(plan.occurrences.values_list("target_date", flat=True)) == [
        dt.date(2026, 3, 3),
        dt.date(2026, 4, 14),
    ]


def test_an_end_date_and_a_count_together_stop_at_whichever_comes_first(plan_clinic):
    plan = make_plan(plan_clinic, injections=10, end_date=dt.date(2026, 3, 17))

    assert plan.occurrences.count() == 3


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"injections": None}, "injections", "Give the number of injections or an end date."),
        ({"injections": 0}, "injections", "A plan has at least one injection."),
        ({"injections": 27}, "injections", "A plan has at most 26 injections."),
        ({"interval_weeks": 0}, "interval_weeks", "The interval must be at least one week."),
        ({"start_date": dt.date(2026, 3, 1)}, "start_date", "The first injection cannot be in the past."),
        (
            {"injections": None, "end_date": dt.date(2026, 3, 2)},
            "end_date",
            "The end date cannot be before the start date.",
        ),
        (
            {"injections": None, "end_date": dt.date(2027, 3, 3)},
            "end_date",
            "A plan has at most 26 injections; choose an earlier end date.",
        ),
        (
            {"preferred_time": None},
            "preferred_time",
            "Give the preferred time of day (local time at the visit's location).",
        ),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(plan_clinic, overrides, field, message):
    with pytest.raises(ValidationError) as exc_info:
        make_plan(plan_clinic, **overrides)

    assert _errors(exc_info) == {field: [message]}
    assert TreatmentPlan.objects.count() == 0
    assert PlanOccurrence.objects.count() == 0


def test_a_provider_who_may_not_take_the_visit_type_is_refused(plan_clinic):
    therapist = ProviderFactory(role="massage_therapist", credentials="LMT")

    with pytest.raises(ValidationError) as exc_info:
        make_plan(plan_clinic, provider=therapist)

    assert _errors(exc_info) == {"provider": [f"{therapist} (Massage therapist) may not take TPI procedure visits."]}


def test_without_the_tpi_visit_type_the_appointment_type_must_be_given(plan_clinic):
    plan_clinic.tpi.code = "tpi-old"
    plan_clinic.tpi.save()

    with pytest.raises(ValidationError) as exc_info:
        make_plan(plan_clinic)

    assert _errors(exc_info) == {"appointment_type": ["Choose the visit type (no appointment type with code 'tpi')."]}
    other = AppointmentTypeFactory(code="reassess", name="Reassessment")
    assert make_plan(plan_clinic, appointment_type=other).appointment_type == other


def test_an_inactive_patient_gets_no_plan(plan_clinic):
    patient = PatientFactory(status="inactive")

    with pytest.raises(ValidationError) as exc_info:
        make_plan(plan_clinic, patient=patient)

    assert _errors(exc_info) == {"patient": ["Only active patients can have a treatment plan."]}


def test_one_active_plan_per_patient(plan_clinic):
    first = make_plan(plan_clinic)

    with pytest.raises(ValidationError) as exc_info:
        make_plan(plan_clinic)
    assert _errors(exc_info) == {"patient": ["This patient already has an active treatment plan; cancel it first."]}

    plan_cancel(plan=first, by=plan_clinic.frontdesk, reason="changed to every two weeks")
    second = make_plan(plan_clinic, interval_weeks=2)
    assert second.status == TreatmentPlan.Status.ACTIVE


def test_the_database_refuses_a_plan_without_count_or_end_date(plan_clinic):
    with pytest.raises(IntegrityError, match="plan_has_count_or_end_date"), transaction.atomic():
        TreatmentPlan.objects.create(
            patient=plan_clinic.patient, appointment_type=plan_clinic.tpi, interval_weeks=4,
            start_date=dt.date(2026, 3, 3), preferred_time=dt.time(10), created_by=plan_clinic.frontdesk,
        )  # fmt: skip


def test_the_database_refuses_two_occurrences_with_one_sequence_and_two_active_plans(plan_clinic):
    plan = make_plan(plan_clinic)

    with (
        pytest.raises(
            IntegrityError,
            match=r"plan_occurrence_unique_sequence|tpi_planoccurrence.plan_id, tpi_planoccurrence.sequence",
        ),
        transaction.atomic(),
    ):
        PlanOccurrence.objects.create(plan=plan, sequence=1, target_date=dt.date(2026, 3, 4))
    with (
        pytest.raises(IntegrityError, match=r"plan_one_active_per_patient|tpi_treatmentplan.patient_id"),
        transaction.atomic(),
    ):
        TreatmentPlan.objects.create(
            patient=plan_clinic.patient, appointment_type=plan_clinic.tpi, interval_weeks=4, injections=2,
            start_date=dt.date(2026, 3, 3), preferred_time=dt.time(10), created_by=plan_clinic.frontdesk,
        )  # fmt: skip


def test_cancel_drops_open_occurrences_and_needs_a_reason(plan_clinic):
    plan = make_plan(plan_clinic)

    with pytest.raises(ValidationError) as exc_info:
        plan_cancel(plan=plan, by=plan_clinic.frontdesk, reason=" ")
    assert _errors(exc_info) == {"reason": ["Give a reason for the cancellation."]}

    plan = plan_cancel(plan=plan, by=plan_clinic.frontdesk, reason="patient moved away")

    assert (plan.status, plan.cancel_reason, plan.cancelled_by) == (
        "cancelled",
        "patient moved away",
        plan_clinic.frontdesk,
    )
    assert set(plan.occurrences.values_list("status", flat=True)) == {"cancelled"}
    assert patient_has_active_plan(plan_clinic.patient) is False
    with pytest.raises(ValidationError) as exc_info:
        plan_cancel(plan=plan, by=plan_clinic.frontdesk, reason="again")
    assert _errors(exc_info) == {"status": ["A cancelled plan cannot be cancelled."]}


def test_update_changes_time_and_provider_but_not_the_schedule(plan_clinic):
    plan = make_plan(plan_clinic)
    other = ProviderFactory()

    plan = plan_update(plan=plan, by=plan_clinic.doctor.user, preferred_time=dt.time(14, 30), provider=other)
    assert (plan.preferred_time, plan.provider) == (dt.time(14, 30), other)

    with pytest.raises(ValidationError) as exc_info:
        plan_update(plan=plan, by=plan_clinic.doctor.user, interval_weeks=2)
    assert _errors(exc_info) == {
        "interval_weeks": ["This cannot change once the plan exists; cancel the plan and make a new one."]
    }


def test_patient_has_active_plan(plan_clinic):
    assert patient_has_active_plan(plan_clinic.patient) is False
    plan = make_plan(plan_clinic, injections=1)
    assert patient_has_active_plan(plan_clinic.patient) is True
    assert patient_has_active_plan(plan_clinic.other_patient) is False

    plan.occurrences.update(status="cancelled")  # nothing left to book: BOOK would mean nothing
    assert patient_has_active_plan(plan_clinic.patient) is False


def test_plan_dates_never_go_past_the_end_date():
    days = plan_dates(start_date=dt.date(2026, 1, 6), interval_weeks=3, injections=None, end_date=dt.date(2026, 2, 17))

    assert days == [dt.date(2026, 1, 6), dt.date(2026, 1, 27), dt.date(2026, 2, 17)]


def test_plan_dates_stop_at_the_end_of_the_calendar():
    days = plan_dates(start_date=dt.date(9999, 11, 1), interval_weeks=4, injections=5, end_date=None)

    assert days == [dt.date(9999, 11, 1), dt.date(9999, 11, 29), dt.date(9999, 12, 27)]
