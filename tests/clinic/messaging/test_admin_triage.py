"""The triage inbox in the admin: most urgent first, linked, answered by SMS, handled by whom; by role."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from clinic import roles
from clinic.messaging.consent import consent_change
from clinic.messaging.models import Message, TriageAnswer, TriageItem
from clinic.messaging.triage import triage_handle, triage_open
from tests.factories import PatientFactory, ProviderFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db
NOON_NY = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
U = TriageItem.Urgency


@pytest.fixture(autouse=True)
def noon(settings):
    settings.CLINIC_NAME = "Riverside Pain Clinic"
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def frontdesk(client):
    user = staff_user(roles.FRONT_DESK, username="frontdesk")
    client.force_login(user)
    return user


def changelist(client, **query):
    return client.get(reverse("admin:messaging_triageitem_changelist"), query)


def test_the_open_items_come_most_urgent_first_with_their_links(client, frontdesk):
    patient = PatientFactory(legal_first_name="Ana", legal_last_name="Ruiz")
    linked = UserFactory(username="visit-stand-in")
    routine = triage_open(patient=patient, reason="free_text")
    urgent = triage_open(patient=patient, reason="symptom", urgency=U.URGENT, detail="fever", concerns=linked)
    soon = triage_open(patient=patient, reason="pain", urgency=U.SOON, detail="pain 8/10")
    triage_handle(item=triage_open(patient=patient, reason="free_text"), by=frontdesk)

    response = changelist(client)

    assert [i.pk for i in response.context["cl"].result_list] == [urgent.pk, soon.pk, routine.pk]
    page = response.content.decode()
    assert f'<a href="{reverse("admin:clinic_patient_change", args=[patient.pk])}">' in page
    assert "visit-stand-in" in page  # the front desk may not open users: the label, no link
    assert reverse("admin:auth_user_change", args=[linked.pk]) not in page
    assert "2026-03-02 12:00" in page  # clinic time, not UTC
    handled = changelist(client, state="handled")
    assert handled.context["cl"].result_count == 1
    assert "by frontdesk, 2026-03-02 12:00" in handled.content.decode()
    client.force_login(staff_user(roles.CLINIC_ADMIN))  # may open the linked record: a link
    page = changelist(client).content.decode()
    assert f'<a href="{reverse("admin:auth_user_change", args=[linked.pk])}">visit-stand-in</a>' in page


def test_the_list_runs_constant_queries(client, frontdesk, django_assert_max_num_queries):
    def items(n):
        for i in range(n):
            triage_open(patient=PatientFactory(), reason="free_text", urgency=U.SOON, concerns=UserFactory(),
                        answers=UserFactory(), detail=f"item {i}")  # fmt: skip

    items(2)
    with django_assert_max_num_queries(30) as small:
        assert changelist(client).status_code == 200
    items(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert changelist(client).context["cl"].result_count == 22


def test_an_answer_from_the_item_page_is_queued_and_listed_with_its_author(client, frontdesk, sms_outbox):
    patient = PatientFactory()
    item = triage_open(patient=patient, reason="free_text")
    url = reverse("admin:messaging_triageitem_change", args=[item.pk])

    response = client.post(url, {"answer": "We can see you tomorrow at 10.", **_no_inline()}, follow=True)

    assert "Answer queued for the patient." in response.content.decode()
    answer = TriageAnswer.objects.get()
    assert (answer.item, answer.by, answer.message.body) == (
        item, frontdesk, "Riverside Pain Clinic: We can see you tomorrow at 10. Reply STOP to opt out."
    )  # fmt: skip
    page = client.get(url).content.decode()
    assert "We can see you tomorrow at 10." in page
    assert "frontdesk" in page
    item.refresh_from_db()
    assert item.handled_at is None  # answering is not handling


def test_an_answer_to_a_patient_without_consent_shows_why_and_sends_nothing(client, frontdesk, sms_outbox):
    patient = PatientFactory()
    consent_change(patient=patient, channel="sms", granted=False, source="staff")
    item = triage_open(patient=patient, reason="free_text")
    url = reverse("admin:messaging_triageitem_change", args=[item.pk])

    response = client.post(url, {"answer": "Please call us.", "mark_handled": "on", **_no_inline()})

    assert response.status_code == 200  # the form again, with the reason
    assert "The patient opted out of text messages (replied STOP); call them instead." in response.content.decode()
    assert (Message.objects.filter(purpose="triage_answer").count(), TriageAnswer.objects.count()) == (0, 0)
    item.refresh_from_db()
    assert item.handled_at is None


def test_marking_handled_records_who_and_when(client, frontdesk, noon):
    item = triage_open(patient=PatientFactory(), reason="free_text")
    noon.shift(dt.timedelta(minutes=10))

    client.post(reverse("admin:messaging_triageitem_change", args=[item.pk]), {"mark_handled": "on", **_no_inline()})
    other = triage_open(patient=PatientFactory(), reason="free_text")
    response = client.post(
        reverse("admin:messaging_triageitem_changelist"),
        {"action": "mark_handled", "_selected_action": [other.pk]},
        follow=True,
    )

    assert "Marked 1 item(s) handled." in response.content.decode()
    item.refresh_from_db()
    other.refresh_from_db()
    assert (item.handled_by, item.handled_at) == (frontdesk, NOON_NY + dt.timedelta(minutes=10))
    assert other.handled_by == frontdesk


def test_a_provider_answers_and_a_massage_therapist_sees_nothing(client, sms_outbox):
    item = triage_open(patient=PatientFactory(), reason="pain", urgency=U.SOON)
    doctor = ProviderFactory().user
    client.force_login(doctor)
    url = reverse("admin:messaging_triageitem_change", args=[item.pk])

    client.post(url, {"answer": "Rest and ice today; call if it gets worse.", **_no_inline()})

    assert TriageAnswer.objects.get().by == doctor
    therapist = ProviderFactory(role="massage_therapist", credentials="LMT").user
    client.force_login(therapist)
    assert changelist(client).status_code == 403
    assert client.get(url).status_code == 403
    assert 'href="/admin/messaging/triageitem/"' not in client.get("/admin/").content.decode()


def _no_inline() -> dict:
    """The answers inline's management form (read-only rows, none added)."""
    return {
        "staff_answers-TOTAL_FORMS": "0",
        "staff_answers-INITIAL_FORMS": "0",
        "staff_answers-MIN_NUM_FORMS": "0",
        "staff_answers-MAX_NUM_FORMS": "0",
    }
