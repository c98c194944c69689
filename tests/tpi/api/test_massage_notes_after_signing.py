"""/api/ for the massage therapist: the procedure's massage needs only; notes added after signing."""

import datetime as dt
import json

import pytest
from rest_framework.test import APIClient

from tests.factories import InjectionFactory, MassageNoteFactory, PatientFactory, ProviderFactory, site
from tpi.models import MassageNote
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def therapist():
    return ProviderFactory(role="massage_therapist", credentials="LMT", user__first_name="Pat", user__last_name="Kim")


@pytest.fixture
def api(therapist):
    client = APIClient()
    client.force_authenticate(therapist.user)
    return client


@pytest.fixture
def signed(frozen):
    patient = PatientFactory(on_anticoagulants=True, anticoagulant_details="apixaban 5 mg")
    injection = InjectionFactory(
        procedure__patient=patient,
        procedure__performed_at=frozen - dt.timedelta(hours=1),
        steroid_agent="triamcinolone",
        steroid_dose_mg="10",
        lot_number="LOT-SECRET-7",
    )
    InjectionFactory(procedure=injection.procedure, site=site("Rhomboids"), laterality="bilateral")
    return procedure_sign(procedure=injection.procedure, by=injection.procedure.provider.user)


def test_the_therapist_reads_sites_and_sides_but_no_drugs_or_doses(frozen, api, signed):
    body = api.get(f"/api/procedures/{signed.pk}/").json()

    assert body["injected_sites"] == [
        {"site": site("Upper trapezius").pk, "site_name": "Upper trapezius", "laterality": "left"},
        {"site": site("Rhomboids").pk, "site_name": "Rhomboids", "laterality": "bilateral"},
    ]
    assert body["patient_on_anticoagulants"] is True
    assert body["performed_at"] == "2026-03-10T10:00:00-04:00"  # the clinic's time (EDT)
    assert body["massage_note_deadline"] == "2026-03-11T11:00:00-04:00"
    text = json.dumps(body)
    for secret in ("triamcinolone", "lidocaine", "LOT-SECRET-7", "apixaban", "steroid", "dose", "pain", "indication"):
        assert secret not in text, secret


def test_the_therapist_adds_signs_and_amends_a_note_on_the_signed_procedure(frozen, api, therapist, signed):
    created = api.post(
        "/api/massage-notes/",
        {
            "procedure": signed.pk,
            "therapist": therapist.pk,
            "performed_at": (frozen - dt.timedelta(minutes=20)).isoformat(),
            "sites": [{"site": site("Upper trapezius").pk, "laterality": "left"}, site("Rhomboids").pk],
            "duration_minutes": 12,
            "technique": "effleurage",
            "tolerance": "good",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    note_id = created.json()["id"]
    assert [(s["site_name"], s["laterality"]) for s in created.json()["sites"]] == [
        ("Upper trapezius", "left"),
        ("Rhomboids", "bilateral"),
    ]

    signed_note = api.post(f"/api/massage-notes/{note_id}/sign/")
    assert signed_note.status_code == 200
    assert (signed_note.json()["status"], signed_note.json()["signed_by"]) == (
        "signed",
        {"id": therapist.user.pk, "name": "Pat Kim, LMT"},
    )
    assert api.patch(f"/api/massage-notes/{note_id}/", {"duration_minutes": 30}, format="json").status_code == 409
    assert api.post(f"/api/massage-notes/{note_id}/sign/").status_code == 409
    addendum = api.post(f"/api/massage-notes/{note_id}/addenda/", {"text": "mild bruising"}, format="json")
    assert addendum.status_code == 201
    assert addendum.json()["author"] == {"id": therapist.user.pk, "name": "Pat Kim, LMT"}
    # The procedure shows its notes, in order; the procedure itself did not change.
    procedure = api.get(f"/api/procedures/{signed.pk}/").json()
    assert [n["id"] for n in procedure["massage_notes"]] == [note_id]
    signed.refresh_from_db()
    assert (signed.status, signed.signed_at) == ("signed", frozen)


def test_after_the_window_a_new_note_is_409(frozen, api, therapist, signed):
    import time_machine

    with time_machine.travel(frozen + dt.timedelta(hours=25), tick=False):
        response = api.post(
            "/api/massage-notes/",
            {
                "procedure": signed.pk,
                "therapist": therapist.pk,
                "performed_at": (frozen - dt.timedelta(minutes=20)).isoformat(),
                "sites": [site("Upper trapezius").pk],
                "duration_minutes": 12,
                "technique": "effleurage",
                "tolerance": "good",
            },
            format="json",
        )

    assert response.status_code == 409
    assert MassageNote.objects.count() == 0


def test_another_therapist_cannot_sign_the_note(frozen, signed):
    note = MassageNoteFactory(procedure=signed)
    other = APIClient()
    other.force_authenticate(ProviderFactory(role="massage_therapist").user)

    response = other.post(f"/api/massage-notes/{note.pk}/sign/")

    assert response.status_code == 403
    note.refresh_from_db()
    assert note.status == "draft"


def test_the_provider_sees_the_notes_in_order_on_the_procedure(frozen, signed):
    later = MassageNoteFactory(procedure=signed, performed_at=frozen - dt.timedelta(minutes=5))
    earlier = MassageNoteFactory(procedure=signed, performed_at=frozen - dt.timedelta(minutes=40))
    client = APIClient()
    client.force_authenticate(signed.provider.user)

    body = client.get(f"/api/procedures/{signed.pk}/").json()

    assert [n["id"] for n in body["massage_notes"]] == [earlier.pk, later.pk]
    assert body["massage_notes"][0]["sites"] == [
        {"site": site("Upper trapezius").pk, "site_name": "Upper trapezius", "laterality": "left"}
    ]
