import datetime as dt

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from rest_framework.test import APIClient

from clinic import roles
from clinic.audit.access import access_record
from clinic.audit.models import AccessLog
from clinic.models import Patient, Provider
from tests.factories import PatientFactory, ProviderFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_access_record_stores_who_what_when_and_where():
    user, patient = staff_user(roles.PROVIDER), PatientFactory()
    provider = ProviderFactory()
    request = RequestFactory().get(
        f"/some/chart/{provider.pk}/?q=Rivera", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Firefox " + "x" * 400
    )
    with time_machine.travel(START, tick=False):
        row = access_record(user=user, patient=patient, obj=provider, action="view", request=request)
    row.refresh_from_db()
    assert (row.user, row.patient, row.action, row.at) == (user, patient, AccessLog.Action.VIEW, START)
    assert (row.content_type, row.object_id) == (ContentType.objects.get_for_model(Provider), str(provider.pk))
    assert row.remote_addr == "10.1.2.3"
    assert row.user_agent == ("Firefox " + "x" * 400)[:300]
    assert row.path == f"/some/chart/{provider.pk}/"  # never the query string


def test_access_record_without_a_request_and_refusing_unknown_actions():
    user, patient = staff_user(roles.CLINIC_ADMIN), PatientFactory()
    row = access_record(user=user, patient=patient, obj=patient, action="export")
    assert (row.remote_addr, row.user_agent, row.path) == (None, "", "")
    with pytest.raises(ValueError, match="unknown access action 'print'"):
        access_record(user=user, patient=patient, obj=patient, action="print")


@pytest.mark.urls("tests.clinic.audit.urls")
def test_admin_mixin_records_a_view_on_the_change_page_only(client):
    user, patient = staff_user(roles.FRONT_DESK), PatientFactory()
    client.force_login(user)
    url = f"/audited-admin/clinic/patient/{patient.pk}/change/"
    assert client.get(url, REMOTE_ADDR="10.9.9.9").status_code == 200
    row = AccessLog.objects.get()
    assert (row.user, row.patient, row.object_id, row.action) == (user, patient, str(patient.pk), "view")
    assert (row.remote_addr, row.path) == ("10.9.9.9", url)
    assert client.get("/audited-admin/clinic/patient/").status_code == 200  # lists are not chart reads
    assert client.get("/audited-admin/clinic/patient/add/").status_code == 200
    assert AccessLog.objects.count() == 1


@pytest.mark.urls("tests.clinic.audit.urls")
def test_admin_mixin_records_view_only_pages_and_not_refused_ones(client):
    patient = PatientFactory()
    client.force_login(staff_user(roles.PROVIDER))  # view permission only
    assert client.get(f"/audited-admin/clinic/patient/{patient.pk}/change/").status_code == 200
    assert AccessLog.objects.count() == 1
    client.force_login(UserFactory())  # staff, but no role at all
    assert client.get(f"/audited-admin/clinic/patient/{patient.pk}/change/").status_code == 403
    assert AccessLog.objects.count() == 1


@pytest.mark.urls("tests.urls")
def test_viewset_mixin_records_each_retrieve_but_not_lists():
    user, patient = staff_user(roles.PROVIDER), PatientFactory()
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/test-patients/").status_code == 200
    assert not AccessLog.objects.exists()
    response = client.get(f"/api/test-patients/{patient.pk}/", HTTP_USER_AGENT="integration/1.0")
    assert response.status_code == 200
    assert response.json()["mrn"] == patient.mrn
    row = AccessLog.objects.get()
    assert (row.user, row.patient, row.action, row.user_agent) == (user, patient, "view", "integration/1.0")
    assert client.get("/api/test-patients/999999/").status_code == 404
    assert AccessLog.objects.count() == 1


@pytest.mark.urls("tests.urls")
def test_viewset_mixin_does_not_record_refused_reads():
    patient = PatientFactory(status=Patient.Status.DECEASED)  # refused by the test viewset's object rule
    client = APIClient()
    client.force_authenticate(staff_user(roles.CLINIC_ADMIN))
    assert client.get(f"/api/test-patients/{patient.pk}/").status_code == 403
    assert not AccessLog.objects.exists()
