import datetime as dt

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.utils import timezone

from clinic import roles
from clinic.audit.access import access_record
from clinic.audit.models import AccessLog
from tests.factories import PatientFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

ACCESS = "/admin/audit/accesslog/"
WRITES = "/admin/auditlog/logentry/"


def logs(n: int, *, user=None, patient=None) -> list[AccessLog]:
    user = user or staff_user(roles.PROVIDER)
    return [
        access_record(user=user, patient=patient or PatientFactory(), obj=patient or PatientFactory(), action="view")
        for _ in range(n)
    ]


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


@pytest.mark.parametrize("base", [ACCESS, WRITES])
def test_nobody_adds_changes_or_deletes_audit_rows_not_even_a_superuser(superuser_client, base):
    row = logs(1)[0] if base == ACCESS else LogEntry.objects.get_for_object(PatientFactory()).get()
    assert superuser_client.get(base).status_code == 200
    assert superuser_client.get(f"{base}add/").status_code == 403
    assert superuser_client.get(f"{base}{row.pk}/change/").status_code == 200  # view-only page
    assert superuser_client.post(f"{base}{row.pk}/change/", {}).status_code == 403
    assert superuser_client.get(f"{base}{row.pk}/delete/").status_code == 403
    assert superuser_client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    response = superuser_client.post(base, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert response.status_code in (200, 302)
    assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.PROVIDER, roles.MASSAGE_THERAPIST])
@pytest.mark.parametrize("base", [ACCESS, WRITES])
def test_only_clinic_admins_see_the_audit_trail(client, role, base):
    client.force_login(staff_user(role))
    assert client.get(base).status_code == 403


# 02:30 UTC is the evening before in the clinic's zone: the admin's date filter reads the local date.
@time_machine.travel(dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC), tick=False)
def test_clinic_admin_searches_and_filters_by_user_patient_and_date(client):
    admin = staff_user(roles.CLINIC_ADMIN)
    reader, other = staff_user(roles.PROVIDER, username="reader"), staff_user(roles.PROVIDER, username="other")
    patient = PatientFactory(legal_last_name="Zyxwvut")
    mine = logs(2, user=reader, patient=patient)
    logs(3, user=other)
    client.force_login(admin)

    def result_ids(query: str) -> set[int]:
        response = client.get(f"{ACCESS}?{query}")
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert result_ids(f"user__id__exact={reader.pk}") == {r.pk for r in mine}
    assert result_ids(f"patient__id__exact={patient.pk}") == {r.pk for r in mine}
    assert result_ids(f"q={patient.mrn}") == {r.pk for r in mine}
    assert result_ids("q=Zyxwvut") == {r.pk for r in mine}
    assert result_ids("q=other") == set(AccessLog.objects.filter(user=other).values_list("pk", flat=True))
    day = timezone.localdate(mine[0].at)
    assert day == dt.date(2026, 11, 29)
    assert len(result_ids(f"at__year={day.year}&at__month={day.month}&at__day={day.day}")) == 5
    assert result_ids("at__year=1999") == set()


@pytest.mark.parametrize("base", [ACCESS, WRITES])
def test_audit_changelists_run_a_constant_number_of_queries(client, django_assert_max_num_queries, base):
    client.force_login(staff_user(roles.CLINIC_ADMIN))
    users = [staff_user(roles.PROVIDER) for _ in range(3)]
    for user in users:
        logs(1, user=user)
    with django_assert_max_num_queries(20) as small:
        client.get(base)
    more_users = [staff_user(roles.PROVIDER) for _ in range(10)]
    for user in more_users:
        logs(3, user=user)
    with django_assert_max_num_queries(len(small.captured_queries)) as big:
        response = client.get(base)
    assert response.status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries)


def test_user_model_is_the_default():
    # The admin filter by user relies on the default user model's username.
    assert get_user_model()._meta.label == "auth.User"
