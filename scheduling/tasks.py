"""scheduling's Celery tasks: thin wrappers that call one service (arguments are ids only)."""

from celery import shared_task

from scheduling.waitlist import waitlist_sweep


@shared_task(name="scheduling.waitlist_sweep")
def waitlist_sweep_task() -> None:
    """Expire old waitlist offers and offer the due freed slots (beat, and after a slot frees)."""
    waitlist_sweep()
