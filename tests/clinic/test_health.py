import datetime as dt
from unittest import mock

import pytest
import time_machine

from clinic.health import health_ping_answer
from clinic.models import HealthPing
from tests.celery_worker import wait_until

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_healthz_reports_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_it_is_unreachable(client):
    with mock.patch("clinic.celery.app.connection_for_write", side_effect=OSError("connection refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable", "worker": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_database_when_it_is_unreachable(client):
    from django.db import OperationalError

    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.json()["worker"] == "unknown"


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_keeps_one_ping_in_flight_and_reports_a_worker_that_never_answers_as_stalled(client, settings):
    settings.HEALTH_WORKER_TIMEOUT_SECONDS = 300
    with time_machine.travel(T0, tick=False) as clock:
        assert client.get("/healthz").json()["worker"] == "ok"
        (ping,) = HealthPing.objects.all()
        assert (ping.created_at, ping.answered_at) == (T0, None)
        clock.move_to(T0 + dt.timedelta(seconds=300))
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "ok", "worker": "stalled"}
    # One ping waited the whole time; the second is the one a recovered worker would answer.
    assert list(HealthPing.objects.order_by("created_at").values_list("created_at", "answered_at")) == [
        (T0, None),
        (T0 + dt.timedelta(seconds=300), None),
    ]


@pytest.mark.django_db
def test_healthz_is_ok_again_once_a_later_ping_is_answered_and_forgets_the_old_ones(client, settings):
    settings.HEALTH_WORKER_TIMEOUT_SECONDS = 300
    with time_machine.travel(T0, tick=False) as clock:
        lost = HealthPing.objects.create()  # never reached a worker
        clock.move_to(T0 + dt.timedelta(seconds=301))
        assert client.get("/healthz").json()["worker"] == "stalled"
        retry = HealthPing.objects.exclude(pk=lost.pk).get()
        health_ping_answer(ping_id=retry.pk)
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["worker"] == "ok"
    assert not HealthPing.objects.filter(pk=lost.pk).exists()
    assert HealthPing.objects.filter(answered_at__isnull=True).count() == 1  # the next ping, in flight


@pytest.mark.django_db
def test_healthz_sends_no_ping_while_one_is_in_flight_nor_when_the_broker_is_down(client, settings):
    settings.HEALTH_WORKER_TIMEOUT_SECONDS = 300
    with time_machine.travel(T0, tick=False) as clock:
        client.get("/healthz")
        clock.move_to(T0 + dt.timedelta(seconds=299))
        assert client.get("/healthz").status_code == 200
        assert HealthPing.objects.count() == 1
        clock.move_to(T0 + dt.timedelta(seconds=400))
        with mock.patch("clinic.celery.app.connection_for_write", side_effect=OSError("connection refused")):
            body = client.get("/healthz").json()
    assert (body["broker"], body["worker"]) == ("unreachable", "stalled")
    assert HealthPing.objects.count() == 1


def test_healthz_sees_a_real_worker_answer(celery_worker, client):
    assert client.get("/healthz").status_code == 200
    (ping,) = HealthPing.objects.all()
    wait_until(
        lambda: HealthPing.objects.filter(pk=ping.pk, answered_at__isnull=False).first(),
        timeout=60,
        message="the worker to answer the ping /healthz sent",
    )
    response = client.get("/healthz")
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}
    assert HealthPing.objects.count() == 2  # the answered one and the next round trip
