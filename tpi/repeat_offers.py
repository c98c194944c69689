"""Offer to book a repeat injection when a one-month answer shows the relief has worn off.

Invariants:
- `repeat_offer_consider` runs when a follow-up is answered (tpi.replies), in the answer's transaction
  but in a savepoint of its own there: a failure here is logged and the pain score stays.
- An offer is made only after a one-month (or later) answer that `tpi.repeat.worn_off_with_nothing_ahead`
  selects (the "consider repeat" list's own rule: pain back, no later procedure, no visit from now on,
  no active plan with an injection left to book), and only to a patient who may be texted
  (`skip_reason`: active, a mobile number, SMS consent, not opted out).
- One RepeatOffer per procedure (one-to-one) and one SMS per step, each with its outbox key
  (`repeat_offer:<id>`, `repeat_slot:<id>:<n>`, `repeat_booked:<id>`, `repeat_desk:<id>`, unique per
  channel): a duplicate answer, a duplicate webhook or a retry never texts twice.
- Every SMS goes through the outbox (`message_queue`): consent, opt-out and quiet hours apply, as for
  every follow-up message. The patient's consent to book is their reply.
- BOOK (tpi.repeat_replies) texts the nearest free slot of the visit type with the procedure's provider
  at its visit's location (any location when the procedure had no visit), from the next clinic day to
  TPI_REPEAT_BOOKING_HORIZON_DAYS ahead; YES books it through `appointment_book` with the offer row
  locked. A time gone meanwhile is replaced by a fresh one; no free time -> a triage item for the desk.
"""

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from clinic.clock import local_date, patient_datetime, staff_date, staff_datetime
from clinic.messaging.consent import skip_reason
from clinic.messaging.models import Channel, InboundMessage, Message, TriageItem
from clinic.messaging.outbox import message_queue
from clinic.messaging.quiet_hours import next_send_time
from clinic.messaging.triage import triage_open
from clinic.models import Patient, Provider
from scheduling.booking import appointment_book
from scheduling.exceptions import BookingError
from scheduling.models import AppointmentType
from scheduling.slots import Slot, slots_find
from tpi.models import FollowUp, Procedure, RepeatOffer
from tpi.plans import default_appointment_type
from tpi.repeat import worn_off_with_nothing_ahead

logger = logging.getLogger(__name__)
RS = RepeatOffer.Status
# The answers that may show relief worn off late enough to offer a repeat: one month and later.
REPEAT_ANSWER_KINDS = frozenset({FollowUp.Kind.REASSESSMENT})
OFFER_PURPOSE = "repeat_offer"  # "Reply BOOK": a prompt (clinic.messaging.prompts)
SLOT_PURPOSE = "repeat_slot"  # "Reply YES to book it": a prompt
BOOKED_PURPOSE = "repeat_booked"
DESK_PURPOSE = "repeat_desk"


class _NotTexted(Exception):
    """The offer's SMS was skipped (consent changed meanwhile): the offer is rolled back."""


def provider_patient_name(provider: Provider) -> str:
    """Return how a text names PROVIDER to a patient: "Dr Lee" for a physician, else their full name."""
    user = provider.user
    if provider.role == Provider.Role.PHYSICIAN and user.last_name:
        return f"Dr {user.last_name}"
    return user.get_full_name() or "your provider"


def _patient_when(patient: Patient, instant: dt.datetime) -> str:
    return patient_datetime(
        instant, time_zone=patient.time_zone or settings.TIME_ZONE, language=patient.preferred_language
    )


def _text(offer: RepeatOffer, *, purpose: str, key: str, **context: Any) -> Message:
    """Queue one SMS of the offer through the outbox (consent and quiet hours apply); its KEY makes it once."""
    procedure = offer.procedure
    return message_queue(
        patient=procedure.patient, channel=Channel.SMS, purpose=purpose, template=purpose, source_key=key,
        context={"provider_name": provider_patient_name(procedure.provider), **context},
    )  # fmt: skip


def _save(offer: RepeatOffer, *, to: str, at: dt.datetime, reason: str = "", **fields: Any) -> None:
    RepeatOffer.TRANSITIONS.check(offer.status, to)
    offer.status, offer.status_reason, offer.updated_at = to, reason[:200], at
    for name, value in fields.items():
        setattr(offer, name, value)
    offer.save()


# --- The offer -----------------------------------------------------------------------------------------


def repeat_offer_consider(*, follow_up: FollowUp, at: dt.datetime) -> RepeatOffer | None:
    """Offer a repeat by SMS when the answer to FOLLOW_UP (just stored, at AT) shows the relief worn off.

    Return the new offer, or None when none is due: not a one-month answer, relief not worn off,
    something ahead for the patient, the patient may not be texted, or the procedure was offered
    already. One message answering several procedures' follow-ups (`sent_with`) offers for the
    latest of them (the others have a later procedure, so the list leaves them out too).
    """
    if follow_up.kind not in REPEAT_ANSWER_KINDS:
        return None
    lead = follow_up.sent_with_id or follow_up.pk
    answered = FollowUp.objects.filter(
        Q(pk=lead) | Q(sent_with_id=lead), kind__in=REPEAT_ANSWER_KINDS, status=FollowUp.Status.ANSWERED
    )
    procedure = (
        worn_off_with_nothing_ahead(Procedure.objects.filter(pk__in=answered.values("procedure_id")), now=at)
        .exclude(repeat_offer__isnull=False)
        .select_related("patient", "provider__user")
        .order_by("-performed_at", "-id")
        .first()
    )
    if procedure is None or skip_reason(patient=procedure.patient, channel=Channel.SMS):
        return None
    answer = answered.filter(procedure=procedure).first()
    if answer is None:
        return None
    try:
        with transaction.atomic():
            offer = RepeatOffer.objects.create(procedure=procedure, follow_up=answer, offered_at=at, updated_at=at)
            message = _text(offer, purpose=OFFER_PURPOSE, key=offer.source_key)
            if message.status == Message.Status.SKIPPED:
                raise _NotTexted
    except (IntegrityError, _NotTexted):  # offered meanwhile by another answer, or no longer textable
        return None
    return offer


def repeat_offer_for_key(*, source_key: str, patient_id: int) -> RepeatOffer | None:
    """Return the offer an SMS with SOURCE_KEY (`repeat_offer:<id>` or `repeat_slot:<id>:<n>`) belongs to."""
    parts = (source_key or "").split(":")
    if len(parts) < 2 or parts[0] not in (OFFER_PURPOSE, SLOT_PURPOSE) or not parts[1].isdigit():
        return None
    return RepeatOffer.objects.filter(pk=int(parts[1]), procedure__patient_id=patient_id).first()


# --- BOOK and YES --------------------------------------------------------------------------------------


def _visit_type(procedure: Procedure) -> AppointmentType | None:
    """Return the visit type a repeat books: the procedure's own visit's, else the plans' TPI type."""
    if procedure.appointment_id is not None and procedure.appointment is not None:
        return procedure.appointment.appointment_type
    return default_appointment_type()


def repeat_slot_find(*, offer: RepeatOffer, now: dt.datetime) -> tuple[AppointmentType | None, Slot | None]:
    """Return the visit type and the nearest free slot for the offer's repeat (None when there is none).

    With the procedure's provider, at its visit's location (any location when it had no visit), from
    the clinic day after the text can go out (quiet hours) to TPI_REPEAT_BOOKING_HORIZON_DAYS after
    today; the patient must be free too.
    """
    procedure = offer.procedure
    visit_type = _visit_type(procedure)
    if visit_type is None or not visit_type.is_active:
        return visit_type, None
    location = procedure.appointment.room.location if procedure.appointment is not None else None
    today = local_date(now)
    # The day after the text can go out: one answered at night waits for the morning (quiet hours).
    first_day = local_date(next_send_time(patient=procedure.patient, at=now)) + dt.timedelta(days=1)
    found = slots_find(
        appointment_type=visit_type,
        first_day=first_day,
        last_day=today + dt.timedelta(days=settings.TPI_REPEAT_BOOKING_HORIZON_DAYS),
        provider=procedure.provider,
        location=location,
        patient=procedure.patient,
        limit=1,
    )
    return visit_type, (found[0] if found else None)


def _locked(offer: RepeatOffer) -> RepeatOffer:
    return (
        RepeatOffer.objects.select_for_update(of=("self",))
        .select_related("procedure__patient", "procedure__provider__user", "procedure__appointment__room__location")
        .get(pk=offer.pk)
    )


def _offer_slot_or_desk(
    offer: RepeatOffer, *, at: dt.datetime, inbound: InboundMessage | None, gone: bool
) -> RepeatOffer:
    """Text the nearest free time (reply YES), or hand the request to the front desk when there is none."""
    visit_type, slot = repeat_slot_find(offer=offer, now=at)
    if slot is None:
        return _to_desk(offer, at=at, inbound=inbound, gone=gone)
    count = offer.slots_offered + 1
    _save(
        offer, to=RS.SLOT_OFFERED, at=at, reason="the time offered before was taken" if gone else "",
        appointment_type=visit_type, slot_provider=slot.provider, slot_room=slot.room, slot_start=slot.start,
        slot_end=slot.end, slot_offered_at=at, slots_offered=count,
    )  # fmt: skip
    patient = offer.procedure.patient
    _text(
        offer, purpose=SLOT_PURPOSE, key=f"{SLOT_PURPOSE}:{offer.pk}:{count}", gone=gone,
        provider_name=provider_patient_name(slot.provider), when=_patient_when(patient, slot.start),
    )  # fmt: skip
    return offer


def _to_desk(offer: RepeatOffer, *, at: dt.datetime, inbound: InboundMessage | None, gone: bool) -> RepeatOffer:
    """Open a triage item for the front desk and tell the patient the clinic will call."""
    procedure = offer.procedure
    horizon = settings.TPI_REPEAT_BOOKING_HORIZON_DAYS
    why = "the time offered was taken and no other is free" if gone else "no free time"
    item = triage_open(
        patient=procedure.patient, reason=TriageItem.Reason.BOOKING, urgency=TriageItem.Urgency.SOON,
        inbound=inbound, at=at,
        detail=f"asked to book a repeat injection with {procedure.provider}: {why} within {horizon} days",
        concerns=procedure, concerns_label=f"TPI procedure {staff_date(procedure.performed_at)}",
        answers=offer, answers_label=f"Repeat offer sent {staff_date(offer.offered_at)}",
    )  # fmt: skip
    _save(offer, to=RS.SENT_TO_DESK, at=at, reason=why, triage_item=item)
    _text(offer, purpose=DESK_PURPOSE, key=f"{DESK_PURPOSE}:{offer.pk}", gone=gone)
    return offer


def repeat_offer_request(*, offer: RepeatOffer, at: dt.datetime, inbound: InboundMessage | None = None) -> RepeatOffer:
    """Answer the patient's BOOK to OFFER: text the nearest free time, or send the request to the front desk.

    A BOOK to an offer already past that step changes nothing: a time offered stands (its text
    says it), a booked repeat is booked, the desk has it.
    """
    with transaction.atomic():
        offer = _locked(offer)
        if offer.status != RS.OFFERED:
            return offer
        return _offer_slot_or_desk(offer, at=at, inbound=inbound, gone=False)


def repeat_offer_accept(*, offer: RepeatOffer, at: dt.datetime, inbound: InboundMessage | None = None) -> RepeatOffer:
    """Answer the patient's YES to the time OFFER texted: book it through the booking service.

    The time gone (taken, closed, past) -> a fresh time is texted, or the desk gets the request and the
    patient is told kindly. Runs with the offer row locked: two YES at once book one visit.
    """
    with transaction.atomic():
        offer = _locked(offer)
        if offer.status == RS.OFFERED:  # a YES to "reply BOOK": the patient wants a time
            return _offer_slot_or_desk(offer, at=at, inbound=inbound, gone=False)
        if offer.status != RS.SLOT_OFFERED:
            return offer  # booked already (a repeated YES), or with the desk
        procedure = offer.procedure
        # A time offered carries all of these (the slot_offered constraint and _offer_slot_or_desk).
        assert offer.slot_provider is not None
        assert offer.slot_room is not None
        assert offer.appointment_type is not None
        assert offer.slot_start is not None
        try:
            with transaction.atomic():
                if offer.slot_start <= at:
                    raise ValidationError({"start": "The time offered has passed."})
                appointment = appointment_book(
                    patient=procedure.patient, provider=offer.slot_provider, room=offer.slot_room,
                    appointment_type=offer.appointment_type, start=offer.slot_start, end=offer.slot_end, by=None,
                    notes=f"Repeat after the TPI procedure of {staff_date(procedure.performed_at)}",
                )  # fmt: skip
        except (BookingError, ValidationError, IntegrityError) as exc:
            logger.info("repeat offer %s: the time offered could not be booked: %s", offer.pk, type(exc).__name__)
            return _offer_slot_or_desk(offer, at=at, inbound=inbound, gone=True)
        _save(offer, to=RS.BOOKED, at=at, appointment=appointment)
        # The booking service's own notice ("you are booked for ...") answers the YES when the visit type sends
        # one by SMS: a second text saying the same would be a duplicate.
        if not Message.objects.filter(source_key=f"appointment:{appointment.pk}:booked", channel=Channel.SMS).exists():
            _text(
                offer, purpose=BOOKED_PURPOSE, key=f"{BOOKED_PURPOSE}:{offer.pk}",
                provider_name=provider_patient_name(appointment.provider),
                when=_patient_when(procedure.patient, appointment.start),
            )  # fmt: skip
        return offer


def repeat_offer_summary(offer: RepeatOffer | None) -> str:
    """Return what happened to a procedure's repeat offer, as staff read it (clinic time); "" without one."""
    if offer is None:
        return ""
    sent = f"offered by SMS {staff_datetime(offer.offered_at)}"
    if offer.status == RS.OFFERED:
        return f"Repeat {sent}; no reply yet."
    if offer.status == RS.SLOT_OFFERED:
        return f"Repeat {sent}; asked to book, time offered: {staff_datetime(offer.slot_start)} (awaiting YES)."
    if offer.status == RS.BOOKED:
        start = offer.appointment.start if offer.appointment is not None else None
        return f"Repeat {sent}; booked for {staff_datetime(start)}."
    return f"Repeat {sent}; sent to the front desk ({offer.status_reason}) {staff_datetime(offer.updated_at)}."


def repeat_offer_of(procedure: Procedure) -> RepeatOffer | None:
    """Return PROCEDURE's repeat offer with its visit (None without one)."""
    return RepeatOffer.objects.filter(procedure=procedure).select_related("appointment").first()
