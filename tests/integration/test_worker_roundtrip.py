"""A real worker process on Redis and PostgreSQL: a round trip, and no task lost when a worker dies."""

import time

import pytest
from django.conf import settings
from django.db import transaction

from clinic.health import health_ping_send
from clinic.models import HealthPing
from tests.celery_worker import WorkerProcess, purge_broker, wait_until
from tests.integration.crash_tasks import block_first_delivery

pytestmark = pytest.mark.slow


def _answered(ping_id):
    return HealthPing.objects.filter(pk=ping_id, answered_at__isnull=False).first()


def test_a_worker_consumes_a_task_from_redis_and_writes_to_postgres(celery_worker):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    with transaction.atomic():
        ping = health_ping_send()

    answered = wait_until(lambda: _answered(ping.pk), timeout=60, message="the worker to answer")

    assert answered.answered_by
    assert HealthPing.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_is_killed_mid_run_is_redelivered_to_the_next_worker(tmp_path):
    purge_broker()
    # A short visibility timeout so that the restarted worker restores the unacknowledged message
    # within the test; production uses CELERY_BROKER_VISIBILITY_TIMEOUT (1 hour).
    env = {
        "CRASH_MARKER_DIR": str(tmp_path),
        "CELERY_BROKER_VISIBILITY_TIMEOUT": "3",
        "CELERY_TASK_TIME_LIMIT": "2",
        "CELERY_TASK_SOFT_TIME_LIMIT": "1",
    }
    include = ("tests.integration.crash_tasks",)
    first = WorkerProcess(env=env, include=include).start()
    ping = HealthPing.objects.create()
    block_first_delivery.delay(ping.pk)
    wait_until(lambda: (tmp_path / f"ping-{ping.pk}").exists(), timeout=30, message="the first delivery to start")

    first.kill()
    assert _answered(ping.pk) is None
    # kombu restores unacknowledged messages older than the visibility timeout when a worker starts.
    time.sleep(4)

    second = WorkerProcess(env=env, include=include).start()
    try:
        answered = wait_until(lambda: _answered(ping.pk), timeout=60, message="the redelivered task to run")
    finally:
        second.stop()
    assert answered.answered_at is not None
    assert HealthPing.objects.count() == 1
