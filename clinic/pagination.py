"""A paginator whose count costs the same at any table size (admin change lists and API lists).

A queryset may carry a PagingHint (set by the service that built it, e.g. the patient search): a
lower count cap, and tiers, disjoint querysets whose rows, tier after tier, are the queryset's rows
in its own order. The paginator then counts tier by tier and reads a page from the tiers it spans,
so a first tier served by an index in its order answers the first pages without touching the rest.
The hint only makes paging cheaper: the queryset alone gives the same rows in the same order, and a
copy of it (`.filter()`, `.distinct()`, ...) carries no hint and is paged the plain way.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Past this many rows a list says "at least CAP": counting further would read the whole table.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class PagingHint:
    """How CappedCountPaginator may page a queryset cheaply: count to COUNT_CAP, read TIERS in turn."""

    count_cap: int
    tiers: tuple[QuerySet[Any], ...] = ()


def paging_hint_set(
    queryset: QuerySet[Any], *, count_cap: int = COUNT_CAP, tiers: Sequence[QuerySet[Any]] = ()
) -> None:
    """Attach a PagingHint to QUERYSET (this object only: copies of it are paged the plain way)."""
    queryset.paging_hint = PagingHint(count_cap=count_cap, tiers=tuple(tiers))  # type: ignore[attr-defined]


def _capped_count(rows: QuerySet[Any], cap: int) -> int:
    # COUNT(*) over a LIMITed subquery of ids only (no annotation, no ordering): it stops after CAP rows.
    return rows.order_by().values("pk")[:cap].count() if cap > 0 else 0


class CappedCountPaginator(Paginator):
    """A paginator whose count stops at COUNT_CAP rows, so a page costs the same at any table size."""

    @cached_property
    def hint(self) -> PagingHint:
        return getattr(self.object_list, "paging_hint", None) or PagingHint(count_cap=COUNT_CAP)

    @cached_property
    def tier_counts(self) -> list[int]:
        """Return the rows of each tier (capped together at the hint's cap; tiers past it count 0)."""
        counts: list[int] = []
        for tier in self.hint.tiers:
            counts.append(_capped_count(tier, self.hint.count_cap - sum(counts)))
        return counts

    @cached_property
    def count(self) -> int:
        """Return the number of rows, or the cap (COUNT_CAP unless hinted) when there are at least that many."""
        if self.hint.tiers:
            return sum(self.tier_counts)
        rows = cast(QuerySet[Any], self.object_list)  # always a queryset here: the admin's and the API's lists
        return _capped_count(rows, self.hint.count_cap)

    def page(self, number: Any) -> Page:
        if not self.hint.tiers:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows: list[Any] = []
        start = 0  # where the tier begins among all rows
        for tier, size in zip(self.hint.tiers, self.tier_counts, strict=True):
            if bottom < start + size and top > start:
                rows.extend(tier[max(bottom - start, 0) : min(top, start + size) - start])
            start += size
        return Page(rows, number, self)
