"""tpi.sign_warnings: what the provider is shown before signing (never a block)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from tests.factories import InjectionFactory, PatientFactory, ProcedureFactory, site
from tpi.sign_warnings import procedure_sign_warnings
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db


def codes(procedure):
    return [w.code for w in procedure_sign_warnings(procedure=procedure)]


def signed_earlier(patient, performed_at, **injection):
    procedure = InjectionFactory(
        procedure__patient=patient, procedure__performed_at=performed_at, **injection
    ).procedure
    return procedure_sign(procedure=procedure, by=procedure.provider.user)


def test_no_warnings_for_a_plain_first_procedure(frozen):
    assert codes(InjectionFactory().procedure) == []


def test_allergy_and_anticoagulants_are_warned(frozen):
    patient = PatientFactory(local_anaesthetic_allergy=True, on_anticoagulants=True, anticoagulant_details="apixaban")
    procedure = InjectionFactory(procedure__patient=patient).procedure

    assert [w.message for w in procedure_sign_warnings(procedure=procedure)] == [
        "The patient has a local anaesthetic allergy on file.",
        "The patient takes anticoagulants (apixaban).",
    ]


def test_same_site_within_the_configured_days_is_warned(frozen):
    patient = PatientFactory()
    signed_earlier(patient, frozen - dt.timedelta(days=13))
    procedure = InjectionFactory(procedure__patient=patient).procedure

    warnings = procedure_sign_warnings(procedure=procedure)

    assert [(w.code, w.message) for w in warnings] == [
        (
            "same_site_recent",
            f"Upper trapezius was injected on {(frozen - dt.timedelta(days=13)):%Y-%m-%d}, "
            "fewer than 14 days before this procedure.",
        )
    ]


def test_same_site_longer_ago_other_site_or_other_patient_is_not_warned(frozen):
    patient = PatientFactory()
    signed_earlier(patient, frozen - dt.timedelta(days=15))
    signed_earlier(patient, frozen - dt.timedelta(days=2), site=site("Piriformis"))
    signed_earlier(PatientFactory(), frozen - dt.timedelta(days=2))
    unsigned = InjectionFactory(procedure__patient=patient, procedure__performed_at=frozen - dt.timedelta(days=1))

    procedure = InjectionFactory(procedure__patient=patient).procedure

    assert unsigned.procedure.status == "draft"
    assert codes(procedure) == []


@override_settings(TPI_SAME_SITE_MIN_DAYS=20)
def test_same_site_days_are_a_setting(frozen):
    patient = PatientFactory()
    signed_earlier(patient, frozen - dt.timedelta(days=15))

    assert codes(InjectionFactory(procedure__patient=patient).procedure) == ["same_site_recent"]


def steroid(dose):
    return {"steroid_agent": "methylprednisolone", "steroid_dose_mg": Decimal(dose)}


def test_cumulative_steroid_over_the_window_above_threshold_is_warned(frozen):
    patient = PatientFactory()
    signed_earlier(patient, frozen - dt.timedelta(days=80), site=site("Piriformis"), **steroid("40"))
    signed_earlier(patient, frozen - dt.timedelta(days=100), site=site("Piriformis"), **steroid("40"))
    procedure = InjectionFactory(procedure__patient=patient, **steroid("41")).procedure

    warnings = procedure_sign_warnings(procedure=procedure)

    assert [(w.code, w.message) for w in warnings] == [
        ("steroid_cumulative", "Cumulative steroid dose over 90 days would be 81 mg (threshold 80 mg).")
    ]


def test_cumulative_steroid_at_the_threshold_is_not_warned(frozen):
    patient = PatientFactory()
    signed_earlier(patient, frozen - dt.timedelta(days=80), site=site("Piriformis"), **steroid("40"))
    procedure = InjectionFactory(procedure__patient=patient, **steroid("40")).procedure

    assert codes(procedure) == []


@override_settings(TPI_STEROID_WINDOW_DAYS=120, TPI_STEROID_CUMULATIVE_MAX_MG=60)
def test_steroid_window_and_threshold_are_settings(frozen):
    patient = PatientFactory()
    signed_earlier(patient, frozen - dt.timedelta(days=100), site=site("Piriformis"), **steroid("40"))
    procedure = ProcedureFactory(patient=patient)
    InjectionFactory(procedure=procedure, **steroid("21"))

    assert codes(procedure) == ["steroid_cumulative"]
