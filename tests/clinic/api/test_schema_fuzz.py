"""Fuzz every operation of the OpenAPI schema as a clinic admin: no 5xx, responses match the schema.

The schema is loaded from the app itself (`/api/schema/`) through Django's WSGI app, so endpoints
added later are fuzzed automatically. Bounded: few examples per operation, no per-example deadline.
Every pass runs it over the permission matrix's seeded world with each `{id}` pinned to a real row
(so generated bodies and filters meet real records, not just 404s): FUZZ_EXAMPLES per operation
(5; the PostgreSQL pass sets 25 through the environment variable `TEST_FUZZ_EXAMPLES`).
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import checks

from clinic import roles
from tests.clinic.security.test_permission_matrix import _url, world  # noqa: F401  (the fixture)
from tests.factories import PatientFactory, staff_user

MAX_EXAMPLES = int(os.environ.get("TEST_FUZZ_EXAMPLES", "5"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture
def api_token(db, monkeypatch) -> str:
    """A clinic admin's token, some patients to find, and no throttling in the way."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    PatientFactory.create_batch(3)
    return Token.objects.create(user=staff_user(roles.CLINIC_ADMIN, username="fuzzer")).key


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, without closing the test transaction's connection after each request
    (what Django's own test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(api_token, wsgi_app):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": f"Token {api_token}"}
    )


def fuzz_operation(operation, token: str, ids: dict | None = None) -> None:
    """Run MAX_EXAMPLES generated requests against OPERATION and validate every response.

    With IDS (resource -> a seeded row's id), an `{id}` in the path names that row.
    """
    pinned = int(_pinned_id(operation.path, ids)) if ids and "{id}" in operation.path else None

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def run(case):
        if pinned is not None:
            case.path_parameters = {**(case.path_parameters or {}), "id": pinned}
        response = case.call(headers={"Authorization": f"Token {token}"})
        case.validate_response(response, checks=CHECKS)

    run()


def _pinned_id(path: str, ids: dict) -> str:
    """Return the seeded id the matrix's URL helper puts into PATH's `{id}`."""
    filled = _url(path, ids)
    return filled[len(path.split("{id}")[0]) :].split("/")[0]


@pytest.mark.slow
def test_api_never_fails_and_matches_its_schema(api_schema, api_token, world):  # noqa: F811
    """Every pass (about 15 s at 5 examples an operation on SQLite)."""
    # schemathesis' pytest plugin (`from_fixture`) does not support pytest 9 yet, so the operations
    # are driven directly; each failure names its operation.
    failures = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations
    for operation in operations:
        try:
            fuzz_operation(operation, api_token, world["ids"])
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = exc
    assert not failures, "\n\n".join(f"{label}:\n{exc}" for label, exc in failures.items())


def test_the_schema_covers_the_export_endpoint(api_schema):
    assert "/api/patients/{id}/export/" in api_schema.raw_schema["paths"]
