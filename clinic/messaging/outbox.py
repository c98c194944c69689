"""The outbox: queue a message, deliver it at most once, retry, reconcile and sweep.

A Message moves queued -> sending -> sent -> delivered, or ends skipped / failed, or lands in
unknown when the provider may have accepted it without telling us. Every move is a conditional
UPDATE that must touch exactly one row, recorded as a MessageEvent in the same transaction.
"""

import datetime as dt
import functools
import logging
import smtplib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.messaging.backends import SmsSendError, SmsSent, get_sms_backend
from clinic.messaging.backends.base import LookupNotSupported
from clinic.messaging.consent import recipient_for, skip_reason
from clinic.messaging.content import message_render
from clinic.messaging.models import Channel, InboundMessage, Message, MessageEvent
from clinic.messaging.quiet_hours import next_send_time
from clinic.models import Patient

logger = logging.getLogger(__name__)
S = Message.Status


class NotRetryable(ValidationError):
    """Staff asked to retry or resolve a message that is not in a state that allows it."""


def _transition(
    message_id: int,
    *,
    from_statuses: Iterable[str],
    to: str,
    detail: str = "",
    at: dt.datetime | None = None,
    where: dict[str, Any] | None = None,
    **fields: Any,
) -> bool:
    """Move the message from one of FROM_STATUSES to TO and record it; False if it was not there.

    WHERE adds conditions the row must still meet (e.g. the attempt number of the caller's claim).
    """
    from_statuses = list(from_statuses)
    at = at or timezone.now()
    where = where or {}
    with transaction.atomic():
        current = Message.objects.filter(pk=message_id, status__in=from_statuses, **where).values_list(
            "status", flat=True
        )
        previous = next(iter(current), None)
        if previous is None:
            return False
        updated = Message.objects.filter(pk=message_id, status=previous, **where).update(
            status=to, updated_at=at, **fields
        )
        if updated != 1:
            return False
        MessageEvent.objects.create(message_id=message_id, at=at, from_status=previous, to_status=to, detail=detail)
    return True


def _enqueue_delivery(message_id: int) -> None:
    """Publish a delivery task; if the broker is down the row stays due and the sweep sends it."""
    from clinic.messaging.tasks import message_deliver_task

    try:
        message_deliver_task.delay(message_id)
    except Exception:  # the broker is unreachable: nothing is lost, the row is still due
        logger.warning("could not enqueue delivery of message %s; the sweep will pick it up", message_id)


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
    automated = reply_to is None
    patient = Patient.objects.get(pk=patient.pk)  # consent as stored now, not as the caller last saw it
    reason = skip_reason(patient=patient, channel=channel, automated=automated)
    message = Message(
        patient=patient,
        channel=channel,
        purpose=purpose,
        template=template,
        source_key=source_key,
        automated=automated,
        in_reply_to=reply_to,
        language=patient.preferred_language,
    )
    if reason:
        message.status, message.reason = S.SKIPPED, reason
        message.recipient = recipient_for(patient=patient, channel=channel)
    else:
        rendered = message_render(patient=patient, channel=channel, template=template, context=context)
        message.subject, message.body, message.language = rendered.subject, rendered.body, rendered.language
        message.recipient = reply_to.from_number if reply_to else recipient_for(patient=patient, channel=channel)
        due = max(send_after or now, now)
        message.next_attempt_at = next_send_time(patient=patient, at=due) if automated else due
        if message.next_attempt_at > now:
            message.reason = "waiting for the patient's send window" if message.next_attempt_at > due else ""
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            MessageEvent.objects.create(
                message=message, at=now, from_status="", to_status=message.status, detail=message.reason
            )
    except IntegrityError:
        if source_key is None:
            raise
        return Message.objects.get(source_key=source_key, channel=channel)
    if message.status == S.QUEUED and message.next_attempt_at is not None and message.next_attempt_at <= now:
        transaction.on_commit(lambda: _enqueue_delivery(message.pk))
    return message


def _backoff(attempts: int) -> dt.timedelta:
    seconds = settings.MESSAGING_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.MESSAGING_RETRY_MAX_SECONDS))


def _send(message: Message) -> SmsSent:
    """Hand MESSAGE to its channel's backend; every failure becomes an SmsSendError."""
    if message.channel == Channel.SMS:
        return get_sms_backend().send(
            to=message.recipient, body=message.body, from_=settings.SMS_FROM_NUMBER, reference=f"message-{message.pk}"
        )
    message_id_header = make_msgid(idstring=f"message-{message.pk}")
    email = EmailMessage(
        subject=message.subject, body=message.body, to=[message.recipient], headers={"Message-ID": message_id_header}
    )
    try:
        email.send(fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise SmsSendError(f"email refused: {exc}", permanent=True) from exc
    except TimeoutError as exc:
        raise SmsSendError("no answer from the mail server after sending", outcome_unknown=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SmsSendError(f"email failed: {type(exc).__name__}: {exc}") from exc
    return SmsSent(provider_message_id=message_id_header)


def message_deliver(*, message_id: int) -> Message | None:
    """Send a due queued message once: claim it (queued -> sending), call the backend, record.

    Does nothing for a message that is not queued or not yet due, so running it twice (a
    duplicate task, two sweeps) cannot send twice. A message whose patient meanwhile opted out
    or became inactive is skipped; one that falls into quiet hours waits for the next opening.
    """
    now = timezone.now()
    message = Message.objects.select_related("patient").filter(pk=message_id).first()
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
        _transition(message_id, from_statuses=[S.QUEUED], to=S.SKIPPED, detail=reason, at=now, reason=reason)
        message.refresh_from_db()
        return message
    if message.automated:
        opens = next_send_time(patient=patient, at=now)
        if opens > now:
            _transition(
                message_id,
                from_statuses=[S.QUEUED],
                to=S.QUEUED,
                detail="quiet hours: waiting for the send window",
                at=now,
                next_attempt_at=opens,
            )
            message.refresh_from_db()
            return message
    with transaction.atomic():
        claimed = Message.objects.filter(pk=message_id, status=S.QUEUED, next_attempt_at__lte=now).update(
            status=S.SENDING, attempts=F("attempts") + 1, last_attempt_at=now, updated_at=now, reason=""
        )
        if claimed != 1:
            return Message.objects.filter(pk=message_id).first()
        MessageEvent.objects.create(message_id=message_id, at=now, from_status=S.QUEUED, to_status=S.SENDING)
    message.refresh_from_db()
    attempt = message.attempts
    # Only this claim's outcome is recorded: the sweep may have declared it unknown meanwhile.
    mine: dict[str, Any] = {"from_statuses": [S.SENDING, S.UNKNOWN], "where": {"attempts": attempt}}
    try:
        result = _send(message)
    except SmsSendError as exc:
        _record_failure(message, exc, attempt=attempt)
    except Exception as exc:  # a bug or an unexpected library error: record it, never swallow it
        _record_failure(message, SmsSendError(f"{type(exc).__name__}: {exc}", outcome_unknown=True), attempt=attempt)
        raise
    else:
        done = timezone.now()
        status = S.DELIVERED if result.status == "delivered" else S.SENT
        _transition(
            message_id,
            **mine,
            to=status,
            at=done,
            provider_message_id=result.provider_message_id,
            sent_at=done,
            needs_review=False,
            reason="",
        )
    message.refresh_from_db()
    return message


def _record_failure(message: Message, exc: SmsSendError, *, attempt: int) -> None:
    now = timezone.now()
    text = str(exc)[:2000]
    base: dict[str, Any] = {
        "from_statuses": [S.SENDING, S.UNKNOWN],
        "where": {"attempts": attempt},
        "at": now,
        "reason": text,
    }
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
    again, since the provider never accepted it. The provider cannot be asked (console, file,
    email): handed to staff (needs_review) and left unknown until they decide.
    """
    message = Message.objects.filter(pk=message_id, status=S.UNKNOWN).first()
    if message is None:
        return Message.objects.filter(pk=message_id).first()
    now = timezone.now()
    if message.channel != Channel.SMS:
        _hand_to_staff(message, now, "the mail server cannot be asked whether it took the email")
        return Message.objects.get(pk=message_id)
    try:
        found = get_sms_backend().lookup(
            to=message.recipient,
            body=message.body,
            since=message.last_attempt_at or message.created_at,
            provider_message_id=message.provider_message_id,
        )
    except LookupNotSupported:
        _hand_to_staff(message, now, "the SMS backend cannot be asked whether it took the message")
        return Message.objects.get(pk=message_id)
    except SmsSendError as exc:
        if now - (message.last_attempt_at or message.created_at) > dt.timedelta(days=1):
            _hand_to_staff(message, now, f"the provider could not be asked for a day: {exc}")
        else:
            Message.objects.filter(pk=message_id, status=S.UNKNOWN).update(reason=f"reconcile failed: {exc}"[:2000])
        return Message.objects.get(pk=message_id)
    guard: dict[str, Any] = {"from_statuses": [S.UNKNOWN], "where": {"attempts": message.attempts}, "at": now}
    if found is not None:
        status = {"delivered": S.DELIVERED, "failed": S.FAILED}.get(found.status, S.SENT)
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
    every due queued message after commit. Safe to run twice at once.
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
                from_statuses=[S.SENDING],
                to=S.UNKNOWN,
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
        due_rows = _locked(Message.objects.due(now=now)).order_by("next_attempt_at")
        due = list(due_rows.values_list("pk", flat=True)[:limit])
        for pk in due:
            transaction.on_commit(functools.partial(_enqueue_delivery, pk))
        counts["due"] = len(due)
    return counts


def message_retry(*, message: Message, by: Actor = None) -> Message:
    """Queue a failed message again (staff action), or an unknown one staff checked was not sent."""
    now = timezone.now()
    who = f" by {by}" if by else ""
    if not _transition(
        message.pk,
        from_statuses=[S.FAILED, S.UNKNOWN],
        to=S.QUEUED,
        at=now,
        detail=f"retry requested{who}",
        next_attempt_at=now,
        attempts_at_staff_retry=F("attempts"),
        needs_review=False,
        reason="",
    ):
        problem = f"Only failed or unknown messages can be retried (this one is {message.status})."
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
        if status == S.QUEUED and _transition(
            pk, from_statuses=[S.QUEUED], to=S.SKIPPED, at=now, detail=f"withdrawn{who}: {reason}", reason=reason
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
        message.pk, from_statuses=[S.UNKNOWN], to=S.SENT, at=now, detail=f"confirmed sent{who}",
        sent_at=message.last_attempt_at or now, needs_review=False, reason="",
    ):  # fmt: skip
        raise NotRetryable({"status": f"Only unknown messages can be marked sent (this one is {message.status})."})
    message.refresh_from_db()
    return message


_STATUS_CALLBACK = {"delivered": S.DELIVERED, "undelivered": S.FAILED, "failed": S.FAILED}


def message_status_update(*, provider_message_id: str, provider_status: str, error_code: str = "") -> Message | None:
    """Apply a provider's delivery report (delivered, undelivered, failed) to the message it names."""
    to = _STATUS_CALLBACK.get((provider_status or "").lower())
    message = Message.objects.filter(provider_message_id=provider_message_id).first() if provider_message_id else None
    if message is None or to is None:
        return message
    now = timezone.now()
    fields: dict[str, Any] = (
        {"delivered_at": now, "sent_at": message.sent_at or now} if to == S.DELIVERED else {"needs_review": True}
    )
    reason = (
        ""
        if to == S.DELIVERED
        else f"the provider reports it {provider_status}" + (f" (error {error_code})" if error_code else "")
    )
    _transition(
        message.pk,
        from_statuses=[S.SENT, S.UNKNOWN] if to == S.DELIVERED else [S.SENT],
        to=to,
        at=now,
        detail=f"status callback: {provider_status}",
        reason=reason,
        **fields,
    )
    message.refresh_from_db()
    return message
