"""Channel backends: SMS chosen by the SMS_BACKEND setting the way Django chooses its email backend,
email through Django's own mail backends (EMAIL_URL). Both speak the neutral types of `base`."""

from django.conf import settings
from django.utils.module_loading import import_string

from clinic.messaging.backends.base import (
    BaseSmsBackend,
    DeliveryStatus,
    LookupNotSupported,
    ProviderMessage,
    SendError,
    SendResult,
)

__all__ = [
    "BaseSmsBackend",
    "DeliveryStatus",
    "LookupNotSupported",
    "ProviderMessage",
    "SendError",
    "SendResult",
    "get_sms_backend",
]


def get_sms_backend(backend: str | None = None, **kwargs) -> BaseSmsBackend:
    """Return an instance of the SMS backend named by BACKEND or settings.SMS_BACKEND."""
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)
