from django.conf import settings
from rest_framework.pagination import PageNumberPagination

from clinic.pagination import COUNT_CAP, CappedCountPaginator


class PagePagination(PageNumberPagination):
    """Page-number pagination whose client may ask for ?page_size= up to 200 rows."""

    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    page_size_query_param = "page_size"
    max_page_size = 200


class CappedPagePagination(PagePagination):
    """Page-number pagination whose `count` stops at COUNT_CAP (then: at least that many rows)."""

    django_paginator_class = CappedCountPaginator

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = (
            f"The number of rows, capped at {COUNT_CAP}: {COUNT_CAP} means at least that many (narrow the filters)."
        )
        return schema
