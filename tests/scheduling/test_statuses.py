"""The appointment status table: every choice has a row, and everything else is derived from it."""

import importlib

import pytest
from django.db import connection

from scheduling.daysheet import appointment_actions
from scheduling.models import Appointment

S = Appointment.Status


def test_every_status_choice_has_a_row_and_a_transition_entry():
    assert set(Appointment.STATUSES) == set(S.values)
    assert Appointment.TRANSITIONS.statuses == set(S.values)


def test_final_statuses_have_no_exits_and_every_other_status_is_reachable():
    assert Appointment.TRANSITIONS.terminal == {S.COMPLETED, S.CANCELLED, S.NO_SHOW}
    for status in Appointment.TRANSITIONS.terminal:
        assert Appointment.TRANSITIONS.targets(status) == frozenset()
    unreachable = {s for s in S.values if not Appointment.TRANSITIONS.sources(s)}
    assert unreachable == {S.BOOKED}  # the booking service creates appointments booked
    assert Appointment._meta.get_field("status").default == S.BOOKED


def test_every_status_a_move_reaches_has_a_day_sheet_button():
    for status in S.values:
        if Appointment.TRANSITIONS.sources(status):
            assert Appointment.STATUSES[status].action, status


def test_derived_sets():
    assert Appointment.INACTIVE_STATUSES == (S.CANCELLED, S.NO_SHOW)
    assert Appointment.MOVABLE_STATUSES == (S.BOOKED, S.CONFIRMED)
    assert not set(Appointment.MOVABLE_STATUSES) & Appointment.TRANSITIONS.terminal


def test_day_sheet_buttons_follow_the_table_in_choice_order():
    booked = Appointment(status=S.BOOKED)
    checked_in = Appointment(status=S.CHECKED_IN, series_id=7)

    assert [(a.status, a.label, a.scoped) for a in appointment_actions(booked)] == [
        (S.CONFIRMED, "Confirm", False),
        (S.CHECKED_IN, "Check in", False),
        (S.CANCELLED, "Cancel", False),
        (S.NO_SHOW, "No-show", False),
    ]
    assert [(a.status, a.reason_prompt, a.scoped) for a in appointment_actions(checked_in)] == [
        (S.COMPLETED, "", False),
        (S.CANCELLED, "Give a reason for the cancellation.", True),
    ]
    assert appointment_actions(Appointment(status=S.NO_SHOW)) == []


def test_the_exclusion_constraints_migration_frees_exactly_the_statuses_that_do_not_hold_time():
    migration = importlib.import_module("scheduling.migrations.0003_no_double_booking")
    assert migration.ACTIVE.negated
    [(lookup, statuses)] = migration.ACTIVE.children
    assert lookup == "status__in"
    assert set(statuses) == set(Appointment.INACTIVE_STATUSES)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints exist on PostgreSQL only")
def test_the_database_constraints_skip_exactly_the_statuses_that_do_not_hold_time():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conname LIKE 'appointment_no_%%_overlap'"
        )
        definitions = dict(cursor.fetchall())
    assert len(definitions) == 3
    for definition in definitions.values():
        named = {s for s in S.values if f"'{s}'" in definition}
        assert named == set(Appointment.INACTIVE_STATUSES), definition
