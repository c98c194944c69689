"""The dashboard's numbers (tpi.outcome_stats) against independent raw SQL over a seeded set."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection

from tests.factories import UserFactory
from tests.tpi.outcome_setup import NOW, outcome_clinic
from tpi.outcome_stats import (
    OutcomeFilters,
    Rate,
    dashboard_csv_rows,
    kaplan_meier_median,
    outcomes_dashboard,
    wilson_interval,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    cast = outcome_clinic()
    with time_machine.travel(NOW, tick=False):
        yield cast


@pytest.fixture
def admin_user():
    return UserFactory(username="results-admin", is_superuser=True)


def sql(query: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall()


ANSWERS = """
    FROM tpi_procedure p
    JOIN tpi_followup f ON f.procedure_id = p.id AND f.kind = %s
    WHERE p.status = 'signed' AND f.answer_pain_score IS NOT NULL
"""
RESPONDER = (
    "(p.pain_before - f.answer_pain_score) * 100 >= {pct} * p.pain_before AND p.pain_before - f.answer_pain_score >= 2"
)


def raw_rate(kind: str, percent: int, extra: str = "", params: list | None = None) -> Rate:
    (n,) = sql(f"SELECT COUNT(*) {ANSWERS} {extra}", [kind, *(params or [])])[0]
    (k,) = sql(f"SELECT COUNT(*) {ANSWERS} AND {RESPONDER.format(pct=percent)} {extra}", [kind, *(params or [])])[0]
    return Rate(k, n)


def test_overall_rates_match_raw_sql(clinic, admin_user):
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)

    assert board.overall.procedures == sql("SELECT COUNT(*) FROM tpi_procedure WHERE status = 'signed'")[0][0] == 24
    assert board.overall.check_in == raw_rate("check_in", 30)
    assert board.overall.check_in_substantial == raw_rate("check_in", 50)
    assert board.overall.reassessment == raw_rate("reassessment", 30)
    assert board.overall.reassessment_substantial == raw_rate("reassessment", 50)
    assert board.overall.check_in.n == 19
    assert board.overall.reassessment.n == 18


def test_provider_breakdown_matches_raw_sql(clinic, admin_user):
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)

    doctors = {d.pk: d for d in clinic["doctors"]}
    assert [row.label for row in board.by_provider] == ["Dana Lee, MD", "Raj Patel, MD"]
    for row, doctor_id in zip(
        board.by_provider, sorted(doctors, key=lambda pk: doctors[pk].user.last_name), strict=True
    ):
        assert row.check_in == raw_rate("check_in", 30, "AND p.provider_id = %s", [doctor_id])
        assert row.reassessment == raw_rate("reassessment", 30, "AND p.provider_id = %s", [doctor_id])


def test_muscle_breakdown_counts_each_procedure_once_per_site(clinic, admin_user):
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)

    for row in board.by_muscle:
        at_site = (
            "AND EXISTS (SELECT 1 FROM tpi_injection i JOIN tpi_triggerpointsite s ON s.id = i.site_id"
            " WHERE i.procedure_id = p.id AND s.name = %s)"
        )
        assert row.check_in == raw_rate("check_in", 30, at_site, [row.label]), row.label
        assert row.reassessment_substantial == raw_rate("reassessment", 50, at_site, [row.label]), row.label
    assert [row.label for row in board.by_muscle] == ["Levator scapulae", "Rhomboids", "Upper trapezius"]


def test_treatment_breakdown_matches_raw_sql(clinic, admin_user):
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)

    steroid = "EXISTS (SELECT 1 FROM tpi_injection i WHERE i.procedure_id = p.id AND i.steroid_agent <> '')"
    injected = "EXISTS (SELECT 1 FROM tpi_injection i WHERE i.procedure_id = p.id AND NOT i.dry_needling)"
    groups = {
        "Anaesthetic alone": f"AND NOT {steroid} AND {injected}",
        "Anaesthetic with steroid": f"AND {steroid}",
        "Dry needling only": f"AND NOT {injected}",
    }
    assert sorted(row.label for row in board.by_treatment) == sorted(groups)
    for row in board.by_treatment:
        assert row.check_in == raw_rate("check_in", 30, groups[row.label]), row.label
        assert row.reassessment == raw_rate("reassessment", 30, groups[row.label]), row.label


def test_answer_rates_and_relief_match_raw_sql(clinic, admin_user):
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)

    for kind, rate in (("check_in", board.check_in_answers), ("reassessment", board.reassessment_answers)):
        sent, answered = sql(
            "SELECT COUNT(*), COUNT(answer_pain_score) FROM tpi_followup WHERE kind = %s AND sent_at IS NOT NULL",
            [kind],
        )[0]
        assert rate == Rate(answered, sent)
    # Relief per procedure, straight from the rows: the first answer at or above 80% of before ends it.
    rows = sql(
        """SELECT p.id, p.pain_before, c.answer_pain_score, r.answer_pain_score
           FROM tpi_procedure p
           JOIN tpi_followup c ON c.procedure_id = p.id AND c.kind = 'check_in'
           JOIN tpi_followup r ON r.procedure_id = p.id AND r.kind = 'reassessment'
           WHERE p.status = 'signed'"""
    )
    worn = sum(1 for _, before, ci, re in rows if any(a is not None and a * 100 >= 80 * before for a in (ci, re)))
    answered = sum(1 for _, _, ci, re in rows if ci is not None or re is not None)
    assert (board.relief.answered, board.relief.worn_off, board.relief.censored) == (
        answered,
        worn,
        answered - worn,
    )


def test_a_provider_sees_only_their_own_unless_granted(clinic):
    lee = clinic["doctors"][0]
    board = outcomes_dashboard(user=lee.user, filters=OutcomeFilters(), now=NOW)

    assert [row.label for row in board.by_provider] == ["Dana Lee, MD"]
    assert board.overall.procedures == 12
    assert board.all_providers is False

    lee.user.user_permissions.add(Permission.objects.get(codename="view_all_outcomes"))
    user = type(lee.user).objects.get(pk=lee.user.pk)  # a fresh permission cache
    assert outcomes_dashboard(user=user, filters=OutcomeFilters(), now=NOW).overall.procedures == 24


def test_date_and_location_filters(clinic, admin_user):
    # Procedures every 5 days from 2026-01-05; January holds days 5..30: six procedures.
    january = OutcomeFilters(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))
    assert outcomes_dashboard(user=admin_user, filters=january, now=NOW).overall.procedures == 6
    north = OutcomeFilters(location_id=clinic["north"].pk)
    board = outcomes_dashboard(user=admin_user, filters=north, now=NOW)
    assert board.overall.procedures == 6  # every fourth visit was at North
    assert board.overall.check_in == raw_rate("check_in", 30, "AND p.appointment_id IS NOT NULL")


def test_steroid_load_lists_the_patients_above_the_threshold(clinic, admin_user, settings):
    settings.TPI_STEROID_WINDOW_DAYS = 90
    settings.TPI_STEROID_CUMULATIVE_MAX_MG = 30
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(end=dt.date(2026, 3, 31)), now=NOW)

    totals = sql(
        """SELECT p.patient_id, SUM(i.steroid_dose_mg) FROM tpi_injection i
           JOIN tpi_procedure p ON p.id = i.procedure_id
           WHERE p.status = 'signed' AND i.steroid_dose_mg IS NOT NULL
             AND p.performed_at > %s AND p.performed_at <= %s
           GROUP BY p.patient_id""",
        [dt.datetime(2026, 1, 1, 5, 0, tzinfo=dt.UTC), dt.datetime(2026, 4, 1, 4, 0, tzinfo=dt.UTC)],
    )
    above = sorted(((float(total), pid) for pid, total in totals if float(total) > 30), reverse=True)
    assert board.steroid.patients_with_steroid == len(totals)
    assert [(float(e.total_mg), e.patient.pk) for e in board.steroid.above] == above
    assert above  # the seeded set crosses the threshold


def test_the_dashboard_runs_a_constant_number_of_queries(clinic, admin_user, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)
    assert board.by_muscle


def test_wilson_interval_known_values():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(0, 5)
    assert low == 0.0
    assert round(high, 4) == 0.4345


def test_kaplan_meier_median():
    assert kaplan_meier_median([(3, False, 2), (31, False, 1), (31, True, 1)]) == 3  # 2 of 4 worn off at day 3
    assert kaplan_meier_median([(3, False, 1), (31, True, 3)]) is None  # 75% still on at the end
    # Censoring shrinks the risk set: 1 event in 4 at day 3, a censoring at 10, then 1 of 2 at day 31.
    assert kaplan_meier_median([(3, False, 1), (10, True, 1), (31, False, 1), (40, True, 1)]) == 31


def test_csv_rows_carry_every_group_and_measure(clinic, admin_user):
    board = outcomes_dashboard(user=admin_user, filters=OutcomeFilters(), now=NOW)

    rows = dashboard_csv_rows(board)
    assert rows[0][:4] == ["section", "group", "measure", "n"]
    overall = next(r for r in rows if r[0] == "overall" and r[2] == "responder_72h")
    assert overall[3:5] == [str(board.overall.check_in.n), str(board.overall.check_in.k)]
    assert any(r[0] == "relief" and r[2] == "median_days_kaplan_meier" for r in rows)
