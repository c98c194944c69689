"""clinic.api.exceptions: Django errors from services become JSON naming the field."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from clinic.api.exceptions import exception_handler
from clinic.exceptions import StateConflict


def test_a_whole_record_rule_is_reported_as_non_field_errors():
    error = ValidationError({NON_FIELD_ERRORS: ["Consent needs a time."], "email": ["Enter a valid email."]})

    response = exception_handler(error, {})

    assert response.status_code == 400
    assert response.data == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"non_field_errors": ["Consent needs a time."], "email": ["Enter a valid email."]},
    }


def test_a_state_conflict_is_409_with_its_message():
    response = exception_handler(StateConflict("This procedure is already signed."), {})

    assert response.status_code == 409
    assert response.data == {"detail": "This procedure is already signed.", "code": "conflict"}
