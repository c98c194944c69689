"""The booking service: the only code that creates, moves, cancels or changes the status of appointments.

No overlap per provider, room and patient among active appointments. On PostgreSQL the exclusion
constraints of migration 0003 guarantee it; on SQLite every write runs in a transaction that takes
the database write lock up front (transaction_mode IMMEDIATE), so check-then-write cannot interleave.
Either way the caller gets a BookingConflict naming what the request collides with.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.models import Patient, Provider
from clinic.roles import is_clinic_admin
from scheduling.exceptions import (
    BackdatedRefused,
    BookingConflict,
    ClinicClosed,
    Collision,
    OutsideOpeningHours,
    OutsideWorkingHours,
    RoomCannotHost,
)
from scheduling.hours import hours_problem
from scheduling.locations import closure_problem, closure_span, opening_problem
from scheduling.models import (
    MAX_BLOCKED_SPAN,
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    Closure,
    Location,
    Room,
    Series,
)
from scheduling.reminders import appointment_booked, appointment_moved, appointment_status_changed

S = Appointment.Status
OVERLAP_CONSTRAINTS = frozenset(
    {"appointment_no_provider_overlap", "appointment_no_room_overlap", "appointment_no_patient_overlap"}
)


def collisions_find(
    *,
    patient: Patient,
    provider: Provider,
    room: Room,
    start: dt.datetime,
    end: dt.datetime,
    blocked_end: dt.datetime,
    exclude_ids: frozenset[int] = frozenset(),
) -> list[Collision]:
    """Return the active appointments [START, END) (blocked until BLOCKED_END) would collide with."""
    since = Q(start__gt=start - MAX_BLOCKED_SPAN)  # lets each branch use its (x, start) index
    blocked = Q(start__lt=blocked_end, blocked_end__gt=start) & since
    clashes = (
        Appointment.objects.active()
        .filter(
            (blocked & Q(provider=provider))
            | (blocked & Q(room=room))
            | (Q(patient=patient, start__lt=end, end__gt=start) & since)
        )
        .exclude(pk__in=exclude_ids)
        .select_related("patient", "provider__user", "room__location", "appointment_type")
    )
    collisions = []
    for other in clashes:
        overlaps_blocked = other.start < blocked_end and other.blocked_end > start
        on = []
        if other.provider_id == provider.pk and overlaps_blocked:
            on.append("provider")
        if other.room_id == room.pk and overlaps_blocked:
            on.append("room")
        if other.patient_id == patient.pk and other.start < end and other.end > start:
            on.append("patient")
        collisions.append(Collision(appointment=other, on=tuple(on)))
    return collisions


def booking_validate(
    *,
    patient: Patient,
    provider: Provider,
    room: Room,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime | None,
) -> None:
    """Raise ValidationError (keyed by field) when this visit may not be booked whatever the calendar says."""
    errors: dict[str, str] = {}
    if not isinstance(start, dt.datetime) or timezone.is_naive(start):
        errors["start"] = "The start must be a date and time with a time zone."
    if not isinstance(end, dt.datetime) or timezone.is_naive(end):
        errors["end"] = "The end must be a date and time with a time zone."
    elif not errors and end <= start:
        errors["end"] = "The end must be after the start."
    elif not errors and end - start + dt.timedelta(minutes=appointment_type.buffer_after_minutes) > MAX_BLOCKED_SPAN:
        errors["end"] = "An appointment with its buffer may last at most 24 hours."
    if not provider.is_active:
        errors["provider"] = f"{provider} is not an active provider."
    elif not appointment_type.allows_role(provider.role):
        errors["provider"] = f"{provider} ({provider.get_role_display()}) may not take {appointment_type} visits."
    if not room.is_active:
        errors["room"] = f"Room {room} is not in use."
    if not appointment_type.is_active:
        errors["appointment_type"] = f"{appointment_type} is no longer offered."
    if patient.status != Patient.Status.ACTIVE:
        errors["patient"] = "Only active patients can be booked."
    if errors:
        raise ValidationError(errors)
    if not room.can_host(appointment_type):
        raise RoomCannotHost(room=room, appointment_type=appointment_type)


def closed_message(*, closure: Closure, location: Location, start: dt.datetime) -> str:
    """Return e.g. 'The clinic is closed on Fri 25 Dec 2026 (Christmas Day); choose another day.'."""
    where = "The clinic" if closure.location_id is None else str(location)
    local = start.astimezone(location.zone)
    if closure.first_day is not None:
        return f"{where} is closed on {local:%a %d %b %Y} ({closure.reason}); choose another day."
    since, until = (instant.astimezone(location.zone) for instant in closure_span(closure=closure, tz=location.zone))
    return (
        f"{where} is closed from {since:%a %d %b %H:%M} to {until:%a %d %b %H:%M} ({closure.reason}); "
        "choose another time."
    )


def _check_open(*, appointment: Appointment, by: Actor, override_hours: bool) -> bool:
    """Refuse a closure always, and a time outside the location's opening hours unless a clinic admin overrides."""
    location = appointment.room.location
    closure = closure_problem(location=location, start=appointment.start, end=appointment.end)
    if closure is not None:
        raise ClinicClosed(
            closed_message(closure=closure, location=location, start=appointment.start),
            start=appointment.start,
            reason=closure.reason,
        )
    problem = opening_problem(location=location, start=appointment.start, end=appointment.end)
    if problem is None:
        return False
    if not override_hours:
        raise OutsideOpeningHours(problem, start=appointment.start)
    if not is_clinic_admin(by):
        raise PermissionDenied("Only a clinic admin may book outside opening hours.")
    return True  # overridden: recorded like an override of working hours


def _check_hours(*, appointment: Appointment, by: Actor, override_hours: bool, now: dt.datetime) -> None:
    overridden = _check_open(appointment=appointment, by=by, override_hours=override_hours)
    problem = hours_problem(
        provider_id=appointment.provider_id,
        start=appointment.start,
        end=appointment.end,
        location=appointment.room.location,
    )
    if problem is None and overridden:
        appointment.hours_override_by, appointment.hours_override_at = by, now
        return
    if problem is None:
        appointment.hours_override_by, appointment.hours_override_at = None, None
        return
    if not override_hours:
        raise OutsideWorkingHours(problem, start=appointment.start)
    if not is_clinic_admin(by):
        raise PermissionDenied("Only a clinic admin may book outside working hours.")
    appointment.hours_override_by, appointment.hours_override_at = by, now


def _check_backdated(*, appointment: Appointment, by: Actor, now: dt.datetime, verb: str = "book") -> bool:
    """Return whether the booking (or move) starts in the past; refuse that to all but clinic admins and system jobs."""
    if appointment.start >= now:
        return False
    # System jobs (by=None: the demo seed, imports) record past visits; of people, only clinic admins may.
    if by is not None and not is_clinic_admin(by):
        start = appointment.local_start
        noun = "book a past visit" if verb == "book" else "move a visit into the past"
        raise BackdatedRefused(
            f"The start, {start:%a %d %b %Y %H:%M}, has already passed: only a clinic admin may {noun}."
        )
    return True


def _save_without_overlap(appointment: Appointment, *, patient: Patient, provider: Provider, room: Room) -> None:
    """Save APPOINTMENT inside the caller's transaction, refusing any overlap (friendly check, then the database)."""
    exclude = frozenset({appointment.pk}) if appointment.pk else frozenset()
    window = {"start": appointment.start, "end": appointment.end, "blocked_end": appointment.blocked_end}
    collisions = collisions_find(patient=patient, provider=provider, room=room, exclude_ids=exclude, **window)
    if collisions:
        raise BookingConflict(collisions)
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint not in OVERLAP_CONSTRAINTS:
            raise
        # Another transaction committed an overlapping appointment after our check: name it.
        collisions = collisions_find(patient=patient, provider=provider, room=room, exclude_ids=exclude, **window)
        raise BookingConflict(collisions) from exc


def _record(
    appointment: Appointment, *, from_status: str, by: Actor, now: dt.datetime, reason: str = "", is_undo: bool = False
) -> None:
    AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=appointment.status,
        changed_by=by,
        changed_at=now,
        reason=reason,
        is_undo=is_undo,
    )


def appointment_book(
    *,
    patient: Patient,
    provider: Provider,
    room: Room,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime | None = None,
    by: Actor,
    notes: str = "",
    override_hours: bool = False,
    series: Series | None = None,
    series_occurrence: dt.datetime | None = None,
) -> Appointment:
    """Book a visit; END defaults to START plus the type's duration. Raises BookingConflict or OutsideWorkingHours."""
    if end is None and isinstance(start, dt.datetime) and timezone.is_aware(start):
        end = start + dt.timedelta(minutes=appointment_type.default_duration_minutes)
    booking_validate(
        patient=patient, provider=provider, room=room, appointment_type=appointment_type, start=start, end=end
    )
    assert end is not None  # booking_validate refuses a missing end; this tells the type checker
    now = timezone.now()
    appointment = Appointment(
        patient=patient,
        provider=provider,
        room=room,
        appointment_type=appointment_type,
        start=start,
        end=end,
        blocked_end=end + dt.timedelta(minutes=appointment_type.buffer_after_minutes),
        notes=notes,
        series=series,
        series_occurrence=series_occurrence,
        created_by=by,
    )
    appointment.is_backdated = _check_backdated(appointment=appointment, by=by, now=now)
    with transaction.atomic():
        _check_hours(appointment=appointment, by=by, override_hours=override_hours, now=now)
        _save_without_overlap(appointment, patient=patient, provider=provider, room=room)
        reasons = [
            "back-dated booking (start already past)" if appointment.is_backdated else "",
            "booked outside working hours (clinic-admin override)" if appointment.hours_override_by_id else "",
        ]
        _record(appointment, from_status="", by=by, now=now, reason="; ".join(r for r in reasons if r))
        appointment_booked(appointment=appointment, now=now)
    return appointment


def appointment_move(
    *,
    appointment: Appointment,
    start: dt.datetime,
    end: dt.datetime | None = None,
    provider: Provider | None = None,
    room: Room | None = None,
    by: Actor,
    override_hours: bool = False,
) -> Appointment:
    """Move an appointment to START (keeping its length unless END is given), optionally to another provider/room."""
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update()
            .select_related("patient", "provider", "room__location", "appointment_type")
            .get(pk=appointment.pk)
        )
        if not appointment.is_movable:
            raise ValidationError({"status": f"A {appointment.get_status_display().lower()} appointment cannot move."})
        if end is None and isinstance(start, dt.datetime) and timezone.is_aware(start):
            end = start + (appointment.end - appointment.start)
        provider = provider or appointment.provider
        room = room or appointment.room
        was = (appointment.provider_id, appointment.room, appointment.start, appointment.end)
        booking_validate(
            patient=appointment.patient,
            provider=provider,
            room=room,
            appointment_type=appointment.appointment_type,
            start=start,
            end=end,
        )
        assert end is not None  # booking_validate refuses a missing end; this tells the type checker
        previous_start, previous_location_id = appointment.start, appointment.room.location_id
        if start != previous_start:
            appointment.reschedule_requested_at = None  # the patient's request (SMS reply R) is answered
        appointment.provider, appointment.room, appointment.start, appointment.end = provider, room, start, end
        appointment.blocked_end = end + dt.timedelta(minutes=appointment.appointment_type.buffer_after_minutes)
        now = timezone.now()
        # Only a change of start can move a visit into the past: a room swap of a visit under way is no back-dating.
        into_past = start != previous_start and _check_backdated(appointment=appointment, by=by, now=now, verb="move")
        _check_hours(appointment=appointment, by=by, override_hours=override_hours, now=now)
        if into_past:
            appointment.is_backdated = True
        _save_without_overlap(appointment, patient=appointment.patient, provider=provider, room=room)
        if into_past:
            local = previous_start.astimezone(appointment.local_zone)
            AppointmentStatusChange.objects.create(
                appointment=appointment,
                from_status=appointment.status,
                to_status=appointment.status,
                changed_by=by,
                changed_at=now,
                reason=f"moved into the past (was {local:%Y-%m-%d %H:%M}; clinic-admin entry)",
            )
        appointment_moved(
            appointment=appointment, previous_start=previous_start, previous_location_id=previous_location_id, now=now
        )
        if was != (appointment.provider_id, appointment.room, appointment.start, appointment.end):
            _freed(appointment, provider_id=was[0], room=was[1], start=was[2], end=was[3])
    return appointment


def _freed(appointment: Appointment, *, provider_id: int, room: Room, start: dt.datetime, end: dt.datetime) -> None:
    """Offer the time the appointment no longer holds to the waitlist (a row in this transaction)."""
    from scheduling.waitlist import slot_freed  # the waitlist books through this module: imported late

    slot_freed(appointment=appointment, provider_id=provider_id, room=room, start=start, end=end, now=timezone.now())


def appointment_status_set(
    *, appointment: Appointment, status: str, by: Actor, reason: str = "", via: str = Appointment.ConfirmedVia.STAFF
) -> Appointment:
    """Change an appointment's status along the allowed transitions, recording who and when.

    A confirmation records when and VIA what (staff, or the patient's SMS reply); leaving booked or
    confirmed withdraws the visit's reminders, and a cancellation tells the patient; time an appointment
    stops holding is offered to the waitlist.
    """
    if status not in S.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    prompt = Appointment.STATUSES[S(status)].reason_prompt
    if prompt and not reason.strip():
        raise ValidationError({"reason": prompt})
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().select_related("room__location").get(pk=appointment.pk)
        if not Appointment.TRANSITIONS.allows(appointment.status, status):
            raise ValidationError(
                {
                    "status": f"A {appointment.get_status_display().lower()} appointment cannot become "
                    f"{S(status).label.lower()}."
                }
            )
        now = timezone.now()
        _check_timing(appointment, status=status, now=now)
        previous = appointment.status
        appointment.status = status
        update = ["status", "updated_at"]
        if status == S.CANCELLED:
            appointment.cancellation_reason = reason.strip()
            update.append("cancellation_reason")
        if status == S.CONFIRMED:
            appointment.confirmed_at, appointment.confirmed_via = now, via
            update += ["confirmed_at", "confirmed_via"]
        appointment.save(update_fields=update)
        _record(appointment, from_status=previous, by=by, now=now, reason=reason.strip())
        if previous not in Appointment.INACTIVE_STATUSES and not appointment.is_active:
            _freed(appointment, provider_id=appointment.provider_id, room=appointment.room, start=appointment.start,
                   end=appointment.end)  # fmt: skip
        appointment_status_changed(appointment=appointment, previous=previous, now=now)
    return appointment


def appointment_cancel(*, appointment: Appointment, by: Actor, reason: str) -> Appointment:
    """Cancel an appointment with a reason; its time becomes free again."""
    return appointment_status_set(appointment=appointment, status=S.CANCELLED, by=by, reason=reason)


def _check_timing(appointment: Appointment, *, status: str, now: dt.datetime) -> None:
    """Refuse a no-show before the start and a check-in on another day than the appointment's (its zone)."""
    zone = appointment.local_zone
    start = appointment.start.astimezone(zone)
    if status == S.NO_SHOW and now < appointment.start:
        raise ValidationError(
            {"status": f"The appointment starts at {start:%H:%M} on {start:%a %d %b}: it cannot be a no-show yet."}
        )
    if status == S.CHECKED_IN and now.astimezone(zone).date() != start.date():
        raise ValidationError({"status": f"The appointment is on {start:%a %d %b}: check in on that day only."})


def undo_window() -> dt.timedelta:
    """Return how long after a status change its author (or a clinic admin) may undo it."""
    return dt.timedelta(minutes=settings.SCHEDULING_STATUS_UNDO_MINUTES)


def status_undo_problem(*, change: AppointmentStatusChange | None, current: str, by: Actor, now: dt.datetime) -> str:
    """Return why BY cannot undo CHANGE (an appointment's last status change) now, or "" when they can."""
    if change is None or not change.from_status:
        return "There is no status change to undo."
    if change.is_undo:
        return "This change is already an undo; change the status again instead."
    if change.to_status != current or not Appointment.UNDO_TRANSITIONS.allows(current, change.from_status):
        return "The status changed since; there is nothing to undo."
    if now - change.changed_at > undo_window():
        return f"Status changes can be undone for {settings.SCHEDULING_STATUS_UNDO_MINUTES} minutes only."
    if by is None or (by.pk != change.changed_by_id and not is_clinic_admin(by)):
        return "Only the person who changed the status, or a clinic admin, can undo it."
    return ""


def appointment_status_undo(*, appointment: Appointment, by: Actor) -> Appointment:
    """Take back the appointment's last status change within the undo window, recording it as an undo."""
    now = timezone.now()
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        change = appointment.status_changes.order_by("-changed_at", "-id").first()
        problem = status_undo_problem(change=change, current=appointment.status, by=by, now=now)
        if problem:
            raise ValidationError({"status": problem})
        assert change is not None  # no problem means there is a change to undo
        previous = appointment.status
        appointment.status = change.from_status
        if previous == S.CANCELLED:
            appointment.cancellation_reason = ""
        if previous == S.CONFIRMED and appointment.status == S.BOOKED:
            appointment.confirmed_at, appointment.confirmed_via = None, ""
        if previous in Appointment.INACTIVE_STATUSES and appointment.is_active:
            # Its time was free for a while: someone may have been booked into it since.
            _save_without_overlap(
                appointment, patient=appointment.patient, provider=appointment.provider, room=appointment.room
            )
        else:
            appointment.save(
                update_fields=["status", "cancellation_reason", "confirmed_at", "confirmed_via", "updated_at"]
            )
        _record(appointment, from_status=previous, by=by, now=now, reason="undo", is_undo=True)
        appointment_status_changed(appointment=appointment, previous=previous, now=now)
        if previous in Appointment.INACTIVE_STATUSES and appointment.is_active:
            from scheduling.waitlist import slot_taken_back  # imported late, as in _freed

            slot_taken_back(appointment=appointment)
    return appointment
