"""Patients' SMS answers to appointment reminders: C (or YES, SI) confirms the visit, R asks to reschedule.

`handle` receives clinic.messaging's reply_received signal (connected in SchedulingConfig.ready).
C and R are ours alone: they answer the patient's latest reminded visit still ahead. A yes-like word
(YES, SI) answers whatever we last asked, so it confirms only when the patient's most recent SMS that
expects an answer (clinic.messaging.prompts.latest_prompt) is one of our reminders (docs/decisions.md).
R records `reschedule_requested_at` and returns False, so the reply lands in the staff review queue
where a person finds a new time. No message is sent back. CANCEL is an opt-out word and never means
anything here (no reminder asks for it).
"""

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet

from clinic.clock import staff_datetime
from clinic.messaging.keywords import keyword_normalize
from clinic.messaging.models import InboundMessage
from clinic.messaging.prompts import latest_prompt
from clinic.messaging.triage import TriageContext
from scheduling.booking import appointment_status_set
from scheduling.models import REMINDABLE_STATUSES, Appointment, AppointmentReminder
from scheduling.reminders import REMINDER_PURPOSE

logger = logging.getLogger(__name__)
# Compared after keyword_normalize (upper case, no accents, spaces or punctuation): "c", "C.", "Sí".
CONFIRM_WORDS = frozenset({"C", "CONFIRM", "CONFIRMED", "CONFIRMAR", "CONFIRMO"})
YES_WORDS = frozenset({"YES", "Y", "YEP", "SI"})
RESCHEDULE_WORDS = frozenset({"R", "RESCHEDULE", "CAMBIAR"})


def _reminded(reminders: QuerySet[AppointmentReminder], *, at: dt.datetime) -> Appointment | None:
    """Return the appointment of the latest of REMINDERS sent by AT whose visit is still ahead at the time announced."""
    reminder = (
        reminders.filter(
            status=AppointmentReminder.Status.SENT,
            sent_at__lte=at,
            for_start=F("appointment__start"),
            appointment__start__gt=at,
            appointment__status__in=REMINDABLE_STATUSES,
        )
        .select_related("appointment")
        .order_by("-sent_at", "-id")
        .first()
    )
    return reminder.appointment if reminder is not None else None


def appointment_reminded_for(*, patient_id: int, at: dt.datetime) -> Appointment | None:
    """Return the patient's visit still ahead whose reminder was sent most recently by AT (what C and R answer)."""
    return _reminded(AppointmentReminder.objects.filter(appointment__patient_id=patient_id), at=at)


def _prompted(*, patient_id: int, at: dt.datetime) -> Appointment | None:
    """Return the visit a yes-like reply answers: the one of our reminder, if that is the latest question asked."""
    prompt = latest_prompt(patient_id=patient_id, at=at)
    key = prompt.source_key or "" if prompt is not None else ""
    if prompt is None or prompt.purpose != REMINDER_PURPOSE or not key.startswith("reminder:"):
        return None
    pk = key.split(":", 1)[1]
    if not pk.isdigit():
        return None
    return _reminded(AppointmentReminder.objects.filter(pk=int(pk)), at=at)


def appointment_confirm_by_reply(*, appointment: Appointment, inbound: InboundMessage) -> bool:
    """Confirm APPOINTMENT from the patient's reply; True when it is (or already was) confirmed."""
    if appointment.status == Appointment.Status.CONFIRMED:
        return True
    try:
        appointment_status_set(
            appointment=appointment,
            status=Appointment.Status.CONFIRMED,
            by=None,
            reason="confirmed by the patient's SMS reply",
            via=Appointment.ConfirmedVia.SMS,
        )
    except ValidationError:  # it changed meanwhile (cancelled, checked in): a person looks at the reply
        return False
    return True


def handle(sender: object, *, inbound: InboundMessage, **kwargs: object) -> bool:
    """Take C / YES / SI as the confirmation of the reminded visit; record R and leave it for staff review."""
    if inbound.patient_id is None:
        return False
    word = keyword_normalize(inbound.body)
    at = inbound.received_at
    if word in YES_WORDS:
        appointment = _prompted(patient_id=inbound.patient_id, at=at)
    elif word in CONFIRM_WORDS or word in RESCHEDULE_WORDS:
        appointment = appointment_reminded_for(patient_id=inbound.patient_id, at=at)
    else:
        return False
    if appointment is None:
        return False
    if word in RESCHEDULE_WORDS:
        Appointment.objects.filter(pk=appointment.pk).update(reschedule_requested_at=at)
        return False  # a person finds the new time: the reply stays in the review queue
    with transaction.atomic():
        return appointment_confirm_by_reply(appointment=appointment, inbound=inbound)


def reminder_context(inbound: InboundMessage) -> TriageContext | None:
    """Link a reply nobody took (an R, free text) to the visit whose reminder was the patient's latest question.

    The triage inbox asks every app in turn (clinic.messaging.triage.triage_context_register); scheduling
    answers only when the latest SMS that asked this patient something is one of its reminders, so a
    reply to a follow-up sent later is linked by tpi instead.
    """
    if inbound.patient_id is None:
        return None
    prompt = latest_prompt(patient_id=inbound.patient_id, at=inbound.received_at)
    key = prompt.source_key or "" if prompt is not None else ""
    pk = key.split(":", 1)[1] if key.startswith("reminder:") else ""
    if prompt is None or prompt.purpose != REMINDER_PURPOSE or not pk.isdigit():
        return None
    reminder = (
        AppointmentReminder.objects.filter(pk=int(pk))
        .select_related("appointment__appointment_type", "appointment__room__location")
        .first()
    )
    if reminder is None:
        return None
    zone = reminder.appointment.local_zone  # the visit's clock, as its label reads
    sent = staff_datetime(reminder.sent_at, zone=zone, name_zone=True) if reminder.sent_at else "not sent"
    return TriageContext(
        concerns=reminder.appointment,
        concerns_label=str(reminder.appointment),
        answers=reminder,
        answers_label=f"Reminder sent {sent}",
    )
