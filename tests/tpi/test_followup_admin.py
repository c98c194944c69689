"""The follow-ups admin page (tpi/admin_followups.py) and the pain timeline on the procedure page and API."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from clinic.messaging.backends import SendError, locmem
from clinic.messaging.models import Message
from tests.factories import PatientFactory, UserFactory, signed_procedure
from tpi.followups import followups_sweep
from tpi.models import FollowUp

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 12, 16, 0, tzinfo=dt.UTC)  # noon in New York
URL = reverse("admin:tpi_followup_changelist")


@pytest.fixture
def staff(client, clock):
    # Sign in at the frozen instant: a session opened at any other time may have expired by then.
    user = UserFactory(username="boss", is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def procedure(performed_at):
    return signed_procedure(performed_at=performed_at, patient=PatientFactory())


def check_in(p) -> FollowUp:
    return p.follow_ups.get(kind="check_in")


def failed_follow_ups(n, capture):
    """Return N check-ins whose SMS failed permanently (the sweep made them failed)."""
    procedures = [procedure(NOW - dt.timedelta(hours=72, minutes=1)) for _ in range(n)]
    locmem.failures.extend(SendError("unknown destination", permanent=True) for _ in range(n))
    with capture(execute=True):
        followups_sweep()
    followups_sweep()
    return [check_in(p) for p in procedures]


def ids(response) -> list[int]:
    return sorted(f.pk for f in response.context["cl"].result_list)


def test_the_lists(staff, sms_outbox, clock, django_capture_on_commit_callbacks):
    due_today = check_in(procedure(NOW - dt.timedelta(hours=70)))  # due in 2 hours, today
    tomorrow = check_in(procedure(NOW - dt.timedelta(hours=40)))
    [failed] = failed_follow_ups(1, django_capture_on_commit_callbacks)
    answered = check_in(procedure(NOW - dt.timedelta(hours=80)))
    FollowUp.objects.filter(pk=answered.pk).update(
        status="answered", sent_at=NOW, answer_pain_score=3, answered_at=NOW
    )  # fmt: skip
    sent = check_in(procedure(NOW - dt.timedelta(hours=75)))
    FollowUp.objects.filter(pk=sent.pk).update(status="sent", sent_at=NOW)

    assert ids(staff.get(URL, {"queue": "due_today"})) == [due_today.pk]
    assert ids(staff.get(URL, {"queue": "sent"})) == [sent.pk]
    assert ids(staff.get(URL, {"queue": "failed"})) == [failed.pk]
    assert ids(staff.get(URL, {"queue": "review"})) == [failed.pk]
    response = staff.get(URL, {"queue": "answered"})
    assert ids(response) == [answered.pk]
    assert '<td class="field-answer_pain_score">3</td>' in response.content.decode()
    assert tomorrow.pk in ids(staff.get(URL))
    log = reverse("admin:messaging_message_changelist") + f"?patient__id__exact={failed.procedure.patient_id}"
    assert log in staff.get(URL, {"queue": "failed"}).content.decode()


def test_the_page_runs_constant_queries(staff, sms_outbox, clock, django_assert_max_num_queries,
                                        django_capture_on_commit_callbacks):  # fmt: skip
    failed_follow_ups(3, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(12) as small:
        assert staff.get(URL).status_code == 200
    failed_follow_ups(27, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = staff.get(URL, {"queue": "review"})
    assert response.context["cl"].result_count == 30


def test_retry_queues_the_failed_message_again_and_sends_it(
    staff, sms_outbox, clock, django_capture_on_commit_callbacks
):
    [follow_up] = failed_follow_ups(1, django_capture_on_commit_callbacks)
    assert follow_up.status == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(URL, {"action": "retry_selected", "_selected_action": [follow_up.pk]}, follow=True)

    assert "Retried: 1." in response.content.decode()
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.handled_at) == ("sent", None)
    assert Message.objects.get(source_key=follow_up.source_key).status == "sent"
    assert len(sms_outbox) == 1


def test_retry_of_a_follow_up_without_failed_messages_is_refused(staff, sms_outbox, clock):
    follow_up = check_in(procedure(NOW - dt.timedelta(hours=1)))

    response = staff.post(URL, {"action": "retry_selected", "_selected_action": [follow_up.pk]}, follow=True)

    assert f"Follow-up {follow_up.pk}: This follow-up has no failed message to retry." in response.content.decode()
    assert FollowUp.objects.get(pk=follow_up.pk).status == "scheduled"


def test_cancel_asks_for_a_reason_then_cancels_scheduled_ones_only(staff, sms_outbox, clock):
    scheduled = check_in(procedure(NOW - dt.timedelta(hours=1)))
    sent = check_in(procedure(NOW - dt.timedelta(hours=75)))
    FollowUp.objects.filter(pk=sent.pk).update(status="sent", sent_at=NOW)
    selected = {"action": "cancel_selected", "_selected_action": [scheduled.pk, sent.pk]}

    asked = staff.post(URL, selected)
    assert asked.status_code == 200
    assert "admin/tpi/followup/cancel.html" in [t.name for t in asked.templates]
    assert FollowUp.objects.get(pk=scheduled.pk).status == "scheduled"

    done = staff.post(URL, {**selected, "confirm": "1", "reason": "patient moved away"}, follow=True)

    page = done.content.decode()
    assert "Cancelled: 1." in page
    assert (
        f"Follow-up {sent.pk}: Only follow-ups not yet sent to the patient can be cancelled (this one is sent)." in page
    )
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.status_reason) == ("cancelled", "cancelled by boss: patient moved away")
    assert FollowUp.objects.get(pk=sent.pk).status == "sent"


def test_mark_handled_takes_it_off_the_review_list(staff, sms_outbox, clock, django_capture_on_commit_callbacks):
    [follow_up] = failed_follow_ups(1, django_capture_on_commit_callbacks)

    staff.post(URL, {"action": "mark_handled_selected", "_selected_action": [follow_up.pk]})

    follow_up.refresh_from_db()
    assert (follow_up.handled_at, follow_up.handled_by.username) == (NOW, "boss")
    assert ids(staff.get(URL, {"queue": "review"})) == []
    assert ids(staff.get(URL, {"queue": "failed"})) == [follow_up.pk]


def test_follow_ups_are_never_added_or_deleted_in_the_admin(staff):
    assert staff.get(reverse("admin:tpi_followup_add")).status_code == 403


def test_the_procedure_page_and_api_show_the_pain_timeline(staff, clock):
    p = procedure(NOW - dt.timedelta(days=4))
    FollowUp.objects.filter(procedure=p, kind="check_in").update(
        status="answered", sent_at=NOW - dt.timedelta(hours=20), answer_pain_score=4, answered_at=NOW
    )

    page = staff.get(reverse("admin:tpi_procedure_change", args=[p.pk])).content.decode()
    assert "Pain over time (0-10)" in page
    assert "<tr><td>before</td><td>7</td><td>2026-03-08 12:00</td><td>In clinic</td></tr>" in page
    assert "<tr><td>72-hour answer</td><td>4</td><td>2026-03-12 12:00</td><td>-</td></tr>" in page
    assert "<tr><td>1-month answer</td><td>-</td><td>-</td><td>-</td></tr>" in page

    api = APIClient()
    api.force_authenticate(UserFactory(username="api-boss", is_superuser=True))
    data = api.get(f"/api/procedures/{p.pk}/").json()
    loinc = {
        "system": "http://loinc.org",
        "code": "72514-3",
        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
    }
    assert data["pain_timeline"] == [
        {"label": "before", "score": 7, "at": "2026-03-08T12:00:00-04:00", "method": "in_clinic", "code": loinc},
        {"label": "after", "score": 3, "at": "2026-03-08T12:00:00-04:00", "method": "in_clinic", "code": loinc},
        {"label": "check_in", "score": 4, "at": "2026-03-12T12:00:00-04:00", "method": "", "code": loinc},
        {"label": "reassessment", "score": None, "at": None, "method": "", "code": loinc},
    ]
    assert [(f["kind"], f["sent_at"]) for f in data["follow_ups"]] == [
        ("check_in", "2026-03-11T16:00:00-04:00"),
        ("reassessment", None),
    ]
