"""What a Celery worker process runs with: persistent database connections, quiet provider SDK logs."""

import logging

import pytest
from django.db import connections

from clinic.celery import _connections_persist
from clinic.celery import app as celery_app


@pytest.fixture
def restore_conn_max_age():
    before = {alias: connections.settings[alias]["CONN_MAX_AGE"] for alias in connections}
    yield
    for alias, value in before.items():
        connections.settings[alias]["CONN_MAX_AGE"] = value


def test_a_worker_keeps_its_connection_across_tasks(settings, restore_conn_max_age):
    settings.WORKER_CONN_MAX_AGE = 600
    _connections_persist()
    assert connections.settings["default"]["CONN_MAX_AGE"] == 600
    # Celery's Django fixup would otherwise close the connection before and after every task.
    assert celery_app.conf.get("CELERY_DB_REUSE_MAX") == 1000


def test_the_twilio_sdk_logs_only_warnings():
    logger = logging.getLogger("twilio.http_client")
    assert logger.getEffectiveLevel() == logging.WARNING
    assert not logger.isEnabledFor(logging.INFO)
