"""/api/patients/{id}/pain-scores/ and the procedure's outcome: LOINC-coded pain observations."""

import pytest
import time_machine
from rest_framework.test import APIClient

from clinic import roles
from clinic.audit.models import AccessLog
from tests.factories import staff_user
from tests.tpi.outcome_setup import NOW, outcome_clinic
from tpi.models import FollowUp, TriggerPointSite

pytestmark = pytest.mark.django_db

LOINC = {
    "system": "http://loinc.org",
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}


@pytest.fixture
def clinic():
    cast = outcome_clinic(count=8)
    with time_machine.travel(NOW, tick=False):
        yield cast


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_pain_scores_are_loinc_coded_observations_with_time_and_method(clinic):
    patient = clinic["patients"][1]  # procedures 1 and 7, both Dr Patel's
    doctor = clinic["doctors"][1]

    response = api(doctor.user).get(f"/api/patients/{patient.pk}/pain-scores/")

    assert response.status_code == 200
    body = response.json()
    assert [p["id"] for p in body["procedures"]] == [clinic["procedures"][1].pk, clinic["procedures"][7].pk]
    first = body["procedures"][0]
    assert first["sites"] == ["Levator scapulae (left)", "Rhomboids (right)"]
    assert first["steroid"] is False
    check_in = FollowUp.objects.get(procedure=clinic["procedures"][1], kind="check_in")
    assert first["observations"][0] == {
        "code": LOINC,
        "value": clinic["procedures"][1].pain_before,
        "effective": "2026-01-10T09:00:00-05:00",
        "method": "in_clinic",
        "moment": "before",
    }
    assert first["observations"][2]["value"] == check_in.answer_pain_score
    assert first["observations"][2]["method"] == "sms"
    assert first["observations"][2]["moment"] == "check_in"
    assert set(first["outcome"]) == {
        "responder_check_in", "substantial_check_in", "responder_reassessment", "substantial_reassessment",
        "relief_days", "relief_censored",
    }  # fmt: skip
    names = {site.pk: site.name for site in TriggerPointSite.objects.all()}
    assert {(names[s["site"]], s["laterality"], s["procedures"]) for s in body["sites"]} == {
        ("Levator scapulae", "left", 2),
        ("Rhomboids", "right", 2),
    }
    assert AccessLog.objects.filter(patient=patient, action="view").count() == 1


def test_a_provider_gets_only_the_procedures_they_may_read(clinic):
    patient = clinic["patients"][1]  # Dr Patel's patient

    body = api(clinic["doctors"][0].user).get(f"/api/patients/{patient.pk}/pain-scores/").json()

    assert body["procedures"] == []
    assert body["sites"] == []


def test_the_front_desk_and_massage_therapists_are_refused(clinic):
    patient = clinic["patients"][0]
    for role in (roles.FRONT_DESK, roles.MASSAGE_THERAPIST):
        assert api(staff_user(role)).get(f"/api/patients/{patient.pk}/pain-scores/").status_code == 403


def test_an_unknown_patient_is_a_json_404(clinic):
    response = api(staff_user(roles.CLINIC_ADMIN)).get("/api/patients/999999/pain-scores/")

    assert response.status_code == 404


def test_the_procedure_api_carries_the_outcome_and_coded_points(clinic, django_assert_max_num_queries):
    client = api(staff_user(roles.CLINIC_ADMIN))
    procedure = clinic["procedures"][2]

    detail = client.get(f"/api/procedures/{procedure.pk}/").json()

    assert detail["pain_timeline"][0]["code"] == LOINC
    assert detail["pain_timeline"][0]["method"] == "in_clinic"
    assert detail["outcome"]["relief_days"] is not None
    with django_assert_max_num_queries(12):
        listed = client.get("/api/procedures/?page_size=8").json()
    assert len(listed["results"]) == 8
    assert all("outcome" in row for row in listed["results"])
