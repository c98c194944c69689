"""Twenty front-desk clicks at the same moment on PostgreSQL: exactly one booking wins."""

import pytest
from django.db import connection

from scheduling.booking import appointment_book
from scheduling.exceptions import BookingConflict
from scheduling.models import Appointment
from tests.factories import AppointmentTypeFactory, PatientFactory, ProviderFactory, RoomFactory, working_week
from tests.racing import race
from tests.scheduling.conftest import at

THREADS = 20


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shared", ["provider", "room", "patient"])
def test_twenty_threads_booking_the_same_slot_one_wins(shared, settings):
    settings.TIME_ZONE = "America/New_York"
    assert connection.vendor == "postgresql"
    appointment_type = AppointmentTypeFactory(code="tpi", name="TPI procedure", buffer_after_minutes=10)
    one_provider, one_room, one_patient = working_week(ProviderFactory()), RoomFactory(), PatientFactory()
    providers = [working_week(ProviderFactory()) for _ in range(THREADS)] if shared != "provider" else None
    rooms = [RoomFactory() for _ in range(THREADS)] if shared != "room" else None
    patients = [PatientFactory() for _ in range(THREADS)] if shared != "patient" else None
    start = at(2031, 3, 3, 10)  # a Monday, years ahead of the real clock

    def book(index: int) -> Appointment:
        return appointment_book(
            patient=patients[index] if patients else one_patient,
            provider=providers[index] if providers else one_provider,
            room=rooms[index] if rooms else one_room,
            appointment_type=appointment_type,
            start=start,
            by=None,
        )

    successes, failures = race(THREADS, book)

    assert len(successes) == 1
    assert len(failures) == THREADS - 1
    assert all(isinstance(f, BookingConflict) for f in failures), failures
    winner = successes[0]
    assert all(f.appointments == [winner] for f in failures)
    assert all(f.collisions[0].on == (shared,) for f in failures)
    assert Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_an_overlap_the_service_did_not_see(settings):
    """Even a write that bypasses the service's check is refused by the exclusion constraint."""
    from django.db import IntegrityError

    settings.TIME_ZONE = "America/New_York"
    provider, room, patient = working_week(ProviderFactory()), RoomFactory(), PatientFactory()
    appointment_type = AppointmentTypeFactory(code="tpi", buffer_after_minutes=10)
    first = appointment_book(
        patient=patient,
        provider=provider,
        room=room,
        appointment_type=appointment_type,
        start=at(2031, 3, 3, 10),
        by=None,
    )
    clash = Appointment(
        patient=PatientFactory(),
        provider=provider,
        room=RoomFactory(),
        appointment_type=appointment_type,
        start=at(2031, 3, 3, 10, 35),  # inside first's buffer (until 10:40)
        end=at(2031, 3, 3, 11),
        blocked_end=at(2031, 3, 3, 11),
    )
    with pytest.raises(IntegrityError, match="appointment_no_provider_overlap"):
        clash.save()
    Appointment.objects.filter(pk=first.pk).update(status="cancelled", cancellation_reason="test")
    clash.pk = None
    clash.save()  # a cancelled appointment holds no time
    assert Appointment.objects.active().get() == clash
