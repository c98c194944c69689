import datetime as dt

import pytest
import time_machine
from django.conf import settings

from clinic import roles
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_session_settings():
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_session_expires_after_fifteen_idle_minutes_but_activity_keeps_it_alive(client):
    user = staff_user(roles.FRONT_DESK)
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user)
        for _ in range(4):  # 4 x 14 minutes of steady work: each request restarts the idle clock
            traveller.shift(dt.timedelta(minutes=14))
            assert client.get("/admin/").status_code == 200
        traveller.shift(dt.timedelta(minutes=15, seconds=1))
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_session_cookie_ends_with_the_browser(client):
    client.force_login(staff_user(roles.FRONT_DESK))
    response = client.get("/admin/")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""
    assert cookie["httponly"] is True
