"""Filters shared by every app's API."""

from typing import Any

import django_filters
from django import forms

MAX_ID = 2**63 - 1  # the largest bigint: anything above cannot name a row


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
