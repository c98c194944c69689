"""Counts of related rows per list row, as a subquery per page row rather than a GROUP BY over the table."""

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


def row_count(rows: QuerySet[Any], *, outer: str) -> Coalesce:
    """Return an annotation counting ROWS whose OUTER foreign key is the annotated row.

    A correlated subquery: PostgreSQL reads a list's page from its ordering index, stops at the LIMIT
    and counts the related rows of those page rows only (an aggregate over the join would group and
    sort the whole table first; tests/test_list_indexes.py finds that).
    """
    counted = rows.filter(**{outer: OuterRef("pk")}).order_by().values(outer).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
