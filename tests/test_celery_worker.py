"""Parallel test processes never share broker messages: each has its own namespace (tests/celery_worker.py)."""

import shutil
import uuid

import pytest
import redis
from celery import Celery
from django.conf import settings

from clinic.celery import app as celery_app
from tests.celery_worker import ROOT, broker_namespace, broker_namespace_apply, purge_broker


def probe_app(namespace: str) -> Celery:
    """Return a Celery app configured like the project's, confined to NAMESPACE."""
    probe = Celery("probe", set_as_current=False)
    probe.config_from_object("django.conf:settings", namespace="CELERY")
    broker_namespace_apply(probe, namespace)
    return probe


def queued(probe: Celery) -> int:
    with probe.connection_for_write() as conn:
        return conn.default_channel.queue_declare(queue=probe.conf.task_default_queue, durable=True).message_count


@pytest.fixture
def namespaces():
    """Two fresh namespaces, removed from the broker afterwards."""
    names = [f"probe-{uuid.uuid4().hex[:8]}-{i}" for i in range(2)]
    yield names
    for name in names:
        if settings.BROKER_IS_FILESYSTEM:
            shutil.rmtree(ROOT / "var" / "test-broker" / name, ignore_errors=True)
        else:
            client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
            for key in client.scan_iter(f"test-{name}:*"):
                client.delete(key)


def test_purging_one_namespace_leaves_the_messages_of_another(namespaces):
    ours, theirs = (probe_app(name) for name in namespaces)
    purge_broker(ours)
    purge_broker(theirs)

    theirs.send_task("tests.never_run", args=[1])
    assert (queued(ours), queued(theirs)) == (0, 1)
    purge_broker(ours)
    assert queued(theirs) == 1
    purge_broker(theirs)
    assert queued(theirs) == 0


def test_this_process_publishes_in_its_own_namespace():
    options = celery_app.conf.broker_transport_options
    if settings.BROKER_IS_FILESYSTEM:
        folder = str(ROOT / "var" / "test-broker" / broker_namespace())
        assert (options["data_folder_in"], options["data_folder_out"]) == (folder, folder)
    else:
        assert options["global_keyprefix"] == f"test-{broker_namespace()}:"
