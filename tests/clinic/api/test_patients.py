"""/api/patients/ (no delete) and /api/providers/ (read only)."""

import pytest
from rest_framework.test import APIClient

from clinic import roles
from clinic.models import Patient
from tests.factories import PatientFactory, ProviderFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(staff_user(roles.FRONT_DESK))  # registers and updates patients
    return client


def new_patient(**overrides):
    return {
        "legal_first_name": "Jordan",
        "legal_last_name": "Rivera",
        "date_of_birth": "1978-04-12",
        "sex": "female",
        "mobile_phone": "+12025550143",
        "email": "jordan@example.com",
        "preferred_channel": "sms",
        **overrides,
    }


def test_register_a_patient_gets_a_generated_mrn(api):
    response = api.post("/api/patients/", new_patient(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["mrn"]) == 8
    assert body["mobile_phone"] == "+12025550143"
    assert body["time_zone"] == "America/New_York"
    assert Patient.objects.get().mrn == body["mrn"]


def test_a_typed_mrn_is_ignored(api):
    response = api.post("/api/patients/", new_patient(mrn="00000000"), format="json")

    assert response.status_code == 201
    assert response.json()["mrn"] != "00000000"


def test_invalid_phone_is_a_400_naming_the_field(api):
    response = api.post("/api/patients/", new_patient(mobile_phone="12345"), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"mobile_phone": ["Enter a valid phone number."]},
    }
    assert Patient.objects.count() == 0


def test_invalid_time_zone_is_a_400_naming_the_field(api):
    response = api.post("/api/patients/", new_patient(time_zone="Mars/Olympus"), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"time_zone": ["'Mars/Olympus' is not an IANA time zone."]}


def test_update_a_patient(api):
    patient = PatientFactory()

    response = api.patch(f"/api/patients/{patient.pk}/", {"local_anaesthetic_allergy": True, "status": "inactive"})

    assert response.status_code == 200
    patient.refresh_from_db()
    assert (patient.local_anaesthetic_allergy, patient.status) == (True, "inactive")


def test_update_with_invalid_phone_is_400_and_changes_nothing(api):
    patient = PatientFactory(mobile_phone="+12025550100")

    response = api.patch(f"/api/patients/{patient.pk}/", {"mobile_phone": "+1202"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["mobile_phone"]
    patient.refresh_from_db()
    assert str(patient.mobile_phone) == "+12025550100"


def test_patients_are_never_deleted(api):
    patient = PatientFactory()

    assert api.delete(f"/api/patients/{patient.pk}/").status_code == 405
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_search_and_filter(api):
    rivera = PatientFactory(legal_last_name="Rivera", mobile_phone="+12025550143")
    PatientFactory(legal_last_name="Okafor", status="inactive")

    assert [p["id"] for p in api.get("/api/patients/?search=rivera").json()["results"]] == [rivera.pk]
    assert [p["id"] for p in api.get("/api/patients/?search=5550143").json()["results"]] == [rivera.pk]
    assert [p["id"] for p in api.get(f"/api/patients/?mrn={rivera.mrn}").json()["results"]] == [rivera.pk]
    assert [p["id"] for p in api.get("/api/patients/?status=active").json()["results"]] == [rivera.pk]


@pytest.mark.parametrize("rows", [3, 30])
def test_patient_list_runs_a_constant_number_of_queries(api, rows, django_assert_max_num_queries):
    PatientFactory.create_batch(rows)

    with django_assert_max_num_queries(4):
        response = api.get("/api/patients/")

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_providers_are_read_only_with_constant_queries(api, rows, django_assert_max_num_queries):
    ProviderFactory.create_batch(rows - 1)

    with django_assert_max_num_queries(4):
        response = api.get("/api/providers/?role=physician")

    assert response.status_code == 200
    assert response.json()["count"] == rows - 1
    assert api.post("/api/providers/", {}).status_code == 405


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_granting_consent_records_when_and_by_whom_without_a_time_given(channel):
    import datetime as dt

    import time_machine

    desk = staff_user(roles.FRONT_DESK)
    api = APIClient()
    api.force_authenticate(desk)
    patient = PatientFactory(
        sms_consent=False, sms_consent_at=None, sms_consent_method="",
        email_consent=False, email_consent_at=None, email_consent_method="",
    )  # fmt: skip
    moment = dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC)  # 21:30 the day before in the clinic

    with time_machine.travel(moment, tick=False):
        response = api.patch(f"/api/patients/{patient.pk}/", {f"{channel}_consent": True}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()[f"{channel}_consent_at"] == "2026-11-29T21:30:00-05:00"
    event = patient.consent_events.get()
    assert (event.channel, event.granted, event.source, event.at, event.by) == (channel, True, "staff", moment, desk)
