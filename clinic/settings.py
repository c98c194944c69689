"""Settings for the TPI clinic, read from the environment with django-environ.

With no environment at all the clinic runs in development mode on the embedded default: SQLite,
Celery over kombu's filesystem transport, console SMS and email. Production sets DEBUG=false and
must then provide SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and CELERY_BROKER_URL; see .env.example,
which lists every environment variable read here, in the same order, with its default.

Grouped by topic; each setting is assigned once. An app's tunables carry the app's prefix
(SCHEDULING_, TPI_); nothing here names an app's modules except INSTALLED_APPS: beat entries,
reply handlers, URLs, admin shortcuts and schema names are registered by the apps themselves.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# django-environ's bool parsing treats any unknown word as False; a typo in production must fail.
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Return the boolean environment variable NAME, refusing anything but clear yes/no words."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_amounts(name: str, default: dict[str, float]) -> dict[str, float]:
    """Return DEFAULT updated by NAME ("agent=number,agent=number"); refuse anything not a number."""
    raw = env.dict(name, default={})  # (django-environ's value cast keeps only the first pair)
    try:
        return {**default, **{str(key).strip(): float(value) for key, value in raw.items()}}
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must look like agent=number,agent=number") from exc


# --- Core and security ------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", True)
TESTING = env_bool("TESTING", False)

DEV_SECRET_KEY = "django-insecure-development-only-never-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a random value of 50+ characters")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DEBUG is off: set ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "phonenumber_field",
    "clinic",
    "clinic.messaging",
    "scheduling",
    "tpi",
    "rest_framework.authtoken",
    "axes",
    "auditlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "clinic.accounts",
    "clinic.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Oversized bodies are refused before any view runs; no request body is ever logged.
    "clinic.security.middleware.RequestSizeLimitMiddleware",
    "clinic.security.middleware.RequestLogMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # must stay last
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,  # each app's own templates/, e.g. the messages it sends
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Production hardening: cookies, HTTPS and headers.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=int(timedelta(days=365).total_seconds()))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Payload limits: DRF parses JSON from the stream, so clinic.security enforces this for every request.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)

# Proxies in front of the web processes that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Throttling needs a cache shared by every web process in production (e.g. redis://.../2).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Database ---------------------------------------------------------------------------------
_DATABASE = env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
IS_POSTGRES = _DATABASE["ENGINE"].endswith("postgresql")
if IS_POSTGRES:
    _DATABASE_EXTRA: dict[str, Any] = {"CONN_HEALTH_CHECKS": True} if not DEBUG else {}
else:
    _DATABASE_EXTRA = {
        # Web, worker and beat share one SQLite file: WAL lets readers run beside the writer, IMMEDIATE
        # transactions take the write lock up front so two writers queue instead of deadlocking.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # A file (not :memory:) so that a real worker process can see the test database.
        "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
    }
DATABASES = {
    "default": {
        **_DATABASE,
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=0),
        **_DATABASE_EXTRA,
    }
}
# Celery worker processes keep their connection across tasks for this many seconds (the web's stays
# CONN_MAX_AGE); a connection per task costs more than a delivery's own queries. Applied by clinic.celery.
WORKER_CONN_MAX_AGE = env.int("WORKER_CONN_MAX_AGE", default=600)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Locale and time --------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# Staff read dates as 2026-12-27 and times as 21:35 everywhere (clinic/formats/en), as clinic.clock writes them.
FORMAT_MODULE_PATH = ["clinic.formats"]
LANGUAGES = [("en", "English"), ("es", "Spanish")]
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")  # the clinic's own zone
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Authentication and sessions ----------------------------------------------------------------
# Axes first: it refuses locked-out logins before the model backend checks the password.
AUTHENTICATION_BACKENDS = [
    "clinic.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:  # a fast hasher: the real one costs about a second per test user
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Sessions end after SESSION_IDLE_MINUTES without a request, and when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=15) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_CLIENT_IP_CALLABLE = "clinic.security.client_ip.client_ip"

# Two-factor sign-in (TOTP) for staff: on by default in production, off in development and tests.
OTP_REQUIRED = env_bool("OTP_REQUIRED", not DEBUG and not TESTING)

# Break-glass: how long an emergency grant to one chart lasts.
BREAK_GLASS_MINUTES = env.int("BREAK_GLASS_MINUTES", default=60)

# Audit of writes (django-auditlog): the actor comes from clinic.audit.middleware.
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- Clinic -----------------------------------------------------------------------------------
CLINIC_NAME = env.str("CLINIC_NAME", default="Riverside Pain Clinic")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="+15555550100")
# The address the HELP answer gives patients ("" leaves it out).
CLINIC_EMAIL = env.str("CLINIC_EMAIL", default="frontdesk@clinic.example")
PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DB_FORMAT = "E164"
OTP_TOTP_ISSUER = CLINIC_NAME

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    # Token first: its challenge (`WWW-Authenticate: Token`) turns missing or bad credentials into 401
    # (RFC 7235); a signed-in user without the right still gets 403. Sessions are tried next.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Views that keep the default permissions still need two-factor sign-in for sessions.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "clinic.roles.OTPSatisfied"],
    # The API conventions (docs/decisions.md): strict filters, one paginator, one error shape.
    "DEFAULT_FILTER_BACKENDS": ["clinic.api.filters.ClinicFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "clinic.api.pagination.CappedPagePagination",
    "PAGE_SIZE": 50,
    # The schema documents the shared error answers (clinic/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "clinic.api.schema.ClinicAutoSchema",
    "EXCEPTION_HANDLER": "clinic.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="30/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        # Signed webhooks are anonymous to DRF and have their own rate per client address, checked
        # after the signature: a busy SMS provider sends far more callbacks than the anonymous rate.
        "webhook": env.str("WEBHOOK_THROTTLE", default="1200/minute"),
    },
}
SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "TPI clinic API",
    "DESCRIPTION": "Patients, trigger point injection procedures, scheduling and follow-ups.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and the API docs are behind sign-in like the rest of /api/.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "clinic.roles.OTPSatisfied"],
    # SMS and email consent share one choice set: one enum name. Apps add theirs (clinic.api.enum_names).
    "ENUM_NAME_OVERRIDES": {"ConsentMethodEnum": "clinic.models.patients.Patient.ConsentMethod"},
}

# --- Celery -----------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport, no server needed; the web, the worker and beat
# exchange messages through files under var/broker. Production: redis://.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
BROKER_IS_FILESYSTEM = CELERY_BROKER_URL.startswith("filesystem://")
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# Redis redelivers an unacknowledged task after the visibility timeout; it must exceed every
# task's run time, or a slow task would run twice (checked by clinic.checks).
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600)
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_BROKER_DIR),
        "data_folder_out": str(_BROKER_DIR),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
    if BROKER_IS_FILESYSTEM
    else {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
)
if BROKER_IS_FILESYSTEM:
    _BROKER_DIR.mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env.int("CELERY_BROKER_CONNECTION_TIMEOUT", default=4)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=30.0)
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection around every task unless tasks may share it; with
# WORKER_CONN_MAX_AGE they do (clinic.celery closes an old or broken one before and after each task),
# and the fixup still starts afresh after this many tasks.
CELERY_DB_REUSE_MAX = 1000 if WORKER_CONN_MAX_AGE else None
# Beat's entries are registered by the app that owns each task (clinic.beat); due times of
# follow-ups and messages live in the database, beat only wakes the sweeps up.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# /healthz reports the worker stalled when a health ping waited this long for a worker to answer;
# at least the task time limit, so one long task on a busy worker is not taken for a stall.
HEALTH_WORKER_TIMEOUT_SECONDS = env.int("HEALTH_WORKER_TIMEOUT_SECONDS", default=300)

# --- Email, SMS and messaging (clinic.messaging) ------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)  # EMAIL_BACKEND, EMAIL_HOST, ... (django-environ's documented form)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{CLINIC_NAME} <no-reply@clinic.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMS_BACKEND = env.str("SMS_BACKEND", default="clinic.messaging.backends.console.SmsBackend")
SMS_FROM_NUMBER = env.str("SMS_FROM_NUMBER", default="+15555550199")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Only for tests and local stubs: where the Twilio SDK sends its HTTP requests.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
TWILIO_HTTP_TIMEOUT_SECONDS = env.float("TWILIO_HTTP_TIMEOUT_SECONDS", default=30.0)
# The public URL Twilio signs (behind a proxy the request's own URL differs), e.g. https://clinic.example
TWILIO_WEBHOOK_BASE_URL = env.str("TWILIO_WEBHOOK_BASE_URL", default="")
# Automated messages go out only inside this window, in the patient's own time zone.
MESSAGING_QUIET_HOURS_START = env.str("MESSAGING_QUIET_HOURS_START", default="09:00")  # window opens
MESSAGING_QUIET_HOURS_END = env.str("MESSAGING_QUIET_HOURS_END", default="20:00")  # window closes
MESSAGING_MAX_ATTEMPTS = env.int("MESSAGING_MAX_ATTEMPTS", default=5)
MESSAGING_RETRY_BASE_SECONDS = env.int("MESSAGING_RETRY_BASE_SECONDS", default=60)  # doubles each attempt
MESSAGING_RETRY_MAX_SECONDS = env.int("MESSAGING_RETRY_MAX_SECONDS", default=3600)
# A message still "sending" this long after its attempt began lost its worker: outcome unknown.
MESSAGING_SENDING_TIMEOUT_SECONDS = env.int("MESSAGING_SENDING_TIMEOUT_SECONDS", default=300)
MESSAGING_SWEEP_SECONDS = env.int("MESSAGING_SWEEP_SECONDS", default=60)
MESSAGING_SWEEP_BATCH = env.int("MESSAGING_SWEEP_BATCH", default=200)
# How many message ids one delivery task carries (a sweep's batch is published in tasks of this size).
MESSAGING_DELIVER_CHUNK = env.int("MESSAGING_DELIVER_CHUNK", default=25)
# A queued message whose delivery task was published this long ago and has not run is published again
# (the task was lost); a younger one is left to its waiting task, so a backlog is never queued twice.
MESSAGING_REPUBLISH_AFTER_SECONDS = env.int("MESSAGING_REPUBLISH_AFTER_SECONDS", default=600)
# Words (besides those the apps register, clinic.messaging.content) no message may contain.
MESSAGING_PHI_EXTRA_WORDS = env.list("MESSAGING_PHI_EXTRA_WORDS", default=[])
# Segments one SMS may take (GSM-7: 160 characters, 153 per part; UCS-2, e.g. Spanish "á": 70, 67 per part).
MESSAGING_SMS_MAX_SEGMENTS = env.int("MESSAGING_SMS_MAX_SEGMENTS", default=2)
# An automated SMS carries "Reply STOP to opt out" unless one to that number did within these days.
MESSAGING_OPT_OUT_FOOTER_DAYS = env.int("MESSAGING_OPT_OUT_FOOTER_DAYS", default=30)

# --- Logging ----------------------------------------------------------------------------------
# No PHI in logs: every handler scrubs emails, phone numbers and PHI-bearing fields (defence in
# depth; code never logs them). SQL is never logged at DEBUG (parameters hold patient data).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub_phi": {"()": "clinic.security.logging.PHIScrubFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub_phi"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "clinic.requests": {"level": env.str("REQUEST_LOG_LEVEL", default="INFO")},
        # The Twilio SDK logs every HTTP request and response at INFO (about 11 lines per SMS).
        "twilio.http_client": {"level": "WARNING"},
    },
}

# --- Scheduling (scheduling/) -------------------------------------------------------------------
# Slot finder grid, how many alternatives a series preview offers per problem occurrence, the
# longest series one commit may book, and the window a provider's iCalendar feed covers. Clinic
# admins (clinic.roles.is_clinic_admin) may book outside working hours.
SCHEDULING_SLOT_STEP_MINUTES = env.int("SCHEDULING_SLOT_STEP_MINUTES", default=15)
SCHEDULING_SERIES_ALTERNATIVES = env.int("SCHEDULING_SERIES_ALTERNATIVES", default=3)
SCHEDULING_SERIES_MAX_OCCURRENCES = env.int("SCHEDULING_SERIES_MAX_OCCURRENCES", default=52)
SCHEDULING_SERIES_ALTERNATIVE_DAYS = env.int("SCHEDULING_SERIES_ALTERNATIVE_DAYS", default=3)
SCHEDULING_FEED_PAST_DAYS = env.int("SCHEDULING_FEED_PAST_DAYS", default=30)
SCHEDULING_FEED_FUTURE_DAYS = env.int("SCHEDULING_FEED_FUTURE_DAYS", default=180)
# Minutes during which the person who changed an appointment's status (or a clinic admin) may undo it.
SCHEDULING_STATUS_UNDO_MINUTES = env.int("SCHEDULING_STATUS_UNDO_MINUTES", default=5)
# Public holidays prefilled as clinic-wide closures (`manage.py holidays_import`, the demo) come from
# the `holidays` package for this ISO 3166 country and, when set, its subdivision (state, province).
SCHEDULING_HOLIDAYS_COUNTRY = env.str("SCHEDULING_HOLIDAYS_COUNTRY", default="US")
SCHEDULING_HOLIDAYS_SUBDIVISION = env.str("SCHEDULING_HOLIDAYS_SUBDIVISION", default="")
# Reminders before a visit, for visit types that do not set their own lead times: comma-separated
# amounts and units ("24 hours", "2 days, 2 hours") or "none" (scheduling/lead_times.py; a system check
# refuses a bad value). The reminder sweep wakes every SCHEDULING_REMINDER_SWEEP_SECONDS (due times live
# in the database) and claims at most BATCH reminders per statement, MAX_BATCHES per task.
SCHEDULING_REMINDER_LEAD_TIMES = env.str("SCHEDULING_REMINDER_LEAD_TIMES", default="24 hours")
SCHEDULING_REMINDER_SWEEP_SECONDS = env.int("SCHEDULING_REMINDER_SWEEP_SECONDS", default=60)
SCHEDULING_REMINDER_SWEEP_BATCH = env.int("SCHEDULING_REMINDER_SWEEP_BATCH", default=200)
SCHEDULING_REMINDER_SWEEP_MAX_BATCHES = env.int("SCHEDULING_REMINDER_SWEEP_MAX_BATCHES", default=50)
# The waitlist (scheduling.waitlist): beat wakes its sweep; an offer of a freed slot goes to this many
# waiting patients at once (in the order they joined) and lives this long; a slot starting sooner than the
# notice is not offered.
SCHEDULING_WAITLIST_SWEEP_SECONDS = env.int("SCHEDULING_WAITLIST_SWEEP_SECONDS", default=60)
SCHEDULING_WAITLIST_OFFER_BATCH = env.int("SCHEDULING_WAITLIST_OFFER_BATCH", default=3)
SCHEDULING_WAITLIST_OFFER_MINUTES = env.int("SCHEDULING_WAITLIST_OFFER_MINUTES", default=120)
SCHEDULING_WAITLIST_MIN_NOTICE_MINUTES = env.int("SCHEDULING_WAITLIST_MIN_NOTICE_MINUTES", default=120)

# --- TPI (tpi/): procedures, warnings, follow-ups, treatment plans -------------------------------
# Follow-up due times after `performed_at`: the 72-hour check-in (relief usually starts 24-72 h
# after the injection) and the reassessment "one month" later, taken as 30 days (docs/decisions.md).
TPI_CHECKIN_AFTER = timedelta(hours=env.int("TPI_CHECKIN_AFTER_HOURS", default=72))
TPI_REASSESSMENT_AFTER = timedelta(days=env.int("TPI_REASSESSMENT_AFTER_DAYS", default=30))
# The massage follows the injection, usually after the provider signed: a therapist may attach a
# massage note to a signed procedure until this long after the later of performed and signed.
TPI_MASSAGE_NOTE_WINDOW = timedelta(hours=env.int("TPI_MASSAGE_NOTE_WINDOW_HOURS", default=24))
# Pre-sign warnings (never blocks): the same site injected fewer than N days ago, and the patient's
# cumulative steroid dose (mg, all agents) over a rolling window above a threshold.
TPI_SAME_SITE_MIN_DAYS = env.int("TPI_SAME_SITE_MIN_DAYS", default=14)
TPI_STEROID_WINDOW_DAYS = env.int("TPI_STEROID_WINDOW_DAYS", default=90)
TPI_STEROID_CUMULATIVE_MAX_MG = env.float("TPI_STEROID_CUMULATIVE_MAX_MG", default=80.0)
# Per-injection sanity limits per agent (values must be positive and at most these); format
# "agent=value,agent=value". They catch typing errors; they are not dosing guidance.
TPI_ANAESTHETIC_MAX_VOLUME_ML = env_amounts(
    "TPI_ANAESTHETIC_MAX_VOLUME_ML",
    default={"lidocaine": 10.0, "bupivacaine": 10.0, "ropivacaine": 10.0, "procaine": 10.0},
)
TPI_ANAESTHETIC_MAX_CONCENTRATION_PERCENT = env_amounts(
    "TPI_ANAESTHETIC_MAX_CONCENTRATION_PERCENT",
    default={"lidocaine": 2.0, "bupivacaine": 0.5, "ropivacaine": 1.0, "procaine": 2.0},
)
TPI_STEROID_MAX_DOSE_MG = env_amounts(
    "TPI_STEROID_MAX_DOSE_MG",
    default={"triamcinolone": 40.0, "methylprednisolone": 80.0, "dexamethasone": 8.0, "betamethasone": 12.0},
)
# The follow-up sweep: beat wakes it every TPI_FOLLOWUP_SWEEP_SECONDS; due times live in the database.
TPI_FOLLOWUP_SWEEP_SECONDS = env.int("TPI_FOLLOWUP_SWEEP_SECONDS", default=60)
TPI_FOLLOWUP_SWEEP_BATCH = env.int("TPI_FOLLOWUP_SWEEP_BATCH", default=1000)
# One sweep task settles at most this many batches, then queues the next task if more are due (short tasks).
TPI_FOLLOWUP_SWEEP_MAX_BATCHES = env.int("TPI_FOLLOWUP_SWEEP_MAX_BATCHES", default=20)
# A follow-up the sweep reaches later than this after its due time is expired, not sent: a "72-hour"
# check-in days late is noise; a one-month reassessment is still useful a week late (docs/decisions.md).
TPI_FOLLOWUP_CHECKIN_GRACE = timedelta(hours=env.int("TPI_FOLLOWUP_CHECKIN_GRACE_HOURS", default=48))
TPI_FOLLOWUP_REASSESSMENT_GRACE = timedelta(days=env.int("TPI_FOLLOWUP_REASSESSMENT_GRACE_DAYS", default=7))
# Follow-ups of one kind for one patient due within this of the first go as one message (two procedures
# on one clinic day: one check-in); the later ones are sent with the first, a reply answers them all.
TPI_FOLLOWUP_COALESCE_WINDOW = timedelta(hours=env.int("TPI_FOLLOWUP_COALESCE_HOURS", default=12))
# A numeric SMS reply counts as the answer to a follow-up sent at most this long ago.
TPI_FOLLOWUP_REPLY_WINDOW = timedelta(days=env.int("TPI_FOLLOWUP_REPLY_WINDOW_DAYS", default=7))
# The triage inbox (clinic.messaging.triage): a pain answer at or above this level (or worse than before
# the procedure) needs a person; a reply naming one of these words (whole words, any case) is urgent.
TPI_TRIAGE_PAIN_LEVEL = env.int("TPI_TRIAGE_PAIN_LEVEL", default=7)
TPI_TRIAGE_SYMPTOM_WORDS = env.list(
    "TPI_TRIAGE_SYMPTOM_WORDS",
    default=[
        "bleeding", "bleed", "fever", "numbness", "numb", "weakness", "weak",
        "sangrado", "sangra", "fiebre", "entumecimiento", "debilidad",
    ],
)  # fmt: skip
# Treatment plans: relief may last about a month; recurrent injections may be needed (domain article).
TPI_PLAN_APPOINTMENT_TYPE_CODE = env.str("TPI_PLAN_APPOINTMENT_TYPE_CODE", default="tpi")
TPI_PLAN_DEFAULT_INTERVAL_WEEKS = env.int("TPI_PLAN_DEFAULT_INTERVAL_WEEKS", default=4)
TPI_PLAN_MAX_OCCURRENCES = env.int("TPI_PLAN_MAX_OCCURRENCES", default=26)
# Book occurrences whose target day lies within this many days from today.
TPI_PLAN_BOOKING_HORIZON_DAYS = env.int("TPI_PLAN_BOOKING_HORIZON_DAYS", default=42)
# An occurrence that cannot take its preferred time takes the nearest free slot within +/- this many days.
TPI_PLAN_BOOKING_TOLERANCE_DAYS = env.int("TPI_PLAN_BOOKING_TOLERANCE_DAYS", default=2)
# The daily booking run, at this hour UTC (beat runs in UTC, see CELERY_TIMEZONE).
TPI_PLAN_BOOKING_RUN_HOUR_UTC = env.int("TPI_PLAN_BOOKING_RUN_HOUR_UTC", default=6)
# FHIR R4 read API and bulk export (tpi/fhir/): the URI naming this clinic's MRNs in Patient.identifier
# (set it to your organisation's identifier system), and the private folder the bulk export writes its
# NDJSON files to (served only to clinic admins through /fhir/R4/, never as static or media files).
TPI_FHIR_MRN_SYSTEM = env.str("TPI_FHIR_MRN_SYSTEM", default="urn:tpi-clinic:mrn")
TPI_FHIR_EXPORT_DIR = Path(env.str("TPI_FHIR_EXPORT_DIR", default=str(VAR_DIR / "fhir-exports")))
# Outcomes (tpi/outcomes.py), defaults from IMMPACT (Dworkin et al. 2008): a responder's pain dropped,
# from the score before the procedure, by at least RESPONDER_PERCENT and at least RESPONDER_MIN_POINTS
# on the 0-10 scale; SUBSTANTIAL_PERCENT (with the same points) is a substantial response. Relief has
# worn off at the first answer back at or above RELIEF_WORN_OFF_PERCENT of the score before (under a
# 20% drop, IMMPACT's minimally important change). The "consider repeat" list looks back this many days.
TPI_OUTCOMES_RESPONDER_PERCENT = env.int("TPI_OUTCOMES_RESPONDER_PERCENT", default=30)
TPI_OUTCOMES_RESPONDER_MIN_POINTS = env.int("TPI_OUTCOMES_RESPONDER_MIN_POINTS", default=2)
TPI_OUTCOMES_SUBSTANTIAL_PERCENT = env.int("TPI_OUTCOMES_SUBSTANTIAL_PERCENT", default=50)
TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT = env.int("TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT", default=80)
TPI_OUTCOMES_REPEAT_LOOKBACK_DAYS = env.int("TPI_OUTCOMES_REPEAT_LOOKBACK_DAYS", default=90)
# The repeat offer (tpi/repeat_offers.py): a BOOK is answered with the nearest free time from the next
# clinic day up to this many days ahead; none free -> the front desk calls the patient.
TPI_REPEAT_BOOKING_HORIZON_DAYS = env.int("TPI_REPEAT_BOOKING_HORIZON_DAYS", default=28)
# A bulk export runs as short tasks of at most this many rows each (well inside CELERY_TASK_TIME_LIMIT);
# beat looks every TPI_FHIR_EXPORT_RESUME_SECONDS for an export whose step died and goes on with it.
TPI_FHIR_EXPORT_STEP_ROWS = env.int("TPI_FHIR_EXPORT_STEP_ROWS", default=5000)
TPI_FHIR_EXPORT_RESUME_SECONDS = env.int("TPI_FHIR_EXPORT_RESUME_SECONDS", default=60)
# The results dashboard opens on the last this-many days (an all-time aggregate reads every procedure).
TPI_OUTCOMES_DASHBOARD_DEFAULT_DAYS = env.int("TPI_OUTCOMES_DASHBOARD_DEFAULT_DAYS", default=90)
# Stored totals (tpi/outcome_totals.py): days older than SETTLE_DAYS (the reassessment at 30 days, its
# 7-day sending grace and 7-day reply window, and a day to spare) are read from per-day and per-month
# totals that beat refreshes every TOTALS_REFRESH_SECONDS; newer days and days an edit touched are live.
TPI_OUTCOMES_TOTALS_SETTLE_DAYS = env.int("TPI_OUTCOMES_TOTALS_SETTLE_DAYS", default=45)
TPI_OUTCOMES_TOTALS_REFRESH_SECONDS = env.int("TPI_OUTCOMES_TOTALS_REFRESH_SECONDS", default=300)
# One refresh stores the days of at most this many procedures (a first build at 1,000,000 is a few tasks).
TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES = env.int("TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES", default=250_000)
