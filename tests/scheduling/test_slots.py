import datetime as dt

import time_machine

from scheduling.booking import appointment_book
from scheduling.models import TimeOff
from scheduling.slots import slots_find
from tests.factories import ProviderFactory, RoomFactory, working_week
from tests.scheduling.conftest import at


def starts(slots):
    return [s.start for s in slots]


def test_slots_honour_hours_existing_appointments_and_buffers(clinic, settings):
    settings.SCHEDULING_SLOT_STEP_MINUTES = 30
    clinic.doctor.working_hours.all().delete()
    clinic.doctor.working_hours.create(weekday=0, start_time=dt.time(9), end_time=dt.time(11))
    clinic.doctor.working_hours.create(weekday=0, start_time=dt.time(13), end_time=dt.time(14))
    appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 9, 30),
        by=None,
    )  # blocks the doctor 09:30-10:10

    slots = slots_find(appointment_type=clinic.tpi, first_day=dt.date(2026, 11, 30), last_day=dt.date(2026, 11, 30))

    # 09:00 would run into 09:30 with its buffer; 10:00 overlaps the buffer until 10:10; 10:30 ends 11:00.
    assert starts(slots) == [at(2026, 11, 30, 10, 30), at(2026, 11, 30, 13), at(2026, 11, 30, 13, 30)]
    assert {s.provider for s in slots} == {clinic.doctor}
    assert slots[0].end == at(2026, 11, 30, 11)


def test_any_provider_means_every_provider_whose_role_may_take_the_type(clinic, settings):
    settings.SCHEDULING_SLOT_STEP_MINUTES = 60
    other = working_week(ProviderFactory(role="np_pa"), start=dt.time(16), end=dt.time(17))
    clinic.doctor.working_hours.all().delete()
    working_week(clinic.doctor, start=dt.time(15), end=dt.time(17))

    tpi_slots = slots_find(appointment_type=clinic.tpi, first_day=dt.date(2026, 11, 30), last_day=dt.date(2026, 11, 30))
    massage_slots = slots_find(
        appointment_type=clinic.massage, first_day=dt.date(2026, 11, 30), last_day=dt.date(2026, 11, 30), limit=2
    )

    assert starts(tpi_slots) == [at(2026, 11, 30, 15), at(2026, 11, 30, 16), at(2026, 11, 30, 16)]
    assert [s.provider for s in tpi_slots[:1]] == [clinic.doctor]
    assert {s.provider for s in tpi_slots[1:]} == {clinic.doctor, other}
    assert [s.provider for s in massage_slots] == [clinic.therapist, clinic.therapist]


def test_a_free_room_is_chosen_and_a_busy_patient_is_skipped(clinic, settings):
    settings.SCHEDULING_SLOT_STEP_MINUTES = 60
    other = working_week(ProviderFactory())
    appointment_book(
        patient=clinic.patient,
        provider=other,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 8),
        by=None,
    )

    slots = slots_find(
        appointment_type=clinic.tpi,
        first_day=dt.date(2026, 11, 30),
        last_day=dt.date(2026, 11, 30),
        provider=clinic.doctor,
        patient=clinic.patient,
        limit=2,
    )
    room_slots = slots_find(
        appointment_type=clinic.tpi,
        first_day=dt.date(2026, 11, 30),
        last_day=dt.date(2026, 11, 30),
        provider=clinic.doctor,
        limit=1,
    )

    assert starts(slots) == [at(2026, 11, 30, 9), at(2026, 11, 30, 10)]  # the patient is busy at 08:00
    assert room_slots[0].room == clinic.room2  # Room 1 is taken at 08:00


def test_time_off_and_the_past_are_not_offered(clinic, settings):
    settings.SCHEDULING_SLOT_STEP_MINUTES = 60
    TimeOff.objects.create(provider=clinic.doctor, start=at(2026, 11, 30, 8), end=at(2026, 11, 30, 15))
    with time_machine.travel(at(2026, 11, 30, 15, 30), tick=False):
        slots = slots_find(
            appointment_type=clinic.tpi,
            first_day=dt.date(2026, 11, 30),
            last_day=dt.date(2026, 11, 30),
            provider=clinic.doctor,
        )
    # Only 15:00-17:00 is left after the time off; 15:00 has passed.
    assert starts(slots) == [at(2026, 11, 30, 16)]


def test_slots_keep_local_hours_on_dst_days(clinic, settings):
    settings.SCHEDULING_SLOT_STEP_MINUTES = 60
    for day, utc_offset in [(dt.date(2027, 3, 14), 4), (dt.date(2027, 11, 7), 5)]:
        slots = slots_find(appointment_type=clinic.tpi, first_day=day, last_day=day, provider=clinic.doctor)

        assert [s.start.astimezone(at(2027, 1, 1).tzinfo).hour for s in slots] == list(range(8, 17))
        assert {s.start.astimezone(dt.UTC).hour - s.start.astimezone(at(2027, 1, 1).tzinfo).hour for s in slots} == {
            utc_offset
        }


def test_slot_finder_runs_constant_queries(clinic, django_assert_num_queries):
    for day in range(1, 8):
        for hour in (9, 11, 14):
            appointment_book(
                patient=clinic.patient,
                provider=clinic.doctor,
                room=RoomFactory(),
                appointment_type=clinic.tpi,
                start=at(2026, 12, day, hour),
                by=None,
            )
    # 5 before locations; +1 the rooms' opening hours, +1 the closures (one query each, however many locations).
    with django_assert_num_queries(7):
        one_day = slots_find(appointment_type=clinic.tpi, first_day=dt.date(2026, 12, 1), last_day=dt.date(2026, 12, 1))
    with django_assert_num_queries(7):
        week = slots_find(appointment_type=clinic.tpi, first_day=dt.date(2026, 12, 1), last_day=dt.date(2026, 12, 7))
    assert len(week) > 6 * len(one_day) > 0
