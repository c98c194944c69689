from django.contrib import admin

from clinic.models import HealthPing, Patient, Provider


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["mrn", "legal_last_name", "legal_first_name", "date_of_birth", "mobile_phone", "status"]
    list_filter = ["status", "preferred_channel", "sex"]
    search_fields = ["mrn", "legal_last_name", "legal_first_name", "preferred_name", "mobile_phone", "email"]
    readonly_fields = ["mrn", "created_at", "updated_at"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "npi", "is_active"]
    list_filter = ["role", "is_active"]
    list_select_related = ["user"]
    search_fields = ["user__first_name", "user__last_name", "npi"]
    autocomplete_fields = ["user"]


@admin.register(HealthPing)
class HealthPingAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "answered_at", "answered_by"]
