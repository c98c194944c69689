"""System checks for messaging settings whose wrong values would send twice or never."""

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from clinic.messaging.quiet_hours import send_window


@register(Tags.compatibility)
def messaging_settings(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """Run the configured SMS backend's own checks; refuse a malformed send window and no attempts."""
    errors: list[CheckMessage] = []
    try:
        errors.extend(import_string(settings.SMS_BACKEND).check())
    except ImportError as exc:
        errors.append(Error(f"SMS_BACKEND cannot be imported: {exc}", id="messaging.E004"))
    try:
        send_window()
    except Exception as exc:
        errors.append(Error(str(exc), id="messaging.E002"))
    if settings.MESSAGING_MAX_ATTEMPTS < 1:
        errors.append(Error("MESSAGING_MAX_ATTEMPTS must be at least 1", id="messaging.E003"))
    return errors
