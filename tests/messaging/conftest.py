import datetime as dt

import pytest
import time_machine

from clinic.messaging.backends import locmem
from tests.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub

# Noon in New York (the default patient zone): inside the send window.
NOON_NY = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)


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
def noon():
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def twilio_stub(settings):
    """A local Twilio stand-in with the Twilio backend pointed at it."""
    stub = TwilioStub().start()
    settings.SMS_BACKEND = "clinic.messaging.backends.twilio.SmsBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_API_BASE_URL = stub.url
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 2.0
    yield stub
    stub.stop()
