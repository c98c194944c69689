"""tpi.signing.procedure_sign: who may sign, what signing needs, and the follow-ups it creates."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings

from tests.factories import InjectionFactory, ProcedureFactory, ProviderFactory, UserFactory
from tpi.exceptions import ProcedureActionNotAllowed, ProcedureStateConflict
from tpi.models import FollowUp, Procedure
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(frozen):
    return InjectionFactory(procedure__performed_at=frozen - dt.timedelta(hours=2)).procedure


def test_signing_records_who_and_when_and_creates_the_follow_ups(frozen, draft):
    signed = procedure_sign(procedure=draft, by=draft.provider.user)

    draft.refresh_from_db()
    assert (draft.status, draft.signed_at, draft.signed_by) == ("signed", frozen, draft.provider.user)
    assert signed.is_signed
    assert list(draft.follow_ups.order_by("due_at").values_list("kind", "due_at", "status")) == [
        ("check_in", draft.performed_at + dt.timedelta(hours=72), "scheduled"),
        ("reassessment", draft.performed_at + dt.timedelta(days=30), "scheduled"),
    ]


@override_settings(TPI_CHECKIN_AFTER=dt.timedelta(hours=48), TPI_REASSESSMENT_AFTER=dt.timedelta(days=28))
def test_follow_up_intervals_are_settings(frozen, draft):
    procedure_sign(procedure=draft, by=draft.provider.user)

    assert dict(draft.follow_ups.values_list("kind", "due_at")) == {
        "check_in": draft.performed_at + dt.timedelta(hours=48),
        "reassessment": draft.performed_at + dt.timedelta(days=28),
    }


def test_signing_twice_is_a_conflict_and_keeps_the_first_signature(frozen, draft):
    procedure_sign(procedure=draft, by=draft.provider.user)

    with pytest.raises(ProcedureStateConflict) as raised:
        procedure_sign(procedure=draft, by=draft.provider.user)

    assert str(raised.value) == "This procedure is already signed."
    assert FollowUp.objects.count() == 2


def test_another_provider_may_not_sign(frozen, draft):
    other = ProviderFactory()

    with pytest.raises(ProcedureActionNotAllowed) as raised:
        procedure_sign(procedure=draft, by=other.user)

    assert str(raised.value) == "Only the procedure's own provider or a clinic admin may sign it."
    draft.refresh_from_db()
    assert draft.status == Procedure.Status.DRAFT
    assert FollowUp.objects.count() == 0


def test_a_user_without_provider_profile_may_not_sign(frozen, draft):
    with pytest.raises(ProcedureActionNotAllowed):
        procedure_sign(procedure=draft, by=UserFactory())


def test_a_clinic_admin_may_sign_for_the_provider(frozen, draft):
    admin_user = UserFactory()
    admin_user.groups.add(Group.objects.get(name="clinic admin"))

    procedure_sign(procedure=draft, by=admin_user)

    draft.refresh_from_db()
    assert (draft.status, draft.signed_by) == ("signed", admin_user)


def test_a_superuser_may_sign(frozen, draft):
    root = UserFactory(is_superuser=True)

    procedure_sign(procedure=draft, by=root)

    draft.refresh_from_db()
    assert draft.signed_by == root


def test_signing_needs_consent_pain_after_and_an_injection(frozen):
    procedure = ProcedureFactory(
        consent_obtained=False, consent_obtained_by=None, consent_obtained_at=None, pain_after=None
    )

    with pytest.raises(ValidationError) as raised:
        procedure_sign(procedure=procedure, by=procedure.provider.user)

    assert raised.value.message_dict == {
        "consent_obtained": ["Consent must be recorded before signing."],
        "pain_after": ["Record the pain score right after the injections before signing."],
        "injections": ["Document at least one injection before signing."],
    }
    procedure.refresh_from_db()
    assert procedure.status == "draft"
    assert FollowUp.objects.count() == 0


def test_a_voided_procedure_cannot_be_signed(frozen, draft):
    Procedure.objects.filter(pk=draft.pk).update(status="voided", voided_at=frozen, void_reason="wrong patient")

    with pytest.raises(ProcedureStateConflict) as raised:
        procedure_sign(procedure=draft, by=draft.provider.user)

    assert str(raised.value) == "This procedure is already voided."


def test_follow_up_rows_are_guarded_by_the_database(frozen, draft):
    procedure_sign(procedure=draft, by=draft.provider.user)
    check_in = draft.follow_ups.get(kind="check_in")

    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(procedure=draft, kind="check_in", due_at=frozen)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=check_in.pk).update(answer_pain_score=11, answered_at=frozen)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=check_in.pk).update(answer_pain_score=4)
    FollowUp.objects.filter(pk=check_in.pk).update(answer_pain_score=0, answered_at=frozen, status="answered")
    assert FollowUp.objects.get(pk=check_in.pk).answer_pain_score == 0
