"""Draft documentation services: create and edit a procedure and its injections.

Every write locks the procedure row first and refuses anything but a draft, so a signed note and its
injections never change again (corrections are addenda, see tpi/signing.py). Massage notes are the
therapist's own document: tpi/massage.py.
Nothing here deletes: a draft's injection is corrected in place, a wrong procedure is voided.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.accounts.actors import Actor
from tpi.exceptions import ProcedureStateConflict
from tpi.models import Injection, Procedure

# Fields callers may set, in the order the admin and the API show them; status, signature and void
# fields change only through tpi/signing.py.
PROCEDURE_FIELDS = (
    "patient",
    "provider",
    "appointment",
    "performed_at",
    "indication",
    "indication_icd10",
    "pain_before",
    "pain_after",
    "consent_obtained",
    "consent_obtained_by",
    "consent_obtained_at",
    "guidance",
    "complications",
)
INJECTION_FIELDS = (
    "site",
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


def _refuse_unknown(fields: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be set here."))


def _lock_draft(procedure: Procedure) -> Procedure:
    """Return the procedure re-read under a row lock; refuse unless it is still a draft."""
    locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
    if locked.status != Procedure.Status.DRAFT:
        raise ProcedureStateConflict(
            f"This procedure is {locked.status}; it can no longer be changed (add an addendum instead).",
            code=f"procedure_{locked.status}",
        )
    return locked


def _validate_procedure(procedure: Procedure, by: Actor) -> None:
    if procedure.consent_obtained:
        # Recording consent in the same request: who defaults to the user, when to now.
        if procedure.consent_obtained_by_id is None and by is not None:
            procedure.consent_obtained_by = by
        if procedure.consent_obtained_at is None:
            procedure.consent_obtained_at = timezone.now()
    procedure.full_clean()


def _build_injection(injection: Injection, fields: Mapping[str, Any], prefix: str) -> Injection:
    for name, value in fields.items():
        setattr(injection, name, value)
    try:
        injection.full_clean(exclude=["procedure"])
    except ValidationError as exc:
        raise ValidationError({f"{prefix}.{field}": msgs for field, msgs in exc.message_dict.items()}) from exc
    return injection


def _save_injections(procedure: Procedure, injections: Sequence[Mapping[str, Any]]) -> None:
    """Update the listed injections that carry an id, add the others; refuse to drop an existing one."""
    existing = {i.pk: i for i in procedure.injections.all()}
    errors: dict[str, list[str]] = {}
    listed_ids = {item.get("id") for item in injections if item.get("id") is not None}
    dropped = sorted(set(existing) - listed_ids)
    if dropped:
        errors["injections"] = [
            f"Injections {dropped} are missing: injections are never deleted; correct them, or void the procedure."
        ]
    rows = []
    for index, item in enumerate(injections):
        fields = {k: v for k, v in item.items() if k != "id"}
        try:
            _refuse_unknown(fields, INJECTION_FIELDS)
            pk = item.get("id")
            if pk is not None and pk not in existing:
                raise ValidationError({"id": "No such injection on this procedure."})
            injection = existing[pk] if pk is not None else Injection(procedure=procedure)
            rows.append(_build_injection(injection, fields, f"injections[{index}]"))
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                key = field if field.startswith("injections[") else f"injections[{index}].{field}"
                errors.setdefault(key, []).extend(msgs)
    if errors:
        raise ValidationError(errors)
    for injection in rows:
        injection.procedure = procedure
        injection.save()


@transaction.atomic
def procedure_create(*, by: Actor, injections: Sequence[Mapping[str, Any]] = (), **fields: Any) -> Procedure:
    """Create a draft procedure with its injections (one per site); validates everything first."""
    _refuse_unknown(fields, PROCEDURE_FIELDS)
    procedure = Procedure(**fields)
    _validate_procedure(procedure, by)
    procedure.save()
    _save_injections(procedure, injections)
    return procedure


@transaction.atomic
def procedure_update(
    *, procedure: Procedure, by: Actor, injections: Sequence[Mapping[str, Any]] | None = None, **fields: Any
) -> Procedure:
    """Change a draft procedure (and, when given, its injections); a signed or voided one is refused."""
    _refuse_unknown(fields, PROCEDURE_FIELDS)
    locked = _lock_draft(procedure)
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate_procedure(locked, by)
    locked.save()
    if injections is not None:
        _save_injections(locked, injections)
    return locked


@transaction.atomic
def injection_add(*, procedure: Procedure, **fields: Any) -> Injection:
    """Add one treated site to a draft procedure."""
    _refuse_unknown(fields, INJECTION_FIELDS)
    locked = _lock_draft(procedure)
    injection = Injection(procedure=locked, **fields)
    injection.full_clean()
    injection.save()
    return injection


@transaction.atomic
def injection_update(*, injection: Injection, **fields: Any) -> Injection:
    """Correct one injection of a draft procedure."""
    _refuse_unknown(fields, INJECTION_FIELDS)
    _lock_draft(injection.procedure)
    fresh = Injection.objects.get(pk=injection.pk)
    for name, value in fields.items():
        setattr(fresh, name, value)
    fresh.full_clean()
    fresh.save()
    return fresh
