"""Malformed query parameters anywhere answer 4xx (or the admin's own "invalid filter" redirect), never 500."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

# The permission matrix's world: one user per role and one of every record.
from tests.clinic.security.test_permission_matrix import CA, admin_pages, api_operations, world  # noqa: F401

pytestmark = pytest.mark.django_db

BAD = [
    {"date": "2026-13-45"},
    {"date": "yesterday"},
    {"date": "2026-02-30", "view": "nonsense"},
    {"start": "not-a-time", "end": "2026-99-99"},
    {"first_day": "2026-13-45", "last_day": "x", "appointment_type": "abc", "provider": "-1"},
    {"provider": "abc", "room": "[]", "patient": "1e99", "status": "??"},
    {"page": "abc"},
    {"page": "-3", "page_size": "ten"},
    {"queue": "\x00", "q": "\x00"},
    {"search": "gar\x00cia", "q": "ok"},  # PostgreSQL refuses a NUL in a string: the fuzzer found a 500
    {"o": "abc", "p": "zz"},
    {"search": "%%%", "ordering": "nonexistent"},
    {"date_of_birth": "31/31/1999", "mrn": "x" * 300},
    {"at__year": "abc", "at__month": "13", "at__day": "45"},
    {"start": "2026-13-45T99:99"},
    {"location": "abc", "date_from": "x"},
]


def test_every_admin_page_answers_bad_parameters_without_a_500(world):  # noqa: F811
    client = Client(raise_request_exception=False)
    client.force_login(world["users"][CA])
    wrong = []
    for name, url in admin_pages(world):
        if name.endswith(("_delete", "_status")):
            continue
        for params in BAD:
            status = client.get(url, params).status_code
            if status >= 500:
                wrong.append(f"{url} {params}: {status}")
    assert wrong == [], "\n".join(wrong)


def test_every_api_list_answers_bad_parameters_with_a_4xx_not_a_500(world):  # noqa: F811
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(world["users"][CA])
    wrong = []
    for verb, path in api_operations():
        if verb != "get" or "{" in path:
            continue
        for params in BAD:
            status = client.get(path, params).status_code
            if status >= 500:
                wrong.append(f"{path} {params}: {status}")
    assert wrong == [], "\n".join(wrong)


def test_the_day_sheet_says_which_date_to_fix(world):  # noqa: F811
    client = Client(raise_request_exception=False)
    client.force_login(world["users"][CA])

    response = client.get("/admin/scheduling/appointment/day-sheet/", {"date": "2026-13-45"})

    assert response.status_code == 400
    assert response.content.decode() == "date=2026-13-45 is not a date: write it as YYYY-MM-DD, e.g. 2026-11-30."
    assert client.get("/admin/scheduling/appointment/day-sheet/", {"date": "2026-11-30"}).status_code == 200


def test_a_prefill_the_form_cannot_read_is_a_400_naming_it(world):  # noqa: F811
    client = Client(raise_request_exception=False)
    client.force_login(world["users"][CA])

    response = client.get("/admin/scheduling/appointment/book/", {"patient": "1e99"})
    good = client.get("/admin/scheduling/appointment/book/", {"patient": world["ids"]["patient"]})

    assert response.status_code == 400
    assert response.content.decode() == (
        "patient=1e99 cannot fill in the patient: Select a valid choice. "
        "That choice is not one of the available choices."
    )
    assert good.status_code == 200


def test_a_nul_character_in_a_query_parameter_is_a_400_naming_it(world):  # noqa: F811
    client = APIClient()
    client.force_authenticate(world["users"][CA])

    response = client.get("/api/patients/", {"search": "gar\x00cia", "status": "active"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid query parameter: search.",
        "code": "invalid",
        "errors": {"search": ["Must not contain a NUL character."]},
    }
