"""Every list page and API list over a table that grows reads its page from an index, in list order.

On PostgreSQL, with the demo clinic seeded, each admin change list and each API list is requested
once; the SELECT that fetches its page (the one with a LIMIT on the list's own table) is explained with
sequential scans disabled (the tables are tiny, so the planner would otherwise prefer them). A plan
that still reads the table sequentially, or sorts it before the LIMIT, has no index matching the
list's default ordering: at a million rows that page reads and sorts the whole table.
New list pages are covered without being named here; tables that stay small (configuration:
rooms, appointment types, working hours, ...) are listed in SMALL_TABLES.
"""

import io
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from clinic.pagination import CappedCountPaginator

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(not settings.IS_POSTGRES, reason="the plans are PostgreSQL's")

# Tables that hold configuration or a handful of rows per user, never a growing history.
SMALL_TABLES = {
    "auth_group",
    "auth_user",
    "authtoken_token",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "otp_totp_totpdevice",
    "accounts_breakglassgrant",
    "clinic_provider",
    "clinic_healthping",
    "scheduling_location",
    "scheduling_room",
    "scheduling_closure",
    "scheduling_appointmenttype",
    "scheduling_workinghours",
    "scheduling_timeoff",
    "scheduling_calendarfeed",
    "tpi_triggerpointsite",
    "tpi_stocklot",
}


# Admin pages over a growing table that are not lists: the results dashboard aggregates (benchmarks/outcomes.py).
NOT_LISTS = {"tpi.ProcedureOutcome"}


def growing_admins():
    return [(model, model_admin) for model, model_admin in admin.site._registry.items()
            if model._meta.db_table not in SMALL_TABLES]  # fmt: skip


def admin_lists():
    for model, _ in growing_admins():
        if model._meta.label in NOT_LISTS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        yield pytest.param(url, model._meta.db_table, id=f"admin:{model._meta.label}")


def api_lists():
    def walk(patterns, prefix):
        for route in patterns:
            if hasattr(route, "url_patterns"):
                yield from walk(route.url_patterns, prefix + str(route.pattern))
            else:
                yield prefix + str(route.pattern), route

    for path, route in walk(get_resolver().url_patterns, ""):
        cls = getattr(route.callback, "cls", None)
        name = route.name or ""
        if not path.startswith("api/") or not name.endswith("-list") or "(?P<" in path or cls is None:
            continue
        model = cls.queryset.model if cls.queryset is not None else cls.serializer_class.Meta.model
        table = model._meta.db_table
        if table not in SMALL_TABLES:
            yield pytest.param(reverse(name), table, id=f"api:{name}")


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


def page_query(queries, table):
    """Return the SQL that fetched the list's page: the widest SELECT from TABLE, with a LIMIT.

    The admin drops the LIMIT when every row fits on one page (the demo's tables do); it is put
    back, as it would be at a million rows, so the plan is the one a full table gets.
    """
    pattern = re.compile(rf'^SELECT .* FROM "{table}"( |$)', re.S)  # noqa: S608 (a regex, not SQL)
    candidates = [
        q["sql"] for q in queries
        if pattern.match(q["sql"]) and not re.match(r"^SELECT (COUNT|MIN|MAX|DISTINCT|1 AS)", q["sql"])
    ]  # fmt: skip
    assert candidates, f"no page query on {table} among:\n" + "\n".join(q["sql"][:200] for q in queries)
    sql = max(candidates, key=len)  # the list's own SELECT carries its joins and ordering
    return sql if re.search(r" LIMIT \d+", sql) else sql + " LIMIT 100"


def explain(sql):
    with connection.cursor() as cursor:
        # Tiny tables: make the planner show what it CAN use. A Sort or Seq Scan left in the plan then
        # means no index serves the list (an Incremental Sort over presorted keys is fine: it sorts
        # only the ties of the index's leading columns, and stops at the LIMIT).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def top_level(plan):
    """Return the lines of PLAN outside its SubPlans and InitPlans (what runs once, not per row)."""
    lines, depth = [], None
    for line in plan.splitlines():
        indent = len(line) - len(line.lstrip())
        if depth is not None and indent > depth:
            continue
        depth = indent if ("SubPlan" in line or "InitPlan" in line) else None
        if depth is None:
            lines.append(line)
    return "\n".join(lines)


def assert_index_ordered(plan, table):
    assert f"Seq Scan on {table}" not in plan, plan
    head = top_level(plan).splitlines()
    # Limit -> (Nested Loop / Hash Join ...) -> Index Scan: no Sort between the LIMIT and the table.
    assert not any(line.strip().startswith(("Sort  (", "->  Sort  (")) for line in head), plan


@postgres_only
@pytest.mark.parametrize(("url", "table"), list(admin_lists()))
def test_each_admin_list_reads_its_page_from_an_index_in_list_order(client, demo, url, table):
    client.force_login(demo)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert_index_ordered(explain(page_query(captured.captured_queries, table)), table)


@postgres_only
@pytest.mark.parametrize(("url", "table"), list(api_lists()))
def test_each_api_list_reads_its_page_from_an_index_in_list_order(demo, url, table):
    api = APIClient()
    api.force_authenticate(demo)
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200
    assert_index_ordered(explain(page_query(captured.captured_queries, table)), table)


@pytest.mark.parametrize(("model", "model_admin"), growing_admins(), ids=lambda v: getattr(v, "__name__", str(v)))
def test_each_admin_list_over_a_growing_table_caps_its_count_and_skips_the_unfiltered_one(model, model_admin):
    assert issubclass(model_admin.paginator, CappedCountPaginator), model_admin
    assert model_admin.show_full_result_count is False, model_admin


def test_a_change_list_past_the_cap_says_so_without_counting_further(client, demo, monkeypatch):
    monkeypatch.setattr("clinic.pagination.COUNT_CAP", 3)
    client.force_login(demo)

    response = client.get(reverse("admin:scheduling_appointment_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 3
    assert response.context["cl"].full_result_count is None


@postgres_only
def test_the_consider_repeat_list_reads_the_latest_answers_from_an_index_and_each_patients_visits_by_patient(
    client, demo
):
    """The "consider repeat" page (tpi.repeat): newest one-month answers first from their partial index, no
    table read in full; a visit ahead is looked up by patient (the patient-first no-overlap index or the
    (patient, start) btree), never through an index ordered by time (2.5 ms a row at a million)."""
    client.force_login(demo)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:tpi_procedureoutcome_repeat"))
    assert response.status_code == 200
    assert response.context["rows"], "the demo has a patient to consider"
    plan = explain(page_query(captured.captured_queries, "tpi_procedure"))
    for table in ("tpi_procedure", "tpi_followup", "scheduling_appointment"):
        assert f"Seq Scan on {table}" not in plan, plan
    assert "Index Scan Backward using followup_reassessment_answered" in plan, plan
    assert_index_ordered(plan, "tpi_followup")
    appointments = re.findall(r"Index (?:Only )?Scan using (\w+) on scheduling_appointment", plan)
    assert appointments, plan
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'scheduling_appointment'::regclass"
        )
        definitions = dict(cursor.fetchall())
    for index in appointments:
        assert re.search(r"USING \w+ \(patient_id\b", definitions[index]), definitions[index]
