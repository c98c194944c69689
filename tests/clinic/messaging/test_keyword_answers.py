"""An opt-out is never lost: STOP is committed first; its answer cannot fail, and a failure is recorded, not raised."""

import pytest
from django.db import DatabaseError

from clinic.messaging.content import sms_body_problems, sms_length
from clinic.messaging.keyword_answers import FALLBACK_TEXTS
from clinic.messaging.models import ConsentEvent, InboundMessage, Message
from clinic.models import Patient
from tests.clinic.messaging.test_webhooks import PHONE, sms
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
LONG_NAME = "Riverside Comprehensive Pain & Spine Management Center North"  # 60 characters


@pytest.fixture(autouse=True)
def _token(settings):
    settings.TWILIO_AUTH_TOKEN = "webhook-test-token-0123456789"
    settings.TWILIO_WEBHOOK_BASE_URL = ""


@pytest.fixture
def patient(noon):
    return PatientFactory(mobile_phone=PHONE)


def opted_out(patient):
    patient.refresh_from_db()
    return patient.sms_consent is False and ConsentEvent.objects.filter(patient=patient, granted=False).count() == 1


def test_stop_with_a_60_character_clinic_name_is_stored_and_confirmed(
    client, patient, settings, sms_outbox, django_capture_on_commit_callbacks
):
    assert len(LONG_NAME) == 60
    settings.CLINIC_NAME = LONG_NAME
    with django_capture_on_commit_callbacks(execute=True):
        assert sms(client, "STOP").status_code == 200
    assert opted_out(patient)
    assert [m.body for m in sms_outbox] == [
        f"{LONG_NAME}: you are unsubscribed and will get no more texts from us. Reply START to resubscribe. "
        "Questions? Call (555) 555-0100."
    ]  # two GSM-7 segments: within the default limit


def test_stop_whose_confirmation_breaks_the_segment_limit_goes_out_without_the_name(
    client, patient, settings, sms_outbox, django_capture_on_commit_callbacks
):
    settings.CLINIC_NAME = LONG_NAME
    settings.MESSAGING_SMS_MAX_SEGMENTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sms(client, "STOP").status_code == 200
    assert opted_out(patient)
    assert [m.body for m in sms_outbox] == [
        "You are unsubscribed and will get no more texts from us. Reply START to resubscribe."
    ]
    assert Message.objects.get().status == "sent"


def test_a_confirmation_that_cannot_be_stored_is_recorded_failed_and_the_opt_out_stays(
    client, patient, sms_outbox, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise DatabaseError("connection reset")

    monkeypatch.setattr("clinic.messaging.keyword_answers.message_build", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert sms(client, "STOP").status_code == 200
    assert opted_out(patient)
    inbound = InboundMessage.objects.get()
    assert (inbound.kind, inbound.handled_by, inbound.needs_review) == ("opt_out", "keyword:opt_out", False)
    failed = Message.objects.get()
    assert (failed.status, failed.purpose, failed.recipient, failed.needs_review, failed.in_reply_to) == (
        "failed",
        "opt_out_confirm",
        PHONE,
        True,
        inbound,
    )
    assert failed.reason == "the answer could not be queued: DatabaseError: connection reset"
    assert failed.body == "You are unsubscribed and will get no more texts from us. Reply START to resubscribe."
    assert list(failed.events.values_list("from_status", "to_status")) == [("", "failed")]
    assert sms_outbox == []


def test_a_broken_template_falls_back_to_the_fixed_answer(
    client, patient, settings, tmp_path, sms_outbox, django_capture_on_commit_callbacks
):
    (tmp_path / "messaging" / "sms").mkdir(parents=True)
    (tmp_path / "messaging" / "sms" / "help.en.txt").write_text("{% if %}broken")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    with django_capture_on_commit_callbacks(execute=True):
        assert sms(client, "HELP").status_code == 200
    assert [m.body for m in sms_outbox] == [
        "Call us at (555) 555-0100. Reply STOP to opt out. Msg&data rates may apply."
    ]


def test_a_block_listed_word_in_the_clinic_name_does_not_stop_its_texts(
    client, patient, settings, sms_outbox, django_capture_on_commit_callbacks
):
    settings.CLINIC_NAME = "Neck and Back Pain Center"
    with django_capture_on_commit_callbacks(execute=True):
        sms(client, "HELP", sid="SM" + "h" * 32)
        sms(client, "STOP", sid="SM" + "i" * 32)
    assert [m.body for m in sms_outbox] == [
        "Neck and Back Pain Center: call us at (555) 555-0100 or email frontdesk@clinic.example. "
        "Reply STOP to opt out. Msg&data rates may apply.",
        "Neck and Back Pain Center: you are unsubscribed and will get no more texts from us. "
        "Reply START to resubscribe. Questions? Call (555) 555-0100.",
    ]


@pytest.mark.parametrize("template", sorted(FALLBACK_TEXTS))
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_fixed_answer_fits_one_gsm7_segment_and_passes_the_content_rules(template, language, settings):
    settings.MESSAGING_SMS_MAX_SEGMENTS = 1
    body = FALLBACK_TEXTS[template][language].format(phone="+44 20 7946 0958 1234")  # a long international form
    assert sms_body_problems(body, Patient()) == []
    assert sms_length(body).encoding == "GSM-7"
    assert ("STOP" in body) is (template != "opt_out_confirm")


@pytest.mark.django_db(transaction=True)
def test_with_real_commits_the_opt_out_is_committed_before_its_answer_is_composed(client, noon, monkeypatch):
    patient = PatientFactory(mobile_phone=PHONE)
    states = []

    def composing(**kwargs):
        # Composing runs after the opt-out's own transaction: only the answer's transaction is open.
        from django.db import connection

        states.append((Patient.objects.get(pk=patient.pk).sms_consent, len(connection.savepoint_ids)))
        raise DatabaseError("connection reset")

    monkeypatch.setattr("clinic.messaging.keyword_answers.message_build", composing)
    assert sms(client, "STOP").status_code == 200
    assert states == [(False, 0)]  # seen inside the answer's outermost transaction: no savepoint of the reply's
    assert opted_out(patient)
    assert Message.objects.get().status == "failed"
