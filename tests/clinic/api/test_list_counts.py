"""Every API list over a table that grows counts to a cap and runs as many queries for one row as for all.

The lists are found as tests/test_list_indexes.py finds them (the URL resolver, minus small
configuration tables), so a list added later is covered without being named here. The demo clinic
(topped up to three rows a list) gives each of them rows to count and to page.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.api.pagination import MAX_PAGE_SIZE, CappedPagePagination
from tests.test_list_indexes import api_lists

pytestmark = pytest.mark.django_db

LISTS = [param.values[0] for param in api_lists()]


@pytest.fixture
def api(settings):
    settings.DEBUG = True  # the demo seeds in development only
    call_command("seed_demo", stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    for url in LISTS:
        rows_at_least(url, 3)
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="admin"))
    return client


def rows_at_least(url, count):
    """Copy the list's rows until it holds COUNT (the demo makes one series, one plan, one massage note)."""
    from django.urls import resolve

    from clinic.models import Patient

    model = resolve(url).func.cls.serializer_class.Meta.model
    rows = list(model.objects.order_by("pk"))
    has_patient = any(f.name == "patient" for f in model._meta.fields)
    # A plan is one per patient: each copy goes to a patient with none of these rows.
    others = iter(Patient.objects.exclude(pk__in=model.objects.values("patient_id")) if has_patient else [])
    for row in (rows * count)[: max(count - len(rows), 0)]:
        row.pk = None
        row._state.adding = True
        if has_patient:
            row.patient = next(others)
        row.save()


def everything(url):
    # The triage inbox lists open items unless asked for all.
    return {"state": "all"} if url == "/api/triage/" else {}


def test_the_growing_lists_are_found():
    assert sorted(LISTS) == [
        "/api/appointments/",
        "/api/massage-notes/",
        "/api/patients/",
        "/api/plan-occurrences/",
        "/api/procedures/",
        "/api/series/",
        "/api/treatment-plans/",
        "/api/triage/",
        "/api/waitlist/",
    ]


@pytest.mark.parametrize("url", LISTS)
def test_each_growing_list_pages_with_the_capped_count(url):
    from django.urls import resolve

    assert issubclass(resolve(url).func.cls.pagination_class, CappedPagePagination)


def test_each_count_stops_at_the_cap(api, monkeypatch):
    full = {url: api.get(url, everything(url)).json()["count"] for url in LISTS}
    monkeypatch.setattr("clinic.pagination.COUNT_CAP", 2)

    capped = {url: api.get(url, {**everything(url), "page_size": 1}).json()["count"] for url in LISTS}
    past_the_cap = {url: api.get(url, {**everything(url), "page_size": 1, "page": 3}).status_code for url in LISTS}

    assert all(count >= 3 for count in full.values()), full  # more rows than the cap
    assert capped == dict.fromkeys(LISTS, 2)
    assert past_the_cap == dict.fromkeys(LISTS, 404)


def test_each_list_runs_as_many_queries_for_one_row_as_for_a_full_page(api, django_assert_max_num_queries):
    for url in LISTS:
        one_row = []
        for page in (1, 2, 3):  # the copies have no related rows to prefetch: take the richest one-row page
            with CaptureQueriesContext(connection) as captured:
                small = api.get(url, {**everything(url), "page_size": 1, "page": page})
            assert len(small.json()["results"]) == 1, url
            one_row.append(len(captured))
        with django_assert_max_num_queries(max(one_row), info=url):
            large = api.get(url, {**everything(url), "page_size": MAX_PAGE_SIZE})
        assert len(large.json()["results"]) == large.json()["count"] >= 3, url
