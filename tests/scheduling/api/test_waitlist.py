"""/api/waitlist/: join (the service's rules as 400s naming the field), list in join order with offers, withdraw."""

import pytest
from rest_framework.test import APIClient

from scheduling.models import WaitlistEntry

pytestmark = pytest.mark.django_db
URL = "/api/waitlist/"


@pytest.fixture
def api(clinic):
    client = APIClient()
    client.force_authenticate(clinic.frontdesk)
    return client


def body(clinic, **fields) -> dict:
    return {"patient": clinic.patient.pk, "appointment_type": clinic.tpi.pk, "location": clinic.room.location.pk,
            "until": "2026-12-31", **fields}  # fmt: skip


def test_join_list_and_withdraw(api, clinic):
    created = api.post(URL, body(clinic, weekdays=[4, 0], earliest_time="09:00"), format="json")

    assert created.status_code == 201
    entry = WaitlistEntry.objects.get()
    assert created.json() | {"created_at": None} == {
        "id": entry.pk, "patient": clinic.patient.pk, "appointment_type": clinic.tpi.pk, "provider": None,
        "location": clinic.room.location.pk, "weekdays": [0, 4], "earliest_time": "09:00:00", "latest_time": None,
        "until": "2026-12-31", "status": "waiting", "appointment": None, "notes": "", "created_at": None,
        "offers": [],
    }  # fmt: skip
    assert entry.created_by == clinic.frontdesk
    assert [row["id"] for row in api.get(URL).json()["results"]] == [entry.pk]
    withdrawn = api.post(f"{URL}{entry.pk}/withdraw/")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    again = api.post(f"{URL}{entry.pk}/withdraw/")
    assert (again.status_code, again.json()["errors"]) == (400, {"status": ["Only a waiting entry can be withdrawn."]})


def test_a_refused_join_is_a_400_naming_each_field(api, clinic):
    response = api.post(
        URL, body(clinic, until="2026-11-01", earliest_time="12:00", latest_time="09:00", weekdays=[7]), format="json"
    )

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["weekdays"]  # the serializer first
    response = api.post(URL, body(clinic, until="2026-11-01", earliest_time="12:00", latest_time="09:00"),
                        format="json")  # fmt: skip
    assert response.json()["errors"] == {
        "latest_time": ["The latest time must be after the earliest time."],
        "until": ["The last day has already passed."],
    }
    assert WaitlistEntry.objects.count() == 0


def test_the_list_runs_constant_queries(api, clinic, django_assert_max_num_queries):
    for _ in range(2):
        api.post(URL, body(clinic), format="json")
    with django_assert_max_num_queries(12) as small:
        first = api.get(URL)
    assert (first.status_code, first.json()["count"]) == (200, 2), first.json()
    few = len(small.captured_queries)
    for _ in range(15):
        api.post(URL, body(clinic), format="json")
    with django_assert_max_num_queries(few) as many:
        response = api.get(URL)
    assert (response.json()["count"], len(many.captured_queries)) == (17, few)
