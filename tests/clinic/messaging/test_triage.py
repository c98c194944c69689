"""The triage inbox service: what lands there, in which order, handled by whom, answered how."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.core.exceptions import ValidationError

from clinic.messaging.consent import consent_change
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import InboundMessage, Message, TriageAnswer, TriageItem
from clinic.messaging.triage import (
    TriageContext,
    _context_providers,
    triage_answer,
    triage_context_register,
    triage_handle,
    triage_open,
)
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
NOON_NY = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)  # inside the send window
NIGHT_NY = dt.datetime(2026, 3, 3, 3, 0, tzinfo=dt.UTC)  # 22:00 in New York: quiet hours
SIDS = itertools.count()


@pytest.fixture(autouse=True)
def noon():
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


def receive(body: str, number: str) -> InboundMessage:
    inbound, _ = inbound_sms_receive(provider_message_id=f"SM{next(SIDS):032d}", from_number=number, body=body)
    return inbound


def test_a_reply_nobody_takes_becomes_a_routine_item_for_its_patient():
    patient = PatientFactory(mobile_phone="+12025550101")

    inbound = receive("still sore on the left side, also a bruise", "+12025550101")

    item = TriageItem.objects.get()
    assert (item.patient, item.inbound, item.reason, item.urgency) == (patient, inbound, "free_text", 10)
    assert (item.opened_at, item.handled_at, item.concerns, item.answers) == (NOON_NY, None, None, None)
    inbound.refresh_from_db()
    assert (inbound.handled_by, inbound.needs_review) == ("", True)


def test_r_asks_to_reschedule_and_an_unknown_number_is_said_so():
    PatientFactory(mobile_phone="+12025550102")

    receive("R", "+12025550102")
    receive("who is this?", "+13125550999")

    reschedule, unknown = TriageItem.objects.order_by("id")
    assert (reschedule.reason, reschedule.urgency, reschedule.detail) == ("reschedule", 20, "")
    assert (unknown.reason, unknown.patient, unknown.urgency) == ("unknown_number", None, 10)


def test_the_inbox_lists_the_most_urgent_first_then_whoever_waited_longest(noon):
    patient = PatientFactory()
    routine_old = triage_open(patient=patient, reason="free_text")
    noon.shift(dt.timedelta(minutes=5))
    urgent = triage_open(patient=patient, reason="symptom", urgency=TriageItem.Urgency.URGENT)
    soon = triage_open(patient=patient, reason="pain", urgency=TriageItem.Urgency.SOON)
    noon.shift(dt.timedelta(minutes=5))
    routine_new = triage_open(patient=patient, reason="free_text")
    urgent_new = triage_open(patient=patient, reason="symptom", urgency=TriageItem.Urgency.URGENT)

    assert list(TriageItem.objects.all()) == [urgent, urgent_new, soon, routine_old, routine_new]


def test_a_second_opener_of_one_reply_raises_its_urgency_and_fills_the_links():
    patient = PatientFactory(mobile_phone="+12025550103")
    inbound = receive("feeling odd since yesterday", "+12025550103")  # free text first
    link = UserFactory()  # any model instance stands for the visit the reply is about

    item = triage_open(
        patient=patient, reason="symptom", urgency=TriageItem.Urgency.URGENT, inbound=inbound, detail="dizzy",
        concerns=link,
    )  # fmt: skip

    assert TriageItem.objects.count() == 1
    item.refresh_from_db()
    assert (item.reason, item.urgency, item.detail, item.concerns) == ("symptom", 30, "dizzy", link)
    assert item.concerns_label == str(link)
    lower = triage_open(patient=patient, reason="free_text", inbound=inbound)
    assert (lower.pk, lower.reason, lower.urgency) == (item.pk, "symptom", 30)


def test_an_app_links_replies_nobody_took_through_its_context_provider():
    patient = PatientFactory(mobile_phone="+12025550104")
    visit, asked = UserFactory(), UserFactory()
    triage_context_register("test", lambda inbound: TriageContext(concerns=visit, answers=asked))
    try:
        receive("can I come earlier?", "+12025550104")
    finally:
        _context_providers.pop("test")

    item = TriageItem.objects.get()
    assert (item.patient, item.concerns, item.answers) == (patient, visit, asked)
    assert (item.concerns_label, item.answers_label) == (str(visit), str(asked))


def test_handling_records_who_and_when_once_and_clears_the_reply(noon):
    PatientFactory(mobile_phone="+12025550105")
    inbound = receive("thanks", "+12025550105")
    item = inbound.triage_item
    first, second = UserFactory(username="frontdesk1"), UserFactory(username="drsomeone")

    triage_handle(item=item, by=first)
    noon.shift(dt.timedelta(minutes=3))
    again = triage_handle(item=item, by=second)

    assert (again.handled_by, again.handled_at) == (first, NOON_NY)
    inbound.refresh_from_db()
    assert (inbound.needs_review, inbound.reviewed_by, inbound.reviewed_at) == (False, first, NOON_NY)


def test_an_answer_goes_through_the_outbox_as_a_text(sms_outbox, django_capture_on_commit_callbacks):
    patient = PatientFactory(mobile_phone="+12025550106")
    item = receive("is it normal to feel tired?", "+12025550106").triage_item
    user = UserFactory(username="drlee2")

    with django_capture_on_commit_callbacks(execute=True):
        answer = triage_answer(item=item, text="  Yes, for a day or two.\nCall us if it lasts. ", by=user)

    message = Message.objects.get(pk=answer.message_id)
    assert (answer.item, answer.by, answer.at) == (item, user, NOON_NY)
    assert (message.patient, message.purpose, message.source_key) == (patient, "triage_answer", f"triage:{item.pk}:1")
    assert (message.status, message.automated) == ("sent", True)
    # The first text we send to this number says how to opt out.
    assert message.body == "Riverside Pain Clinic: Yes, for a day or two. Call us if it lasts. Reply STOP to opt out."
    assert [m.body for m in sms_outbox] == [message.body]
    second = triage_answer(item=item, text="We booked you for Friday.", by=user)
    assert second.message.source_key == f"triage:{item.pk}:2"


@pytest.fixture(autouse=True)
def _clinic_name(settings):
    settings.CLINIC_NAME = "Riverside Pain Clinic"


def test_an_answer_to_an_opted_out_patient_is_refused_in_plain_words_and_stores_nothing(sms_outbox):
    patient = PatientFactory(mobile_phone="+12025550107")
    item = receive("question about my bill", "+12025550107").triage_item
    consent_change(patient=patient, channel="sms", granted=False, source="staff")
    before = Message.objects.count()

    with pytest.raises(ValidationError) as refused:
        triage_answer(item=item, text="Please call us.", by=None)

    assert refused.value.message_dict == {
        "text": ["The patient opted out of text messages (replied STOP); call them instead."]
    }
    assert (Message.objects.count(), TriageAnswer.objects.count(), len(sms_outbox)) == (before, 0, 0)


@pytest.mark.parametrize(
    ("patient_fields", "expected"),
    [
        ({"sms_consent": False}, "The patient has not agreed to text messages; call them instead."),
        ({"mobile_phone": ""}, "The patient has no mobile number on file; call them instead."),
    ],
)
def test_no_consent_or_no_number_refuses_the_answer(patient_fields, expected):
    patient = PatientFactory(**patient_fields)
    item = triage_open(patient=patient, reason="free_text")

    with pytest.raises(ValidationError) as refused:
        triage_answer(item=item, text="Please call us.", by=None)

    assert refused.value.message_dict == {"text": [expected]}
    assert TriageAnswer.objects.count() == 0


def test_an_unknown_number_or_an_empty_answer_cannot_be_sent():
    unknown = receive("hello?", "+13125550998").triage_item
    with pytest.raises(ValidationError) as nobody:
        triage_answer(item=unknown, text="Who is this?", by=None)
    assert nobody.value.message_dict == {
        "text": ["This reply came from a number no patient has; there is nobody to text back."]
    }
    item = triage_open(patient=PatientFactory(), reason="free_text")
    with pytest.raises(ValidationError) as empty:
        triage_answer(item=item, text="   ", by=None)
    assert empty.value.message_dict == {"text": ["Write the answer to send."]}


def test_an_answer_naming_a_diagnosis_or_too_long_is_refused_with_the_reason():
    item = triage_open(patient=PatientFactory(), reason="free_text")

    with pytest.raises(ValidationError) as phi:
        triage_answer(item=item, text="Your diagnosis is fine.", by=None)
    with pytest.raises(ValidationError) as long:
        triage_answer(item=item, text="word " * 70, by=None)  # over MESSAGING_SMS_MAX_SEGMENTS (2)

    assert phi.value.message_dict == {
        "text": ["This text cannot go out: SMS body names a diagnosis, medication or treated site: diagnosis."]
    }
    assert long.value.message_dict["text"][0].startswith("This text cannot go out: SMS body is ")
    assert (Message.objects.count(), TriageAnswer.objects.count()) == (0, 0)


def test_an_answer_written_at_night_waits_for_the_patients_send_window(sms_outbox):
    item = triage_open(patient=PatientFactory(), reason="free_text")

    with time_machine.travel(NIGHT_NY, tick=False):
        answer = triage_answer(item=item, text="We will call you tomorrow.", by=None)

    assert answer.message.status == "queued"
    assert answer.message.next_attempt_at == dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)  # 09:00 New York
    assert sms_outbox == []
