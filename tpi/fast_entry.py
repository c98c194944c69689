"""Fast entry on a draft procedure: copy forward from the patient's last signed procedure, one defaults row.

Copying forward carries what is usually repeated (sites, sides, dry needling, agents, concentrations,
volumes, steroid doses, needle gauge) and never what must be observed or recorded afresh: pain
scores, consent, times, indication, complications, or the lot number (the vial differs each visit).
Only a draft changes, under its row lock, by whoever may change it (tpi.access); a site and side
already on the draft is left as it is, so copying twice adds nothing.

The defaults row (agent, concentration, lot, volume per side, needle gauge) fills EMPTY fields only, so
a value typed on a site overrides it. The needle gauge goes to every site; the agent, concentration,
lot and volume only to injected sites (a dry-needled site takes no medication), and when the row
names an agent its concentration, lot and volume go only to sites of that agent (a lidocaine lot
never lands on bupivacaine).
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.accounts.actors import Actor
from tpi.access import procedure_may_change
from tpi.exceptions import ProcedureActionNotAllowed
from tpi.models import Injection, Procedure
from tpi.procedures import _lock_draft

# What one injection row carries forward; the lot number and everything on the procedure stay behind.
COPIED_INJECTION_FIELDS = (
    "site",
    "laterality",
    "dry_needling",
    "anaesthetic_agent",
    "anaesthetic_concentration_percent",
    "anaesthetic_volume_ml",
    "steroid_agent",
    "steroid_dose_mg",
    "needle_gauge",
)


def _check_may_change(procedure: Procedure, by: Actor) -> None:
    if not procedure_may_change(user=by, procedure=procedure):
        raise ProcedureActionNotAllowed("Only the procedure's own provider or a clinic admin may change it.")


def procedure_copy_source(*, procedure: Procedure) -> Procedure | None:
    """Return the patient's last signed procedure by performed_at (other than PROCEDURE), or None."""
    return (
        Procedure.objects.filter(patient_id=procedure.patient_id, status=Procedure.Status.SIGNED)
        .exclude(pk=procedure.pk)
        .order_by("-performed_at", "-id")
        .first()
    )


@transaction.atomic
def procedure_copy_forward(*, procedure: Procedure, by: Actor) -> list[Injection]:
    """Add to the draft the injections of the patient's last signed procedure; return the rows added."""
    _check_may_change(procedure, by)
    locked = _lock_draft(procedure)
    source = procedure_copy_source(procedure=locked)
    if source is None:
        raise ValidationError(
            {"procedure": "This patient has no signed procedure to copy from."}, code="no_signed_procedure"
        )
    present = set(locked.injections.values_list("site_id", "laterality"))
    added = []
    for previous in source.injections.order_by("id"):
        if (previous.site_id, previous.laterality) in present:
            continue
        injection = Injection(procedure=locked, **{f: getattr(previous, f) for f in COPIED_INJECTION_FIELDS})
        injection.full_clean()
        injection.save()
        added.append(injection)
    return added


DEFAULT_FIELDS = (
    "anaesthetic_agent",
    "anaesthetic_concentration_percent",
    "lot_number",
    "anaesthetic_volume_ml",
    "needle_gauge",
)


def _empty(value: Any) -> bool:
    return value in ("", None)


def injection_defaults_fill(*, row: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields of ROW (an injection's values) that DEFAULTS fills: only empty ones, see the module rules."""
    unknown = sorted(set(defaults) - set(DEFAULT_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Not a default for every site."))
    given = {name: value for name, value in defaults.items() if not _empty(value)}
    filled: dict[str, Any] = {}
    if "needle_gauge" in given and _empty(row.get("needle_gauge")):
        filled["needle_gauge"] = given["needle_gauge"]
    if row.get("dry_needling"):
        return filled
    if "anaesthetic_agent" in given and _empty(row.get("anaesthetic_agent")):
        filled["anaesthetic_agent"] = given["anaesthetic_agent"]
    agent = filled.get("anaesthetic_agent", row.get("anaesthetic_agent"))
    if "anaesthetic_agent" in given and agent != given["anaesthetic_agent"]:
        return filled  # another agent on this site: its own concentration, lot and volume
    for name in ("anaesthetic_concentration_percent", "lot_number", "anaesthetic_volume_ml"):
        if name in given and _empty(row.get(name)):
            filled[name] = given[name]
    return filled


@transaction.atomic
def injections_apply_defaults(*, procedure: Procedure, defaults: Mapping[str, Any], by: Actor) -> list[Injection]:
    """Fill the empty fields of every site on the draft from DEFAULTS; return the injections changed."""
    _check_may_change(procedure, by)
    locked = _lock_draft(procedure)
    changed = []
    errors: dict[str, list[str]] = {}
    for index, injection in enumerate(locked.injections.order_by("id")):
        row = {name: getattr(injection, name) for name in (*DEFAULT_FIELDS, "dry_needling")}
        filled = injection_defaults_fill(row=row, defaults=defaults)
        if not filled:
            continue
        for name, value in filled.items():
            setattr(injection, name, value)
        try:
            injection.full_clean()
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                errors.setdefault(f"injections[{index}].{field}", []).extend(msgs)
            continue
        changed.append(injection)
    if errors:
        raise ValidationError(errors)
    for injection in changed:
        injection.save()
    return changed
