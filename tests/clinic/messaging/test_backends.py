import datetime as dt
import io
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.messaging.backends import BaseSmsBackend, SendError, console, filebased, get_sms_backend, locmem, twilio
from clinic.messaging.backends.base import LookupNotSupported
from tests.twilio_stub import Scripted

SEND = {"to": "+12025550143", "body": "Riverside Pain Clinic: hello", "from_": "+15555550199", "reference": "message-1"}


def test_default_backend_is_console(settings):
    assert settings.SMS_BACKEND == "clinic.messaging.backends.console.SmsBackend"
    assert isinstance(get_sms_backend(), console.SmsBackend)


def test_base_backend_states_its_contract():
    backend = BaseSmsBackend()
    with pytest.raises(NotImplementedError, match="must provide a send"):
        backend.send(**SEND)
    with pytest.raises(LookupNotSupported, match="BaseSmsBackend cannot look up"):
        backend.lookup(to="+1", body="x", since=dt.datetime.now(tz=dt.UTC))


def test_console_backend_writes_the_message():
    stream = io.StringIO()
    sent = get_sms_backend("clinic.messaging.backends.console.SmsBackend", stream=stream).send(**SEND)
    assert sent.provider_message_id.startswith("console-")
    assert "SMS from +15555550199 to +12025550143 [message-1]\nRiverside Pain Clinic: hello\n" in stream.getvalue()


def test_locmem_backend_collects_and_finds_messages(sms_outbox):
    backend = get_sms_backend()
    sent = backend.send(**SEND)
    assert [(m.to, m.body) for m in locmem.outbox] == [("+12025550143", "Riverside Pain Clinic: hello")]
    found = backend.lookup(to=SEND["to"], body=SEND["body"], since=dt.datetime.now(tz=dt.UTC))
    assert found.provider_message_id == sent.provider_message_id
    assert backend.lookup(to="+19999999999", body="x", since=dt.datetime.now(tz=dt.UTC)) is None


def test_file_backend_appends_to_a_dated_file(tmp_path):
    backend = filebased.SmsBackend(file_path=str(tmp_path))
    backend.send(**SEND)
    backend.send(**{**SEND, "body": "second"})
    (log,) = tmp_path.iterdir()
    text = log.read_text()
    assert text.count("SMS from +15555550199 to +12025550143") == 2
    assert "Riverside Pain Clinic: hello" in text
    assert "second" in text


def test_twilio_backend_needs_credentials(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID"):
        twilio.SmsBackend()


def test_twilio_send_goes_through_the_sdk_to_the_stub(twilio_stub):
    sent = get_sms_backend().send(**SEND)
    assert twilio_stub.accepted == 1
    (stored,) = twilio_stub.messages
    assert (stored.to, stored.from_, stored.body) == (SEND["to"], SEND["from_"], SEND["body"])
    assert sent.provider_message_id == stored.sid
    assert twilio_stub.requests == [("POST", f"/2010-04-01/Accounts/{twilio_stub.account_sid}/Messages.json")]


def test_twilio_send_asks_for_status_callbacks_on_the_public_url(twilio_stub, settings):
    settings.TWILIO_WEBHOOK_BASE_URL = "https://clinic.example/"
    get_sms_backend().send(**SEND)
    assert twilio_stub.messages[0].status_callback == "https://clinic.example/webhooks/twilio/status/"


def test_twilio_bad_number_is_permanent(twilio_stub):
    twilio_stub.script.append(Scripted(status=400, code=21211))
    with pytest.raises(SendError) as caught:
        get_sms_backend().send(**SEND)
    assert caught.value.permanent is True
    assert caught.value.outcome_unknown is False
    assert "Twilio error 21211 (HTTP 400)" in str(caught.value)
    assert twilio_stub.accepted == 0


@pytest.mark.parametrize("status", [429, 503])
def test_twilio_throttling_is_retryable(twilio_stub, status):
    twilio_stub.script.append(Scripted(status=status, code=20429))
    with pytest.raises(SendError) as caught:
        get_sms_backend().send(**SEND)
    assert (caught.value.permanent, caught.value.outcome_unknown) == (False, False)


def test_twilio_server_error_leaves_the_outcome_unknown(twilio_stub):
    twilio_stub.script.append(Scripted(status=500, code=20500))
    with pytest.raises(SendError) as caught:
        get_sms_backend().send(**SEND)
    assert (caught.value.permanent, caught.value.outcome_unknown) == (False, True)


def test_twilio_timeout_after_sending_is_unknown(twilio_stub, settings):
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 0.3
    twilio_stub.script.append(Scripted(delay=1.0))
    with pytest.raises(SendError) as caught:
        get_sms_backend().send(**SEND)
    assert caught.value.outcome_unknown is True
    assert "ReadTimeout" in str(caught.value)
    assert twilio_stub.accepted == 1  # the provider took it: resending blindly would send twice


def test_twilio_connection_dropped_after_sending_is_unknown(twilio_stub):
    twilio_stub.script.append(Scripted(drop=True))
    with pytest.raises(SendError) as caught:
        get_sms_backend().send(**SEND)
    assert caught.value.outcome_unknown is True
    assert twilio_stub.accepted == 1


def test_twilio_unreachable_is_retryable(settings, twilio_stub):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"  # nothing listens there
    with pytest.raises(SendError) as caught:
        get_sms_backend().send(**SEND)
    assert (caught.value.permanent, caught.value.outcome_unknown) == (False, False)
    assert "could not reach Twilio" in str(caught.value)


def test_twilio_lookup_by_recipient_and_body_and_by_id(twilio_stub):
    backend = get_sms_backend()
    since = dt.datetime.now(tz=dt.UTC)
    backend.send(**{**SEND, "body": "another message"})
    sent = backend.send(**SEND)
    found = backend.lookup(to=SEND["to"], body=SEND["body"], since=since)
    assert (found.provider_message_id, found.status, found.body) == (sent.provider_message_id, "sent", SEND["body"])
    by_id = backend.lookup(to=SEND["to"], body=SEND["body"], since=since, provider_message_id=sent.provider_message_id)
    assert by_id.provider_message_id == sent.provider_message_id
    assert backend.lookup(to="+12025550999", body=SEND["body"], since=since) is None
    assert backend.lookup(to=SEND["to"], body="x", since=since, provider_message_id="SM" + "f" * 32) is None


def test_twilio_lookup_ignores_an_identical_message_from_before_the_attempt(twilio_stub):
    from tests.twilio_stub import StubMessage

    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    twilio_stub.messages.append(
        StubMessage(sid="SMold", to=SEND["to"], from_=SEND["from_"], body=SEND["body"], status="delivered",
                    date_created=now - dt.timedelta(days=3))
    )  # fmt: skip
    assert get_sms_backend().lookup(to=SEND["to"], body=SEND["body"], since=now) is None
    twilio_stub.messages.append(
        StubMessage(sid="SMnew", to=SEND["to"], from_=SEND["from_"], body=SEND["body"], status="delivered",
                    date_created=now)
    )  # fmt: skip
    found = get_sms_backend().lookup(to=SEND["to"], body=SEND["body"], since=now)
    assert (found.provider_message_id, found.status) == ("SMnew", "delivered")
