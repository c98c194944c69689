"""Concurrent bookings on whichever database runs the tests (SQLite: the service under the write lock)."""

import pytest

from scheduling.booking import appointment_book
from scheduling.exceptions import BookingConflict
from scheduling.models import Appointment
from scheduling.series import series_commit
from tests.factories import AppointmentTypeFactory, PatientFactory, ProviderFactory, RoomFactory, working_week
from tests.racing import race
from tests.scheduling.conftest import at

THREADS = 8


@pytest.fixture
def setup(transactional_db, settings):
    return {
        "provider": working_week(ProviderFactory()),
        "type": AppointmentTypeFactory(code="tpi", buffer_after_minutes=10),
        "patients": [PatientFactory() for _ in range(THREADS)],
        "rooms": [RoomFactory() for _ in range(THREADS)],
    }


def test_concurrent_bookings_of_one_provider_slot_one_wins(setup):
    def book(index: int) -> Appointment:
        return appointment_book(
            patient=setup["patients"][index],
            provider=setup["provider"],
            room=setup["rooms"][index],
            appointment_type=setup["type"],
            start=at(2031, 3, 3, 10, 5 * index),  # all overlap 10:00-10:35 + buffer
            by=None,
        )

    successes, failures = race(THREADS, book)

    assert len(successes) == 1
    assert [type(f) for f in failures] == [BookingConflict] * (THREADS - 1)
    assert all(f.appointments == successes for f in failures)
    assert Appointment.objects.count() == 1


def test_concurrent_series_commits_never_half_save(setup):
    def commit(index: int):
        return series_commit(
            patient=setup["patients"][index],
            provider=setup["provider"],
            room=setup["rooms"][index],
            appointment_type=setup["type"],
            dtstart=at(2031, 3, 3, 9 + index % 2),  # two different times; each series clashes with most others
            rrule="FREQ=WEEKLY;INTERVAL=4;COUNT=3",
            by=None,
        )

    successes, failures = race(THREADS, commit)

    assert len(successes) == 2  # one per distinct time
    assert [type(f) for f in failures] == [BookingConflict] * (THREADS - 2)
    assert Appointment.objects.count() == 6
    assert sorted(Appointment.objects.values_list("series_id", flat=True)) == sorted(
        [s.pk for s in successes for _ in range(3)]
    )
