"""Filters shared by every app's API: strict values, no unknown parameters.

Every list's filters go through `ClinicFilterBackend` (the default filter backend) with a
`ClinicFilterSet` (the base of every FilterSet, also of those built from `filterset_fields`):

- a malformed or unknown value is a 400 naming the parameter (`with_steroid=maybe`,
  `is_active=perhaps`, `status=lost`, `provider=abc`), never silently ignored;
- a query parameter the endpoint does not take is a 400 listing those it does (a typo such as
  `?stauts=booked` would otherwise return every row).
"""

from typing import Any

import django_filters
from django import forms
from django.db import models
from django_filters import rest_framework as drf_filters
from rest_framework import filters as drf_builtin_filters
from rest_framework.exceptions import ValidationError

MAX_ID = 2**63 - 1  # the largest bigint: anything above cannot name a row
ALWAYS_ALLOWED = frozenset({"format"})  # DRF's renderer choice


class IdFilter(django_filters.NumberFilter):
    """Filter by a row id: a whole number from 1 to the largest id, else a 400 naming the parameter.

    An unknown but well-formed id simply finds nothing.
    """

    # The stubs pin NumberFilter.field_class to DecimalField; an IntegerField is what an id takes.
    field_class = forms.IntegerField  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """Exactly `true` or `false`; anything else is a 400 (django-filter's own boolean ignores it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", BOOLEAN_CHOICES)
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class ClinicFilterSet(drf_filters.FilterSet):
    """The base of every API FilterSet: boolean model fields take exactly `true` / `false`."""

    FILTER_DEFAULTS = {
        **drf_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }


class ClinicFilterBackend(drf_filters.DjangoFilterBackend):
    """DjangoFilterBackend that refuses unknown query parameters and FilterSets not built on ClinicFilterSet."""

    filterset_base = ClinicFilterSet

    def get_filterset_class(self, view, queryset=None):
        filterset_class = super().get_filterset_class(view, queryset)
        if filterset_class is not None and not issubclass(filterset_class, ClinicFilterSet):
            raise TypeError(f"{filterset_class.__name__} must subclass clinic.api.filters.ClinicFilterSet")
        return filterset_class

    def filter_queryset(self, request, queryset, view):
        self.query_parameters_check(request, queryset, view)
        return super().filter_queryset(request, queryset, view)

    def query_parameters_check(self, request, queryset, view) -> None:
        """Raise a 400 naming each query parameter the endpoint does not take."""
        known = set(ALWAYS_ALLOWED) | set(self.query_parameters_taken(queryset, view))
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            takes = ", ".join(sorted(known - ALWAYS_ALLOWED)) or "no query parameters"
            raise ValidationError(
                {name: [f"Unknown query parameter; this endpoint takes: {takes}."] for name in unknown}
            )

    def query_parameters_taken(self, queryset, view) -> set[str]:
        """Return the query parameters VIEW reads: its filters, search, ordering and paging."""
        names: set[str] = set()
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            names |= set(filterset_class.base_filters)
        for backend in getattr(view, "filter_backends", ()):
            if issubclass(backend, drf_builtin_filters.SearchFilter):
                names.add(backend.search_param)
            if issubclass(backend, drf_builtin_filters.OrderingFilter):
                names.add(backend.ordering_param)
        paginator = getattr(view, "paginator", None)
        if paginator is not None and getattr(view, "action", "list") == "list":
            names |= {
                p
                for p in (
                    getattr(paginator, "page_query_param", None),
                    getattr(paginator, "page_size_query_param", None),
                )
                if p
            }
        return names
