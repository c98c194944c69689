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
