"""procedure_copy_forward: sites, sides, agents and amounts from the last signed procedure (issue 10)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import InjectionFactory, PatientFactory, ProcedureFactory, ProviderFactory, site
from tpi.exceptions import ProcedureActionNotAllowed, ProcedureStateConflict
from tpi.fast_entry import procedure_copy_forward
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db

ROW = (
    "site__name",
    "laterality",
    "dry_needling",
    "anaesthetic_agent",
    "anaesthetic_concentration_percent",
    "anaesthetic_volume_ml",
    "steroid_agent",
    "steroid_dose_mg",
    "needle_gauge",
    "lot_number",
)


def signed_with_sites(patient, provider, performed_at, rows):
    procedure = ProcedureFactory(patient=patient, provider=provider, performed_at=performed_at)
    for fields in rows:
        InjectionFactory(procedure=procedure, **fields)
    return procedure_sign(procedure=procedure, by=provider.user)


@pytest.fixture
def history(frozen):
    """Two signed procedures of one patient (the later one has three sites) and today's empty draft."""
    patient, provider = PatientFactory(), ProviderFactory()
    signed_with_sites(patient, provider, frozen - dt.timedelta(days=30), [{"site": site("Rhomboids")}])
    last = signed_with_sites(
        patient,
        provider,
        frozen - dt.timedelta(days=14),
        [
            {"site": site("Upper trapezius"), "laterality": "bilateral", "anaesthetic_volume_ml": Decimal("1.50")},
            {
                "site": site("Levator scapulae"),
                "laterality": "right",
                "anaesthetic_agent": "bupivacaine",
                "anaesthetic_concentration_percent": Decimal("0.25"),
                "steroid_agent": "triamcinolone",
                "steroid_dose_mg": Decimal("10.00"),
                "needle_gauge": 27,
            },
            {
                "site": site("Rhomboids"),
                "laterality": "left",
                "dry_needling": True,
                "anaesthetic_agent": "",
                "anaesthetic_concentration_percent": None,
                "anaesthetic_volume_ml": None,
                "lot_number": "",
            },
        ],
    )
    draft = ProcedureFactory(patient=patient, provider=provider, pain_before=4, pain_after=None)
    return draft, last, provider


def test_copies_sites_sides_agents_amounts_and_needle_never_lot_pain_consent_or_times(history, frozen):
    draft, _, provider = history

    added = procedure_copy_forward(procedure=draft, by=provider.user)

    assert len(added) == 3
    assert list(draft.injections.values_list(*ROW)) == [
        ("Upper trapezius", "bilateral", False, "lidocaine", Decimal("1.00"), Decimal("1.50"), "", None, 25, ""),
        (
            "Levator scapulae", "right", False, "bupivacaine", Decimal("0.25"), Decimal("2.00"), "triamcinolone",
            Decimal("10.00"), 27, "",
        ),
        ("Rhomboids", "left", True, "", None, None, "", None, 25, ""),
    ]  # fmt: skip
    draft.refresh_from_db()
    assert (draft.pain_before, draft.pain_after, draft.performed_at) == (4, None, frozen - dt.timedelta(hours=1))
    assert draft.consent_obtained_at == frozen - dt.timedelta(hours=1, minutes=10)
    assert draft.status == "draft"


def test_copying_twice_adds_nothing_and_keeps_sites_already_documented(history):
    draft, _, provider = history
    InjectionFactory(procedure=draft, site=site("Upper trapezius"), laterality="bilateral", anaesthetic_volume_ml=3)
    first = procedure_copy_forward(procedure=draft, by=provider.user)

    second = procedure_copy_forward(procedure=draft, by=provider.user)

    assert [i.site.name for i in first] == ["Levator scapulae", "Rhomboids"]
    assert second == []
    assert draft.injections.get(site__name="Upper trapezius").anaesthetic_volume_ml == Decimal("3.00")


def test_refused_without_a_signed_procedure(frozen):
    draft = ProcedureFactory()
    ProcedureFactory(patient=draft.patient, provider=draft.provider)  # another draft is no source

    with pytest.raises(ValidationError) as raised:
        procedure_copy_forward(procedure=draft, by=draft.provider.user)

    assert raised.value.message_dict == {"procedure": ["This patient has no signed procedure to copy from."]}
    assert draft.injections.count() == 0


def test_refused_on_a_signed_procedure_and_for_another_provider(history):
    draft, last, provider = history

    with pytest.raises(ProcedureStateConflict):
        procedure_copy_forward(procedure=last, by=provider.user)
    with pytest.raises(ProcedureActionNotAllowed):
        procedure_copy_forward(procedure=draft, by=ProviderFactory().user)
    assert draft.injections.count() == 0
