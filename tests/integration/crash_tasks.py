"""A task for the crash test only: the first delivery blocks until killed, a redelivery answers."""

from pathlib import Path

from celery import shared_task

from clinic.health import health_ping_answer


@shared_task(name="tests.block_first_delivery")
def block_first_delivery(ping_id: int) -> None:
    import os
    import time

    marker = Path(os.environ["CRASH_MARKER_DIR"]) / f"ping-{ping_id}"
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(120)  # killed here by the test
    health_ping_answer(ping_id=ping_id)
