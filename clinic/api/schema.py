"""The OpenAPI schema says what every endpoint answers, errors included (clinic/api/exceptions.py).

- Every operation lists 400/401/403/404/429 (and 409/413 for writes) with the shared error shape
  {"detail", "code", "errors"?}; a 401 carries its `WWW-Authenticate` challenge header.
- Only a viewset's `list` action is paginated: drf-spectacular wraps any `many=True` answer of a
  custom action (move, cancel, series preview, warnings) in the paginator's envelope, but those
  actions answer a plain array, and the schema must say so.
- A time of day is a wall time without offset (`partial-time` with a pattern), not JSON Schema's
  `time`, which requires an offset that DRF's TimeField never writes.
- A reference to a staff user is `{"id", "name"}` on the way out and an id on the way in
  (clinic.api.fields.UserField, its extension below).
"""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person"},
        "code": {"type": "string", "description": "A stable code for programs (docs/integrators.md lists them)"},
        "errors": {"type": "object", "description": "field -> [reasons] (nested for nested fields); code `invalid`"},
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}
ERRORS = {
    "400": "Invalid input: `errors` names each bad field (or query parameter) and its reason",
    "401": "No credentials, or bad or revoked ones (the `WWW-Authenticate` header says how to sign in)",
    "403": "Signed in but not allowed to do this",
    "404": "No such object (or page)",
    "409": "Conflicts with the current state (already signed, slot taken, ...)",
    "413": "Request body too large",
    "429": "Too many requests",
}
WRITE_ONLY_ERRORS = {"409", "413"}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "The authentication scheme to use: `Token`",
        "required": True,
        "schema": {"type": "string"},
    }
}


TIME_SCHEMA = {
    "type": "string",
    "format": "partial-time",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
    "description": "A clinic wall time without offset, e.g. 10:30 or 10:30:00",
}


class ClinicAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the shared error responses; pagination on `list` only."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and schema.get("format") == "time":
            # JSON Schema's `time` needs an offset (RFC 3339 full-time); ours are wall times ("10:30:00").
            description = schema.get("description")
            schema.update(TIME_SCHEMA)
            if description:
                schema["description"] = description
        return schema

    def _get_paginator(self):
        action = getattr(self.view, "action", None)
        if action is not None and action != "list":
            return None  # custom actions answer plain arrays: only ListModelMixin.list paginates
        return super()._get_paginator()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        signs_in = getattr(self.view, "authentication_classes", None) != []  # the calendar feed's token is its URL
        for code, description in ERRORS.items():
            if code in WRITE_ONLY_ERRORS and self.method in ("GET", "HEAD"):
                continue
            if code == "401" and not signs_in:
                continue
            body: dict[str, Any] = {
                "description": description,
                "content": {"application/json": {"schema": ERROR_SCHEMA}},
            }
            if code == "401":
                body["headers"] = WWW_AUTHENTICATE
            responses.setdefault(code, body)
        return responses


USER_REF = {
    "type": "object",
    "description": "A staff user: their id and how the clinic names them (full name and credentials)",
    "properties": {"id": {"type": "integer", "readOnly": True}, "name": {"type": "string", "readOnly": True}},
    "required": ["id", "name"],
}


class UserFieldExtension(OpenApiSerializerFieldExtension):
    """A UserField reads as the `UserRef` component and is written as a user id."""

    target_class = "clinic.api.fields.UserField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return {"type": "integer", "description": "A staff user's id"}
        component = ResolvedComponent(name="UserRef", type=ResolvedComponent.SCHEMA, object="UserRef", schema=USER_REF)
        auto_schema.registry.register_on_missing(component)
        return component.ref
