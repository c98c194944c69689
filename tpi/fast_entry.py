"""Fast entry on a draft procedure: copy forward from the patient's last signed procedure.

Copying forward carries what is usually repeated (sites, sides, dry needling, agents, concentrations,
volumes, steroid doses, needle gauge) and never what must be observed or recorded afresh: pain
scores, consent, times, indication, complications, or the lot number (the vial differs each visit).
Only a draft changes, under its row lock, by whoever may change it (tpi.access); a site and side
already on the draft is left as it is, so copying twice adds nothing.
"""

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
