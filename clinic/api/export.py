"""GET /api/patients/{id}/export/: a patient's complete record (right of access), clinic admins only."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.audit.export import patient_record_export
from clinic.models import Patient
from clinic.roles import IsClinicAdmin


class CanExportRecords(IsClinicAdmin):
    message = "Only a clinic admin may export a patient's record."


class PatientExportView(APIView):
    permission_classes = [CanExportRecords]

    @extend_schema(
        operation_id="patients_export",
        summary="Export a patient's complete record (JSON) for a right-of-access request",
        responses={200: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
        tags=["patients"],
    )
    def get(self, request, pk: int):
        patient = get_object_or_404(Patient, pk=pk)
        return Response(patient_record_export(user=request.user, patient=patient, request=request))
