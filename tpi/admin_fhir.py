"""FHIR bulk exports in the admin: the list with progress, a page to start one, and the files when done.

Clinic admins only (the model's permissions belong to no other role). Starting calls the same service as
the API's $export; the file links go to the FHIR download URL, which checks and audits every download.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from clinic.admin_tools import GrowingTableAdminMixin, ReadOnlyAdminMixin, admin_page_context
from clinic.clock import staff_datetime
from clinic.models.providers import staff_name
from clinic.roles import is_clinic_admin
from tpi.fhir.bulk import fhir_export_request
from tpi.fhir.types import RESOURCE_TYPES
from tpi.models import FhirExport


@admin.register(FhirExport)
class FhirExportAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/tpi/fhirexport/change_list.html"
    list_display = ("requested", "requested_by_name", "status", "written", "finished")
    list_filter = ("status",)
    fields = readonly_fields = ("requested", "requested_by_name", "status", "progress", "finished", "error", "files")

    def has_view_permission(self, request, obj=None):
        return is_clinic_admin(request.user) and super().has_view_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by__provider")

    @admin.display(description="requested", ordering="requested_at")
    def requested(self, obj: FhirExport) -> str:
        return staff_datetime(obj.requested_at)

    @admin.display(description="requested by")
    def requested_by_name(self, obj: FhirExport) -> str:
        return staff_name(obj.requested_by)

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, obj: FhirExport) -> str:
        return staff_datetime(obj.finished_at)

    @admin.display(description="resources written")
    def written(self, obj: FhirExport) -> str:
        return f"{obj.total:,}" if obj.counts else "-"

    @admin.display(description="resources written, by type")
    def progress(self, obj: FhirExport) -> str:
        if not obj.counts:
            return "-"
        return ", ".join(f"{name}: {count:,}" for name, count in obj.counts.items())

    @admin.display(description="files (NDJSON)")
    def files(self, obj: FhirExport) -> str:
        if not obj.is_done:
            return "-"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a> ({})',
            (
                (reverse("fhir-export-file", args=[obj.uuid, name]), name, f"{obj.counts.get(name, 0):,}")
                for name in obj.resource_types
            ),
        )

    def get_urls(self):
        start = path("start/", self.admin_site.admin_view(self.start_view), name="tpi_fhirexport_start")
        return [start, *super().get_urls()]

    def start_view(self, request):
        """Ask, then start a bulk export of every resource type (the FHIR $export without a client)."""
        if not (is_clinic_admin(request.user) and request.user.has_perm("tpi.add_fhirexport")):
            raise PermissionDenied
        if request.method == "POST":
            export = fhir_export_request(by=request.user)
            self.message_user(
                request,
                format_html("Export started ({}). This page shows its progress; the files appear when it is done.",
                            staff_datetime(export.requested_at)),
                messages.SUCCESS,
            )  # fmt: skip
            return HttpResponseRedirect(reverse("admin:tpi_fhirexport_changelist"))
        context = admin_page_context(
            self, request, title="Export the clinic's records (FHIR bulk export)", resource_types=list(RESOURCE_TYPES)
        )
        return TemplateResponse(request, "admin/tpi/fhirexport/start.html", context)
