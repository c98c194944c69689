from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.api.fields import UserField
from tpi.api.outcomes import CodingSerializer, OutcomeSerializer, outcome_data
from tpi.massage import massage_note_deadline
from tpi.models import (
    Addendum,
    FollowUp,
    Injection,
    Laterality,
    MassageNote,
    MassageNoteAddendum,
    Procedure,
    SignAcknowledgement,
    TriggerPointSite,
)
from tpi.outcomes import loinc_coding, outcome_of, procedure_pain_timeline
from tpi.procedures import INJECTION_FIELDS, PROCEDURE_FIELDS


class TriggerPointSiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = TriggerPointSite
        fields = ["id", "name", "body_region", "snomed_code", "is_active"]


class InjectionSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False, help_text="Give it to correct an existing injection of a draft")
    site_name = serializers.CharField(source="site.name", read_only=True)
    anaesthetic_volume_total_ml = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="The volume injected at the site: anaesthetic_volume_ml is per side, so twice it when bilateral",
    )

    class Meta:
        model = Injection
        fields = ["id", "site_name", *INJECTION_FIELDS, "anaesthetic_volume_total_ml"]
        extra_kwargs = {"anaesthetic_volume_ml": {"help_text": "Per side (a bilateral site gets this on each side)"}}


class InjectionDefaultsSerializer(serializers.Serializer):
    """One defaults row for every site of the draft: fills empty fields only (tpi.fast_entry)."""

    anaesthetic_agent = serializers.ChoiceField(choices=Injection.Anaesthetic.choices, required=False)
    anaesthetic_concentration_percent = serializers.DecimalField(
        max_digits=4, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    lot_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    anaesthetic_volume_ml = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), required=False, help_text="Per side"
    )
    needle_gauge = serializers.IntegerField(min_value=18, max_value=34, required=False)


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
    method = serializers.CharField(help_text="How it was taken: in_clinic, sms or email ('' when not answered)")
    code = serializers.SerializerMethodField(help_text="LOINC 72514-3: pain severity, 0-10 numeric rating")

    @extend_schema_field(CodingSerializer)
    def get_code(self, point) -> dict[str, str]:
        return loinc_coding()


class CptCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()


class AddendumSerializer(serializers.ModelSerializer):
    author = UserField(read_only=True)

    class Meta:
        model = Addendum
        fields = ["id", "author", "created_at", "text"]
        read_only_fields = ["id", "author", "created_at"]


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField()


class SignWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The kind of warning")
    key = serializers.CharField(help_text="What acknowledges it: list it in the sign request's acknowledged_warnings")
    message = serializers.CharField()


class SignSerializer(serializers.Serializer):
    acknowledged_warnings = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        default=list,
        help_text="The key of every pre-sign warning read (GET .../warnings/); one missing refuses the sign (400)",
    )


class SignAcknowledgementSerializer(serializers.ModelSerializer):
    acknowledged_by = UserField(read_only=True)

    class Meta:
        model = SignAcknowledgement
        fields = ["key", "message", "acknowledged_by", "acknowledged_at"]
        read_only_fields = fields


class MassagedSiteSerializer(serializers.Serializer):
    """A massaged site and its side; a bare site id takes the side it was injected on."""

    site = serializers.PrimaryKeyRelatedField(queryset=TriggerPointSite.objects.all())
    site_name = serializers.CharField(source="site.name", read_only=True)
    laterality = serializers.ChoiceField(choices=Laterality.choices)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            field: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
                queryset=TriggerPointSite.objects.all()
            )
            return field.to_internal_value(data)  # a bare site: the service takes the injected side
        return super().to_internal_value(data)


class MassageNoteAddendumSerializer(serializers.ModelSerializer):
    author = UserField(read_only=True)

    class Meta:
        model = MassageNoteAddendum
        fields = ["id", "author", "created_at", "text"]
        read_only_fields = ["id", "author", "created_at"]


class MassageNoteSerializer(serializers.ModelSerializer):
    sites = MassagedSiteSerializer(
        many=True,
        source="massaged_sites",
        help_text='Each massaged site with its side: {"site": id, "laterality": "left"}; a bare id takes '
        "the side it was injected on",
    )
    therapist_name = serializers.CharField(source="therapist.__str__", read_only=True)
    signed_by = UserField(read_only=True, allow_null=True)
    addenda = MassageNoteAddendumSerializer(many=True, read_only=True)

    class Meta:
        model = MassageNote
        fields = [
            "id",
            "procedure",
            "therapist",
            "therapist_name",
            "performed_at",
            "sites",
            "duration_minutes",
            "technique",
            "tolerance",
            "notes",
            "status",
            "signed_at",
            "signed_by",
            "addenda",
            "created_at",
        ]
        read_only_fields = ["status", "signed_at", "created_at"]


class MassageNoteOnProcedureSerializer(MassageNoteSerializer):
    """A massage note as the procedure lists it (its addenda are on the note's own endpoint)."""

    class Meta(MassageNoteSerializer.Meta):
        fields = [f for f in MassageNoteSerializer.Meta.fields if f != "addenda"]


class InjectedSiteSerializer(serializers.Serializer):
    site = serializers.IntegerField(source="site_id")
    site_name = serializers.CharField(source="site.name")
    laterality = serializers.CharField()


class ProcedureSerializer(serializers.ModelSerializer):
    injections = InjectionSerializer(many=True, required=False)
    cpt_code = serializers.CharField(
        read_only=True,
        help_text="The CPT codes on one line: 20552/20553 for 1-2/3+ distinct muscles injected, "
        "20560/20561 for 1-2/3+ muscles dry-needled without injection; both when both happened",
    )
    cpt_codes = serializers.SerializerMethodField(help_text="Each CPT code with its description")
    consent_obtained_by = UserField(
        required=False, allow_null=True, help_text="Who took consent (a user id; defaults to you when consent is given)"
    )
    signed_by = UserField(read_only=True, allow_null=True)
    voided_by = UserField(read_only=True, allow_null=True)

    follow_ups = FollowUpSerializer(many=True, read_only=True)
    addenda = AddendumSerializer(many=True, read_only=True)
    massage_notes = MassageNoteOnProcedureSerializer(many=True, read_only=True)
    pain_timeline = serializers.SerializerMethodField(help_text="Pain scores over time, for charting outcomes")
    outcome = serializers.SerializerMethodField(
        help_text="Responder status at 72 hours and one month and relief duration (tpi.outcomes definitions)"
    )

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
            "outcome",
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

    @extend_schema_field(OutcomeSerializer)
    def get_outcome(self, obj):
        return outcome_data(outcome_of(obj))


class ProcedureDetailSerializer(ProcedureSerializer):
    """One procedure: the list's fields plus the warnings acknowledged at signing."""

    acknowledgements = SignAcknowledgementSerializer(
        many=True, read_only=True, help_text="The pre-sign warnings the signer acknowledged, stored with the signature"
    )

    class Meta(ProcedureSerializer.Meta):
        fields = [*ProcedureSerializer.Meta.fields, "acknowledgements"]


class ProcedureBasicsSerializer(serializers.ModelSerializer):
    """What a massage therapist reads: what the massage needs and nothing more.

    The sites and sides injected, when (the clinic's time), the patient's anticoagulant flag (bruising)
    and the massage notes; never drugs, doses, concentrations, lots, pain scores or the indication.
    """

    sites = serializers.SerializerMethodField(help_text="Ids of the trigger point sites injected")
    injected_sites = serializers.SerializerMethodField(help_text="Each site injected, with its side")
    patient_on_anticoagulants = serializers.BooleanField(
        source="patient.on_anticoagulants", read_only=True, help_text="Bruises easily: massage gently"
    )
    massage_notes = MassageNoteOnProcedureSerializer(many=True, read_only=True)
    massage_note_deadline = serializers.SerializerMethodField(
        help_text="Until when a massage note may be added (null: no limit while the procedure is a draft)"
    )

    class Meta:
        model = Procedure
        fields = [
            "id",
            "patient",
            "provider",
            "appointment",
            "performed_at",
            "status",
            "sites",
            "injected_sites",
            "patient_on_anticoagulants",
            "massage_notes",
            "massage_note_deadline",
        ]
        read_only_fields = fields

    def get_sites(self, procedure: Procedure) -> list[int]:
        return sorted({injection.site_id for injection in procedure.injections.all()})

    @extend_schema_field(InjectedSiteSerializer(many=True))
    def get_injected_sites(self, procedure: Procedure):
        return InjectedSiteSerializer(procedure.injections.all(), many=True).data

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_massage_note_deadline(self, procedure: Procedure):
        deadline = massage_note_deadline(procedure=procedure)
        return serializers.DateTimeField().to_representation(deadline) if deadline else None
