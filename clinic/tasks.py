from celery import shared_task

from clinic import health


@shared_task(name="clinic.health_ping_answer")
def health_ping_answer(ping_id: int) -> None:
    """Answer a health ping: proves a worker consumes tasks and can write to the database."""
    health.health_ping_answer(ping_id=ping_id)
