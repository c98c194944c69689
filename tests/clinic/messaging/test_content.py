import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from clinic.messaging.content import (
    SmsLength,
    email_body_check,
    gsm7_septets,
    message_render,
    sms_body_check,
    sms_body_problems,
    sms_length,
)
from tests.factories import PatientFactory

# Every installed app's message templates (the core's and those the apps ship, e.g. tpi's check-in).
TEMPLATE_DIRS = [Path(app.path) / "templates" / "messaging" for app in apps.get_app_configs()]
SMS_TEMPLATES = sorted({p.name.split(".")[0] for d in TEMPLATE_DIRS for p in (d / "sms").glob("*.txt")})
EMAIL_TEMPLATES = sorted({p.name.split(".")[0] for d in TEMPLATE_DIRS for p in (d / "email").glob("*.txt")})
CONTEXTS = [
    {},
    {"offer_booking": True, "when": "Tue 10 Mar, 10:30 AM", "where": "Main Street", "confirmed": True,
     "text": "We will call you this afternoon."},
]  # fmt: skip


@pytest.fixture
def patient(db):
    return PatientFactory.build(mrn="12345678", date_of_birth=dt.date(1980, 5, 17), legal_first_name="Jordan")


def test_the_template_lists_hold_every_shipped_template():
    # The parametrized tests below would silently run nothing if the templates were not found.
    assert SMS_TEMPLATES == [
        "appointment_booked",
        "appointment_cancelled",
        "appointment_confirmation",
        "appointment_moved",
        "appointment_reminder",
        "check_in",
        "help",
        "opt_in_confirm",
        "opt_out_confirm",
        "reassessment",
        "repeat_booked",
        "repeat_desk",
        "repeat_offer",
        "repeat_slot",
        "staff_answer",
        "waitlist_booked",
        "waitlist_gone",
        "waitlist_offer",
    ]
    assert EMAIL_TEMPLATES == [
        "appointment_booked",
        "appointment_cancelled",
        "appointment_confirmation",
        "appointment_moved",
        "appointment_reminder",
        "check_in",
        "reassessment",
    ]


def test_gsm7_counting():
    assert gsm7_septets("Hello, 0-10?") == 12
    assert gsm7_septets("[x]") == 5  # brackets are extension characters: two septets each
    assert gsm7_septets("dolor \u00e1") is None  # a-acute is not GSM-7
    assert gsm7_septets("¿qué tal? ñ ü é") == 15  # Spanish "¿", "é", "ñ" and "ü" are GSM-7


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("y" * 160, SmsLength("GSM-7", 160, 1)),
        ("y" * 161, SmsLength("GSM-7", 161, 2)),
        ("y" * 306, SmsLength("GSM-7", 306, 2)),  # 153 per part once concatenated
        ("y" * 307, SmsLength("GSM-7", 307, 3)),
        ("€" * 80, SmsLength("GSM-7", 160, 1)),  # the euro sign is in the extension table: two septets
        ("€" * 81, SmsLength("GSM-7", 162, 2)),
        ("á" * 70, SmsLength("UCS-2", 70, 1)),
        ("á" + "y" * 70, SmsLength("UCS-2", 71, 2)),  # one a-acute sends all of it as UCS-2
        ("á" * 134, SmsLength("UCS-2", 134, 2)),  # 67 per part
        ("á" * 135, SmsLength("UCS-2", 135, 3)),
        ("😀" * 35, SmsLength("UCS-2", 70, 1)),  # outside the BMP: two UTF-16 units each
    ],
)
def test_sms_length_counts_segments_by_encoding(text, length):
    assert sms_length(text) == length


@pytest.mark.parametrize("template", SMS_TEMPLATES)
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("footer", [False, True])
def test_every_sms_template_renders_a_clean_text_within_the_segment_limit(
    patient, template, language, context, footer, settings
):
    settings.CLINIC_NAME = "Riverside Pain Clinic"
    patient.preferred_language = language
    rendered = message_render(patient=patient, channel="sms", template=template, context=context, opt_out_footer=footer)
    assert rendered.language == language
    assert sms_body_problems(rendered.body, patient) == []
    assert sms_length(rendered.body).segments <= 2
    assert "cancel" not in rendered.body.lower()
    assert rendered.body.startswith("Riverside Pain Clinic: ")
    if footer:
        assert "STOP" in rendered.body


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("can_text", [True, False])
def test_every_email_template_asks_to_call_or_text_without_links(patient, template, language, can_text):
    patient.preferred_language = language
    patient.sms_consent = can_text
    rendered = message_render(patient=patient, channel="email", template=template, context=CONTEXTS[1])
    assert rendered.subject
    assert "(555) 555-0100" in rendered.body  # the clinic's phone, as a patient in the US dials it
    if template.startswith("appointment_") and template != "appointment_confirmation":
        # scheduling's notices and reminders ask email readers to call only (replies by SMS are for SMS readers)
        assert "(555) 555-0199" not in rendered.body
    else:
        # Only a patient whose texts reach us as theirs is asked to text; an email-only one is asked to call.
        assert ("(555) 555-0199" in rendered.body) is can_text
        assert ("text" in rendered.body or "texto" in rendered.body) is can_text
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
        ("x" * 307, "is 3 segments long (307 GSM-7 characters); at most 2 segments are allowed"),
        ("[" * 154, "is 3 segments long (308 GSM-7 characters); at most 2 segments are allowed"),
        ("Cl\u00ednica " * 17, "is 3 segments long (136 UCS-2 characters); at most 2 segments are allowed"),
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
    sms_body_check("y" * 306, patient)
    sms_body_check("Clínica: ¿cómo está? " + "y" * 110, patient)  # 131 UCS-2 units: two segments


def test_the_segment_limit_is_a_setting(patient, settings):
    settings.MESSAGING_SMS_MAX_SEGMENTS = 1
    assert sms_body_problems("y" * 161, patient) == [
        "is 2 segments long (161 GSM-7 characters); at most 1 segment is allowed"
    ]
    settings.MESSAGING_SMS_MAX_SEGMENTS = 3
    assert sms_body_problems("y" * 459, patient) == []


def test_the_clinic_name_and_email_may_carry_a_block_listed_word(patient, settings):
    settings.CLINIC_NAME = "Neck and Back Pain Center"
    settings.CLINIC_EMAIL = "desk@neck-and-back.example"
    assert sms_body_problems("Neck and Back Pain Center: how is your pain, 0-10? desk@neck-and-back.example") == []
    # The word is still refused anywhere else in the text.
    assert sms_body_problems("Neck and Back Pain Center: how is your neck, 0-10?") == [
        "names a diagnosis, medication or treated site: neck"
    ]
    rendered = message_render(patient=patient, channel="sms", template="check_in", context={})
    assert rendered.body == (
        "Neck and Back Pain Center: checking in after your visit. How is your pain today, 0 (none) to 10 (worst)? "
        "Reply with a number."
    )


def test_spanish_keeps_its_accents_and_is_counted_as_ucs2(patient):
    patient.preferred_language = "es"
    confirmation = message_render(
        patient=patient, channel="sms", template="appointment_confirmation",
        context={"when": "sáb 30/09, 12:30"}, opt_out_footer=True,
    )  # fmt: skip
    assert confirmation.body == (
        "Riverside Pain Clinic: tiene cita el sáb 30/09, 12:30. Para cambiarla, llame al (555) 555-0100. "
        "Responda STOP para darse de baja."
    )
    assert sms_length(confirmation.body) == SmsLength("UCS-2", 129, 2)
    check_in = message_render(patient=patient, channel="sms", template="check_in", context={})
    assert check_in.body == (
        "Riverside Pain Clinic: ¿qué tal después de su visita? ¿Su dolor hoy, de 0 (nada) a 10 (peor)? "
        "Responda con la cifra."
    )
    assert sms_length(check_in.body) == SmsLength("GSM-7", 116, 1)  # "¿" and "é" are GSM-7
    email = message_render(patient=patient, channel="email", template="check_in", context={})
    assert email.subject == "Riverside Pain Clinic: ¿cómo se siente?"


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
