"""The procedure page's defaults row and the bilateral total (issue 10)."""

from decimal import Decimal

import pytest

from tests.factories import InjectionFactory, PatientFactory, site
from tests.tpi.test_admin_procedures import admin_client, form_data, provider  # noqa: F401  (fixtures)
from tpi.models import Procedure

pytestmark = pytest.mark.django_db

ADD = "/admin/tpi/procedure/add/"


def site_row(name, side, **cells):
    return {
        "site": site(name).pk,
        "laterality": side,
        "anaesthetic_agent": "",
        "anaesthetic_concentration_percent": "",
        "anaesthetic_volume_ml": "",
        "steroid_agent": "",
        "steroid_dose_mg": "",
        "needle_gauge": "",
        "lot_number": "",
        **cells,
    }


def with_rows(data, rows):
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"injections-{index}-{name}"] = value
    return data


# frozen first: the client signs in at the frozen instant (a session from another time would have expired).
def test_one_defaults_row_fills_every_site_and_a_site_overrides_it(frozen, admin_client, provider):  # noqa: F811
    rows = [
        site_row("Upper trapezius", "bilateral", anaesthetic_volume_ml="1.5"),
        site_row("Rhomboids", "left", anaesthetic_volume_ml="2", lot_number="OWN-LOT"),
        site_row("Levator scapulae", "right", dry_needling="on"),
    ]
    data = with_rows(form_data(frozen, PatientFactory(), provider, injections=rows), rows)
    data.update(
        {
            "defaults-anaesthetic_agent": "lidocaine",
            "defaults-anaesthetic_concentration_percent": "1",
            "defaults-lot_number": "LIDO-26-001",
            "defaults-needle_gauge": "27",
        }
    )

    response = admin_client.post(ADD, data)

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    procedure = Procedure.objects.get()
    assert list(
        procedure.injections.values_list(
            "site__name", "anaesthetic_agent", "anaesthetic_concentration_percent", "lot_number", "needle_gauge"
        )
    ) == [
        ("Upper trapezius", "lidocaine", Decimal("1.00"), "LIDO-26-001", 27),
        ("Rhomboids", "lidocaine", Decimal("1.00"), "OWN-LOT", 27),
        ("Levator scapulae", "", None, "", 27),
    ]


def test_without_defaults_a_site_missing_its_agent_is_an_error(frozen, admin_client, provider):  # noqa: F811
    rows = [site_row("Upper trapezius", "left", anaesthetic_volume_ml="1.5")]

    response = admin_client.post(ADD, with_rows(form_data(frozen, PatientFactory(), provider, injections=rows), rows))

    assert response.status_code == 200
    assert "Name the local anaesthetic" in response.content.decode()
    assert Procedure.objects.count() == 0


def test_the_draft_shows_the_defaults_row_the_per_side_label_and_the_total(frozen, admin_client, provider):  # noqa: F811
    injection = InjectionFactory(
        procedure__provider=provider, laterality="bilateral", anaesthetic_volume_ml=Decimal("1.50")
    )

    page = admin_client.get(f"/admin/tpi/procedure/{injection.procedure_id}/change/").content.decode()

    assert "Defaults for every site" in page
    assert 'name="defaults-lot_number"' in page
    assert "Volume (mL, per side)" in page
    assert "3.00 mL (1.50 per side x 2)" in page
