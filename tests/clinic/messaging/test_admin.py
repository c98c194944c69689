import itertools

import pytest
from django.urls import reverse

from clinic.messaging.backends import SendError, locmem
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import ConsentEvent, InboundMessage, Message
from clinic.messaging.outbox import message_deliver, message_queue
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
KEYS = itertools.count()


@pytest.fixture
def admin_client(client):
    user = UserFactory(username="boss", is_superuser=True)
    client.force_login(user)
    return client


def make_messages(n, *, fail=False):
    patient = PatientFactory()
    messages = []
    for _i in range(n):
        if fail:
            locmem.failures.append(SendError("bad number", permanent=True))
        message = message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={},
                                source_key=f"test:{next(KEYS)}")  # fmt: skip
        message_deliver(message_id=message.pk)
        messages.append(message)
    return patient, messages


def make_replies(n, *, first=0):
    patient = PatientFactory(mobile_phone="+12025550143")
    for i in range(first, first + n):
        inbound_sms_receive(provider_message_id=f"SM{i:032d}", from_number="+12025550143", body=f"question {i}")
    return patient


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:messaging_message_changelist",
        "admin:messaging_messageneedingattention_changelist",
    ],
)
def test_message_lists_run_constant_queries(admin_client, sms_outbox, noon, django_assert_max_num_queries, url_name):
    make_messages(3, fail=True)
    with django_assert_max_num_queries(12) as small:
        assert admin_client.get(reverse(url_name)).status_code == 200
    make_messages(27, fail=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(reverse(url_name))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 30


@pytest.mark.parametrize(
    "url_name",
    ["admin:messaging_inboundmessage_changelist", "admin:messaging_triageitem_changelist"],
)
def test_reply_lists_run_constant_queries(admin_client, noon, django_assert_max_num_queries, url_name):
    make_replies(3)
    with django_assert_max_num_queries(12) as small:
        assert admin_client.get(reverse(url_name)).status_code == 200
    make_replies(27, first=3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(reverse(url_name))
    assert response.context["cl"].result_count == 30


def test_consent_log_lists(admin_client, noon, sms_outbox, django_assert_max_num_queries):
    from clinic.messaging.consent import consent_change

    for _ in range(5):
        consent_change(patient=PatientFactory(), channel="sms", granted=False, source="staff")
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:messaging_consentevent_changelist"))
    assert response.context["cl"].result_count == 5


def test_failed_list_shows_only_failed_and_unknown(admin_client, sms_outbox, noon):
    make_messages(2)
    _, failed = make_messages(1, fail=True)
    response = admin_client.get(reverse("admin:messaging_messageneedingattention_changelist"))
    assert [m.pk for m in response.context["cl"].result_list] == [failed[0].pk]


def test_message_log_per_patient_and_by_status(admin_client, sms_outbox, noon):
    patient, mine = make_messages(2)
    make_messages(3)
    url = reverse("admin:messaging_message_changelist")
    response = admin_client.get(url, {"patient__id__exact": patient.pk})
    assert sorted(m.pk for m in response.context["cl"].result_list) == sorted(m.pk for m in mine)
    assert admin_client.get(url, {"status__exact": "sent"}).context["cl"].result_count == 5
    assert admin_client.get(url, {"status__exact": "failed"}).context["cl"].result_count == 0
    detail = admin_client.get(reverse("admin:messaging_message_change", args=[mine[0].pk]))
    assert detail.status_code == 200
    assert b"sending" in detail.content  # the status history inline


def test_retry_action_queues_and_sends_again(admin_client, sms_outbox, noon, django_capture_on_commit_callbacks):
    _, (failed,) = make_messages(1, fail=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:messaging_messageneedingattention_changelist"),
            {"action": "retry", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert "Queued 1 message(s) again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.needs_review) == ("sent", False)
    assert len(sms_outbox) == 1


def test_mark_handled_takes_replies_off_the_review_queue(admin_client, noon):
    make_replies(2)
    first = InboundMessage.objects.order_by("id").first()
    url = reverse("admin:messaging_inboundmessage_changelist")
    response = admin_client.post(url, {"action": "mark_handled", "_selected_action": [first.pk]}, follow=True)
    assert "Marked 1 reply(ies) handled." in response.content.decode()
    first.refresh_from_db()
    assert (first.needs_review, first.reviewed_by.username) == (False, "boss")
    assert admin_client.get(url, {"needs_review__exact": 1}).context["cl"].result_count == 1
    assert first.triage_item.handled_by.username == "boss"  # the triage inbox follows


def test_front_desk_without_permission_cannot_retry(client, sms_outbox, noon):
    user = UserFactory(username="viewer", is_superuser=False)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_message"))
    client.force_login(user)
    _, (failed,) = make_messages(1, fail=True)
    url = reverse("admin:messaging_message_changelist")
    assert client.get(url).status_code == 200
    client.post(url, {"action": "retry", "_selected_action": [failed.pk]})
    assert Message.objects.get(pk=failed.pk).status == "failed"


def test_staff_record_consent_through_the_admin(admin_client, noon):
    patient = PatientFactory(email_consent=False, email_consent_at=None, email_consent_method="")
    url = reverse("admin:messaging_consentevent_add")
    data = {"patient": patient.pk, "channel": "email", "granted": "on", "source": "form"}
    response = admin_client.post(url, data, follow=True)
    assert response.status_code == 200
    patient.refresh_from_db()
    assert (patient.email_consent, patient.email_consent_method) == (True, "web_form")
    (event,) = ConsentEvent.objects.all()
    assert (event.source, event.by.username, event.granted) == ("form", "boss", True)
    again = admin_client.post(url, data, follow=True)
    assert "Nothing changed" in again.content.decode()
    assert ConsentEvent.objects.count() == 1
    refused = admin_client.post(url, {**data, "source": "reply"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()


def test_the_attention_list_offers_the_moves_the_transition_table_allows(admin_client, sms_outbox, noon):
    _, (failed,) = make_messages(1, fail=True)
    _, (unknown,) = make_messages(1)
    Message.objects.filter(pk=unknown.pk).update(status="unknown", needs_review=True)
    response = admin_client.get(reverse("admin:messaging_messageneedingattention_changelist"))
    offered = {m.pk: response.context["cl"].model_admin.staff_may(m) for m in response.context["cl"].result_list}
    assert offered == {failed.pk: "retry", unknown.pk: "retry, mark sent"}
    assert "Staff may" in response.content.decode()
