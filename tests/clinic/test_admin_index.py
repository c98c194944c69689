"""The admin home page: the clinic's name and the front desk's shortcuts, per role."""

import pytest
from django.test import override_settings

from clinic import admin_index, roles
from tests.factories import ProviderFactory, staff_user

pytestmark = pytest.mark.django_db

SHORTCUTS = {
    "Day sheet": "/admin/scheduling/appointment/day-sheet/",
    "Book a visit": "/admin/scheduling/appointment/book/",
    "Follow-ups": "/admin/tpi/followup/",
    "Triage inbox": "/admin/messaging/triageitem/",
}


def shortcuts_seen(client, user) -> set[str]:
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    return {label for label, url in SHORTCUTS.items() if f'href="{url}">{label}</a>' in page}


@override_settings(CLINIC_NAME="Riverside Pain Clinic")
def test_the_admin_carries_the_clinic_name(client):
    client.force_login(staff_user(roles.FRONT_DESK))

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "<title>Site administration | Riverside Pain Clinic</title>" in response.content.decode()


def test_the_front_desk_gets_every_shortcut(client):
    assert shortcuts_seen(client, staff_user(roles.FRONT_DESK)) == set(SHORTCUTS)


def test_a_massage_therapist_gets_the_day_sheet_only(client):
    therapist = ProviderFactory(role="massage_therapist", credentials="LMT").user

    assert shortcuts_seen(client, therapist) == {"Day sheet"}


def test_a_registered_shortcut_shows_under_its_section_to_holders_of_its_permission(client, monkeypatch):
    monkeypatch.setattr(admin_index, "_shortcuts", {})
    admin_index.admin_shortcut_register(
        section="Records", label="Patients", url_name="admin:clinic_patient_changelist",
        permission="clinic.add_patient", description="the register", position=1,
    )  # fmt: skip
    client.force_login(staff_user(roles.FRONT_DESK))

    page = client.get("/admin/").content.decode()

    assert "<caption>Records</caption>" in page
    assert '<a href="/admin/clinic/patient/">Patients</a></th><td>the register</td>' in page
    assert "<caption>Today</caption>" not in page
    client.force_login(ProviderFactory(role="massage_therapist", credentials="LMT").user)
    assert "clinic-shortcuts" not in client.get("/admin/").content.decode()
