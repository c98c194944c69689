"""Drop-in read auditing for admin pages and API viewsets; both call `access_record`.

    class ProcedureAdmin(AccessLoggedAdminMixin, admin.ModelAdmin): ...
    class ProcedureViewSet(AccessLoggedRetrieveMixin, viewsets.ModelViewSet): ...

The patient is the object itself when it is a Patient, else its `audit_patient_attr` ("patient");
override `get_audit_patient(obj)` for anything else.
"""

from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.accounts.actors import request_user
from clinic.audit.access import access_record
from clinic.audit.models import AccessLog
from clinic.models import Patient

if TYPE_CHECKING:
    # The mixins are only ever mixed into these; the checker needs to know what `super()` holds.
    from django.contrib.admin import ModelAdmin
    from rest_framework.generics import GenericAPIView

    _AdminBase = ModelAdmin[Any]
    _ApiBase = GenericAPIView[Any]
else:
    _AdminBase = _ApiBase = object


class _AuditPatientMixin:
    audit_patient_attr = "patient"

    def get_audit_patient(self, obj: Any) -> Patient:
        """Return the patient whose chart OBJ belongs to."""
        return obj if isinstance(obj, Patient) else getattr(obj, self.audit_patient_attr)


class AccessLoggedAdminMixin(_AuditPatientMixin, _AdminBase):
    """Record a view each time an admin change (or view-only) page is shown for an object."""

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Model | None = None,
    ) -> HttpResponse:
        if request.method == "GET" and obj is not None and not add:
            access_record(
                user=request_user(request),
                patient=self.get_audit_patient(obj),
                obj=obj,
                action=AccessLog.Action.VIEW,
                request=request,
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


class AccessLoggedRetrieveMixin(_AuditPatientMixin, _ApiBase):
    """Record a view for every successful API detail read (`retrieve`)."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance)
        access_record(
            user=request_user(request),
            patient=self.get_audit_patient(instance),
            obj=instance,
            action=AccessLog.Action.VIEW,
            request=request,
        )
        return Response(serializer.data)
