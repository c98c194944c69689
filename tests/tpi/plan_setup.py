"""Treatment-plan fixtures (registered in tests/tpi/conftest.py): New York, before the March 2026 DST change."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import (
    AppointmentTypeFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
    working_week,
)
from tpi.plans import plan_create

TZ = ZoneInfo("America/New_York")
# Monday 2026-03-02, 10:00 in New York (EST); clocks spring forward on Sunday 2026-03-08.
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def at(year, month, day, hour=0, minute=0) -> dt.datetime:
    """Return the aware instant of a clinic wall time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def plan_settings(settings, sms_outbox):
    """New York, SMS to the in-memory outbox, the plan settings these tests are written for."""
    settings.TIME_ZONE = "America/New_York"
    settings.TPI_PLAN_BOOKING_HORIZON_DAYS = 42
    settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS = 2
    settings.TPI_PLAN_MAX_OCCURRENCES = 26
    settings.TPI_PLAN_DEFAULT_INTERVAL_WEEKS = 4
    return settings


@pytest.fixture
def plan_frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def plan_clinic(db, plan_settings, plan_frozen):
    """A physician working 08:00-17:00 every day, one room, the TPI visit type, a patient, a front desk user."""

    class Clinic:
        doctor = working_week(ProviderFactory(user__username="drlee", user__first_name="Morgan", user__last_name="Lee"))
        room = RoomFactory(name="Room 1")
        tpi = AppointmentTypeFactory(code="tpi", name="TPI procedure", buffer_after_minutes=10)
        patient = PatientFactory(mobile_phone="+12025550143", time_zone="America/New_York")
        other_patient = PatientFactory()
        frontdesk = UserFactory(username="frontdesk")

    return Clinic


def make_plan(clinic, **overrides):
    """Create a plan through the service: weekly from Tuesday 2026-03-03 at 10:00, three injections."""
    fields = {
        "patient": clinic.patient,
        "by": clinic.doctor.user,
        "provider": clinic.doctor,
        "start_date": dt.date(2026, 3, 3),
        "preferred_time": dt.time(10),
        "interval_weeks": 1,
        "injections": 3,
    }
    return plan_create(**(fields | overrides))
