from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tpi.models import Addendum, FollowUp, Injection, MassageNote, Procedure, TriggerPointSite
from tpi.outcomes import procedure_pain_timeline
from tpi.procedures import INJECTION_FIELDS, PROCEDURE_FIELDS


class TriggerPointSiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = TriggerPointSite
        fields = ["id", "name", "body_region", "snomed_code", "is_active"]


class InjectionSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False, help_text="Give it to correct an existing injection of a draft")
    site_name = serializers.CharField(source="site.name", read_only=True)

    class Meta:
        model = Injection
        fields = ["id", "site_name", *INJECTION_FIELDS]


class FollowUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUp
        fields = ["id", "kind", "due_at", "status", "status_reason", "sent_at", "answer_pain_score", "answered_at"]
        read_only_fields = fields


class PainPointSerializer(serializers.Serializer):
    # A declared field named like Field.label: DRF's metaclass takes it out of the class, the stubs cannot know.
    label = serializers.CharField(help_text="before, after, check_in or reassessment")  # type: ignore[assignment]
    score = serializers.IntegerField(allow_null=True, help_text="0-10; null when not (yet) answered")
    at = serializers.DateTimeField(allow_null=True)


class CptCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()


class AddendumSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username", read_only=True)

    class Meta:
        model = Addendum
        fields = ["id", "author", "created_at", "text"]
        read_only_fields = ["id", "author", "created_at"]


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField()


class SignWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class MassageNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = MassageNote
        fields = [
            "id",
            "procedure",
            "therapist",
            "performed_at",
            "sites",
            "duration_minutes",
            "technique",
            "tolerance",
            "notes",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class ProcedureSerializer(serializers.ModelSerializer):
    injections = InjectionSerializer(many=True, required=False)
    cpt_code = serializers.CharField(
        read_only=True,
        help_text="The CPT codes on one line: 20552/20553 for 1-2/3+ distinct muscles injected, "
        "20560/20561 for 1-2/3+ muscles dry-needled without injection; both when both happened",
    )
    cpt_codes = serializers.SerializerMethodField(help_text="Each CPT code with its description")
    signed_by = serializers.CharField(source="signed_by.get_username", read_only=True, default=None)
    voided_by = serializers.CharField(source="voided_by.get_username", read_only=True, default=None)
    follow_ups = FollowUpSerializer(many=True, read_only=True)
    addenda = AddendumSerializer(many=True, read_only=True)
    massage_notes = MassageNoteSerializer(many=True, read_only=True)
    pain_timeline = serializers.SerializerMethodField(help_text="Pain scores over time, for charting outcomes")

    class Meta:
        model = Procedure
        fields = [
            "id",
            *PROCEDURE_FIELDS,
            "injections",
            "cpt_code",
            "cpt_codes",
            "status",
            "signed_at",
            "signed_by",
            "voided_at",
            "voided_by",
            "void_reason",
            "massage_notes",
            "follow_ups",
            "addenda",
            "pain_timeline",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "signed_at", "voided_at", "void_reason", "created_at", "updated_at"]

    @extend_schema_field(CptCodeSerializer(many=True))
    def get_cpt_codes(self, obj):
        return CptCodeSerializer([{"code": c, "description": d} for c, d in obj.cpt_descriptions], many=True).data

    @extend_schema_field(PainPointSerializer(many=True))
    def get_pain_timeline(self, obj):
        return PainPointSerializer(procedure_pain_timeline(obj), many=True).data


class ProcedureBasicsSerializer(serializers.ModelSerializer):
    """What a massage therapist reads: who, when, the status and the muscles injected; no clinical detail."""

    sites = serializers.SerializerMethodField(help_text="Ids of the trigger point sites injected")

    class Meta:
        model = Procedure
        fields = ["id", "patient", "provider", "appointment", "performed_at", "status", "sites"]
        read_only_fields = fields

    def get_sites(self, procedure: Procedure) -> list[int]:
        return sorted({injection.site_id for injection in procedure.injections.all()})
