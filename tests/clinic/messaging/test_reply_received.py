"""The reply_received signal: every receiver is asked, none ranks above another, nobody -> staff review."""

import datetime as dt
import logging

import pytest
import time_machine

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import InboundMessage
from clinic.messaging.signals import reply_received
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 12, 16, 0, tzinfo=dt.UTC)
PHONE = "+12025550188"
asked: list[str] = []


def takes_everything(sender, inbound, **kwargs):
    asked.append("everything")
    return True


def takes_nothing(sender, inbound, **kwargs):
    asked.append("nothing")
    return False


@pytest.fixture
def receivers():
    """Connect the two test receivers (after tpi's, which ignore these replies) for one test."""
    asked.clear()
    reply_received.connect(takes_everything)
    reply_received.connect(takes_nothing)
    yield
    reply_received.disconnect(takes_everything)
    reply_received.disconnect(takes_nothing)


def receive(body: str, sid: str) -> InboundMessage:
    with time_machine.travel(NOW, tick=False):
        inbound, _ = inbound_sms_receive(provider_message_id=sid, from_number=PHONE, body=body)
    return inbound


def test_every_receiver_is_asked_even_after_one_took_the_reply(receivers):
    PatientFactory(mobile_phone=PHONE)

    inbound = receive("when is my visit?", "SM" + "a" * 32)

    assert asked == ["everything", "nothing"]
    assert (inbound.kind, inbound.needs_review) == ("reply", False)
    assert inbound.handled_by == "tests.clinic.messaging.test_reply_received.takes_everything"


def test_a_reply_two_receivers_take_is_recorded_with_both_and_logged(receivers, caplog):
    PatientFactory(mobile_phone=PHONE)
    reply_received.connect(takes_everything, dispatch_uid="second")
    try:
        with caplog.at_level(logging.ERROR, logger="clinic.messaging.inbound"):
            inbound = receive("when is my visit?", "SM" + "b" * 32)
    finally:
        reply_received.disconnect(dispatch_uid="second")

    name = "tests.clinic.messaging.test_reply_received.takes_everything"
    assert inbound.handled_by == f"{name}, {name}"
    assert inbound.needs_review is False
    assert [r.getMessage() for r in caplog.records] == [
        f"inbound {inbound.pk} was taken by more than one reply receiver: {name}, {name}"
    ]


def test_a_reply_nobody_takes_goes_to_staff_review():
    PatientFactory(mobile_phone=PHONE)

    inbound = receive("when is my visit?", "SM" + "c" * 32)

    assert (inbound.kind, inbound.handled_by, inbound.needs_review) == ("reply", "", True)
