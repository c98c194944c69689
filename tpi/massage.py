"""Massage notes: the therapist's own document, written, signed and corrected apart from the procedure.

A note hangs off a procedure (the massage spreads the medication that was just injected) but never
changes it: it may be added while the procedure is a draft, or after it was signed until
settings.TPI_MASSAGE_NOTE_WINDOW past the later of performed and signed; never to a voided one.
Its therapist (or a clinic admin) edits it while it is a draft and signs it; a signed note is frozen
(tpi migration 0006's triggers say so too) and corrected by a MassageNoteAddendum.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.accounts.actors import Actor, AnyUser
from tpi.access import massage_note_may_change
from tpi.exceptions import ProcedureActionNotAllowed, ProcedureStateConflict
from tpi.models import (
    Injection,
    Laterality,
    MassagedSite,
    MassageNote,
    MassageNoteAddendum,
    Procedure,
    TriggerPointSite,
)

MASSAGE_FIELDS = ("therapist", "performed_at", "duration_minutes", "technique", "tolerance", "notes")

# A massaged site: {"site": TriggerPointSite, "laterality": "left"}, or a bare site, which takes the
# side it was injected on (refused when the procedure did not inject it on exactly one side).
MassagedSiteInput = TriggerPointSite | Mapping[str, Any]


def massage_note_deadline(*, procedure: Procedure) -> dt.datetime | None:
    """Return until when a massage note may be added to PROCEDURE (None: no limit while it is a draft)."""
    if procedure.is_draft:
        return None
    start = max(procedure.performed_at, procedure.signed_at or procedure.performed_at)
    return start + settings.TPI_MASSAGE_NOTE_WINDOW


def massage_note_may_be_added(*, procedure: Procedure, now: dt.datetime) -> bool:
    """Return True when a massage note may be added to PROCEDURE at NOW."""
    if procedure.status == Procedure.Status.VOIDED:
        return False
    deadline = massage_note_deadline(procedure=procedure)
    return deadline is None or now <= deadline


def _refuse_unknown(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(MASSAGE_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be set here."))


def _massaged_sites(procedure: Procedure, sites: Iterable[MassagedSiteInput]) -> list[tuple[TriggerPointSite, str]]:
    """Return (site, laterality) pairs; a bare site takes the one side it was injected on."""
    injected: dict[int, set[str]] = {}
    for site_id, side in Injection.objects.filter(procedure=procedure).values_list("site_id", "laterality"):
        injected.setdefault(site_id, set()).add(side)
    pairs, errors = [], []
    for item in sites:
        if isinstance(item, TriggerPointSite):
            sides = injected.get(item.pk, set())
            if len(sides) != 1:
                errors.append(f"Give the side massaged for {item.name}.")
                continue
            pairs.append((item, sides.pop()))
            continue
        site, given = item.get("site"), item.get("laterality")
        if not isinstance(site, TriggerPointSite) or given not in Laterality.values:
            name = site.name if isinstance(site, TriggerPointSite) else "each site"
            errors.append(f"Give the site and the side massaged for {name} (left, right, bilateral, midline).")
            continue
        pairs.append((site, str(given)))
    seen = [site.pk for site, _ in pairs]
    if len(seen) != len(set(seen)):
        errors.append("Name each massaged site once (bilateral for both sides).")
    if errors:
        raise ValidationError({"sites": errors})
    return pairs


def _validate(note: MassageNote, procedure: Procedure, sites: list[tuple[TriggerPointSite, str]] | None) -> None:
    errors: dict[str, list[str]] = {}
    try:
        note.full_clean(exclude=["procedure"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if note.performed_at and note.performed_at < procedure.performed_at:
        errors.setdefault("performed_at", []).append("The massage follows the injections; it cannot be earlier.")
    if sites is not None and not sites:
        errors.setdefault("sites", []).append("Name at least one massaged site.")
    if errors:
        raise ValidationError(errors)


def _set_sites(note: MassageNote, sites: list[tuple[TriggerPointSite, str]]) -> None:
    """Make NOTE's massaged sites exactly SITES, row by row (so the write audit sees each row)."""
    wanted = {site.pk: side for site, side in sites}
    for row in MassagedSite.objects.filter(note=note):
        if row.site_id not in wanted:
            row.delete()
        elif row.laterality != wanted.pop(row.site_id):
            row.laterality = next(side for site, side in sites if site.pk == row.site_id)
            row.save(update_fields=["laterality"])
    for site, side in sites:
        if site.pk in wanted:
            MassagedSite.objects.create(note=note, site=site, laterality=side)


def _lock_procedure(procedure: Procedure) -> Procedure:
    return Procedure.objects.select_for_update().get(pk=procedure.pk)


def _lock_draft_note(note: MassageNote) -> MassageNote:
    locked = MassageNote.objects.select_for_update().select_related("procedure").get(pk=note.pk)
    if locked.procedure.status == Procedure.Status.VOIDED:
        raise ProcedureStateConflict(
            "The procedure is voided; its massage notes no longer change.", code="procedure_voided"
        )
    if not locked.is_draft:
        raise ProcedureStateConflict(
            "This massage note is signed; it can no longer be changed (add an addendum instead).",
            code=f"massage_note_{locked.status}",
        )
    return locked


@transaction.atomic
def massage_note_create(*, procedure: Procedure, sites: Sequence[MassagedSiteInput], **fields: Any) -> MassageNote:
    """Document a post-injection massage on a draft procedure, or on a signed one within the window."""
    _refuse_unknown(fields)
    locked = _lock_procedure(procedure)
    if not massage_note_may_be_added(procedure=locked, now=timezone.now()):
        if locked.status == Procedure.Status.VOIDED:
            raise ProcedureStateConflict(
                "The procedure is voided; no massage note can be added.", code="procedure_voided"
            )
        deadline = timezone.localtime(massage_note_deadline(procedure=locked))
        raise ProcedureStateConflict(
            f"Massage notes could be added to this procedure until {deadline:%Y-%m-%d %H:%M}; "
            "add late information as an addendum to an existing note.",
            code="massage_note_window_closed",
        )
    pairs = _massaged_sites(locked, sites)
    note = MassageNote(procedure=locked, **fields)
    _validate(note, locked, pairs)
    note.save()
    _set_sites(note, pairs)
    return note


@transaction.atomic
def massage_note_update(
    *, note: MassageNote, sites: Sequence[MassagedSiteInput] | None = None, **fields: Any
) -> MassageNote:
    """Correct a massage note while it is a draft (whatever its procedure's state, unless voided)."""
    _refuse_unknown(fields)
    locked = _lock_draft_note(note)
    for name, value in fields.items():
        setattr(locked, name, value)
    pairs = _massaged_sites(locked.procedure, sites) if sites is not None else None
    _validate(locked, locked.procedure, pairs)
    locked.save()
    if pairs is not None:
        _set_sites(locked, pairs)
    return locked


def massage_note_check_permission(*, note: MassageNote, user: AnyUser | None, action: str) -> None:
    """Refuse (403) unless USER is NOTE's therapist or a clinic admin."""
    if not massage_note_may_change(user=user, note=note):
        raise ProcedureActionNotAllowed(f"Only the note's own therapist or a clinic admin may {action} it.")


@transaction.atomic
def massage_note_sign(*, note: MassageNote, by: Actor) -> MassageNote:
    """Sign a draft massage note (its therapist or a clinic admin); from then on it never changes."""
    locked = _lock_draft_note(note)
    massage_note_check_permission(note=locked, user=by, action="sign")
    MassageNote.TRANSITIONS.check(locked.status, MassageNote.Status.SIGNED)
    if not MassagedSite.objects.filter(note=locked).exists():
        raise ValidationError({"sites": "Name at least one massaged site before signing."})
    locked.status = MassageNote.Status.SIGNED
    locked.signed_at = timezone.now()
    locked.signed_by = by
    locked.save(update_fields=["status", "signed_at", "signed_by"])
    return locked


@transaction.atomic
def massage_note_addendum_add(*, note: MassageNote, author: Any, text: str) -> MassageNoteAddendum:
    """Append a correction or late entry to a signed massage note (the signed text never changes)."""
    locked = MassageNote.objects.select_for_update().get(pk=note.pk)
    massage_note_check_permission(note=locked, user=author, action="add an addendum to")
    if not locked.is_signed:
        raise ProcedureStateConflict("Addenda go on signed massage notes only; edit the draft instead.",
                                     code="massage_note_draft")  # fmt: skip
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum text."})
    addendum = MassageNoteAddendum(note=locked, author=author, text=text, created_at=timezone.now())
    addendum.full_clean()
    addendum.save()
    return addendum
