import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from clinic import roles
from tests.factories import PatientFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.mark.urls("tests.urls")
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_oversized_json_body_is_refused_with_413_and_nothing_is_written():
    client = APIClient()
    client.force_authenticate(staff_user(roles.FRONT_DESK))
    body = {"legal_first_name": "A" * 20_000, "legal_last_name": "B", "date_of_birth": "1970-01-01"}
    response = client.post("/api/test-patients/", json.dumps(body), content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large (limit 10000 bytes).", "code": "request_too_large"}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_oversized_admin_form_is_refused(client):
    client.force_login(staff_user(roles.CLINIC_ADMIN))
    patient = PatientFactory()
    response = client.post(f"/admin/clinic/patient/{patient.pk}/change/", {"allergies": "x" * 20_000})
    assert response.status_code == 413


def test_default_limit_is_one_megabyte(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024


def test_malformed_content_length_is_a_400(client):
    response = client.generic("POST", "/api/schema/", b"{}", content_type="application/json", CONTENT_LENGTH="abc")
    assert response.status_code == 400
