"""A paginator whose count costs the same at any table size (admin change lists and API lists)."""

from typing import Any, cast

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Past this many rows a list says "at least CAP": counting further would read the whole table.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """A paginator whose count stops at COUNT_CAP rows, so a page costs the same at any table size."""

    @cached_property
    def count(self) -> int:
        """Return the number of rows, or COUNT_CAP when there are at least that many."""
        # COUNT(*) over a LIMITed subquery of ids only (no annotation, no ordering): it stops after COUNT_CAP rows.
        rows = cast(QuerySet[Any], self.object_list)  # always a queryset here: the admin's and the API's lists
        return rows.order_by().values("pk")[:COUNT_CAP].count()
