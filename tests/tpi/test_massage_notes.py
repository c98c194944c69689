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
