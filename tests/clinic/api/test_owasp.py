"""OWASP API top risks that apply here, against the real endpoints.

- API1 broken object-level authorisation: provider B reads or changes provider A's draft by id -> 403
  (403, not 404, as the issue asks: the id is not secret, its content is), and nothing changes;
  nobody changes someone else's massage note.
- API3/6 mass assignment: status, signed_by, signed_at, voided_at, mrn in a plain create/update are
  ignored (read-only) and the database keeps its values.
- API2 unauthenticated access: every endpoint of the schema refuses an anonymous client (403).
- API4 resource consumption: oversized bodies get 413 on every write endpoint.
"""

import datetime as dt
import json

import pytest
import time_machine
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from clinic import roles
from clinic.models import Patient
from tests.factories import (
    InjectionFactory,
    MassageNoteFactory,
    PatientFactory,
    ProcedureFactory,
    ProviderFactory,
    staff_user,
)
from tpi.models import Procedure
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db


NOW = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def procedure_body(*, patient, provider, performed_at, **extra) -> dict:
    return {
        "patient": patient.pk,
        "provider": provider.pk,
        "performed_at": performed_at.isoformat(),
        "indication": "Myofascial pain, upper trapezius",
        "pain_before": 7,
        **extra,
    }


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def snapshot(procedure: Procedure) -> dict:
    procedure.refresh_from_db()
    return {f.attname: getattr(procedure, f.attname) for f in Procedure._meta.concrete_fields if f.name != "updated_at"}


@pytest.fixture
def draft():
    return InjectionFactory().procedure


@pytest.fixture
def provider_b():
    return client_for(ProviderFactory().user)


def test_another_provider_cannot_read_a_draft_by_id(draft, provider_b):
    for url in (f"/api/procedures/{draft.pk}/", f"/api/procedures/{draft.pk}/warnings/"):
        response = provider_b.get(url)
        assert response.status_code == 403, url
        assert "indication" not in response.json()
    assert provider_b.get("/api/procedures/").json()["count"] == 0  # nor in the list


def test_another_provider_cannot_change_sign_void_or_amend_a_draft(draft, provider_b):
    before = snapshot(draft)
    attempts = [
        ("patch", f"/api/procedures/{draft.pk}/", {"indication": "changed by B"}),
        ("put", f"/api/procedures/{draft.pk}/", {"patient": draft.patient_id, "provider": draft.provider_id}),
        ("post", f"/api/procedures/{draft.pk}/sign/", {}),
        ("post", f"/api/procedures/{draft.pk}/void/", {"reason": "B does not like it"}),
        ("post", f"/api/procedures/{draft.pk}/addenda/", {"text": "B was here"}),
    ]
    for verb, url, body in attempts:
        response = getattr(provider_b, verb)(url, body, format="json")
        assert response.status_code == 403, (verb, url)
        assert response.json()["detail"].startswith("Only the procedure's own provider or a clinic admin may")

    assert snapshot(draft) == before
    assert draft.addenda.count() == 0


def test_a_provider_cannot_document_for_another_provider(draft, provider_b):
    body = procedure_body(patient=draft.patient, provider=draft.provider, performed_at=draft.performed_at)
    response = provider_b.post("/api/procedures/", body, format="json")
    assert response.status_code == 403
    assert Procedure.objects.count() == 1


def test_a_provider_may_read_another_providers_procedure_during_break_glass_only_as_clinic_admin(draft):
    from clinic.accounts.breakglass import break_glass_open

    admin = staff_user(roles.CLINIC_ADMIN)
    break_glass_open(user=admin, patient=draft.patient, reason="patient in the emergency room")
    assert client_for(admin).get(f"/api/procedures/{draft.pk}/").status_code == 200


def test_nobody_changes_someone_elses_massage_note(draft):
    note = MassageNoteFactory(procedure=draft)
    other_therapist = client_for(ProviderFactory(role="massage_therapist").user)

    response = other_therapist.patch(f"/api/massage-notes/{note.pk}/", {"notes": "mine now"}, format="json")
    assert response.status_code == 403
    response = other_therapist.patch(
        f"/api/massage-notes/{note.pk}/", {"therapist": other_therapist.handler._force_user.provider.pk}, format="json"
    )
    assert response.status_code == 403
    # Nor the procedure's provider: they read the note, the therapist writes it.
    assert client_for(draft.provider.user).patch(f"/api/massage-notes/{note.pk}/", {"notes": "x"}).status_code == 403
    note.refresh_from_db()
    assert (note.notes, note.therapist_id) == ("", note.therapist_id)
    assert client_for(note.therapist.user).patch(f"/api/massage-notes/{note.pk}/", {"notes": "ok"}).status_code == 200


def test_a_massage_therapist_reads_the_procedure_basics_only(draft):
    therapist = client_for(ProviderFactory(role="massage_therapist").user)
    body = therapist.get(f"/api/procedures/{draft.pk}/").json()
    assert body == {
        "id": draft.pk,
        "patient": draft.patient_id,
        "provider": draft.provider_id,
        "appointment": None,
        "performed_at": body["performed_at"],
        "status": "draft",
        "sites": [draft.injections.get().site_id],
        # Issue 10: what the massage needs (sites and sides, the bruising flag, the notes), no drugs.
        "injected_sites": [
            {"site": draft.injections.get().site_id, "site_name": "Upper trapezius", "laterality": "left"}
        ],
        "patient_on_anticoagulants": False,
        "massage_notes": [],
        "massage_note_deadline": None,
    }
    assert therapist.patch(f"/api/procedures/{draft.pk}/", {"indication": "x"}).status_code == 403
    assert therapist.get(f"/api/procedures/{draft.pk}/warnings/").status_code == 403


def test_mass_assignment_of_status_and_signature_on_update_is_ignored(frozen, draft):
    owner = client_for(draft.provider.user)
    intruder = staff_user(roles.CLINIC_ADMIN)
    before = snapshot(draft)

    response = owner.patch(
        f"/api/procedures/{draft.pk}/",
        {
            "status": "signed",
            "signed_by": intruder.username,
            "signed_at": "2026-01-01T00:00:00Z",
            "voided_at": "2026-01-01T00:00:00Z",
            "voided_by": intruder.username,
            "void_reason": "sneaky",
            "created_at": "2020-01-01T00:00:00Z",
        },
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["signed_by"], response.json()["voided_at"]) == (
        "draft",
        None,
        None,
    )
    assert snapshot(draft) == before


def test_mass_assignment_of_status_on_create_is_ignored(frozen):
    provider = ProviderFactory()
    patient = PatientFactory()
    response = client_for(provider.user).post(
        "/api/procedures/",
        procedure_body(
            patient=patient,
            provider=provider,
            performed_at=frozen - dt.timedelta(hours=1),
            status="signed",
            signed_at="2026-01-01T00:00:00Z",
            signed_by="root",
            voided_at="2026-01-01T00:00:00Z",
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    created = Procedure.objects.get()
    assert (created.status, created.signed_at, created.signed_by, created.voided_at) == ("draft", None, None, None)


def test_a_signed_procedure_cannot_be_unsigned_by_assignment(frozen, draft):
    procedure_sign(procedure=draft, by=draft.provider.user)
    before = snapshot(draft)
    response = client_for(draft.provider.user).patch(
        f"/api/procedures/{draft.pk}/", {"status": "draft", "signed_at": None}, format="json"
    )
    assert response.status_code == 409
    assert snapshot(draft) == before


def test_mass_assignment_of_the_mrn_is_ignored():
    desk = client_for(staff_user(roles.FRONT_DESK))
    patient = PatientFactory()
    mrn = patient.mrn

    response = desk.patch(f"/api/patients/{patient.pk}/", {"mrn": "12345674", "created_at": "2000-01-01"})
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.mrn == mrn
    created = desk.post(
        "/api/patients/",
        {"mrn": "12345674", "legal_first_name": "A", "legal_last_name": "B", "date_of_birth": "1970-01-01"},
        format="json",
    )
    assert created.status_code == 201
    assert Patient.objects.get(pk=created.json()["id"]).mrn != "12345674"


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, ops in schema["paths"].items():
        for verb in ops:
            if verb in ("get", "post", "put", "patch", "delete") and "{token}" not in path:
                yield verb, path.replace("{id}", "1")


def test_every_endpoint_refuses_an_anonymous_client():
    ProcedureFactory()
    anonymous = APIClient()
    for verb, url in _operations():
        response = getattr(anonymous, verb)(url, {}, format="json")
        assert (response.status_code, response["WWW-Authenticate"]) == (401, "Token"), (verb, url)
    # The token-only calendar feed answers nothing without its token.
    assert anonymous.get("/api/calendar/providers/1/not-the-token.ics").status_code == 404


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_every_write_endpoint_refuses_an_oversized_body_with_413():
    admin = client_for(staff_user(roles.CLINIC_ADMIN))
    huge = json.dumps({"notes": "x" * 20_000})
    for verb, url in _operations():
        if verb in ("post", "put", "patch"):
            response = getattr(admin, verb)(url, huge, content_type="application/json")
            assert response.status_code == 413, (verb, url)
