"""clinic.patients: registering and updating patients."""

import pytest
from django.core.exceptions import ValidationError

from clinic.models import Patient
from clinic.patients import patient_create, patient_update
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_update_changes_fields_and_keeps_the_mrn():
    patient = PatientFactory(mobile_phone="+12025550100")
    mrn = patient.mrn

    updated = patient_update(patient=patient, mobile_phone="+12025550177", on_anticoagulants=True)

    patient.refresh_from_db()
    assert (str(patient.mobile_phone), patient.on_anticoagulants, patient.mrn) == ("+12025550177", True, mrn)
    assert updated.pk == patient.pk


def test_update_refuses_the_mrn():
    patient = PatientFactory()

    with pytest.raises(ValidationError) as raised:
        patient_update(patient=patient, mrn="12345678")

    assert raised.value.message_dict == {"mrn": ["This field cannot be changed."]}


def test_update_validates_phone_and_time_zone_and_changes_nothing():
    patient = PatientFactory(mobile_phone="+12025550100")

    with pytest.raises(ValidationError) as raised:
        patient_update(patient=patient, mobile_phone="555", time_zone="Mars/Olympus")

    assert set(raised.value.message_dict) == {"mobile_phone", "time_zone"}
    patient.refresh_from_db()
    assert str(patient.mobile_phone) == "+12025550100"


def test_create_generates_a_unique_mrn():
    patient = patient_create(legal_first_name="Ann", legal_last_name="Lee", date_of_birth="1970-01-02")

    assert len(patient.mrn) == 8
    assert Patient.objects.get(mrn=patient.mrn) == patient


def test_consent_without_a_time_is_stamped_now():
    import datetime as dt

    import time_machine

    moment = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        patient = patient_create(
            legal_first_name="Ann", legal_last_name="Lee", date_of_birth="1970-01-02", sms_consent=True
        )
        updated = patient_update(patient=patient, email_consent=True, email="ann@example.com")

    assert (updated.sms_consent_at, updated.email_consent_at) == (moment, moment)
