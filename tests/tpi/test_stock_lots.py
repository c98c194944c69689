"""The stocked anaesthetic lots: current lots for the quick picks, an expired or wrong-agent lot refused."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import InjectionFactory, ProcedureFactory, site
from tpi.fast_entry import injections_apply_defaults
from tpi.models import StockLot
from tpi.procedures import injection_add, injection_update, procedure_create

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)  # the clinic day of tests.tpi.conftest.NOW (15:00 UTC is 10:00 in New York)


def lot(number: str, *, expires_on: dt.date, agent: str = "lidocaine", active: bool = True) -> StockLot:
    return StockLot.objects.create(
        agent=agent,
        concentration_percent=Decimal("1.00") if agent == "lidocaine" else Decimal("0.25"),
        lot_number=number,
        expires_on=expires_on,
        is_active=active,
    )


def row(**overrides):
    return {
        "site": site("Rhomboids"),
        "laterality": "left",
        "anaesthetic_agent": "lidocaine",
        "anaesthetic_concentration_percent": Decimal("1.00"),
        "anaesthetic_volume_ml": Decimal("1.00"),
        **overrides,
    }


def test_current_lots_are_active_and_usable_through_their_expiry_day(frozen, settings):
    settings.TIME_ZONE = "America/New_York"
    lot("TODAY", expires_on=TODAY)
    lot("LATER", expires_on=TODAY + dt.timedelta(days=90))
    lot("YESTERDAY", expires_on=TODAY - dt.timedelta(days=1))
    lot("WITHDRAWN", expires_on=TODAY + dt.timedelta(days=90), active=False)

    current = StockLot.objects.current(on=TODAY)

    assert sorted(current.values_list("lot_number", flat=True)) == ["LATER", "TODAY"]
    assert str(StockLot.objects.get(lot_number="LATER")) == "Lidocaine 1% lot LATER (expires 2026-06-08)"


def test_an_expired_lot_is_refused_with_a_clear_message(frozen, settings):
    settings.TIME_ZONE = "America/New_York"
    lot("LIDO-OLD", expires_on=TODAY - dt.timedelta(days=1))
    draft = ProcedureFactory()

    with pytest.raises(ValidationError) as raised:
        injection_add(procedure=draft, **row(lot_number="LIDO-OLD"))

    assert raised.value.message_dict == {
        "lot_number": ["Lot LIDO-OLD (Lidocaine 1%) expired on 2026-03-09; take a vial from a current lot."]
    }
    assert draft.injections.count() == 0


def test_the_lot_is_judged_on_the_procedure_s_clinic_day_not_today(frozen, settings):
    settings.TIME_ZONE = "America/New_York"
    lot("LIDO-EXPIRED-TODAY", expires_on=TODAY - dt.timedelta(days=1))
    yesterday = ProcedureFactory(performed_at=frozen - dt.timedelta(days=1))  # 2026-03-09, 10:00 in New York

    injection = injection_add(procedure=yesterday, **row(lot_number="LIDO-EXPIRED-TODAY"))

    assert injection.lot_number == "LIDO-EXPIRED-TODAY"


def test_a_lot_of_another_agent_is_refused_an_unknown_or_withdrawn_lot_is_accepted(frozen):
    lot("BUPI-1", expires_on=TODAY + dt.timedelta(days=30), agent="bupivacaine")
    lot("LIDO-WITHDRAWN", expires_on=TODAY + dt.timedelta(days=30), active=False)
    draft = ProcedureFactory()

    with pytest.raises(ValidationError) as raised:
        injection_add(procedure=draft, **row(lot_number="BUPI-1"))
    unknown = injection_add(procedure=draft, **row(lot_number="NOT-IN-STOCK"))
    withdrawn = injection_add(procedure=draft, **row(site=site("Deltoid"), lot_number="LIDO-WITHDRAWN"))

    assert raised.value.message_dict == {"lot_number": ["Lot BUPI-1 is a bupivacaine lot, not lidocaine."]}
    assert (unknown.lot_number, withdrawn.lot_number) == ("NOT-IN-STOCK", "LIDO-WITHDRAWN")


def test_every_writing_service_refuses_the_expired_lot(frozen, settings):
    settings.TIME_ZONE = "America/New_York"
    lot("LIDO-OLD", expires_on=TODAY - dt.timedelta(days=30))
    draft = InjectionFactory(lot_number="").procedure
    injection = draft.injections.get()

    with pytest.raises(ValidationError) as updated:
        injection_update(injection=injection, lot_number="LIDO-OLD")
    with pytest.raises(ValidationError) as defaults:
        injections_apply_defaults(procedure=draft, defaults={"lot_number": "LIDO-OLD"}, by=draft.provider.user)
    with pytest.raises(ValidationError) as created:
        procedure_create(
            by=draft.provider.user,
            patient=draft.patient,
            provider=draft.provider,
            performed_at=frozen - dt.timedelta(minutes=5),
            indication="Neck pain",
            pain_before=6,
            injections=[row(lot_number="LIDO-OLD")],
        )

    assert list(updated.value.message_dict) == ["lot_number"]
    assert list(defaults.value.message_dict) == ["injections[0].lot_number"]
    assert list(created.value.message_dict) == ["injections[0].lot_number"]
    injection.refresh_from_db()
    assert injection.lot_number == ""


def test_the_database_refuses_a_second_row_for_the_same_lot_and_a_zero_strength(frozen):
    from django.db import IntegrityError, transaction

    lot("LIDO-1", expires_on=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        lot("LIDO-1", expires_on=TODAY + dt.timedelta(days=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLot.objects.create(agent="lidocaine", concentration_percent=0, lot_number="Z", expires_on=TODAY)
