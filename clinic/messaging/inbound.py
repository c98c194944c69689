"""Inbound SMS: record each once, act on keywords, hand other replies to the apps' signal receivers.

An opt-out is never lost: the reply and the consent change its keyword makes are committed in one
transaction of their own, before the answer (the STOP/START confirmation, the HELP text) is composed;
`clinic.messaging.keyword_answers` composes that answer so it cannot fail and records, rather than
raises, anything that still goes wrong, so the webhook answers 200 and the opt-out stays.
"""

import datetime as dt
import logging
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.messaging.consent import consent_change
from clinic.messaging.keyword_answers import keyword_answer_queue
from clinic.messaging.keywords import Keyword, keyword_is_weak, keyword_parse
from clinic.messaging.models import Channel, ConsentEvent, InboundMessage, Message, TriageItem
from clinic.messaging.signals import reply_received
from clinic.messaging.triage import triage_open_untaken
from clinic.models import Patient

logger = logging.getLogger(__name__)
_KIND = {
    Keyword.OPT_OUT: InboundMessage.Kind.OPT_OUT,
    Keyword.OPT_IN: InboundMessage.Kind.OPT_IN,
    Keyword.HELP: InboundMessage.Kind.HELP,
}


def _patients_for(number: str) -> list[Patient]:
    """Return the patients with this mobile number, the one we last texted first."""
    patients = list(Patient.objects.filter(mobile_phone=number).order_by("id"))
    if len(patients) > 1:
        last = (
            Message.objects.filter(channel=Channel.SMS, recipient=number, patient__in=patients)
            .order_by("-created_at", "-id")
            .values_list("patient_id", flat=True)
            .first()
        )
        patients.sort(key=lambda p: p.pk != last)
    return patients


def inbound_sms_receive(
    *,
    provider_message_id: str,
    from_number: str,
    to_number: str = "",
    body: str,
    received_at: dt.datetime | None = None,
) -> tuple[InboundMessage, bool]:
    """Record and act on one inbound SMS; return (inbound, created). A repeat is not acted on again."""
    existing = InboundMessage.objects.filter(provider_message_id=provider_message_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            patients = _patients_for(from_number)
            inbound = InboundMessage.objects.create(
                provider_message_id=provider_message_id,
                from_number=from_number,
                to_number=to_number,
                body=body,
                patient=patients[0] if patients else None,
                received_at=received_at or timezone.now(),
            )
            answer = _act(inbound, patients)
    except IntegrityError:
        # The same webhook arrived twice at once; the other request recorded and acted on it.
        existing = InboundMessage.objects.filter(provider_message_id=provider_message_id).first()
        if existing is None:
            raise
        return existing, False
    if answer is not None:  # after the consent change committed: a failing answer is recorded, not raised
        keyword_answer_queue(inbound=inbound, patient=patients[0], template=answer)
    return inbound, True


def _act(inbound: InboundMessage, patients: list[Patient]) -> str | None:
    """Act on the reply: a keyword's consent change, or the hand-over; return the keyword answer to send."""
    keyword = keyword_parse(inbound.body)
    if keyword == Keyword.OPT_IN and keyword_is_weak(inbound.body) and all(p.sms_consent for p in patients):
        keyword = None  # "YES" from someone who never opted out is an answer, not an opt-in
    if keyword is None:
        _hand_over(inbound)
        return None
    inbound.kind = _KIND[keyword]
    if not patients:
        inbound.needs_review = True
        inbound.save(update_fields=["kind", "needs_review"])
        return None
    inbound.handled_by = f"keyword:{keyword.value}"
    inbound.save(update_fields=["kind", "handled_by"])
    if keyword == Keyword.HELP:
        return "help"
    granted = keyword == Keyword.OPT_IN
    changed = [
        consent_change(
            patient=p, channel=Channel.SMS, granted=granted, source=ConsentEvent.Source.REPLY,
            at=inbound.received_at, inbound=inbound,
        )
        for p in patients
    ]  # fmt: skip
    if not any(changed):  # confirmed once: a repeated STOP (or START) changes nothing and says nothing
        return None
    return "opt_in_confirm" if granted else "opt_out_confirm"


def _hand_over(inbound: InboundMessage) -> None:
    """Offer a plain reply to every reply_received receiver; nobody taking it sends it to staff review.

    Receivers are not ranked: each takes only the replies it recognises (tpi: a 0-10 number, BOOK),
    so the outcome does not depend on the order apps connected in. Two receivers taking one reply is
    a bug in one of them: both are recorded and an error is logged.
    """
    # The stubs type a receiver's answer as str | None; a reply receiver answers True when it took the reply.
    responses = cast(list[tuple[Any, object]], reply_received.send(sender=InboundMessage, inbound=inbound))
    takers = [f"{receiver.__module__}.{receiver.__qualname__}" for receiver, handled in responses if handled is True]
    if len(takers) > 1:
        logger.error("inbound %s was taken by more than one reply receiver: %s", inbound.pk, ", ".join(takers))
    inbound.handled_by = ", ".join(takers)[: InboundMessage._meta.get_field("handled_by").max_length]
    inbound.kind = InboundMessage.Kind.REPLY
    inbound.save(update_fields=["kind", "handled_by"])
    _to_triage(inbound)


def _to_triage(inbound: InboundMessage) -> None:
    """Put a reply nobody took into the triage inbox; a taker may have put it there itself (e.g. a symptom)."""
    if not inbound.handled_by:
        triage_open_untaken(inbound=inbound)
    inbound.needs_review = TriageItem.objects.filter(inbound=inbound, handled_at__isnull=True).exists()
    InboundMessage.objects.filter(pk=inbound.pk).update(needs_review=inbound.needs_review)


def inbound_mark_handled(*, inbound: InboundMessage, by: Actor = None) -> InboundMessage:
    """Take a reply off the staff review queue (and its triage item, if open, with it)."""
    now = timezone.now()
    InboundMessage.objects.filter(pk=inbound.pk, needs_review=True).update(
        needs_review=False, reviewed_at=now, reviewed_by=by
    )
    TriageItem.objects.filter(inbound=inbound, handled_at__isnull=True).update(handled_at=now, handled_by=by)
    inbound.refresh_from_db()
    return inbound
