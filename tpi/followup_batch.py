"""Settling a claimed batch of due follow-ups at once: the decisions per row, the writes per batch.

Each follow-up is cancelled (voided procedure), expired (later than its grace), skipped (no consent,
inactive patient, no channel), failed (its text could not be composed) or moved to sent with its
messages, with the same reasons the staff pages have always shown. The decisions read what the batch
needs in a few queries (opt-outs, active plans, messages already stored); the writes are one
conditional UPDATE per outcome and reason (one for all the batch's sent follow-ups) and one INSERT
each for the messages and their first events, and delivery is published once after commit, a few
ids per task (clinic.messaging.queueing). The caller holds the rows' locks.
"""

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError

from clinic.messaging.consent import opt_outs_find, patient_channels, skip_reason
from clinic.messaging.models import Message
from clinic.messaging.queueing import message_build, messages_store, opt_out_told
from clinic.models import Patient
from tpi.models import FollowUp, Procedure
from tpi.plans import patients_with_active_plan

logger = logging.getLogger(__name__)
S = FollowUp.Status


@dataclass
class _Move:
    to: str
    reason: str
    messages: list[Message] = field(default_factory=list)


def followup_grace(kind: str) -> dt.timedelta:
    """Return how late after its due time a follow-up of KIND may still be sent."""
    if kind == FollowUp.Kind.CHECK_IN:
        return settings.TPI_FOLLOWUP_CHECKIN_GRACE
    return settings.TPI_FOLLOWUP_REASSESSMENT_GRACE


def _humanize(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days {hours % 24} h" if hours >= 24 else f"{hours} h"


def _channels(patient: Patient, opted_out: set[tuple[int, str]]) -> tuple[list[str], list[str]]:
    """Return (channels we may use now, reasons for the channels we may not) for PATIENT."""
    if patient.status != Patient.Status.ACTIVE:
        return [], [f"patient is {patient.get_status_display().lower()}"]
    channels = patient_channels(patient)
    if not channels:
        return [], ["patient wants no automated messages"]
    allowed, reasons = [], []
    for channel in channels:
        reason = skip_reason(patient=patient, channel=channel, opted_out=(patient.pk, channel) in opted_out)
        if reason:
            reasons.append(f"{channel}: {reason}")
        else:
            allowed.append(channel)
    return allowed, reasons


def _decide(
    follow_up: FollowUp,
    *,
    now: dt.datetime,
    opted_out: set[tuple[int, str]],
    offer_booking: set[int],
    stored: set[tuple[str | None, str]],
    told: set[tuple[int, str]],
) -> _Move:
    """Return what becomes of one claimed follow-up, with the messages to store if it is sent."""
    procedure = follow_up.procedure
    if procedure.status == Procedure.Status.VOIDED:
        return _Move(S.CANCELLED, "procedure voided")
    late = now - follow_up.due_at
    grace = followup_grace(follow_up.kind)
    if late > grace:
        return _Move(S.EXPIRED, f"reached {_humanize(late)} after its due time (grace {_humanize(grace)}): not sent")
    patient = procedure.patient
    allowed, reasons = _channels(patient, opted_out)
    if not allowed:
        return _Move(S.SKIPPED, "; ".join(reasons))
    context = {}
    if follow_up.kind == FollowUp.Kind.REASSESSMENT:
        context["offer_booking"] = patient.pk in offer_booking
    move = _Move(S.SENT, "; ".join([f"queued: {', '.join(allowed)}", *(f"not sent by {r}" for r in reasons)]))
    try:
        for channel in allowed:
            if (follow_up.source_key, channel) in stored:
                continue  # asking again keeps the stored message (one per follow-up and channel)
            message = message_build(
                patient=patient, channel=channel, purpose=follow_up.kind, template=follow_up.kind,
                context=context, now=now, source_key=follow_up.source_key, reason="", told=told,
            )  # fmt: skip
            move.messages.append(message)
    except ValidationError as exc:
        # A template the content check refuses (PHI, too long): nothing is queued; staff must look.
        logger.error("follow-up %s: its message could not be composed", follow_up.pk)
        return _Move(S.FAILED, f"message not composed: {'; '.join(exc.messages)}")
    return move


def _moves_apply(moves: dict[int, _Move], *, now: dt.datetime) -> set[int]:
    """Move the follow-ups of MOVES out of scheduled, one conditional UPDATE per outcome and reason (a batch
    has few: every sent one of a channel mix reads the same); return the ids moved."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, move in moves.items():
        FollowUp.TRANSITIONS.check(S.SCHEDULED, move.to)
        groups[(move.to, move.reason[:200])].append(pk)
    moved: set[int] = set()
    for (to, reason), ids in groups.items():
        fields = {"sent_at": now} if to == S.SENT else {}
        updated = FollowUp.objects.filter(pk__in=ids, status=S.SCHEDULED).update(
            status=to, status_reason=reason, updated_at=now, **fields
        )
        if updated == len(ids):
            moved.update(ids)
        else:  # not ours after all (cannot happen under the claim's locks): only rows really moved go on
            moved.update(FollowUp.objects.filter(pk__in=ids, status=to, updated_at=now).values_list("pk", flat=True))
    return moved


def followups_dispatch(*, batch: Sequence[FollowUp], now: dt.datetime) -> None:
    """Settle the claimed BATCH (rows locked by the caller, procedure and patient loaded); update it in place."""
    if not batch:
        return
    patient_ids = {follow_up.procedure.patient_id for follow_up in batch}
    opted_out = opt_outs_find(patient_ids=patient_ids)
    reassessed = {f.procedure.patient_id for f in batch if f.kind == FollowUp.Kind.REASSESSMENT}
    offer_booking = patients_with_active_plan(patient_ids=reassessed) if reassessed else set()
    keys = [follow_up.source_key for follow_up in batch]
    stored = set(Message.objects.filter(source_key__in=keys).values_list("source_key", "channel"))
    told = opt_out_told(patient_ids=patient_ids, now=now)  # who needs "Reply STOP to opt out" this time
    moves = {
        f.pk: _decide(f, now=now, opted_out=opted_out, offer_booking=offer_booking, stored=stored, told=told)
        for f in batch
    }
    moved = _moves_apply(moves, now=now)
    messages = [message for pk in moved for message in moves[pk].messages]
    messages_store(messages=messages, now=now)
    for follow_up in batch:
        if follow_up.pk in moved:
            move = moves[follow_up.pk]
            follow_up.status, follow_up.status_reason, follow_up.updated_at = move.to, move.reason[:200], now
            if move.to == S.SENT:
                follow_up.sent_at = now
