"""Replies racing each other on whichever database runs the tests: one offer per procedure, one visit per offer.

PostgreSQL: YES takes the offer row lock (SELECT ... FOR UPDATE) before booking; SQLite: every write
transaction is BEGIN IMMEDIATE. Both: RepeatOffer is one-to-one with its procedure and each text has
its own outbox key.
"""

import datetime as dt

import pytest
import time_machine

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message
from scheduling.models import Appointment
from tests.racing import race
from tests.tpi.test_repeat_offers import NOW, PHONE, at, clinic, clock  # noqa: F401  (the fixtures)
from tpi.models import RepeatOffer

pytestmark = pytest.mark.django_db(transaction=True)


def receive(body: str, sid: str, when: dt.datetime):
    with time_machine.travel(when, tick=False):
        return inbound_sms_receive(provider_message_id=sid, from_number=PHONE, body=body)


def test_the_same_answer_delivered_twice_at_once_offers_once(clinic):  # noqa: F811
    results, failures = race(2, lambda i: receive("7", "SM-answer", NOW))

    assert failures == []
    assert sorted(created for _, created in results) == [False, True]
    assert RepeatOffer.objects.count() == 1
    assert Message.objects.filter(purpose="repeat_offer").count() == 1


def test_two_yes_at_once_book_one_visit(clinic):  # noqa: F811
    receive("7", "SM-answer", NOW)
    receive("BOOK", "SM-book", NOW + dt.timedelta(minutes=1))

    results, failures = race(2, lambda i: receive("YES", f"SM-yes-{i}", NOW + dt.timedelta(minutes=2)))

    assert failures == []
    offer = RepeatOffer.objects.get()
    visit = Appointment.objects.get()
    assert (offer.status, offer.appointment, visit.start) == ("booked", visit, at(12, 1, 8))
    assert sorted(inbound.handled_by for inbound, _ in results) == ["tpi.repeat_replies.handle"] * 2
    assert Message.objects.filter(purpose="appointment_booked").count() == 1
