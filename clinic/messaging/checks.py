"""System checks for messaging settings whose wrong values would send twice or never."""

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from clinic.messaging.quiet_hours import send_window


@register(Tags.compatibility)
def messaging_settings(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """Refuse a sending timeout the provider call can outlast, and a malformed send window."""
    errors: list[CheckMessage] = []
    if settings.MESSAGING_SENDING_TIMEOUT_SECONDS <= settings.TWILIO_HTTP_TIMEOUT_SECONDS:
        errors.append(
            Error(
                "MESSAGING_SENDING_TIMEOUT_SECONDS must exceed TWILIO_HTTP_TIMEOUT_SECONDS, or a send still in "
                "flight is reconciled (and possibly resent) before Twilio answered",
                id="messaging.E001",
            )
        )
    try:
        send_window()
    except Exception as exc:
        errors.append(Error(str(exc), id="messaging.E002"))
    if settings.MESSAGING_MAX_ATTEMPTS < 1:
        errors.append(Error("MESSAGING_MAX_ATTEMPTS must be at least 1", id="messaging.E003"))
    if not settings.DEBUG and settings.SMS_BACKEND.endswith("twilio.SmsBackend") and not settings.TWILIO_AUTH_TOKEN:
        errors.append(Warning("SMS_BACKEND is Twilio but TWILIO_AUTH_TOKEN is empty", id="messaging.W001"))
    return errors
