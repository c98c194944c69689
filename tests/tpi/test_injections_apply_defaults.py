"""injections_apply_defaults and the bilateral per-side volume (issue 10)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import InjectionFactory, ProcedureFactory, ProviderFactory, site
from tpi.exceptions import ProcedureActionNotAllowed, ProcedureStateConflict
from tpi.fast_entry import injection_defaults_fill, injections_apply_defaults
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "anaesthetic_agent": "lidocaine",
    "anaesthetic_concentration_percent": Decimal("1.00"),
    "lot_number": "LIDO-26-001",
    "needle_gauge": 27,
}


@pytest.fixture
def draft(frozen):
    """Lidocaine without lot or needle, bupivacaine without lot, a dry-needled site, lidocaine with its own lot."""
    procedure = ProcedureFactory()
    InjectionFactory(procedure=procedure, lot_number="", needle_gauge=None)
    InjectionFactory(
        procedure=procedure,
        site=site("Levator scapulae"),
        anaesthetic_agent="bupivacaine",
        anaesthetic_concentration_percent=Decimal("0.25"),
        lot_number="",
        needle_gauge=None,
    )
    InjectionFactory(
        procedure=procedure,
        site=site("Rhomboids"),
        dry_needling=True,
        anaesthetic_agent="",
        anaesthetic_concentration_percent=None,
        anaesthetic_volume_ml=None,
        lot_number="",
        needle_gauge=None,
    )
    InjectionFactory(procedure=procedure, site=site("Infraspinatus"), lot_number="OWN-LOT", needle_gauge=30)
    return procedure


def test_fills_only_empty_fields_the_agent_s_lot_to_its_sites_and_the_needle_everywhere(draft):
    changed = injections_apply_defaults(procedure=draft, defaults=DEFAULTS, by=draft.provider.user)

    assert len(changed) == 3
    assert list(draft.injections.values_list("site__name", "anaesthetic_agent", "lot_number", "needle_gauge")) == [
        ("Upper trapezius", "lidocaine", "LIDO-26-001", 27),
        ("Levator scapulae", "bupivacaine", "", 27),  # another agent: its own lot, not lidocaine's
        ("Rhomboids", "", "", 27),  # dry needling takes the needle only
        ("Infraspinatus", "lidocaine", "OWN-LOT", 30),  # typed on the site: the site wins
    ]


def test_without_an_agent_the_lot_goes_to_every_injected_site(draft):
    injections_apply_defaults(procedure=draft, defaults={"lot_number": "MIXED-9"}, by=draft.provider.user)

    assert list(draft.injections.values_list("lot_number", flat=True)) == ["MIXED-9", "MIXED-9", "", "OWN-LOT"]


def test_the_fill_rule_on_a_new_row():
    row = {"anaesthetic_agent": "", "anaesthetic_concentration_percent": "", "lot_number": "", "needle_gauge": ""}

    assert injection_defaults_fill(row=row, defaults=DEFAULTS) == DEFAULTS
    assert injection_defaults_fill(row={**row, "dry_needling": True}, defaults=DEFAULTS) == {"needle_gauge": 27}
    with pytest.raises(ValidationError) as raised:
        injection_defaults_fill(row=row, defaults={"steroid_dose_mg": 10})
    assert raised.value.message_dict == {"steroid_dose_mg": ["Not a default for every site."]}


def test_the_volume_per_side_default_fills_empty_volumes_of_the_agents_sites_only():
    defaults = {"anaesthetic_agent": "lidocaine", "anaesthetic_volume_ml": "1.5"}
    empty = {"anaesthetic_agent": "", "anaesthetic_volume_ml": ""}

    assert injection_defaults_fill(row=empty, defaults=defaults) == defaults
    assert injection_defaults_fill(row={**empty, "anaesthetic_volume_ml": "3"}, defaults=defaults) == {
        "anaesthetic_agent": "lidocaine"
    }
    assert injection_defaults_fill(row={**empty, "anaesthetic_agent": "bupivacaine"}, defaults=defaults) == {}
    assert injection_defaults_fill(row={**empty, "dry_needling": True}, defaults=defaults) == {}


def test_an_invalid_default_changes_nothing(draft):
    with pytest.raises(ValidationError) as raised:
        injections_apply_defaults(procedure=draft, defaults={"needle_gauge": 40}, by=draft.provider.user)

    assert sorted(raised.value.message_dict) == [
        "injections[0].needle_gauge",
        "injections[1].needle_gauge",
        "injections[2].needle_gauge",
    ]
    assert list(draft.injections.values_list("needle_gauge", flat=True)) == [None, None, None, 30]


def test_refused_on_a_signed_note_and_for_another_provider(draft):
    with pytest.raises(ProcedureActionNotAllowed):
        injections_apply_defaults(procedure=draft, defaults=DEFAULTS, by=ProviderFactory().user)
    other = InjectionFactory().procedure
    signed = procedure_sign(procedure=other, by=other.provider.user)
    with pytest.raises(ProcedureStateConflict):
        injections_apply_defaults(procedure=signed, defaults=DEFAULTS, by=signed.provider.user)


def test_bilateral_volume_is_per_side_and_the_total_doubles_it(frozen):
    bilateral = InjectionFactory(laterality="bilateral", anaesthetic_volume_ml=Decimal("1.50"))
    left = InjectionFactory(laterality="left", anaesthetic_volume_ml=Decimal("1.50"))
    needled = InjectionFactory(
        dry_needling=True, anaesthetic_agent="", anaesthetic_concentration_percent=None, anaesthetic_volume_ml=None
    )

    assert (bilateral.anaesthetic_volume_total_ml, left.anaesthetic_volume_total_ml) == (
        Decimal("3.00"),
        Decimal("1.50"),
    )
    assert needled.anaesthetic_volume_total_ml is None
