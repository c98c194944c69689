"""The booking service's notices and reminder rows: booked, moved, cancelled, no-show, undo (scheduling.reminders)."""

import datetime as dt

import pytest

from clinic.messaging.models import ConsentEvent, Message
from clinic.models import Patient
from scheduling.booking import (
    appointment_book,
    appointment_cancel,
    appointment_move,
    appointment_status_set,
    appointment_status_undo,
)
from scheduling.models import Appointment, AppointmentReminder
from tests.factories import AppointmentTypeFactory, LocationFactory, PatientFactory, RoomFactory
from tests.scheduling.conftest import at

H = dt.timedelta(hours=1)


def book(c, *, start, patient=None, appointment_type=None, **kwargs):
    return appointment_book(
        patient=patient or c.patient,
        provider=c.doctor,
        room=kwargs.pop("room", c.room),
        appointment_type=appointment_type or c.tpi,
        start=start,
        by=c.frontdesk,
        **kwargs,
    )


def reminders(appointment):
    return list(
        AppointmentReminder.objects.filter(appointment=appointment)
        .order_by("id")
        .values_list("lead", "for_start", "due_at", "status", "status_reason")
    )


def notices(patient=None):
    rows = Message.objects.order_by("id")
    if patient is not None:
        rows = rows.filter(patient=patient)
    return list(rows.values_list("channel", "purpose", "status", "body"))


def test_a_booking_confirms_and_schedules_the_default_24_hour_reminder(clinic):
    appointment = book(clinic, start=at(2026, 12, 3, 10))

    assert reminders(appointment) == [(24 * H, at(2026, 12, 3, 10), at(2026, 12, 2, 10), "scheduled", "")]
    message = Message.objects.get()
    assert (message.channel, message.purpose, message.template, message.source_key) == (
        "sms",
        "appointment_booked",
        "appointment_booked",
        f"appointment:{appointment.pk}:booked",
    )
    assert message.body == (
        "Riverside Pain Clinic: you are booked for Thu 3 Dec, 10:00 AM. To change it, call (555) 555-0100."
        " Reply STOP to opt out."  # the first text to the number says how to opt out
    )
    # Booked at 07:00: the outbox holds it for the patient's send window (09:00).
    assert (message.status, message.next_attempt_at) == ("queued", at(2026, 11, 30, 9))


def test_lead_times_per_type_and_none_already_passed(clinic):
    clinic.tpi.reminder_lead_times = "2 days, 2 hours"
    clinic.tpi.save()
    tomorrow = book(clinic, start=at(2026, 12, 1, 10))  # 27 hours ahead: the 2-day reminder has passed
    later = book(clinic, start=at(2026, 12, 5, 10))

    assert reminders(tomorrow) == [(2 * H, at(2026, 12, 1, 10), at(2026, 12, 1, 8), "scheduled", "")]
    assert [(lead, due) for lead, _, due, _, _ in reminders(later)] == [
        (48 * H, at(2026, 12, 3, 10)),
        (2 * H, at(2026, 12, 5, 8)),
    ]


def test_a_type_with_no_reminders_or_no_confirmations(clinic):
    quiet = AppointmentTypeFactory(code="consult", name="Consult", reminder_lead_times="none", send_confirmations=False)
    clinic.room.appointment_types.add(quiet)

    appointment = book(clinic, start=at(2026, 12, 3, 10), appointment_type=quiet)

    assert reminders(appointment) == []
    assert Message.objects.count() == 0


def test_the_patients_channels_and_consent_decide_where_the_notice_goes(clinic):
    both = PatientFactory(preferred_channel=Patient.Channel.BOTH, email_consent=False)
    email_only = PatientFactory(preferred_channel=Patient.Channel.EMAIL, preferred_language="es")
    nothing = PatientFactory(preferred_channel=Patient.Channel.NONE)

    book(clinic, start=at(2026, 12, 3, 10), patient=both)
    book(clinic, start=at(2026, 12, 3, 11), patient=email_only)
    book(clinic, start=at(2026, 12, 3, 12), patient=nothing)

    assert [(c, s) for c, _, s, _ in notices(both)] == [("sms", "queued"), ("email", "skipped")]
    assert Message.objects.get(patient=both, channel="email").reason == "no email consent"
    email = Message.objects.get(patient=email_only)
    assert (email.channel, email.subject) == ("email", "Riverside Pain Clinic: su cita")
    assert "Tiene cita el jue 3/12, 11:00" in email.body
    assert notices(nothing) == []


def test_an_opted_out_patient_gets_no_notice_but_keeps_the_reminder_row(clinic):
    clinic.patient.sms_consent = False
    clinic.patient.save()
    ConsentEvent.objects.create(
        patient=clinic.patient, channel="sms", granted=False, source="reply", at=at(2026, 11, 1)
    )

    appointment = book(clinic, start=at(2026, 12, 3, 10))

    assert [(m.status, m.reason) for m in Message.objects.all()] == [("skipped", "opted out of sms")]
    assert [status for *_, status, _ in reminders(appointment)] == ["scheduled"]  # decided again when due


def test_a_back_dated_booking_tells_nobody(clinic, settings):
    admin = clinic.frontdesk
    admin.is_superuser = True
    admin.save()

    appointment = book(clinic, start=at(2026, 11, 29, 10))

    assert reminders(appointment) == []
    assert Message.objects.count() == 0


def test_a_move_withdraws_the_old_reminder_schedules_the_new_and_tells_the_patient(clinic):
    appointment = book(clinic, start=at(2026, 12, 3, 10))

    appointment_move(appointment=appointment, start=at(2026, 12, 4, 14), by=clinic.frontdesk)

    assert reminders(appointment) == [
        (24 * H, at(2026, 12, 3, 10), at(2026, 12, 2, 10), "cancelled", "appointment moved"),
        (24 * H, at(2026, 12, 4, 14), at(2026, 12, 3, 14), "scheduled", ""),
    ]
    # The booking notice still waited for 09:00: withdrawn, only the news of the move goes.
    assert notices() == [
        (
            "sms",
            "appointment_booked",
            "skipped",
            "Riverside Pain Clinic: you are booked for Thu 3 Dec, 10:00 AM. To change it, call (555) 555-0100."
            " Reply STOP to opt out.",
        ),
        (
            "sms",
            "appointment_moved",
            "queued",
            # The withdrawn notice never reached the patient: this one says how to opt out.
            "Riverside Pain Clinic: your visit is now on Fri 4 Dec, 2:00 PM. To change it, call (555) 555-0100."
            " Reply STOP to opt out.",
        ),
    ]
    assert Message.objects.get(purpose="appointment_booked").reason == "appointment moved"


def test_a_move_back_to_a_time_already_reminded_of_sends_no_second_reminder(clinic):
    appointment = book(clinic, start=at(2026, 12, 3, 10))
    AppointmentReminder.objects.filter(appointment=appointment).update(status="sent", sent_at=at(2026, 11, 30, 7))

    appointment_move(appointment=appointment, start=at(2026, 12, 4, 14), by=clinic.frontdesk)
    appointment_move(appointment=appointment, start=at(2026, 12, 3, 10), by=clinic.frontdesk)

    assert [(start, status) for _, start, _, status, _ in reminders(appointment)] == [
        (at(2026, 12, 3, 10), "sent"),
        (at(2026, 12, 4, 14), "cancelled"),
    ]


def test_a_move_to_another_room_at_the_same_time_and_place_keeps_reminders_and_says_nothing(clinic):
    appointment = book(clinic, start=at(2026, 12, 3, 10))
    before = reminders(appointment)

    appointment_move(appointment=appointment, start=at(2026, 12, 3, 10), room=clinic.room2, by=clinic.frontdesk)

    assert reminders(appointment) == before
    assert [purpose for _, purpose, _, _ in notices()] == ["appointment_booked"]


def test_a_move_to_another_location_at_the_same_time_tells_the_patient(clinic):
    elsewhere = RoomFactory(name="Uptown 1", location=LocationFactory(name="Uptown"))
    appointment = book(clinic, start=at(2026, 12, 3, 10))

    appointment_move(appointment=appointment, start=at(2026, 12, 3, 10), room=elsewhere, by=clinic.frontdesk)

    assert [purpose for _, purpose, _, _ in notices()] == ["appointment_booked", "appointment_moved"]
    assert [status for *_, status, _ in reminders(appointment)] == ["scheduled"]


def test_a_cancellation_withdraws_the_reminders_and_tells_the_patient(clinic):
    appointment = book(clinic, start=at(2026, 12, 3, 10))

    appointment_cancel(appointment=appointment, by=clinic.frontdesk, reason="patient called")

    assert reminders(appointment) == [
        (24 * H, at(2026, 12, 3, 10), at(2026, 12, 2, 10), "cancelled", "appointment cancelled")
    ]
    assert notices()[-1] == (
        "sms",
        "appointment_cancelled",
        "queued",
        "Riverside Pain Clinic: your visit on Thu 3 Dec, 10:00 AM is no longer booked. To book another, "
        "call (555) 555-0100. Reply STOP to opt out.",
    )


def test_undoing_a_cancellation_schedules_the_reminders_again(clinic):
    appointment = book(clinic, start=at(2026, 12, 3, 10))
    appointment_cancel(appointment=appointment, by=clinic.frontdesk, reason="patient called")

    appointment_status_undo(appointment=appointment, by=clinic.frontdesk)

    assert [status for *_, status, _ in reminders(appointment)] == ["cancelled", "scheduled"]


def test_a_no_show_or_a_check_in_withdraws_what_is_left(clinic, frozen):
    clinic.tpi.reminder_lead_times = "2 hours"
    clinic.tpi.save()
    first = book(clinic, start=at(2026, 11, 30, 12))
    second = book(clinic, start=at(2026, 11, 30, 14), patient=clinic.patient2)
    frozen.move_to(at(2026, 11, 30, 9, 30))

    appointment_status_set(appointment=first, status="checked_in", by=clinic.frontdesk)
    frozen.move_to(at(2026, 11, 30, 14, 30))
    AppointmentReminder.objects.filter(appointment=second).update(status="sent", sent_at=at(2026, 11, 30, 12))
    appointment_status_set(appointment=second, status="no_show", by=clinic.frontdesk)

    assert reminders(first)[0][3:] == ("cancelled", "appointment checked_in")
    assert reminders(second)[0][3] == "sent"  # it went out: history stays


def test_a_sent_reminder_still_waiting_in_the_outbox_is_called_back_on_cancel(clinic):
    appointment = book(clinic, start=at(2026, 12, 3, 10))
    reminder = AppointmentReminder.objects.get(appointment=appointment)
    AppointmentReminder.objects.filter(pk=reminder.pk).update(status="sent", sent_at=at(2026, 11, 30, 7))
    Message.objects.create(
        patient=clinic.patient, channel="sms", purpose="appointment_reminder", template="appointment_reminder",
        source_key=reminder.source_key, status="queued", next_attempt_at=at(2026, 11, 30, 9), body="x",
    )  # fmt: skip

    appointment_cancel(appointment=appointment, by=clinic.frontdesk, reason="patient called")

    reminder.refresh_from_db()
    assert (reminder.status, reminder.status_reason) == (
        "cancelled",
        "withdrawn before it left: appointment cancelled",
    )
    assert Message.objects.get(source_key=reminder.source_key).status == "skipped"


def test_staff_confirmation_is_recorded_and_undone(clinic):
    appointment = book(clinic, start=at(2026, 12, 3, 10))

    appointment_status_set(appointment=appointment, status="confirmed", by=clinic.frontdesk)
    appointment.refresh_from_db()
    assert (appointment.confirmed_at, appointment.confirmed_via) == (at(2026, 11, 30, 7), "staff")
    assert appointment.confirmation_text == "Confirmed by staff, 2026-11-30 07:00"

    appointment_status_undo(appointment=appointment, by=clinic.frontdesk)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.confirmed_at, appointment.confirmed_via) == ("booked", None, "")


@pytest.mark.parametrize(("at_", "via"), [(None, "sms"), (at(2026, 11, 30, 7), "")])
def test_the_database_refuses_a_confirmation_without_its_channel(clinic, at_, via):
    from django.db import IntegrityError, transaction

    appointment = book(clinic, start=at(2026, 12, 3, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(confirmed_at=at_, confirmed_via=via)
