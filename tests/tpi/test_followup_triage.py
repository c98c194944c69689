"""Follow-up replies that need a person reach the triage inbox linked to the procedure and the follow-up."""

import datetime as dt
import itertools

import pytest
import time_machine

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import TriageItem
from tests.factories import PatientFactory, signed_procedure
from tpi.models import FollowUp

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 12, 16, 0, tzinfo=dt.UTC)
SENT = NOW - dt.timedelta(hours=2)
PHONE = "+12025550166"
SIDS = itertools.count(1)


@pytest.fixture
def procedure():
    patient = PatientFactory(mobile_phone=PHONE)
    with time_machine.travel(SENT - dt.timedelta(days=3), tick=False):
        procedure = signed_procedure(performed_at=SENT - dt.timedelta(days=3, hours=1), patient=patient, pain_before=5)
    FollowUp.objects.filter(procedure=procedure, kind="check_in").update(status="sent", sent_at=SENT)
    return procedure


def receive(body: str, *, phone: str = PHONE):
    with time_machine.travel(NOW, tick=False):
        inbound, _ = inbound_sms_receive(provider_message_id=f"SM{next(SIDS):032d}", from_number=phone, body=body)
    return inbound


def assert_linked(item: TriageItem, procedure) -> None:
    check_in = procedure.follow_ups.get(kind="check_in")
    assert (item.patient, item.concerns, item.answers) == (procedure.patient, procedure, check_in)
    assert item.concerns_label == "TPI procedure 2026-03-09 09:00"  # clinic time (New York)
    assert item.answers_label == "72-hour check-in sent 2026-03-12 10:00"


@pytest.mark.parametrize(
    ("body", "level", "detail"),
    [
        ("8", 7, "pain 8/10, worse than before the procedure (5/10)"),
        ("7", 7, "pain 7/10, worse than before the procedure (5/10)"),
        ("6", 9, "pain 6/10, worse than before the procedure (5/10)"),  # below the level, but worse than before
        ("9/10", 9, "pain 9/10, worse than before the procedure (5/10)"),
    ],
)
def test_a_high_or_worse_pain_score_is_stored_and_needs_a_person(procedure, settings, body, level, detail):
    settings.TPI_TRIAGE_PAIN_LEVEL = level

    inbound = receive(body)

    item = TriageItem.objects.get()
    assert (item.inbound, item.reason, item.urgency, item.detail) == (inbound, "pain", 20, detail)
    assert_linked(item, procedure)
    assert procedure.follow_ups.get(kind="check_in").status == "answered"
    assert (inbound.handled_by, inbound.needs_review) == ("tpi.replies.handle", True)


def test_a_pain_score_below_the_level_and_not_worse_needs_nobody(procedure):
    inbound = receive("5")

    assert TriageItem.objects.count() == 0
    assert inbound.needs_review is False


def test_a_symptom_word_is_urgent_and_linked(procedure):
    inbound = receive("Some BLEEDING at the site and a fever tonight")

    item = TriageItem.objects.get()
    assert (item.reason, item.urgency, item.detail) == ("symptom", 30, "mentions bleeding, fever")
    assert_linked(item, procedure)
    assert (inbound.handled_by, inbound.needs_review) == ("tpi.replies.handle", True)
    assert procedure.follow_ups.get(kind="check_in").status == "sent"  # no pain score in it


def test_the_symptom_list_is_a_setting_and_whole_words_only(procedure, settings):
    settings.TPI_TRIAGE_SYMPTOM_WORDS = ["rash"]

    receive("a rash on my neck")
    receive("feeling brash today")  # not the word "rash"

    urgent, routine = TriageItem.objects.all()
    assert (urgent.reason, urgent.detail, routine.reason) == ("symptom", "mentions rash", "free_text")


def test_a_symptom_without_a_recent_follow_up_is_still_urgent():
    patient = PatientFactory(mobile_phone="+12025550165")

    receive("numbness in my arm", phone="+12025550165")

    item = TriageItem.objects.get()
    assert (item.patient, item.reason, item.urgency) == (patient, "symptom", 30)
    assert (item.concerns, item.answers) == (None, None)


def test_free_text_after_a_follow_up_is_linked_to_it(procedure):
    receive("7")  # answered first
    inbound = receive("still sore on the left side, also a bruise")

    item = inbound.triage_item
    assert (item.reason, item.urgency) == ("free_text", 10)
    assert_linked(item, procedure)
