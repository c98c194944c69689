import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from clinic.messaging.content import (
    email_body_check,
    gsm7_septets,
    message_render,
    sms_body_check,
    sms_body_problems,
)
from tests.factories import PatientFactory

# Every installed app's message templates (the core's and those the apps ship, e.g. tpi's check-in).
TEMPLATE_DIRS = [Path(app.path) / "templates" / "messaging" for app in apps.get_app_configs()]
SMS_TEMPLATES = sorted({p.name.split(".")[0] for d in TEMPLATE_DIRS for p in (d / "sms").glob("*.txt")})
EMAIL_TEMPLATES = sorted({p.name.split(".")[0] for d in TEMPLATE_DIRS for p in (d / "email").glob("*.txt")})
CONTEXTS = [{}, {"offer_booking": True, "when": "Tue 10 Mar, 10:30 AM", "text": "We will call you this afternoon."}]


@pytest.fixture
def patient(db):
    return PatientFactory.build(mrn="12345678", date_of_birth=dt.date(1980, 5, 17), legal_first_name="Jordan")


def test_the_template_lists_hold_every_shipped_template():
    # The parametrized tests below would silently run nothing if the templates were not found.
    assert SMS_TEMPLATES == [
        "appointment_confirmation",
        "check_in",
        "help",
        "opt_in_confirm",
        "opt_out_confirm",
        "reassessment",
        "staff_answer",
        "waitlist_booked",
        "waitlist_gone",
        "waitlist_offer",
    ]
    assert EMAIL_TEMPLATES == ["appointment_confirmation", "check_in", "reassessment"]


def test_gsm7_counting():
    assert gsm7_septets("Hello, 0-10?") == 12
    assert gsm7_septets("[x]") == 5  # brackets are extension characters: two septets each
    assert gsm7_septets("dolor \u00e1") is None  # a-acute is not GSM-7


@pytest.mark.parametrize("template", SMS_TEMPLATES)
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("context", CONTEXTS)
def test_every_sms_template_renders_one_clean_segment(patient, template, language, context, settings):
    settings.CLINIC_NAME = "Riverside Pain Clinic"
    patient.preferred_language = language
    rendered = message_render(patient=patient, channel="sms", template=template, context=context)
    assert rendered.language == language
    assert sms_body_problems(rendered.body, patient) == []
    assert gsm7_septets(rendered.body) <= 160
    assert "cancel" not in rendered.body.lower()
    assert rendered.body.startswith("Riverside Pain Clinic: ")


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_email_template_asks_to_call_or_text_without_links(patient, template, language):
    patient.preferred_language = language
    rendered = message_render(patient=patient, channel="email", template=template, context=CONTEXTS[1])
    assert rendered.subject
    assert "(555) 555-0100" in rendered.body  # the clinic's phone, as a patient in the US dials it
    assert "(555) 555-0199" in rendered.body  # the number to text
    assert "http" not in rendered.body.lower()
    assert "www." not in rendered.body.lower()
    assert "cancel" not in rendered.body.lower()


def test_no_template_file_mentions_cancel():
    for path in (path for d in TEMPLATE_DIRS for path in d.rglob("*.txt")):
        assert "cancel" not in path.read_text().lower(), path


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "Clinic: your lidocaine shot went well. Pain 0-10?",
            "names a diagnosis, medication or treated site: lidocaine",
        ),
        ("Clinic: how is your Trapezius? Reply 0-10", "names a diagnosis, medication or treated site: trapezius"),
        ("Clinic: myofascial pain check. Reply 0-10", "names a diagnosis, medication or treated site: myofascial"),
        ("Clinic: record 12345678, pain 0-10?", "contains the medical record number"),
        ("Clinic: born 1980-05-17? Reply 0-10", "contains the date of birth"),
        ("Clinic: born 5/17/1980? Reply 0-10", "contains the date of birth"),
        ("Clinic: born May 17, 1980? Reply 0-10", "contains the date of birth"),
        ("Clinic: reply CANCEL to move your visit", "uses the opt-out keyword CANCEL for something else"),
        ("x" * 161, "is 161 GSM-7 characters long; one segment holds 160"),
        ("[" * 81, "is 162 GSM-7 characters long; one segment holds 160"),
        ("Cl\u00ednica: dolor 0-10?", "uses characters outside GSM-7 ('\u00ed'), which halves the segment size"),
        ("  ", "is empty"),
    ],
)
def test_sms_body_check_refuses_phi_and_long_bodies(patient, body, problem):
    assert problem in sms_body_problems(body, patient)
    with pytest.raises(ValidationError) as caught:
        sms_body_check(body, patient)
    assert f"SMS body {problem}." in caught.value.message_dict["body"]


def test_extra_phi_words_come_from_settings(patient, settings):
    settings.MESSAGING_PHI_EXTRA_WORDS = ["whiplash"]
    expected = ["names a diagnosis, medication or treated site: whiplash"]
    assert sms_body_problems("Clinic: how is the whiplash? 0-10", patient) == expected


def test_sms_body_check_accepts_a_plain_question(patient):
    sms_body_check("Riverside Pain Clinic: how is your pain today, 0-10? Reply with a number.", patient)
    sms_body_check("y" * 160, patient)


def test_email_check_refuses_links_and_phi(patient):
    with pytest.raises(ValidationError) as caught:
        email_body_check("Your steroid visit", "See https://clinic.example/x", patient)
    assert caught.value.message_dict == {
        "subject": ["Email subject names a diagnosis, medication or treated site: steroid."],
        "body": ["Email body contains a link; emails ask patients to call or text instead."],
    }


def test_rendering_refuses_a_template_that_would_leak(patient, tmp_path, settings):
    (tmp_path / "messaging" / "sms").mkdir(parents=True)
    (tmp_path / "messaging" / "sms" / "leaky.en.txt").write_text("{{ clinic_name }}: MRN {{ mrn }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    with pytest.raises(ValidationError) as caught:
        message_render(patient=patient, channel="sms", template="leaky", context={"mrn": patient.mrn})
    assert caught.value.message_dict == {"body": ["SMS body contains the medical record number."]}


def test_unknown_language_falls_back_to_english(patient):
    patient.preferred_language = "fr"
    assert message_render(patient=patient, channel="sms", template="help", context={}).language == "en"
