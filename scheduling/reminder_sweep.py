"""The reminder sweep: claim due AppointmentReminders in sets, decide each, queue their messages.

One locking statement takes a batch (SKIP LOCKED on PostgreSQL, on the reminders and their
appointments, so several sweeps take disjoint batches and a move or cancellation in progress keeps its
appointment's reminders out of the batch). Each reminder is checked again against its appointment at
send time: cancelled when the visit moved (its start is not the one it announces) or is no longer
booked or confirmed, skipped when the visit has started, the patient may not be reached, or the send
window opens only after the start; otherwise its messages (source key "reminder:<id>", at most one per
channel: a database constraint) are stored in bulk and delivery is published after commit. Each
outcome is one conditional UPDATE from `scheduled`, so a reminder is sent exactly once.
"""

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.messaging.consent import channels_allowed, opt_outs_find
from clinic.messaging.queueing import message_build, messages_store, opt_out_told
from clinic.messaging.quiet_hours import next_send_time
from clinic.sweeps import Move, batch_commit_unflushed, collector_paused, moves_apply, rows_locked
from scheduling.models import REMINDABLE_STATUSES, AppointmentReminder
from scheduling.reminders import REMINDER_PURPOSE, patient_when

logger = logging.getLogger(__name__)
R = AppointmentReminder.Status


def _decide(
    reminder: AppointmentReminder,
    *,
    now: dt.datetime,
    opted_out: set[tuple[int, str]],
    told: set[tuple[int, str]],
) -> Move:
    """Return what becomes of one claimed reminder, with the messages to store if it is sent."""
    appointment = reminder.appointment
    if appointment.status not in REMINDABLE_STATUSES:
        return Move(R.CANCELLED, f"appointment {appointment.get_status_display().lower()}")
    if appointment.start != reminder.for_start:
        return Move(R.CANCELLED, "appointment moved")
    if appointment.start <= now:
        return Move(R.SKIPPED, "the visit had started")
    patient = appointment.patient
    allowed, reasons = channels_allowed(patient, opted_out=opted_out)
    if not allowed:
        return Move(R.SKIPPED, "; ".join(reasons))
    if next_send_time(patient=patient, at=now) >= appointment.start:
        return Move(R.SKIPPED, "the patient's send window opens only after the visit starts")
    context = {
        "when": patient_when(appointment, patient),
        "where": appointment.room.location.name,
        "confirmed": appointment.status == appointment.Status.CONFIRMED,
    }
    move = Move(R.SENT, "; ".join([f"queued: {', '.join(allowed)}", *(f"not sent by {r}" for r in reasons)]))
    try:
        for channel in allowed:
            message = message_build(
                patient=patient, channel=channel, purpose=REMINDER_PURPOSE, template=REMINDER_PURPOSE,
                context=context, now=now, source_key=reminder.source_key, reason="", told=told,
            )  # fmt: skip
            move.messages.append(message)
    except ValidationError as exc:
        logger.error("appointment reminder %s: its message could not be composed", reminder.pk)
        return Move(R.FAILED, f"message not composed: {'; '.join(exc.messages)}")
    return move


def reminders_dispatch(*, batch: Sequence[AppointmentReminder], now: dt.datetime) -> None:
    """Settle the claimed BATCH (rows locked by the caller, appointment and patient loaded); update it in place."""
    if not batch:
        return
    patient_ids = {r.appointment.patient_id for r in batch}
    opted_out = opt_outs_find(patient_ids=patient_ids)
    told = opt_out_told(patient_ids=patient_ids, now=now)  # who needs "Reply STOP to opt out" this time
    moves = {r.pk: _decide(r, now=now, opted_out=opted_out, told=told) for r in batch}
    for move in moves.values():
        if move.to == R.SENT:
            move.fields["sent_at"] = now
    moved = moves_apply(
        AppointmentReminder, moves, source=R.SCHEDULED, transitions=AppointmentReminder.TRANSITIONS, now=now
    )
    messages_store(messages=[m for pk in moved for m in moves[pk].messages], now=now)
    for reminder in batch:
        if reminder.pk in moved:
            move = moves[reminder.pk]
            reminder.status, reminder.status_reason, reminder.updated_at = move.to, move.reason[:200], now
            for name, value in move.fields.items():
                setattr(reminder, name, value)


def reminders_claim_due(*, now: dt.datetime, limit: int) -> list[AppointmentReminder]:
    """Claim up to LIMIT scheduled reminders due by NOW and settle them as one batch; return them as settled.

    Safe to run twice at once: the batches are disjoint, and each outcome is a conditional UPDATE.
    """
    with collector_paused(), transaction.atomic():
        batch_commit_unflushed()  # clinic.sweeps: a lost batch is swept again, never sent twice
        due = list(
            rows_locked(
                AppointmentReminder.objects.filter(status=R.SCHEDULED, due_at__lte=now), of=("self", "appointment")
            )
            .select_related("appointment__patient", "appointment__room__location")
            .order_by("due_at", "id")[:limit]
        )
        reminders_dispatch(batch=due, now=now)
    return due


def reminders_sweep_step(*, now: dt.datetime | None = None) -> tuple[dict[str, int], bool]:
    """Settle at most SCHEDULING_REMINDER_SWEEP_MAX_BATCHES batches of due reminders.

    Return the counts per outcome and whether due reminders remain (the task then queues itself again).
    """
    now = now or timezone.now()
    limit = settings.SCHEDULING_REMINDER_SWEEP_BATCH
    counts = {status: 0 for status in R.values if status != R.SCHEDULED}
    for _ in range(max(settings.SCHEDULING_REMINDER_SWEEP_MAX_BATCHES, 1)):
        batch = reminders_claim_due(now=now, limit=limit)
        for reminder in batch:
            if reminder.status != R.SCHEDULED:
                counts[reminder.status] += 1
        if len(batch) < limit or all(r.status == R.SCHEDULED for r in batch):
            return counts, False  # done, or no progress (never spin on rows another process holds)
    return counts, AppointmentReminder.objects.filter(status=R.SCHEDULED, due_at__lte=now).exists()


def reminders_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send every due reminder (tests, commands); beat's task runs the bounded `reminders_sweep_step`."""
    now = now or timezone.now()
    total = {status: 0 for status in R.values if status != R.SCHEDULED}
    while True:
        counts, more = reminders_sweep_step(now=now)
        for status, count in counts.items():
            total[status] += count
        if not more:
            return total
