"""tpi.signing: addenda on signed notes, voiding with a reason, follow-ups cancelled by voiding."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests.factories import InjectionFactory, ProviderFactory, UserFactory
from tpi.exceptions import ProcedureActionNotAllowed, ProcedureStateConflict
from tpi.models import Addendum, FollowUp
from tpi.signing import addendum_add, procedure_sign, procedure_void

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(frozen):
    procedure = InjectionFactory().procedure
    return procedure_sign(procedure=procedure, by=procedure.provider.user)


def test_addenda_are_kept_in_order_with_author_and_time(frozen, signed):
    colleague = UserFactory()
    addendum_add(procedure=signed, author=signed.provider.user, text="  Lot number was LIDO-2026-115.  ")
    with time_machine.travel(frozen + dt.timedelta(hours=1), tick=False):
        addendum_add(procedure=signed, author=colleague, text="Patient called: mild soreness.")

    assert list(signed.addenda.values_list("author", "created_at", "text")) == [
        (signed.provider.user.pk, frozen, "Lot number was LIDO-2026-115."),
        (colleague.pk, frozen + dt.timedelta(hours=1), "Patient called: mild soreness."),
    ]


def test_an_empty_addendum_is_refused(frozen, signed):
    with pytest.raises(ValidationError) as raised:
        addendum_add(procedure=signed, author=signed.provider.user, text="   ")

    assert raised.value.message_dict == {"text": ["Write the addendum text."]}


def test_a_draft_takes_no_addenda(frozen):
    draft = InjectionFactory().procedure

    with pytest.raises(ProcedureStateConflict) as raised:
        addendum_add(procedure=draft, author=draft.provider.user, text="x")

    assert str(raised.value) == "Addenda go on signed procedures only; edit the draft instead."
    assert Addendum.objects.count() == 0


def test_voiding_records_the_reason_and_cancels_scheduled_follow_ups(frozen, signed):
    FollowUp.objects.filter(procedure=signed, kind="check_in").update(status="sent")

    procedure_void(procedure=signed, by=signed.provider.user, reason="Documented on the wrong patient")

    signed.refresh_from_db()
    assert (signed.status, signed.voided_at, signed.voided_by, signed.void_reason) == (
        "voided",
        frozen,
        signed.provider.user,
        "Documented on the wrong patient",
    )
    assert dict(signed.follow_ups.values_list("kind", "status")) == {"check_in": "sent", "reassessment": "cancelled"}
    assert signed.follow_ups.get(kind="reassessment").status_reason == "procedure voided"


def test_voiding_needs_a_reason(frozen, signed):
    with pytest.raises(ValidationError) as raised:
        procedure_void(procedure=signed, by=signed.provider.user, reason=" ")

    assert raised.value.message_dict == {"reason": ["Give the reason for voiding."]}
    signed.refresh_from_db()
    assert signed.status == "signed"


def test_voiding_twice_is_a_conflict(frozen, signed):
    procedure_void(procedure=signed, by=signed.provider.user, reason="duplicate")

    with pytest.raises(ProcedureStateConflict):
        procedure_void(procedure=signed, by=signed.provider.user, reason="duplicate")


def test_another_provider_may_not_void(frozen, signed):
    with pytest.raises(ProcedureActionNotAllowed):
        procedure_void(procedure=signed, by=ProviderFactory().user, reason="duplicate")

    signed.refresh_from_db()
    assert signed.status == "signed"


def test_a_draft_can_be_voided(frozen):
    draft = InjectionFactory().procedure

    procedure_void(procedure=draft, by=draft.provider.user, reason="entered twice")

    draft.refresh_from_db()
    assert draft.status == "voided"
    assert draft.follow_ups.count() == 0
