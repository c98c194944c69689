import pytest
from twilio.request_validator import RequestValidator

from clinic.messaging.models import ConsentEvent, InboundMessage, Message
from clinic.messaging.signals import reply_received
from clinic.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
TOKEN = "webhook-test-token-0123456789"
SMS_URL = "/webhooks/twilio/sms/"
STATUS_URL = "/webhooks/twilio/status/"
PHONE = "+12025550143"
handled_by_test = []


@pytest.fixture(autouse=True)
def _token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    handled_by_test.clear()


def signed_post(client, path, params, *, url=None, token=TOKEN, **extra):
    signature = RequestValidator(token).compute_signature(url or f"http://testserver{path}", params)
    return client.post(path, params, headers={"X-Twilio-Signature": signature}, **extra)


def sms(client, body, sid="SM" + "1" * 32, sender=PHONE, **kwargs):
    params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+15555550199", "Body": body}
    return signed_post(client, SMS_URL, params, **kwargs)


@pytest.fixture
def patient(noon):
    return PatientFactory(mobile_phone=PHONE)


def test_signed_reply_is_accepted_and_recorded(client, patient, sms_outbox):
    response = sms(client, "7")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    inbound = InboundMessage.objects.get()
    assert (inbound.patient, inbound.body, inbound.kind, inbound.needs_review) == (patient, "7", "reply", True)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "Body": "STOP"},  # body changed after signing
        lambda p: {**p, "From": "+12025550999"},
    ],
)
def test_tampered_request_is_refused_and_changes_nothing(client, patient, tamper):
    params = {"MessageSid": "SM" + "2" * 32, "From": PHONE, "To": "+15555550199", "Body": "7"}
    signature = RequestValidator(TOKEN).compute_signature(f"http://testserver{SMS_URL}", params)
    response = client.post(SMS_URL, tamper(params), headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0
    assert Patient.objects.get(pk=patient.pk).sms_consent is True


def test_unsigned_wrong_token_and_get_are_refused(client, patient):
    params = {"MessageSid": "SM" + "3" * 32, "From": PHONE, "Body": "STOP"}
    assert client.post(SMS_URL, params).status_code == 403
    assert signed_post(client, SMS_URL, params, token="another-token").status_code == 403
    assert client.get(SMS_URL).status_code == 405
    assert (
        signed_post(client, STATUS_URL, {"MessageSid": "SMx", "MessageStatus": "delivered"}, token="x").status_code
        == 403
    )
    assert InboundMessage.objects.count() == 0
    assert ConsentEvent.objects.count() == 0


def test_no_auth_token_configured_refuses_everything(client, patient, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert sms(client, "7").status_code == 403


def test_behind_a_proxy_the_public_url_is_what_twilio_signed(client, patient, settings):
    settings.TWILIO_WEBHOOK_BASE_URL = "https://clinic.example/"
    public = f"https://clinic.example{SMS_URL}"
    assert sms(client, "7", url=f"http://testserver{SMS_URL}").status_code == 403
    assert sms(client, "7", url=public).status_code == 200


def test_webhooks_are_csrf_exempt(patient):
    from django.test import Client

    assert sms(Client(enforce_csrf_checks=True), "7").status_code == 200


def test_missing_fields_are_a_400(client, patient):
    assert signed_post(client, SMS_URL, {"Body": "7"}).status_code == 400
    assert signed_post(client, STATUS_URL, {"MessageStatus": "delivered"}).status_code == 400


def test_the_same_message_delivered_twice_is_processed_once(
    client, patient, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert sms(client, "STOP").status_code == 200
        assert sms(client, "STOP").status_code == 200
    assert InboundMessage.objects.count() == 1
    assert ConsentEvent.objects.count() == 1
    assert len(sms_outbox) == 1


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop.", "STOP ALL", "unsubscribe", "Cancel", "END", "quit", "OPT-OUT"]
)
def test_opt_out_keywords_opt_out_at_once_and_confirm_once(
    client, patient, sms_outbox, django_capture_on_commit_callbacks, word
):
    with django_capture_on_commit_callbacks(execute=True):
        sms(client, word, sid="SM" + "a" * 32)
        sms(client, "STOP", sid="SM" + "b" * 32)  # a second STOP: nothing more is said
    patient.refresh_from_db()
    assert (patient.sms_consent, patient.sms_consent_at) == (False, None)
    event = ConsentEvent.objects.get()
    assert (event.channel, event.granted, event.source, event.inbound.body) == ("sms", False, "reply", word)
    assert [m.to for m in sms_outbox] == [PHONE]
    assert sms_outbox[0].body == (
        "Riverside Pain Clinic: you are unsubscribed and will get no more texts from us. Reply START to resubscribe. "
        "Questions? Call (555) 555-0100."
    )
    confirmation = Message.objects.get()
    assert (confirmation.purpose, confirmation.status, confirmation.automated) == ("opt_out_confirm", "sent", False)
    assert list(InboundMessage.objects.values_list("kind", "needs_review")) == [("opt_out", False)] * 2


def test_after_stop_automated_messages_are_skipped_and_start_opts_back_in(
    client, patient, sms_outbox, django_capture_on_commit_callbacks
):
    from clinic.messaging.outbox import message_queue

    with django_capture_on_commit_callbacks(execute=True):
        sms(client, "STOP", sid="SM" + "c" * 32)
    skipped = message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={})
    assert (skipped.status, skipped.reason) == ("skipped", "opted out of sms")
    with django_capture_on_commit_callbacks(execute=True):
        sms(client, "Start", sid="SM" + "d" * 32)
    patient.refresh_from_db()
    assert (patient.sms_consent, patient.sms_consent_method) == (True, "reply")
    assert sms_outbox[-1].body.startswith("Riverside Pain Clinic: you will get our texts again.")
    assert list(ConsentEvent.objects.order_by("at", "id").values_list("granted", flat=True)) == [False, True]


def test_yes_is_an_opt_in_only_for_someone_who_opted_out(client, patient, sms_outbox):
    sms(client, "Yes", sid="SM" + "e" * 32)
    inbound = InboundMessage.objects.get()
    assert (inbound.kind, inbound.needs_review) == ("reply", True)
    assert ConsentEvent.objects.count() == 0


def test_help_answers_with_the_clinic_contact_every_time(
    client, patient, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sms(client, "help", sid="SM" + "f" * 32)
        sms(client, "INFO", sid="SM" + "g" * 32)
    assert [m.body for m in sms_outbox] == [
        "Riverside Pain Clinic: call us at (555) 555-0100 or email frontdesk@clinic.example. Reply STOP to opt out. "
        "Msg&data rates may apply."
    ] * 2
    assert Patient.objects.get(pk=patient.pk).sms_consent is True


def test_stop_from_an_opted_out_deceased_patient_changes_consent_but_sends_nothing(client, noon, sms_outbox):
    patient = PatientFactory(mobile_phone=PHONE, status=Patient.Status.DECEASED)
    sms(client, "STOP")
    assert Patient.objects.get(pk=patient.pk).sms_consent is False
    assert Message.objects.get().reason == "patient is deceased"
    assert sms_outbox == []


def test_stop_opts_out_every_patient_sharing_the_number(client, noon, sms_outbox, django_capture_on_commit_callbacks):
    parent, child = PatientFactory(mobile_phone=PHONE), PatientFactory(mobile_phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        sms(client, "STOP")
    assert set(Patient.objects.values_list("sms_consent", flat=True)) == {False}
    assert ConsentEvent.objects.filter(patient__in=[parent, child]).count() == 2
    assert len(sms_outbox) == 1


def test_keyword_from_an_unknown_number_goes_to_review(client, noon, sms_outbox):
    sms(client, "STOP", sender="+12025550999")
    inbound = InboundMessage.objects.get()
    assert (inbound.patient, inbound.kind, inbound.needs_review) == (None, "opt_out", True)
    assert sms_outbox == []


def accept_numbers(sender, inbound, **kwargs):
    """A reply receiver as tpi provides one: takes pain scores."""
    if inbound.body.strip().isdigit():
        handled_by_test.append(inbound.pk)
        return True
    return False


def test_replies_go_to_signal_receivers_then_to_staff_review(client, patient):
    reply_received.connect(accept_numbers)
    try:
        sms(client, "4", sid="SM" + "h" * 32)
        sms(client, "when is my next visit?", sid="SM" + "i" * 32)
    finally:
        reply_received.disconnect(accept_numbers)
    taken, review = InboundMessage.objects.order_by("id")
    assert (taken.handled_by, taken.needs_review) == ("tests.clinic.messaging.test_webhooks.accept_numbers", False)
    assert handled_by_test == [taken.pk]
    assert (review.handled_by, review.needs_review, review.kind) == ("", True, "reply")


def test_replies_go_to_signal_receivers(client, patient):
    def receiver(sender, inbound, **kwargs):
        return inbound.body == "BOOK"

    reply_received.connect(receiver)
    try:
        sms(client, "BOOK", sid="SM" + "j" * 32)
    finally:
        reply_received.disconnect(receiver)
    inbound = InboundMessage.objects.get()
    assert inbound.needs_review is False
    assert inbound.handled_by.endswith("receiver")


def test_status_callback_marks_delivered_and_failed(client, patient, sms_outbox):
    from clinic.messaging.outbox import message_deliver, message_queue

    one, two = (
        message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={},
                      source_key=f"test:{n}")
        for n in (1, 2)
    )  # fmt: skip
    for message in (one, two):
        message_deliver(message_id=message.pk)
        message.refresh_from_db()
    assert (
        signed_post(
            client, STATUS_URL, {"MessageSid": one.provider_message_id, "MessageStatus": "delivered"}
        ).status_code
        == 204
    )
    params = {"MessageSid": two.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30005"}
    assert signed_post(client, STATUS_URL, params).status_code == 204
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, one.delivered_at is not None) == ("delivered", True)
    assert (two.status, two.reason, two.needs_review) == (
        "failed",
        "the provider reports it undelivered (error 30005)",
        True,
    )
    # A late "sent" report or a repeat changes nothing; an unknown sid is ignored.
    signed_post(client, STATUS_URL, {"MessageSid": one.provider_message_id, "MessageStatus": "sent"})
    signed_post(client, STATUS_URL, {"MessageSid": one.provider_message_id, "MessageStatus": "delivered"})
    assert signed_post(client, STATUS_URL, {"MessageSid": "SMnope", "MessageStatus": "delivered"}).status_code == 204
    one.refresh_from_db()
    assert one.status == "delivered"
    assert list(one.events.values_list("to_status", flat=True)) == ["queued", "sending", "sent", "delivered"]


# --- Security (issue 6): the webhooks' own throttle, after the signature ---------------------------
def test_webhooks_have_their_own_throttle_after_the_signature(client, patient, settings, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"webhook": "2/minute"})
    assert sms(client, "7", sid="SM" + "a" * 32).status_code == 200
    assert sms(client, "7", sid="SM" + "b" * 32).status_code == 200
    refused = sms(client, "7", sid="SM" + "c" * 32)
    assert refused.status_code == 429
    assert InboundMessage.objects.count() == 2
    # An unsigned request is refused for its signature whatever the rate.
    assert client.post(SMS_URL, {"MessageSid": "SM" + "d" * 32, "From": PHONE}).status_code == 403


def test_only_the_signed_webhooks_are_csrf_exempt():
    from django.urls import get_resolver

    exempt = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif getattr(pattern.callback, "csrf_exempt", False) and not hasattr(pattern.callback, "cls"):
                exempt.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns)
    assert sorted(exempt) == ["webhooks/twilio/sms/", "webhooks/twilio/status/"]
