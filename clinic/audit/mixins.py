"""Drop-in read auditing for admin pages and API viewsets; both call `access_record`.

    class ProcedureAdmin(AccessLoggedAdminMixin, admin.ModelAdmin): ...
    class ProcedureViewSet(AccessLoggedRetrieveMixin, viewsets.ModelViewSet): ...

The patient is the object itself when it is a Patient, else its `audit_patient_attr` ("patient");
override `get_audit_patient(obj)` for anything else.
"""

from rest_framework.response import Response

from clinic.audit.access import access_record
from clinic.audit.models import AccessLog
from clinic.models import Patient


class _AuditPatientMixin:
    audit_patient_attr = "patient"

    def get_audit_patient(self, obj) -> Patient:
        """Return the patient whose chart OBJ belongs to."""
        return obj if isinstance(obj, Patient) else getattr(obj, self.audit_patient_attr)


class AccessLoggedAdminMixin(_AuditPatientMixin):
    """Record a view each time an admin change (or view-only) page is shown for an object."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if request.method == "GET" and obj is not None and not add:
            access_record(
                user=request.user,
                patient=self.get_audit_patient(obj),
                obj=obj,
                action=AccessLog.Action.VIEW,
                request=request,
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


class AccessLoggedRetrieveMixin(_AuditPatientMixin):
    """Record a view for every successful API detail read (`retrieve`)."""

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance)
        access_record(
            user=request.user,
            patient=self.get_audit_patient(instance),
            obj=instance,
            action=AccessLog.Action.VIEW,
            request=request,
        )
        return Response(serializer.data)
