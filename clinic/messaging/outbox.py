"""The outbox: queue a message, deliver it at most once, retry, reconcile and sweep.

A Message moves queued -> sending -> sent -> delivered, or ends skipped / failed, or lands in
unknown when the provider may have accepted it without telling us; MESSAGE_TRANSITIONS is the
one statement of which move may follow which. Every move is a conditional UPDATE that must touch
exactly one row, from the statuses the table allows (narrowed where a move belongs to one actor),
recorded as a MessageEvent in the same transaction. The outbox speaks only neutral results and
errors: the channel backends translate their provider's words.
"""

import datetime as dt
import functools
import logging
from collections.abc import Iterable
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, Field, Model, OuterRef, Q, QuerySet
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.messaging.backends import DeliveryStatus, LookupNotSupported, SendError
from clinic.messaging.channels import channel_for
from clinic.messaging.consent import skip_reason
from clinic.messaging.models import MESSAGE_TRANSITIONS, Channel, InboundMessage, Message, MessageEvent
from clinic.messaging.publish import deliveries_publish, messages_awaiting_publish
from clinic.messaging.queueing import MESSAGE_PATIENT_FIELDS, message_build, messages_store
from clinic.messaging.quiet_hours import next_send_time
from clinic.models import Patient

logger = logging.getLogger(__name__)
S = Message.Status

# An attempt's outcome lands only while the row is still this attempt's: sending, or declared
# unknown by the sweep meanwhile (the attempt number in the claim's WHERE does the rest).
IN_FLIGHT = frozenset({S.SENDING, S.UNKNOWN})
# Staff act on settled problems only; sending -> queued is the worker's retry, not theirs.
STAFF_RETRY_FROM = MESSAGE_TRANSITIONS.sources(S.QUEUED) & {S.FAILED, S.UNKNOWN}
STAFF_MARK_SENT_FROM = MESSAGE_TRANSITIONS.sources(S.SENT) & {S.UNKNOWN}
_DELIVERY_REPORT_TO = {DeliveryStatus.DELIVERED: S.DELIVERED, DeliveryStatus.FAILED: S.FAILED}


class NotRetryable(ValidationError):
    """Staff asked to retry or resolve a message that is not in a state that allows it."""


def _transition(
    message_id: int,
    *,
    to: str,
    only_from: Iterable[str] | None = None,
    detail: str = "",
    at: dt.datetime | None = None,
    where: dict[str, Any] | None = None,
    expected: str | None = None,
    flush: bool = True,
    patient_as_read: dict[str, Any] | None = None,
    **fields: Any,
) -> bool:
    """Move the message to TO from a status MESSAGE_TRANSITIONS allows and record it; False if it was not there.

    ONLY_FROM narrows the table's sources for a move that belongs to one actor (each caller says
    why); it must name only statuses the table lets move to TO. WHERE adds conditions the row must
    still meet (e.g. the attempt number of the caller's claim). EXPECTED: the status the row most
    likely has; tried first, the table's other sources only when the row was not in it. PATIENT_AS_READ:
    patient field values the move also requires of the message's patient (a decision made on a read). FLUSH=False
    lets PostgreSQL commit without waiting for the disk: only for an attempt's outcome, whose loss in
    a database crash leaves the row "sending" (its claim was flushed), which the sweep turns into
    unknown and reconciles with the provider, so it is never sent twice.
    """
    sources = MESSAGE_TRANSITIONS.sources(to)
    if only_from is not None:
        narrowed = frozenset(str(status) for status in only_from)
        if not narrowed <= sources:
            raise ValueError(f"Message.status cannot move to {str(to)!r} from {sorted(narrowed - sources)}")
        sources = narrowed
    at = at or timezone.now()
    where = where or {}
    conditions = _conditions(where, patient_as_read)
    if expected in sources and connection.vendor == "postgresql":
        moved = _move_and_record(
            message_id, previous=expected, to=to, at=at, detail=detail, where=where, fields=fields, flush=flush,
            patient_as_read=patient_as_read,
        )  # fmt: skip
        if moved:
            return True
        expected = None  # not in the expected status: find where it is
    with transaction.atomic():
        if not flush and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # EXPECTED (the status the caller just saw) saves the read: one conditional UPDATE does the move.
        previous = expected if expected in sources else None
        if previous is None or not Message.objects.filter(conditions, pk=message_id, status=previous).update(
            status=to, updated_at=at, **fields
        ):
            current = Message.objects.filter(conditions, pk=message_id, status__in=sources).values_list(
                "status", flat=True
            )
            previous = next(iter(current), None)
            if previous is None:
                return False
            updated = Message.objects.filter(conditions, pk=message_id, status=previous).update(
                status=to, updated_at=at, **fields
            )
            if updated != 1:
                return False
        MessageEvent.objects.create(message_id=message_id, at=at, from_status=previous, to_status=to, detail=detail)
    return True


def _conditions(where: dict[str, Any], patient_as_read: dict[str, Any] | None) -> Q:
    """Return WHERE's lookups, and PATIENT_AS_READ as a condition on the message's patient, as one Q."""
    conditions = Q(**where)
    if patient_as_read is not None:
        conditions &= Q(Exists(Patient.objects.filter(pk=OuterRef("patient_id"), **patient_as_read)))
    return conditions


def _move_and_record(
    message_id: int,
    *,
    previous: str,
    to: str,
    at: dt.datetime,
    detail: str,
    where: dict[str, Any],
    fields: dict[str, Any],
    flush: bool = True,
    patient_as_read: dict[str, Any] | None = None,
) -> bool:
    """Move the message from PREVIOUS to TO and insert its event in one statement (PostgreSQL: the UPDATE in a
    data-modifying CTE); True when the row was in PREVIOUS and met WHERE. One round trip instead of four.

    Run outside a transaction, the statement is its own; FLUSH=False makes that one commit without waiting
    for the disk (`set_config(..., true)` is SET LOCAL: it lasts for this statement's transaction only).
    """
    update = _update_written(message_id, previous, to, at, where, fields, patient_as_read)
    if update is None:  # an expression or a lookup the written form does not know: Django compiles it
        rows = Message.objects.filter(_conditions(where, patient_as_read), pk=message_id, status=previous)
        query = cast(UpdateQuery, rows.query.chain(UpdateQuery))
        query.add_update_values({"status": to, "updated_at": at, **fields})
        update = query.get_compiler(rows.db).as_sql()
    update_sql, update_params = update
    events = connection.ops.quote_name(MessageEvent._meta.db_table)
    # The UPDATE's text holds only model names; the table name is the model's.
    unflushed = "" if flush else "lazy AS (SELECT set_config('synchronous_commit', 'off', true) AS setting), "
    sql = (
        f"WITH {unflushed}moved AS ({update_sql} RETURNING id) "  # noqa: S608
        f"INSERT INTO {events} (message_id, at, from_status, to_status, detail) "
        f"SELECT id, %s, %s, %s, %s FROM moved{'' if flush else ', lazy'}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*update_params, at, previous, to, detail))
        return cursor.rowcount == 1


# The lookups a delivery's moves use, written out (a message is moved several times a second per worker:
# compiling each UPDATE through the ORM cost more than running it).
_WRITTEN_LOOKUPS = {"attempts": "=", "next_attempt_at__lte": "<="}


def _update_written(
    message_id: int,
    previous: str,
    to: str,
    at: dt.datetime,
    where: dict[str, Any],
    fields: dict[str, Any],
    patient_as_read: dict[str, Any] | None,
) -> tuple[str, list[Any]] | None:
    """Return the conditional UPDATE of a move as SQL and parameters, or None when it needs the ORM."""
    if any(key not in _WRITTEN_LOOKUPS for key in where) or any(
        hasattr(value, "resolve_expression") for value in fields.values()
    ):
        return None
    qn = connection.ops.quote_name
    table = qn(Message._meta.db_table)
    sets, params = [], []
    for name, value in {"status": to, "updated_at": at, **fields}.items():
        field = _field(Message, name)
        sets.append(f"{qn(field.column or name)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    conditions = [f"{table}.{qn('id')} = %s", f"{table}.{qn('status')} = %s"]
    params += [message_id, previous]
    for key, value in where.items():
        field = _field(Message, key.split("__")[0])
        conditions.append(f"{table}.{qn(field.column or key)} {_WRITTEN_LOOKUPS[key]} %s")
        params.append(field.get_db_prep_value(value, connection))
    if patient_as_read is not None:
        same = [f"p.{qn('id')} = {table}.{qn('patient_id')}"]
        for name, value in patient_as_read.items():
            field = _field(Patient, name)
            prepared = field.get_db_prep_value(value, connection)
            if prepared is None:
                same.append(f"p.{qn(field.column or name)} IS NULL")
            else:
                same.append(f"p.{qn(field.column or name)} = %s")
                params.append(prepared)
        patients = qn(Patient._meta.db_table)
        conditions.append(f"EXISTS (SELECT 1 FROM {patients} p WHERE {' AND '.join(same)})")  # noqa: S608
    return f"UPDATE {table} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}", params  # noqa: S608


def _field(model: type[Model], name: str) -> "Field[Any, Any]":
    return cast("Field[Any, Any]", model._meta.get_field(name))


def _enqueue_delivery(message_id: int) -> None:
    """Publish delivery of one message; if the broker refuses it the sweep publishes it later."""
    deliveries_publish([message_id])


def message_queue(
    *,
    patient: Patient,
    channel: str,
    purpose: str,
    template: str,
    context: dict,
    source_key: str | None = None,
    send_after: dt.datetime | None = None,
    reply_to: InboundMessage | None = None,
) -> Message:
    """Render and store a message for PATIENT on CHANNEL and enqueue its delivery after commit.

    Returns the stored Message: queued (due at the next moment inside the patient's send window,
    not before SEND_AFTER), or skipped with the reason (no consent, opted out, inactive or
    deceased, no address). With SOURCE_KEY at most one Message exists per (source_key, channel):
    asking again returns the existing one. REPLY_TO marks an answer to the patient's own SMS
    (STOP / START / HELP confirmations): it goes to that number at once, consent and quiet hours
    aside, but never to an inactive or deceased patient.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    if source_key is not None:
        existing = Message.objects.filter(source_key=source_key, channel=channel).first()
        if existing is not None:
            return existing
    now = timezone.now()
    patient = Patient.objects.get(pk=patient.pk)  # consent as stored now, not as the caller last saw it
    message = message_build(
        patient=patient, channel=channel, purpose=purpose, template=template, context=context,
        now=now, source_key=source_key, send_after=send_after, reply_to=reply_to,
    )  # fmt: skip
    return messages_store(messages=[message], now=now)[0]


def _backoff(attempts: int) -> dt.timedelta:
    seconds = settings.MESSAGING_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.MESSAGING_RETRY_MAX_SECONDS))


# What deciding a delivery reads of the patient (skip_reason, next_send_time).
_DECIDING_PATIENT_FIELDS = (
    "status", "preferred_channel", "sms_consent", "email_consent", "mobile_phone", "email", "time_zone",
)  # fmt: skip


def _delivery_read(message_ids: Iterable[int]) -> dict[int, Message]:
    """Return the messages of MESSAGE_IDS with what deciding their delivery reads of their patients (one query)."""
    patient_fields = [f"patient__{name}" for name in MESSAGE_PATIENT_FIELDS]
    rows = (
        Message.objects.select_related("patient")
        .only(*(f.name for f in Message._meta.concrete_fields), *patient_fields)
        .filter(pk__in=list(message_ids))
    )
    return {message.pk: message for message in rows}


def messages_deliver(*, message_ids: Iterable[int]) -> None:
    """Deliver a few queued messages one after the other (a delivery task's chunk), read in one query.

    Each is decided on that read and its moves are made only while what the decision read of its patient
    (status, consent, channel, address, zone) is still so in the database; otherwise it is read and decided
    again on its own (`message_deliver`), so a chunk never acts on a patient's outdated consent. One that
    breaks is recorded (unknown) and logged; the others still go.
    """
    ids = list(dict.fromkeys(message_ids))
    read = _delivery_read(ids) if len(ids) > 1 else {}
    for message_id in ids:
        try:
            message_deliver(message_id=message_id, read=read.get(message_id))
        except Exception:
            logger.exception("delivering message %s failed", message_id)


def message_deliver(*, message_id: int, read: Message | None = None) -> Message | None:
    """Send a due queued message once: claim it (queued -> sending), call the backend, record.

    Does nothing for a message that is not queued or not yet due, so running it twice (a
    duplicate task, two sweeps) cannot send twice. A message whose patient meanwhile opted out
    or became inactive is skipped; one that falls into quiet hours waits for the next opening.
    READ: the message as `messages_deliver` read it with its chunk (see there).
    """
    now = timezone.now()
    if read is not None:
        message: Message | None = read
        # Decided on an earlier read: every move below also needs the patient's row as it was then.
        unchanged: dict[str, Any] | None = {name: getattr(read.patient, name) for name in _DECIDING_PATIENT_FIELDS}
    else:
        message, unchanged = _delivery_read([message_id]).get(message_id), None
    # A queued message always has its next attempt time (a check constraint).
    if (
        message is None
        or message.status != S.QUEUED
        or message.next_attempt_at is None
        or message.next_attempt_at > now
    ):
        return message
    patient = message.patient
    reason = skip_reason(patient=patient, channel=message.channel, automated=message.automated)
    if reason:
        if (
            not _transition(
                message_id,
                to=S.SKIPPED,
                expected=S.QUEUED,
                detail=reason,
                at=now,
                reason=reason,
                patient_as_read=unchanged,
            )
            and unchanged is not None
        ):
            return message_deliver(message_id=message_id)  # something changed since the read: decide again
        message.refresh_from_db()
        return message
    if message.automated:
        opens = next_send_time(patient=patient, at=now)
        if opens > now:
            if (
                not _transition(
                    message_id,
                    to=S.QUEUED,
                    only_from={S.QUEUED},  # only a message still waiting is rescheduled; the others are retries
                    expected=S.QUEUED,
                    detail="quiet hours: waiting for the send window",
                    at=now,
                    next_attempt_at=opens,
                    patient_as_read=unchanged,
                )
                and unchanged is not None
            ):
                return message_deliver(message_id=message_id)
            message.refresh_from_db()
            return message
    # One conditional UPDATE claims it: still queued, still due, and no other claim counted an attempt.
    attempt = message.attempts + 1
    claimed = _transition(
        message_id,
        to=S.SENDING,
        expected=S.QUEUED,
        at=now,
        where={"next_attempt_at__lte": now, "attempts": message.attempts},
        patient_as_read=unchanged,
        attempts=attempt,
        last_attempt_at=now,
        reason="",
    )
    if not claimed:
        if unchanged is not None:
            return message_deliver(message_id=message_id)  # read again: claimed by another, or its patient changed
        return Message.objects.filter(pk=message_id).first()
    message.status, message.attempts, message.last_attempt_at, message.reason = S.SENDING, attempt, now, ""
    # Only this claim's outcome is recorded: the sweep may have declared it unknown meanwhile.
    mine: dict[str, Any] = {
        "only_from": IN_FLIGHT,
        "where": {"attempts": attempt},
        "expected": S.SENDING,
        "flush": False,
    }
    try:
        result = channel_for(message.channel).send(message)
    except SendError as exc:
        _record_failure(message, exc, attempt=attempt)
    except Exception as exc:  # a bug or an unexpected library error: record it, never swallow it
        _record_failure(message, SendError(f"{type(exc).__name__}: {exc}", outcome_unknown=True), attempt=attempt)
        raise
    else:
        done = timezone.now()
        status = S.DELIVERED if result.status == DeliveryStatus.DELIVERED else S.SENT
        fields: dict[str, Any] = {
            "provider_message_id": result.provider_message_id,
            "sent_at": done,
            "needs_review": False,
        }
        if _transition(message_id, **mine, to=status, at=done, reason="", **fields):
            message.status, message.updated_at = status, done
            for name, value in fields.items():
                setattr(message, name, value)
            return message
    message.refresh_from_db()
    return message


def _record_failure(message: Message, exc: SendError, *, attempt: int) -> None:
    now = timezone.now()
    text = str(exc)[:2000]
    base: dict[str, Any] = {
        "only_from": IN_FLIGHT, "where": {"attempts": attempt}, "expected": S.SENDING, "flush": False,
        "at": now, "reason": text,
    }  # fmt: skip
    if exc.outcome_unknown:
        # Not resent blindly: the sweep reconciles it with the provider once the request is over.
        _transition(message.pk, to=S.UNKNOWN, detail=text, **base)
    elif exc.permanent:
        _transition(message.pk, to=S.FAILED, detail=f"permanent: {text}", needs_review=True, **base)
    elif attempt - message.attempts_at_staff_retry >= settings.MESSAGING_MAX_ATTEMPTS:
        detail = f"gave up after {attempt - message.attempts_at_staff_retry} attempts: {text}"
        _transition(message.pk, to=S.FAILED, detail=detail, needs_review=True, **base)
    else:
        retry_at = now + _backoff(attempt - message.attempts_at_staff_retry)
        detail = f"attempt {attempt} failed, retry: {text}"
        _transition(message.pk, to=S.QUEUED, detail=detail, next_attempt_at=retry_at, **base)


def message_reconcile(*, message_id: int) -> Message | None:
    """Settle a message whose send outcome is unknown by asking the provider.

    Found at the provider: sent (or delivered / failed as it reports). Surely not there: queued
    again, since the provider never accepted it. The channel's backend cannot ask its provider
    (console, file, email): handed to staff (needs_review) and left unknown until they decide.
    """
    message = Message.objects.filter(pk=message_id, status=S.UNKNOWN).first()
    if message is None:
        return Message.objects.filter(pk=message_id).first()
    now = timezone.now()
    try:
        found = channel_for(message.channel).lookup(message)
    except LookupNotSupported as exc:
        _hand_to_staff(message, now, str(exc))
        return Message.objects.get(pk=message_id)
    except SendError as exc:
        if now - (message.last_attempt_at or message.created_at) > dt.timedelta(days=1):
            _hand_to_staff(message, now, f"the provider could not be asked for a day: {exc}")
        else:
            Message.objects.filter(pk=message_id, status=S.UNKNOWN).update(reason=f"reconcile failed: {exc}"[:2000])
        return Message.objects.get(pk=message_id)
    # Settles only the unknown outcome it asked about, of the attempt it asked about.
    guard: dict[str, Any] = {"only_from": {S.UNKNOWN}, "where": {"attempts": message.attempts}, "at": now}
    if found is not None:
        status = _DELIVERY_REPORT_TO.get(found.status, S.SENT)
        _transition(
            message_id,
            to=status,
            detail=f"reconciled: the provider has it as {found.provider_message_id} ({found.status})",
            provider_message_id=found.provider_message_id,
            sent_at=found.created_at or message.last_attempt_at or now,
            needs_review=status == S.FAILED,
            reason="" if status != S.FAILED else "the provider reports it failed",
            **guard,
        )
    elif message.attempts - message.attempts_at_staff_retry >= settings.MESSAGING_MAX_ATTEMPTS:
        _transition(
            message_id, to=S.FAILED, detail="reconciled: not at the provider; no attempts left",
            reason="not accepted by the provider after the last attempt", needs_review=True, **guard,
        )  # fmt: skip
    else:
        _transition(
            message_id, to=S.QUEUED, detail="reconciled: the provider never accepted it; queued again",
            next_attempt_at=now, reason="", **guard,
        )  # fmt: skip
        transaction.on_commit(lambda: _enqueue_delivery(message_id))
    return Message.objects.get(pk=message_id)


def _hand_to_staff(message: Message, now: dt.datetime, why: str) -> None:
    Message.objects.filter(pk=message.pk, status=S.UNKNOWN).update(
        needs_review=True, reason=f"outcome unknown; {why}: staff must check and resolve", updated_at=now
    )


def _locked(queryset: QuerySet[Message]) -> QuerySet[Message]:
    """Lock the rows for this transaction, skipping rows another sweep holds (PostgreSQL)."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()


def messages_sweep(*, limit: int | None = None) -> dict[str, int]:
    """Find outbox work in the database and start it: the beat-driven safety net.

    Marks messages stuck in "sending" past MESSAGING_SENDING_TIMEOUT_SECONDS as unknown (their
    worker died), reconciles unknown ones whose request is surely over, and enqueues delivery of
    every due queued message no delivery task waits for (clinic.messaging.publish) after commit, a
    few ids per task. Safe to run twice at once.
    """
    limit = limit or settings.MESSAGING_SWEEP_BATCH
    now = timezone.now()
    timeout = dt.timedelta(seconds=settings.MESSAGING_SENDING_TIMEOUT_SECONDS)
    counts = {"stale": 0, "reconcile": 0, "due": 0}
    with transaction.atomic():
        stale = list(
            _locked(Message.objects.filter(status=S.SENDING, last_attempt_at__lte=now - timeout))
            .order_by("last_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        for pk in stale:
            counts["stale"] += _transition(
                pk,
                to=S.UNKNOWN,
                only_from={S.SENDING},  # a worker died mid-send; an unknown one is already unknown
                at=now,
                detail="the worker stopped during the send: outcome unknown",
                reason="the worker stopped during the send: outcome unknown",
            )
    with transaction.atomic():
        # next_attempt_at on an unknown message is "reconcile not before", so two sweeps share work.
        to_reconcile = list(
            _locked(
                Message.objects.filter(
                    status=S.UNKNOWN, needs_review=False, last_attempt_at__lte=now - timeout
                ).exclude(next_attempt_at__gt=now)
            )
            .order_by("last_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=to_reconcile).update(next_attempt_at=now + timeout)
    for pk in to_reconcile:
        message_reconcile(message_id=pk)
        counts["reconcile"] += 1
    with transaction.atomic():
        # Only messages no task waits for: under a backlog the queued tasks are not published twice.
        due_rows = _locked(messages_awaiting_publish(Message.objects.due(now=now), now=now))
        due = list(due_rows.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
        if due:
            Message.objects.filter(pk__in=due).update(enqueued_at=now)
            transaction.on_commit(functools.partial(deliveries_publish, due, mark=False))
        counts["due"] = len(due)
    return counts


def message_retry(*, message: Message, by: Actor = None) -> Message:
    """Queue a failed message again (staff action), or an unknown one staff checked was not sent."""
    now = timezone.now()
    who = f" by {by}" if by else ""
    if not _transition(
        message.pk,
        to=S.QUEUED,
        only_from=STAFF_RETRY_FROM,
        at=now,
        detail=f"retry requested{who}",
        next_attempt_at=now,
        attempts_at_staff_retry=F("attempts"),
        needs_review=False,
        reason="",
    ):
        allowed = " or ".join(sorted(STAFF_RETRY_FROM))
        problem = f"Only {allowed} messages can be retried (this one is {message.status})."
        raise NotRetryable({"status": problem})
    transaction.on_commit(lambda: _enqueue_delivery(message.pk))
    message.refresh_from_db()
    return message


def messages_withdraw(*, source_key: str, reason: str, by: Actor = None) -> tuple[int, int]:
    """Withdraw the messages of SOURCE_KEY that are still waiting in the outbox (queued: not handed to the
    provider yet, e.g. waiting for the send window); they end `skipped` with REASON.

    Return (withdrawn, already out): messages being sent or sent cannot be called back.
    """
    now = timezone.now()
    who = f" by {by}" if by else ""
    withdrawn = out = 0
    for pk, status in Message.objects.filter(source_key=source_key).values_list("pk", "status"):
        if status in (S.SKIPPED, S.FAILED):
            continue
        if status in MESSAGE_TRANSITIONS.sources(S.SKIPPED) and _transition(
            pk, to=S.SKIPPED, at=now, detail=f"withdrawn{who}: {reason}", reason=reason
        ):
            withdrawn += 1
        else:
            out += 1  # sending, sent, delivered, unknown - or a worker claimed it this instant
    return withdrawn, out


def message_mark_sent(*, message: Message, by: Actor = None) -> Message:
    """Record that staff confirmed an unknown message did reach the provider."""
    now = timezone.now()
    who = f" by {by}" if by else ""
    if not _transition(
        message.pk, to=S.SENT, only_from=STAFF_MARK_SENT_FROM, at=now, detail=f"confirmed sent{who}",
        sent_at=message.last_attempt_at or now, needs_review=False, reason="",
    ):  # fmt: skip
        allowed = " or ".join(sorted(STAFF_MARK_SENT_FROM))
        raise NotRetryable({"status": f"Only {allowed} messages can be marked sent (this one is {message.status})."})
    message.refresh_from_db()
    return message


def message_delivery_report(*, provider_message_id: str, status: DeliveryStatus, description: str) -> Message | None:
    """Apply a provider's delivery report to the message it names; a "sent" report changes nothing.

    DESCRIPTION is the provider's own account (e.g. "undelivered (error 30005)"), kept in the reason
    of a failure and in the history.
    """
    to = _DELIVERY_REPORT_TO.get(status)
    message = Message.objects.filter(provider_message_id=provider_message_id).first() if provider_message_id else None
    if message is None or to is None:
        return message
    now = timezone.now()
    only_from: Iterable[str]
    fields: dict[str, Any]
    if to == S.DELIVERED:
        # Not while sending: the id then names an earlier attempt, and this one's outcome is the worker's.
        only_from = MESSAGE_TRANSITIONS.sources(S.DELIVERED) - {S.SENDING}
        fields = {"delivered_at": now, "sent_at": message.sent_at or now, "reason": ""}
    else:
        # Only a sent message fails by report: an unknown one is settled by asking the provider about
        # its latest attempt, and a report may name an earlier one.
        only_from = {S.SENT}
        fields = {"needs_review": True, "reason": f"the provider reports it {description}"}
    _transition(message.pk, to=to, only_from=only_from, at=now, detail=f"delivery report: {description}", **fields)
    message.refresh_from_db()
    return message
