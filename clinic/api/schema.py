"""The OpenAPI schema documents the error answers every endpoint can give (clinic/api/exceptions.py).

Without them a client (and the fuzzer) meets undocumented 400/403/404/409/413/429 answers; with them
the schema says what the JSON error shape is: {"detail": "...", "errors": {field: [reasons]}}.
"""

from drf_spectacular.openapi import AutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "description": "field -> [reasons] (nested for nested fields)"},
    },
    "additionalProperties": True,
}
ERRORS = {
    "400": "Invalid input: `errors` names each bad field and its reason",
    "403": "Not signed in, or not allowed to do this",
    "404": "No such object (or page)",
    "409": "Conflicts with the current state (already signed, slot taken, ...)",
    "413": "Request body too large",
    "429": "Too many requests",
}
WRITE_ONLY_ERRORS = {"409", "413"}


class ClinicAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the shared error responses."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in ERRORS.items():
            if code in WRITE_ONLY_ERRORS and self.method in ("GET", "HEAD"):
                continue
            responses.setdefault(
                code, {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            )
        return responses
