"""Waitlist offers end to end on real PostgreSQL, Redis and Celery workers; Twilio is a local stub.

The stub counts the sends it accepted: what a real provider would have delivered to each phone.
"""

import collections
import datetime as dt
import time

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from clinic.clock import clinic_tz
from clinic.messaging.models import Message
from scheduling.booking import appointment_book, appointment_cancel
from scheduling.models import Appointment, FreedSlot, WaitlistOffer
from scheduling.tasks import waitlist_sweep_task
from scheduling.waitlist import waitlist_entry_create, waitlist_sweep
from tests.celery_worker import wait_until
from tests.factories import AppointmentTypeFactory, PatientFactory, ProviderFactory, RoomFactory, working_week
from tests.integration.test_messaging_outbox import FINAL, worker_env
from tests.racing import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
URL = "/webhooks/twilio/sms/"
ALWAYS_OPEN = {"MESSAGING_QUIET_HOURS_START": "00:00", "MESSAGING_QUIET_HOURS_END": "23:59:59"}


@pytest.fixture
def env(twilio_stub, settings):
    """Settings for this process and the workers: the send window always open, offers in batches of two."""
    assert connection.vendor == "postgresql"
    settings.MESSAGING_QUIET_HOURS_START, settings.MESSAGING_QUIET_HOURS_END = "00:00", "23:59:59"
    settings.SCHEDULING_WAITLIST_OFFER_BATCH = 2
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    return worker_env(
        twilio_stub, **ALWAYS_OPEN, SCHEDULING_WAITLIST_OFFER_BATCH="2", CELERY_BROKER_URL=settings.CELERY_BROKER_URL
    )


def visit_day(days_ahead: int) -> dt.datetime:
    """Return 11:00 clinic time DAYS_AHEAD days from today."""
    day = timezone.now().astimezone(clinic_tz()).date() + dt.timedelta(days=days_ahead)
    return dt.datetime.combine(day, dt.time(11), tzinfo=clinic_tz())


class Clinic:
    def __init__(self) -> None:
        self.doctor = working_week(ProviderFactory())
        self.room = RoomFactory(name="Room 1")
        self.tpi = AppointmentTypeFactory(code="tpi", name="TPI procedure")

    def book(self, start: dt.datetime) -> Appointment:
        return appointment_book(
            patient=PatientFactory(), provider=self.doctor, room=self.room, appointment_type=self.tpi, start=start,
            by=None,
        )  # fmt: skip

    def wait(self, **fields):
        return waitlist_entry_create(
            patient=PatientFactory(), appointment_type=self.tpi, location=self.room.location,
            until=timezone.now().date() + dt.timedelta(days=30), by=None, **fields,
        )  # fmt: skip


def offer_messages():
    return Message.objects.filter(purpose="waitlist_offer")


def all_final(messages) -> bool:
    statuses = list(messages.values_list("status", flat=True))
    return bool(statuses) and all(s in FINAL for s in statuses)


def test_two_sweeps_at_once_offer_each_waiting_patient_exactly_once(twilio_stub, celery_workers, env):
    twilio_stub.default_delay = 0.2
    celery_workers(concurrency=2, env=env)
    clinic = Clinic()
    first_day, second_day = visit_day(3), visit_day(4)
    visits = [clinic.book(first_day), clinic.book(second_day)]
    entries = [clinic.wait(weekdays=[first_day.weekday()]) for _ in range(2)]
    entries += [clinic.wait(weekdays=[second_day.weekday()]) for _ in range(2)]
    entries.append(clinic.wait(weekdays=[first_day.weekday()]))  # third in line: not in the first batch

    for visit in visits:  # each cancellation also publishes a sweep to the workers after commit
        appointment_cancel(appointment=visit, by=None, reason="patient is ill")
    waitlist_sweep_task.delay()
    _results, failures = race(2, lambda _: waitlist_sweep())  # and two sweeps here, at the same moment

    assert failures == []
    wait_until(lambda: offer_messages().count() == 4 and all_final(offer_messages()), timeout=90,
               message="every offer's SMS to be sent")  # fmt: skip
    waitlist_sweep_task.delay()
    time.sleep(3)  # more sweeps run meanwhile: nothing is offered again
    # The cancelled visits' patients got their booking and cancellation notices; each waiting one, one offer.
    offers = [m for m in twilio_stub.messages if "an earlier visit is free" in m.body]
    per_phone = collections.Counter(m.to for m in offers)
    assert dict(per_phone) == {str(e.patient.mobile_phone): 1 for e in entries[:4]}
    assert sorted(WaitlistOffer.objects.values_list("entry_id", "status")) == [(e.pk, "offered") for e in entries[:4]]
    assert set(offer_messages().values_list("status", "attempts")) == {("sent", 1)}
    assert FreedSlot.objects.filter(status="open").count() == 2


def test_two_patients_answering_yes_at_once_get_one_booking(twilio_stub, celery_workers, env, settings):
    celery_workers(concurrency=2, env=env)
    clinic = Clinic()
    start = visit_day(3)
    visit = clinic.book(start)
    first, second = clinic.wait(), clinic.wait()
    appointment_cancel(appointment=visit, by=None, reason="patient is ill")
    waitlist_sweep()
    wait_until(lambda: offer_messages().count() == 2 and all_final(offer_messages()), timeout=90,
               message="both offers to be sent")  # fmt: skip
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)

    def answer(index: int) -> int:
        patient = (first, second)[index].patient
        params = {"MessageSid": f"SM{index:032d}", "From": str(patient.mobile_phone), "To": "+15555550199",
                  "Body": "YES"}  # fmt: skip
        signature = validator.compute_signature(f"http://testserver{URL}", params)
        return Client().post(URL, params, headers={"X-Twilio-Signature": signature}).status_code

    statuses, failures = race(2, answer)

    assert (failures, sorted(statuses)) == ([], [200, 200])
    booked = Appointment.objects.filter(start=start).exclude(status="cancelled")
    assert booked.count() == 1
    winner = booked.get().patient
    assert winner in (first.patient, second.patient)
    assert sorted(WaitlistOffer.objects.values_list("status", flat=True)) == ["accepted", "gone"]
    assert WaitlistOffer.objects.get(status="accepted").entry.patient == winner
    assert FreedSlot.objects.get().status == "filled"
    # The winner's YES is answered by the booking notice, the other's by "it has gone".
    answers = Message.objects.filter(
        purpose__in=["appointment_booked", "waitlist_booked", "waitlist_gone"], channel="sms",
        patient__in=[first.patient, second.patient],
    )  # fmt: skip
    wait_until(lambda: answers.count() == 2 and all_final(answers), timeout=60, message="both answers to be sent")
    assert sorted(answers.values_list("patient_id", "purpose")) == sorted(
        [(winner.pk, "appointment_booked"),
         ((second if winner == first.patient else first).patient.pk, "waitlist_gone")]
    )  # fmt: skip
    waiting = {str(first.patient.mobile_phone), str(second.patient.mobile_phone)}
    assert collections.Counter(m.to for m in twilio_stub.messages if m.to in waiting) == {
        str(first.patient.mobile_phone): 2, str(second.patient.mobile_phone): 2
    }  # fmt: skip
