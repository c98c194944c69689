"""The BOOK reply: a patient with an active treatment plan asks for the next injection by SMS.

`handle` receives clinic.messaging's reply_received signal (connected in TpiConfig.ready); it takes
only BOOK / CITA, never a number, so it and tpi.replies never claim the same reply. Messaging answers
STOP / START / HELP before any receiver is asked, so those keep their meaning; CANCEL is an opt-out
word and never means anything here.
"""

import logging

from django.db import transaction

from clinic.messaging.keywords import keyword_normalize
from clinic.messaging.models import InboundMessage
from tpi import plans

logger = logging.getLogger(__name__)

# Compared after keyword_normalize (upper case, no accents, spaces or punctuation): "book", "Book!", "cita."
BOOK_WORDS = frozenset({"BOOK", "BOOKNOW", "CITA"})


def is_book_request(body: str) -> bool:
    """Return True when the whole reply BODY asks to book (BOOK, or the Spanish CITA)."""
    return keyword_normalize(body) in BOOK_WORDS


def _book_next(plan_id: int) -> None:
    from tpi.plan_tasks import plan_book_next_task

    try:
        plan_book_next_task.delay(plan_id)
    except Exception:  # the broker is unreachable: book right here rather than lose the request
        logger.warning("could not enqueue booking for plan %s; booking in the request", plan_id)
        plan = plans.TreatmentPlan.objects.filter(pk=plan_id).first()
        if plan is not None:
            plans.plan_book_next(plan=plan)


def handle(sender: object, *, inbound: InboundMessage, **kwargs: object) -> bool:
    """Take a BOOK / CITA reply from a patient with an active plan: book the next injection after commit.

    Return False (the reply goes to the staff review queue) for anything else, and for a BOOK from
    someone without an active plan with an injection left to book: a person decides what they want.
    """
    patient = inbound.patient
    if patient is None or not is_book_request(inbound.body):
        return False
    if not plans.patient_has_active_plan(patient):
        return False
    plan = plans.active_plan_for(patient)
    if plan is None:  # cancelled between the two reads
        return False
    plan_id = plan.pk
    transaction.on_commit(lambda: _book_next(plan_id))
    return True
