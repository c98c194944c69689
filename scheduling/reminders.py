"""What the patient hears about a visit: the confirmation when it is booked, moved or cancelled, and its reminders.

Called by the booking service (scheduling.booking) inside its transaction, so the admin, the API,
series and treatment plans all confirm and remind the same way. Confirmations go at once (the outbox
holds automated messages for the patient's send window and checks consent and channels); reminders
are AppointmentReminder rows due `lead` before the start, one per lead time of the visit type, which
the reminder sweep (scheduling.reminder_sweep) claims. A move withdraws the old time's reminders and
schedules the new time's; a cancellation, no-show or check-in withdraws them; messages still waiting
in the outbox (quiet hours) are withdrawn with them, so a stale reminder never leaves.
"""

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db.models import Q

from clinic.clock import patient_datetime
from clinic.messaging.consent import patient_channels
from clinic.messaging.models import Message
from clinic.messaging.outbox import message_queue, messages_withdraw
from clinic.messaging.queueing import message_build, messages_store
from clinic.models import Patient
from scheduling.models import REMINDABLE_STATUSES, Appointment, AppointmentReminder

logger = logging.getLogger(__name__)
R = AppointmentReminder.Status
REMINDER_PURPOSE = "appointment_reminder"
# The notice templates (scheduling/templates/messaging/<channel>/<template>.<lang>.txt) per event.
NOTICE_TEMPLATES = {"booked": "appointment_booked", "moved": "appointment_moved", "cancelled": "appointment_cancelled"}


def patient_when(appointment: Appointment, patient: Patient) -> str:
    """Return the visit's start as the patient reads it (their zone and language)."""
    return patient_datetime(appointment.start, time_zone=patient.time_zone, language=patient.preferred_language)


def _notice_prefix(appointment: Appointment) -> str:
    return f"appointment:{appointment.pk}:"


def _withdraw_notices(appointment: Appointment, *, reason: str) -> None:
    """Withdraw the appointment's earlier notices still waiting in the outbox (a booking notice held for the
    morning says nothing true once the visit moved or was cancelled)."""
    keys = (
        Message.objects.filter(source_key__startswith=_notice_prefix(appointment), status=Message.Status.QUEUED)
        .values_list("source_key", flat=True)
        .distinct()
    )
    for key in list(keys):
        if key:
            messages_withdraw(source_key=key, reason=reason)


def appointment_notify(*, appointment: Appointment, event: str, now: dt.datetime) -> list[Message]:
    """Queue the EVENT notice (booked, moved, cancelled) of a visit still ahead on the patient's channels.

    Nothing for a visit type without confirmations, a visit already started (a back-dated entry) or a
    patient who wants no automated messages; the outbox skips channels without consent. A message that
    cannot be composed is logged, never raised: the booking stands.
    """
    if not appointment.appointment_type.send_confirmations or appointment.start <= now:
        return []
    patient = appointment.patient
    _withdraw_notices(appointment, reason=f"appointment {event}")
    key = f"{_notice_prefix(appointment)}{event}"
    if event == "moved":  # one notice per new time (a second move to another time is news again)
        key += f":{int(appointment.start.timestamp())}"
    messages = []
    template = NOTICE_TEMPLATES[event]
    context = {"when": patient_when(appointment, patient), "where": appointment.room.location.name}
    for channel in patient_channels(patient):
        purpose = f"appointment_{event}"
        try:
            message = message_queue(
                patient=patient, channel=channel, purpose=purpose, template=template, context=context, source_key=key
            )
            messages.append(message)
        except ValidationError as exc:
            # The booking stands: the notice is recorded as skipped with the reason, for staff to see.
            logger.error("appointment %s: its %s notice could not be composed", appointment.pk, event)
            unsent = message_build(
                patient=patient, channel=channel, purpose=purpose, template=template, context=context, now=now,
                source_key=key, reason=f"message not composed: {'; '.join(exc.messages)}",
            )  # fmt: skip
            messages += messages_store(messages=[unsent], now=now)
    return messages


def reminders_schedule(*, appointment: Appointment, now: dt.datetime) -> list[AppointmentReminder]:
    """Create the reminders of the appointment's current start: one per lead time of its type not yet passed.

    A lead time already reminded of for this very start (a move back to it) is not scheduled again.
    """
    if appointment.status not in REMINDABLE_STATUSES:
        return []
    leads = [lead for lead in appointment.appointment_type.reminder_leads if appointment.start - lead > now]
    if not leads:
        return []
    taken = set(
        AppointmentReminder.objects.filter(appointment=appointment, for_start=appointment.start)
        .exclude(status=R.CANCELLED)
        .values_list("lead", flat=True)
    )
    rows = [
        AppointmentReminder(
            appointment=appointment, lead=lead, for_start=appointment.start, due_at=appointment.start - lead
        )
        for lead in leads
        if lead not in taken
    ]
    return AppointmentReminder.objects.bulk_create(rows)


def reminders_withdraw(*, appointment: Appointment, reason: str, now: dt.datetime) -> int:
    """Withdraw the appointment's reminders that have not reached the patient; return how many.

    Scheduled ones are cancelled; a sent one whose messages all still wait in the outbox is called back
    and cancelled too. The sweep holds a reminder's row lock while it sends: this UPDATE waits for it.
    """
    withdrawn = AppointmentReminder.objects.filter(appointment=appointment, status=R.SCHEDULED).update(
        status=R.CANCELLED, status_reason=reason[:200], updated_at=now
    )
    waiting = AppointmentReminder.objects.filter(appointment=appointment, status=R.SENT, for_start__gt=now)
    for reminder in waiting:
        keys = Message.objects.filter(source_key=reminder.source_key)
        if not keys.exists() or keys.filter(~Q(status=Message.Status.QUEUED)).exists():
            continue  # something already left the outbox: the patient may have it
        messages_withdraw(source_key=reminder.source_key, reason=reason)
        withdrawn += AppointmentReminder.objects.filter(pk=reminder.pk, status=R.SENT).update(
            status=R.CANCELLED, status_reason=f"withdrawn before it left: {reason}"[:200], updated_at=now
        )
    return withdrawn


def appointment_booked(*, appointment: Appointment, now: dt.datetime) -> None:
    """Confirm a new booking and schedule its reminders (booking service, inside its transaction)."""
    reminders_schedule(appointment=appointment, now=now)
    appointment_notify(appointment=appointment, event="booked", now=now)


def appointment_moved(
    *, appointment: Appointment, previous_start: dt.datetime, previous_location_id: int, now: dt.datetime
) -> None:
    """Reschedule the reminders of a moved visit and tell the patient when its time or place changed."""
    if appointment.start != previous_start:
        reminders_withdraw(appointment=appointment, reason="appointment moved", now=now)
        reminders_schedule(appointment=appointment, now=now)
    if appointment.start != previous_start or appointment.room.location_id != previous_location_id:
        appointment_notify(appointment=appointment, event="moved", now=now)


def appointment_status_changed(*, appointment: Appointment, previous: str, now: dt.datetime) -> None:
    """Withdraw reminders when a visit stops being ahead, schedule them when it comes back (an undo), and
    tell the patient of a cancellation."""
    was, now_remindable = previous in REMINDABLE_STATUSES, appointment.status in REMINDABLE_STATUSES
    if was and not now_remindable:
        reminders_withdraw(appointment=appointment, reason=f"appointment {appointment.status}", now=now)
    elif now_remindable and not was:
        reminders_schedule(appointment=appointment, now=now)
    if appointment.status == Appointment.Status.CANCELLED:
        appointment_notify(appointment=appointment, event="cancelled", now=now)
