import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from clinic import roles

pytestmark = pytest.mark.django_db


def test_demo_users_are_in_their_role_groups_and_seeding_twice_changes_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    users = {u.username: u for u in get_user_model().objects.prefetch_related("groups")}
    groups = {name: sorted(g.name for g in u.groups.all()) for name, u in users.items()}
    assert groups == {
        "admin": [roles.CLINIC_ADMIN],
        "frontdesk": [roles.FRONT_DESK],
        "drlee": [roles.PROVIDER],
        "drpatel": [roles.PROVIDER],
        "pasi": [roles.MASSAGE_THERAPIST],
    }
    assert users["admin"].is_superuser
    assert roles.is_clinic_admin(users["admin"])
    assert not roles.is_clinic_admin(users["frontdesk"])
    assert users["frontdesk"].has_perm("clinic.change_patient")
    assert not users["drlee"].has_perm("clinic.change_patient")
