from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from clinic.models import Patient, Provider


class PatientSerializer(serializers.ModelSerializer):
    mobile_phone = PhoneNumberField(required=False, allow_blank=True, help_text="E.164, e.g. +15555550123")

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "legal_first_name",
            "legal_last_name",
            "preferred_name",
            "display_name",
            "date_of_birth",
            "sex",
            "mobile_phone",
            "email",
            "preferred_channel",
            "sms_consent",
            "sms_consent_at",
            "sms_consent_method",
            "email_consent",
            "email_consent_at",
            "email_consent_method",
            "time_zone",
            "preferred_language",
            "allergies",
            "local_anaesthetic_allergy",
            "on_anticoagulants",
            "anticoagulant_details",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["mrn", "display_name", "created_at", "updated_at"]


class ProviderSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Provider
        fields = ["id", "name", "username", "role", "credentials", "npi", "is_active"]

    def get_name(self, provider: Provider) -> str:
        return provider.user.get_full_name() or provider.user.get_username()
