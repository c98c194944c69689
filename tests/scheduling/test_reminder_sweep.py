"""The reminder sweep (scheduling.reminder_sweep), and the walks from booking to a confirmed visit."""

import pytest

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message
from clinic.models import Patient
from scheduling.booking import appointment_book, appointment_move
from scheduling.models import Appointment, AppointmentReminder
from scheduling.reminder_sweep import reminders_claim_due, reminders_sweep
from scheduling.tasks import reminders_sweep_task
from tests.factories import PatientFactory
from tests.scheduling.conftest import at

REMINDER = "Riverside Pain Clinic: reminder of your visit on {when}. Reply C to confirm or R to reschedule."


def book(c, *, start, patient=None):
    return appointment_book(
        patient=patient or c.patient, provider=c.doctor, room=c.room, appointment_type=c.tpi, start=start,
        by=c.frontdesk,
    )  # fmt: skip


def bodies(sms_outbox):
    return [m.body for m in sms_outbox]


def test_booking_confirmation_reminder_c_confirmed(clinic, frozen, sms_outbox, django_capture_on_commit_callbacks):
    frozen.move_to(at(2026, 11, 30, 10))
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(clinic, start=at(2026, 12, 3, 10))
    assert bodies(sms_outbox) == [
        "Riverside Pain Clinic: you are booked for Thu 3 Dec, 10:00 AM. To change it, call (555) 555-0100."
        " Reply STOP to opt out."  # the first text to the number says how to opt out
    ]

    frozen.move_to(at(2026, 12, 2, 9, 59))
    assert reminders_sweep()["sent"] == 0  # not due yet
    frozen.move_to(at(2026, 12, 2, 10, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_sweep() == {"sent": 1, "cancelled": 0, "skipped": 0, "failed": 0}
    assert bodies(sms_outbox)[1:] == [REMINDER.format(when="Thu 3 Dec, 10:00 AM")]

    frozen.move_to(at(2026, 12, 2, 10, 20))
    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = inbound_sms_receive(
            provider_message_id="SM-c", from_number=str(clinic.patient.mobile_phone), body="c"
        )

    appointment.refresh_from_db()
    inbound.refresh_from_db()
    assert (appointment.status, appointment.confirmed_at, appointment.confirmed_via) == (
        "confirmed",
        at(2026, 12, 2, 10, 20),
        "sms",
    )
    assert (inbound.handled_by, inbound.needs_review) == ("scheduling.replies.handle", False)
    change = appointment.status_changes.last()
    assert (change.from_status, change.to_status, change.changed_by, change.reason) == (
        "booked",
        "confirmed",
        None,
        "confirmed by the patient's SMS reply",
    )
    assert len(sms_outbox) == 2  # no message back


def test_booking_reminder_scheduled_move_only_the_new_reminder_is_sent(
    clinic, frozen, sms_outbox, django_capture_on_commit_callbacks
):
    frozen.move_to(at(2026, 11, 30, 10))
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(clinic, start=at(2026, 12, 3, 10))
        assert AppointmentReminder.objects.get().due_at == at(2026, 12, 2, 10)
        appointment_move(appointment=appointment, start=at(2026, 12, 4, 14), by=clinic.frontdesk)

    for instant in (at(2026, 12, 2, 10, 1), at(2026, 12, 3, 14, 1), at(2026, 12, 3, 15)):
        frozen.move_to(instant)
        with django_capture_on_commit_callbacks(execute=True):
            reminders_sweep()

    reminders = [m.body for m in sms_outbox if "reminder" in m.body]
    assert reminders == [REMINDER.format(when="Fri 4 Dec, 2:00 PM")]
    assert list(AppointmentReminder.objects.order_by("id").values_list("for_start", "status")) == [
        (at(2026, 12, 3, 10), "cancelled"),
        (at(2026, 12, 4, 14), "sent"),
    ]
    assert Message.objects.filter(purpose="appointment_reminder").count() == 1


def test_a_stale_reminder_is_checked_again_at_send_time(clinic, frozen, sms_outbox):
    moved = book(clinic, start=at(2026, 12, 3, 10))
    cancelled = book(clinic, start=at(2026, 12, 3, 11), patient=clinic.patient2)
    # Changed behind the booking service's back: the sweep still sends nothing stale.
    Appointment.objects.filter(pk=moved.pk).update(
        start=at(2026, 12, 3, 12), end=at(2026, 12, 3, 12, 30), blocked_end=at(2026, 12, 3, 12, 40)
    )
    Appointment.objects.filter(pk=cancelled.pk).update(status="cancelled", cancellation_reason="x")
    frozen.move_to(at(2026, 12, 2, 11, 30))

    assert reminders_sweep() == {"sent": 0, "cancelled": 2, "skipped": 0, "failed": 0}
    assert list(AppointmentReminder.objects.order_by("id").values_list("status_reason", flat=True)) == [
        "appointment moved",
        "appointment cancelled",
    ]
    assert not Message.objects.filter(purpose="appointment_reminder").exists()


def test_a_sweep_after_the_visit_started_or_outside_the_window_skips(clinic, frozen):
    clinic.tpi.reminder_lead_times = "2 hours"
    clinic.tpi.save()
    started = book(clinic, start=at(2026, 12, 3, 10))  # due Thu 08:00, swept only after 10:00
    early = book(clinic, start=at(2026, 12, 4, 8), patient=clinic.patient2)  # due Fri 06:00, window opens 09:00

    frozen.move_to(at(2026, 12, 3, 10, 5))
    assert reminders_sweep() == {"sent": 0, "cancelled": 0, "skipped": 1, "failed": 0}
    frozen.move_to(at(2026, 12, 4, 6, 30))
    assert reminders_sweep() == {"sent": 0, "cancelled": 0, "skipped": 1, "failed": 0}

    assert dict(AppointmentReminder.objects.values_list("appointment_id", "status_reason")) == {
        started.pk: "the visit had started",
        early.pk: "the patient's send window opens only after the visit starts",
    }
    assert not Message.objects.filter(purpose="appointment_reminder").exists()


def test_a_patient_without_a_channel_is_skipped_with_the_reasons(clinic, frozen):
    patient = PatientFactory(preferred_channel=Patient.Channel.BOTH, sms_consent=False, email="")
    book(clinic, start=at(2026, 12, 3, 10), patient=patient)
    frozen.move_to(at(2026, 12, 2, 10, 1))

    assert reminders_sweep()["skipped"] == 1
    assert AppointmentReminder.objects.get().status_reason == "sms: no sms consent; email: no email address"


def test_a_confirmed_visit_is_reminded_without_asking_again(clinic, frozen, sms_outbox):
    appointment = book(clinic, start=at(2026, 12, 3, 10))
    Appointment.objects.filter(pk=appointment.pk).update(status="confirmed", confirmed_at=at(2026, 11, 30, 7),
                                                         confirmed_via="staff")  # fmt: skip
    frozen.move_to(at(2026, 12, 2, 10, 1))

    reminders_sweep()

    assert Message.objects.get(purpose="appointment_reminder").body == (
        "Riverside Pain Clinic: reminder of your visit on Thu 3 Dec, 10:00 AM. See you then! To change it, "
        "call (555) 555-0100."
    )


def test_each_reminder_is_claimed_once_and_its_message_stored_once(clinic, frozen):
    patients = [PatientFactory() for _ in range(5)]
    for hour, patient in zip(range(10, 15), patients, strict=True):
        book(clinic, start=at(2026, 12, 3, hour), patient=patient)
    frozen.move_to(at(2026, 12, 3, 8))  # inside no window: the messages wait, the reminders are sent

    first = reminders_claim_due(now=at(2026, 12, 3, 8), limit=3)
    second = reminders_claim_due(now=at(2026, 12, 3, 8), limit=3)
    third = reminders_claim_due(now=at(2026, 12, 3, 8), limit=3)

    assert [len(first), len(second), len(third)] == [3, 2, 0]
    assert {r.status for r in first + second} == {"sent"}
    assert Message.objects.filter(purpose="appointment_reminder").count() == 5
    assert sorted(
        Message.objects.filter(purpose="appointment_reminder").values_list("source_key", flat=True)
    ) == sorted(f"reminder:{r.pk}" for r in first + second)


def test_a_batch_runs_the_same_queries_for_two_reminders_as_for_six_and_tells_who_is_due_to_opt_out(
    clinic, frozen, django_assert_max_num_queries
):
    patients = [PatientFactory() for _ in range(8)]
    for hour, patient in zip(range(9, 17), patients, strict=True):
        book(clinic, start=at(2026, 12, 3, hour), patient=patient)  # each booking's text names STOP
    untold = {patients[0].pk, patients[5].pk}
    Message.objects.filter(patient_id__in=untold).update(status="failed")  # their first text never went out
    frozen.move_to(at(2026, 12, 2, 17))

    with django_assert_max_num_queries(30) as small:
        assert len(reminders_claim_due(now=at(2026, 12, 2, 17), limit=2)) == 2
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(reminders_claim_due(now=at(2026, 12, 2, 17), limit=6)) == 6

    reminders = Message.objects.filter(purpose="appointment_reminder")
    assert {m.patient_id: m.body.endswith(" Reply STOP to opt out.") for m in reminders} == {
        p.pk: p.pk in untold for p in patients
    }


def test_the_database_allows_one_live_reminder_per_lead_and_start(clinic):
    from django.db import IntegrityError, transaction

    appointment = book(clinic, start=at(2026, 12, 3, 10))
    reminder = AppointmentReminder.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentReminder.objects.create(
            appointment=appointment, lead=reminder.lead, for_start=reminder.for_start, due_at=reminder.due_at
        )


def test_the_task_sweeps_and_queues_itself_again_while_more_are_due(clinic, frozen, settings):
    settings.SCHEDULING_REMINDER_SWEEP_BATCH = 1
    settings.SCHEDULING_REMINDER_SWEEP_MAX_BATCHES = 1
    book(clinic, start=at(2026, 12, 3, 10))
    book(clinic, start=at(2026, 12, 3, 11), patient=clinic.patient2)
    frozen.move_to(at(2026, 12, 3, 9))

    reminders_sweep_task.delay()  # eager: runs, finds one more due, queues itself again

    assert set(AppointmentReminder.objects.values_list("status", flat=True)) == {"sent"}


def test_the_beat_entry_is_registered():
    from clinic.celery import app

    entry = app.conf.beat_schedule["scheduling-reminders-sweep"]
    assert entry == {"task": "scheduling.reminders_sweep", "schedule": 60}
