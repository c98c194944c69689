import os

import pytest
import time_machine
from django.conf import settings

from clinic.celery import app as celery_app
from tests.celery_worker import WorkerProcess, purge_broker


@pytest.fixture(autouse=True)
def _celery_eager_unless_real_worker(request):
    """Run tasks inline in unit tests; tests that use a real worker publish to the real broker."""
    eager = "celery_worker" not in request.fixturenames and not request.node.get_closest_marker("integration")
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    celery_app.conf.task_eager_propagates = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker(transactional_db):
    """A real `celery worker` subprocess on the test database and the configured broker."""
    purge_broker()
    worker = WorkerProcess().start()
    yield worker
    worker.stop()


def pytest_collection_modifyitems(config, items):
    """Skip server-backed tests when no servers are configured, unless they are required (CI)."""
    for item in items:
        if "tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)
    servers_configured = settings.IS_POSTGRES and settings.CELERY_BROKER_URL.startswith("redis://")
    if servers_configured:
        return
    if os.environ.get("REQUIRE_SERVER_TESTS"):
        raise pytest.UsageError("REQUIRE_SERVER_TESTS is set but DATABASE_URL / CELERY_BROKER_URL are not servers")
    skip = pytest.mark.skip(reason="needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...")
    for item in items:
        if item.get_closest_marker("integration"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start each test with an empty cache: API throttling counts live there."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# PIN_CLOCK=2026-11-30T02:30:00Z runs every test as if started at that instant (the clock keeps
# ticking), so the suite can be proven at night in UTC (another local date) and on DST change days.
PIN_CLOCK = os.environ.get("PIN_CLOCK", "")


@pytest.fixture(autouse=True)
def _pinned_clock():
    """Start each test at PIN_CLOCK when it is set; tests that travel themselves travel from there."""
    if not PIN_CLOCK:
        yield
        return
    with time_machine.travel(PIN_CLOCK, tick=True):
        yield
