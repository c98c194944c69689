"""The procedure life cycle after drafting: sign, addenda, void; and who may do it.

draft -> signed -> (addendum)*, or draft/signed -> voided with a reason (Procedure.TRANSITIONS).
Signing locks the note and, in the same transaction, creates its follow-ups; voiding cancels the
follow-ups not yet sent.
"""

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.accounts.actors import Actor, AnyUser
from tpi.access import procedure_may_change
from tpi.exceptions import ProcedureActionNotAllowed, ProcedureStateConflict
from tpi.followups import followups_cancel_for_void
from tpi.models import Addendum, FollowUp, Procedure, SignAcknowledgement
from tpi.outcome_totals import outcome_days_mark
from tpi.sign_warnings import procedure_sign_warnings


def procedure_check_permission(*, procedure: Procedure, user: AnyUser | None, action: str) -> None:
    """Refuse (403) unless USER may perform ACTION ("sign", "void") on PROCEDURE.

    The rule (tpi.access.procedure_may_change): the procedure's own provider, or a clinic admin
    (clinic.roles.is_clinic_admin).
    """
    if not procedure_may_change(user=user, procedure=procedure):
        raise ProcedureActionNotAllowed(f"Only the procedure's own provider or a clinic admin may {action} it.")


def _lock(procedure: Procedure) -> Procedure:
    """Return PROCEDURE re-read under a row lock: the status checked below is the one the move starts from."""
    return Procedure.objects.select_for_update().get(pk=procedure.pk)


def follow_up_due_times(*, performed_at: dt.datetime) -> dict[str, dt.datetime]:
    """Return the due time of each follow-up kind for a procedure performed at PERFORMED_AT."""
    return {
        FollowUp.Kind.CHECK_IN: performed_at + settings.TPI_CHECKIN_AFTER,
        FollowUp.Kind.REASSESSMENT: performed_at + settings.TPI_REASSESSMENT_AFTER,
    }


@transaction.atomic
def procedure_sign(*, procedure: Procedure, by: Actor, acknowledged: Collection[str] | None = None) -> Procedure:
    """Sign a draft: check who, completeness and that every warning was read; record it all; add follow-ups.

    ACKNOWLEDGED holds the keys of the pre-sign warnings (tpi.sign_warnings) the signer read; one
    missing refuses the sign (a ValidationError naming them); they are stored with the signature.
    The admin and the API always pass it; None (the demo seed, test set-up) skips the check.
    """
    locked = _lock(procedure)
    procedure_check_permission(procedure=locked, user=by, action="sign")
    if not Procedure.TRANSITIONS.allows(locked.status, Procedure.Status.SIGNED):
        raise ProcedureStateConflict(f"This procedure is already {locked.status}.", code=f"procedure_{locked.status}")
    errors: dict[str, str] = {}
    if not locked.consent_obtained:
        errors["consent_obtained"] = "Consent must be recorded before signing."
    if locked.pain_after is None:
        errors["pain_after"] = "Record the pain score right after the injections before signing."
    if not locked.injections.exists():
        errors["injections"] = "Document at least one injection before signing."
    if errors:
        raise ValidationError(errors)
    warnings = procedure_sign_warnings(procedure=locked) if acknowledged is not None else []
    unread = [w for w in warnings if w.key not in set(acknowledged or ())]
    if unread:
        raise ValidationError(
            {"acknowledged_warnings": [f"Acknowledge the warning {w.key}: {w.message}" for w in unread]}
        )
    locked.full_clean()  # the draft rules again: nothing in the future, no stale invalid value
    now = timezone.now()
    locked.status = Procedure.Status.SIGNED
    locked.signed_at = now
    locked.signed_by = by
    locked.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    SignAcknowledgement.objects.bulk_create(
        SignAcknowledgement(procedure=locked, key=w.key, message=w.message, acknowledged_by=by, acknowledged_at=now)
        for w in warnings
    )
    FollowUp.objects.bulk_create(
        FollowUp(procedure=locked, kind=kind, due_at=due_at)
        for kind, due_at in follow_up_due_times(performed_at=locked.performed_at).items()
    )
    outcome_days_mark(procedures=Procedure.objects.filter(pk=locked.pk))  # a backdated one lands on a stored day
    return locked


@transaction.atomic
def addendum_add(*, procedure: Procedure, author: Any, text: str) -> Addendum:
    """Append a correction or late entry to a signed procedure (the signed text never changes)."""
    locked = _lock(procedure)
    if locked.status != Procedure.Status.SIGNED:
        hint = "edit the draft instead" if locked.is_draft else "it is voided"
        raise ProcedureStateConflict(
            f"Addenda go on signed procedures only; {hint}.", code=f"procedure_{locked.status}"
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum text."})
    addendum = Addendum(procedure=locked, author=author, text=text, created_at=timezone.now())
    addendum.full_clean()
    addendum.save()
    return addendum


@transaction.atomic
def procedure_void(*, procedure: Procedure, by: Actor, reason: str) -> Procedure:
    """Void a draft or signed procedure with a reason; cancel its follow-ups that have not reached the patient."""
    locked = _lock(procedure)
    procedure_check_permission(procedure=locked, user=by, action="void")
    if not Procedure.TRANSITIONS.allows(locked.status, Procedure.Status.VOIDED):
        raise ProcedureStateConflict(f"This procedure is already {locked.status}.", code=f"procedure_{locked.status}")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for voiding."})
    locked.status = Procedure.Status.VOIDED
    locked.voided_at = timezone.now()
    locked.voided_by = by
    locked.void_reason = reason
    locked.save(update_fields=["status", "voided_at", "voided_by", "void_reason", "updated_at"])
    followups_cancel_for_void(procedure=locked, by=by)
    outcome_days_mark(procedures=Procedure.objects.filter(pk=locked.pk))
    return locked
