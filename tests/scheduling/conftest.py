import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinic import roles
from tests.factories import (
    AppointmentTypeFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    staff_user,
    working_week,
)

TZ = ZoneInfo("America/New_York")


def at(year, month, day, hour=0, minute=0) -> dt.datetime:
    """Return an aware instant from a clinic wall time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _clinic_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def frozen():
    """Freeze the clock on Monday 2026-11-30 07:00 in the clinic, before the working day."""
    with time_machine.travel(at(2026, 11, 30, 7), tick=False) as traveller:
        yield traveller


@pytest.fixture
def clinic(db, frozen):
    """A physician and a massage therapist working 08:00-17:00 every day, two rooms, two types, two patients."""

    class Clinic:
        doctor = working_week(ProviderFactory(user__username="drlee", user__first_name="Morgan", user__last_name="Lee"))
        therapist = working_week(ProviderFactory(role="massage_therapist", credentials="LMT"))
        room = RoomFactory(name="Room 1")
        room2 = RoomFactory(name="Room 2")
        tpi = AppointmentTypeFactory(code="tpi", name="TPI procedure", buffer_after_minutes=10)
        massage = AppointmentTypeFactory(
            code="massage", name="Massage", default_duration_minutes=45, allowed_roles=["massage_therapist"]
        )
        patient = PatientFactory()
        patient2 = PatientFactory()
        frontdesk = staff_user(roles.FRONT_DESK, username="frontdesk")

    return Clinic
