"""One JSON error shape for the whole API: {"detail": summary, "code": stable code, "errors": {field: [reasons]}}.

Every 4xx carries `code`, a stable machine-readable word (the list is in docs/integrators.md): DRF's own
codes (`invalid`, `parse_error`, `not_authenticated`, `authentication_failed`, `permission_denied`,
`not_found`, `method_not_allowed`, `not_acceptable`, `unsupported_media_type`, `throttled`), the code
of a service's StateConflict (`procedure_signed`, ...; default `conflict`) and the booking service's
codes (scheduling's BookingErrorsMixin). `errors` comes with validation errors only (code `invalid`).
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clinic.exceptions import StateConflict


class Conflict(exceptions.APIException):
    """409: the request clashes with the current state (already signed, slot taken, ...)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def _as_field_errors(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): [m for e in errs for m in e.messages]
            for field, errs in error.error_dict.items()
        }
    return {"non_field_errors": error.messages}


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    """Return the API's error body: `detail` and `code` first, then anything the error adds."""
    return {"detail": str(detail), "code": code, **extra}


def _code(exc: exceptions.APIException) -> str:
    detail = exc.detail
    code = getattr(detail, "code", None)
    return code if isinstance(code, str) and code else exc.default_code


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn Django and DRF errors into 4xx JSON with a stable `code`, naming each bad field and its reason."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_as_field_errors(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, StateConflict):
        exc = Conflict(exc.message, code=exc.code)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*(exc.args[:1]))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)  # the DRF handler answers nothing else
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = error_body("Invalid input.", "invalid", errors=errors)
    elif isinstance(response.data, dict) and "detail" in response.data:
        rest = {k: v for k, v in response.data.items() if k != "detail"}
        response.data = error_body(response.data["detail"], _code(exc), **rest)
    return response
