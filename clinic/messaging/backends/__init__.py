"""SMS backends, chosen by the SMS_BACKEND setting the way Django chooses its email backend."""

from django.conf import settings
from django.utils.module_loading import import_string

from clinic.messaging.backends.base import BaseSmsBackend, ProviderMessage, SmsSendError, SmsSent

__all__ = ["BaseSmsBackend", "ProviderMessage", "SmsSendError", "SmsSent", "get_sms_backend"]


def get_sms_backend(backend: str | None = None, **kwargs) -> BaseSmsBackend:
    """Return an instance of the SMS backend named by BACKEND or settings.SMS_BACKEND."""
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)
