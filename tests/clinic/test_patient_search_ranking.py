"""A name search lists last names that start with the term first, pages through both tiers, counts to a cap.

Through the three places staff search: the API's ?search=, the admin search box, the admin patient picker.
"""

import pytest
from rest_framework.test import APIClient

from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

PICKER = {"app_label": "scheduling", "model_name": "appointment", "field_name": "patient"}


@pytest.fixture
def garcias():
    """Patients matching "garcia", created out of order: three by last-name prefix, three elsewhere in a name."""
    rows = [
        ("Maria", "Lopez-Garcia", ""),  # the fragment inside the last name
        ("Garcia", "Abbott", ""),  # a first name
        ("Luis", "garcia", ""),  # lower case: the prefix and the order ignore case
        ("Ana", "Garcia", ""),
        ("Pat", "Baker", "Garciela"),  # not a match: "garciela" is no "garcia"
        ("Eva", "Zimmer", "Garcia"),  # a preferred name
        ("Ana", "Garcia Marquez", ""),
        ("Rosa", "Abad", ""),  # not a match
    ]
    made = [PatientFactory(legal_first_name=f, legal_last_name=ln, preferred_name=p) for f, ln, p in rows]
    return {f"{p.legal_first_name} {p.legal_last_name}": p.pk for p in made}


# Last names starting with GARCIA (by upper-cased last, then first name), then the rest in the same order.
RANKED = ["Ana Garcia", "Luis garcia", "Ana Garcia Marquez", "Garcia Abbott", "Maria Lopez-Garcia", "Eva Zimmer"]


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(UserFactory(is_superuser=True))
    return client


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


def names(garcias, pks):
    by_pk = {pk: name for name, pk in garcias.items()}
    return [by_pk[int(pk)] for pk in pks]


def test_the_api_lists_last_names_starting_with_the_term_first(api, garcias):
    body = api.get("/api/patients/", {"search": "garcia"}).json()

    assert body["count"] == 6
    assert names(garcias, [p["id"] for p in body["results"]]) == RANKED


def test_the_admin_search_box_and_the_picker_rank_the_same_way(staff, garcias):
    listed = staff.get("/admin/clinic/patient/", {"q": "garcia"}).context["cl"]
    picked = staff.get("/admin/autocomplete/", {**PICKER, "term": "garcia"}).json()

    assert listed.result_count == 6
    assert names(garcias, [p.pk for p in listed.result_list]) == RANKED
    assert names(garcias, [r["id"] for r in picked["results"]]) == RANKED


@pytest.mark.parametrize("page_size", [1, 2, 4])
def test_pages_run_through_the_first_tier_into_the_second_without_gaps_or_repeats(api, garcias, page_size):
    pages, page = [], 1
    while True:
        response = api.get("/api/patients/", {"search": "garcia", "page_size": page_size, "page": page})
        if response.status_code == 404:
            break
        pages.append([p["id"] for p in response.json()["results"]])
        page += 1

    assert [len(rows) for rows in pages] == [min(page_size, 6 - i) for i in range(0, 6, page_size)]
    assert names(garcias, [pk for rows in pages for pk in rows]) == RANKED


def test_the_admin_pages_across_the_tiers(staff, garcias, monkeypatch):
    monkeypatch.setattr("clinic.admin.PatientAdmin.list_per_page", 4)

    first = staff.get("/admin/clinic/patient/", {"q": "garcia"}).context["cl"]
    second = staff.get("/admin/clinic/patient/", {"q": "garcia", "p": 2}).context["cl"]

    assert names(garcias, [p.pk for p in first.result_list]) == RANKED[:4]
    assert names(garcias, [p.pk for p in second.result_list]) == RANKED[4:]


def test_every_word_must_match_and_a_word_starting_any_last_name_ranks_first(api, garcias):
    body = api.get("/api/patients/", {"search": "ana garcia"}).json()

    assert names(garcias, [p["id"] for p in body["results"]]) == ["Ana Garcia", "Ana Garcia Marquez"]


def test_a_name_search_counts_to_its_cap_and_pages_past_it_answer_404(api, garcias, monkeypatch):
    monkeypatch.setattr("clinic.patient_search.SEARCH_COUNT_CAP", 4)

    body = api.get("/api/patients/", {"search": "garcia", "page_size": 3}).json()
    second = api.get("/api/patients/", {"search": "garcia", "page_size": 3, "page": 2}).json()
    third = api.get("/api/patients/", {"search": "garcia", "page_size": 3, "page": 3})

    assert body["count"] == 4  # at least 4
    assert names(garcias, [p["id"] for p in body["results"]]) == RANKED[:3]
    assert names(garcias, [p["id"] for p in second["results"]]) == RANKED[3:4]
    assert third.status_code == 404


def test_a_search_sorted_by_a_column_keeps_the_staff_order(staff, garcias):
    # ?o=-2: legal first name, descending (list_display counts from 0)
    listed = staff.get("/admin/clinic/patient/", {"q": "garcia", "o": "-2"}).context["cl"]

    assert names(garcias, [p.pk for p in listed.result_list]) == [
        "Maria Lopez-Garcia",
        "Luis garcia",
        "Garcia Abbott",
        "Eva Zimmer",
        "Ana Garcia Marquez",
        "Ana Garcia",
    ]


def test_the_api_count_of_the_plain_list_is_capped(api, monkeypatch):
    monkeypatch.setattr("clinic.pagination.COUNT_CAP", 3)
    PatientFactory.create_batch(5)

    body = api.get("/api/patients/", {"page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
