"""Patients' SMS answers to follow-ups: a 0-10 number is the pain score of their latest open follow-up.

`handle` receives clinic.messaging's reply_received signal (connected in TpiConfig.ready). Anything
else returns False; if no receiver takes a reply, the messaging layer puts it on the staff review
queue. No thank-you is sent: the patient gets no message they did not ask for.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from clinic.messaging.keywords import reply_number
from clinic.messaging.models import InboundMessage
from tpi.models import FollowUp


def followup_open_for(*, patient_id: int, at: dt.datetime) -> FollowUp | None:
    """Return the patient's latest follow-up sent within the reply window before AT and not answered."""
    return (
        FollowUp.objects.filter(
            procedure__patient_id=patient_id,
            status__in=FollowUp.TRANSITIONS.sources(FollowUp.Status.ANSWERED),
            sent_at__lte=at,
            sent_at__gte=at - settings.TPI_FOLLOWUP_REPLY_WINDOW,
        )
        .order_by("-sent_at", "-id")
        .first()
    )


def followup_answer(*, follow_up: FollowUp, pain_score: int, at: dt.datetime) -> bool:
    """Store PAIN_SCORE (0-10) as the answer to a sent follow-up and to every follow-up its message also asked
    (`sent_with`: two procedures, one check-in); False if none is open any more."""
    answerable = FollowUp.TRANSITIONS.sources(FollowUp.Status.ANSWERED)
    lead = follow_up.sent_with_id or follow_up.pk
    asked = Q(pk=lead) | Q(sent_with_id=lead)
    updated = FollowUp.objects.filter(asked, status__in=answerable).update(
        status=FollowUp.Status.ANSWERED,
        status_reason="answered by SMS",
        answer_pain_score=pain_score,
        answered_at=at,
        answer_method=FollowUp.AnswerMethod.SMS,
        updated_at=at,
    )
    return updated >= 1


def handle(sender: object, *, inbound: InboundMessage, **kwargs: object) -> bool:
    """Take a numeric reply as the pain score of the sender's open follow-up; False for anything else."""
    if inbound.patient_id is None:
        return False
    score = reply_number(inbound.body)
    if score is None:
        return False
    with transaction.atomic():
        follow_up = followup_open_for(patient_id=inbound.patient_id, at=inbound.received_at)
        if follow_up is None:
            return False
        return followup_answer(follow_up=follow_up, pain_score=score, at=inbound.received_at)
