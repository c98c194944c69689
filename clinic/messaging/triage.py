"""The triage inbox: every patient reply that needs a person, in one list, most urgent first.

Items are opened by the inbound hand-over for replies no app took (`triage_open_untaken`) and by the
apps for replies they read but a person must see (tpi: a high or worse pain score, a symptom word).
One item per inbound SMS (a one-to-one link): a second opener raises the urgency and fills in missing
links instead of adding a row. The core links an item to the patient only; what it concerns (a visit,
a procedure) and what the patient answered (a follow-up, an offer) are generic links the apps fill,
directly or through a context provider (`triage_context_register`) for replies nobody took.

Staff mark an item handled (`triage_handle`: who and when, once) and answer by SMS
(`triage_answer`): through the outbox like any automated message, so consent and quiet hours apply;
a refusal names the reason in plain words and writes nothing.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.messaging.consent import skip_reason
from clinic.messaging.keywords import keyword_normalize
from clinic.messaging.models import Channel, InboundMessage, Message, TriageAnswer, TriageItem
from clinic.messaging.outbox import message_queue
from clinic.models import Patient

Reason = TriageItem.Reason
Urgency = TriageItem.Urgency
# A reply that is only one of these asks to reschedule (the reminder texts say "R"); compared after
# keyword_normalize (upper case, no accents, spaces or punctuation).
RESCHEDULE_WORDS = frozenset({"R", "RESCHEDULE", "REPROGRAMAR"})
STAFF_ANSWER_TEMPLATE = "staff_answer"


@dataclass(frozen=True)
class TriageContext:
    """What an untaken reply is about, as an app sees it: the visit or procedure, and what it answered."""

    concerns: models.Model | None = None
    answers: models.Model | None = None
    concerns_label: str = ""
    answers_label: str = ""


ContextProvider = Callable[[InboundMessage], TriageContext | None]
_context_providers: dict[str, ContextProvider] = {}


def triage_context_register(name: str, provider: ContextProvider) -> None:
    """Let an app link replies nobody took to its own records (called from its AppConfig.ready)."""
    _context_providers[name] = provider


def _link(obj: models.Model | None) -> tuple[ContentType | None, int | None, str]:
    """Return the generic link to OBJ and its label as staff read it (kept, so the inbox needs no joins)."""
    if obj is None:
        return None, None, ""
    return ContentType.objects.get_for_model(obj), obj.pk, str(obj)[:200]


def triage_open(
    *,
    patient: Patient | None,
    reason: str,
    urgency: int = Urgency.ROUTINE,
    inbound: InboundMessage | None = None,
    detail: str = "",
    concerns: models.Model | None = None,
    answers: models.Model | None = None,
    concerns_label: str = "",
    answers_label: str = "",
    at: dt.datetime | None = None,
) -> TriageItem:
    """Open an item in the triage inbox and return it.

    For an INBOUND already in the inbox the existing item is returned, raised to URGENCY (and REASON,
    DETAIL with it) when that is higher, with any missing link filled in. The links' labels default to
    str(obj); CONCERNS_LABEL / ANSWERS_LABEL say it better (names and clinic times, not ids).
    """
    if reason not in Reason.values:
        raise ValidationError({"reason": f"Unknown triage reason {reason!r}."})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": f"Unknown urgency {urgency!r}."})
    concerns_type, concerns_id, default_concerns_label = _link(concerns)
    answers_type, answers_id, default_answers_label = _link(answers)
    concerns_label = (concerns_label or default_concerns_label)[:200]
    answers_label = (answers_label or default_answers_label)[:200]
    detail = detail[: TriageItem._meta.get_field("detail").max_length]
    with transaction.atomic():
        existing = (
            TriageItem.objects.select_for_update().filter(inbound=inbound).first() if inbound is not None else None
        )
        if existing is None:
            item = TriageItem.objects.create(
                patient=patient,
                inbound=inbound,
                reason=reason,
                urgency=urgency,
                detail=detail,
                concerns_type=concerns_type,
                concerns_id=concerns_id,
                concerns_label=concerns_label,
                answers_type=answers_type,
                answers_id=answers_id,
                answers_label=answers_label,
                opened_at=at or (inbound.received_at if inbound is not None else timezone.now()),
            )
        else:
            item = existing
            if urgency > item.urgency:
                item.urgency, item.reason, item.detail = urgency, reason, detail or item.detail
            if item.concerns_id is None and concerns_id is not None:
                item.concerns_type, item.concerns_id, item.concerns_label = concerns_type, concerns_id, concerns_label
            if item.answers_id is None and answers_id is not None:
                item.answers_type, item.answers_id, item.answers_label = answers_type, answers_id, answers_label
            item.save()
        if inbound is not None and item.is_open:
            InboundMessage.objects.filter(pk=inbound.pk).update(needs_review=True)
    return item


def triage_open_untaken(*, inbound: InboundMessage) -> TriageItem:
    """Put a reply no app took into the inbox: a reschedule request or free text, linked by the apps' context."""
    if inbound.patient_id is None:
        return triage_open(patient=None, reason=Reason.UNKNOWN_NUMBER, inbound=inbound)
    context = TriageContext()
    for provider in _context_providers.values():
        found = provider(inbound)
        if found is not None and (found.concerns is not None or found.answers is not None):
            context = found
            break
    if keyword_normalize(inbound.body) in RESCHEDULE_WORDS:
        reason, urgency = Reason.RESCHEDULE, Urgency.SOON
    else:
        reason, urgency = Reason.FREE_TEXT, Urgency.ROUTINE
    return triage_open(
        patient=inbound.patient,
        reason=reason,
        urgency=urgency,
        inbound=inbound,
        concerns=context.concerns,
        answers=context.answers,
        concerns_label=context.concerns_label,
        answers_label=context.answers_label,
    )


def triage_handle(*, item: TriageItem, by: Actor) -> TriageItem:
    """Mark an item handled by BY now; an item already handled keeps its first handler and time."""
    now = timezone.now()
    with transaction.atomic():
        taken = TriageItem.objects.filter(pk=item.pk, handled_at__isnull=True).update(handled_at=now, handled_by=by)
        if taken and item.inbound_id is not None:
            InboundMessage.objects.filter(pk=item.inbound_id).update(
                needs_review=False, reviewed_at=now, reviewed_by=by
            )
    item.refresh_from_db()
    return item


# skip_reason's words, as staff should read them when their answer cannot go out.
_REFUSALS = {
    "no mobile phone number": "The patient has no mobile number on file; call them instead.",
    f"opted out of {Channel.SMS}": "The patient opted out of text messages (replied STOP); call them instead.",
    f"no {Channel.SMS} consent": "The patient has not agreed to text messages; call them instead.",
    "patient wants no automated messages": "The patient asked for no text messages; call them instead.",
}


def triage_answer_problem(*, item: TriageItem, text: str) -> dict[str, str]:
    """Return why TEXT cannot be sent to the item's patient by SMS ({field: reason}), empty when it can."""
    if not text.strip():
        return {"text": "Write the answer to send."}
    if item.patient_id is None:
        return {"text": "This reply came from a number no patient has; there is nobody to text back."}
    patient = Patient.objects.get(pk=item.patient_id)
    reason = skip_reason(patient=patient, channel=Channel.SMS)
    if reason:
        return {"text": _REFUSALS.get(reason, f"The text cannot go out: {reason}.")}
    return {}


def triage_answer(*, item: TriageItem, text: str, by: Actor) -> TriageAnswer:
    """Text TEXT to the item's patient through the outbox (consent and quiet hours apply); return the answer.

    Raises ValidationError({"text": ...}) in plain words when it cannot go out (no consent, opted out, no
    number, a word no message may contain, too long); nothing is stored then.
    """
    text = " ".join(text.split())
    problem = triage_answer_problem(item=item, text=text)
    if problem:
        raise ValidationError(problem)
    now = timezone.now()
    with transaction.atomic():
        locked = TriageItem.objects.select_for_update(of=("self",)).select_related("patient").get(pk=item.pk)
        assert locked.patient is not None  # triage_answer_problem refuses an item without a patient
        count = TriageAnswer.objects.filter(item=locked).count()
        try:
            message = message_queue(
                patient=locked.patient,
                channel=Channel.SMS,
                purpose="triage_answer",
                template=STAFF_ANSWER_TEMPLATE,
                context={"text": text},
                source_key=f"triage:{locked.pk}:{count + 1}",
            )
        except ValidationError as exc:
            problems = [p for messages in exc.message_dict.values() for p in messages]
            raise ValidationError({"text": " ".join(["This text cannot go out:", *problems])}) from exc
        if message.status == Message.Status.SKIPPED:
            # Consent changed between the check and the queueing: roll the skipped message back.
            raise ValidationError({"text": _REFUSALS.get(message.reason, f"The text cannot go out: {message.reason}.")})
        return TriageAnswer.objects.create(item=locked, message=message, by=by, at=now)
