"""Patient search (API `?search=`, admin `?q=`) runs as many queries for 2 matches as for 12."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return UserFactory(is_superuser=True, is_staff=True)


def counted(fetch):
    with CaptureQueriesContext(connection) as captured:
        response = fetch()
    assert response.status_code == 200
    return len(captured), response


def test_the_api_search_runs_a_constant_number_of_queries(admin_user, django_assert_max_num_queries):
    api = APIClient()
    api.force_authenticate(admin_user)
    PatientFactory.create_batch(2, legal_last_name="Garcia")
    PatientFactory.create_batch(5, legal_last_name="Okafor")
    small, response = counted(lambda: api.get("/api/patients/", {"search": "garcia"}))
    assert response.json()["count"] == 2
    PatientFactory.create_batch(10, legal_last_name="Garcia")

    with django_assert_max_num_queries(small):
        response = api.get("/api/patients/", {"search": "garcia"})

    assert response.json()["count"] == 12


def test_the_admin_search_runs_a_constant_number_of_queries(client, admin_user, django_assert_max_num_queries):
    client.force_login(admin_user)
    PatientFactory.create_batch(2, legal_last_name="Garcia")
    PatientFactory.create_batch(5, legal_last_name="Okafor")
    small, response = counted(lambda: client.get("/admin/clinic/patient/", {"q": "garcia"}))
    assert response.context["cl"].result_count == 2
    PatientFactory.create_batch(10, legal_last_name="Garcia")

    with django_assert_max_num_queries(small):
        response = client.get("/admin/clinic/patient/", {"q": "garcia"})

    assert response.context["cl"].result_count == 12
