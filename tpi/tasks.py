"""Celery tasks of the follow-ups: thin wrappers that call the services."""

from celery import shared_task

from tpi import followups


@shared_task(name="tpi.followups_sweep")
def followups_sweep_task() -> None:
    """Beat, every TPI_FOLLOWUP_SWEEP_SECONDS: send due follow-ups, settle finished deliveries."""
    followups.followups_sweep()
