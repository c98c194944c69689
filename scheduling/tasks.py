"""Celery tasks of scheduling: thin wrappers that call the services."""

from celery import shared_task

from scheduling import reminder_sweep


@shared_task(name="scheduling.reminders_sweep")
def reminders_sweep_task() -> None:
    """Beat, every SCHEDULING_REMINDER_SWEEP_SECONDS: queue the messages of due appointment reminders.

    One run settles at most SCHEDULING_REMINDER_SWEEP_MAX_BATCHES batches and queues the next run when
    more are due, so a backlog is worked off in short tasks.
    """
    _, more = reminder_sweep.reminders_sweep_step()
    if more:
        reminders_sweep_task.delay()
