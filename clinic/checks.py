"""System checks for settings that keep long-running Celery work reliable."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.compatibility)
def celery_time_limits(app_configs, **kwargs):
    """Refuse a task time limit at or above the broker's visibility timeout (double runs)."""
    errors = []
    if settings.CELERY_TASK_SOFT_TIME_LIMIT >= settings.CELERY_TASK_TIME_LIMIT:
        errors.append(Error("CELERY_TASK_SOFT_TIME_LIMIT must be below CELERY_TASK_TIME_LIMIT", id="clinic.E001"))
    if settings.CELERY_TASK_TIME_LIMIT >= settings.CELERY_BROKER_VISIBILITY_TIMEOUT:
        errors.append(
            Error(
                "CELERY_TASK_TIME_LIMIT must be below CELERY_BROKER_VISIBILITY_TIMEOUT, or Redis redelivers "
                "running tasks to a second worker",
                id="clinic.E002",
            )
        )
    return errors
