"""Composing outbox messages, one at a time or a sweep's batch at once.

`message_build` decides whether an automated SMS carries the opt-out footer ("Reply STOP to opt out":
the first one to a number, then at least one every MESSAGING_OPT_OUT_FOOTER_DAYS, read from the
Message history by `opt_out_told`), renders and checks one message without storing it (consent, address, quiet hours,
content rules: the same decisions for one message or many); `messages_store` writes a batch with one
INSERT for the messages and one for their first events and, after commit, marks the due ones as
published (or a sweep's batch stores them marked) and publishes them, a few ids per task. The unique
(source_key, channel) constraint still holds: when a batch collides with stored messages, those are
read in one query and kept, and the rest of the batch is inserted in one go (one by one only if
another process stores one meanwhile).
"""

import datetime as dt
import functools
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from clinic.messaging.consent import recipient_for, skip_reason
from clinic.messaging.content import Rendered, message_render
from clinic.messaging.models import Channel, InboundMessage, Message, MessageEvent
from clinic.messaging.publish import deliveries_publish
from clinic.messaging.quiet_hours import next_send_time
from clinic.models import Patient

S = Message.Status
# The patient fields that deciding, composing and storing a message read (consent, address, language, zone,
# name, and what the content check compares): a sweep loads only these (`.only()`).
MESSAGE_PATIENT_FIELDS = (
    "id", "status", "mrn", "legal_first_name", "preferred_name", "date_of_birth", "mobile_phone", "email",
    "preferred_channel", "sms_consent", "email_consent", "time_zone", "preferred_language",
)  # fmt: skip
_CHANNELS = frozenset(Channel.values)
# A message that never reached the patient told them nothing.
_NOT_OUT = (S.SKIPPED, S.FAILED)


def opt_out_told(*, patient_ids: Iterable[int], now: dt.datetime) -> set[tuple[int, str]]:
    """Return the (patient id, number) pairs an SMS naming STOP went to (or waits for) within the footer window.

    One query for a batch. On PostgreSQL it looks each patient up in the (patient, created_at) index (a
    LATERAL join over the ids): read as one `patient_id = ANY(...)` filter, the planner may instead walk
    every message of the window by date, so each batch of a sweep read the whole window again.
    """
    ids = sorted(set(patient_ids))
    if not ids:
        return set()
    since = now - dt.timedelta(days=settings.MESSAGING_OPT_OUT_FOOTER_DAYS)
    if connection.vendor == "postgresql":
        return _told_by_patient(ids, since=since)
    told = (
        Message.objects.filter(patient_id__in=ids, channel=Channel.SMS, created_at__gte=since, body__contains="STOP")
        .exclude(status__in=_NOT_OUT)
        .order_by()
        .values_list("patient_id", "recipient")
    )
    return set(told.distinct())


def _told_by_patient(ids: list[int], *, since: dt.datetime) -> set[tuple[int, str]]:
    table = connection.ops.quote_name(Message._meta.db_table)
    # Only the table name is formatted in; every value is a parameter. OFFSET 0 keeps the subquery a lookup
    # per patient: merged into the outer query, the planner may join the whole window instead when the
    # table's statistics are old (a sweep inserts thousands of messages between two ANALYZEs).
    sql = (
        "SELECT DISTINCT m.patient_id, m.recipient FROM unnest(%s::bigint[]) AS p(id) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT patient_id, recipient FROM {table} "
        "WHERE patient_id = p.id AND created_at >= %s AND channel = %s AND strpos(body, 'STOP') > 0 "
        "AND NOT (status = ANY(%s)) OFFSET 0) AS m"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (ids, since, str(Channel.SMS), [str(status) for status in _NOT_OUT]))
        return {(patient_id, recipient) for patient_id, recipient in cursor.fetchall()}


def message_build(
    *,
    patient: Patient,
    channel: str,
    purpose: str,
    template: str,
    context: dict[str, Any],
    now: dt.datetime,
    source_key: str | None = None,
    send_after: dt.datetime | None = None,
    reply_to: InboundMessage | None = None,
    reason: str | None = None,
    told: set[tuple[int, str]] | None = None,
    rendered: Rendered | None = None,
) -> Message:
    """Return the unsaved Message for PATIENT on CHANNEL: queued with its due time, or skipped with the reason.

    Raises ValidationError when the text cannot be composed (no template, PHI, too long). REASON: the
    skip reason ("" for none) when the caller has just decided it (`skip_reason`) for this patient and
    channel in the same transaction; None decides it here. TOLD: `opt_out_told` for the caller's batch
    (None looks it up here). RENDERED: the text, when the caller composed it (keyword answers).
    """
    if channel not in _CHANNELS:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    automated = reply_to is None
    if reason is None:
        reason = skip_reason(patient=patient, channel=channel, automated=automated)
    message = _message_new(
        patient=patient,
        in_reply_to=reply_to,
        channel=channel,
        purpose=purpose,
        template=template,
        source_key=source_key,
        automated=automated,
        language=patient.preferred_language,
    )
    if reason:
        message.status, message.reason = S.SKIPPED, reason
        message.recipient = recipient_for(patient=patient, channel=channel)
        return message
    message.recipient = reply_to.from_number if reply_to else recipient_for(patient=patient, channel=channel)
    footer = False
    if channel == Channel.SMS and automated and rendered is None:
        if told is None:
            told = opt_out_told(patient_ids=[patient.pk], now=now)
        footer = (patient.pk, message.recipient) not in told
    if rendered is None:
        rendered = message_render(
            patient=patient, channel=channel, template=template, context=context, opt_out_footer=footer
        )
    message.subject, message.body, message.language = rendered.subject, rendered.body, rendered.language
    due = max(send_after or now, now)
    message.next_attempt_at = next_send_time(patient=patient, at=due) if automated else due
    if message.next_attempt_at > now:
        message.reason = "waiting for the patient's send window" if message.next_attempt_at > due else ""
    return message


@functools.cache
def _message_defaults() -> dict[str, Any]:
    """Return the attribute values of a new Message (its fields' defaults: constants), worked out once."""
    return {name: value for name, value in Message().__dict__.items() if name != "_state"}


def _message_new(*, patient: Patient, in_reply_to: InboundMessage | None, **values: Any) -> Message:
    """Return `Message(patient=..., in_reply_to=..., **VALUES)`, made by copying the defaults: `Model.__init__`
    walks every field per instance, a good part of a sweep's cost per message. Any init signal listener for
    Message gets the ordinary constructor."""
    if pre_init.has_listeners(Message) or post_init.has_listeners(Message):
        return Message(patient=patient, in_reply_to=in_reply_to, **values)
    message = Message.__new__(Message)
    message.__dict__.update(_message_defaults())
    message.__dict__.update(values, patient_id=patient.pk, in_reply_to_id=in_reply_to.pk if in_reply_to else None)
    message._state = ModelState()
    message._state.fields_cache["patient"] = patient
    if in_reply_to is not None:
        message._state.fields_cache["in_reply_to"] = in_reply_to
    return message


def _due_now(message: Message, now: dt.datetime) -> bool:
    return message.status == S.QUEUED and message.next_attempt_at is not None and message.next_attempt_at <= now


def messages_store(*, messages: Sequence[Message], now: dt.datetime, marked: bool = False) -> list[Message]:
    """Store built MESSAGES with their first events and publish the due ones after commit; return the stored rows.

    MARKED: store the due ones already marked as published (`enqueued_at`) rather than mark them after
    commit (one UPDATE less; a sweep's batch). A process that dies between the commit and the publish
    then leaves them to the outbox sweep's lost-task rule (MESSAGING_REPUBLISH_AFTER_SECONDS).

    A message whose (source_key, channel) is already stored is not stored again: the stored one is
    returned in its place.
    """
    if not messages:
        return []
    if marked:
        published_at = timezone.now()
        for message in messages:
            if _due_now(message, now):
                message.enqueued_at = published_at
    try:
        _insert_all(messages, now=now)
        stored = created = list(messages)
    except IntegrityError:  # one of them is stored already (asked again, or by another process meanwhile)
        stored, created = _store_new_only(messages, now=now)
    due = [message.pk for message in created if _due_now(message, now)]
    if due:
        transaction.on_commit(functools.partial(deliveries_publish, due, mark=not marked))
    return stored


def _insert_all(messages: Sequence[Message], *, now: dt.datetime) -> None:
    """Store MESSAGES and their first events (in a savepoint: a conflict leaves nothing behind)."""
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(messages) > 1:
            _insert_with_events(messages, now=now)
        else:
            Message.objects.bulk_create(messages)
            _events_create(messages, now=now)


def _store_new_only(messages: Sequence[Message], *, now: dt.datetime) -> tuple[list[Message], list[Message]]:
    """Store those of MESSAGES whose (source_key, channel) is not stored yet, in one go; return (MESSAGES with each
    stored one in its place, the ones stored now). Should another process store one meanwhile: one by one."""
    keys = {message.source_key for message in messages if message.source_key is not None}
    existing = {(m.source_key, m.channel): m for m in Message.objects.filter(source_key__in=keys)}
    fresh = [message for message in messages if (message.source_key, message.channel) not in existing]
    try:
        if fresh:
            _insert_all(fresh, now=now)
    except IntegrityError:
        pairs = [_store_one(message, now=now) for message in messages]
        return [message for message, _ in pairs], [message for message, new in pairs if new]
    return [existing.get((message.source_key, message.channel), message) for message in messages], fresh


def _events_create(messages: Sequence[Message], *, now: dt.datetime) -> None:
    MessageEvent.objects.bulk_create(
        MessageEvent(message=m, at=now, from_status="", to_status=m.status, detail=m.reason) for m in messages
    )


def _stamped(field: object) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


@functools.cache
def _insert_fields() -> tuple[tuple[str, str, str, bool], ...]:
    """Return (attname, quoted column, PostgreSQL type, stamped now) for each column a new Message stores."""
    return tuple(
        (f.attname, connection.ops.quote_name(f.column or f.name), f.db_type(connection) or "", _stamped(f))
        for f in Message._meta.concrete_fields
        if not f.primary_key
    )


def _insert_with_events(messages: Sequence[Message], *, now: dt.datetime) -> None:
    """PostgreSQL: insert MESSAGES and their first events (at NOW) in one statement; set their ids.

    The columns whose value differs between the messages are sent as arrays (UNNEST, as Django's bulk insert
    does), the others once; no model field converts anything here (a built message holds plain values).
    """
    stamped = timezone.now()
    selects: list[str] = []
    arrays: list[str] = []
    array_params: list[Any] = []
    const_params: list[Any] = []
    for attname, _column, db_type, stamp in _insert_fields():
        if stamp:
            for message in messages:
                message.__dict__[attname] = stamped
        values = list(map(operator.attrgetter(attname), messages))
        first = values[0]
        if (
            (arrays or attname != "patient_id")
            and values.count(first) == len(values)
            and len(set(map(type, values))) == 1
        ):
            selects.append(f"%s::{db_type}")
            const_params.append(first)
        else:
            selects.append(f"u.c{len(arrays)}")
            arrays.append(f"%s::{db_type}[]")
            array_params.append(values)
    table = connection.ops.quote_name(Message._meta.db_table)
    events = connection.ops.quote_name(MessageEvent._meta.db_table)
    columns = ", ".join(column for _, column, _, _ in _insert_fields())
    names = ", ".join(f"c{i}" for i in range(len(arrays)))
    # Only model names and types are formatted in; every value is a parameter.
    sql = (
        f"WITH new AS (INSERT INTO {table} ({columns}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(arrays)}) AS u({names}) RETURNING id, status, reason), "
        f"ev AS (INSERT INTO {events} (message_id, at, from_status, to_status, detail) "
        "SELECT id, %s, '', status, reason FROM new) "
        "SELECT id FROM new"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*const_params, *array_params, now))
        ids = [row[0] for row in cursor.fetchall()]
    for message, pk in zip(messages, ids, strict=True):
        message.pk = pk
        message._state.adding = False


def _store_one(message: Message, *, now: dt.datetime) -> tuple[Message, bool]:
    """Store MESSAGE alone; return (the stored row, True) or (the row already there, False)."""
    message.pk = None
    message._state.adding = True
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            _events_create([message], now=now)
    except IntegrityError:
        if message.source_key is None:
            raise
        return Message.objects.get(source_key=message.source_key, channel=message.channel), False
    return message, True
