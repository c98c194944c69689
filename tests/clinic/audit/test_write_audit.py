import datetime as dt

import pytest
import time_machine
from auditlog.models import LogEntry
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic import roles
from clinic.models import Patient, Provider
from clinic.patients import patient_create
from tests.factories import PatientFactory, ProviderFactory, staff_user

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def admin_form(patient: Patient, **changes) -> dict:
    data = {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "preferred_name": "",
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "mobile_phone": str(patient.mobile_phone),
        "email": patient.email,
        "preferred_channel": patient.preferred_channel,
        "time_zone": patient.time_zone,
        "preferred_language": patient.preferred_language,
        "status": patient.status,
        "allergies": "",
        "anticoagulant_details": "",
    }
    return data | changes


def test_patient_and_provider_are_registered_and_a_service_create_is_recorded():
    with time_machine.travel(START, tick=False):
        patient = patient_create(legal_first_name="Ann", legal_last_name="Lee", date_of_birth=dt.date(1970, 1, 2))
    entry = LogEntry.objects.get_for_object(patient).get()
    assert (entry.action, entry.timestamp, entry.actor) == (LogEntry.Action.CREATE, START, None)
    assert entry.changes_dict["legal_last_name"] == ["None", "Lee"]
    provider = ProviderFactory()
    assert LogEntry.objects.get_for_object(provider).get().action == LogEntry.Action.CREATE


def test_admin_change_records_actor_time_and_changed_fields(client):
    user = staff_user(roles.FRONT_DESK)
    patient = PatientFactory(legal_last_name="Before")
    client.force_login(user)
    with time_machine.travel(START, tick=False):
        response = client.post(
            f"/admin/clinic/patient/{patient.pk}/change/",
            admin_form(patient, legal_last_name="After"),
            REMOTE_ADDR="10.0.0.7",
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get_for_object(patient).filter(action=LogEntry.Action.UPDATE).get()
    assert (entry.actor, entry.timestamp, entry.remote_addr) == (user, START, "10.0.0.7")
    assert entry.changes_dict["legal_last_name"] == ["Before", "After"]


@pytest.mark.urls("tests.urls")
def test_token_authenticated_api_write_records_the_token_user():
    user = staff_user(roles.FRONT_DESK)
    patient = PatientFactory(email="old@patients.example")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = client.patch(f"/api/test-patients/{patient.pk}/", {"email": "new@patients.example"})
    assert response.status_code == 200
    entry = LogEntry.objects.get_for_object(patient).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == user
    assert entry.changes_dict["email"] == ["old@patients.example", "new@patients.example"]


def test_other_apps_register_their_models_with_one_line():
    from auditlog.registry import auditlog

    from clinic.audit.registry import audit_writes

    assert auditlog.contains(Patient)
    assert auditlog.contains(Provider)
    audit_writes(Patient)  # registering again is harmless
    assert auditlog.contains(Patient)
