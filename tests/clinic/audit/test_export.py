import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from clinic import roles
from clinic.audit import export
from clinic.audit.models import AccessLog
from tests.factories import PatientFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_clinic_admin_exports_the_complete_record_and_the_export_is_audited():
    admin = staff_user(roles.CLINIC_ADMIN)
    patient = PatientFactory(
        legal_first_name="Ann",
        legal_last_name="Lee",
        mobile_phone="+12025550143",
        email="ann@patients.example",
        allergies="latex",
    )
    with time_machine.travel(START, tick=False):
        response = api(admin).get(f"/api/patients/{patient.pk}/export/", REMOTE_ADDR="10.2.3.4")
    assert response.status_code == 200
    body = response.json()
    assert body["format"] == "tpi-clinic.patient-record/1"
    assert body["generated_at"] == START.isoformat()
    assert body["patient"] == {"id": patient.pk, "mrn": patient.mrn}
    sections = body["sections"]
    assert {"demographics", "contact", "consents", "safety"} <= set(sections)
    assert sections["demographics"]["legal_last_name"] == "Lee"
    assert sections["demographics"]["date_of_birth"] == "1980-05-17"
    assert sections["contact"]["mobile_phone"] == "+12025550143"
    assert sections["contact"]["email"] == "ann@patients.example"
    assert sections["consents"]["sms_consent"] is True
    assert sections["consents"]["sms_consent_method"] == "written"
    assert sections["safety"]["allergies"] == "latex"
    log = AccessLog.objects.get()
    assert (log.user, log.patient, log.action, log.at, log.remote_addr) == (admin, patient, "export", START, "10.2.3.4")
    assert log.path == f"/api/patients/{patient.pk}/export/"


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.PROVIDER, roles.MASSAGE_THERAPIST, None])
def test_everyone_else_gets_403_and_nothing_is_logged(role):
    user = staff_user(role) if role else UserFactory()
    response = api(user).get(f"/api/patients/{PatientFactory().pk}/export/")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only a clinic admin may export a patient's record.",
        "code": "permission_denied",
    }
    assert not AccessLog.objects.exists()


def test_superuser_may_export_and_missing_patient_is_404():
    client = api(UserFactory(is_superuser=True))
    assert client.get(f"/api/patients/{PatientFactory().pk}/export/").status_code == 200
    assert client.get("/api/patients/987654321/export/").status_code == 404
    assert AccessLog.objects.count() == 1


def test_service_refuses_non_admins_itself():
    with pytest.raises(PermissionDenied):
        export.patient_record_export(user=staff_user(roles.FRONT_DESK), patient=PatientFactory())


def test_other_apps_contribute_sections_through_the_registry(monkeypatch):
    monkeypatch.setattr(export, "_sections", dict(export._sections))

    @export.export_section("example_app")
    def example_app(patient):
        return [{"patient": patient.pk, "performed_at": export.plain(START)}]

    patient = PatientFactory()
    record = export.patient_record_export(user=staff_user(roles.CLINIC_ADMIN), patient=patient)
    assert record["sections"]["example_app"] == [{"patient": patient.pk, "performed_at": START.isoformat()}]
    with pytest.raises(ValueError, match="already registered"):
        export.export_section("example_app")(lambda patient: [])


def test_model_fields_gives_json_ready_values():
    patient = PatientFactory(mobile_phone="+12025550143")
    fields = export.model_fields(patient, exclude=("allergies",))
    assert fields["mobile_phone"] == "+12025550143"
    assert fields["date_of_birth"] == "1980-05-17"
    assert "allergies" not in fields
    assert fields["id"] == patient.pk
