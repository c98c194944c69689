"""Stored totals of the results (tpi.outcome_totals): the totals path gives the live path's numbers.

The seeded set (tests/tpi/outcome_setup.py) has a procedure every five days from 2026-01-05 to
2026-04-30; at NOW (2026-06-10) the watermark is 2026-04-26 (45 settle days), so the last procedure
is live and the rest are stored.
"""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Sum

from clinic import roles
from tests.factories import InjectionFactory, UserFactory, site, staff_user
from tests.tpi.outcome_setup import NOW, outcome_clinic
from tpi.models import (
    FollowUp,
    OutcomeDirtyDay,
    OutcomeReliefTotal,
    OutcomeSiteTotal,
    OutcomeTotal,
    OutcomeTotalsState,
    Procedure,
)
from tpi.outcome_stats import OutcomeFilters, dashboard_csv_rows, outcomes_dashboard
from tpi.outcome_totals import outcome_totals_refresh, totals_split
from tpi.replies import followup_answer
from tpi.signing import procedure_sign, procedure_void
from tpi.tasks import outcome_totals_refresh_task

pytestmark = pytest.mark.django_db

WATERMARK = dt.date(2026, 4, 26)
RANGES = [
    OutcomeFilters(),
    OutcomeFilters(start=dt.date(2026, 1, 1)),
    OutcomeFilters(start=dt.date(2026, 1, 10), end=dt.date(2026, 3, 15)),  # partial months at both ends
    OutcomeFilters(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31)),  # whole months only
    OutcomeFilters(start=dt.date(2026, 2, 9), end=dt.date(2026, 2, 9)),  # one day, no procedure
    OutcomeFilters(start=dt.date(2026, 2, 14), end=dt.date(2026, 2, 14)),  # one day, one procedure
    OutcomeFilters(start=dt.date(2026, 3, 20), end=dt.date(2026, 5, 31)),  # across the watermark
    OutcomeFilters(start=dt.date(2026, 4, 1)),  # the watermark's month, into the live days
    OutcomeFilters(start=dt.date(2026, 4, 26)),  # from the watermark on: all live
    OutcomeFilters(end=dt.date(2026, 4, 25)),  # all stored
    OutcomeFilters(end=dt.date(2026, 2, 28)),
]


@pytest.fixture
def clinic():
    cast = outcome_clinic()
    with time_machine.travel(NOW, tick=False):
        yield cast


@pytest.fixture
def admin_user():
    return UserFactory(username="totals-admin", is_superuser=True)


def live_board(*, user, filters, now=NOW):
    """Return the dashboard computed from the procedures alone (the totals set aside, then put back)."""
    with transaction.atomic():
        OutcomeTotalsState.objects.all().delete()
        board = outcomes_dashboard(user=user, filters=filters, now=now)
        transaction.set_rollback(True)
    return board


def assert_same_numbers(user, filters_list=RANGES, now=NOW):
    for filters in filters_list:
        stored = outcomes_dashboard(user=user, filters=filters, now=now)
        live = live_board(user=user, filters=filters, now=now)
        assert stored == live, filters
        assert dashboard_csv_rows(stored) == dashboard_csv_rows(live), filters


def test_the_refresh_stores_every_settled_day_and_month(clinic):
    done = outcome_totals_refresh(now=NOW)

    assert (done.watermark, done.full, done.more) == (WATERMARK, True, False)
    assert done.day_ranges == [(dt.date(2026, 1, 5), WATERMARK)]  # from the first procedure
    settled = Procedure.objects.filter(status="signed", performed_at__lt=dt.datetime(2026, 4, 26, 4, tzinfo=dt.UTC))
    assert settled.count() == 23
    days = OutcomeTotal.objects.filter(period="day")
    assert days.aggregate(n=Sum("procedures"))["n"] == 23
    assert days.values("day").distinct().count() == 23
    # Month rows for January to March (April is not over at the watermark), summing their day rows.
    months = OutcomeTotal.objects.filter(period="month")
    assert sorted(set(months.values_list("day", flat=True))) == [dt.date(2026, m, 1) for m in (1, 2, 3)]
    assert (
        months.aggregate(n=Sum("procedures"))["n"]
        == settled.filter(performed_at__lt=dt.datetime(2026, 4, 1, 4, tzinfo=dt.UTC)).count()
    )
    relief = OutcomeReliefTotal.objects.filter(period="day").aggregate(n=Sum("procedures"))["n"]
    answered = settled.filter(follow_ups__answer_pain_score__isnull=False).distinct().count()
    assert relief == answered
    assert OutcomeSiteTotal.objects.filter(period="day").exists()
    assert OutcomeTotalsState.objects.get().watermark == WATERMARK


def test_totals_and_live_agree_for_every_range(clinic, admin_user):
    outcome_totals_refresh(now=NOW)

    assert_same_numbers(admin_user)
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)
    assert board.overall.procedures == 24
    assert [row.label for row in board.by_provider] == ["Dana Lee, MD", "Raj Patel, MD"]
    assert [row.label for row in board.by_muscle] == ["Levator scapulae", "Rhomboids", "Upper trapezius"]


def test_the_split_reads_whole_months_from_month_rows_and_the_rest_live(clinic):
    outcome_totals_refresh(now=NOW)

    split = totals_split(start=dt.date(2026, 1, 10), end=None)
    stored = OutcomeTotal.objects.filter(split.stored)
    assert sorted(set(stored.filter(period="month").values_list("day", flat=True))) == [
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    ]
    days = sorted(set(stored.filter(period="day").values_list("day", flat=True)))
    assert days[0] == dt.date(2026, 1, 10)
    assert all(d < dt.date(2026, 2, 1) or d >= dt.date(2026, 4, 1) for d in days)
    assert days[-1] < WATERMARK
    live = Procedure.objects.filter(split.live)
    assert [p.performed_at.date() for p in live] == [dt.date(2026, 4, 30)]
    # A range that ends before the watermark needs nothing live.
    assert totals_split(start=None, end=dt.date(2026, 3, 31)).live is None


def test_scoping_location_and_provider_filters_work_from_the_totals(clinic, admin_user):
    outcome_totals_refresh(now=NOW)
    lee, patel = clinic["doctors"]
    north = clinic["north"].pk

    assert_same_numbers(admin_user, [OutcomeFilters(location_id=north), OutcomeFilters(provider_id=patel.pk)])
    assert_same_numbers(lee.user, [OutcomeFilters(), OutcomeFilters(start=dt.date(2026, 2, 3), location_id=north)])
    own = outcomes_dashboard(user=lee.user, filters=OutcomeFilters(), now=NOW)
    assert [row.label for row in own.by_provider] == ["Dana Lee, MD"]
    assert own.overall.procedures == 12
    # A provider's filter for someone else is still their own scope (nothing of Patel's).
    assert outcomes_dashboard(user=lee.user, filters=OutcomeFilters(provider_id=patel.pk), now=NOW).by_provider == []
    lee.user.user_permissions.add(Permission.objects.get(codename="view_all_outcomes"))
    granted = type(lee.user).objects.get(pk=lee.user.pk)
    assert outcomes_dashboard(user=granted, filters=OutcomeFilters(), now=NOW).overall.procedures == 24
    assert outcomes_dashboard(user=granted, filters=OutcomeFilters(location_id=north), now=NOW).overall.procedures == 6


def test_a_late_answer_on_a_stored_day_is_live_until_the_refresh(clinic, admin_user):
    outcome_totals_refresh(now=NOW)
    procedure = clinic["procedures"][5]  # 2026-01-30: check-in answered? i % 5 == 0: not answered, sent
    follow_up = FollowUp.objects.get(procedure=procedure, kind="check_in")
    assert (follow_up.status, follow_up.answer_pain_score) == ("sent", None)
    before = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW).overall.check_in.n

    assert followup_answer(follow_up=follow_up, pain_score=1, at=NOW)

    assert list(OutcomeDirtyDay.objects.values_list("day", flat=True)) == [dt.date(2026, 1, 30)]
    assert outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW).overall.check_in.n == before + 1
    assert_same_numbers(admin_user)
    done = outcome_totals_refresh(now=NOW)
    assert (done.full, done.day_ranges, done.month_ranges) == (
        False,
        [(dt.date(2026, 1, 30), dt.date(2026, 1, 31))],
        [(dt.date(2026, 1, 1), dt.date(2026, 2, 1))],
    )
    assert not OutcomeDirtyDay.objects.exists()
    stored = OutcomeTotal.objects.filter(period="day", day=dt.date(2026, 1, 30)).aggregate(n=Sum("ci_n"))["n"]
    assert stored == 1
    assert_same_numbers(admin_user)


def test_a_void_and_a_backdated_sign_mark_their_days(clinic, admin_user):
    outcome_totals_refresh(now=NOW)
    doctor = clinic["doctors"][0]

    procedure_void(procedure=clinic["procedures"][2], by=doctor.user, reason="wrong patient")
    performed_at = dt.datetime(2026, 2, 2, 15, tzinfo=dt.UTC)
    injection = InjectionFactory(
        procedure__patient=clinic["patients"][0], procedure__provider=doctor, procedure__performed_at=performed_at,
        procedure__pain_before=6, site=site("Rhomboids"),
    )  # fmt: skip
    procedure_sign(procedure=injection.procedure, by=doctor.user)

    assert sorted(OutcomeDirtyDay.objects.values_list("day", flat=True)) == [dt.date(2026, 1, 15), dt.date(2026, 2, 2)]
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)
    assert board.overall.procedures == 24  # one voided, one signed
    assert_same_numbers(admin_user)
    outcome_totals_refresh(now=NOW)
    assert_same_numbers(admin_user)


def test_the_watermark_moves_on_with_the_days(clinic, admin_user):
    outcome_totals_refresh(now=NOW)
    later = NOW + dt.timedelta(days=10)

    with time_machine.travel(later, tick=False):
        done = outcome_totals_refresh(now=later)

    assert (done.watermark, done.full) == (dt.date(2026, 5, 6), False)
    assert done.day_ranges == [(WATERMARK, dt.date(2026, 5, 6))]
    assert done.month_ranges == [(dt.date(2026, 4, 1), dt.date(2026, 5, 1))]  # April is over
    assert totals_split(start=None, end=None).live is not None
    assert_same_numbers(admin_user, now=later)
    assert outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=later).overall.procedures == 24


def test_changed_definitions_set_the_totals_aside_until_rebuilt(clinic, admin_user, settings):
    outcome_totals_refresh(now=NOW)
    settings.TPI_OUTCOMES_RESPONDER_PERCENT = 40

    split = totals_split(start=None, end=None)
    assert (split.stored, split.live) == (None, split.live)
    assert_same_numbers(admin_user, [OutcomeFilters()])
    assert outcome_totals_refresh(now=NOW).full is True
    assert totals_split(start=None, end=None).stored is not None
    assert_same_numbers(admin_user, [OutcomeFilters()])


def test_the_totals_path_runs_a_constant_number_of_queries(clinic, admin_user, django_assert_max_num_queries):
    outcome_totals_refresh(now=NOW)

    with django_assert_max_num_queries(12):
        board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)
    assert board.by_muscle
    with django_assert_max_num_queries(9):  # nothing live: the stored rows only
        outcomes_dashboard(user=admin_user, filters=OutcomeFilters(end=dt.date(2026, 3, 31)), now=NOW)


def test_the_page_and_the_csv_come_from_the_totals(client, clinic):
    outcome_totals_refresh(now=NOW)
    admin = staff_user(roles.CLINIC_ADMIN)
    client.force_login(admin)

    page = client.get("/admin/tpi/procedureoutcome/", {"start": "", "location": clinic["north"].pk})
    download = client.get("/admin/tpi/procedureoutcome/", {"start": "", "format": "csv"})

    north = OutcomeFilters(location_id=clinic["north"].pk)
    assert page.context["board"] == live_board(user=admin, filters=north)
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows == dashboard_csv_rows(live_board(user=admin, filters=OutcomeFilters()))


def test_the_beat_task_refreshes_and_queues_itself_again_while_behind(clinic, settings):
    settings.TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES = 5

    outcome_totals_refresh_task()  # tasks run eagerly in the tests: the queued runs follow at once

    assert OutcomeTotalsState.objects.get().watermark == WATERMARK
    assert OutcomeTotal.objects.filter(period="day").aggregate(n=Sum("procedures"))["n"] == 23


def test_a_build_in_steps_gives_the_live_numbers_at_every_step(clinic, admin_user, settings):
    settings.TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES = 8  # one every 5 days: the 9th is 40 days on
    steps = []

    while not steps or steps[-1].more:
        steps.append(outcome_totals_refresh(now=NOW))
        assert_same_numbers(admin_user, RANGES[:4])

    assert [(s.watermark, s.full) for s in steps] == [
        (dt.date(2026, 2, 14), True),
        (dt.date(2026, 3, 26), False),
        (WATERMARK, False),
    ]
    assert steps[1].month_ranges == [(dt.date(2026, 2, 1), dt.date(2026, 3, 1))]  # February, from both steps
    assert OutcomeTotal.objects.filter(period="month").aggregate(n=Sum("procedures"))["n"] == 18  # Jan-Mar
