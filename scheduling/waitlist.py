"""The waitlist: patients waiting for an earlier visit are offered the time a cancellation or a move frees.

Invariants:
- A freed slot is a row (`FreedSlot`) written in the transaction that frees it (`slot_freed`, called by
  the booking service); the beat sweep (`waitlist_sweep`) finds due rows. No ETA tasks.
- Offers go out in small batches (`SCHEDULING_WAITLIST_OFFER_BATCH`, default 3) to the fitting entries
  in the order they joined; the next batch only after the previous one expired. Each offer is one row
  (unique per slot and entry) and one SMS (`source_key="waitlist_offer:<id>"`, unique per channel), so
  two sweeps at once cannot offer twice; on PostgreSQL they also claim disjoint slots (SKIP LOCKED).
- Never to a patient who may not be texted (opted out, no consent, no number, inactive), to the
  patient who freed the slot, or to one who already has a visit at that time.
- The first YES within the offer's life books through `appointment_book` under the slot's row lock;
  a unique constraint allows one accepted offer per slot and the booking's exclusion constraints stand
  behind it. Everyone else who answers is told the visit has gone (`waitlist_reply`).
"""

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.clock import clinic_tz, patient_datetime
from clinic.messaging.consent import skip_reason
from clinic.messaging.models import Channel, Message
from clinic.messaging.outbox import message_queue
from clinic.models import Patient, Provider
from scheduling.booking import appointment_book, collisions_find
from scheduling.exceptions import BookingError
from scheduling.models import Appointment, AppointmentType, Location, Room
from scheduling.waitlist_models import FreedSlot, WaitlistEntry, WaitlistOffer

logger = logging.getLogger(__name__)
E, F, OS = WaitlistEntry.Status, FreedSlot.Status, WaitlistOffer.Status
OFFER_PURPOSE = "waitlist_offer"


def _offer_life() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SCHEDULING_WAITLIST_OFFER_MINUTES)


def _min_notice() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SCHEDULING_WAITLIST_MIN_NOTICE_MINUTES)


def waitlist_entry_check(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    location: Location,
    until: dt.date,
    provider: Provider | None = None,
    weekdays: list[int] | None = None,
    earliest_time: dt.time | None = None,
    latest_time: dt.time | None = None,
) -> None:
    """Raise ValidationError naming each field of a waitlist request that cannot wait."""
    errors: dict[str, str] = {}
    if any(not isinstance(day, int) or not 0 <= day <= 6 for day in weekdays or []):
        errors["weekdays"] = "Days are numbers from 0 (Monday) to 6 (Sunday)."
    if earliest_time is not None and latest_time is not None and earliest_time >= latest_time:
        errors["latest_time"] = "The latest time must be after the earliest time."
    if until < timezone.now().astimezone(clinic_tz()).date():
        errors["until"] = "The last day has already passed."
    if patient.status != Patient.Status.ACTIVE:
        errors["patient"] = "Only active patients can wait for a visit."
    if not appointment_type.is_active:
        errors["appointment_type"] = f"{appointment_type} is no longer offered."
    if provider is not None and not appointment_type.allows_role(provider.role):
        errors["provider"] = f"{provider} ({provider.get_role_display()}) does not take {appointment_type} visits."
    if not location.is_active:
        errors["location"] = f"{location} is not in use."
    if errors:
        raise ValidationError(errors)


def waitlist_entry_create(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    location: Location,
    until: dt.date,
    by: Actor,
    provider: Provider | None = None,
    weekdays: list[int] | None = None,
    earliest_time: dt.time | None = None,
    latest_time: dt.time | None = None,
    notes: str = "",
) -> WaitlistEntry:
    """Put PATIENT on the waitlist (joined now: offers go in that order); ValidationError names a refused field."""
    waitlist_entry_check(
        patient=patient, appointment_type=appointment_type, location=location, until=until, provider=provider,
        weekdays=weekdays, earliest_time=earliest_time, latest_time=latest_time,
    )  # fmt: skip
    return WaitlistEntry.objects.create(
        patient=patient, appointment_type=appointment_type, location=location, until=until, provider=provider,
        weekdays=sorted(set(weekdays or [])), earliest_time=earliest_time, latest_time=latest_time, notes=notes,
        created_by=by, created_at=timezone.now(),
    )  # fmt: skip


def waitlist_entry_withdraw(*, entry: WaitlistEntry, by: Actor) -> WaitlistEntry:
    """Take a waiting entry off the waitlist (its open offers go with it)."""
    with transaction.atomic():
        if not WaitlistEntry.objects.filter(pk=entry.pk, status=E.WAITING).update(status=E.WITHDRAWN):
            raise ValidationError({"status": "Only a waiting entry can be withdrawn."})
        WaitlistOffer.objects.filter(entry=entry, status=OS.OFFERED).update(status=OS.EXPIRED)
    entry.refresh_from_db()
    return entry


def slot_freed(
    *, appointment: Appointment, provider_id: int, room: Room, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> None:
    """Record the time APPOINTMENT no longer holds (with PROVIDER_ID in ROOM), inside the caller's transaction.

    Called by the booking service on a cancellation, a no-show and a move (with the old time, provider
    and room), and only worth a row when a waiting entry could want it. A slot starting within
    SCHEDULING_WAITLIST_MIN_NOTICE_MINUTES is not offered (nobody could come): a no-show's time has
    always started already.
    """
    if start <= now + _min_notice():
        return
    local_day = start.astimezone(room.location.zone).date()
    wanted = WaitlistEntry.objects.filter(
        Q(provider__isnull=True) | Q(provider_id=provider_id),
        status=E.WAITING,
        appointment_type_id=appointment.appointment_type_id,
        location_id=room.location_id,
        until__gte=local_day,
    ).exists()
    if not wanted:
        return
    FreedSlot.objects.get_or_create(
        appointment=appointment,
        start=start,
        defaults={
            "provider_id": provider_id, "room": room, "appointment_type_id": appointment.appointment_type_id,
            "end": end, "freed_at": now, "next_offer_at": now,
        },
    )  # fmt: skip
    transaction.on_commit(_wake_sweep)


def slot_taken_back(*, appointment: Appointment) -> None:
    """Withdraw the open slots of an appointment that holds its time again (an undone cancellation)."""
    slots = FreedSlot.objects.filter(appointment=appointment, status=F.OPEN)
    WaitlistOffer.objects.filter(slot__in=slots, status=OS.OFFERED).update(status=OS.GONE)
    slots.update(status=F.LAPSED, status_reason="the visit holds its time again", next_offer_at=None)


def _wake_sweep() -> None:
    """Publish a sweep now rather than at the next beat; a refused publish is left to beat."""
    from scheduling.tasks import waitlist_sweep_task

    try:
        waitlist_sweep_task.delay()
    except Exception:  # the broker is unreachable: the due row waits for beat's next sweep
        logger.warning("could not publish the waitlist sweep; beat will run it")


def _candidates(slot: FreedSlot, *, now: dt.datetime, limit: int) -> list[WaitlistEntry]:
    """Return up to LIMIT waiting entries that fit SLOT and may be texted, in the order they joined."""
    zone = slot.room.location.zone
    entries = (
        WaitlistEntry.objects.filter(
            Q(provider__isnull=True) | Q(provider_id=slot.provider_id),
            status=E.WAITING,
            appointment_type_id=slot.appointment_type_id,
            location_id=slot.room.location_id,
            until__gte=slot.start.astimezone(zone).date(),
        )
        .exclude(patient_id=slot.appointment.patient_id)
        .exclude(offers__slot=slot)
        .select_related("patient")
        .order_by("created_at", "id")
    )
    chosen: list[WaitlistEntry] = []
    for entry in entries.iterator(chunk_size=50):
        if not entry.fits(slot.start, slot.end, zone):
            continue
        if skip_reason(patient=entry.patient, channel=Channel.SMS):
            continue  # never to an opted-out patient (or one without consent or a number)
        busy = Appointment.objects.active().filter(patient=entry.patient, start__lt=slot.end, end__gt=slot.start)
        if busy.exists():
            continue
        chosen.append(entry)
        if len(chosen) == limit:
            break
    return chosen


def _still_free(slot: FreedSlot) -> bool:
    """Return True while no active appointment holds the slot's provider or room."""
    collisions = collisions_find(
        patient=slot.appointment.patient, provider=slot.provider, room=slot.room, start=slot.start, end=slot.end,
        blocked_end=slot.end + dt.timedelta(minutes=slot.appointment_type.buffer_after_minutes),
    )  # fmt: skip
    return not any({"provider", "room"} & set(c.on) for c in collisions)


def _offer_batch(slot: FreedSlot, *, now: dt.datetime) -> int:
    """Offer SLOT to the next batch of entries (slot row locked by the caller); return how many were offered."""
    if not _still_free(slot):
        slot.status, slot.status_reason, slot.next_offer_at = F.LAPSED, "booked at the desk meanwhile", None
        slot.save(update_fields=["status", "status_reason", "next_offer_at"])
        return 0
    latest_expiry = slot.start - _min_notice()
    sent = 0
    for entry in _candidates(slot, now=now, limit=settings.SCHEDULING_WAITLIST_OFFER_BATCH):
        offer = WaitlistOffer.objects.create(slot=slot, entry=entry, offered_at=now, expires_at=latest_expiry)
        patient = entry.patient
        language = patient.preferred_language
        zone = patient.time_zone or settings.TIME_ZONE
        message = message_queue(
            patient=patient, channel=Channel.SMS, purpose=OFFER_PURPOSE, template=OFFER_PURPOSE,
            source_key=offer.source_key,
            context={"when": patient_datetime(slot.start, time_zone=zone, language=language)},
        )  # fmt: skip
        # The offer lives from when the SMS goes out (after quiet hours, if it waits) until its life ends.
        sends_at = message.next_attempt_at or now
        offer.offered_at = max(sends_at, now)
        offer.expires_at = min(offer.offered_at + _offer_life(), latest_expiry)
        if message.status == Message.Status.SKIPPED or offer.expires_at <= offer.offered_at:
            offer.status = OS.EXPIRED
        else:
            sent += 1
        offer.save(update_fields=["offered_at", "expires_at", "status"])
    live = WaitlistOffer.objects.filter(slot=slot, status=OS.OFFERED).order_by("-expires_at").first()
    # Nobody fits now: look again after an offer's life (someone may join); the slot lapses near its start.
    slot.next_offer_at = live.expires_at if live else now + _offer_life()
    slot.save(update_fields=["next_offer_at"])
    return sent


def waitlist_sweep(*, now: dt.datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Expire old offers, lapse slots that start too soon, offer due slots to the next batch; return counts."""
    now = now or timezone.now()
    counts = {"expired": 0, "lapsed": 0, "offered": 0}
    counts["expired"] = WaitlistOffer.objects.filter(status=OS.OFFERED, expires_at__lte=now).update(status=OS.EXPIRED)
    soon = FreedSlot.objects.filter(status=F.OPEN, start__lte=now + _min_notice())
    live = WaitlistOffer.objects.filter(status=OS.OFFERED, expires_at__gt=now)
    counts["lapsed"] = soon.exclude(offers__in=live).update(
        status=F.LAPSED, status_reason="starts too soon to offer", next_offer_at=None
    )
    for _ in range(limit):
        with transaction.atomic():
            due = FreedSlot.objects.filter(status=F.OPEN, next_offer_at__lte=now).order_by("next_offer_at", "id")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            slot = due.select_related("appointment__patient", "room__location", "provider", "appointment_type").first()
            if slot is None:
                break
            waiting = live.filter(slot=slot).order_by("-expires_at").first()
            if waiting is not None:  # the batch before is still live: come back when it has expired
                slot.next_offer_at = waiting.expires_at
                slot.save(update_fields=["next_offer_at"])
                continue
            counts["offered"] += _offer_batch(slot, now=now)
    return counts


# --- Answers ----------------------------------------------------------------------------------------------


def waitlist_reply(*, offer: WaitlistOffer, at: dt.datetime) -> WaitlistOffer:
    """Answer a YES to OFFER: book the slot if it is still this offer's to take, else tell the patient it has gone.

    Runs under the slot's row lock, so two YES at once are taken one after the other; the unique accepted
    offer per slot and the booking's exclusion constraints refuse a second winner even so.
    """
    with transaction.atomic():
        # Lock the slot and the offer rows only, not the room, provider or patient they join.
        slot = (
            FreedSlot.objects.select_for_update(of=("self",))
            .select_related("room", "provider", "appointment_type")
            .get(pk=offer.slot_id)
        )
        offer = WaitlistOffer.objects.select_for_update(of=("self",)).select_related("entry__patient").get(pk=offer.pk)
        if offer.status == OS.ACCEPTED:
            return offer  # a repeated YES from the winner: already booked and told
        if offer.status == OS.OFFERED and at < offer.expires_at and slot.status == F.OPEN:
            booked = _book(offer, slot, at=at)
            if booked:
                return offer
        if offer.status in (OS.OFFERED, OS.EXPIRED):
            offer.status, offer.answered_at = OS.GONE, at
            offer.save(update_fields=["status", "answered_at"])
        _tell(offer, template="waitlist_gone", key=f"waitlist_gone:{offer.pk}")
    return offer


def _book(offer: WaitlistOffer, slot: FreedSlot, *, at: dt.datetime) -> bool:
    """Book the slot for the offer's patient; False when the booking service refuses (taken, patient busy)."""
    patient = offer.entry.patient
    try:
        with transaction.atomic():
            appointment = appointment_book(
                patient=patient, provider=slot.provider, room=slot.room, appointment_type=slot.appointment_type,
                start=slot.start, end=slot.end, by=None, notes="Booked from the waitlist",
            )  # fmt: skip
            offer.status, offer.answered_at, offer.appointment = OS.ACCEPTED, at, appointment
            offer.save(update_fields=["status", "answered_at", "appointment"])
    except (BookingError, ValidationError, IntegrityError) as exc:
        logger.info("waitlist offer %s could not be booked: %s", offer.pk, type(exc).__name__)
        if isinstance(exc, BookingError) and not _still_free(slot):
            _close(slot, status=F.LAPSED, reason="booked at the desk meanwhile")
        return False
    WaitlistEntry.objects.filter(pk=offer.entry_id).update(status=E.BOOKED, appointment=appointment)
    _close(slot, status=F.FILLED, reason="")
    # The booking service's own notice ("you are booked for ...") answers the YES when the visit type sends
    # one by SMS: a second text saying the same would be a duplicate.
    if Message.objects.filter(source_key=f"appointment:{appointment.pk}:booked", channel=Channel.SMS).exists():
        return True
    _tell(
        offer, template="waitlist_booked", key=f"waitlist_booked:{offer.pk}",
        when=patient_datetime(
            slot.start, time_zone=patient.time_zone or settings.TIME_ZONE, language=patient.preferred_language
        ),
    )  # fmt: skip
    return True


def _close(slot: FreedSlot, *, status: str, reason: str) -> None:
    slot.status, slot.status_reason, slot.next_offer_at = status, reason, None
    slot.save(update_fields=["status", "status_reason", "next_offer_at"])
    # The others' offers end now; each is told it has gone when (if) they answer.
    WaitlistOffer.objects.filter(slot=slot, status=OS.OFFERED).update(status=OS.GONE)


def _tell(offer: WaitlistOffer, *, template: str, key: str, **context: Any) -> None:
    message_queue(
        patient=offer.entry.patient, channel=Channel.SMS, purpose=template, template=template, context=context,
        source_key=key,
    )  # fmt: skip


def waitlist_fills_by_month(*, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Return {first day of month: visits booked from the waitlist} over clinic dates START..END (accepted offers)."""
    zone = clinic_tz()
    since = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    rows = (
        WaitlistOffer.objects.filter(status=OS.ACCEPTED, answered_at__gte=since, answered_at__lt=until)
        .annotate(month=TruncMonth("answered_at", tzinfo=zone))
        .values("month")
        .annotate(fills=Count("id"))
        .order_by("month")
    )
    return {_as_date(row["month"]): row["fills"] for row in rows}


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
