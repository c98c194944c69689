"""On PostgreSQL the name search is served by trigram indexes and, for last names starting with the term,
by an ordered btree; phone and date of birth by btree indexes."""

import pytest
from django.conf import settings
from django.db import connection

from clinic.models import Patient
from clinic.patient_search import patients_search
from tests.factories import PatientFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="pg_trgm exists on PostgreSQL only"),
]


def test_the_name_columns_have_trigram_indexes_and_the_search_its_ordered_btree():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Patient._meta.db_table)
    trigram = {name for name, c in constraints.items() if c["index"] and c["type"] == "gin"}
    assert trigram == {
        "patient_legal_first_name_trgm",
        "patient_legal_last_name_trgm",
        "patient_preferred_name_trgm",
        "patient_mobile_phone_trgm",
    }
    assert constraints["patient_search_name_key"]["type"] == "idx"  # Django says "idx" for a btree


def explain(queryset):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show what it can use
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_first_tier_of_a_name_search_is_read_from_the_ordered_btree_and_stops_at_its_limit():
    PatientFactory.create_batch(5)
    PatientFactory.create_batch(3, legal_last_name="Garcia")
    first_tier = patients_search(queryset=Patient.objects.all(), term="garcia").paging_hint.tiers[0]

    page = explain(first_tier[:50])

    # A range of the btree (the prefix), read in list order: no Sort between the LIMIT and the index.
    assert "Index Scan using patient_search_name_key" in page, page
    assert "Index Cond: (((upper((legal_last_name)::text))::text >= 'GARCIA'::text)" in page, page
    assert "Sort" not in page, page


def test_a_name_fragment_search_can_use_the_trigram_index():
    PatientFactory.create_batch(5)
    # Without the ordering, so the plan shows how rows are found rather than how they are sorted.
    queryset = patients_search(queryset=Patient.objects.all(), term="okaf").order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show what it can use
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "patient_legal_last_name_trgm" in plan


def test_the_last_digits_of_a_phone_are_found_by_the_trigram_index():
    PatientFactory.create_batch(5)

    plan = explain(patients_search(queryset=Patient.objects.all(), term="555-0178").order_by())

    assert "patient_mobile_phone_trgm" in plan, plan
