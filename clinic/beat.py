"""Celery beat's periodic jobs: each app registers the entries for its own tasks from AppConfig.ready().

The core names no app's task here or in settings; beat reads `app.conf.beat_schedule` when it starts,
after Django (and so every app's ready()) has been set up. Beat runs an entry first one full interval
after it starts; an entry registered with `run_at_start` is also published once when beat starts, so a
sweep does not wait a minute after a deploy or restart (its work is idempotent).
"""

import logging
from typing import Any

from celery import signals
from celery.schedules import crontab

from clinic.celery import app

logger = logging.getLogger(__name__)
_run_at_start: dict[str, str] = {}  # entry name -> task name


def beat_entry_register(*, name: str, task: str, schedule: float | crontab, run_at_start: bool = False) -> None:
    """Run TASK on SCHEDULE (seconds, or a crontab in UTC) under the beat entry NAME; RUN_AT_START: and once
    when beat starts."""
    # A new dict rather than an update in place: the configured value may be a shared default.
    app.conf.beat_schedule = {**app.conf.beat_schedule, name: {"task": task, "schedule": schedule}}
    if run_at_start:
        _run_at_start[name] = task
    else:
        _run_at_start.pop(name, None)


def beat_start_tasks() -> list[str]:
    """Return the tasks beat publishes once when it starts, in registration order."""
    return list(_run_at_start.values())


@signals.beat_init.connect
def _publish_start_tasks(sender: Any = None, **_: Any) -> None:
    """Publish the run-at-start entries' tasks as beat starts (a refused publish waits for the first tick)."""
    for task in beat_start_tasks():
        try:
            app.send_task(task)
        except Exception:  # the broker is down: the entry's schedule runs it once it is back
            logger.warning("beat could not publish %s at start; its schedule runs it", task)
