"""Fixtures and hooks shared by the whole suite; a folder's conftest holds only what that folder alone uses."""

import os

import pytest
import time_machine
from django.conf import settings

from clinic.celery import app as celery_app
from clinic.messaging.backends import locmem
from tests.celery_worker import WorkerProcess, broker_namespace, broker_namespace_apply, purge_broker
from tests.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub

# A test whose call takes longer than this should carry @pytest.mark.slow.
SLOW_SECONDS = 3.0

# Parallel test processes (pytest-xdist) each publish and consume on their own part of the broker.
broker_namespace_apply(celery_app, broker_namespace())


@pytest.fixture(autouse=True)
def _celery_eager_unless_real_worker(request):
    """Run tasks inline in unit tests; tests that use a real worker publish to the real broker."""
    real_worker = {"celery_worker", "celery_workers"} & set(request.fixturenames)
    eager = not real_worker and not request.node.get_closest_marker("integration")
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    celery_app.conf.task_eager_propagates = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker(transactional_db):
    """A real `celery worker` subprocess on the test database and this test process's broker namespace."""
    purge_broker()
    worker = WorkerProcess().start()
    yield worker
    worker.stop()


@pytest.fixture
def celery_workers(transactional_db):
    """Start real `celery worker` subprocesses with `celery_workers(**WorkerProcess kwargs)`; all stop at the end."""
    started: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(**kwargs).start()
        started.append(worker)
        return worker

    purge_broker()
    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start each test with an empty cache: API throttling counts live there."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords cheaply, even without TESTING=true: the real hasher costs ~1 s per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sms_outbox(settings):
    """Route SMS to the in-memory backend and hand its outbox to the test."""
    settings.SMS_BACKEND = "clinic.messaging.backends.locmem.SmsBackend"
    locmem.outbox.clear()
    locmem.failures.clear()
    yield locmem.outbox
    locmem.outbox.clear()
    locmem.failures.clear()


@pytest.fixture
def twilio_stub(settings):
    """A local Twilio stand-in with the Twilio backend pointed at it (2 s HTTP timeout in this process)."""
    stub = TwilioStub().start()
    settings.SMS_BACKEND = "clinic.messaging.backends.twilio.SmsBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_API_BASE_URL = stub.url
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 2.0
    yield stub
    stub.stop()


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


_unmarked_slow: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Note each test whose call (not its fixtures: the first one pays for the test database) is slow yet unmarked."""
    if report.when == "call" and report.duration > SLOW_SECONDS and "slow" not in report.keywords:
        _unmarked_slow[report.nodeid] = report.duration


def pytest_terminal_summary(terminalreporter):
    """Name the tests over SLOW_SECONDS without a `slow` marker, so that `-m "not slow"` stays quick."""
    if _unmarked_slow:
        terminalreporter.section(f"calls over {SLOW_SECONDS:.0f} s without @pytest.mark.slow")
        for nodeid, seconds in sorted(_unmarked_slow.items()):
            terminalreporter.line(f"{seconds:6.2f}s {nodeid}")


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
