from clinic.messaging.checks import messaging_settings


def test_default_settings_pass():
    assert messaging_settings(None) == []


def test_sending_timeout_must_outlast_the_provider_call(settings):
    settings.MESSAGING_SENDING_TIMEOUT_SECONDS = 30
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 30.0
    assert [e.id for e in messaging_settings(None)] == ["messaging.E001"]


def test_bad_window_and_attempts_are_errors(settings):
    settings.MESSAGING_QUIET_HOURS_START = "21:00"
    settings.MESSAGING_MAX_ATTEMPTS = 0
    assert [e.id for e in messaging_settings(None)] == ["messaging.E002", "messaging.E003"]
