"""The API refuses an expired stocked lot (400 naming the field); the defaults row takes a volume per side."""

import datetime as dt
from decimal import Decimal

import pytest

from tests.factories import ProviderFactory
from tests.tpi.api.test_apply_defaults import api_for
from tests.tpi.api.test_procedures import payload
from tests.tpi.test_injections_apply_defaults import draft  # noqa: F401  (the fixture)
from tpi.models import Procedure, StockLot

pytestmark = pytest.mark.django_db


def test_an_expired_lot_is_a_400_naming_the_injection_and_nothing_is_written(frozen, settings):
    settings.TIME_ZONE = "America/New_York"
    StockLot.objects.create(
        agent="lidocaine", concentration_percent=Decimal("1.00"), lot_number="LIDO-OLD", expires_on=dt.date(2026, 3, 1)
    )
    provider = ProviderFactory()
    data = payload(frozen, provider)
    data["injections"][0]["lot_number"] = "LIDO-OLD"

    response = api_for(provider.user).post("/api/procedures/", data, format="json")

    assert response.status_code == 400
    body = response.json()
    assert "LIDO-OLD" in str(body)
    assert "expired on 2026-03-01" in str(body)
    assert "injections[0].lot_number" in str(body)
    assert Procedure.objects.count() == 0


def test_apply_defaults_accepts_a_volume_per_side_and_keeps_stated_volumes(draft, frozen):  # noqa: F811
    client = api_for(draft.provider.user)

    response = client.post(
        f"/api/procedures/{draft.pk}/apply-defaults/", {"anaesthetic_volume_ml": "1.25"}, format="json"
    )
    bad = client.post(f"/api/procedures/{draft.pk}/apply-defaults/", {"anaesthetic_volume_ml": "0"}, format="json")

    assert response.status_code == 200, response.json()
    # Saved injected sites always state their volume (a database rule), so nothing is overwritten.
    assert [i["anaesthetic_volume_ml"] for i in response.json()["injections"]] == ["2.00", "2.00", None, "2.00"]
    assert bad.status_code == 400
    assert "anaesthetic_volume_ml" in str(bad.json())
