"""The procedure lists (API as admin and as a provider, admin change list) cost the same at any size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import InjectionFactory, ProcedureFactory, ProviderFactory, UserFactory, site

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return ProviderFactory(user=UserFactory(is_superuser=True)).user


@pytest.fixture
def provider():
    return ProviderFactory()


def seed(count, provider):
    """Create COUNT procedures of PROVIDER, each with an injected muscle and a dry-needled one."""
    for _ in range(count):
        procedure = ProcedureFactory(provider=provider)
        InjectionFactory(procedure=procedure, site=site("Upper trapezius"))
        InjectionFactory(
            procedure=procedure,
            site=site("Levator scapulae"),
            dry_needling=True,
            anaesthetic_agent="",
            anaesthetic_concentration_percent=None,
            anaesthetic_volume_ml=None,
        )


def queries(fetch):
    with CaptureQueriesContext(connection) as captured:
        response = fetch()
    assert response.status_code == 200
    return len(captured), response


def api_page(user, page_size):
    client = APIClient()
    client.force_authenticate(user)
    return lambda: client.get("/api/procedures/", {"page_size": page_size})


@pytest.mark.parametrize("reader", ["admin", "provider"])
def test_the_api_list_runs_as_many_queries_for_2_rows_as_for_12(
    reader, admin_user, provider, django_assert_max_num_queries
):
    user = admin_user if reader == "admin" else provider.user
    seed(2, provider)
    small, response = queries(api_page(user, 2))
    assert [row["cpt_code"] for row in response.json()["results"]] == ["20552, 20560"] * 2
    seed(10, provider)
    with django_assert_max_num_queries(small):
        large = api_page(user, 12)()
    assert large.json()["count"] == 12
    assert [row["cpt_code"] for row in large.json()["results"]] == ["20552, 20560"] * 12


def test_the_admin_change_list_runs_as_many_queries_for_2_rows_as_for_12(
    client, admin_user, provider, django_assert_max_num_queries
):
    client.force_login(admin_user)
    url = reverse("admin:tpi_procedure_changelist")
    seed(2, provider)
    small, response = queries(lambda: client.get(url))
    assert response.content.decode().count("20552, 20560") == 2
    seed(10, provider)
    with django_assert_max_num_queries(small):
        large = client.get(url)
    assert large.content.decode().count("20552, 20560") == 12


def test_the_api_count_stops_at_the_cap(admin_user, provider, monkeypatch):
    monkeypatch.setattr("clinic.pagination.COUNT_CAP", 3)
    seed(5, provider)

    body = api_page(admin_user, 2)().json()

    assert body["count"] == 3
    assert len(body["results"]) == 2


def test_the_admin_count_stops_at_the_cap(client, admin_user, provider, monkeypatch):
    monkeypatch.setattr("clinic.pagination.COUNT_CAP", 3)
    seed(5, provider)
    client.force_login(admin_user)

    response = client.get(reverse("admin:tpi_procedure_changelist"))

    assert response.context["cl"].result_count == 3
    assert response.context["cl"].full_result_count is None  # no second, unfiltered count


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's")
def test_on_postgresql_the_page_and_its_count_walk_an_index_and_group_nothing(provider):
    from clinic.pagination import COUNT_CAP
    from tpi.access import procedures_visible
    from tpi.models import Procedure

    seed(3, provider)
    for user in (ProviderFactory(user=UserFactory(is_superuser=True)).user, provider.user):
        rows = procedures_visible(user=user, queryset=Procedure.objects.with_muscle_count())
        page = explain(rows[:25])
        count = explain(rows.order_by().values("pk")[:COUNT_CAP], wrap="SELECT COUNT(*) FROM ({}) counted")
        if user.is_superuser:
            # Every procedure: read from the ordering index in list order, no sort, stopping at the LIMIT.
            assert "Index Scan Backward using tpi_procedu_perform_" in page, page
            assert "Sort" not in top_level(page), page
        else:
            # Own procedures or granted patients: two index scans ORed (a sort of those rows only), or, when
            # the statistics say many rows match, the ordering index filtered by the two InitPlans.
            # (either index leading with provider_id serves the first scan: which one the planner takes
            # depends on the statistics earlier tests left behind)
            ored = (
                "BitmapOr" in page
                and "Index Cond: (provider_id = $" in page
                and "Index Cond: (patient_id = ANY" in page
            )
            walked = "Index Scan Backward using tpi_procedu_perform_" in page and "patient_id = ANY ($" in page
            assert ored or walked, page
        # The muscles are counted per page row (SubPlan), never grouped over the procedures.
        assert "SubPlan" in page, page
        for plan in (page, count):
            assert "HashAggregate" not in top_level(plan), plan
            assert "GroupAggregate" not in top_level(plan), plan
            assert "Seq Scan on tpi_procedure" not in plan, plan
        assert "tpi_injection" not in count, count


def explain(queryset, wrap="{}"):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show what it can use
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + wrap.format(sql), params)
        return "\n".join(row[0] for row in cursor.fetchall())


def top_level(plan):
    """Return the lines of PLAN outside its SubPlans (what runs once per query, not per page row)."""
    lines, depth = [], None
    for line in plan.splitlines():
        indent = len(line) - len(line.lstrip())
        if depth is not None and indent > depth:
            continue
        depth = indent if "SubPlan" in line else None
        if depth is None:
            lines.append(line)
    return "\n".join(lines)
