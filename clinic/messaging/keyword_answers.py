"""Answers to keyword SMS (STOP, START, HELP): composed so they cannot fail, a failure recorded, never raised.

The consent change a keyword makes is committed before its answer is composed
(`clinic.messaging.inbound`). The answer is the shipped template in the patient's language; when that
breaks a content rule with the configured clinic name (too many segments for a long name, ...) or
cannot be rendered at all, a fixed text goes instead: no clinic name, one GSM-7 segment, checked by the
tests. If the answer still cannot be stored, a failed Message carrying that fixed text and the reason
is recorded (staff see it among the failed messages and may retry it), and the webhook answers 200.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.clock import patient_phone
from clinic.messaging.content import Rendered, message_render
from clinic.messaging.models import Channel, InboundMessage, Message
from clinic.messaging.queueing import message_build, messages_store
from clinic.models import Patient

logger = logging.getLogger(__name__)
# The keyword answers the core ships; they are answers, not automated messages (no opt-out footer).
KEYWORD_TEMPLATES = ("help", "opt_in_confirm", "opt_out_confirm")
# Used when the template cannot be: no clinic name, only GSM-7 characters, one segment with any phone.
FALLBACK_TEXTS: dict[str, dict[str, str]] = {
    "opt_out_confirm": {
        "en": "You are unsubscribed and will get no more texts from us. Reply START to resubscribe.",
        "es": "Baja confirmada, no le enviaremos otro mensaje. Responda START para volver a recibirlos.",
    },
    "opt_in_confirm": {
        "en": "You will get our texts again. Reply STOP to opt out, HELP for help.",
        "es": "De nuevo le enviaremos nuestros mensajes. Responda STOP para darse de baja, AYUDA para ayuda.",
    },
    "help": {
        "en": "Call us at {phone}. Reply STOP to opt out. Msg&data rates may apply.",
        "es": "Llame al {phone}. Responda STOP para darse de baja. Pueden aplicarse tarifas.",
    },
}


def keyword_answer_fallback(*, patient: Patient, template: str) -> Rendered:
    """Return the fixed answer TEMPLATE falls back to, in the patient's language (English otherwise)."""
    texts = FALLBACK_TEXTS[template]
    language = patient.preferred_language if patient.preferred_language in texts else "en"
    phone = patient_phone(settings.CLINIC_PHONE, patient_number=str(patient.mobile_phone or ""))
    return Rendered(subject="", body=texts[language].format(phone=phone), language=language)


def keyword_answer_render(*, patient: Patient, template: str) -> Rendered:
    """Return the answer TEMPLATE for PATIENT: the shipped text if it passes the content rules, else the fixed one."""
    try:
        return message_render(patient=patient, channel=Channel.SMS, template=template, context={})
    except Exception as exc:  # a rule the configured name breaks, or a broken template: the answer still goes
        logger.warning("the %s answer fell back to its fixed text: %s", template, exc)
        return keyword_answer_fallback(patient=patient, template=template)


def keyword_answer_queue(*, inbound: InboundMessage, patient: Patient, template: str) -> Message | None:
    """Queue the answer TEMPLATE to the number INBOUND came from; on any failure record it and return.

    Returns the stored Message (queued, skipped for an inactive patient, or failed with the reason), or
    None when not even the failure could be recorded (it is logged).
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            patient = Patient.objects.get(pk=patient.pk)
            message = message_build(
                patient=patient, channel=Channel.SMS, purpose=template, template=template, context={}, now=now,
                reply_to=inbound, rendered=keyword_answer_render(patient=patient, template=template),
            )  # fmt: skip
            return messages_store(messages=[message], now=now)[0]
    except Exception as exc:  # the keyword's consent change is committed: its answer must not undo or hide it
        logger.exception("inbound %s: the %s answer could not be queued", inbound.pk, template)
        return _failure_record(inbound=inbound, patient=patient, template=template, now=now, error=exc)


def _failure_record(
    *, inbound: InboundMessage, patient: Patient, template: str, now: dt.datetime, error: Exception
) -> Message | None:
    try:
        with transaction.atomic():
            fallback = keyword_answer_fallback(patient=patient, template=template)
            message = Message(
                patient=patient, channel=Channel.SMS, purpose=template, template=template, automated=False,
                in_reply_to=inbound, recipient=inbound.from_number, body=fallback.body, language=fallback.language,
                status=Message.Status.FAILED, needs_review=True,
                reason=f"the answer could not be queued: {type(error).__name__}: {error}"[:2000],
            )  # fmt: skip
            return messages_store(messages=[message], now=now)[0]
    except Exception:
        logger.exception("inbound %s: the failed %s answer could not be recorded either", inbound.pk, template)
        return None
