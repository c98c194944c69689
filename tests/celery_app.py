"""The Celery app of the worker and beat processes the tests start: on their test process's broker namespace."""

import os

from clinic.celery import app
from tests.celery_worker import broker_namespace_apply

broker_namespace_apply(app, os.environ["TEST_BROKER_NAMESPACE"])

__all__ = ["app"]
