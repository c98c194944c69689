from clinic.messaging.checks import messaging_settings


def test_default_settings_pass():
    assert messaging_settings(None) == []


def test_sending_timeout_must_outlast_the_provider_call(settings):
    settings.SMS_BACKEND = "clinic.messaging.backends.twilio.SmsBackend"
    settings.TWILIO_AUTH_TOKEN = "a-token"
    settings.MESSAGING_SENDING_TIMEOUT_SECONDS = 30
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 30.0
    assert [e.id for e in messaging_settings(None)] == ["messaging.E001"]


def test_bad_window_and_attempts_are_errors(settings):
    settings.MESSAGING_QUIET_HOURS_START = "21:00"
    settings.MESSAGING_MAX_ATTEMPTS = 0
    assert [e.id for e in messaging_settings(None)] == ["messaging.E002", "messaging.E003"]


def test_the_twilio_timeout_is_not_checked_for_a_backend_without_it(settings):
    settings.SMS_BACKEND = "clinic.messaging.backends.console.SmsBackend"
    settings.MESSAGING_SENDING_TIMEOUT_SECONDS = 30
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 30.0
    assert messaging_settings(None) == []


def test_twilio_without_an_auth_token_is_a_warning_in_production(settings):
    settings.SMS_BACKEND = "clinic.messaging.backends.twilio.SmsBackend"
    settings.DEBUG = False
    settings.TWILIO_AUTH_TOKEN = ""
    assert [e.id for e in messaging_settings(None)] == ["messaging.W001"]


def test_an_sms_backend_that_cannot_be_imported_is_an_error(settings):
    settings.SMS_BACKEND = "clinic.messaging.backends.nowhere.SmsBackend"
    assert [e.id for e in messaging_settings(None)] == ["messaging.E004"]


# --- Message templates (issue 11): every template every app ships, rendered with the configured clinic ---
from clinic.messaging.checks import message_templates, message_templates_check  # noqa: E402


def _template_dir(settings, tmp_path, files):
    for name, text in files.items():
        path = tmp_path / "messaging" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]


def test_every_shipped_template_is_found_without_naming_apps():
    assert message_templates() == [
        ("email", "appointment_booked"),
        ("email", "appointment_cancelled"),
        ("email", "appointment_confirmation"),
        ("email", "appointment_moved"),
        ("email", "appointment_reminder"),
        ("email", "check_in"),
        ("email", "reassessment"),
        ("sms", "appointment_booked"),
        ("sms", "appointment_cancelled"),
        ("sms", "appointment_confirmation"),
        ("sms", "appointment_moved"),
        ("sms", "appointment_reminder"),
        ("sms", "check_in"),
        ("sms", "help"),
        ("sms", "opt_in_confirm"),
        ("sms", "opt_out_confirm"),
        ("sms", "reassessment"),
        ("sms", "repeat_booked"),
        ("sms", "repeat_desk"),
        ("sms", "repeat_offer"),
        ("sms", "repeat_slot"),
        ("sms", "staff_answer"),
        ("sms", "waitlist_booked"),
        ("sms", "waitlist_gone"),
        ("sms", "waitlist_offer"),
    ]


def test_the_shipped_templates_pass_with_the_default_clinic(db):
    assert message_templates_check(None) == []


def test_a_template_that_breaks_a_rule_refuses_start_up(settings, tmp_path):
    _template_dir(settings, tmp_path, {
        "sms/after_visit.en.txt": "{{ clinic_name }}: how is the lidocaine working?",
        "sms/long_one.en.txt": "{{ clinic_name }}: " + "word " * 50 + "{% if offer %}{{ detail }}{% endif %}",
        "email/no_subject.en.txt": "Hi {{ first_name }}, call {{ clinic_phone }}.",
    })  # fmt: skip
    errors = message_templates_check(None)
    assert {e.id for e in errors} == {"messaging.E005"}
    assert [e.msg for e in errors] == [
        "email template 'no_subject' (en): No email subject template 'messaging/email/no_subject.en.subject.txt'.",
        "email template 'no_subject' (es): No email subject template 'messaging/email/no_subject.en.subject.txt'.",
        "sms template 'after_visit' (en): SMS body names a diagnosis, medication or treated site: lidocaine.",
        "sms template 'after_visit' (es): SMS body names a diagnosis, medication or treated site: lidocaine.",
        # 23 + 250 + a 20-character placeholder for {{ detail }} + the footer: only with "offer" true
        "sms template 'long_one' (en): SMS body is 3 segments long (316 GSM-7 characters); "
        "at most 2 segments are allowed.",
        "sms template 'long_one' (es): SMS body is 3 segments long (316 GSM-7 characters); "
        "at most 2 segments are allowed.",
    ]
    assert errors[0].hint == (
        "With CLINIC_NAME 'Riverside Pain Clinic' and MESSAGING_SMS_MAX_SEGMENTS 2: shorten the text or the name, "
        "or allow more segments."
    )


def test_an_automated_text_without_opt_out_instructions_refuses_start_up(settings, tmp_path):
    _template_dir(settings, tmp_path, {"sms_footer/opt_out.en.txt": "Text QUIT to leave."})
    problems = sorted({e.msg.split(": ", 1)[0] for e in message_templates_check(None)})
    # Only the English footer was replaced; the keyword answers name STOP themselves.
    automated = (
        "appointment_booked", "appointment_cancelled", "appointment_confirmation", "appointment_moved",
        "appointment_reminder", "check_in", "reassessment", "repeat_booked", "repeat_desk", "repeat_offer",
        "repeat_slot", "staff_answer", "waitlist_booked", "waitlist_gone", "waitlist_offer",
    )  # fmt: skip
    assert problems == [f"sms template {name!r} (en)" for name in automated]
    assert {e.msg.split(": ", 1)[1] for e in message_templates_check(None)} == {
        "SMS body does not tell how to opt out (STOP)."
    }


def test_a_long_clinic_name_with_a_one_segment_limit_is_named_at_start_up(settings):
    settings.CLINIC_NAME = "Riverside Comprehensive Pain & Spine Management Center North"
    settings.MESSAGING_SMS_MAX_SEGMENTS = 1
    errors = message_templates_check(None)
    assert (
        "sms template 'opt_out_confirm' (en): SMS body is 2 segments long (178 GSM-7 characters); "
        "at most 1 segment is allowed." in [e.msg for e in errors]
    )


def test_a_block_listed_word_in_the_clinic_name_is_a_warning_not_an_error(settings):
    settings.CLINIC_NAME = "Neck and Back Pain Center"
    messages = message_templates_check(None)
    assert [(m.id, m.msg) for m in messages] == [
        ("messaging.W002", "CLINIC_NAME or CLINIC_EMAIL contains neck, which no message may otherwise say.")
    ]


def test_segment_and_footer_settings_must_be_positive(settings):
    settings.MESSAGING_SMS_MAX_SEGMENTS = 0
    settings.MESSAGING_OPT_OUT_FOOTER_DAYS = 0
    assert [e.id for e in messaging_settings(None)] == ["messaging.E006", "messaging.E007"]
    assert message_templates_check(None) == []
