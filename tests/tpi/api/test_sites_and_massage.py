"""/api/sites/ and /api/massage-notes/."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tests.factories import InjectionFactory, MassageNoteFactory, ProviderFactory, site
from tpi.massage import massage_note_sign
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def therapist():
    return ProviderFactory(role="massage_therapist")


@pytest.fixture
def api(therapist):
    """The massage therapist who writes the notes (their own only)."""
    client = APIClient()
    client.force_authenticate(therapist.user)
    return client


def test_sites_are_listed_and_filtered_read_only(api):
    response = api.get("/api/sites/?body_region=hip_buttock&search=glut")

    assert response.status_code == 200
    assert [s["name"] for s in response.json()["results"]] == ["Gluteus maximus", "Gluteus medius", "Gluteus minimus"]
    assert api.post("/api/sites/", {"name": "New", "body_region": "abdomen"}).status_code == 405


def test_massage_note_create_and_update_while_draft(frozen, api, therapist):
    procedure = InjectionFactory(procedure__performed_at=frozen - dt.timedelta(hours=1)).procedure

    created = api.post(
        "/api/massage-notes/",
        {
            "procedure": procedure.pk,
            "therapist": therapist.pk,
            "performed_at": (frozen - dt.timedelta(minutes=30)).isoformat(),
            "sites": [site("Upper trapezius").pk],
            "duration_minutes": 10,
            "technique": "effleurage",
            "tolerance": "good",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    updated = api.patch(f"/api/massage-notes/{created.json()['id']}/", {"duration_minutes": 15}, format="json")

    assert updated.status_code == 200
    assert procedure.massage_notes.get().duration_minutes == 15


def test_a_signed_massage_note_is_409_and_unchanged(frozen, api, therapist):
    # Issue 10: the note is frozen by its own signature (the procedure's no longer freezes it).
    note = MassageNoteFactory(procedure=InjectionFactory().procedure, therapist=therapist)
    procedure_sign(procedure=note.procedure, by=note.procedure.provider.user)
    massage_note_sign(note=note, by=therapist.user)

    response = api.patch(f"/api/massage-notes/{note.pk}/", {"duration_minutes": 99}, format="json")

    assert response.status_code == 409
    note.refresh_from_db()
    assert note.duration_minutes == 10
    assert api.delete(f"/api/massage-notes/{note.pk}/").status_code == 405


def test_massage_note_with_bad_duration_is_400(frozen, api, therapist):
    note = MassageNoteFactory(procedure=InjectionFactory().procedure, therapist=therapist)

    response = api.patch(f"/api/massage-notes/{note.pk}/", {"duration_minutes": 0}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["duration_minutes"]


def test_schema_describes_the_procedure_endpoints(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/patients/",
        "/api/providers/",
        "/api/sites/",
        "/api/procedures/",
        "/api/procedures/{id}/sign/",
        "/api/procedures/{id}/addenda/",
        "/api/procedures/{id}/void/",
        "/api/massage-notes/",
    ]:
        assert path in paths
    assert "delete" not in paths["/api/procedures/{id}/"]


@pytest.mark.parametrize("rows", [3, 30])
def test_massage_note_list_runs_a_constant_number_of_queries(frozen, api, rows, django_assert_max_num_queries):
    procedure = InjectionFactory().procedure
    for _ in range(rows):
        MassageNoteFactory(procedure=procedure, sites=[site("Upper trapezius"), site("Rhomboids")])

    # 7: two of them load the user's model permissions (ClinicModelPermissions), whatever the rows.
    with django_assert_max_num_queries(7):
        response = api.get(f"/api/massage-notes/?procedure={procedure.pk}")

    assert response.json()["count"] == rows
    assert len(response.json()["results"][0]["sites"]) == 2


@pytest.mark.parametrize("rows", [3, 30])
def test_site_list_runs_a_constant_number_of_queries(api, rows, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = api.get(f"/api/sites/?page_size={rows}")

    assert response.status_code == 200
    assert response.json()["count"] >= 30
    assert len(response.json()["results"]) == rows
