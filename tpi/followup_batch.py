"""Settling a claimed batch of due follow-ups at once: the decisions per row, the writes per batch.

Each follow-up is cancelled (voided procedure), expired (later than its grace), skipped (no consent,
inactive patient, no channel), failed (its text could not be composed) or moved to sent with its
messages, with the same reasons the staff pages have always shown. The decisions read what the batch
needs in a few queries (opt-outs, who was told how to opt out, active plans); the writes are one
conditional UPDATE per outcome and reason (one for all the batch's sent follow-ups) and one INSERT
for the messages and their first events (a message already stored for a follow-up and channel is
kept instead: clinic.messaging.queueing), and delivery is published once after commit. The caller
holds the rows' locks.

Follow-ups of one kind for one patient due within TPI_FOLLOWUP_COALESCE_WINDOW of the first (two
procedures on one clinic day) go as one message: the first due leads and is decided as usual (its
text then speaks of "visits"); the others, in the batch or not yet due (the caller locks them too),
take its outcome, and when it is sent they are `sent` with `sent_with` naming it and no message of
their own. A reply then answers them all (tpi.replies).
"""

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError

from clinic.messaging.consent import channels_allowed, opt_outs_find
from clinic.messaging.queueing import message_build, messages_store, opt_out_told
from clinic.sweeps import Move, moves_apply
from tpi.models import FollowUp, Procedure
from tpi.plans import patients_with_active_plan

logger = logging.getLogger(__name__)
S = FollowUp.Status


def followup_grace(kind: str) -> dt.timedelta:
    """Return how late after its due time a follow-up of KIND may still be sent."""
    if kind == FollowUp.Kind.CHECK_IN:
        return settings.TPI_FOLLOWUP_CHECKIN_GRACE
    return settings.TPI_FOLLOWUP_REASSESSMENT_GRACE


def _humanize(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days {hours % 24} h" if hours >= 24 else f"{hours} h"


def _decide_alone(follow_up: FollowUp, *, now: dt.datetime) -> Move | None:
    """Return the outcome a follow-up has whatever its companions (voided procedure, too late), or None."""
    if follow_up.procedure.status == Procedure.Status.VOIDED:
        return Move(S.CANCELLED, "procedure voided")
    late = now - follow_up.due_at
    grace = followup_grace(follow_up.kind)
    if late > grace:
        return Move(S.EXPIRED, f"reached {_humanize(late)} after its due time (grace {_humanize(grace)}): not sent")
    return None


def _leads(follow_ups: Sequence[FollowUp], *, now: dt.datetime) -> dict[int, FollowUp]:
    """Return {companion id: lead} for FOLLOW_UPS: same patient and kind, due within the window of the lead,
    which is the first of them and due by NOW."""
    window = settings.TPI_FOLLOWUP_COALESCE_WINDOW
    leading: dict[tuple[int, str], FollowUp] = {}
    leads: dict[int, FollowUp] = {}
    for follow_up in sorted(follow_ups, key=lambda f: (f.due_at, f.pk)):
        key = (follow_up.procedure.patient_id, follow_up.kind)
        lead = leading.get(key)
        if lead is not None and follow_up.due_at - lead.due_at <= window:
            leads[follow_up.pk] = lead
        elif follow_up.due_at <= now:
            leading[key] = follow_up
    return leads


def _decide(
    follow_up: FollowUp,
    *,
    now: dt.datetime,
    opted_out: set[tuple[int, str]],
    offer_booking: set[int],
    told: set[tuple[int, str]],
    several: bool = False,
) -> Move:
    """Return what becomes of one claimed follow-up, with the messages to store if it is sent.

    SEVERAL: it also asks about other visits' follow-ups (its text speaks of "visits").
    """
    procedure = follow_up.procedure
    patient = procedure.patient
    allowed, reasons = channels_allowed(patient, opted_out=opted_out)
    if not allowed:
        return Move(S.SKIPPED, "; ".join(reasons))
    context: dict[str, object] = {"several_visits": several}
    if follow_up.kind == FollowUp.Kind.REASSESSMENT:
        context["offer_booking"] = patient.pk in offer_booking
    move = Move(S.SENT, "; ".join([f"queued: {', '.join(allowed)}", *(f"not sent by {r}" for r in reasons)]))
    try:
        for channel in allowed:
            message = message_build(
                patient=patient, channel=channel, purpose=follow_up.kind, template=follow_up.kind,
                context=context, now=now, source_key=follow_up.source_key, reason="", told=told,
            )  # fmt: skip
            move.messages.append(message)
    except ValidationError as exc:
        # A template the content check refuses (PHI, too long): nothing is queued; staff must look.
        logger.error("follow-up %s: its message could not be composed", follow_up.pk)
        return Move(S.FAILED, f"message not composed: {'; '.join(exc.messages)}")
    return move


def followups_dispatch(*, batch: Sequence[FollowUp], now: dt.datetime, early: Sequence[FollowUp] = ()) -> None:
    """Settle the claimed BATCH (rows locked by the caller, procedure and patient loaded); update it in place.

    EARLY: scheduled follow-ups not yet due that may go with one of the batch (locked by the caller too);
    those that do are settled with it, the others stay scheduled.
    """
    if not batch:
        return
    alone = {f.pk: move for f in (*batch, *early) if (move := _decide_alone(f, now=now)) is not None}
    leads = _leads([f for f in (*batch, *early) if f.pk not in alone], now=now)
    led = {lead.pk for lead in leads.values()}
    batch = [*batch, *(f for f in early if f.pk in leads)]
    patient_ids = {follow_up.procedure.patient_id for follow_up in batch}
    opted_out = opt_outs_find(patient_ids=patient_ids)
    reassessed = {f.procedure.patient_id for f in batch if f.kind == FollowUp.Kind.REASSESSMENT}
    offer_booking = patients_with_active_plan(patient_ids=reassessed) if reassessed else set()
    told = opt_out_told(patient_ids=patient_ids, now=now)  # who needs "Reply STOP to opt out" this time
    moves = dict(alone)
    for f in batch:
        if f.pk not in moves and f.pk not in leads:
            moves[f.pk] = _decide(
                f, now=now, opted_out=opted_out, offer_booking=offer_booking, told=told,
                several=f.pk in led,
            )  # fmt: skip
    for pk, lead in leads.items():
        move = moves[lead.pk]
        if move.to == S.SENT:
            moves[pk] = Move(
                S.SENT,
                f"asked in one message with follow-up {lead.pk} (procedure {lead.procedure_id})",
                fields={"sent_with_id": lead.pk},
            )
        else:
            moves[pk] = Move(move.to, move.reason)
    claimed = {f.pk for f in batch}
    moves = {pk: move for pk, move in moves.items() if pk in claimed}
    for move in moves.values():
        if move.to == S.SENT:
            move.fields["sent_at"] = now
    moved = moves_apply(FollowUp, moves, source=S.SCHEDULED, transitions=FollowUp.TRANSITIONS, now=now)
    messages = [message for pk in moved for message in moves[pk].messages]
    messages_store(messages=messages, now=now, marked=True)  # published after commit; a lost task is resent
    for follow_up in batch:
        if follow_up.pk in moved:
            move = moves[follow_up.pk]
            follow_up.status, follow_up.status_reason, follow_up.updated_at = move.to, move.reason[:200], now
            for name, value in move.fields.items():
                setattr(follow_up, name, value)
