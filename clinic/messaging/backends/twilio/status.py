"""Twilio's message statuses in our words: the one place that knows Twilio's vocabulary."""

from clinic.messaging.backends.base import DeliveryStatus

# "accepted", "scheduled", "queued", "sending", "sent", "receiving", "received", "read": all
# "the provider has it"; only these settle the message one way or the other.
_SETTLED = {
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def delivery_status(twilio_status: str | None) -> DeliveryStatus:
    """Return our status for a Twilio message status (API resource or status callback)."""
    return _SETTLED.get((twilio_status or "").strip().lower(), DeliveryStatus.SENT)
