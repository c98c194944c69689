"""The patient's pain over time as data: `GET /api/patients/{id}/pain-scores/`.

Every pain score is an observation coded LOINC 72514-3 (pain severity 0-10 numeric rating) with the
time it was taken and how (in clinic, SMS, email); each procedure carries its sites, whether a
steroid was used, its responder status and relief duration (`tpi.outcomes`, computed in the
database). Readers need the clinical detail (`tpi.view_injection`); a provider gets the procedures
they may read (tpi.access). Each read is a recorded chart access.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.accounts.actors import request_user
from clinic.audit.access import access_record
from clinic.audit.models import AccessLog
from clinic.models import Patient
from clinic.roles import ClinicModelPermissions
from tpi.access import procedures_visible
from tpi.models import Injection, Procedure
from tpi.outcomes import Outcome, PainPoint, loinc_coding, patient_outcomes, patient_site_counts


class CodingSerializer(serializers.Serializer):
    system = serializers.CharField(help_text="http://loinc.org")
    code = serializers.CharField(help_text="72514-3")
    display = serializers.CharField()


class PainObservationSerializer(serializers.Serializer):
    """One pain score, coded for exchange (LOINC 72514-3)."""

    code = CodingSerializer()
    value = serializers.IntegerField(help_text="0-10 numeric rating scale")
    effective = serializers.DateTimeField(help_text="When the score was taken (ISO 8601 with offset)")
    method = serializers.ChoiceField(choices=["in_clinic", "sms", "email"], help_text="How the score reached us")
    moment = serializers.ChoiceField(
        choices=["before", "after", "check_in", "reassessment"],
        help_text="before / right after the procedure, the 72-hour check-in, the one-month reassessment",
    )


def observation(point: PainPoint) -> dict[str, Any]:
    """Return a pain point as a LOINC-coded observation (the API's and the exports' shape)."""
    return {
        "code": loinc_coding(),
        "value": point.score,
        "effective": point.at,
        "method": point.method or "sms",
        "moment": point.label,
    }


class OutcomeSerializer(serializers.Serializer):
    responder_check_in = serializers.BooleanField(allow_null=True, help_text="null: not answered")
    substantial_check_in = serializers.BooleanField(allow_null=True)
    responder_reassessment = serializers.BooleanField(allow_null=True)
    substantial_reassessment = serializers.BooleanField(allow_null=True)
    relief_days = serializers.IntegerField(allow_null=True, help_text="Whole days; null without any answer")
    relief_censored = serializers.BooleanField(
        allow_null=True, help_text="True: relief still on at the last answer (the days are a lower bound)"
    )


OUTCOME_API_FIELDS = (
    "responder_check_in",
    "substantial_check_in",
    "responder_reassessment",
    "substantial_reassessment",
    "relief_days",
    "relief_censored",
)


def outcome_data(outcome: Outcome) -> dict[str, Any]:
    return {name: getattr(outcome, name) for name in OUTCOME_API_FIELDS}


class TreatedSiteSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    laterality = serializers.CharField()
    procedures = serializers.IntegerField(help_text="How many signed procedures treated this site and side")


class PainProcedureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    performed_at = serializers.DateTimeField()
    sites = serializers.ListField(child=serializers.CharField(), help_text='e.g. "Upper trapezius (left)"')
    steroid = serializers.BooleanField(help_text="A steroid was injected at one site or more")
    outcome = OutcomeSerializer()
    observations = PainObservationSerializer(many=True)


class PatientPainSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    procedures = PainProcedureSerializer(many=True, help_text="Signed procedures, oldest first")
    sites = TreatedSiteSerializer(many=True, help_text="Sites injected over time, by count (the body map)")


class PatientPainView(generics.GenericAPIView):
    """Pain over time for one patient, as LOINC-coded observations per procedure."""

    queryset = Injection.objects.all()  # reading it needs tpi.view_injection: the clinical detail
    permission_classes = [ClinicModelPermissions]
    serializer_class = PatientPainSerializer

    @extend_schema(responses=PatientPainSerializer, operation_id="patients_pain_scores")
    def get(self, request: Request, id: int) -> Response:
        patient = get_object_or_404(Patient, pk=id)
        visible = set(
            procedures_visible(user=request.user, queryset=Procedure.objects.filter(patient=patient)).values_list(
                "pk", flat=True
            )
        )
        rows = [row for row in patient_outcomes(patient) if row.procedure.pk in visible]
        counts = patient_site_counts(patient, procedure_ids=[row.procedure.pk for row in rows])
        data = {
            "patient": patient.pk,
            "procedures": [
                {
                    "id": row.procedure.pk,
                    "performed_at": row.procedure.performed_at,
                    "sites": row.sites,
                    "steroid": row.steroid,
                    "outcome": outcome_data(row.outcome),
                    "observations": [observation(p) for p in row.points],
                }
                for row in rows
            ],
            "sites": [
                {"site": site_id, "laterality": side, "procedures": n} for (site_id, side), n in sorted(counts.items())
            ],
        }
        access_record(
            user=request_user(request), patient=patient, obj=patient, action=AccessLog.Action.VIEW, request=request
        )
        return Response(PatientPainSerializer(data).data)
