"""Celery tasks of the follow-ups: thin wrappers that call the services."""

from celery import shared_task
from django.utils import timezone

from tpi import followups, outcome_totals
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
    """Write the next slice of the FHIR bulk export EXPORT_ID, then publish the next step (see tpi.fhir.bulk)."""
    if bulk.fhir_export_step(export_id=export_id):
        fhir_export_run_task.delay(export_id)


@shared_task(name="tpi.fhir_exports_resume")
def fhir_exports_resume_task() -> None:
    """Beat, every TPI_FHIR_EXPORT_RESUME_SECONDS: go on with exports whose step died or never started."""
    bulk.fhir_exports_resume(now=timezone.now())


@shared_task(name="tpi.outcome_totals_refresh")
def outcome_totals_refresh_task() -> None:
    """Beat, every TPI_OUTCOMES_TOTALS_REFRESH_SECONDS: store the results' totals of the settled and changed days.

    A run stores at most TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES procedures' days; while behind it queues
    the next one.
    """
    if outcome_totals.outcome_totals_refresh(now=timezone.now()).more:
        outcome_totals_refresh_task.delay()
