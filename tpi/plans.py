"""Treatment plans: create and cancel them, and book their occurrences through the scheduling booking service.

Every booking runs with the plan row locked (select_for_update; on SQLite the IMMEDIATE transaction
takes the write lock), re-reading the occurrences under the lock, so two runs at once book nothing
twice; the one-to-one PlanOccurrence.appointment and the (plan, sequence) uniqueness are the backstop.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.models import Patient, Provider
from clinic.sweeps import among
from scheduling.booking import appointment_book
from scheduling.clock import local_date, local_datetime
from scheduling.closures import closed_reason
from scheduling.exceptions import (
    BookingConflict,
    ClinicClosed,
    OutsideOpeningHours,
    OutsideWorkingHours,
    RoomCannotHost,
)
from scheduling.locations import rooms_hosting
from scheduling.models import Appointment, AppointmentType, Room
from scheduling.slots import slots_find
from tpi.models import PlanOccurrence, TreatmentPlan

logger = logging.getLogger(__name__)
OS = PlanOccurrence.Status

PLAN_FIELDS = frozenset(
    {
        "patient",
        "provider",
        "room",
        "appointment_type",
        "interval_weeks",
        "injections",
        "end_date",
        "start_date",
        "preferred_time",
    }
)
UPDATABLE_FIELDS = frozenset({"provider", "room", "preferred_time"})


def plan_dates(
    *, start_date: dt.date, interval_weeks: int, injections: int | None, end_date: dt.date | None
) -> list[dt.date]:
    """Return the target days: every INTERVAL_WEEKS from START_DATE, INJECTIONS of them and none after END_DATE."""
    limit = settings.TPI_PLAN_MAX_OCCURRENCES + 1  # one more than allowed, so callers can tell "too many"
    count = min(injections, limit) if injections is not None else limit
    days = []
    for k in range(count):
        try:
            day = start_date + dt.timedelta(weeks=interval_weeks * k)
        except OverflowError:  # past year 9999: no calendar left
            break
        if end_date is not None and day > end_date:
            break
        days.append(day)
    return days


def default_appointment_type() -> AppointmentType | None:
    """Return the visit type plans book unless told otherwise (settings.TPI_PLAN_APPOINTMENT_TYPE_CODE)."""
    return AppointmentType.objects.filter(code=settings.TPI_PLAN_APPOINTMENT_TYPE_CODE).first()


def plan_validate(*, fields: dict, plan: TreatmentPlan | None = None) -> None:
    """Raise ValidationError keyed by field unless FIELDS make a valid new plan (or a valid change to PLAN)."""
    _validate(fields, today=local_date(timezone.now()), plan=plan)


def _validate(fields: dict, *, today: dt.date, plan: TreatmentPlan | None = None) -> None:
    errors: dict[str, str] = {}
    patient: Patient | None = fields.get("patient")
    provider: Provider | None = fields.get("provider")
    room: Room | None = fields.get("room")
    appointment_type: AppointmentType | None = fields.get("appointment_type")
    if patient is None:
        errors["patient"] = "Choose the patient."
    elif patient.status != Patient.Status.ACTIVE:
        errors["patient"] = "Only active patients can have a treatment plan."
    elif TreatmentPlan.objects.active().filter(patient=patient).exclude(pk=plan.pk if plan else None).exists():
        errors["patient"] = "This patient already has an active treatment plan; cancel it first."
    if appointment_type is None:
        errors["appointment_type"] = (
            f"Choose the visit type (no appointment type with code {settings.TPI_PLAN_APPOINTMENT_TYPE_CODE!r})."
        )
    elif not appointment_type.is_active:
        errors["appointment_type"] = f"{appointment_type} is no longer offered."
    if provider is not None:
        if not provider.is_active:
            errors["provider"] = f"{provider} is not an active provider."
        elif appointment_type is not None and not appointment_type.allows_role(provider.role):
            errors["provider"] = f"{provider} ({provider.get_role_display()}) may not take {appointment_type} visits."
    if room is not None and not room.is_active:
        errors["room"] = f"Room {room} is not in use."
    elif room is not None and appointment_type is not None and not room.can_host(appointment_type):
        errors["room"] = f"{room} cannot host {appointment_type} visits; choose a room equipped for them."
    if not isinstance(fields.get("preferred_time"), dt.time):
        errors["preferred_time"] = "Give the preferred time of day (local time at the visit's location)."
    if plan is None:
        _validate_schedule(fields, today=today, errors=errors)
    if errors:
        raise ValidationError(errors)


def _validate_schedule(fields: dict, *, today: dt.date, errors: dict[str, str]) -> None:
    interval, injections = fields.get("interval_weeks"), fields.get("injections")
    start, end = fields.get("start_date"), fields.get("end_date")
    if not isinstance(interval, int) or interval < 1:
        errors["interval_weeks"] = "The interval must be at least one week."
    if not isinstance(start, dt.date):
        errors["start_date"] = "Give the day of the first injection."
    elif start < today:
        errors["start_date"] = "The first injection cannot be in the past."
    if injections is None and end is None:
        errors["injections"] = "Give the number of injections or an end date."
    elif injections is not None and (not isinstance(injections, int) or injections < 1):
        errors["injections"] = "A plan has at least one injection."
    elif injections is not None and injections > settings.TPI_PLAN_MAX_OCCURRENCES:
        errors["injections"] = f"A plan has at most {settings.TPI_PLAN_MAX_OCCURRENCES} injections."
    if end is not None and isinstance(start, dt.date) and end < start:
        errors["end_date"] = "The end date cannot be before the start date."
    if errors or not isinstance(start, dt.date) or not isinstance(interval, int):  # the checks above, for mypy
        return
    days = plan_dates(start_date=start, interval_weeks=interval, injections=injections, end_date=end)
    if len(days) > settings.TPI_PLAN_MAX_OCCURRENCES:
        errors["end_date"] = (
            f"A plan has at most {settings.TPI_PLAN_MAX_OCCURRENCES} injections; choose an earlier end date."
        )


def plan_create(
    *,
    patient: Patient,
    by: User,
    start_date: dt.date,
    preferred_time: dt.time,
    interval_weeks: int | None = None,
    injections: int | None = None,
    end_date: dt.date | None = None,
    provider: Provider | None = None,
    room: Room | None = None,
    appointment_type: AppointmentType | None = None,
) -> TreatmentPlan:
    """Create an active plan and its occurrences; raises ValidationError keyed by field."""
    fields = {
        "patient": patient,
        "provider": provider,
        "room": room,
        "appointment_type": appointment_type or default_appointment_type(),
        "interval_weeks": interval_weeks if interval_weeks is not None else settings.TPI_PLAN_DEFAULT_INTERVAL_WEEKS,
        "injections": injections,
        "end_date": end_date,
        "start_date": start_date,
        "preferred_time": preferred_time,
    }
    _validate(fields, today=local_date(timezone.now()))
    with transaction.atomic():
        # Lock the patient so two concurrent creations cannot both pass the one-active-plan check.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        _validate(fields, today=local_date(timezone.now()))
        plan = TreatmentPlan.objects.create(created_by=by, **fields)
        days = plan_dates(
            start_date=plan.start_date,
            interval_weeks=plan.interval_weeks,
            injections=plan.injections,
            end_date=plan.end_date,
        )
        PlanOccurrence.objects.bulk_create(
            PlanOccurrence(plan=plan, sequence=n, target_date=day) for n, day in enumerate(days, start=1)
        )
    return plan


def plan_update(*, plan: TreatmentPlan, by: User, **fields: Any) -> TreatmentPlan:
    """Change who, where or at what time the plan's future injections are booked (not its schedule)."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError(
            dict.fromkeys(unknown, "This cannot change once the plan exists; cancel the plan and make a new one.")
        )
    with transaction.atomic():
        plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if not plan.is_active:
            raise ValidationError({"status": f"A {plan.get_status_display().lower()} plan cannot change."})
        merged = {name: getattr(plan, name) for name in PLAN_FIELDS} | fields
        _validate(merged, today=local_date(timezone.now()), plan=plan)
        for name, value in fields.items():
            setattr(plan, name, value)
        plan.save(update_fields=[*fields, "updated_at"])
    return plan


def plan_cancel(*, plan: TreatmentPlan, by: User, reason: str) -> TreatmentPlan:
    """Cancel an active plan: its open occurrences are cancelled; booked appointments stay (cancel them apart)."""
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for the cancellation."})
    with transaction.atomic():
        plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if not TreatmentPlan.TRANSITIONS.allows(plan.status, TreatmentPlan.Status.CANCELLED):
            raise ValidationError({"status": f"A {plan.get_status_display().lower()} plan cannot be cancelled."})
        plan.status = TreatmentPlan.Status.CANCELLED
        plan.cancelled_at, plan.cancelled_by, plan.cancel_reason = timezone.now(), by, reason.strip()
        plan.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "updated_at"])
        plan.occurrences.filter(status__in=PlanOccurrence.TRANSITIONS.sources(OS.CANCELLED)).update(
            status=OS.CANCELLED, reason="plan cancelled", updated_at=timezone.now()
        )
    return plan


def patient_has_active_plan(patient: Patient) -> bool:
    """Return True when the patient has an active plan with an injection still to book (BOOK makes sense)."""
    return PlanOccurrence.objects.filter(
        plan__patient=patient, plan__status=TreatmentPlan.Status.ACTIVE, status__in=PlanOccurrence.OPEN_STATUSES
    ).exists()


def patients_with_active_plan(*, patient_ids: Iterable[int]) -> set[int]:
    """Return which of PATIENT_IDS have an active plan with an injection still to book (a batch's
    `patient_has_active_plan`)."""
    occurrences = PlanOccurrence.objects.filter(
        among("plan__patient_id", patient_ids),
        plan__status=TreatmentPlan.Status.ACTIVE,
        status__in=PlanOccurrence.OPEN_STATUSES,
    )
    return set(occurrences.values_list("plan__patient_id", flat=True).distinct())


def active_plan_for(patient: Patient) -> TreatmentPlan | None:
    """Return the patient's active plan, if any."""
    return TreatmentPlan.objects.active().filter(patient=patient).first()


# --- booking -----------------------------------------------------------------------------------


def _book(plan: TreatmentPlan, *, provider: Provider, room: Room, start: dt.datetime, by: Actor) -> Appointment:
    return appointment_book(
        patient=plan.patient,
        provider=provider,
        room=room,
        appointment_type=plan.appointment_type,
        start=start,
        by=by,
        notes=f"Treatment plan: an injection every {plan.interval_weeks} weeks from {plan.start_date:%Y-%m-%d}",
    )


def _preferred_at(plan: TreatmentPlan, day: dt.date, room: Room) -> dt.datetime:
    """Return the instant of the plan's preferred wall time on DAY at ROOM's location (its own clock, DST-safe)."""
    return local_datetime(day, plan.preferred_time, zone=room.location.zone)


def _book_at(plan: TreatmentPlan, day: dt.date, *, now: dt.datetime, by: Actor) -> Appointment | None:
    """Book the preferred time on DAY with the plan's provider (or any eligible one) in its room (or any free one),
    each room on its location's clock; None if nothing is free then."""
    if plan.provider is not None:
        providers = [plan.provider]
    else:
        providers = list(
            Provider.objects.filter(is_active=True, role__in=plan.appointment_type.allowed_roles or [])
            .select_related("user")
            .order_by("id")
        )
    # Only rooms equipped for the visit: a plan never books a procedure into the massage room.
    rooms = rooms_hosting(appointment_type=plan.appointment_type, room=plan.room)
    patient_busy: set[dt.datetime] = set()  # instants the patient is already booked at
    for provider in providers:
        away: set[int] = set()  # locations where this provider does not work at the preferred time
        busy: set[dt.datetime] = set()  # instants this provider is taken at
        for room in rooms:
            start = _preferred_at(plan, day, room)
            if start < now or start in patient_busy or start in busy or room.location_id in away:
                continue
            try:
                return _book(plan, provider=provider, room=room, start=start, by=by)
            except OutsideWorkingHours:
                away.add(room.location_id)  # not there then: another location (another clock) may suit
            except (ClinicClosed, OutsideOpeningHours):
                continue  # this room's location is closed then: another location may be open
            except BookingConflict as exc:
                taken = {part for collision in exc.collisions for part in collision.on}
                if "patient" in taken:
                    patient_busy.add(start)
                if "provider" in taken:
                    busy.add(start)
    return None


def _book_nearest(plan: TreatmentPlan, target: dt.date, *, now: dt.datetime, by: Actor) -> Appointment | None:
    """Book the free slot nearest the preferred wall time (on its room's clock) within the tolerance around TARGET;
    None if there is none."""
    tolerance = dt.timedelta(days=settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS)
    # The days are local days of each room's location (the day before the clinic's today may still be open in a
    # zone to the west); the slot finder drops the times already past.
    first_day = max(target - tolerance, local_date(now) - dt.timedelta(days=1))
    last_day = target + tolerance
    if last_day < first_day:
        return None
    slots = slots_find(
        appointment_type=plan.appointment_type,
        first_day=first_day,
        last_day=last_day,
        provider=plan.provider,
        room=plan.room,
        patient=plan.patient,
    )
    slots.sort(key=lambda s: (abs(s.start - _preferred_at(plan, target, s.room)), s.start))
    for slot in slots[:10]:  # a slot can go between finding and booking: try the next nearest few
        try:
            return _book(plan, provider=slot.provider, room=slot.room, start=slot.start, by=by)
        except (BookingConflict, OutsideWorkingHours, ClinicClosed, OutsideOpeningHours):
            continue
    return None


def _occurrence_book(occurrence: PlanOccurrence, plan: TreatmentPlan, *, now: dt.datetime, by: Actor) -> bool:
    """Book one open occurrence (the plan row is locked by the caller); True if booked, else it needs review."""
    try:
        appointment = _book_at(plan, occurrence.target_date, now=now, by=by)
        if appointment is None:
            appointment = _book_nearest(plan, occurrence.target_date, now=now, by=by)
    except ValidationError as exc:
        reasons = "; ".join(m for messages in exc.message_dict.values() for m in messages)
        _needs_review(occurrence, f"Cannot book: {reasons}")
        return False
    except RoomCannotHost as exc:  # the plan's room lost the capability after the plan was made
        _needs_review(occurrence, f"Cannot book: {exc.message}")
        return False
    if appointment is None:
        tolerance = settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS
        closed = _closed_reason(plan, occurrence.target_date)
        if closed:
            _needs_review(
                occurrence,
                f"clinic closed: {closed}; no free slot within {tolerance} days of {occurrence.target_date}.",
            )
        else:
            _needs_review(
                occurrence,
                f"No free slot at {plan.preferred_time:%H:%M} on {occurrence.target_date} "
                f"nor within {tolerance} days of it.",
            )
        return False
    occurrence.appointment, occurrence.status, occurrence.reason = appointment, OS.BOOKED, ""
    # The booking service confirmed the visit to the patient (scheduling.reminders): no second message here.
    occurrence.save(update_fields=["appointment", "status", "reason", "updated_at"])
    return True


def _closed_reason(plan: TreatmentPlan, day: dt.date) -> str | None:
    """Return why the plan's rooms are closed at the preferred time on DAY (a holiday, training), or None when one is
    open (each room read on its location's clock)."""
    duration = dt.timedelta(minutes=plan.appointment_type.default_duration_minutes)
    reasons = []
    for room in rooms_hosting(appointment_type=plan.appointment_type, room=plan.room):
        start = _preferred_at(plan, day, room)
        reason = closed_reason(location=room.location, start=start, end=start + duration)
        if reason is None:
            return None
        reasons.append(reason)
    return reasons[0] if reasons else None


def _needs_review(occurrence: PlanOccurrence, reason: str) -> None:
    occurrence.status, occurrence.reason = OS.NEEDS_REVIEW, reason[:300]
    occurrence.save(update_fields=["status", "reason", "updated_at"])


def _complete_if_done(plan: TreatmentPlan, *, today: dt.date) -> None:
    """Complete the plan when nothing is left to book, or its last injection day (plus tolerance) has passed."""
    anything_open = plan.occurrences.filter(status__in=PlanOccurrence.OPEN_STATUSES).exists()
    last_day = plan.occurrences.order_by("-sequence").values_list("target_date", flat=True).first()
    tolerance = dt.timedelta(days=settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS)
    if not anything_open or (last_day is not None and today > last_day + tolerance):
        TreatmentPlan.TRANSITIONS.check(plan.status, TreatmentPlan.Status.COMPLETED)
        plan.status = TreatmentPlan.Status.COMPLETED
        plan.save(update_fields=["status", "updated_at"])


def _locked_active(plan_id: int) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("patient", "provider__user", "room", "appointment_type")
        .filter(pk=plan_id, status=TreatmentPlan.Status.ACTIVE)
        .first()
    )


def plan_book_due(*, plan: TreatmentPlan, now: dt.datetime | None = None, by: Actor = None) -> dict[str, int]:
    """Book the plan's planned occurrences due within the horizon; return {"booked": n, "needs_review": m}."""
    now = now or timezone.now()
    today = local_date(now)
    horizon = today + dt.timedelta(days=settings.TPI_PLAN_BOOKING_HORIZON_DAYS)
    tolerance = dt.timedelta(days=settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS)
    counts = {"booked": 0, "needs_review": 0}
    with transaction.atomic():
        locked = _locked_active(plan.pk)
        if locked is None:
            return counts
        plan = locked
        due = list(plan.occurrences.filter(status=OS.PLANNED, target_date__lte=horizon).order_by("sequence"))
        for occurrence in due:
            if occurrence.target_date + tolerance < today:
                _needs_review(occurrence, "The injection day passed before it could be booked.")
                counts["needs_review"] += 1
            elif _occurrence_book(occurrence, plan, now=now, by=by):
                counts["booked"] += 1
            else:
                counts["needs_review"] += 1
        _complete_if_done(plan, today=today)
    return counts


def plan_book_next(*, plan: TreatmentPlan, now: dt.datetime | None = None, by: Actor = None) -> PlanOccurrence | None:
    """Book the plan's next open occurrence now, whatever the horizon (a BOOK reply, the admin's "book now").

    Returns the occurrence (booked, or needing review with the reason), or None when the plan is not
    active or has nothing left to book.
    """
    now = now or timezone.now()
    today = local_date(now)
    tolerance = dt.timedelta(days=settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS)
    with transaction.atomic():
        locked = _locked_active(plan.pk)
        if locked is None:
            return None
        plan = locked
        occurrence = (
            plan.occurrences.filter(status__in=PlanOccurrence.OPEN_STATUSES, target_date__gte=today - tolerance)
            .order_by("sequence")
            .first()
        )
        if occurrence is None:
            _complete_if_done(plan, today=today)
            return None
        _occurrence_book(occurrence, plan, now=now, by=by)
        _complete_if_done(plan, today=today)
    return occurrence


def occurrence_book(*, occurrence: PlanOccurrence, now: dt.datetime | None = None, by: Actor = None) -> PlanOccurrence:
    """Try again to book one open occurrence (the front desk's "book now" on the review queue)."""
    now = now or timezone.now()
    with transaction.atomic():
        plan = _locked_active(occurrence.plan_id)
        occurrence = PlanOccurrence.objects.get(pk=occurrence.pk)
        if plan is None:
            raise ValidationError({"plan": "The plan is not active."})
        if not PlanOccurrence.TRANSITIONS.allows(occurrence.status, OS.BOOKED):
            raise ValidationError(
                {"status": f"A {occurrence.get_status_display().lower()} injection cannot be booked again."}
            )
        _occurrence_book(occurrence, plan, now=now, by=by)
        _complete_if_done(plan, today=local_date(now))
    return occurrence


def plans_with_work(*, now: dt.datetime) -> QuerySet[TreatmentPlan]:
    """Return the active plans the daily run has something to do for, in one query (no plan is read otherwise).

    Work is an occurrence to book within the horizon, or completing the plan: nothing left open, or
    its last injection day (plus tolerance) passed; the same tests `plan_book_due` applies.
    """
    today = local_date(now)
    horizon = today + dt.timedelta(days=settings.TPI_PLAN_BOOKING_HORIZON_DAYS)
    tolerance = dt.timedelta(days=settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS)
    occurrences = PlanOccurrence.objects.filter(plan=OuterRef("pk"))
    return TreatmentPlan.objects.active().filter(
        Exists(occurrences.filter(status=OS.PLANNED, target_date__lte=horizon))
        | ~Exists(occurrences.filter(status__in=PlanOccurrence.OPEN_STATUSES))
        | ~Exists(occurrences.filter(target_date__gte=today - tolerance))
    )


def plans_book_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Book every active plan's occurrences due within the horizon (the daily job); return the totals.

    A plan whose booking raises is logged (by id) and counted under "failed"; the others still run.
    """
    now = now or timezone.now()
    totals = {"plans": 0, "booked": 0, "needs_review": 0}
    for plan in plans_with_work(now=now).order_by("id").only("pk"):
        try:
            counts = plan_book_due(plan=plan, now=now)
        except Exception:  # one broken plan must not keep the others from being booked
            logger.exception("booking treatment plan %s failed; the next run tries again", plan.pk)
            totals["failed"] = totals.get("failed", 0) + 1
            continue
        totals["plans"] += 1
        totals["booked"] += counts["booked"]
        totals["needs_review"] += counts["needs_review"]
    return totals


def occurrence_skip(*, occurrence: PlanOccurrence, by: User, reason: str) -> PlanOccurrence:
    """Take an open occurrence off the plan (the front desk's answer to one it cannot place)."""
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason."})
    with transaction.atomic():
        plan = TreatmentPlan.objects.select_for_update().get(pk=occurrence.plan_id)
        occurrence = PlanOccurrence.objects.get(pk=occurrence.pk)
        if not PlanOccurrence.TRANSITIONS.allows(occurrence.status, OS.CANCELLED):
            raise ValidationError(
                {"status": f"A {occurrence.get_status_display().lower()} injection cannot be skipped."}
            )
        occurrence.status, occurrence.reason = OS.CANCELLED, f"skipped by {by}: {reason.strip()}"[:300]
        occurrence.save(update_fields=["status", "reason", "updated_at"])
        if plan.is_active:
            _complete_if_done(plan, today=local_date(timezone.now()))
    return occurrence
