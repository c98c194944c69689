"""Bulk export of the whole clinic as FHIR NDJSON (Bulk Data style): one file per resource type.

`fhir_export_request` stores the job (status `requested`) and, after commit, enqueues the task with the
row's id only. The task runs `fhir_export_step`: it claims the row with a lease (a conditional UPDATE;
a second delivery while the lease runs does nothing), writes at most TPI_FHIR_EXPORT_STEP_ROWS rows from
the cursor on, walking the rows by id in chunks of CHUNK (memory stays flat whatever the clinic's size),
stores the cursor, the file's length and the counts after every chunk, and returns whether more is left;
the task then publishes the next step. A step whose worker died leaves a lapsed lease: beat's
`fhir_exports_resume` publishes the next step, which cuts the file back to the stored length and goes on.
The files are `<TPI_FHIR_EXPORT_DIR>/<uuid>/<Type>.ndjson`, served only to clinic admins (tpi.fhir.views);
the first download of an export by a user logs an export of every patient's chart in the access log.
"""

import datetime as dt
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from clinic.audit.models import AccessLog
from clinic.models import Patient
from clinic.security.client_ip import client_ip
from tpi.fhir.types import RESOURCE_TYPES, resources_of
from tpi.models import FhirExport, FhirExportDownload

logger = logging.getLogger(__name__)

CHUNK = 500  # rows per database round trip (and per stored cursor)
STEP_SECONDS = 60  # a step also ends after this long, well inside the task time limit
AUDIT_BATCH = 1000
REQUEUE_AFTER = dt.timedelta(minutes=2)  # a requested export whose first task never came


class ExportRequestError(ValueError):
    """The export cannot be requested as asked (e.g. an unknown resource type)."""


def export_folder(export: FhirExport) -> Path:
    return Path(settings.TPI_FHIR_EXPORT_DIR) / str(export.uuid)


def export_file(export: FhirExport, resource_type: str) -> Path:
    return export_folder(export) / f"{resource_type}.ndjson"


def _enqueue(export_id: int) -> None:
    from tpi.tasks import fhir_export_run_task

    fhir_export_run_task.delay(export_id)


def fhir_export_request(*, by: User, resource_types: list[str] | None = None) -> FhirExport:
    """Store a bulk export of RESOURCE_TYPES (default: every type) requested by BY and enqueue it after commit."""
    types = resource_types or list(RESOURCE_TYPES)
    unknown = [name for name in types if name not in RESOURCE_TYPES]
    if unknown:
        raise ExportRequestError(f"Unknown resource type(s): {', '.join(unknown)}.")
    ordered = [name for name in RESOURCE_TYPES if name in types]
    export = FhirExport.objects.create(requested_by=by, requested_at=timezone.now(), resource_types=ordered)
    transaction.on_commit(lambda: _enqueue(export.pk))
    return export


def _lease() -> dt.timedelta:
    # A step cannot outlive the task's hard time limit, so its lease lapses soon after a dead worker's.
    return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


def _claim(export_id: int, now: dt.datetime) -> FhirExport | None:
    """Take the export for one step (a conditional UPDATE); None when it is finished or a live step holds it."""
    sources = FhirExport.TRANSITIONS.sources(FhirExport.Status.RUNNING)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    claimed = FhirExport.objects.filter(Q(pk=export_id, status__in=sources) & free).update(
        status=FhirExport.Status.RUNNING, lease_until=now + _lease()
    )
    if claimed != 1:
        return None
    export = FhirExport.objects.get(pk=export_id)
    if not export.cursor:  # the first step
        shutil.rmtree(export_folder(export), ignore_errors=True)
        export_folder(export).mkdir(parents=True)
        export.started_at = now
        export.cursor = {"type": 0, "after": 0, "offset": 0}
        export.counts = {}
    export.attempts += 1
    export.save(update_fields=["started_at", "cursor", "counts", "attempts"])
    return export


def _save_progress(export: FhirExport, **fields: Any) -> None:
    """Store the cursor and counts; a step that lost its lease (it overran) must not overwrite a newer one."""
    FhirExport.objects.filter(pk=export.pk, status=FhirExport.Status.RUNNING).update(
        cursor=export.cursor, counts=export.counts, **fields
    )


def _write_slice(export: FhirExport, budget: int, deadline: float) -> int:
    """Write rows of the cursor's resource type, at most BUDGET; return how many rows were written."""
    resource_type = export.resource_types[export.cursor["type"]]
    kind = RESOURCE_TYPES[resource_type]
    path = export_file(export, resource_type)
    path.touch()
    rows_done = 0
    with path.open("r+b") as out:
        out.truncate(export.cursor["offset"])  # lines a dead step wrote past the stored cursor
        out.seek(export.cursor["offset"])
        while rows_done < budget and time.monotonic() < deadline:
            after = export.cursor["after"]
            rows = list(kind.rows(None).filter(pk__gt=after)[: min(CHUNK, budget - rows_done)])
            if not rows:
                export.cursor = {"type": export.cursor["type"] + 1, "after": 0, "offset": 0}
                export.counts = {**export.counts, resource_type: export.counts.get(resource_type, 0)}
                break
            written = 0
            for resource in resources_of(kind, rows, None):
                out.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode())
                out.write(b"\n")
                written += 1
            out.flush()
            rows_done += len(rows)
            export.cursor = {"type": export.cursor["type"], "after": rows[-1].pk, "offset": out.tell()}
            export.counts = {**export.counts, resource_type: export.counts.get(resource_type, 0) + written}
            _save_progress(export)
    return rows_done


def fhir_export_step(*, export_id: int) -> bool:
    """Write the next slice of the export; return True when more is left (the caller publishes the next step).

    The export ends `done` after its last type, or `failed` with the reason (its files removed).
    """
    now = timezone.now()
    export = _claim(export_id, now)
    if export is None:
        logger.info("FHIR export %s: finished, or a step is running; nothing to do", export_id)
        return False
    budget = settings.TPI_FHIR_EXPORT_STEP_ROWS
    deadline = time.monotonic() + STEP_SECONDS
    try:
        while budget > 0 and time.monotonic() < deadline and export.cursor["type"] < len(export.resource_types):
            budget -= _write_slice(export, budget, deadline)
            _save_progress(export)
    except Exception as exc:
        logger.exception("FHIR export %s failed", export.uuid)
        shutil.rmtree(export_folder(export), ignore_errors=True)
        FhirExport.objects.filter(pk=export.pk).update(
            status=FhirExport.Status.FAILED, finished_at=timezone.now(), lease_until=None,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )  # fmt: skip
        return False
    if export.cursor["type"] >= len(export.resource_types):
        _save_progress(export, status=FhirExport.Status.DONE, finished_at=timezone.now(), lease_until=None)
        return False
    _save_progress(export, lease_until=None)
    return True


def fhir_exports_resume(*, now: dt.datetime) -> list[int]:
    """Publish the next step of every export whose step died (lapsed lease) or whose first task never came."""
    stalled = FhirExport.objects.filter(
        Q(status=FhirExport.Status.RUNNING, lease_until__lt=now)
        | Q(status=FhirExport.Status.RUNNING, lease_until__isnull=True)
        | Q(status=FhirExport.Status.REQUESTED, requested_at__lt=now - REQUEUE_AFTER)
    )
    ids = list(stalled.values_list("pk", flat=True))
    for export_id in ids:
        _enqueue(export_id)
    return ids


def fhir_export_download_record(
    *, export: FhirExport, resource_type: str, user: User, request: HttpRequest | Request
) -> None:
    """Record a download of one file; the user's first download of EXPORT logs an export of every patient's chart.

    The patients are those registered when the export started (patients are never deleted).
    """
    now = timezone.now()
    address = client_ip(request)
    with transaction.atomic():
        first = not FhirExportDownload.objects.filter(export=export, user=user).exists()
        FhirExportDownload.objects.create(
            export=export, resource_type=resource_type, user=user, at=now, remote_addr=address
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
                    action=AccessLog.Action.EXPORT, at=now, remote_addr=address, user_agent=agent,
                    path=request.path[:500],
                )
            )  # fmt: skip
            if len(batch) >= AUDIT_BATCH:
                AccessLog.objects.bulk_create(batch)
                batch = []
        AccessLog.objects.bulk_create(batch)
