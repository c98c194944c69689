"""Celery tasks of the follow-ups: thin wrappers that call the services."""

from celery import shared_task

from tpi import followups
from tpi.fhir import bulk


@shared_task(name="tpi.followups_sweep")
def followups_sweep_task() -> None:
    """Beat, every TPI_FOLLOWUP_SWEEP_SECONDS: send due follow-ups, settle finished deliveries.

    One run settles at most TPI_FOLLOWUP_SWEEP_MAX_BATCHES batches and queues the next run when more
    are due, so a backlog is worked off in short tasks.
    """
    _, more = followups.followups_sweep_step()
    if more:
        followups_sweep_task.delay()


@shared_task(name="tpi.fhir_export_run")
def fhir_export_run_task(export_id: int) -> None:
    """Write the FHIR bulk export EXPORT_ID's NDJSON files (see tpi.fhir.bulk)."""
    bulk.fhir_export_run(export_id=export_id)
