"""scheduling's Celery tasks: thin wrappers that call one service (arguments are ids only)."""

from celery import shared_task

from scheduling import reminder_sweep
from scheduling.waitlist import waitlist_sweep


@shared_task(name="scheduling.reminders_sweep")
def reminders_sweep_task() -> None:
    """Beat, every SCHEDULING_REMINDER_SWEEP_SECONDS: queue the messages of due appointment reminders.

    One run settles at most SCHEDULING_REMINDER_SWEEP_MAX_BATCHES batches and queues the next run when
    more are due, so a backlog is worked off in short tasks.
    """
    _, more = reminder_sweep.reminders_sweep_step()
    if more:
        reminders_sweep_task.delay()


@shared_task(name="scheduling.waitlist_sweep")
def waitlist_sweep_task() -> None:
    """Expire old waitlist offers and offer the due freed slots (beat, and after a slot frees)."""
    waitlist_sweep()
