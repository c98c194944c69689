"""The FHIR R4 read API under /fhir/R4/: thin views over tpi.fhir.types and tpi.fhir.bulk.

Authentication is the REST API's (a token, or the admin session with its two-factor sign-in); an
anonymous request gets 401 with `WWW-Authenticate: Token`. Every answer is application/fhir+json and
every error an OperationOutcome. Reads are audited as the REST API audits detail reads (a view in the
access log); a search for one patient's records logs a view of that patient; $everything logs an export.
"""

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.accounts.actors import request_user
from clinic.audit.access import access_record
from clinic.audit.models import AccessLog
from clinic.models import Patient
from clinic.roles import is_clinic_admin, otp_satisfied
from tpi.fhir import bulk
from tpi.fhir.capability import capability_statement
from tpi.fhir.resources import Resource, validated
from tpi.fhir.types import PATIENT, PRACTITIONER, RESOURCE_TYPES, ResourceType, SearchError, resources_of
from tpi.models import FhirExport

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
DEFAULT_COUNT = 50
MAX_COUNT = 200
PAGING_PARAMS = {"_count", "_page", "_format"}
FORMATS = {"json", "application/json", FHIR_JSON}
EXPORT_OUTPUT_FORMATS = {NDJSON, "application/ndjson", "ndjson"}


class FhirRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class AlwaysFhir(BaseContentNegotiation):
    """Answer application/fhir+json whatever the Accept header asks (FHIR clients send several forms)."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class SignedIn(permissions.BasePermission):
    """A signed-in user (token, or session with two-factor sign-in where required)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and otp_satisfied(request))


ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 429: "throttled"}


def operation_outcome(status: int, text: str, *, code: str | None = None, severity: str = "error") -> Response:
    issue = {"severity": severity, "code": code or ISSUE_CODES.get(status, "exception"), "diagnostics": text}
    return Response(validated({"resourceType": "OperationOutcome", "issue": [issue]}), status=status)


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every error as an OperationOutcome (401 keeps DRF's WWW-Authenticate header)."""
    if isinstance(exc, SearchError):
        return operation_outcome(400, str(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    if not isinstance(exc, exceptions.APIException):
        return None
    response = operation_outcome(exc.status_code, str(exc.detail))
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        response["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        response["Retry-After"] = str(int(wait))
    return response


class FhirView(APIView):
    # Token first: an anonymous request gets 401 with `WWW-Authenticate: Token` (RFC 7235), not 403.
    authentication_classes = [authentication.TokenAuthentication, authentication.SessionAuthentication]
    permission_classes = [SignedIn]
    renderer_classes = [FhirRenderer]
    content_negotiation_class = AlwaysFhir
    schema = None  # described by the CapabilityStatement, not the REST API's OpenAPI schema

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        requested = request.query_params.get("_format")
        if requested is not None and requested not in FORMATS:
            raise SearchError(f"_format: only JSON is served ({', '.join(sorted(FORMATS))}).")

    def base_url(self, request: Request) -> str:
        return request.build_absolute_uri("/fhir/R4").rstrip("/")

    def resource_type(self, name: str) -> ResourceType:
        kind = RESOURCE_TYPES.get(name)
        if kind is None:
            raise exceptions.NotFound(f"Unknown resource type {name!r}.")
        if not kind.may_read(self.request.user):
            raise exceptions.PermissionDenied(f"You may not read {name} resources.")
        return kind

    def bundle(self, request: Request, entries: list[Resource], **extra: Any) -> Resource:
        base = self.base_url(request)
        return validated(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "timestamp": timezone.localtime().isoformat(timespec="seconds"),
                **extra,
                "entry": [
                    {
                        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                        "resource": resource,
                        "search": {"mode": "match"},
                    }
                    for resource in entries
                ],
            }
        )


def audit_patient(kind: ResourceType, row: Any) -> Patient | None:
    """Return the patient whose chart ROW belongs to (None for a practitioner)."""
    if kind.patient_field is None:
        return None
    if kind.patient_field == "pk":
        return row
    holder = row.procedure if kind.patient_field.startswith("procedure__") else row
    return holder.patient


class MetadataView(FhirView):
    """GET metadata: the CapabilityStatement (public, as FHIR clients discover the server before signing in)."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    def get(self, request: Request) -> Response:
        return Response(capability_statement(base_url=self.base_url(request)))


class SearchView(FhirView):
    """GET <Type>?params: a searchset Bundle of what the user may read, paged with _count and _page."""

    def get(self, request: Request, resource_type: str) -> Response:
        kind = self.resource_type(resource_type)
        count, page = _paging(request)
        criteria = [
            (name, value)
            for name, values in request.query_params.lists()
            for value in values
            if name not in PAGING_PARAMS
        ]
        rows: QuerySet[Any] = kind.search(request.user, criteria)
        window = list(rows[(page - 1) * count : page * count + 1])
        has_next = len(window) > count
        window = window[:count]
        entries = list(resources_of(kind, window, request.user))
        extra: dict[str, Any] = {"link": _links(request, self.base_url(request), resource_type, page, has_next)}
        if kind.one_per_row:  # a row of several resources (pain scores, agents) has no cheap total
            extra["total"] = rows.count()
        _audit_search(request, kind, criteria, window)
        return Response(self.bundle(request, entries, **extra))


def _paging(request: Request) -> tuple[int, int]:
    try:
        count = int(request.query_params.get("_count", DEFAULT_COUNT))
        page = int(request.query_params.get("_page", 1))
    except ValueError:
        raise SearchError("_count and _page take whole numbers.") from None
    if not 1 <= count <= MAX_COUNT or page < 1:
        raise SearchError(f"_count must be 1 to {MAX_COUNT}, _page 1 or more.")
    return count, page


def _links(request: Request, base: str, resource_type: str, page: int, has_next: bool) -> list[dict[str, str]]:
    params = [(k, v) for k, values in request.query_params.lists() for v in values if k != "_page"]
    links = [{"relation": "self", "url": f"{base}/{resource_type}?{urlencode([*params, ('_page', page)])}"}]
    if has_next:
        links.append({"relation": "next", "url": f"{base}/{resource_type}?{urlencode([*params, ('_page', page + 1)])}"})
    if page > 1:
        links.append(
            {"relation": "previous", "url": f"{base}/{resource_type}?{urlencode([*params, ('_page', page - 1)])}"}
        )
    return links


def _audit_search(request: Request, kind: ResourceType, criteria: list[tuple[str, str]], rows: list[Any]) -> None:
    """Log one view of the patient when a search for one patient's records returned any."""
    if not rows or kind.patient_field is None:
        return
    patients = {audit_patient(kind, row) for row in rows}
    if len(patients) != 1 or not any(
        name in ("patient", "subject", "actor", "_id", "identifier") for name, _ in criteria
    ):
        return
    patient = patients.pop()
    if patient is not None:
        access_record(
            user=request_user(request), patient=patient, obj=patient, action=AccessLog.Action.VIEW, request=request
        )


class ReadView(FhirView):
    """GET <Type>/<id>: one resource; 404 when there is none, 403 when the user may not read it."""

    def get(self, request: Request, resource_type: str, resource_id: str) -> Response:
        kind = self.resource_type(resource_type)
        row_id = kind.locate(resource_id)
        row = kind.base().filter(pk=row_id).first() if row_id is not None else None
        found = [r for r in resources_of(kind, [row], request.user) if r["id"] == resource_id] if row else []
        if row is None or not found:
            raise exceptions.NotFound(f"{resource_type}/{resource_id} is not known.")
        if not kind.rows(request.user).filter(pk=row.pk).exists():
            raise exceptions.PermissionDenied(f"You may not read {resource_type}/{resource_id}.")
        patient = audit_patient(kind, row)
        if patient is not None:
            access_record(
                user=request_user(request), patient=patient, obj=row, action=AccessLog.Action.VIEW, request=request
            )
        return Response(found[0])


class EverythingView(FhirView):
    """GET Patient/<id>/$everything: the patient and every record of theirs the user may read, in one Bundle."""

    def get(self, request: Request, resource_id: str) -> Response:
        self.resource_type(PATIENT.name)
        unknown = sorted(set(request.query_params) - PAGING_PARAMS)
        if unknown:
            raise SearchError(f"$everything takes no parameters here (got {', '.join(unknown)}).")
        if not resource_id.isdigit():
            raise exceptions.NotFound(f"Patient/{resource_id} is not known.")
        patient = get_object_or_404(Patient, pk=int(resource_id))
        entries = [*resources_of(PATIENT, [patient], request.user)]
        practitioners: set[str] = set()
        for kind in RESOURCE_TYPES.values():
            if kind in (PATIENT, PRACTITIONER) or not kind.may_read(request.user):
                continue
            rows = kind.rows(request.user).filter(**{kind.patient_field or "pk": patient.pk})
            for resource in resources_of(kind, rows, request.user):
                entries.append(resource)
                practitioners |= _practitioner_ids(resource)
        if practitioners and PRACTITIONER.may_read(request.user):
            rows = PRACTITIONER.rows(request.user).filter(pk__in=[int(pk) for pk in practitioners])
            entries += resources_of(PRACTITIONER, rows, request.user)
        access_record(
            user=request_user(request), patient=patient, obj=patient, action=AccessLog.Action.EXPORT, request=request
        )
        return Response(self.bundle(request, entries, total=len(entries)))


def _practitioner_ids(resource: Resource) -> set[str]:
    """Return the ids of the practitioners RESOURCE refers to."""
    text = json.dumps(resource)
    found = set()
    for part in text.split('"Practitioner/')[1:]:
        found.add(part.split('"', 1)[0])
    return found


class ExportPermission(permissions.BasePermission):
    message = "Only a clinic admin may export the clinic's records."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return (
            bool(request.user and request.user.is_authenticated)
            and is_clinic_admin(request.user)
            and otp_satisfied(request)
        )


class ExportKickoffView(FhirView):
    """GET $export (Prefer: respond-async): start a bulk export; 202 with the status URL in Content-Location."""

    permission_classes = [SignedIn, ExportPermission]

    def get(self, request: Request) -> Response:
        if "respond-async" not in request.headers.get("Prefer", ""):
            raise SearchError("A bulk export needs the header `Prefer: respond-async`.")
        unknown = sorted(set(request.query_params) - {"_type", "_outputFormat", "_format"})
        if unknown:
            raise SearchError(
                f"Unsupported $export parameter(s): {', '.join(unknown)} (supported: _type, _outputFormat)."
            )
        output_format = request.query_params.get("_outputFormat")
        if output_format is not None and output_format not in EXPORT_OUTPUT_FORMATS:
            raise SearchError(f"_outputFormat: only NDJSON is written ({', '.join(sorted(EXPORT_OUTPUT_FORMATS))}).")
        types = [t for value in request.query_params.getlist("_type") for t in value.split(",") if t] or None
        try:
            export = bulk.fhir_export_request(by=request_user(request), resource_types=types)
        except bulk.ExportRequestError as exc:
            raise SearchError(f"_type: {exc}") from None
        response = Response(status=202)
        response["Content-Location"] = f"{self.base_url(request)}/$export-status/{export.uuid}"
        return response


class ExportStatusView(FhirView):
    """GET $export-status/<uuid>: 202 with X-Progress while it runs; 200 with the manifest when done."""

    permission_classes = [SignedIn, ExportPermission]

    def get(self, request: Request, export_id: str) -> Response:
        export = _export(export_id)
        if export.status in (FhirExport.Status.REQUESTED, FhirExport.Status.RUNNING):
            response = Response(status=202)
            done = ", ".join(f"{name} {count}" for name, count in export.counts.items())
            response["X-Progress"] = f"{export.get_status_display()}" + (f": {done}" if done else "")
            response["Retry-After"] = "5"
            return response
        if export.status == FhirExport.Status.FAILED:
            return operation_outcome(500, f"The export failed: {export.error}", code="exception")
        base = self.base_url(request)
        manifest = {
            "transactionTime": timezone.localtime(export.started_at).isoformat(timespec="seconds"),
            "request": f"{base}/$export",
            "requiresAccessToken": True,
            "output": [
                {
                    "type": name,
                    "url": f"{base}/$export-file/{export.uuid}/{name}.ndjson",
                    "count": export.counts.get(name, 0),
                }
                for name in export.resource_types
            ],
            "error": [],
        }
        # The manifest is plain JSON (Bulk Data), not a FHIR resource.
        return Response(manifest, content_type="application/json")


def _export(export_id: str) -> FhirExport:
    try:
        key = uuid.UUID(export_id)
    except ValueError:
        raise exceptions.NotFound(f"No export {export_id}.") from None
    export = FhirExport.objects.filter(uuid=key).first()
    if export is None:
        raise exceptions.NotFound(f"No export {export_id}.")
    return export


class ExportFileView(FhirView):
    """GET $export-file/<uuid>/<Type>.ndjson: one file of a finished export, streamed; the download is audited."""

    permission_classes = [SignedIn, ExportPermission]

    def get(self, request: Request, export_id: str, resource_type: str) -> FileResponse:
        export = _export(export_id)
        if not export.is_done or resource_type not in export.resource_types:
            raise exceptions.NotFound(f"No {resource_type} file in export {export_id}.")
        path = bulk.export_file(export, resource_type)
        if not path.is_file():
            raise exceptions.NotFound(f"The {resource_type} file of export {export_id} is gone.")
        bulk.fhir_export_download_record(
            export=export, resource_type=resource_type, user=request_user(request), request=request
        )
        return FileResponse(
            path.open("rb"), content_type=NDJSON, as_attachment=True, filename=f"{resource_type}.ndjson"
        )


class NotFoundView(FhirView):
    """Anything else under /fhir/R4/: a 404 OperationOutcome."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def dispatch_any(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.NotFound("No such FHIR endpoint on this read-only server.")

    get = post = put = patch = delete = dispatch_any
