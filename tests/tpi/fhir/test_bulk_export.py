"""FHIR bulk export end to end on the embedded setup (eager Celery): kick-off, status, manifest, download, audit."""

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from rest_framework.test import APIClient

from clinic import roles
from clinic.audit.models import AccessLog
from clinic.models import Patient
from tests.factories import PatientFactory
from tests.tpi.fhir.conftest import NOW
from tests.tpi.fhir.helpers import outcome, times_without_offset
from tpi.fhir import bulk
from tpi.models import FhirExport, FhirExportDownload

pytestmark = pytest.mark.django_db

ASYNC = {"HTTP_PREFER": "respond-async"}


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.TPI_FHIR_EXPORT_DIR = tmp_path / "exports"
    with time_machine.travel(NOW, tick=False):
        yield


def _kick_off(client, query="", capture=None):
    with capture(execute=True):
        response = client.get(f"/fhir/R4/$export{query}", **ASYNC)
    assert response.status_code == 202, response.content
    return response["Content-Location"]


def _ndjson(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]


def test_a_clinic_admin_exports_the_whole_clinic(chart, as_user, django_capture_on_commit_callbacks):
    admin = chart.users[roles.CLINIC_ADMIN]
    client = as_user(admin)
    PatientFactory()  # a patient with nothing else on file is exported too

    status_url = _kick_off(client, capture=django_capture_on_commit_callbacks)

    export = FhirExport.objects.get()
    assert status_url == f"http://testserver/fhir/R4/$export-status/{export.uuid}"
    assert (export.status, export.requested_by, export.lease_until) == ("done", admin, None)
    response = client.get(status_url)
    assert response.status_code == 200
    manifest = response.json()
    assert manifest["requiresAccessToken"] is True
    assert manifest["transactionTime"] == "2026-03-10T11:00:00-04:00"
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts == {
        "Patient": 2,
        "Practitioner": 3,  # the doctor, the other doctor, the therapist
        "Procedure": 3,
        "MedicationAdministration": 6,
        "Observation": 8,
        "Appointment": 2,
        "Consent": 1,
        "Communication": 1,
    }
    for item in manifest["output"]:
        lines = _ndjson(client, item["url"])
        assert len(lines) == item["count"]
        for line in lines:
            assert line["resourceType"] == item["type"]
            get_fhir_model_class(item["type"]).model_validate(line)
            assert times_without_offset(line) == []
    assert list(FhirExportDownload.objects.values_list("resource_type", "user")) == [
        (item["type"], admin.pk) for item in reversed(manifest["output"])
    ]
    # The first download logged an export of every patient's chart, once.
    logged = AccessLog.objects.filter(user=admin, action="export").values_list("patient_id", flat=True)
    assert sorted(logged) == sorted(Patient.objects.values_list("pk", flat=True))


def test_the_export_is_the_same_as_the_api_shows_a_clinic_admin(chart, as_user, django_capture_on_commit_callbacks):
    client = as_user(chart.users[roles.CLINIC_ADMIN])
    _kick_off(client, "?_type=Procedure,Observation", capture=django_capture_on_commit_callbacks)
    export = FhirExport.objects.get()
    assert export.resource_types == ["Procedure", "Observation"]

    for resource_type in export.resource_types:
        exported = _ndjson(client, f"/fhir/R4/$export-file/{export.uuid}/{resource_type}.ndjson")
        searched = client.get(f"/fhir/R4/{resource_type}?_count=200").json()
        assert exported == [entry["resource"] for entry in searched["entry"]]


def test_while_it_runs_the_status_reports_progress(chart, as_user):
    admin = chart.users[roles.CLINIC_ADMIN]
    export = bulk.fhir_export_request(by=admin)  # not committed: the task has not run
    FhirExport.objects.filter(pk=export.pk).update(status="running", counts={"Patient": 1})

    response = as_user(admin).get(f"/fhir/R4/$export-status/{export.uuid}")

    assert response.status_code == 202
    assert response["X-Progress"] == "Running: Patient 1"
    assert response["Retry-After"] == "5"
    assert outcome(as_user(admin).get(f"/fhir/R4/$export-file/{export.uuid}/Patient.ndjson"), 404)


def test_a_failed_export_says_why_and_leaves_no_files(chart, as_user, monkeypatch):
    admin = chart.users[roles.CLINIC_ADMIN]
    export = bulk.fhir_export_request(by=admin)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "_write_slice", broken)
    assert bulk.fhir_export_step(export_id=export.pk) is False

    export.refresh_from_db()
    assert (export.status, export.error, export.lease_until) == ("failed", "RuntimeError: disk full", None)
    assert not bulk.export_folder(export).exists()
    assert outcome(as_user(admin).get(f"/fhir/R4/$export-status/{export.uuid}"), 500) == (
        "The export failed: RuntimeError: disk full"
    )
    assert bulk.fhir_export_step(export_id=export.pk) is False  # a failed export is not run again
    assert bulk.fhir_exports_resume(now=timezone.now() + dt.timedelta(hours=1)) == []


def _lines(export, resource_type="Patient") -> list[dict]:
    return [json.loads(line) for line in bulk.export_file(export, resource_type).read_text().splitlines()]


def test_the_export_runs_as_short_steps_walking_the_rows_by_id(chart, settings, monkeypatch):
    for _ in range(4):
        PatientFactory()
    monkeypatch.setattr(bulk, "CHUNK", 2)
    settings.TPI_FHIR_EXPORT_STEP_ROWS = 3
    export = bulk.fhir_export_request(by=chart.users[roles.CLINIC_ADMIN], resource_types=["Patient", "Consent"])

    assert bulk.fhir_export_step(export_id=export.pk) is True  # 3 patients (chunks of 2 and 1)
    export.refresh_from_db()
    assert (export.status, export.counts, export.lease_until) == ("running", {"Patient": 3}, None)
    assert [line["id"] for line in _lines(export)] == [
        str(pk) for pk in Patient.objects.order_by("pk")[:3].values_list("pk", flat=True)
    ]

    assert bulk.fhir_export_step(export_id=export.pk) is True  # 2 patients, the end of the type, 1 consent
    assert bulk.fhir_export_step(export_id=export.pk) is False
    export.refresh_from_db()
    assert (export.status, export.counts, export.attempts) == ("done", {"Patient": 5, "Consent": 1}, 3)
    assert len(_lines(export)) == 5
    assert len(_lines(export, "Consent")) == 1


def test_a_step_that_died_is_resumed_by_beat_and_its_partial_lines_cut_off(chart, settings, monkeypatch):
    for _ in range(4):
        PatientFactory()
    monkeypatch.setattr(bulk, "CHUNK", 2)
    settings.TPI_FHIR_EXPORT_STEP_ROWS = 2
    export = bulk.fhir_export_request(by=chart.users[roles.CLINIC_ADMIN], resource_types=["Patient"])
    assert bulk.fhir_export_step(export_id=export.pk) is True
    # The next step's worker wrote half a chunk and died: its lease is still on, its lines are on disk.
    with bulk.export_file(export, "Patient").open("a") as out:
        out.write('{"resourceType":"Patient","id":"3"}\n{"resourceType":"Pat')
    FhirExport.objects.filter(pk=export.pk).update(lease_until=timezone.now() + dt.timedelta(minutes=5))

    assert bulk.fhir_export_step(export_id=export.pk) is False  # a second delivery meanwhile: the lease holds
    assert bulk.fhir_exports_resume(now=timezone.now()) == []
    with time_machine.travel(NOW + dt.timedelta(minutes=6), tick=False):  # the lease has lapsed
        assert bulk.fhir_exports_resume(now=timezone.now()) == [export.pk]  # eager: the steps run on

    export.refresh_from_db()
    assert (export.status, export.counts) == ("done", {"Patient": 5})
    ids = [line["id"] for line in _lines(export)]
    assert ids == [str(pk) for pk in Patient.objects.order_by("pk").values_list("pk", flat=True)]


def test_a_requested_export_whose_task_never_came_is_started_by_beat(chart):
    export = bulk.fhir_export_request(by=chart.users[roles.CLINIC_ADMIN], resource_types=["Patient"])  # no commit

    assert bulk.fhir_exports_resume(now=timezone.now() + dt.timedelta(minutes=1)) == []
    assert bulk.fhir_exports_resume(now=timezone.now() + dt.timedelta(minutes=3)) == [export.pk]

    export.refresh_from_db()
    assert export.status == "done"


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.PROVIDER, roles.MASSAGE_THERAPIST])
def test_only_clinic_admins_export_and_download(chart, as_user, role, django_capture_on_commit_callbacks):
    admin_client = as_user(chart.users[roles.CLINIC_ADMIN])
    status_url = _kick_off(admin_client, "?_type=Patient", capture=django_capture_on_commit_callbacks)
    export = FhirExport.objects.get()
    client = as_user(chart.users[role])

    assert (
        outcome(client.get("/fhir/R4/$export", **ASYNC), 403) == "Only a clinic admin may export the clinic's records."
    )
    assert outcome(client.get(status_url), 403)
    assert outcome(client.get(f"/fhir/R4/$export-file/{export.uuid}/Patient.ndjson"), 403)
    assert outcome(APIClient().get(status_url), 401)
    assert FhirExport.objects.count() == 1
    assert not FhirExportDownload.objects.exists()


@pytest.mark.parametrize(
    ("query", "headers", "reason"),
    [
        ("", {}, "A bulk export needs the header `Prefer: respond-async`."),
        ("?_type=Encounter", ASYNC, "_type: Unknown resource type(s): Encounter."),
        ("?_since=2026-01-01", ASYNC, "Unsupported $export parameter(s): _since"),
        ("?_outputFormat=text/csv", ASYNC, "_outputFormat: only NDJSON is written"),
    ],
)
def test_a_bad_kick_off_is_a_400_and_starts_nothing(chart, as_user, query, headers, reason):
    response = as_user(chart.users[roles.CLINIC_ADMIN]).get(f"/fhir/R4/$export{query}", **headers)
    assert outcome(response, 400).startswith(reason)
    assert not FhirExport.objects.exists()


def test_unknown_exports_and_files_are_404(chart, as_user, django_capture_on_commit_callbacks):
    client = as_user(chart.users[roles.CLINIC_ADMIN])
    _kick_off(client, "?_type=Patient", capture=django_capture_on_commit_callbacks)
    export = FhirExport.objects.get()

    assert outcome(client.get("/fhir/R4/$export-status/not-a-uuid"), 404)
    assert outcome(client.get("/fhir/R4/$export-status/00000000-0000-0000-0000-000000000000"), 404)
    assert outcome(client.get(f"/fhir/R4/$export-file/{export.uuid}/Procedure.ndjson"), 404)


def test_the_admin_starts_an_export_and_lists_its_files(chart, client, django_capture_on_commit_callbacks):
    client.force_login(chart.users[roles.CLINIC_ADMIN])
    page = client.get(reverse("admin:tpi_fhirexport_start"))
    assert page.status_code == 200
    assert b"Start the export" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:tpi_fhirexport_start"))

    assert response.status_code == 302
    export = FhirExport.objects.get()
    assert export.status == "done"
    listing = client.get(reverse("admin:tpi_fhirexport_changelist"))
    assert '<td class="field-written">25</td>' in listing.content.decode()  # 1 + 3 + 3 + 6 + 8 + 2 + 1 + 1
    detail = client.get(reverse("admin:tpi_fhirexport_change", args=[export.pk])).content.decode()
    assert f'href="/fhir/R4/$export-file/{export.uuid}/Observation.ndjson">Observation</a> (8)' in detail
    download = client.get(f"/fhir/R4/$export-file/{export.uuid}/Patient.ndjson")  # the admin session downloads
    assert download.status_code == 200


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.PROVIDER, roles.MASSAGE_THERAPIST])
def test_the_admin_start_page_is_for_clinic_admins_only(chart, client, role):
    client.force_login(chart.users[role])
    assert client.get(reverse("admin:tpi_fhirexport_start")).status_code == 403
    assert client.post(reverse("admin:tpi_fhirexport_start")).status_code == 403
    assert client.get(reverse("admin:tpi_fhirexport_changelist")).status_code == 403
    assert not FhirExport.objects.exists()
