"""Procedure admin charting (issue 10): body map on the draft, signed note, patient and massage pages;
stocked lots as quick picks; Save and sign from the add page; narrow injection rows."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from clinic import roles
from tests.factories import InjectionFactory, MassageNoteFactory, PatientFactory, ProviderFactory, site, staff_user
from tests.tpi.test_admin_procedures import CHANGELIST, form_data, lidocaine
from tpi.models import Injection, Procedure, StockLot
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def stock(settings):
    settings.TIME_ZONE = "America/New_York"
    current = StockLot.objects.create(
        agent="lidocaine", concentration_percent=Decimal("1.00"), lot_number="LIDO-NEW", expires_on=TODAY
    )
    StockLot.objects.create(
        agent="lidocaine",
        concentration_percent=Decimal("1.00"),
        lot_number="LIDO-OLD",
        expires_on=TODAY - dt.timedelta(days=1),
    )
    StockLot.objects.create(
        agent="bupivacaine",
        concentration_percent=Decimal("0.25"),
        lot_number="BUPI-OFF",
        expires_on=TODAY + dt.timedelta(days=99),
        is_active=False,
    )
    return current


def _marked(html: str) -> list[str]:
    return sorted(re.findall(r'class="bm-region bm-marked"[^>]*><title>([^<]+)</title>', html))


def test_the_draft_page_offers_the_clickable_map_current_lots_and_folded_row_details(frozen, client, stock):
    procedure = InjectionFactory(lot_number="").procedure
    client.force_login(procedure.provider.user)

    html = client.get(f"{CHANGELIST}{procedure.pk}/change/").content.decode()

    trapezius = site("Upper trapezius").pk
    assert f'data-site="{trapezius}" data-side="left"' in html
    assert f'data-site="{trapezius}" data-side="right"' in html
    assert re.findall(r'class="stock-default"[^>]*data-lot="([^"]+)"', html) == ["LIDO-NEW"]
    assert '<option value="LIDO-NEW">' in html
    assert "LIDO-OLD" not in html
    assert "BUPI-OFF" not in html
    assert 'name="defaults-anaesthetic_volume_ml"' in html
    assert "(subscapularis, pectoralis minor, gluteus minimus) are in each row" in html
    row = html.split('id="injections-0"')[1].split("</tr>")[0]
    details = row.split('<details class="injection-details"')[1]
    for name in (
        "dry_needling",
        "anaesthetic_agent",
        "anaesthetic_concentration_percent",
        "lot_number",
        "needle_gauge",
    ):
        assert f'name="injections-0-{name}"' in details
    for name in ("site", "laterality", "anaesthetic_volume_ml", "steroid_agent", "steroid_dose_mg"):
        assert f'name="injections-0-{name}"' not in details
    assert 'list="stock-lot-numbers"' in details


def test_save_and_sign_from_the_add_page_with_the_defaults_row_filling_agent_lot_and_volume(frozen, client, stock):
    provider = ProviderFactory()
    patient = PatientFactory()
    client.force_login(provider.user)
    rows = [
        {
            "site": site("Upper trapezius").pk,
            "laterality": "left",
            "steroid_agent": "triamcinolone",
            "steroid_dose_mg": "10",
        },
        {"site": site("Rhomboids").pk, "laterality": "bilateral"},
    ]
    defaults = {
        "defaults-anaesthetic_agent": "lidocaine",
        "defaults-anaesthetic_concentration_percent": "1.00",
        "defaults-lot_number": "LIDO-NEW",
        "defaults-anaesthetic_volume_ml": "1.5",
    }

    response = client.post(
        f"{CHANGELIST}add/", {**form_data(frozen, patient, provider, rows), **defaults, "_sign": "1"}
    )

    procedure = Procedure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}{procedure.pk}/change/"
    assert procedure.status == Procedure.Status.SIGNED
    assert [
        (
            i.site.name,
            i.laterality,
            i.lot_number,
            i.anaesthetic_volume_ml,
            i.anaesthetic_volume_total_ml,
            i.steroid_agent,
        )
        for i in procedure.injections.order_by("id")
    ] == [
        ("Upper trapezius", "left", "LIDO-NEW", Decimal("1.50"), Decimal("1.50"), "triamcinolone"),
        ("Rhomboids", "bilateral", "LIDO-NEW", Decimal("1.50"), Decimal("3.00"), ""),
    ]


def test_save_and_sign_from_the_add_page_leads_to_the_sign_page_when_there_are_warnings(frozen, client):
    provider = ProviderFactory()
    patient = PatientFactory(on_anticoagulants=True)
    client.force_login(provider.user)

    response = client.post(f"{CHANGELIST}add/", {**form_data(frozen, patient, provider, [lidocaine()]), "_sign": "1"})

    procedure = Procedure.objects.get()
    assert response["Location"] == f"{CHANGELIST}{procedure.pk}/sign/"
    assert procedure.status == Procedure.Status.DRAFT


def test_an_expired_lot_is_refused_in_its_row_and_nothing_is_saved(frozen, client, stock):
    provider = ProviderFactory()
    client.force_login(provider.user)

    response = client.post(
        f"{CHANGELIST}add/", form_data(frozen, PatientFactory(), provider, [lidocaine(lot_number="LIDO-OLD")])
    )

    assert response.status_code == 200
    assert (
        "Lot LIDO-OLD (Lidocaine 1%) expired on 2026-03-09; take a vial from a current lot."
        in response.content.decode()
    )
    assert Procedure.objects.count() == 0


def test_the_signed_note_shows_the_map_with_the_injected_sides_and_the_therapist_sees_it_too(frozen, client):
    procedure = InjectionFactory(site=site("Upper trapezius"), laterality="left").procedure
    InjectionFactory(procedure=procedure, site=site("Rhomboids"), laterality="bilateral")
    procedure_sign(procedure=procedure, by=procedure.provider.user)
    note = MassageNoteFactory(procedure=procedure)

    client.force_login(procedure.provider.user)
    signed = client.get(f"{CHANGELIST}{procedure.pk}/change/").content.decode()
    client.force_login(note.therapist.user)
    therapist = client.get(f"{CHANGELIST}{procedure.pk}/change/").content.decode()
    massage_page = client.get(f"/admin/tpi/massagenote/{note.pk}/change/").content.decode()

    expected = ["Rhomboids, left", "Rhomboids, right", "Upper trapezius, left"]
    assert _marked(signed) == expected
    assert "data-site=" not in signed  # nothing to click on a signed note
    assert _marked(therapist) == expected
    assert _marked(massage_page) == expected


def test_the_patient_page_shades_the_signed_sites_by_count_within_the_object_rules(frozen, client):
    patient = PatientFactory()
    provider = ProviderFactory()
    for days in (30, 60):
        procedure = InjectionFactory(
            procedure__patient=patient,
            procedure__provider=provider,
            procedure__performed_at=frozen - dt.timedelta(days=days),
            site=site("Upper trapezius"),
            laterality="left",
        ).procedure
        procedure_sign(procedure=procedure, by=provider.user)
    InjectionFactory(procedure__patient=patient, procedure__provider=provider, site=site("Deltoid"))  # a draft
    other = InjectionFactory(procedure__patient=patient, site=site("Gluteus medius")).procedure  # another provider's
    procedure_sign(procedure=other, by=other.provider.user)
    url = f"/admin/clinic/patient/{patient.pk}/change/"

    client.force_login(provider.user)
    mine = client.get(url).content.decode()
    client.force_login(staff_user(roles.CLINIC_ADMIN))
    clinic_admin = client.get(url).content.decode()

    assert _marked(mine) == ["Upper trapezius, left: 2"]
    assert _marked(clinic_admin) == ["Gluteus medius, left: 1", "Upper trapezius, left: 2"]
    assert "shaded by count" in mine


def test_the_stock_list_is_kept_by_clinic_admins_and_read_by_providers(frozen, client, stock):
    client.force_login(staff_user(roles.CLINIC_ADMIN))
    added = client.post(
        "/admin/tpi/stocklot/add/",
        {"agent": "bupivacaine", "concentration_percent": "0.5", "lot_number": " BUPI-9 ", "expires_on": "2026-09-30",
         "is_active": "on"},
    )  # fmt: skip
    current = client.get("/admin/tpi/stocklot/?current=yes")

    assert added.status_code == 302
    assert StockLot.objects.get(agent="bupivacaine", is_active=True).lot_number == "BUPI-9"
    assert sorted(str(lot.lot_number) for lot in current.context["cl"].result_list) == ["BUPI-9", "LIDO-NEW"]
    assert client.get(f"/admin/tpi/stocklot/{stock.pk}/delete/").status_code == 403
    client.force_login(ProviderFactory().user)
    assert client.get("/admin/tpi/stocklot/").status_code == 200
    assert client.get("/admin/tpi/stocklot/add/").status_code == 403
    assert client.get(f"/admin/tpi/stocklot/{stock.pk}/change/").status_code == 200  # read-only view


def test_the_inline_columns_and_details_hold_every_injection_field_once():
    from tpi.admin import InjectionInline
    from tpi.procedures import INJECTION_FIELDS

    assert sorted([*InjectionInline.main_fields, *InjectionInline.detail_fields]) == sorted(
        [*INJECTION_FIELDS, "total_volume"]
    )
    assert Injection._meta.get_field("lot_number").name in InjectionInline.detail_fields
