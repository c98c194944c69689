"""/api/procedures/: nested injections, sign, addenda, void, filters, errors, query counts."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    InjectionFactory,
    MassageNoteFactory,
    PatientFactory,
    ProcedureFactory,
    ProviderFactory,
    site,
)
from tpi.models import FollowUp, Injection, Procedure
from tpi.signing import addendum_add, procedure_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    return ProviderFactory()


@pytest.fixture
def api(provider):
    client = APIClient()
    client.force_authenticate(provider.user)
    return client


def payload(frozen, provider, **overrides):
    return {
        "patient": PatientFactory().pk,
        "provider": provider.pk,
        "performed_at": (frozen - dt.timedelta(minutes=20)).isoformat(),
        "indication": "Myofascial neck pain",
        "indication_icd10": "M79.18",
        "pain_before": 7,
        "pain_after": 2,
        "consent_obtained": True,
        "injections": [
            {
                "site": site("Upper trapezius").pk,
                "laterality": "left",
                "anaesthetic_agent": "lidocaine",
                "anaesthetic_concentration_percent": "1.00",
                "anaesthetic_volume_ml": "2.00",
                "steroid_agent": "triamcinolone",
                "steroid_dose_mg": "10.00",
            },
            {
                "site": site("Levator scapulae").pk,
                "laterality": "bilateral",
                "anaesthetic_agent": "bupivacaine",
                "anaesthetic_concentration_percent": "0.25",
                "anaesthetic_volume_ml": "1.50",
            },
        ],
        **overrides,
    }


def signed_procedure(provider):
    procedure = InjectionFactory(procedure__provider=provider).procedure
    return procedure_sign(procedure=procedure, by=provider.user)


def test_create_a_draft_with_nested_injections(frozen, api, provider):
    response = api.post("/api/procedures/", payload(frozen, provider), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["cpt_code"] == "20552"
    assert body["consent_obtained_by"] == {"id": provider.user.pk, "name": str(provider)}
    assert [(i["site_name"], i["laterality"], i["steroid_agent"]) for i in body["injections"]] == [
        ("Upper trapezius", "left", "triamcinolone"),
        ("Levator scapulae", "bilateral", ""),
    ]
    assert Injection.objects.count() == 2


def test_pain_score_eleven_is_a_400_naming_the_field(frozen, api, provider):
    response = api.post("/api/procedures/", payload(frozen, provider, pain_before=11), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"pain_before": ["Ensure this value is less than or equal to 10."]},
    }
    assert Procedure.objects.count() == 0


def test_a_bad_injection_is_a_400_naming_the_injection_and_field(frozen, api, provider):
    data = payload(frozen, provider)
    data["injections"][1]["steroid_dose_mg"] = "5.00"

    response = api.post("/api/procedures/", data, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"injections[1].steroid_agent": ["A steroid dose needs the steroid agent."]}
    assert Procedure.objects.count() == 0
    assert Injection.objects.count() == 0


def test_a_future_performed_at_is_a_400(frozen, api, provider):
    response = api.post(
        "/api/procedures/", payload(frozen, provider, performed_at=(frozen + dt.timedelta(hours=1)).isoformat())
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["performed_at"]


def test_update_a_draft(frozen, api, provider):
    procedure = InjectionFactory(procedure__provider=provider).procedure

    response = api.patch(f"/api/procedures/{procedure.pk}/", {"pain_after": 1, "complications": "none"})

    assert response.status_code == 200, response.json()
    procedure.refresh_from_db()
    assert (procedure.pain_after, procedure.complications) == (1, "none")


def test_editing_a_signed_procedure_is_refused_and_changes_nothing(frozen, api, provider):
    procedure = signed_procedure(provider)
    before = Procedure.objects.values().get(pk=procedure.pk)
    injection = procedure.injections.get()

    response = api.patch(
        f"/api/procedures/{procedure.pk}/",
        {
            "pain_before": 1,
            "injections": [
                {
                    "id": injection.pk,
                    "site": site("Piriformis").pk,
                    "laterality": "right",
                    "anaesthetic_agent": "lidocaine",
                    "anaesthetic_volume_ml": "1",
                    "anaesthetic_concentration_percent": "1",
                }
            ],
        },
        format="json",
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This procedure is signed; it can no longer be changed (add an addendum instead).",
        "code": "procedure_signed",
    }
    assert Procedure.objects.values().get(pk=procedure.pk) == before
    injection_after = Injection.objects.get(pk=injection.pk)
    assert (injection_after.site.name, injection_after.laterality) == ("Upper trapezius", "left")


def test_sign_then_sign_again_is_409(frozen, api, provider):
    procedure = InjectionFactory(procedure__provider=provider).procedure

    first = api.post(f"/api/procedures/{procedure.pk}/sign/")
    second = api.post(f"/api/procedures/{procedure.pk}/sign/")

    assert first.status_code == 200
    assert first.json()["status"] == "signed"
    assert [f["kind"] for f in first.json()["follow_ups"]] == ["check_in", "reassessment"]
    assert second.status_code == 409
    assert second.json() == {"detail": "This procedure is already signed.", "code": "procedure_signed"}
    assert FollowUp.objects.filter(procedure=procedure).count() == 2


def test_sign_by_another_provider_is_403(frozen, provider):
    procedure = InjectionFactory(procedure__provider=provider).procedure
    other = APIClient()
    other.force_authenticate(ProviderFactory().user)

    response = other.post(f"/api/procedures/{procedure.pk}/sign/")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the procedure's own provider or a clinic admin may sign it.",
        "code": "permission_denied",
    }
    procedure.refresh_from_db()
    assert procedure.status == "draft"


def test_sign_without_injection_is_400_naming_the_field(frozen, api, provider):
    procedure = ProcedureFactory(provider=provider)

    response = api.post(f"/api/procedures/{procedure.pk}/sign/")

    assert response.status_code == 400
    assert response.json()["errors"] == {"injections": ["Document at least one injection before signing."]}


def test_warnings_before_signing(frozen, api, provider):
    patient = PatientFactory(on_anticoagulants=True)
    procedure = InjectionFactory(procedure__provider=provider, procedure__patient=patient).procedure

    response = api.get(f"/api/procedures/{procedure.pk}/warnings/")

    assert response.status_code == 200
    # Issue 10: each warning also carries the key that acknowledges it when signing.
    assert response.json() == [
        {"code": "anticoagulants", "key": "anticoagulants", "message": "The patient takes anticoagulants."}
    ]


def test_addenda_and_void(frozen, api, provider):
    procedure = signed_procedure(provider)

    added = api.post(f"/api/procedures/{procedure.pk}/addenda/", {"text": "Mild bruising reported."})
    empty = api.post(f"/api/procedures/{procedure.pk}/void/", {"reason": ""})
    voided = api.post(f"/api/procedures/{procedure.pk}/void/", {"reason": "Wrong patient"})

    assert added.status_code == 201
    assert added.json()["text"] == "Mild bruising reported."
    assert added.json()["author"] == {"id": provider.user.pk, "name": str(provider)}
    assert empty.status_code == 400
    assert list(empty.json()["errors"]) == ["reason"]
    assert voided.status_code == 200
    body = voided.json()
    assert (body["status"], body["void_reason"]) == ("voided", "Wrong patient")
    assert [f["status"] for f in body["follow_ups"]] == ["cancelled", "cancelled"]
    assert [a["text"] for a in body["addenda"]] == ["Mild bruising reported."]


def test_no_delete(frozen, api, provider):
    procedure = InjectionFactory(procedure__provider=provider).procedure

    response = api.delete(f"/api/procedures/{procedure.pk}/")

    assert response.status_code == 405
    assert Procedure.objects.count() == 1


def test_filters_by_patient_provider_status_dates_and_steroid(frozen, api, provider):
    patient = PatientFactory()
    old = InjectionFactory(
        procedure__patient=patient, procedure__provider=provider, procedure__performed_at=frozen - dt.timedelta(days=40)
    ).procedure
    recent = InjectionFactory(
        procedure__patient=patient,
        procedure__provider=provider,
        steroid_agent="dexamethasone",
        steroid_dose_mg="4",
    ).procedure
    procedure_sign(procedure=recent, by=provider.user)
    InjectionFactory()  # someone else's

    def ids(query):
        response = api.get(f"/api/procedures/?{query}")
        assert response.status_code == 200
        return [p["id"] for p in response.json()["results"]]

    assert ids(f"patient={patient.pk}") == [recent.pk, old.pk]
    assert ids(f"provider={provider.pk}&status=signed") == [recent.pk]
    after = (frozen - dt.timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert ids(f"patient={patient.pk}&performed_after={after}") == [recent.pk]
    assert ids(f"patient={patient.pk}&with_steroid=true") == [recent.pk]
    assert ids(f"patient={patient.pk}&with_steroid=false") == [old.pk]


@pytest.mark.parametrize("rows", [3, 30])
def test_list_runs_a_constant_number_of_queries(frozen, api, provider, rows, django_assert_max_num_queries):
    for _ in range(rows):
        procedure = InjectionFactory(procedure__provider=provider).procedure
        InjectionFactory(procedure=procedure, site=site("Rhomboids"))
        MassageNoteFactory(procedure=procedure)
        procedure_sign(procedure=procedure, by=provider.user)
        addendum_add(procedure=procedure, author=provider.user, text="late entry")

    with django_assert_max_num_queries(9):
        response = api.get(f"/api/procedures/?page_size={rows}")

    assert response.status_code == 200
    assert response.json()["count"] == rows
    assert len(response.json()["results"]) == rows
    assert {p["cpt_code"] for p in response.json()["results"]} == {"20552"}
    assert {len(p["massage_notes"][0]["sites"]) for p in response.json()["results"]} == {1}
    assert {p["addenda"][0]["author"]["name"] for p in response.json()["results"]} == {str(provider)}


def test_unauthenticated_requests_are_refused(frozen):
    assert APIClient().get("/api/procedures/").status_code == 401
