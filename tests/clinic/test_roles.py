import sys
import types

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from clinic import roles
from clinic.models import Patient
from tests.factories import PatientFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def perms_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_migration_creates_the_four_role_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)


def test_core_role_permissions_are_synced_after_migrate():
    assert {"clinic.view_patient", "clinic.add_patient", "clinic.change_patient"} <= perms_of(roles.FRONT_DESK)
    assert "clinic.delete_patient" not in perms_of(roles.FRONT_DESK)
    assert "clinic.view_patient" in perms_of(roles.PROVIDER)
    assert not {"clinic.add_patient", "clinic.change_patient"} & perms_of(roles.PROVIDER)
    assert "clinic.view_patient" in perms_of(roles.MASSAGE_THERAPIST)
    assert "clinic.change_patient" not in perms_of(roles.MASSAGE_THERAPIST)
    assert perms_of(roles.CLINIC_ADMIN) == {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")
    }


def test_sync_is_idempotent_and_removes_stale_permissions():
    front_desk = Group.objects.get(name=roles.FRONT_DESK)
    front_desk.permissions.add(Permission.objects.get(codename="delete_patient"))
    assert roles.roles_sync() == []
    assert roles.roles_sync() == []
    assert "clinic.delete_patient" not in perms_of(roles.FRONT_DESK)
    assert front_desk.permissions.count() == len(roles.role_permissions_collect()[roles.FRONT_DESK])


def test_sync_collects_each_apps_roles_module_without_the_core_importing_it(monkeypatch):
    # Replace scheduling's roles module with one declaring extra (and unknown) permissions.
    fake = types.ModuleType("scheduling.roles")
    fake.ROLE_PERMISSIONS = {roles.PROVIDER: ["clinic.change_provider"], roles.FRONT_DESK: ["nope.view_nothing"]}
    monkeypatch.setitem(sys.modules, "scheduling.roles", fake)
    assert roles.roles_sync() == ["nope.view_nothing"]
    assert "clinic.change_provider" in perms_of(roles.PROVIDER)
    monkeypatch.delitem(sys.modules, "scheduling.roles")
    roles.roles_sync()
    assert "clinic.change_provider" not in perms_of(roles.PROVIDER)


def test_a_roles_module_naming_an_unknown_role_is_refused(monkeypatch):
    fake = types.ModuleType("tpi.roles")
    fake.ROLE_PERMISSIONS = {"janitor": ["clinic.view_patient"]}
    monkeypatch.setitem(sys.modules, "tpi.roles", fake)
    with pytest.raises(ValueError, match="unknown role 'janitor'"):
        roles.role_permissions_collect()


def test_predicates():
    front = staff_user(roles.FRONT_DESK)
    admin = staff_user(roles.CLINIC_ADMIN)
    superuser = UserFactory(is_superuser=True)
    inactive = staff_user(roles.CLINIC_ADMIN, is_active=False)
    assert roles.has_role(front, roles.FRONT_DESK)
    assert not roles.has_role(front, roles.PROVIDER)
    assert roles.is_clinic_admin(admin)
    assert roles.is_clinic_admin(superuser)
    assert not roles.is_clinic_admin(front)
    assert not roles.is_clinic_admin(inactive)
    with pytest.raises(ValueError, match="unknown role"):
        roles.has_role(front, "janitor")


@pytest.mark.urls("tests.urls")
class TestClinicModelPermissions:
    def client_for(self, user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    def test_front_desk_reads_adds_and_changes_but_does_not_delete(self):
        patient = PatientFactory()
        client = self.client_for(staff_user(roles.FRONT_DESK))
        assert client.get("/api/test-patients/").status_code == 200
        assert client.get(f"/api/test-patients/{patient.pk}/").status_code == 200
        body = {"legal_first_name": "Ann", "legal_last_name": "Lee", "date_of_birth": "1970-01-01"}
        assert client.post("/api/test-patients/", body).status_code == 201
        assert client.patch(f"/api/test-patients/{patient.pk}/", {"legal_last_name": "X"}).status_code == 200
        response = client.delete(f"/api/test-patients/{patient.pk}/")
        assert response.status_code == 403
        assert Patient.objects.filter(pk=patient.pk).exists()

    def test_provider_reads_but_cannot_change(self):
        patient = PatientFactory(legal_last_name="Before")
        client = self.client_for(staff_user(roles.PROVIDER))
        assert client.get(f"/api/test-patients/{patient.pk}/").status_code == 200
        response = client.patch(f"/api/test-patients/{patient.pk}/", {"legal_last_name": "After"})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "You do not have permission to perform this action.",
            "code": "permission_denied",
        }
        patient.refresh_from_db()
        assert patient.legal_last_name == "Before"

    def test_a_user_without_a_role_cannot_even_read(self):
        PatientFactory()
        assert self.client_for(UserFactory()).get("/api/test-patients/").status_code == 403

    def test_anonymous_is_refused(self):
        assert APIClient().get("/api/test-patients/").status_code in (401, 403)

    def test_object_level_hook_refuses_with_403(self):
        patient = PatientFactory(status=Patient.Status.DECEASED)
        client = self.client_for(staff_user(roles.CLINIC_ADMIN))
        assert client.get(f"/api/test-patients/{patient.pk}/").status_code == 403
        assert client.get(f"/api/test-patients/{PatientFactory().pk}/").status_code == 200
