import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.test import override_settings

from clinic import roles
from clinic.accounts.breakglass import break_glass_open
from clinic.accounts.models import BreakGlassGrant
from tests.factories import PatientFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def _holds(*, user, patient) -> bool:
    """Return whether USER holds an open grant on PATIENT (the query tpi.access reads)."""
    return BreakGlassGrant.objects.active().filter(user=user, patient=patient).exists()


START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
REASON = "Patient in ED, chart needed for allergy history"


def test_open_grants_sixty_minutes_to_one_patient_then_expires_by_itself():
    admin = staff_user(roles.CLINIC_ADMIN)
    patient, other = PatientFactory(), PatientFactory()
    with time_machine.travel(START, tick=False) as traveller:
        grant = break_glass_open(user=admin, patient=patient, reason=f"  {REASON} ")
        assert (grant.opened_at, grant.expires_at) == (START, START + dt.timedelta(minutes=60))
        assert grant.reason == REASON
        assert _holds(user=admin, patient=patient)
        assert not _holds(user=admin, patient=other)
        assert not _holds(user=staff_user(roles.CLINIC_ADMIN), patient=patient)
        traveller.shift(dt.timedelta(minutes=59, seconds=59))
        assert _holds(user=admin, patient=patient)
        traveller.shift(dt.timedelta(seconds=1))
        assert not _holds(user=admin, patient=patient)
        assert not grant.is_active
    assert BreakGlassGrant.objects.count() == 1  # the record stays after expiry


@override_settings(BREAK_GLASS_MINUTES=15)
def test_duration_is_a_setting():
    with time_machine.travel(START, tick=False):
        grant = break_glass_open(user=staff_user(roles.CLINIC_ADMIN), patient=PatientFactory(), reason=REASON)
    assert grant.expires_at - grant.opened_at == dt.timedelta(minutes=15)


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.PROVIDER, roles.MASSAGE_THERAPIST])
def test_only_clinic_admins_may_open(role):
    with pytest.raises(PermissionDenied, match="Only a clinic admin"):
        break_glass_open(user=staff_user(role), patient=PatientFactory(), reason=REASON)
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", "because"])
def test_a_reason_is_mandatory(reason):
    with pytest.raises(ValidationError) as excinfo:
        break_glass_open(user=staff_user(roles.CLINIC_ADMIN), patient=PatientFactory(), reason=reason)
    assert excinfo.value.message_dict == {"reason": ["Give the reason for emergency access (at least 10 characters)."]}
    assert not BreakGlassGrant.objects.exists()


def test_database_refuses_a_grant_without_reason_or_duration():
    admin, patient = UserFactory(), PatientFactory()
    with pytest.raises(IntegrityError):
        BreakGlassGrant.objects.create(user=admin, patient=patient, reason="", opened_at=START, expires_at=START)


def test_opening_through_the_admin_records_who_and_audits_it(client):
    from auditlog.models import LogEntry

    admin = staff_user(roles.CLINIC_ADMIN)
    patient = PatientFactory()
    client.force_login(admin)
    with time_machine.travel(START, tick=False):
        response = client.post("/admin/accounts/breakglassgrant/add/", {"patient": patient.pk, "reason": REASON})
    assert response.status_code == 302
    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.patient, grant.expires_at) == (admin, patient, START + dt.timedelta(minutes=60))
    entry = LogEntry.objects.get_for_object(grant).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == admin


def test_admin_refuses_short_reasons_and_non_admins(client):
    client.force_login(staff_user(roles.CLINIC_ADMIN))
    response = client.post("/admin/accounts/breakglassgrant/add/", {"patient": PatientFactory().pk, "reason": "x"})
    assert response.status_code == 200
    assert "Give the reason for emergency access (at least 10 characters)." in response.content.decode()
    client.force_login(staff_user(roles.FRONT_DESK))
    assert client.get("/admin/accounts/breakglassgrant/add/").status_code == 403
