import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import override_settings

from clinic import roles
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def attempt(client, password):
    return client.post(LOGIN, {"username": "frontdesk", "password": password})


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=dt.timedelta(minutes=30))
def test_admin_login_locks_out_after_the_failure_limit_and_reopens_after_cool_off(client):
    staff_user(roles.FRONT_DESK, username="frontdesk")
    with time_machine.travel(START, tick=False) as traveller:
        assert [attempt(client, "wrong").status_code for _ in range(2)] == [200, 200]
        assert attempt(client, "wrong").status_code == 429  # the third failure locks
        locked = attempt(client, "correct-horse-battery")
        assert locked.status_code == 429
        assert "_auth_user_id" not in client.session
        # Attempts while locked out count too, even with the right password.
        assert AccessAttempt.objects.get(username="frontdesk").failures_since_start == 4

        traveller.shift(dt.timedelta(minutes=31))
        response = attempt(client, "correct-horse-battery")
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_is_per_user_and_address(client):
    staff_user(roles.FRONT_DESK, username="frontdesk")
    staff_user(roles.FRONT_DESK, username="other")
    for _ in range(3):
        attempt(client, "wrong")
    response = client.post(LOGIN, {"username": "other", "password": "correct-horse-battery"})
    assert response.status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_success_before_the_limit_resets_the_count(client):
    staff_user(roles.FRONT_DESK, username="frontdesk")
    attempt(client, "wrong")
    attempt(client, "wrong")
    assert attempt(client, "correct-horse-battery").status_code == 302
    assert not AccessAttempt.objects.filter(username="frontdesk").exists()


def test_force_login_and_client_login_still_work_in_tests(client):
    user = staff_user(roles.FRONT_DESK, username="frontdesk")
    client.force_login(user)
    assert client.get("/admin/").status_code == 200
    client.logout()
    assert client.login(username="frontdesk", password="correct-horse-battery")
    assert client.get("/admin/").status_code == 200
