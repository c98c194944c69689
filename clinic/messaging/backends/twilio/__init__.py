"""Twilio: the SMS backend, its status vocabulary, its signature check and its webhooks.

Everything that speaks Twilio lives in this package; it hands the rest of the app only neutral
results (`SendResult`, `SendError`, `ProviderMessage`) and neutral webhook events. The dotted path
`clinic.messaging.backends.twilio.SmsBackend` is what SMS_BACKEND names in production.
"""

from clinic.messaging.backends.twilio.backend import SmsBackend

__all__ = ["SmsBackend"]
