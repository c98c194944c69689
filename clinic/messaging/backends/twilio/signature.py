"""Twilio's request signature: X-Twilio-Signature over the public URL and the POST parameters."""

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator

from clinic.messaging.webhooks import WebhookRefused


def public_url(request: HttpRequest) -> str:
    """Return the URL Twilio signed: TWILIO_WEBHOOK_BASE_URL + path behind a proxy, else our own."""
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    if base:
        return base + request.get_full_path()
    return request.build_absolute_uri()


def twilio_request_validate(request: HttpRequest) -> None:
    """Raise WebhookRefused unless X-Twilio-Signature matches TWILIO_AUTH_TOKEN (none configured: refuse)."""
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        raise WebhookRefused("missing signature")
    if not RequestValidator(token).validate(public_url(request), request.POST.dict(), signature):
        raise WebhookRefused("bad signature")
