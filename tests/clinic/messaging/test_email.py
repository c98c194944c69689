import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from clinic.messaging.outbox import message_deliver, message_queue
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
RAISE: list[Exception] = []


class FailingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise RAISE[0]


@pytest.mark.parametrize(
    ("error", "status", "reason_start"),
    [
        (smtplib.SMTPRecipientsRefused({"x@patients.example": (550, b"no such user")}), "failed", "email refused"),
        (TimeoutError("timed out"), "unknown", "no answer from the mail server after sending"),
        (smtplib.SMTPServerDisconnected("gone"), "queued", "email failed: SMTPServerDisconnected: gone"),
        (ConnectionRefusedError(111, "refused"), "queued", "email failed: ConnectionRefusedError"),
    ],
)
def test_email_errors_are_classified(settings, noon, error, status, reason_start):
    settings.EMAIL_BACKEND = "tests.clinic.messaging.test_email.FailingEmailBackend"
    RAISE[:] = [error]
    message = message_queue(patient=PatientFactory(), channel="email", purpose="check_in", template="check_in",
                            context={})  # fmt: skip
    message = message_deliver(message_id=message.pk)
    assert message.status == status
    assert message.reason.startswith(reason_start)
    assert message.needs_review is (status == "failed")
