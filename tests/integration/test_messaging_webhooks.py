"""Inbound webhooks and idempotent queueing on real PostgreSQL, with concurrent requests."""

import threading

import pytest
from django.db import close_old_connections
from django.test import Client
from twilio.request_validator import RequestValidator

from clinic.messaging.backends import locmem
from clinic.messaging.models import ConsentEvent, InboundMessage, Message
from clinic.messaging.outbox import message_deliver, message_queue
from tests.celery_worker import purge_broker
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "integration-webhook-token"
URL = "/webhooks/twilio/sms/"
PHONE = "+12025550143"


@pytest.fixture(autouse=True)
def _messaging(settings, sms_outbox):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.MESSAGING_QUIET_HOURS_START, settings.MESSAGING_QUIET_HOURS_END = "00:00", "23:59:59"
    yield
    purge_broker()  # the delivery tasks the web side published; no worker ran here


def deliver_queued() -> None:
    """Deliver in this process what the web side enqueued (no worker runs in these tests)."""
    for pk in Message.objects.filter(status="queued").values_list("pk", flat=True):
        message_deliver(message_id=pk)


def signed(params: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(f"http://testserver{URL}", params)}


def in_threads(target, n: int) -> list:
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            results[i] = target()
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_signed_reply_accepted_tampered_refused_on_postgres():
    PatientFactory(mobile_phone=PHONE)
    params = {"MessageSid": "SM" + "1" * 32, "From": PHONE, "To": "+15555550199", "Body": "6"}
    assert Client().post(URL, params, headers=signed(params)).status_code == 200
    tampered = {**params, "MessageSid": "SM" + "2" * 32}
    assert Client().post(URL, tampered, headers=signed(params)).status_code == 403
    assert list(InboundMessage.objects.values_list("provider_message_id", flat=True)) == [params["MessageSid"]]


def test_the_same_stop_delivered_four_times_at_once_is_processed_once():
    patient = PatientFactory(mobile_phone=PHONE)
    params = {"MessageSid": "SM" + "3" * 32, "From": PHONE, "To": "+15555550199", "Body": "STOP"}
    codes = in_threads(lambda: Client().post(URL, params, headers=signed(params)).status_code, 4)
    assert codes == [200] * 4
    assert InboundMessage.objects.count() == 1
    assert ConsentEvent.objects.filter(patient=patient).count() == 1
    assert Message.objects.filter(purpose="opt_out_confirm").count() == 1
    deliver_queued()
    assert len(locmem.outbox) == 1


def test_queueing_the_same_source_key_at_once_creates_one_message():
    patient = PatientFactory(mobile_phone=PHONE)

    def queue():
        return message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={},
                             source_key="followup:99:check_in").pk  # fmt: skip

    ids = in_threads(queue, 4)
    assert len(set(ids)) == 1
    assert Message.objects.filter(source_key="followup:99:check_in").count() == 1
    deliver_queued()
    assert len(locmem.outbox) == 1
