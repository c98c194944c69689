"""Every role through the core's admin pages and API endpoints: the expected allow/deny, never a 500.

Later apps extend EXPECTED; `test_every_admin_page_answers_allow_or_deny` already walks every
registered admin page for every role.
"""

import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.test import APIClient

from clinic import roles
from tests.factories import PatientFactory, ProviderFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

FD, PR, MT, CA, NONE = roles.FRONT_DESK, roles.PROVIDER, roles.MASSAGE_THERAPIST, roles.CLINIC_ADMIN, None
ALL = (FD, PR, MT, CA)

# (url name, needs an object) -> roles allowed; everybody else gets 403.
EXPECTED = {
    ("admin:clinic_patient_changelist", False): ALL,
    ("admin:clinic_patient_change", True): ALL,  # clinicians see it read-only
    ("admin:clinic_patient_add", False): (FD, CA),
    ("admin:clinic_patient_delete", True): (),  # nobody: patients are never deleted (docs/decisions.md)
    ("admin:clinic_provider_changelist", False): ALL,
    ("admin:clinic_provider_add", False): (CA,),
    ("admin:clinic_healthping_changelist", False): (CA,),
    ("admin:auth_user_changelist", False): (CA,),
    ("admin:auth_user_add", False): (CA,),
    ("admin:auth_group_changelist", False): (CA,),
    ("admin:audit_accesslog_changelist", False): (CA,),
    ("admin:auditlog_logentry_changelist", False): (CA,),
    ("admin:accounts_breakglassgrant_changelist", False): (CA,),
    ("admin:accounts_breakglassgrant_add", False): (CA,),
    ("admin:otp_totp_totpdevice_changelist", False): (CA,),
    ("admin:authtoken_tokenproxy_changelist", False): (CA,),
}


def user_for(role):
    return staff_user(role) if role else UserFactory()


@pytest.mark.parametrize("role", [*ALL, NONE])
@pytest.mark.parametrize(("name", "needs_object"), list(EXPECTED))
def test_admin_matrix(client, role, name, needs_object):
    client.force_login(user_for(role))
    args = [PatientFactory().pk] if needs_object else []
    response = client.get(reverse(name, args=args))
    expected = 200 if role in EXPECTED[(name, needs_object)] else 403
    assert response.status_code == expected, f"{role} {name}"


@pytest.mark.parametrize("role", [*ALL, NONE])
def test_admin_index_shows_only_what_the_role_may_see(client, role):
    client.force_login(user_for(role))
    response = client.get("/admin/")
    assert response.status_code == 200
    visible = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert ("AccessLog" in visible) == (role == CA)
    assert ("BreakGlassGrant" in visible) == (role == CA)
    assert ("User" in visible) == (role == CA)
    assert ("Patient" in visible) == (role is not None)


@pytest.mark.parametrize("role", [*ALL, NONE])
def test_every_admin_page_answers_allow_or_deny(client, role):
    client.force_login(user_for(role))
    ProviderFactory()
    for model in admin.site._registry:
        opts = model._meta
        for page in ("changelist", "add"):
            response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}"))
            assert response.status_code in (200, 403), f"{role} {opts.label} {page}: {response.status_code}"


@pytest.mark.parametrize(("role", "expected"), [(FD, 403), (PR, 403), (MT, 403), (CA, 200), (NONE, 403)])
def test_api_matrix_export(role, expected):
    client = APIClient()
    client.force_authenticate(user_for(role))
    assert client.get(f"/api/patients/{PatientFactory().pk}/export/").status_code == expected


def test_api_anonymous_is_refused_everywhere():
    client = APIClient()
    for url in ("/api/schema/", "/api/docs/", f"/api/patients/{PatientFactory().pk}/export/"):
        assert client.get(url).status_code == 403, url
