"""Celery beat's periodic jobs: each app registers the entries for its own tasks from AppConfig.ready().

The core names no app's task here or in settings; beat reads `app.conf.beat_schedule` when it starts,
after Django (and so every app's ready()) has been set up.
"""

from celery.schedules import crontab

from clinic.celery import app


def beat_entry_register(*, name: str, task: str, schedule: float | crontab) -> None:
    """Run TASK on SCHEDULE (seconds, or a crontab in UTC) under the beat entry NAME."""
    # A new dict rather than an update in place: the configured value may be a shared default.
    app.conf.beat_schedule = {**app.conf.beat_schedule, name: {"task": task, "schedule": schedule}}
