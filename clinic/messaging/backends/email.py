"""Send email through Django's configured mail backend (EMAIL_URL), with its failures made neutral."""

import datetime as dt
import smtplib

from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid

from clinic.messaging.backends.base import LookupNotSupported, ProviderMessage, SendError, SendResult


class EmailBackend:
    """The email channel: one message per send, our own Message-ID as the provider id."""

    def send(self, *, to: str, subject: str, body: str, reference: str) -> SendResult:
        """Send one email to TO; raise SendError (permanent / outcome_unknown) for every failure."""
        message_id = make_msgid(idstring=reference)
        email = EmailMessage(subject=subject, body=body, to=[to], headers={"Message-ID": message_id})
        try:
            email.send(fail_silently=False)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise SendError(f"email refused: {exc}", permanent=True) from exc
        except TimeoutError as exc:
            raise SendError("no answer from the mail server after sending", outcome_unknown=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"email failed: {type(exc).__name__}: {exc}") from exc
        return SendResult(provider_message_id=message_id)

    def lookup(
        self, *, to: str, body: str, since: dt.datetime, provider_message_id: str = ""
    ) -> ProviderMessage | None:
        """Refuse: SMTP has no way to ask a server which messages it took."""
        raise LookupNotSupported("the mail server cannot be asked whether it took the email")
