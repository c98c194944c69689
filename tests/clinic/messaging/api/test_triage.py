"""/api/triage/: the inbox (open by default, most urgent first, with links), handle, answer by SMS."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from clinic import roles
from clinic.messaging.consent import consent_change
from clinic.messaging.models import TriageAnswer, TriageItem
from clinic.messaging.triage import triage_answer, triage_handle, triage_open
from clinic.models.providers import staff_name
from tests.factories import PatientFactory, ProviderFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db
NOON_NY = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
U = TriageItem.Urgency


@pytest.fixture(autouse=True)
def noon(settings):
    settings.CLINIC_NAME = "Riverside Pain Clinic"
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def user():
    return staff_user(roles.FRONT_DESK, username="frontdesk")


def who(user) -> dict:
    return {"id": user.pk, "name": staff_name(user)}


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_list_is_open_items_most_urgent_first_with_links(api, user, sms_outbox):
    patient = PatientFactory()
    linked, asked = UserFactory(username="visit"), UserFactory(username="question")
    routine = triage_open(patient=patient, reason="free_text")
    urgent = triage_open(
        patient=patient, reason="symptom", urgency=U.URGENT, detail="fever", concerns=linked, answers=asked
    )
    triage_handle(item=triage_open(patient=patient, reason="free_text"), by=user)
    triage_answer(item=urgent, text="Please call us now.", by=user)

    body = api.get("/api/triage/").json()

    assert [row["id"] for row in body["results"]] == [urgent.pk, routine.pk]
    first = body["results"][0]
    assert {k: first[k] for k in ("urgency", "urgency_label", "reason", "detail", "patient", "handled_by")} == {
        "urgency": 30, "urgency_label": "Urgent", "reason": "symptom", "detail": "fever", "patient": patient.pk,
        "handled_by": None,
    }  # fmt: skip
    assert first["concerns"] == {"kind": "auth.user", "id": linked.pk, "text": "visit"}
    assert first["answers"] == {"kind": "auth.user", "id": asked.pk, "text": "question"}
    # Staff users read as {id, name} (clinic.api.fields.UserField); the first text to a number has the footer.
    assert [(a["by"], a["text"]) for a in first["staff_answers"]] == [
        (who(user), "Riverside Pain Clinic: Please call us now. Reply STOP to opt out.")
    ]
    assert api.get("/api/triage/", {"state": "handled"}).json()["count"] == 1
    assert api.get("/api/triage/", {"state": "all"}).json()["count"] == 3


def test_the_list_runs_constant_queries(api, django_assert_max_num_queries):
    def items(n):
        for _ in range(n):
            item = triage_open(patient=PatientFactory(), reason="free_text", concerns=UserFactory())
            triage_answer(item=item, text="We will call you.", by=None)

    items(2)
    with django_assert_max_num_queries(20) as small:
        assert api.get("/api/triage/").status_code == 200
    items(15)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api.get("/api/triage/").json()["count"] == 17


def test_handle_records_who_and_when(api, user):
    item = triage_open(patient=PatientFactory(), reason="free_text")

    response = api.post(f"/api/triage/{item.pk}/handle/")

    assert response.status_code == 200
    assert (response.json()["handled_by"], response.json()["handled_at"]) == (who(user), "2026-03-02T12:00:00-05:00")


def test_answer_with_consent_is_queued_and_without_consent_is_a_400_naming_the_reason(api, user, sms_outbox):
    patient = PatientFactory()
    item = triage_open(patient=patient, reason="free_text")

    sent = api.post(f"/api/triage/{item.pk}/answer/", {"text": "Yes, come in at 3."}, format="json")

    assert sent.status_code == 201
    assert (sent.json()["by"], sent.json()["text"]) == (
        who(user),
        "Riverside Pain Clinic: Yes, come in at 3. Reply STOP to opt out.",
    )
    consent_change(patient=patient, channel="sms", granted=False, source="staff")
    refused = api.post(f"/api/triage/{item.pk}/answer/", {"text": "Are you ok?"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "text": ["The patient opted out of text messages (replied STOP); call them instead."]
    }
    empty = api.post(f"/api/triage/{item.pk}/answer/", {}, format="json")
    assert (empty.status_code, list(empty.json()["errors"])) == (400, ["text"])
    assert TriageAnswer.objects.count() == 1


def test_a_massage_therapist_is_refused():
    item = triage_open(patient=PatientFactory(), reason="free_text")
    client = APIClient()
    client.force_authenticate(ProviderFactory(role="massage_therapist", credentials="LMT").user)

    assert client.get("/api/triage/").status_code == 403
    assert client.post(f"/api/triage/{item.pk}/handle/").status_code == 403
