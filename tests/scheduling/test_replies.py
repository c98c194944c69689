"""SMS answers to reminders (scheduling.replies): C / YES / SI confirm, R asks to reschedule, the rest is not ours."""

import itertools

import pytest

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message, TriageItem
from scheduling.booking import appointment_book, appointment_move
from scheduling.models import Appointment, AppointmentReminder
from scheduling.reminder_sweep import reminders_sweep
from tests.scheduling.conftest import at

_ids = itertools.count()


def book(c, *, start, patient=None):
    return appointment_book(
        patient=patient or c.patient, provider=c.doctor, room=c.room, appointment_type=c.tpi, start=start,
        by=c.frontdesk,
    )  # fmt: skip


def remind(frozen, instant):
    """Sweep at INSTANT and mark the reminder SMS sent (what delivery does)."""
    frozen.move_to(instant)
    reminders_sweep()
    Message.objects.filter(purpose="appointment_reminder", status="queued").update(status="sent", sent_at=instant)


def reply(patient, body):
    inbound, _ = inbound_sms_receive(
        provider_message_id=f"SM-{next(_ids)}", from_number=str(patient.mobile_phone), body=body
    )
    inbound.refresh_from_db()
    return inbound


@pytest.fixture
def reminded(clinic, frozen):
    """A visit Thu 3 Dec 10:00 whose 24-hour reminder went out Wed 10:00; the clock at Wed 10:30."""
    appointment = book(clinic, start=at(2026, 12, 3, 10))
    remind(frozen, at(2026, 12, 2, 10))
    frozen.move_to(at(2026, 12, 2, 10, 30))
    return appointment


@pytest.mark.parametrize("body", ["C", "c", " C. ", "YES", "yes!", "Sí", "si", "Confirm"])
def test_c_yes_and_si_confirm_the_reminded_visit(clinic, reminded, body):
    inbound = reply(clinic.patient, body)

    reminded.refresh_from_db()
    assert (reminded.status, reminded.confirmed_via, reminded.confirmed_at) == (
        "confirmed",
        "sms",
        at(2026, 12, 2, 10, 30),
    )
    assert (inbound.handled_by, inbound.needs_review) == ("scheduling.replies.handle", False)


def test_a_second_c_changes_nothing_and_is_still_taken(clinic, reminded, frozen):
    reply(clinic.patient, "C")
    frozen.move_to(at(2026, 12, 2, 11))
    inbound = reply(clinic.patient, "C")

    reminded.refresh_from_db()
    assert reminded.confirmed_at == at(2026, 12, 2, 10, 30)
    assert reminded.status_changes.filter(to_status="confirmed").count() == 1
    assert inbound.needs_review is False


def test_r_records_the_request_and_leaves_the_reply_for_staff(clinic, reminded):
    inbound = reply(clinic.patient, "R")

    reminded.refresh_from_db()
    assert (reminded.status, reminded.reschedule_requested_at) == ("booked", at(2026, 12, 2, 10, 30))
    assert (inbound.handled_by, inbound.needs_review) == ("", True)
    # One triage item, soon, linked to the visit and the reminder it answers.
    item = TriageItem.objects.get(inbound=inbound)
    reminder = AppointmentReminder.objects.get(appointment=reminded)
    assert (item.reason, item.urgency, item.patient) == ("reschedule", TriageItem.Urgency.SOON, clinic.patient)
    assert (item.concerns, item.concerns_label) == (reminded, "TPI procedure 2026-12-03 10:00")
    assert (item.answers, item.answers_label) == (reminder, "Reminder sent 2026-12-02 10:00")

    appointment_move(appointment=reminded, start=at(2026, 12, 4, 11), by=clinic.frontdesk)  # the desk answers it
    reminded.refresh_from_db()
    assert reminded.reschedule_requested_at is None


def test_yes_after_a_later_check_in_is_not_taken_but_c_still_is(clinic, reminded):
    # The check-in asked for a pain score after the reminder: a bare YES answers that, not the reminder.
    Message.objects.create(
        patient=clinic.patient, channel="sms", purpose="check_in", template="check_in", status="sent",
        sent_at=at(2026, 12, 2, 10, 15), body="...",
    )  # fmt: skip

    inbound = reply(clinic.patient, "YES")
    reminded.refresh_from_db()
    assert (reminded.status, inbound.needs_review, inbound.handled_by) == ("booked", True, "")

    reply(clinic.patient, "C")
    reminded.refresh_from_db()
    assert reminded.status == "confirmed"


def test_a_confirmation_notice_after_the_reminder_does_not_hide_it(clinic, reminded):
    book(clinic, start=at(2026, 12, 10, 10))  # its booking notice expects no answer

    reply(clinic.patient, "YES")

    reminded.refresh_from_db()
    assert reminded.status == "confirmed"


def test_the_latest_reminder_is_the_visit_confirmed(clinic, reminded, frozen):
    later = book(clinic, start=at(2026, 12, 4, 15))
    remind(frozen, at(2026, 12, 3, 15))  # the later visit's reminder, after the first one
    frozen.move_to(at(2026, 12, 3, 15, 5))

    reply(clinic.patient, "C")

    assert dict(Appointment.objects.values_list("pk", "status")) == {reminded.pk: "booked", later.pk: "confirmed"}


@pytest.mark.parametrize("body", ["C", "YES", "R"])
def test_nothing_to_answer_goes_to_review(clinic, frozen, body):
    book(clinic, start=at(2026, 12, 3, 10))  # reminder not sent yet

    inbound = reply(clinic.patient, body)

    assert (inbound.needs_review, inbound.handled_by) == (True, "")
    assert Appointment.objects.get().reschedule_requested_at is None


def test_a_reply_after_the_visit_started_or_moved_goes_to_review(clinic, reminded, frozen):
    appointment_move(appointment=reminded, start=at(2026, 12, 5, 10), by=clinic.frontdesk)

    inbound = reply(clinic.patient, "C")  # the reminder announced the old time

    reminded.refresh_from_db()
    assert (reminded.status, inbound.needs_review) == ("booked", True)
    frozen.move_to(at(2026, 12, 5, 10, 1))
    assert reply(clinic.patient, "C").needs_review is True


def test_a_cancelled_visit_is_not_confirmed(clinic, reminded):
    from scheduling.booking import appointment_cancel

    appointment_cancel(appointment=reminded, by=clinic.frontdesk, reason="patient called")

    inbound = reply(clinic.patient, "C")

    reminded.refresh_from_db()
    assert (reminded.status, inbound.needs_review) == ("cancelled", True)


@pytest.mark.parametrize("body", ["7", "BOOK", "see you then", "CANCEL"])
def test_other_replies_are_not_ours(clinic, reminded, body):
    inbound = reply(clinic.patient, body)

    reminded.refresh_from_db()
    assert reminded.status == "booked"
    assert "scheduling" not in inbound.handled_by
