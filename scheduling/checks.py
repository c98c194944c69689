"""System checks for scheduling settings whose wrong values would remind never (or refuse every booking)."""

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ValidationError

from scheduling.lead_times import lead_times_parse


@register(Tags.compatibility)
def scheduling_settings(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """Refuse reminder lead times that do not parse and sweep sizes below one."""
    errors: list[CheckMessage] = []
    try:
        lead_times_parse(settings.SCHEDULING_REMINDER_LEAD_TIMES)
    except ValidationError as exc:
        errors.append(Error(f"SCHEDULING_REMINDER_LEAD_TIMES: {' '.join(exc.messages)}", id="scheduling.E001"))
    if settings.SCHEDULING_REMINDER_SWEEP_BATCH < 1:
        errors.append(Error("SCHEDULING_REMINDER_SWEEP_BATCH must be at least 1", id="scheduling.E002"))
    return errors
