"""The waitlist admin: add through the service, list in join order with clinic times, withdraw; by role."""

import datetime as dt

import pytest
from django.urls import reverse

from clinic import roles
from scheduling.models import WaitlistEntry
from scheduling.waitlist import waitlist_entry_create
from tests.factories import PatientFactory, ProviderFactory, staff_user

pytestmark = pytest.mark.django_db
URL = "/admin/scheduling/waitlistentry/"
NO_OFFERS = {f"offers-{name}_FORMS": "0" for name in ("TOTAL", "INITIAL", "MIN_NUM", "MAX_NUM")}


def join(clinic, **fields) -> WaitlistEntry:
    values = {"appointment_type": clinic.tpi, "location": clinic.room.location, "until": dt.date(2026, 12, 31)}
    return waitlist_entry_create(patient=fields.pop("patient", None) or PatientFactory(), by=clinic.frontdesk,
                                 **(values | fields))  # fmt: skip


def test_the_front_desk_adds_an_entry_through_the_service(client, clinic):
    client.force_login(clinic.frontdesk)
    form = {
        "patient": clinic.patient.pk, "appointment_type": clinic.tpi.pk, "provider": "", "location":
        clinic.room.location.pk, "weekdays": ["0", "2"], "earliest_time": "09:00", "latest_time": "12:00",
        "until": "2026-12-31", "notes": "prefers mornings",
        **NO_OFFERS,
    }  # fmt: skip

    response = client.post(URL + "add/", form)

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.provider, entry.weekdays, entry.times_label) == (
        clinic.patient, None, [0, 2], "09:00-12:00"
    )  # fmt: skip
    assert (entry.created_by, entry.created_at, entry.notes) == (
        clinic.frontdesk,
        dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC),
        "prefers mornings",
    )


def test_a_refused_entry_names_the_field(client, clinic):
    client.force_login(clinic.frontdesk)
    form = {
        "patient": clinic.patient.pk, "appointment_type": clinic.massage.pk, "provider": clinic.doctor.pk,
        "location": clinic.room.location.pk, "until": "2026-11-01",
        **NO_OFFERS,
    }  # fmt: skip

    response = client.post(URL + "add/", form)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["until"] == ["The last day has already passed."]
    assert "does not take Massage visits" in errors["provider"][0]
    assert WaitlistEntry.objects.count() == 0


def test_the_list_shows_join_order_in_clinic_time_with_constant_queries(client, clinic, frozen,
                                                                         django_assert_max_num_queries):  # fmt: skip
    client.force_login(clinic.frontdesk)
    first = join(clinic, weekdays=[0], earliest_time=dt.time(9))
    frozen.shift(dt.timedelta(minutes=5))
    second = join(clinic, provider=clinic.doctor)
    with django_assert_max_num_queries(20) as small:
        response = client.get(URL)
    assert [e.pk for e in response.context["cl"].result_list] == [first.pk, second.pk]
    page = response.content.decode()
    shown_texts = ("2026-11-30 07:00", "2026-11-30 07:05", "Mon, from 09:00", "with any provider", "any day, any time")
    for shown in shown_texts:  # joined in clinic time; days and times
        assert shown in page
    for _ in range(15):
        join(clinic, provider=ProviderFactory())
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(URL).context["cl"].result_count == 17


def test_withdraw_and_who_may_see_it(client, clinic):
    entry = join(clinic)
    client.force_login(clinic.frontdesk)
    response = client.post(URL, {"action": "withdraw", "_selected_action": [entry.pk]}, follow=True)
    assert "Withdrew 1 entry(ies)." in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == "withdrawn"

    client.force_login(clinic.doctor.user)
    assert client.get(URL).status_code == 200
    assert client.get(URL + "add/").status_code == 403
    client.force_login(clinic.therapist.user)
    assert client.get(URL).status_code == 403
    client.force_login(staff_user(roles.CLINIC_ADMIN))
    assert client.get(reverse("admin:scheduling_waitlistentry_change", args=[entry.pk])).status_code == 200
