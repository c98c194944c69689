"""Patients' SMS answers to follow-ups: a 0-10 number is the pain score of their latest open follow-up.

`handle` receives clinic.messaging's reply_received signal (connected in TpiConfig.ready). It takes a
number that answers an open follow-up, and a reply naming a symptom from TPI_TRIAGE_SYMPTOM_WORDS
(bleeding, fever, numbness, weakness, ...), which goes to the triage inbox as urgent. A pain score at
or above TPI_TRIAGE_PAIN_LEVEL, or worse than before the procedure, is stored and also put in the
inbox. Anything else returns False; a reply no receiver takes lands in the inbox as free text, linked
to the patient's recent follow-up by `followup_context` (registered with triage_context_register).
No thank-you is sent: the patient gets no message they did not ask for, except the offer to book a repeat
when a one-month answer shows the relief worn off and nothing is ahead (tpi.repeat_offers).
"""

import datetime as dt
import logging
import re

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from clinic.clock import staff_datetime
from clinic.messaging.keywords import reply_number
from clinic.messaging.models import InboundMessage, TriageItem
from clinic.messaging.triage import TriageContext, triage_open
from tpi.models import FollowUp, Procedure
from tpi.outcome_totals import outcome_days_mark

logger = logging.getLogger(__name__)


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


def followup_recent_for(*, patient_id: int, at: dt.datetime) -> FollowUp | None:
    """Return the patient's latest follow-up sent within the reply window before AT, answered or not."""
    return (
        FollowUp.objects.filter(
            procedure__patient_id=patient_id,
            status__in=[FollowUp.Status.SENT, FollowUp.Status.ANSWERED],
            sent_at__lte=at,
            sent_at__gte=at - settings.TPI_FOLLOWUP_REPLY_WINDOW,
        )
        .select_related("procedure__patient")
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
    if updated:  # a late answer changes a stored day of the results (tpi.outcome_totals)
        outcome_days_mark(procedures=Procedure.objects.filter(follow_ups__in=FollowUp.objects.filter(asked)))
    return updated >= 1


def symptoms_named(body: str) -> list[str]:
    """Return the words of TPI_TRIAGE_SYMPTOM_WORDS that BODY names (whole words, any case), in list order."""
    text = body or ""
    return [
        word for word in settings.TPI_TRIAGE_SYMPTOM_WORDS if re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)
    ]


def pain_needs_a_person(*, score: int, before: int | None) -> str:
    """Return why a pain SCORE needs a person ("" when it does not): at or above the level, or worse than BEFORE."""
    worse = before is not None and score > before
    if score < settings.TPI_TRIAGE_PAIN_LEVEL and not worse:
        return ""
    return f"pain {score}/10" + (f", worse than before the procedure ({before}/10)" if worse else "")


def _links(follow_up: FollowUp) -> dict:
    procedure = follow_up.procedure
    return {
        "concerns": procedure,
        "concerns_label": f"TPI procedure {staff_datetime(procedure.performed_at)}",
        "answers": follow_up,
        "answers_label": f"{follow_up.get_kind_display()} sent {staff_datetime(follow_up.sent_at)}",
    }


def followup_context(inbound: InboundMessage) -> TriageContext | None:
    """Link a reply nobody took to the patient's recent follow-up and its procedure (the triage inbox asks)."""
    if inbound.patient_id is None:
        return None
    follow_up = followup_recent_for(patient_id=inbound.patient_id, at=inbound.received_at)
    return TriageContext(**_links(follow_up)) if follow_up is not None else None


def handle(sender: object, *, inbound: InboundMessage, **kwargs: object) -> bool:
    """Take a pain score for the open follow-up, or a named symptom for the triage inbox; False for anything else."""
    if inbound.patient_id is None:
        return False
    score = reply_number(inbound.body)
    if score is None:
        return _symptom(inbound)
    with transaction.atomic():
        follow_up = followup_open_for(patient_id=inbound.patient_id, at=inbound.received_at)
        if follow_up is None:
            return False
        if not followup_answer(follow_up=follow_up, pain_score=score, at=inbound.received_at):
            return False
        _repeat_offer(follow_up, at=inbound.received_at)
        procedure = follow_up.procedure
        why = pain_needs_a_person(score=score, before=procedure.pain_before)
        if why:
            triage_open(
                patient=procedure.patient, reason=TriageItem.Reason.PAIN, urgency=TriageItem.Urgency.SOON,
                inbound=inbound, detail=why, **_links(follow_up),
            )  # fmt: skip
        return True


def _repeat_offer(follow_up: FollowUp, *, at: dt.datetime) -> None:
    """Offer a repeat when the answer shows the relief worn off; a failure is logged and the answer stays."""
    from tpi.repeat_offers import repeat_offer_consider

    try:
        with transaction.atomic():
            repeat_offer_consider(follow_up=follow_up, at=at)
    except Exception:
        logger.exception("follow-up %s: the repeat offer could not be made", follow_up.pk)


def _symptom(inbound: InboundMessage) -> bool:
    """Put a reply naming a symptom in the triage inbox as urgent, linked to the recent follow-up if any."""
    named = symptoms_named(inbound.body)
    if not named or inbound.patient_id is None:
        return False
    follow_up = followup_recent_for(patient_id=inbound.patient_id, at=inbound.received_at)
    triage_open(
        patient=inbound.patient, reason=TriageItem.Reason.SYMPTOM, urgency=TriageItem.Urgency.URGENT,
        inbound=inbound, detail=f"mentions {', '.join(named)}", **(_links(follow_up) if follow_up else {}),
    )  # fmt: skip
    return True
