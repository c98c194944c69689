"""Bulk export of the whole clinic as FHIR NDJSON (Bulk Data style): one file per resource type.

`fhir_export_request` stores the job (status `requested`) and, after commit, enqueues the task with the
row's id only; `fhir_export_run` (the task's one call) claims the row, writes each resource type to
`<TPI_FHIR_EXPORT_DIR>/<uuid>/<Type>.ndjson` by walking the rows with a database iterator in chunks
(memory stays flat whatever the clinic's size), stores the counts after every chunk, and ends `done`
or `failed` with the reason. A task redelivered after its worker died claims the `running` row again
and writes the files from the start. Files are served only to clinic admins (tpi.fhir.views), and the
first download of an export by a user records an export of every patient's chart in the access log.
"""

import json
import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinic.audit.models import AccessLog
from clinic.models import Patient
from clinic.security.client_ip import client_ip
from tpi.fhir.types import RESOURCE_TYPES, resources_of
from tpi.models import FhirExport, FhirExportDownload

logger = logging.getLogger(__name__)

CHUNK = 500  # rows per database round trip (and per progress update)
AUDIT_BATCH = 1000


class ExportRequestError(ValueError):
    """The export cannot be requested as asked (e.g. an unknown resource type)."""


def export_folder(export: FhirExport) -> Path:
    return Path(settings.TPI_FHIR_EXPORT_DIR) / str(export.uuid)


def export_file(export: FhirExport, resource_type: str) -> Path:
    return export_folder(export) / f"{resource_type}.ndjson"


def fhir_export_request(*, by: User, resource_types: list[str] | None = None) -> FhirExport:
    """Store a bulk export of RESOURCE_TYPES (default: every type) requested by BY and enqueue it after commit."""
    from tpi.tasks import fhir_export_run_task

    types = resource_types or list(RESOURCE_TYPES)
    unknown = [name for name in types if name not in RESOURCE_TYPES]
    if unknown:
        raise ExportRequestError(f"Unknown resource type(s): {', '.join(unknown)}.")
    ordered = [name for name in RESOURCE_TYPES if name in types]
    export = FhirExport.objects.create(requested_by=by, requested_at=timezone.now(), resource_types=ordered)
    transaction.on_commit(lambda: fhir_export_run_task.delay(export.pk))
    return export


def _claim(export_id: int) -> FhirExport | None:
    sources = FhirExport.TRANSITIONS.sources(FhirExport.Status.RUNNING)
    now = timezone.now()
    with transaction.atomic():
        export = FhirExport.objects.select_for_update().filter(pk=export_id, status__in=sources).first()
        if export is None:
            return None
        export.status = FhirExport.Status.RUNNING
        export.started_at = now
        export.attempts += 1
        export.counts = {}
        export.save(update_fields=["status", "started_at", "attempts", "counts"])
    return export


def _write_type(export: FhirExport, resource_type: str) -> int:
    kind = RESOURCE_TYPES[resource_type]
    path = export_file(export, resource_type)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for resource in resources_of(kind, kind.rows(None).iterator(chunk_size=CHUNK), None):
            out.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False))
            out.write("\n")
            written += 1
            if written % CHUNK == 0:
                _progress(export, resource_type, written)
    _progress(export, resource_type, written)
    return written


def _progress(export: FhirExport, resource_type: str, written: int) -> None:
    export.counts = {**export.counts, resource_type: written}
    FhirExport.objects.filter(pk=export.pk, status=FhirExport.Status.RUNNING).update(counts=export.counts)


def fhir_export_run(*, export_id: int) -> FhirExport | None:
    """Write the export's files and mark it done (or failed with the reason); None when it is not to be run."""
    export = _claim(export_id)
    if export is None:
        logger.info("FHIR export %s is not waiting to run; nothing to do", export_id)
        return None
    folder = export_folder(export)
    try:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for resource_type in export.resource_types:
            _write_type(export, resource_type)
    except Exception as exc:
        logger.exception("FHIR export %s failed", export.uuid)
        shutil.rmtree(folder, ignore_errors=True)
        FhirExport.objects.filter(pk=export.pk).update(
            status=FhirExport.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        export.refresh_from_db()
        return export
    FhirExport.objects.filter(pk=export.pk, status=FhirExport.Status.RUNNING).update(
        status=FhirExport.Status.DONE, finished_at=timezone.now()
    )
    export.refresh_from_db()
    return export


def fhir_export_download_record(*, export: FhirExport, resource_type: str, user: User, request: HttpRequest) -> None:
    """Record a download of one file; the user's first download of EXPORT logs an export of every patient's chart.

    The patients are those registered when the export started (patients are never deleted).
    """
    now = timezone.now()
    with transaction.atomic():
        first = not FhirExportDownload.objects.filter(export=export, user=user).exists()
        FhirExportDownload.objects.create(
            export=export, resource_type=resource_type, user=user, at=now, remote_addr=client_ip(request)
        )
        if not first:
            return
        content_type = ContentType.objects.get_for_model(Patient)
        agent = request.META.get("HTTP_USER_AGENT", "")[:300]
        patient_ids = Patient.objects.filter(created_at__lte=export.started_at or now).values_list("pk", flat=True)
        batch: list[AccessLog] = []
        for patient_id in patient_ids.order_by("pk").iterator(chunk_size=AUDIT_BATCH):
            batch.append(
                AccessLog(
                    user=user, patient_id=patient_id, content_type=content_type, object_id=str(patient_id),
                    action=AccessLog.Action.EXPORT, at=now, remote_addr=client_ip(request), user_agent=agent,
                    path=request.path[:500],
                )
            )  # fmt: skip
            if len(batch) >= AUDIT_BATCH:
                AccessLog.objects.bulk_create(batch)
                batch = []
        AccessLog.objects.bulk_create(batch)
