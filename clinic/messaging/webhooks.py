"""Provider webhooks, provider-neutral: check the request, parse it into neutral events, handle them.

A provider's package subclasses ProviderWebhookView with its `validate_request` (the signature
check) and `parse_events` (its payload in our words), the way django-anymail's webhook views do.
The events are handled here, by the outbox and the inbound services, which never see a provider's
vocabulary. Signed webhooks are the only csrf_exempt views: the signature is their authentication,
checked before anything else (the rate limit included).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from clinic.messaging.backends.base import DeliveryStatus
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.outbox import message_delivery_report
from clinic.security.client_ip import client_ip

logger = logging.getLogger(__name__)


class WebhookRefused(Exception):
    """The request is not from the provider (missing or bad signature): answered 403."""


class WebhookPayloadError(Exception):
    """The provider's request lacks what we need: answered 400."""


@dataclass(frozen=True)
class DeliveryReport:
    """The provider tells how far a message we sent got."""

    provider_message_id: str
    status: DeliveryStatus
    description: str  # the provider's own words, for the message's history


@dataclass(frozen=True)
class InboundSms:
    """A patient sent us an SMS."""

    provider_message_id: str
    from_number: str
    to_number: str
    body: str


WebhookEvent = DeliveryReport | InboundSms


def webhook_event_handle(*, event: WebhookEvent) -> None:
    """Hand one neutral event to the service that owns it (each is idempotent on the provider's id)."""
    if isinstance(event, DeliveryReport):
        message_delivery_report(
            provider_message_id=event.provider_message_id, status=event.status, description=event.description
        )
    else:
        inbound_sms_receive(
            provider_message_id=event.provider_message_id,
            from_number=event.from_number,
            to_number=event.to_number,
            body=event.body,
        )


class WebhookThrottle(SimpleRateThrottle):
    """DRF's rate limiter (rate `webhook` in REST_FRAMEWORK) keyed by client address, for plain views."""

    scope = "webhook"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


@method_decorator(csrf_exempt, name="dispatch")
class ProviderWebhookView(View):
    """POST only: validate_request (403), then the webhook rate (429), then parse_events (400)."""

    http_method_names = ["post"]

    def validate_request(self, request: HttpRequest) -> None:
        """Raise WebhookRefused unless the request carries the provider's valid signature."""
        raise NotImplementedError("a provider's webhook view must check the request's signature")

    def parse_events(self, request: HttpRequest) -> Sequence[WebhookEvent]:
        """Return the request's events in neutral form; raise WebhookPayloadError when fields are missing."""
        raise NotImplementedError("a provider's webhook view must parse its payload")

    def respond(self, events: Sequence[WebhookEvent]) -> HttpResponse:
        """Return the answer the provider expects once the events are handled."""
        return HttpResponse(status=204)

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            self.validate_request(request)
        except WebhookRefused as exc:
            logger.warning("refused a %s webhook: %s", type(self).__name__, exc)
            return HttpResponseForbidden(str(exc))
        throttle = WebhookThrottle()
        # DRF throttle on a plain view: it reads only the request address.
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            logger.warning("throttled a webhook caller")
            response = HttpResponse("too many requests", status=429)
            response["Retry-After"] = str(int(throttle.wait() or 1))
            return response
        try:
            events = self.parse_events(request)
        except WebhookPayloadError as exc:
            return HttpResponse(str(exc), status=400)
        for event in events:
            webhook_event_handle(event=event)
        return self.respond(events)
