"""BOOK and YES answering a repeat offer: `handle` receives clinic.messaging's reply_received (TpiConfig.ready).

It takes a BOOK / CITA or a yes-like reply (YES, SI, Y) only when the latest SMS that asked this patient
something (`clinic.messaging.prompts.latest_prompt`) is one of the repeat offer's texts: "reply BOOK"
(-> the nearest free time is texted) or "reply YES to book it" (-> booked). So a YES to a reminder or a
waitlist offer is never read as taking a repeat, and a BOOK from a patient with an active plan stays the
plan's (tpi.plan_replies): this receiver leaves it. A BOOK after a visit was booked since the offer, and
a reply to an offer the desk already has, are left to the triage inbox; so is one the offer fails to
answer (logged): the webhook never fails for it.
"""

import logging

from django.db import transaction

from clinic.messaging.keywords import keyword_normalize
from clinic.messaging.models import InboundMessage
from clinic.messaging.prompts import latest_prompt
from tpi.models import RepeatOffer
from tpi.plan_replies import BOOK_WORDS
from tpi.plans import patient_has_active_plan
from tpi.repeat import patient_has_something_ahead
from tpi.repeat_offers import (
    OFFER_PURPOSE,
    SLOT_PURPOSE,
    repeat_offer_accept,
    repeat_offer_for_key,
    repeat_offer_request,
)

logger = logging.getLogger(__name__)
# Compared after keyword_normalize (upper case, no accents, spaces or punctuation): "yes!", "Sí", "y".
YES_WORDS = frozenset({"YES", "SI", "Y"})


def handle(sender: object, *, inbound: InboundMessage, **kwargs: object) -> bool:
    """Take BOOK or YES answering the patient's latest question when that is a repeat offer's text; else False."""
    patient = inbound.patient
    word = keyword_normalize(inbound.body)
    if patient is None or word not in BOOK_WORDS | YES_WORDS:
        return False
    asked = latest_prompt(patient_id=patient.pk, at=inbound.received_at)
    if asked is None or asked.purpose not in (OFFER_PURPOSE, SLOT_PURPOSE):
        return False
    offer = repeat_offer_for_key(source_key=asked.source_key or "", patient_id=patient.pk)
    if offer is None or offer.status == RepeatOffer.Status.SENT_TO_DESK:
        return False
    if word in BOOK_WORDS and patient_has_active_plan(patient):
        return False  # the plan's BOOK (tpi.plan_replies) books its next injection
    if offer.status == RepeatOffer.Status.OFFERED and patient_has_something_ahead(
        patient=patient, now=inbound.received_at
    ):
        return False  # booked or planned since the offer: a person sees what the patient wants
    try:
        with transaction.atomic():
            if offer.status == RepeatOffer.Status.OFFERED:
                repeat_offer_request(offer=offer, at=inbound.received_at, inbound=inbound)
            else:  # a time was offered: BOOK or YES takes it (a repeated one after booking changes nothing)
                repeat_offer_accept(offer=offer, at=inbound.received_at, inbound=inbound)
    except Exception:  # a text that cannot be composed, say: the reply goes to the desk rather than fail the webhook
        logger.exception("inbound %s: the repeat offer %s could not answer it", inbound.pk, offer.pk)
        return False
    return True
