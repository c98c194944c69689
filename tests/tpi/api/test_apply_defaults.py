"""POST /api/procedures/{id}/apply-defaults/ and the per-side volume with its total (issue 10)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.factories import InjectionFactory, ProviderFactory
from tests.tpi.test_injections_apply_defaults import draft  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_apply_defaults_fills_empty_cells_and_answers_the_draft(draft):  # noqa: F811
    body = {"anaesthetic_agent": "lidocaine", "lot_number": "LIDO-26-001", "needle_gauge": 27}

    response = api_for(draft.provider.user).post(f"/api/procedures/{draft.pk}/apply-defaults/", body, format="json")

    assert response.status_code == 200, response.json()
    rows = [(i["lot_number"], i["needle_gauge"]) for i in response.json()["injections"]]
    assert rows == [("LIDO-26-001", 27), ("", 27), ("", 27), ("OWN-LOT", 30)]


def test_bad_values_400_other_provider_403_signed_409(draft, frozen):  # noqa: F811
    provider_api = api_for(draft.provider.user)

    bad = provider_api.post(f"/api/procedures/{draft.pk}/apply-defaults/", {"needle_gauge": 40}, format="json")
    agent = provider_api.post(f"/api/procedures/{draft.pk}/apply-defaults/", {"anaesthetic_agent": "x"}, format="json")
    stranger = api_for(ProviderFactory().user).post(f"/api/procedures/{draft.pk}/apply-defaults/", {}, format="json")
    provider_api.post(f"/api/procedures/{draft.pk}/sign/", {"acknowledged_warnings": []}, format="json")
    draft.refresh_from_db()
    signed = provider_api.post(f"/api/procedures/{draft.pk}/apply-defaults/", {"needle_gauge": 27}, format="json")

    assert bad.status_code == 400
    assert "needle_gauge" in str(bad.json())
    assert agent.status_code == 400
    assert stranger.status_code == 403
    assert (draft.status, signed.status_code) == ("signed", 409)


def test_the_api_states_the_volume_per_side_and_the_total(frozen):
    injection = InjectionFactory(laterality="bilateral", anaesthetic_volume_ml=Decimal("1.50"))

    row = (
        api_for(injection.procedure.provider.user)
        .get(f"/api/procedures/{injection.procedure_id}/")
        .json()["injections"][0]
    )

    assert (row["anaesthetic_volume_ml"], row["anaesthetic_volume_total_ml"]) == ("1.50", "3.00")
