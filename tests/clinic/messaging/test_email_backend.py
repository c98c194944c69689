"""The email channel backend: Django's mail with our Message-ID, and no way to ask the server afterwards."""

import datetime as dt

import pytest
from django.core import mail

from clinic.messaging.backends import LookupNotSupported, SendResult
from clinic.messaging.backends.email import EmailBackend


def test_email_backend_sends_one_email_with_our_message_id(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = EmailBackend().send(to="pat@patients.example", subject="Check-in", body="How are you?",
                                 reference="message-7")  # fmt: skip
    (sent,) = mail.outbox
    assert (sent.to, sent.subject, sent.body) == (["pat@patients.example"], "Check-in", "How are you?")
    assert result == SendResult(provider_message_id=sent.extra_headers["Message-ID"])
    assert result.provider_message_id.startswith("<")
    assert ".message-7@" in result.provider_message_id


def test_email_backend_cannot_look_up_past_sends():
    with pytest.raises(LookupNotSupported, match="the mail server cannot be asked whether it took the email"):
        EmailBackend().lookup(to="pat@patients.example", body="x", since=dt.datetime.now(tz=dt.UTC))
