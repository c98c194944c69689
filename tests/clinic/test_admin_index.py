"""The admin home page: the clinic's name and the front desk's shortcuts, per role."""

import pytest
from django.test import override_settings

from clinic import roles
from tests.factories import ProviderFactory, staff_user

pytestmark = pytest.mark.django_db

SHORTCUTS = {
    "Day sheet": "/admin/scheduling/appointment/day-sheet/",
    "Book a visit": "/admin/scheduling/appointment/book/",
    "Follow-ups": "/admin/tpi/followup/",
    "Replies to review": "/admin/messaging/replytoreview/",
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
