import uuid

from django.conf import settings
from django.db import models

from clinic.clock import staff_datetime
from clinic.transitions import Transitions


class FhirExport(models.Model):
    """One bulk export of the whole clinic as FHIR NDJSON (one file per resource type), run by a Celery task.

    The row is the job's state: requested, running (with counts per resource type as it goes), done (the
    files exist under settings.TPI_FHIR_EXPORT_DIR/<uuid>/) or failed (with the reason). Clinic admins only.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    TRANSITIONS = Transitions(
        "export status",
        {
            Status.REQUESTED: {Status.RUNNING, Status.FAILED},
            # RUNNING -> RUNNING: each step of the export claims the row again.
            Status.RUNNING: {Status.RUNNING, Status.DONE, Status.FAILED},
            Status.DONE: set(),
            Status.FAILED: set(),
        },
    )

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="The id in the export's URLs")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.REQUESTED)
    resource_types = models.JSONField(default=list, help_text="The FHIR resource types exported, in order")
    counts = models.JSONField(default=dict, help_text="Resources written so far, per resource type")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Steps started (each writes a bounded slice)")
    # Where the next step starts: the resource type (index into resource_types), the last row id written
    # and the file's length after it (a step that died mid-way leaves lines past it, cut off on resume).
    cursor = models.JSONField(default=dict)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A step is running until then; after it, the next step may start"
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["requested_at", "id"])]  # the default ordering: the export list's page
        verbose_name = "FHIR bulk export"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done") | models.Q(finished_at__isnull=False),
                name="fhirexport_done_has_finish_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(error=""), name="fhirexport_failed_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"FHIR export of {staff_datetime(self.requested_at)} ({self.get_status_display().lower()})"

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def total(self) -> int:
        """Return the number of resources written so far, all types together."""
        return sum(self.counts.values())


class FhirExportDownload(models.Model):
    """One download of one file of an export: who fetched which resource type, and when."""

    export = models.ForeignKey(FhirExport, on_delete=models.PROTECT, related_name="downloads")
    resource_type = models.CharField(max_length=40)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.resource_type} of the {self.export}"
