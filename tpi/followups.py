"""Follow-ups after a signed procedure: the sweep that turns due ones into messages, and staff actions.

scheduled -> sent (messages queued in the outbox) -> answered (a pain score came back), or a final
state with a reason: expired (reached too late), skipped (no consent, inactive, no channel),
cancelled (voided procedure, staff) or failed (every message failed or could not be composed).
Exactly once: rows are claimed under lock, every move is a conditional UPDATE that must touch one
row (its `status__in` is FollowUp.TRANSITIONS.sources(target)), and the outbox keeps one Message per
(follow-up, channel) by its source key.
"""

import datetime as dt
import logging
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Exists, Model, OuterRef, QuerySet, Value
from django.db.models.base import ModelState
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.exceptions import StateConflict
from clinic.messaging.models import Message
from clinic.messaging.outbox import NotRetryable, message_retry, messages_withdraw
from clinic.messaging.queueing import MESSAGE_PATIENT_FIELDS
from clinic.models import Patient
from clinic.sweeps import among, batch_commit_unflushed, collector_paused, rows_locked
from tpi.followup_batch import followups_dispatch
from tpi.models import FollowUp, Procedure
from tpi.outcome_totals import outcome_days_mark

logger = logging.getLogger(__name__)
M_ = TypeVar("M_", bound=Model)
S = FollowUp.Status
M = Message.Status
# Messages that may still reach (or did reach) the patient.
LIVE_MESSAGE_STATUSES = (M.QUEUED, M.SENDING, M.SENT, M.DELIVERED, M.UNKNOWN)


class FollowUpStateConflict(StateConflict):
    """The follow-up is not in a state that allows this action (e.g. cancelling one already sent)."""


def followup_messages(queryset: QuerySet | None = None) -> QuerySet:
    """Return the outbox messages of the follow-up in OuterRef (for Exists / Subquery annotations)."""
    key = Concat(
        Value("followup:"), Cast(OuterRef("pk"), output_field=CharField()), Value(":"), OuterRef("kind"),
        output_field=CharField(),
    )  # fmt: skip
    return (queryset if queryset is not None else Message.objects.all()).filter(source_key=key)


def _move(follow_up: FollowUp, *, to: str, reason: str, now: dt.datetime, stay: bool = False, **fields: Any) -> bool:
    """Move FOLLOW_UP to TO if FollowUp.TRANSITIONS allows it from its current status (STAY: or it is TO already);
    False when the row is in no such status (another process moved it first)."""
    sources = FollowUp.TRANSITIONS.sources(to) | ({to} if stay else set())
    updated = FollowUp.objects.filter(pk=follow_up.pk, status__in=sources).update(
        status=to, status_reason=reason[:200], updated_at=now, **fields
    )
    if updated == 1:
        follow_up.status, follow_up.status_reason = to, reason[:200]
        for name, value in fields.items():
            setattr(follow_up, name, value)
    return updated == 1


# What settling a batch reads of a follow-up, its procedure and patient (the rest stays in the database: the
# sweep has no use for the clinical note, and every column loaded costs per row), as (model, attnames, paths).
_FOLLOWUP_COLUMNS = ("id", "procedure_id", "kind", "due_at", "status", "status_reason", "sent_at", "sent_with_id")
_CLAIM_PARTS: tuple[tuple[type[Model], tuple[str, ...], tuple[str, ...]], ...] = (
    (FollowUp, _FOLLOWUP_COLUMNS, _FOLLOWUP_COLUMNS),
    (Procedure, ("id", "status", "patient_id"), ("procedure__id", "procedure__status", "procedure__patient_id")),
    (Patient, MESSAGE_PATIENT_FIELDS, tuple(f"procedure__patient__{name}" for name in MESSAGE_PATIENT_FIELDS)),
)


_MOBILE_PATH = "procedure__patient__mobile_phone"


def _claimed(queryset: QuerySet[FollowUp]) -> list[FollowUp]:
    """Return the follow-ups of QUERYSET (ordered, locked), each with its procedure and patient loaded (only the
    columns settling reads; the others load on access, as `.only()` does).

    Read as plain rows (`values_list`) and made into model instances without running `Model.__init__` per
    field (no model here has init signals or an `__init__` of its own): a sweep claims thousands, and the
    ORM's per-instance work was a good part of its cost per row.
    """
    paths = [path for _, _, part_paths in _CLAIM_PARTS for path in part_paths]
    # The mobile number as its stored text: the field would parse every number on loading, and the sweep only
    # prints it (clinic.clock.phone_text gives the same text either way).
    columns = [Cast(path, CharField()) if path == _MOBILE_PATH else path for path in paths]
    db = queryset.db
    (_, follow_up_names, _), (_, procedure_names, _), (_, patient_names, _) = _CLAIM_PARTS
    procedure_at = len(follow_up_names)
    patient_at = procedure_at + len(procedure_names)
    claimed: list[FollowUp] = []
    for row in queryset.values_list(*columns):
        follow_up = _loaded(FollowUp, follow_up_names, row[:procedure_at], db)
        procedure = _loaded(Procedure, procedure_names, row[procedure_at:patient_at], db)
        patient = _loaded(Patient, patient_names, row[patient_at:], db)
        procedure._state.fields_cache["patient"] = patient
        follow_up._state.fields_cache["procedure"] = procedure
        claimed.append(follow_up)
    return claimed


def _loaded(model: type[M_], attnames: tuple[str, ...], values: tuple[Any, ...], db: str) -> M_:
    """Return a MODEL instance from the database with ATTNAMES set to VALUES (the others deferred)."""
    obj = model.__new__(model)
    obj.__dict__.update(zip(attnames, values, strict=True))
    state = obj._state = ModelState()
    state.adding, state.db = False, db
    return obj


def followups_claim_due(*, now: dt.datetime, limit: int) -> list[FollowUp]:
    """Claim up to LIMIT scheduled follow-ups due by NOW and settle them as one batch; return them as settled.

    One locking statement takes the batch (SKIP LOCKED on PostgreSQL, so several sweeps work on
    disjoint batches), tpi.followup_batch settles it in bulk, and the outbox publishes delivery
    after commit. Safe to run twice at once.
    """
    with collector_paused(), transaction.atomic():
        batch_commit_unflushed()  # clinic.sweeps: a lost batch is swept again, never sent twice
        due = _claimed(
            rows_locked(FollowUp.objects.filter(status=S.SCHEDULED, due_at__lte=now)).order_by("due_at", "id")[:limit]
        )
        early = _due_soon_with(due, now=now)
        followups_dispatch(batch=due, now=now, early=early)
    return [*due, *(f for f in early if f.status != S.SCHEDULED)]


def _due_soon_with(due: list[FollowUp], *, now: dt.datetime) -> list[FollowUp]:
    """Lock the scheduled follow-ups not yet due that may go with one of DUE (same patient and kind, due within
    TPI_FOLLOWUP_COALESCE_WINDOW); one query per batch. tpi.followup_batch decides which do."""
    window = settings.TPI_FOLLOWUP_COALESCE_WINDOW
    if not due or window <= dt.timedelta(0):
        return []
    soon = FollowUp.objects.filter(
        status=S.SCHEDULED,
        due_at__gt=now,
        due_at__lte=max(f.due_at for f in due) + window,
        kind__in={f.kind for f in due},
    ).filter(among("procedure__patient_id", {f.procedure.patient_id for f in due}))
    return _claimed(rows_locked(soon).order_by("due_at", "id"))


def _sent_with_no_live_message(*, limit: int, chunk: int = 2000) -> list[FollowUp]:
    """Return up to LIMIT sent follow-ups that have messages, none of them live (all failed or skipped).

    Found from their failed and skipped messages (few) rather than by testing every sent follow-up
    ever (the table's history), so a sweep's cost does not grow with it.
    """
    keys = (
        Message.objects.filter(status__in=[M.FAILED, M.SKIPPED], source_key__startswith="followup:")
        .values_list("source_key", flat=True)
        .distinct()
    )
    ids = sorted({int(pk) for key in keys if (pk := (key or "").split(":")[1]).isdigit()})
    live = Exists(followup_messages(Message.objects.filter(status__in=LIVE_MESSAGE_STATUSES)))
    dead: list[FollowUp] = []
    for start in range(0, len(ids), chunk):  # a bounded IN list per query (SQLite's parameter limit)
        found = FollowUp.objects.filter(pk__in=ids[start : start + chunk], status=S.SENT).exclude(live)
        dead += found.order_by("id")[: limit - len(dead)]
        if len(dead) >= limit:
            break
    return dead


def followups_settle(*, now: dt.datetime) -> dict[str, int]:
    """Give sent follow-ups whose messages all ended failed or skipped that final state (and back).

    All failed or a mix of failed and skipped -> failed; all skipped -> skipped. A failed
    follow-up whose message staff queued again (retry in the messages admin) is sent again.
    """
    counts = {"failed": 0, "skipped": 0, "resent": 0}
    dead = _sent_with_no_live_message(limit=settings.TPI_FOLLOWUP_SWEEP_BATCH)
    messages = Message.objects.filter(source_key__in=[f.source_key for f in dead]).order_by("channel")
    by_key: dict[str | None, list[Message]] = {}
    for message in messages.only("source_key", "channel", "status", "reason"):
        by_key.setdefault(message.source_key, []).append(message)
    for follow_up in dead:
        mine = by_key.get(follow_up.source_key, [])
        failed = any(m.status == M.FAILED for m in mine)
        to = S.FAILED if failed else S.SKIPPED
        reason = "; ".join(f"{m.channel} {m.status}: {m.reason}" for m in mine)
        with transaction.atomic():
            counts[to] += _move(follow_up, to=to, reason=reason, now=now, handled_at=None)
    revived = FollowUp.objects.filter(status=S.FAILED).filter(
        Exists(followup_messages(Message.objects.filter(status__in=LIVE_MESSAGE_STATUSES)))
    )
    for follow_up in revived.order_by("id")[: settings.TPI_FOLLOWUP_SWEEP_BATCH]:
        counts["resent"] += _move(
            follow_up, to=S.SENT, reason="messages queued again", now=now,
            sent_at=follow_up.sent_at or now,
        )  # fmt: skip
    _carried_follow(now=now)
    return counts


def _carried_follow(*, now: dt.datetime) -> None:
    """Give follow-ups sent with another one's message (`sent_with`) that one's state when it settles: failed or
    skipped when its messages were, cancelled when staff withdrew them, sent again when they were queued again.
    One UPDATE per move, read from the small index of such follow-ups (followup_carried_status)."""
    for source, to in ((S.SENT, S.FAILED), (S.SENT, S.SKIPPED), (S.SENT, S.CANCELLED), (S.FAILED, S.SENT)):
        FollowUp.TRANSITIONS.check(source, to)
        FollowUp.objects.filter(status=source, sent_with__isnull=False, sent_with__status=to).update(
            status=to, status_reason=f"sent in another follow-up's message, which is {to}", updated_at=now
        )


def followups_sweep_step(
    *, now: dt.datetime | None = None, max_batches: int | None = None
) -> tuple[dict[str, int], bool]:
    """Settle at most MAX_BATCHES batches of due follow-ups, then settle finished deliveries.

    Return the counts per final status and whether due follow-ups remain (the task then queues
    itself again, so no run grows long with the backlog).
    """
    now = now or timezone.now()
    limit = settings.TPI_FOLLOWUP_SWEEP_BATCH
    max_batches = max_batches or settings.TPI_FOLLOWUP_SWEEP_MAX_BATCHES
    counts = {status: 0 for status in S.values if status != S.SCHEDULED}
    more = False
    for _ in range(max_batches):
        batch = followups_claim_due(now=now, limit=limit)
        for follow_up in batch:
            if follow_up.status != S.SCHEDULED:
                counts[follow_up.status] += 1
        if len(batch) < limit or all(f.status == S.SCHEDULED for f in batch):
            break  # done, or no progress (never spin on rows another process holds)
    else:
        more = FollowUp.objects.filter(status=S.SCHEDULED, due_at__lte=now).exists()
    settled = followups_settle(now=now)
    counts["failed"] += settled["failed"]
    counts["skipped"] += settled["skipped"]
    return counts, more


def followups_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Find due follow-ups in the database and settle them all, then settle finished deliveries.

    Due times live only in the database; beat's task runs `followups_sweep_step` (bounded) instead.
    """
    now = now or timezone.now()
    total: dict[str, int] = {}
    while True:
        counts, more = followups_sweep_step(now=now)
        for status, count in counts.items():
            total[status] = total.get(status, 0) + count
        if not more:
            return total


def followup_cancel(*, follow_up: FollowUp, by: Actor, reason: str) -> FollowUp:
    """Cancel a follow-up (staff) with a reason: one still scheduled, or one whose messages all still wait in
    the outbox (they are withdrawn). One already handed to the SMS or email provider cannot be cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for cancelling."})
    who = getattr(by, "get_username", lambda: "")()
    text = f"cancelled by {who}: {reason}" if who else f"cancelled: {reason}"
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if not _withdraw(locked, reason=text, by=by):
            raise FollowUpStateConflict(
                f"Only follow-ups not yet sent to the patient can be cancelled (this one is {locked.status}).",
                code=f"followup_{locked.status}",
            )
        follow_up.status, follow_up.status_reason = locked.status, locked.status_reason
        # The follow-ups its message also asked are not asked either.
        FollowUp.objects.filter(sent_with=locked, status=S.SENT).update(
            status=S.CANCELLED, status_reason=text[:200], updated_at=timezone.now()
        )
    return follow_up


def followups_cancel_for_void(*, procedure: Procedure, by: Actor) -> int:
    """Cancel the procedure's follow-ups that have not reached the patient (called by procedure_void)."""
    cancelled = 0
    open_ones = procedure.follow_ups.select_for_update().filter(status__in=FollowUp.TRANSITIONS.sources(S.CANCELLED))
    for follow_up in open_ones:
        cancelled += _withdraw(follow_up, reason="procedure voided", by=by)
    return cancelled


def _withdraw(follow_up: FollowUp, *, reason: str, by: Actor) -> bool:
    """Cancel a locked follow-up that is scheduled, or sent with every message still queued; False otherwise."""
    if follow_up.status == S.SENT:
        statuses = set(Message.objects.filter(source_key=follow_up.source_key).values_list("status", flat=True))
        if statuses != {M.QUEUED}:
            return False  # something already left the outbox: the patient may have it
        messages_withdraw(source_key=follow_up.source_key, reason=reason, by=by)
    elif follow_up.status != S.SCHEDULED:
        return False
    return _move(follow_up, to=S.CANCELLED, reason=reason, now=timezone.now())


def followup_retry(*, follow_up: FollowUp, by: Actor) -> int:
    """Queue the failed (or unknown, checked not sent) messages of a follow-up again; return how many."""
    now = timezone.now()
    retried = 0
    with transaction.atomic():
        for message in Message.objects.filter(source_key=follow_up.source_key, status__in=[M.FAILED, M.UNKNOWN]):
            try:
                message_retry(message=message, by=by)
            except NotRetryable:  # another retry took it meanwhile
                continue
            retried += 1
        if not retried:
            raise FollowUpStateConflict("This follow-up has no failed message to retry.", code="followup_no_failed")
        # A failed one is sent again; a sent one whose unknown message was retried stays sent.
        _move(
            follow_up,
            to=S.SENT,
            stay=True,
            reason=f"retried {retried} message(s)",
            now=now,
            sent_at=follow_up.sent_at or now,
            handled_at=None,
            handled_by=None,
        )
        # A first send of an old follow-up changes its day's answer rate (tpi.outcome_totals).
        outcome_days_mark(procedures=Procedure.objects.filter(pk=follow_up.procedure_id))
    return retried


def followup_mark_handled(*, follow_up: FollowUp, by: Actor) -> FollowUp:
    """Record that staff dealt with a follow-up needing review (it leaves the review list)."""
    now = timezone.now()
    FollowUp.objects.filter(pk=follow_up.pk).update(handled_at=now, handled_by=by, updated_at=now)
    follow_up.handled_at, follow_up.handled_by = now, by
    return follow_up
