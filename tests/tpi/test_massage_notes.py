"""tpi.procedures massage note services."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tests.factories import InjectionFactory, MassageNoteFactory, ProviderFactory, site
from tpi.exceptions import ProcedureStateConflict
from tpi.massage import massage_note_create, massage_note_sign, massage_note_update
from tpi.models import MassageNote

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(frozen):
    return InjectionFactory(procedure__performed_at=frozen - dt.timedelta(hours=1)).procedure


def fields(draft, **overrides):
    return {
        "therapist": ProviderFactory(role="massage_therapist"),
        "performed_at": draft.performed_at + dt.timedelta(minutes=10),
        "duration_minutes": 12,
        "technique": "effleurage",
        "tolerance": "good",
        "notes": "Spread over trapezius",
        **overrides,
    }


def test_a_procedure_may_have_several_massage_notes(frozen, draft):
    massage_note_create(procedure=draft, sites=[site("Upper trapezius")], **fields(draft))
    massage_note_create(
        procedure=draft,
        sites=[site("Upper trapezius"), {"site": site("Rhomboids"), "laterality": "left"}],
        **fields(draft, technique="petrissage"),
    )

    assert [sorted(n.sites.values_list("name", flat=True)) for n in draft.massage_notes.order_by("id")] == [
        ["Upper trapezius"],
        ["Rhomboids", "Upper trapezius"],
    ]


@pytest.mark.parametrize(
    ("overrides", "sites", "field", "message"),
    [
        (
            {"duration_minutes": 0},
            ["Upper trapezius"],
            "duration_minutes",
            "Ensure this value is greater than or equal to 1.",
        ),
        ({}, [], "sites", "Name at least one massaged site."),
        (
            {"performed_at_delta": -5},
            ["Upper trapezius"],
            "performed_at",
            "The massage follows the injections; it cannot be earlier.",
        ),
    ],
)
def test_invalid_massage_notes_are_refused(frozen, draft, overrides, sites, field, message):
    delta = overrides.pop("performed_at_delta", None)
    data = fields(draft, **overrides)
    if delta is not None:
        data["performed_at"] = draft.performed_at + dt.timedelta(minutes=delta)

    with pytest.raises(ValidationError) as raised:
        massage_note_create(procedure=draft, sites=[site(n) for n in sites], **data)

    assert raised.value.message_dict[field] == [message]
    assert MassageNote.objects.count() == 0


def test_a_signed_massage_note_is_frozen(frozen, draft):
    # Issue 10: a note is frozen by its own signature, no longer by the procedure's.
    note = MassageNoteFactory(procedure=draft)
    massage_note_sign(note=note, by=note.therapist.user)

    with pytest.raises(ProcedureStateConflict):
        massage_note_update(note=note, duration_minutes=30)

    note.refresh_from_db()
    assert note.duration_minutes == 10
    assert MassageNote.objects.count() == 1


@pytest.fixture
def signed(frozen):
    """A procedure performed two hours ago and signed an hour ago (trapezius left, rhomboids bilateral)."""
    import time_machine

    from tpi.signing import procedure_sign

    with time_machine.travel(frozen - dt.timedelta(hours=1), tick=False):
        injection = InjectionFactory(procedure__performed_at=frozen - dt.timedelta(hours=2))
        InjectionFactory(procedure=injection.procedure, site=site("Rhomboids"), laterality="bilateral")
        return procedure_sign(procedure=injection.procedure, by=injection.procedure.provider.user)


def test_a_note_is_added_to_a_signed_procedure_which_does_not_change(frozen, signed):
    before = (signed.status, signed.signed_at, signed.updated_at, list(signed.injections.values()))

    note = massage_note_create(procedure=signed, sites=[site("Upper trapezius"), site("Rhomboids")], **fields(signed))

    signed.refresh_from_db()
    assert (signed.status, signed.signed_at, signed.updated_at, list(signed.injections.values())) == before
    # A bare site takes the side it was injected on.
    assert list(note.massaged_sites.values_list("site__name", "laterality")) == [
        ("Upper trapezius", "left"),
        ("Rhomboids", "bilateral"),
    ]
    assert note.status == "draft"


@pytest.mark.parametrize(
    ("hours_after_signing", "allowed"),
    [(23, True), (24, True), (25, False)],
)
def test_the_window_runs_from_signing(frozen, signed, hours_after_signing, allowed):
    import time_machine

    signed_at = frozen - dt.timedelta(hours=1)
    with time_machine.travel(signed_at + dt.timedelta(hours=hours_after_signing), tick=False):
        if allowed:
            massage_note_create(procedure=signed, sites=[site("Upper trapezius")], **fields(signed))
        else:
            with pytest.raises(ProcedureStateConflict) as raised:
                massage_note_create(procedure=signed, sites=[site("Upper trapezius")], **fields(signed))
            assert raised.value.code == "massage_note_window_closed"

    assert MassageNote.objects.count() == (1 if allowed else 0)


def test_the_window_is_a_setting(frozen, signed, settings):
    settings.TPI_MASSAGE_NOTE_WINDOW = dt.timedelta(minutes=30)

    with pytest.raises(ProcedureStateConflict):
        massage_note_create(procedure=signed, sites=[site("Upper trapezius")], **fields(signed))


def test_no_note_on_a_voided_procedure(frozen, signed):
    from tpi.signing import procedure_void

    procedure_void(procedure=signed, by=signed.provider.user, reason="wrong patient")

    with pytest.raises(ProcedureStateConflict) as raised:
        massage_note_create(procedure=signed, sites=[site("Upper trapezius")], **fields(signed))
    assert raised.value.code == "procedure_voided"


def test_a_site_not_injected_needs_its_side(frozen, signed):
    with pytest.raises(ValidationError) as raised:
        massage_note_create(procedure=signed, sites=[site("Piriformis")], **fields(signed))

    assert raised.value.message_dict["sites"] == ["Give the side massaged for Piriformis."]
    note = massage_note_create(
        procedure=signed, sites=[{"site": site("Piriformis"), "laterality": "midline"}], **fields(signed)
    )
    assert list(note.massaged_sites.values_list("laterality", flat=True)) == ["midline"]


def test_a_draft_note_is_corrected_after_the_procedure_is_signed_then_signed_and_amended(frozen, signed):
    from tpi.massage import massage_note_addendum_add

    note = massage_note_create(procedure=signed, sites=[site("Upper trapezius")], **fields(signed))
    massage_note_update(
        note=note, duration_minutes=15, sites=[{"site": site("Upper trapezius"), "laterality": "right"}]
    )
    therapist_user = note.therapist.user

    signed_note = massage_note_sign(note=note, by=therapist_user)
    addendum = massage_note_addendum_add(note=note, author=therapist_user, text="Patient called: mild bruising.")

    assert (signed_note.status, signed_note.signed_at, signed_note.signed_by) == ("signed", frozen, therapist_user)
    assert list(note.massaged_sites.values_list("laterality", flat=True)) == ["right"]
    assert list(note.addenda.values_list("text", flat=True)) == ["Patient called: mild bruising."]
    assert addendum.author == therapist_user
    with pytest.raises(ProcedureStateConflict):
        massage_note_sign(note=note, by=therapist_user)


def test_only_the_notes_therapist_or_a_clinic_admin_signs_it(frozen, signed):
    from django.core.exceptions import PermissionDenied

    from tpi.massage import massage_note_addendum_add

    note = massage_note_create(procedure=signed, sites=[site("Upper trapezius")], **fields(signed))
    other = ProviderFactory(role="massage_therapist").user

    with pytest.raises(PermissionDenied):
        massage_note_sign(note=note, by=other)
    with pytest.raises(ProcedureStateConflict):
        massage_note_addendum_add(note=note, author=note.therapist.user, text="too early: still a draft")
    note.refresh_from_db()
    assert note.status == "draft"


def test_a_massage_note_addendum_is_titled_in_clinic_time(signed):
    import time_machine

    from tpi.massage import massage_note_addendum_add

    note = massage_note_create(procedure=signed, sites=[site("Upper trapezius")], **fields(signed))
    therapist_user = note.therapist.user
    massage_note_sign(note=note, by=therapist_user)
    # 02:30 UTC on 30 Nov is 21:30 on 29 Nov in the clinic's zone (New York).
    with time_machine.travel(dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC), tick=False):
        addendum = massage_note_addendum_add(note=note, author=therapist_user, text="Mild bruising.")

    assert str(addendum) == "Addendum 2026-11-29 21:30"
