"""Shared checks of FHIR answers: parse with fhir.resources (R4B) and find times without offsets."""

import json
import re

from fhir.resources.R4B import get_fhir_model_class

# A FHIR dateTime or instant with a time part: it must carry an offset (or Z).
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def parsed(response):
    """Return the response body as its fhir.resources model (validating it); fail on a wrong content type."""
    assert response["Content-Type"] == "application/fhir+json", response["Content-Type"]
    body = json.loads(response.content)
    model = get_fhir_model_class(body["resourceType"]).model_validate(body)
    assert times_without_offset(body) == []
    return model


def times_without_offset(value, path="") -> list[str]:
    """Return the paths of every date-time string in VALUE that has no UTC offset."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += times_without_offset(item, f"{path}.{key}")
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found += times_without_offset(item, f"{path}[{number}]")
    elif isinstance(value, str) and _TIME.match(value) and not _OFFSET.search(value):
        found.append(f"{path}={value}")
    return found


def outcome(response, status: int) -> str:
    """Assert RESPONSE is an OperationOutcome with STATUS; return its diagnostics."""
    assert response.status_code == status, response.content
    model = parsed(response)
    assert type(model).__name__ == "OperationOutcome"
    return model.issue[0].diagnostics
