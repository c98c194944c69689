"""A real worker on Redis and PostgreSQL runs the FHIR bulk export: kick-off, polling, manifest, NDJSON files."""

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class

from clinic import roles
from tests.celery_worker import wait_until
from tests.tpi.fhir.conftest import as_user, chart  # noqa: F401  (the FHIR tests' chart and token client)
from tpi.models import FhirExport

pytestmark = pytest.mark.slow


def test_a_worker_exports_the_clinic_and_the_admin_downloads_it(chart, as_user, celery_workers, settings, tmp_path):  # noqa: F811
    folder = tmp_path / "exports"
    settings.TPI_FHIR_EXPORT_DIR = folder  # this process serves the files the worker writes there
    # Two rows a step: the export runs as a chain of short tasks through the broker.
    celery_workers(env={"TPI_FHIR_EXPORT_DIR": str(folder), "TPI_FHIR_EXPORT_STEP_ROWS": "2"})
    client = as_user(chart.users[roles.CLINIC_ADMIN])

    kick_off = client.get("/fhir/R4/$export", HTTP_PREFER="respond-async")
    assert kick_off.status_code == 202
    status_url = kick_off["Content-Location"]

    def finished():
        response = client.get(status_url)
        return response if response.status_code != 202 else None

    response = wait_until(finished, timeout=90, interval=0.5, message="the worker to finish the export")
    assert response.status_code == 200, response.content
    export = FhirExport.objects.get()
    assert export.status == "done"
    assert export.attempts == 10  # 19 rows (one injection gives two resources, a procedure its pain scores), 2 a step
    assert sorted(path.name for path in (folder / str(export.uuid)).iterdir()) == sorted(
        f"{name}.ndjson" for name in export.resource_types
    )
    counts = {}
    for item in response.json()["output"]:
        download = client.get(item["url"])
        assert download.status_code == 200
        lines = b"".join(download.streaming_content).decode().splitlines()
        for line in lines:
            get_fhir_model_class(item["type"]).model_validate(json.loads(line))
        counts[item["type"]] = len(lines)
        assert len(lines) == item["count"]
    assert counts == {
        "Patient": 1,
        "Practitioner": 3,
        "Procedure": 3,
        "MedicationAdministration": 6,
        "Observation": 8,
        "Appointment": 2,
        "Consent": 1,
        "Communication": 1,
    }
