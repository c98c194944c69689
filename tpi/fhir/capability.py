"""The CapabilityStatement (GET /fhir/R4/metadata): what this read-only server offers, from tpi.fhir.types."""

from tpi.fhir.resources import Resource, validated
from tpi.fhir.types import RESOURCE_TYPES

FHIR_VERSION = "4.3.0"  # the structures every response is validated against (fhir.resources.R4B); see docs/fhir.md


def capability_statement(*, base_url: str) -> Resource:
    """Return the server's CapabilityStatement: read and search per type, $everything and $export."""
    resources = []
    for kind in RESOURCE_TYPES.values():
        entry: Resource = {
            "type": kind.name,
            "documentation": kind.description or None,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": name, "type": _param_type(name)} for name in sorted(kind.params)] or None,
        }
        if kind.name == "Patient":
            entry["operation"] = [
                {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}
            ]
        resources.append(entry)
    return validated(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-30",
            "kind": "instance",
            "software": {"name": "TPI clinic"},
            "implementation": {"description": "TPI clinic FHIR read API", "url": base_url},
            "fhirVersion": FHIR_VERSION,
            "format": ["application/fhir+json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": (
                        "Read-only. Authenticate as for the REST API (Authorization: Token <key>, or the admin "
                        "session). Role and object rules and the read audit are the REST API's."
                    ),
                    "security": {
                        "service": [{"text": "Token"}],
                        "description": "Authorization: Token <key>; 401 with WWW-Authenticate when missing or bad.",
                    },
                    "resource": resources,
                    "operation": [
                        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
                    ],
                }
            ],
            "publisher": "TPI clinic",
        }
    )


def _param_type(name: str) -> str:
    return {
        "_id": "token",
        "identifier": "token",
        "status": "token",
        "name": "string",
        "family": "string",
        "given": "string",
        "birthdate": "date",
        "date": "date",
    }.get(name, "reference")
