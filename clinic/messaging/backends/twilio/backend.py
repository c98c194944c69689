"""Send SMS through Twilio's official SDK (`twilio` package), credentials from settings."""

import datetime as dt
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from clinic.messaging.backends.base import BaseSmsBackend, ProviderMessage, SendError, SendResult
from clinic.messaging.backends.twilio.status import delivery_status

# HTTP statuses that say the request was not processed (throttled, briefly unavailable): retry.
_TRANSIENT_HTTP = {429, 503}


class BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client with scheme and host replaced: for a local stub in tests only."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


def _not_sent(exc: requests.RequestException) -> bool:
    """Return True when the request surely never reached the provider (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        text = repr(exc.args[0] if exc.args else exc)
        return "NewConnectionError" in text or "NameResolutionError" in text or "ConnectionRefused" in text
    return False


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, client: Client | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if client is None:
            if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
                raise ImproperlyConfigured("The Twilio SMS backend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
            http_kwargs = {"timeout": settings.TWILIO_HTTP_TIMEOUT_SECONDS}
            http_client = (
                BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, **http_kwargs)
                if settings.TWILIO_API_BASE_URL
                else TwilioHttpClient(**http_kwargs)
            )
            client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        self.client = client

    @classmethod
    def check(cls) -> list[CheckMessage]:
        """Refuse a sending timeout Twilio's HTTP call can outlast; warn about a missing auth token."""
        errors: list[CheckMessage] = []
        if settings.MESSAGING_SENDING_TIMEOUT_SECONDS <= settings.TWILIO_HTTP_TIMEOUT_SECONDS:
            errors.append(
                Error(
                    "MESSAGING_SENDING_TIMEOUT_SECONDS must exceed TWILIO_HTTP_TIMEOUT_SECONDS, or a send still in "
                    "flight is reconciled (and possibly resent) before Twilio answered",
                    id="messaging.E001",
                )
            )
        if not settings.DEBUG and not settings.TWILIO_AUTH_TOKEN:
            errors.append(Warning("SMS_BACKEND is Twilio but TWILIO_AUTH_TOKEN is empty", id="messaging.W001"))
        return errors

    def _callback(self) -> dict:
        """Ask Twilio to report delivery to our status webhook when we know our public URL."""
        base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
        return {"status_callback": f"{base}{reverse('messaging:twilio-status')}"} if base else {}

    def send(self, *, to: str, body: str, from_: str, reference: str) -> SendResult:
        try:
            created = self.client.messages.create(to=to, from_=from_, body=body, **self._callback())
        except TwilioRestException as exc:
            detail = f"Twilio error {exc.code or '-'} (HTTP {exc.status}): {exc.msg}"
            if exc.status in _TRANSIENT_HTTP:
                raise SendError(detail) from exc
            if exc.status >= 500:
                # The provider failed while handling the request: it may or may not have queued it.
                raise SendError(detail, outcome_unknown=True) from exc
            raise SendError(detail, permanent=True) from exc
        except requests.RequestException as exc:
            if _not_sent(exc):
                raise SendError(f"could not reach Twilio: {type(exc).__name__}") from exc
            raise SendError(f"no answer from Twilio after sending: {type(exc).__name__}", outcome_unknown=True) from exc
        return SendResult(provider_message_id=created.sid, status=delivery_status(created.status))

    def lookup(
        self, *, to: str, body: str, since: dt.datetime, provider_message_id: str = ""
    ) -> ProviderMessage | None:
        try:
            if provider_message_id:
                found = [self.client.messages(provider_message_id).fetch()]
            else:
                # The latest messages to that number, without a DateSent filter: a message Twilio
                # accepted but has not sent yet has no DateSent and would be missed (and resent).
                candidates = self.client.messages.list(to=to, limit=50)
                earliest = since - dt.timedelta(minutes=5)  # Twilio times have whole seconds; allow clock skew
                found = [
                    m for m in candidates if m.body == body and (m.date_created is None or m.date_created >= earliest)
                ]
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise SendError(f"Twilio lookup failed (HTTP {exc.status}): {exc.msg}") from exc
        except requests.RequestException as exc:
            raise SendError(f"Twilio lookup failed: {type(exc).__name__}") from exc
        if not found:
            return None
        message = found[0]
        return ProviderMessage(
            provider_message_id=message.sid,
            status=delivery_status(message.status),
            to=message.to or to,
            body=message.body or body,
            created_at=message.date_created,
        )
