"""tpi.replies.handle: a number 0-10 answers the sender's latest open follow-up; anything else goes to staff."""

import datetime as dt
import itertools

import pytest
import time_machine

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message
from tests.factories import PatientFactory, signed_procedure
from tpi.models import FollowUp

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 12, 16, 0, tzinfo=dt.UTC)
PHONE = "+12025550177"
SIDS = itertools.count(1)


def procedure_with_sent_check_in(patient, *, sent_at=NOW - dt.timedelta(hours=2)):
    with time_machine.travel(sent_at - dt.timedelta(days=3), tick=False):
        procedure = signed_procedure(performed_at=sent_at - dt.timedelta(days=3, hours=1), patient=patient)
    FollowUp.objects.filter(procedure=procedure, kind="check_in").update(status="sent", sent_at=sent_at)
    return procedure


def receive(body: str, *, at=NOW, phone=PHONE):
    with time_machine.travel(at, tick=False):
        inbound, created = inbound_sms_receive(provider_message_id=f"SM{next(SIDS):032d}", from_number=phone,
                                               body=body)  # fmt: skip
    assert created
    return inbound


@pytest.fixture
def patient():
    return PatientFactory(mobile_phone=PHONE)


@pytest.mark.parametrize(("body", "score"), [("7", 7), ("0", 0), ("10", 10), (" 3/10 ", 3), ("5 de 10", 5)])
def test_a_number_is_stored_as_the_pain_score(patient, body, score):
    procedure = procedure_with_sent_check_in(patient)

    inbound = receive(body)

    follow_up = procedure.follow_ups.get(kind="check_in")
    assert (follow_up.status, follow_up.answer_pain_score, follow_up.answered_at) == ("answered", score, NOW)
    assert follow_up.status_reason == "answered by SMS"
    # At or above TPI_TRIAGE_PAIN_LEVEL (7) the answer also waits in the triage inbox (test_followup_triage.py).
    assert (inbound.handled_by, inbound.needs_review, inbound.kind) == ("tpi.replies.handle", score >= 7, "reply")
    assert Message.objects.count() == 0  # no thank-you: the patient gets nothing they did not ask for


@pytest.mark.parametrize("body", ["11", "I have 2 questions", "better thanks", "-1", "7.5"])
def test_anything_else_goes_to_staff_review(patient, body):
    procedure = procedure_with_sent_check_in(patient)

    inbound = receive(body)

    assert (inbound.handled_by, inbound.needs_review) == ("", True)
    assert procedure.follow_ups.get(kind="check_in").status == "sent"


def test_a_number_without_an_open_follow_up_goes_to_review(patient):
    with time_machine.travel(NOW - dt.timedelta(hours=1), tick=False):
        procedure = signed_procedure(performed_at=NOW - dt.timedelta(hours=2), patient=patient)

    inbound = receive("4")

    assert inbound.needs_review
    assert set(procedure.follow_ups.values_list("status", flat=True)) == {"scheduled"}


def test_a_number_after_the_reply_window_goes_to_review(patient, settings):
    procedure = procedure_with_sent_check_in(patient, sent_at=NOW - dt.timedelta(days=7, minutes=1))

    inbound = receive("4")

    assert inbound.needs_review
    assert procedure.follow_ups.get(kind="check_in").answer_pain_score is None
    settings.TPI_FOLLOWUP_REPLY_WINDOW = dt.timedelta(days=8)
    assert not receive("4").needs_review


def test_the_latest_open_follow_up_gets_the_answer(patient):
    older = procedure_with_sent_check_in(patient, sent_at=NOW - dt.timedelta(days=2))
    newer = procedure_with_sent_check_in(patient, sent_at=NOW - dt.timedelta(hours=1))

    receive("6")
    receive("2", at=NOW + dt.timedelta(minutes=5))

    assert newer.follow_ups.get(kind="check_in").answer_pain_score == 6
    assert older.follow_ups.get(kind="check_in").answer_pain_score == 2  # the next open one


def test_a_second_number_for_an_answered_follow_up_goes_to_review(patient):
    procedure = procedure_with_sent_check_in(patient)
    receive("6")

    second = receive("5", at=NOW + dt.timedelta(minutes=5))

    assert second.needs_review
    assert procedure.follow_ups.get(kind="check_in").answer_pain_score == 6


def test_a_number_from_an_unknown_phone_goes_to_review(patient):
    procedure = procedure_with_sent_check_in(patient)

    inbound = receive("6", phone="+12025550999")

    assert (inbound.patient_id, inbound.needs_review) == (None, True)
    assert procedure.follow_ups.get(kind="check_in").status == "sent"


def test_another_patients_follow_up_is_never_answered(patient):
    other = procedure_with_sent_check_in(PatientFactory(mobile_phone="+12025550178"))
    procedure_with_sent_check_in(patient, sent_at=NOW - dt.timedelta(days=30))  # outside the window

    assert receive("6").needs_review
    assert other.follow_ups.get(kind="check_in").status == "sent"


def test_stop_is_still_an_opt_out_not_an_answer(patient):
    procedure = procedure_with_sent_check_in(patient)

    inbound = receive("STOP")

    assert inbound.kind == "opt_out"
    assert procedure.follow_ups.get(kind="check_in").status == "sent"
    patient.refresh_from_db()
    assert patient.sms_consent is False
