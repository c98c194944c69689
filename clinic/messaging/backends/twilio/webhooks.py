"""Twilio's webhooks: inbound SMS and delivery-status callbacks, parsed into neutral events."""

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse

from clinic.messaging.backends.twilio.signature import twilio_request_validate
from clinic.messaging.backends.twilio.status import delivery_status
from clinic.messaging.webhooks import (
    DeliveryReport,
    InboundSms,
    ProviderWebhookView,
    WebhookEvent,
    WebhookPayloadError,
)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _sid(request: HttpRequest) -> str:
    return request.POST.get("MessageSid") or request.POST.get("SmsSid", "")


class TwilioWebhookView(ProviderWebhookView):
    def validate_request(self, request: HttpRequest) -> None:
        twilio_request_validate(request)


class TwilioInboundView(TwilioWebhookView):
    """An SMS a patient sent to our number; answers go out through the outbox, not in the TwiML."""

    def parse_events(self, request: HttpRequest) -> list[InboundSms]:
        sid, sender = _sid(request), request.POST.get("From", "")
        if not sid or not sender:
            raise WebhookPayloadError("MessageSid and From are required")
        return [
            InboundSms(
                provider_message_id=sid,
                from_number=sender,
                to_number=request.POST.get("To", ""),
                body=request.POST.get("Body", ""),
            )
        ]

    def respond(self, events: Sequence[WebhookEvent]) -> HttpResponse:
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")


class TwilioStatusView(TwilioWebhookView):
    """A delivery report for a message we sent (the status_callback the backend asks for)."""

    def parse_events(self, request: HttpRequest) -> list[DeliveryReport]:
        sid = _sid(request)
        if not sid:
            raise WebhookPayloadError("MessageSid is required")
        twilio_status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus", "")
        error_code = request.POST.get("ErrorCode", "")
        return [
            DeliveryReport(
                provider_message_id=sid,
                status=delivery_status(twilio_status),
                description=twilio_status + (f" (error {error_code})" if error_code else ""),
            )
        ]
