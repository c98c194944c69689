from unittest import mock

import pytest


@pytest.mark.django_db
def test_healthz_reports_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_it_is_unreachable(client):
    with mock.patch("clinic.celery.app.connection_for_write", side_effect=OSError("connection refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_database_when_it_is_unreachable(client):
    from django.db import OperationalError

    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405
