import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from scheduling.booking import appointment_book
from scheduling.exceptions import BookingConflict, OutsideWorkingHours
from scheduling.models import Appointment, Series
from scheduling.series import (
    SeriesChoice,
    appointments_cancel_scoped,
    appointments_move_scoped,
    series_commit,
    series_occurrences,
    series_preview,
)
from tests.scheduling.conftest import at


def plan(c, **overrides):
    return {
        "patient": c.patient,
        "provider": c.doctor,
        "room": c.room,
        "appointment_type": c.tpi,
        "dtstart": at(2026, 12, 7, 10),
        "rrule": "FREQ=WEEKLY;INTERVAL=4;COUNT=3",
        **overrides,
    }


def test_four_weekly_series_over_dst_keeps_local_time(clinic):
    # New York leaves DST on 2027-11-07 and enters it on 2027-03-14: both fall inside these series.
    autumn = series_occurrences(dtstart=at(2027, 10, 18, 10), rrule="FREQ=WEEKLY;INTERVAL=4;COUNT=3")
    spring = series_occurrences(dtstart=at(2027, 2, 22, 9, 30), rrule="RRULE:FREQ=WEEKLY;INTERVAL=4;COUNT=3")

    assert [o.astimezone(dt.UTC).hour for o in autumn] == [14, 15, 15]
    assert [
        (o.astimezone(at(2027, 1, 1).tzinfo).date(), o.astimezone(at(2027, 1, 1).tzinfo).time()) for o in autumn
    ] == [
        (dt.date(2027, 10, 18), dt.time(10)),
        (dt.date(2027, 11, 15), dt.time(10)),
        (dt.date(2027, 12, 13), dt.time(10)),
    ]
    assert [o.astimezone(dt.UTC).time() for o in spring] == [dt.time(14, 30), dt.time(13, 30), dt.time(13, 30)]

    series = series_commit(**plan(clinic, dtstart=at(2027, 10, 18, 10)), by=clinic.frontdesk)

    starts = [a.start for a in series.appointments.order_by("start")]
    assert starts == [at(2027, 10, 18, 10), at(2027, 11, 15, 10), at(2027, 12, 13, 10)]
    assert [s.astimezone(dt.UTC).hour for s in starts] == [14, 15, 15]
    assert series.rrule == "FREQ=WEEKLY;INTERVAL=4;COUNT=3"


def test_preview_writes_nothing_and_reports_each_occurrence(clinic):
    blocker = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2027, 1, 4, 10, 15),
        by=clinic.frontdesk,
    )
    before = Appointment.objects.count()

    previews = series_preview(**plan(clinic, rrule="FREQ=WEEKLY;INTERVAL=4;COUNT=3"))
    late = series_preview(**plan(clinic, dtstart=at(2026, 12, 7, 16, 45), rrule="FREQ=DAILY;COUNT=1"))

    assert Appointment.objects.count() == before
    assert Series.objects.count() == 0
    assert [p.status for p in previews] == ["free", "conflict", "free"]
    conflict = previews[1]
    assert conflict.start == at(2027, 1, 4, 10)
    assert [c.appointment for c in conflict.collisions] == [blocker]
    assert conflict.problem == (
        "Conflict: Morgan Lee, MD is already booked: TPI procedure for "
        f"{blocker.patient.display_name} with Morgan Lee, MD in Room 2, Mon 2027-01-04 10:15-10:45."
    )
    # Nearest free alternatives on the same day: 09:30 ends right before 10:15, 10:55 is after the blocker's buffer.
    assert [a.start for a in conflict.alternatives] == [at(2027, 1, 4, 9, 30), at(2027, 1, 4, 9, 15), at(2027, 1, 4, 9)]
    assert previews[0].alternatives == []
    assert late[0].status == "outside_hours"
    assert late[0].problem == "The time is outside the provider's working hours."
    assert late[0].alternatives[0].start == at(2026, 12, 7, 16, 30)


def test_alternatives_fall_back_to_other_days_of_the_week(clinic):
    # The doctor works only Mon, Wed, Thu and Fri 10:00-10:30, and Monday 2026-12-07 10:00 is taken.
    clinic.doctor.working_hours.all().delete()
    for weekday in (0, 2, 3, 4):
        clinic.doctor.working_hours.create(weekday=weekday, start_time=dt.time(10), end_time=dt.time(10, 30))
    appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 12, 7, 10),
        by=clinic.frontdesk,
    )

    (preview,) = series_preview(**plan(clinic, rrule="FREQ=WEEKLY;COUNT=1"))

    assert preview.status == "conflict"
    # Nearest first within three days either side: Wed (2 days), then Fri before and Thu after (3 days each).
    assert [a.start for a in preview.alternatives] == [at(2026, 12, 9, 10), at(2026, 12, 4, 10), at(2026, 12, 10, 10)]


def test_conflicting_occurrence_gets_an_alternative_instead_of_a_double_booking(clinic):
    blocker = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2027, 1, 4, 10),
        by=clinic.frontdesk,
    )
    previews = series_preview(**plan(clinic))
    choices = [
        SeriesChoice(occurrence=p.occurrence, start=p.alternatives[0].start if p.alternatives else None)
        for p in previews
    ]

    series = series_commit(**plan(clinic), by=clinic.frontdesk, choices=choices)

    booked = list(series.appointments.order_by("start").values_list("start", "series_occurrence"))
    assert booked == [
        (at(2026, 12, 7, 10), at(2026, 12, 7, 10)),
        (at(2027, 1, 4, 9, 15), at(2027, 1, 4, 10)),  # 09:30 + the 10-minute buffer would reach 10:00
        (at(2027, 2, 1, 10), at(2027, 2, 1, 10)),
    ]
    assert Appointment.objects.filter(provider=clinic.doctor, start=at(2027, 1, 4, 10)).get() == blocker


def test_commit_is_all_or_none_when_an_occurrence_conflicts(clinic):
    blocker = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2027, 2, 1, 10),
        by=clinic.frontdesk,
    )

    with pytest.raises(BookingConflict) as error:
        series_commit(**plan(clinic), by=clinic.frontdesk)

    assert error.value.occurrence == at(2027, 2, 1, 10)
    assert str(error.value).startswith("Occurrence 2027-02-01 10:00: Conflict: Morgan Lee, MD is already booked: ")
    assert error.value.appointments == [blocker]
    assert Series.objects.count() == 0
    assert list(Appointment.objects.all()) == [blocker]


def test_commit_is_all_or_none_when_an_occurrence_is_outside_hours(clinic):
    with pytest.raises(OutsideWorkingHours) as error:
        series_commit(**plan(clinic, dtstart=at(2026, 12, 7, 16, 45)), by=clinic.frontdesk)

    assert str(error.value) == "Occurrence 2026-12-07 16:45: The time is outside the provider's working hours."
    assert Appointment.objects.count() == 0
    assert Series.objects.count() == 0


def test_declined_occurrences_are_skipped(clinic):
    occurrences = series_occurrences(dtstart=at(2026, 12, 7, 10), rrule="FREQ=WEEKLY;INTERVAL=4;COUNT=3")

    series = series_commit(**plan(clinic), by=clinic.frontdesk, choices=[SeriesChoice(occurrence=occurrences[2])])

    assert list(series.appointments.values_list("start", flat=True)) == [at(2027, 2, 1, 10)]


def test_choices_must_be_occurrences_of_the_rule(clinic):
    with pytest.raises(ValidationError) as error:
        series_commit(**plan(clinic), by=clinic.frontdesk, choices=[SeriesChoice(occurrence=at(2026, 12, 8, 10))])
    assert error.value.message_dict == {"choices": ["2026-12-08 10:00 is not an occurrence of the rule."]}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=WEEKLY", "The rule must end: give COUNT or UNTIL."),
        ("FREQ=DAILY;COUNT=53", "A series may have at most 52 occurrences."),
        (
            "FREQ=SOMETIMES;COUNT=2",
            "The repeat rule could not be read: write it like FREQ=WEEKLY;INTERVAL=4;COUNT=3 (every 4 weeks, "
            "3 visits) or FREQ=WEEKLY;INTERVAL=2;UNTIL=20270301 (every 2 weeks until 1 March).",
        ),
        ("", "Give one RRULE value, e.g. FREQ=WEEKLY;INTERVAL=4;COUNT=3."),
    ],
)
def test_bad_rules_are_refused_naming_the_field(clinic, rule, message):
    with pytest.raises(ValidationError) as error:
        series_preview(**plan(clinic, rrule=rule))
    assert error.value.message_dict == {"rrule": [message]}


def test_weekly_until_a_date(clinic):
    occurrences = series_occurrences(dtstart=at(2026, 12, 7, 10), rrule="FREQ=WEEKLY;UNTIL=20261221")
    assert occurrences == [at(2026, 12, 7, 10), at(2026, 12, 14, 10)]


def test_cancel_this_and_following(clinic):
    series = series_commit(**plan(clinic), by=clinic.frontdesk)
    second = series.appointments.order_by("start")[1]

    appointments_cancel_scoped(appointment=second, scope="following", by=clinic.frontdesk, reason="plan stopped")

    statuses = list(series.appointments.order_by("start").values_list("status", "cancellation_reason"))
    assert statuses == [("booked", ""), ("cancelled", "plan stopped"), ("cancelled", "plan stopped")]


def test_cancel_this_one_only(clinic):
    series = series_commit(**plan(clinic), by=clinic.frontdesk)
    _, second, _ = series.appointments.order_by("start")

    appointments_cancel_scoped(appointment=second, scope="this", by=clinic.frontdesk, reason="away")

    assert list(series.appointments.order_by("start").values_list("status", flat=True)) == [
        "booked",
        "cancelled",
        "booked",
    ]


def test_move_this_and_following_keeps_the_wall_clock_shift_across_dst(clinic):
    series = series_commit(**plan(clinic, dtstart=at(2027, 2, 15, 10)), by=clinic.frontdesk)  # Feb 15, Mar 15, Apr 12
    first = series.appointments.order_by("start").first()

    moved = appointments_move_scoped(
        appointment=first, scope="following", start=at(2027, 2, 15, 11), by=clinic.frontdesk
    )

    assert [m.start for m in moved] == [at(2027, 2, 15, 11), at(2027, 3, 15, 11), at(2027, 4, 12, 11)]


def test_move_following_is_all_or_none(clinic):
    series = series_commit(**plan(clinic), by=clinic.frontdesk)
    blocker = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2027, 2, 1, 14),
        by=clinic.frontdesk,
    )
    first = series.appointments.order_by("start").first()

    with pytest.raises(BookingConflict) as error:
        appointments_move_scoped(appointment=first, scope="following", start=at(2026, 12, 7, 14), by=clinic.frontdesk)

    assert error.value.appointments == [blocker]
    assert list(series.appointments.order_by("start").values_list("start", flat=True)) == [
        at(2026, 12, 7, 10),
        at(2027, 1, 4, 10),
        at(2027, 2, 1, 10),
    ]


def test_following_scope_needs_a_series(clinic):
    single = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 12, 7, 10),
        by=clinic.frontdesk,
    )
    with pytest.raises(ValidationError) as error:
        appointments_cancel_scoped(appointment=single, scope="following", by=clinic.frontdesk, reason="x")
    assert error.value.message_dict == {"scope": ["This appointment is not part of a series."]}
