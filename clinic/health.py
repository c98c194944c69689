"""Health of the running clinic: database and broker reachability, and a worker round trip.

The round trip never blocks a request: /healthz sends a HealthPing through the broker when none
is waiting, and a worker answers it by writing to the database. The worker is stalled when a
ping has waited longer than HEALTH_WORKER_TIMEOUT_SECONDS. Only pings sent after the last answered
one count: an older one may never have reached the broker, and the later answer proves a worker
runs now.
"""

import datetime as dt
import logging
import socket

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from clinic.models import HealthPing

logger = logging.getLogger(__name__)


def database_is_reachable() -> bool:
    """Return True when a trivial query succeeds on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "not reachable"; the reason is not the caller's concern
        return False


def broker_is_reachable() -> bool:
    """Return True when the Celery broker accepts a connection within its connect timeout."""
    from clinic.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=app.conf.broker_connection_timeout)
        return True
    except Exception:
        return False


def _publish(ping_id: int) -> None:
    from clinic.tasks import health_ping_answer

    try:
        health_ping_answer.delay(ping_id)
    except Exception:  # the broker went away: the ping waits, and the worker shows as stalled in time
        logger.warning("could not publish health ping %s", ping_id)


def health_ping_send() -> HealthPing:
    """Write a HealthPing and ask a worker, after commit, to answer it."""
    ping = HealthPing.objects.create()
    transaction.on_commit(lambda: _publish(ping.pk))
    return ping


def health_ping_answer(*, ping_id: int) -> None:
    """Mark the ping answered by this process (called by the worker)."""
    HealthPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=socket.gethostname()
    )


def worker_health_check(*, now: dt.datetime, send_ping: bool) -> str:
    """Return "ok", or "stalled" when a ping waited past the timeout; with SEND_PING keep one ping in flight.

    Pings older than the last answered one are settled history and deleted, so the table holds
    a handful of rows however often the check runs.
    """
    timeout = dt.timedelta(seconds=settings.HEALTH_WORKER_TIMEOUT_SECONDS)
    last_answered = (
        HealthPing.objects.filter(answered_at__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    waiting = HealthPing.objects.filter(answered_at__isnull=True)
    if last_answered is not None:
        HealthPing.objects.filter(created_at__lt=last_answered).delete()
        waiting = waiting.filter(created_at__gt=last_answered)
    stalled = waiting.filter(created_at__lte=now - timeout).exists()
    if send_ping and not waiting.filter(created_at__gt=now - timeout).exists():
        health_ping_send()
    return "stalled" if stalled else "ok"


def health_report(*, now: dt.datetime) -> dict[str, str]:
    """Return each part's state: database and broker "ok" / "unreachable", worker "ok" / "stalled" / "unknown"."""
    database = database_is_reachable()
    broker = broker_is_reachable()
    report = {"database": "ok" if database else "unreachable", "broker": "ok" if broker else "unreachable"}
    if not database:
        report["worker"] = "unknown"  # its answers live in the database
    else:
        try:
            report["worker"] = worker_health_check(now=now, send_ping=broker)
        except Exception:  # the database went away between the two checks
            logger.warning("could not check the worker's health pings", exc_info=True)
            report["worker"] = "unknown"
    return report
