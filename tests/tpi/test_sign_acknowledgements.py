"""Signing means reading: every pre-sign warning is acknowledged, and the acknowledgements are kept."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from tests.factories import InjectionFactory, PatientFactory, ProviderFactory
from tpi.models import SignAcknowledgement
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    return ProviderFactory(credentials="MD", user__first_name="Dana", user__last_name="Lee")


@pytest.fixture
def draft(frozen, provider):
    patient = PatientFactory(on_anticoagulants=True, local_anaesthetic_allergy=True)
    return InjectionFactory(procedure__provider=provider, procedure__patient=patient).procedure


@pytest.fixture
def api(provider):
    client = APIClient()
    client.force_authenticate(provider.user)
    return client


def test_a_warning_not_acknowledged_refuses_the_sign(frozen, draft, provider):
    with pytest.raises(ValidationError) as raised:
        procedure_sign(procedure=draft, by=provider.user, acknowledged=["anaesthetic_allergy"])

    assert raised.value.message_dict == {
        "acknowledged_warnings": ["Acknowledge the warning anticoagulants: The patient takes anticoagulants."]
    }
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert SignAcknowledgement.objects.count() == 0


def test_the_acknowledgements_are_stored_with_the_signature_and_never_change(frozen, draft, provider):
    procedure_sign(procedure=draft, by=provider.user, acknowledged=["anaesthetic_allergy", "anticoagulants"])

    assert list(draft.acknowledgements.values_list("key", "message", "acknowledged_by", "acknowledged_at")) == [
        ("anaesthetic_allergy", "The patient has a local anaesthetic allergy on file.", provider.user.pk, frozen),
        ("anticoagulants", "The patient takes anticoagulants.", provider.user.pk, frozen),
    ]
    with pytest.raises(IntegrityError, match="never change"), transaction.atomic():
        SignAcknowledgement.objects.filter(procedure=draft).update(message="rewritten")


def test_the_api_sign_is_400_naming_the_unacknowledged_warnings(frozen, api, draft):
    response = api.post(
        f"/api/procedures/{draft.pk}/sign/", {"acknowledged_warnings": ["anticoagulants"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "acknowledged_warnings": [
            "Acknowledge the warning anaesthetic_allergy: The patient has a local anaesthetic allergy on file."
        ]
    }
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_api_sign_with_every_warning_read_returns_them_and_the_signer_by_name(frozen, api, draft, provider):
    keys = [w["key"] for w in api.get(f"/api/procedures/{draft.pk}/warnings/").json()]

    response = api.post(f"/api/procedures/{draft.pk}/sign/", {"acknowledged_warnings": keys}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["signed_by"]) == ("signed", {"id": provider.user.pk, "name": "Dana Lee, MD"})
    assert [(a["key"], a["acknowledged_by"]["name"]) for a in body["acknowledgements"]] == [
        ("anaesthetic_allergy", "Dana Lee, MD"),
        ("anticoagulants", "Dana Lee, MD"),
    ]
    assert api.get(f"/api/procedures/{draft.pk}/").json()["acknowledgements"] == body["acknowledgements"]


def test_a_bad_acknowledged_warnings_value_is_400(frozen, api, draft):
    response = api.post(f"/api/procedures/{draft.pk}/sign/", {"acknowledged_warnings": "anticoagulants"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["acknowledged_warnings"]
