"""The BOOK / CITA reply: books the next injection of an active plan and confirms it by SMS."""

import datetime as dt

import pytest

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message
from scheduling.models import Appointment
from tests.tpi.plan_setup import at, make_plan
from tpi.plan_replies import is_book_request

PHONE = "+12025550143"


def _reply(body: str, *, provider_message_id: str = "SM1", from_number: str = PHONE):
    inbound, created = inbound_sms_receive(provider_message_id=provider_message_id, from_number=from_number, body=body)
    assert created
    return inbound


@pytest.mark.parametrize("body", ["BOOK", "book", " Book! ", "CITA", "cita.", "Cita"])
def test_book_and_cita_book_the_next_injection_and_confirm_it(
    plan_clinic, sms_outbox, django_capture_on_commit_callbacks, body
):
    # Far beyond the daily job's horizon: only the patient's request books it now.
    plan = make_plan(plan_clinic, start_date=dt.date(2026, 6, 2), injections=2, interval_weeks=4)

    with django_capture_on_commit_callbacks(execute=True):
        inbound = _reply(body)

    inbound.refresh_from_db()
    assert (inbound.handled_by, inbound.needs_review, inbound.kind) == ("tpi.plan_replies.handle", False, "reply")
    first, second = plan.occurrences.order_by("sequence")
    assert (first.status, first.appointment.start) == ("booked", at(2026, 6, 2, 10))
    assert (second.status, second.appointment) == ("planned", None)
    assert Appointment.objects.count() == 1
    assert [(m.to, m.body) for m in sms_outbox] == [
        (
            PHONE,
            "Riverside Pain Clinic: you are booked for Tue 2 Jun, 10:00 AM. To change it, call (555) 555-0100. "
            "Reply STOP to opt out.",
        )
    ]
    assert Message.objects.get().source_key == f"appointment:{first.appointment_id}:booked"


def test_a_second_book_books_the_following_injection(plan_clinic, sms_outbox, django_capture_on_commit_callbacks):
    plan = make_plan(plan_clinic, start_date=dt.date(2026, 6, 2), injections=2, interval_weeks=4)

    with django_capture_on_commit_callbacks(execute=True):
        _reply("BOOK", provider_message_id="SM1")
    with django_capture_on_commit_callbacks(execute=True):
        _reply("BOOK", provider_message_id="SM2")

    assert [o.appointment.start for o in plan.occurrences.order_by("sequence")] == [
        at(2026, 6, 2, 10),
        at(2026, 6, 30, 10),
    ]
    assert len(sms_outbox) == 2


def test_the_same_webhook_twice_books_once(plan_clinic, sms_outbox, django_capture_on_commit_callbacks):
    make_plan(plan_clinic, start_date=dt.date(2026, 6, 2), injections=2)

    with django_capture_on_commit_callbacks(execute=True):
        _reply("BOOK")
        inbound_sms_receive(provider_message_id="SM1", from_number=PHONE, body="BOOK")

    assert Appointment.objects.count() == 1
    assert len(sms_outbox) == 1


def test_book_without_an_active_plan_goes_to_staff_review(plan_clinic, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbound = _reply("BOOK")

    inbound.refresh_from_db()
    assert (inbound.handled_by, inbound.needs_review) == ("", True)
    assert Appointment.objects.count() == 0
    assert sms_outbox == []


def test_book_from_an_unknown_number_goes_to_staff_review(plan_clinic, django_capture_on_commit_callbacks):
    make_plan(plan_clinic, injections=1)

    with django_capture_on_commit_callbacks(execute=True):
        inbound = _reply("BOOK", from_number="+13125550999")

    inbound.refresh_from_db()
    assert (inbound.patient, inbound.handled_by, inbound.needs_review) == (None, "", True)
    assert Appointment.objects.count() == 0


def test_other_replies_are_not_taken(plan_clinic, django_capture_on_commit_callbacks):
    make_plan(plan_clinic, injections=1)

    with django_capture_on_commit_callbacks(execute=True):
        inbound = _reply("please book me for Friday")

    inbound.refresh_from_db()
    assert (inbound.handled_by, inbound.needs_review) == ("", True)
    assert Appointment.objects.count() == 0


def test_stop_still_opts_out_and_books_nothing(plan_clinic, sms_outbox, django_capture_on_commit_callbacks):
    make_plan(plan_clinic, injections=1)

    with django_capture_on_commit_callbacks(execute=True):
        inbound = _reply("STOP")

    inbound.refresh_from_db()
    plan_clinic.patient.refresh_from_db()
    assert (inbound.kind, inbound.handled_by) == ("opt_out", "keyword:opt_out")
    assert plan_clinic.patient.sms_consent is False
    assert Appointment.objects.count() == 0


def test_book_when_no_slot_fits_leaves_the_occurrence_for_the_front_desk(
    plan_clinic, sms_outbox, django_capture_on_commit_callbacks
):
    plan_clinic.doctor.working_hours.all().delete()
    plan = make_plan(plan_clinic, start_date=dt.date(2026, 6, 2), injections=1)

    with django_capture_on_commit_callbacks(execute=True):
        inbound = _reply("BOOK")

    inbound.refresh_from_db()
    assert inbound.handled_by == "tpi.plan_replies.handle"
    occurrence = plan.occurrences.get()
    assert (occurrence.status, occurrence.reason) == (
        "needs_review",
        "No free slot at 10:00 on 2026-06-02 nor within 2 days of it.",
    )
    assert sms_outbox == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [("BOOK", True), ("b.o.o.k", True), ("Cita!", True), ("BOOKING", False), ("book 2", False), ("", False)],
)
def test_is_book_request(body, expected):
    assert is_book_request(body) is expected
