"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os
import uuid
from typing import Any

from celery import Celery, Task, signals
from celery.result import AsyncResult

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")


class PhiInTaskArgumentsError(TypeError):
    """A task was sent with something other than ids: patient data must never sit in the broker."""


def _is_id(value: object) -> bool:
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, str):
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True
    return False


class IdsOnlyTask(Task[Any, Any]):
    """Base task that refuses to publish anything but ids (ints or UUID strings) as arguments."""

    def apply_async(
        self, args: tuple[Any, ...] | None = None, kwargs: dict[str, Any] | None = None, *more: Any, **options: Any
    ) -> AsyncResult[Any]:
        for value in [*(args or ()), *(kwargs or {}).values()]:
            if not _is_id(value):
                raise PhiInTaskArgumentsError(
                    f"task {self.name} may only take ids as arguments, got {type(value).__name__}"
                )
        return super().apply_async(args, kwargs, *more, **options)


app = Celery("clinic", task_cls=IdsOnlyTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.worker_process_init.connect
def _connections_persist(**_: Any) -> None:
    """Keep a worker's database connection across tasks for WORKER_CONN_MAX_AGE seconds."""
    from django.conf import settings
    from django.db import connections

    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = settings.WORKER_CONN_MAX_AGE


@signals.task_prerun.connect
@signals.task_postrun.connect
def _connections_refresh(sender: Task[Any, Any] | None = None, **_: Any) -> None:
    """Close connections past their age or broken (what Django does around each request)."""
    from django.db import close_old_connections

    if sender is not None and getattr(sender.request, "is_eager", False):
        return  # run in the caller's process (tests, eager mode): its connection is not ours to close
    close_old_connections()
