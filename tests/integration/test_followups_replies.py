"""A patient's SMS answer through the signed Twilio webhook, stored on the follow-up, on real PostgreSQL."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from clinic.messaging.models import InboundMessage, Message
from tests.celery_worker import purge_broker
from tests.factories import PatientFactory, signed_procedure
from tpi.followups import followups_sweep

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "integration-webhook-token"
URL = "/webhooks/twilio/sms/"
PHONE = "+12025550188"


@pytest.fixture(autouse=True)
def _messaging(settings, sms_outbox):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.MESSAGING_QUIET_HOURS_START, settings.MESSAGING_QUIET_HOURS_END = "00:00", "23:59:59"
    yield
    purge_broker()  # the delivery task the sweep published; no worker runs here


def signature(params: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(f"http://testserver{URL}", params)}


def test_a_signed_answer_is_stored_and_a_tampered_one_refused():
    patient = PatientFactory(mobile_phone=PHONE)
    performed = timezone.now() - dt.timedelta(hours=72, minutes=1)
    procedure = signed_procedure(performed_at=performed, patient=patient, pain_before=8, pain_after=2)
    assert followups_sweep()["sent"] == 1
    follow_up = procedure.follow_ups.get(kind="check_in")
    assert Message.objects.filter(source_key=follow_up.source_key).count() == 1
    params = {"MessageSid": "SM" + "7" * 32, "From": PHONE, "To": "+15555550199", "Body": "7"}

    tampered = Client().post(URL, {**params, "Body": "1"}, headers=signature(params))

    assert tampered.status_code == 403
    assert InboundMessage.objects.count() == 0
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.answer_pain_score) == ("sent", None)

    accepted = Client().post(URL, params, headers=signature(params))
    again = Client().post(URL, params, headers=signature(params))  # Twilio retried the webhook

    assert (accepted.status_code, again.status_code) == (200, 200)
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.answer_pain_score) == ("answered", 7)
    inbound = InboundMessage.objects.get()
    # 7 is at TPI_TRIAGE_PAIN_LEVEL: stored, and a person looks at it in the triage inbox.
    assert (inbound.handled_by, inbound.needs_review) == ("tpi.replies.handle", True)
    assert (inbound.triage_item.reason, inbound.triage_item.answers) == ("pain", follow_up)
    assert Message.objects.count() == 1  # no reply to the answer
