"""A real worker process consumes a real task from the configured broker (filesystem or Redis)."""

import pytest
from django.db import transaction

from clinic.health import health_ping_send
from clinic.models import HealthPing
from tests.celery_worker import wait_until

pytestmark = pytest.mark.slow


def test_worker_answers_a_health_ping_written_by_the_web_side(celery_worker):
    with transaction.atomic():
        ping = health_ping_send()

    answered = wait_until(
        lambda: HealthPing.objects.filter(pk=ping.pk, answered_at__isnull=False).first(),
        timeout=60,
        message="the worker to answer the ping",
    )

    assert answered.answered_by != ""
    assert HealthPing.objects.count() == 1
