"""The paginators of the API lists: CappedPagePagination is the default (settings: DEFAULT_PAGINATION_CLASS).

`?page=` (from 1) and `?page_size=` (1 to 200, default 50) on every list; a `page_size` that is no
whole number of at least 1 is a 400 naming it, one above 200 gives 200 rows. Only a viewset's
`list` action pages: custom actions answer plain arrays (and the schema says so, clinic.api.schema).
Every list over a table that grows counts to a cap (CappedPagePagination, tests/clinic/api/
test_list_counts.py); PagePagination's exact count is for small configuration tables (providers, sites).
"""

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from clinic.pagination import COUNT_CAP, CappedCountPaginator
from clinic.patient_search import SEARCH_COUNT_CAP

MAX_PAGE_SIZE = 200


class PagePagination(PageNumberPagination):
    """Page-number pagination whose client may ask for ?page_size= up to 200 rows."""

    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "default": self.page_size}
                parameter["description"] = f"Rows per page, 1 to {MAX_PAGE_SIZE} (more gives {MAX_PAGE_SIZE})."
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class CappedPagePagination(PagePagination):
    """Page-number pagination whose `count` stops at COUNT_CAP (then: at least that many rows)."""

    django_paginator_class = CappedCountPaginator

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = (
            f"The number of rows, capped at {COUNT_CAP} (a patient name search at {SEARCH_COUNT_CAP}): the cap "
            "means at least that many (narrow the filters); pages past it answer 404."
        )
        return schema
