"""Twilio webhooks: inbound SMS and delivery-status callbacks, both signature-checked."""

import logging
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.throttling import SimpleRateThrottle
from twilio.request_validator import RequestValidator

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.outbox import message_status_update
from clinic.security.client_ip import client_ip

logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: HttpRequest) -> str:
    """Return the URL Twilio signed: TWILIO_WEBHOOK_BASE_URL + path behind a proxy, else our own."""
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    if base:
        return base + request.get_full_path()
    return request.build_absolute_uri()


def twilio_signed(view):
    """Refuse (403) any request whose X-Twilio-Signature does not match the auth token."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        signature = request.headers.get("X-Twilio-Signature", "")
        token = settings.TWILIO_AUTH_TOKEN
        if not token or not signature:
            return HttpResponseForbidden("missing signature")
        if not RequestValidator(token).validate(public_url(request), request.POST.dict(), signature):
            logger.warning("refused a Twilio webhook with a bad signature")
            return HttpResponseForbidden("bad signature")
        return view(request, *args, **kwargs)

    return wrapper


class WebhookThrottle(SimpleRateThrottle):
    """DRF's rate limiter (rate `webhook` in REST_FRAMEWORK) keyed by client address, for plain views."""

    scope = "webhook"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


def webhook_throttled(view):
    """Answer 429 when one client sends more than the webhook rate; runs after the signature check."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        throttle = WebhookThrottle()
        # A plain Django view: the throttle's get_cache_key reads only the request's address, no DRF view.
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            logger.warning("throttled a webhook caller")
            response = HttpResponse("too many requests", status=429)
            response["Retry-After"] = str(int(throttle.wait() or 1))
            return response
        return view(request, *args, **kwargs)

    return wrapper


# The only csrf_exempt views: the signature is their authentication, checked before anything else.
@csrf_exempt
@require_POST
@twilio_signed
@webhook_throttled
def twilio_sms(request: HttpRequest) -> HttpResponse:
    """Record an inbound SMS once (by MessageSid) and act on it; answers go out through the outbox."""
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid", "")
    sender = request.POST.get("From", "")
    if not sid or not sender:
        return HttpResponse("MessageSid and From are required", status=400)
    inbound_sms_receive(
        provider_message_id=sid,
        from_number=sender,
        to_number=request.POST.get("To", ""),
        body=request.POST.get("Body", ""),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
@twilio_signed
@webhook_throttled
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Apply a delivery report (delivered, undelivered, failed) to the message it names."""
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid", "")
    if not sid:
        return HttpResponse("MessageSid is required", status=400)
    message_status_update(
        provider_message_id=sid,
        provider_status=request.POST.get("MessageStatus") or request.POST.get("SmsStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)
