import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x" * 30 + "-production-secret-for-the-settings-test"


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "TESTING", "OTP_REQUIRED")}
    return env | {"DEBUG": "false", "SECRET_KEY": SECRET, "ALLOWED_HOSTS": "clinic.example"} | extra


def production_settings(**extra) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ["
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_HTTPONLY', 'X_FRAME_OPTIONS', "
        "'SECURE_CONTENT_TYPE_NOSNIFF', 'OTP_REQUIRED', 'SESSION_COOKIE_AGE', 'SESSION_EXPIRE_AT_BROWSER_CLOSE', "
        "'AXES_FAILURE_LIMIT', 'DATA_UPLOAD_MAX_MEMORY_SIZE', 'MIDDLEWARE']} | "
        "{'auth': s.REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(DJANGO_SETTINGS_MODULE="clinic.settings", **extra),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_defaults_are_locked_down():
    s = production_settings()
    assert s["SESSION_COOKIE_SECURE"]
    assert s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_SSL_REDIRECT"]
    assert s["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert s["SESSION_COOKIE_HTTPONLY"]
    assert s["CSRF_COOKIE_HTTPONLY"]
    assert s["X_FRAME_OPTIONS"] == "DENY"
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert s["OTP_REQUIRED"] is True
    assert (s["SESSION_COOKIE_AGE"], s["SESSION_EXPIRE_AT_BROWSER_CLOSE"]) == (900, True)
    assert s["AXES_FAILURE_LIMIT"] == 5
    assert s["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 1024 * 1024
    assert s["auth"] == [  # Token first: its challenge makes missing or bad credentials a 401
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ]
    middleware = s["MIDDLEWARE"]
    assert middleware[-1] == "axes.middleware.AxesMiddleware"
    auth = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert middleware[auth + 1] == "django_otp.middleware.OTPMiddleware"
    assert "django.middleware.csrf.CsrfViewMiddleware" in middleware


def test_security_knobs_come_from_the_environment():
    s = production_settings(SESSION_IDLE_MINUTES="5", AXES_FAILURE_LIMIT="10", OTP_REQUIRED="false")
    assert (s["SESSION_COOKIE_AGE"], s["AXES_FAILURE_LIMIT"], s["OTP_REQUIRED"]) == (300, 10, False)


def test_a_typo_in_a_security_boolean_stops_start_up():
    with pytest.raises(subprocess.CalledProcessError) as excinfo:
        production_settings(OTP_REQUIRED="ture")
    assert "OTP_REQUIRED='ture' is not a boolean" in excinfo.value.stderr


def test_check_deploy_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
