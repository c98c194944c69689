"""Health of the running clinic: database and broker reachability, and a worker round trip."""

import socket

from django.db import connection, transaction
from django.utils import timezone

from clinic.models import HealthPing


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


def health_ping_send() -> HealthPing:
    """Write a HealthPing and ask a worker, after commit, to answer it."""
    from clinic.tasks import health_ping_answer

    ping = HealthPing.objects.create()
    transaction.on_commit(lambda: health_ping_answer.delay(ping.pk))
    return ping


def health_ping_answer(*, ping_id: int) -> None:
    """Mark the ping answered by this process (called by the worker)."""
    HealthPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=socket.gethostname()
    )
