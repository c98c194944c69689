import pytest
from auditlog.models import LogEntry
from django.test import RequestFactory, override_settings

from clinic import roles
from clinic.audit.access import access_record
from clinic.security.client_ip import client_ip
from tests.factories import PatientFactory, staff_user

FORGED_CHAIN = "6.6.6.6, 203.0.113.9"  # the client wrote 6.6.6.6; our proxy appended 203.0.113.9


def request(**meta):
    return RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", **meta)


def test_without_trusted_proxies_the_socket_address_counts():
    assert client_ip(request(HTTP_X_FORWARDED_FOR=FORGED_CHAIN)) == "10.0.0.1"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_entry_it_appended_counts_not_the_forged_one():
    assert client_ip(request(HTTP_X_FORWARDED_FOR=FORGED_CHAIN)) == "203.0.113.9"
    assert client_ip(request()) == "10.0.0.1"  # no header: straight to the socket address


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_read_and_write_audit_use_the_same_address(client):
    user, patient = staff_user(roles.CLINIC_ADMIN), PatientFactory()
    row = access_record(
        user=user, patient=patient, obj=patient, action="view", request=request(HTTP_X_FORWARDED_FOR=FORGED_CHAIN)
    )
    assert row.remote_addr == "203.0.113.9"
    client.force_login(user)
    client.post(
        "/admin/accounts/breakglassgrant/add/",
        {"patient": patient.pk, "reason": "Emergency department request"},
        HTTP_X_FORWARDED_FOR=FORGED_CHAIN,
    )
    entry = LogEntry.objects.filter(content_type__model="breakglassgrant").get()
    assert entry.remote_addr == "203.0.113.9"


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1, AXES_FAILURE_LIMIT=2)
def test_lockout_counts_the_real_client_address(client):
    from axes.models import AccessAttempt

    staff_user(roles.FRONT_DESK, username="frontdesk")
    for _ in range(2):
        client.post("/admin/login/", {"username": "frontdesk", "password": "x"}, HTTP_X_FORWARDED_FOR=FORGED_CHAIN)
    assert AccessAttempt.objects.get().ip_address == "203.0.113.9"
