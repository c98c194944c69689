"""On PostgreSQL the name search is served by trigram indexes; phone and date of birth by btree indexes."""

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


def test_the_name_columns_have_trigram_indexes():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Patient._meta.db_table)
    trigram = {name for name, c in constraints.items() if c["index"] and c["type"] == "gin"}
    assert trigram == {"patient_legal_first_name_trgm", "patient_legal_last_name_trgm", "patient_preferred_name_trgm"}


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
