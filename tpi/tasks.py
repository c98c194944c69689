"""Celery tasks of the follow-ups: thin wrappers that call the services."""

from celery import shared_task

from tpi import followups


@shared_task(name="tpi.followups_sweep")
def followups_sweep_task() -> None:
    """Beat, every TPI_FOLLOWUP_SWEEP_SECONDS: send due follow-ups, settle finished deliveries.

    One run settles at most TPI_FOLLOWUP_SWEEP_MAX_BATCHES batches and queues the next run when more
    are due, so a backlog is worked off in short tasks.
    """
    _, more = followups.followups_sweep_step()
    if more:
        followups_sweep_task.delay()
