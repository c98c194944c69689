"""The database itself refuses changes to signed records (triggers from tpi migrations 0003 and 0006)."""

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from tests.factories import InjectionFactory, MassageNoteFactory, site
from tpi.massage import massage_note_sign
from tpi.models import Addendum, Injection, MassageNote, MassageNoteAddendum, Procedure
from tpi.signing import addendum_add, procedure_sign, procedure_void

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(not settings.IS_POSTGRES, reason="delete triggers exist on PostgreSQL only")


@pytest.fixture
def signed(frozen):
    """A signed procedure with a massage note its therapist signed too."""
    injection = InjectionFactory()
    note = MassageNoteFactory(procedure=injection.procedure)
    massage_note_sign(note=note, by=note.therapist.user)
    return procedure_sign(procedure=injection.procedure, by=injection.procedure.provider.user)


def refused(action):
    with pytest.raises(IntegrityError, match="never change"), transaction.atomic():
        action()


def test_a_draft_changes_freely(frozen):
    injection = InjectionFactory()

    Procedure.objects.filter(pk=injection.procedure_id).update(pain_before=2)
    Injection.objects.filter(pk=injection.pk).update(laterality="right")

    assert Injection.objects.get(pk=injection.pk).laterality == "right"


def test_signed_procedure_columns_are_frozen(frozen, signed):
    refused(lambda: Procedure.objects.filter(pk=signed.pk).update(pain_before=1))
    refused(lambda: Procedure.objects.filter(pk=signed.pk).update(status="draft"))
    refused(lambda: Procedure.objects.filter(pk=signed.pk).update(signed_at=None, status="draft"))

    assert Procedure.objects.get(pk=signed.pk).pain_before == 7


def test_signed_injections_and_massage_notes_are_frozen(frozen, signed):
    injection = signed.injections.get()
    note = signed.massage_notes.get()

    refused(lambda: Injection.objects.filter(pk=injection.pk).update(laterality="right"))
    refused(lambda: InjectionFactory(procedure=signed, site=site("Piriformis")))
    refused(lambda: MassageNote.objects.filter(pk=note.pk).update(duration_minutes=30))
    refused(lambda: note.sites.add(site("Piriformis")))

    assert signed.injections.count() == 1
    assert list(note.sites.values_list("name", flat=True)) == ["Upper trapezius"]


def test_addenda_never_change(frozen, signed):
    addendum = addendum_add(procedure=signed, author=signed.provider.user, text="late entry")

    refused(lambda: Addendum.objects.filter(pk=addendum.pk).update(text="rewritten"))


def test_voiding_is_allowed_once_then_the_row_is_frozen(frozen, signed):
    procedure_void(procedure=signed, by=signed.provider.user, reason="wrong patient")

    refused(lambda: Procedure.objects.filter(pk=signed.pk).update(void_reason="something else"))
    refused(lambda: Procedure.objects.filter(pk=signed.pk).update(status="signed"))


@postgres_only
def test_clinical_rows_are_never_deleted_on_postgres(frozen, signed):
    draft_injection = InjectionFactory()

    refused(lambda: Injection.objects.filter(pk=draft_injection.pk).delete())
    refused(lambda: Injection.objects.filter(procedure=signed).delete())
    refused(lambda: signed.massage_notes.get().sites.clear())
    refused(
        lambda: Addendum.objects.filter(
            pk=addendum_add(procedure=signed, author=signed.provider.user, text="x").pk
        ).delete()
    )

    assert Injection.objects.count() == 2


def test_a_note_may_be_added_to_a_signed_procedure_and_edited_until_signed(frozen, signed):
    # Issue 10: the procedure's signature no longer freezes massage notes; the note's own does.
    note = MassageNoteFactory(procedure=signed)
    MassageNote.objects.filter(pk=note.pk).update(duration_minutes=30)
    note.sites.add(site("Piriformis"), through_defaults={"laterality": "left"})

    massage_note_sign(note=note, by=note.therapist.user)

    refused(lambda: MassageNote.objects.filter(pk=note.pk).update(duration_minutes=45))
    refused(lambda: note.sites.add(site("Rhomboids"), through_defaults={"laterality": "left"}))
    refused(lambda: MassageNote.objects.filter(pk=note.pk).update(status="draft"))
    refused(lambda: MassageNoteAddendum.objects.filter(note=note).update(text="x") or _addendum_then_update(note))
    assert MassageNote.objects.get(pk=note.pk).duration_minutes == 30


def _addendum_then_update(note):
    from tpi.massage import massage_note_addendum_add

    addendum = massage_note_addendum_add(note=note, author=note.therapist.user, text="late entry")
    MassageNoteAddendum.objects.filter(pk=addendum.pk).update(text="rewritten")


def test_the_notes_of_a_voided_procedure_are_frozen(frozen, signed):
    draft_note = MassageNoteFactory(procedure=signed)
    procedure_void(procedure=signed, by=signed.provider.user, reason="wrong patient")

    refused(lambda: MassageNote.objects.filter(pk=draft_note.pk).update(duration_minutes=30))
    refused(lambda: MassageNoteFactory(procedure=signed))
    refused(lambda: draft_note.sites.add(site("Rhomboids"), through_defaults={"laterality": "left"}))
