from django import forms
from django.contrib import admin
from django.urls import path
from django.utils import timezone

from clinic.admin_imports import import_view
from clinic.admin_tools import GrowingTableAdminMixin, admin_adopt, form_changes, form_values
from clinic.audit.mixins import AccessLoggedAdminMixin
from clinic.imports.patients import COLUMNS as PATIENT_COLUMNS
from clinic.imports.patients import patients_import, patients_rows
from clinic.models import HealthPing, Patient, Provider
from clinic.patient_search import patients_search
from clinic.patients import PATIENT_UPDATABLE_FIELDS, patient_create, patient_update


class PatientAdminForm(forms.ModelForm):
    """The patient form: ticking a consent box is the consent, given now (the service records by whom)."""

    class Meta:
        model = Patient
        fields = "__all__"  # noqa: DJ007 (the admin chooses and orders the fields)
        help_texts = {
            "sms_consent_at": "Left empty when ticking SMS consent: now.",
            "email_consent_at": "Left empty when ticking email consent: now.",
        }

    def clean(self):
        cleaned = super().clean() or {}
        # The model's constraint wants a time with every consent; fill it before the form checks it.
        for channel in ("sms", "email"):
            if cleaned.get(f"{channel}_consent") and not cleaned.get(f"{channel}_consent_at"):
                cleaned[f"{channel}_consent_at"] = timezone.now()
        return cleaned


@admin.register(Patient)
class PatientAdmin(GrowingTableAdminMixin, AccessLoggedAdminMixin, admin.ModelAdmin):
    """Every change/view page is a recorded chart read (clinic.audit)."""

    form = PatientAdminForm

    list_display = ["mrn", "legal_last_name", "legal_first_name", "date_of_birth", "mobile_phone", "status"]
    list_filter = ["status", "preferred_channel", "sex", "local_anaesthetic_allergy", "on_anticoagulants"]
    search_fields = ["mrn", "legal_last_name", "legal_first_name", "preferred_name", "mobile_phone", "email"]
    search_help_text = (
        "Name (any part), phone in any format, date of birth (MM/DD/YYYY, M/D/YY, YYYY-MM-DD), MRN or email"
    )
    readonly_fields = ["mrn", "created_at", "updated_at"]

    def get_urls(self):
        own = [path("import/", self.admin_site.admin_view(self.import_view), name="clinic_patient_import")]
        return own + super().get_urls()

    def import_view(self, request):
        """Onboarding: patients from the previous system (CSV or a FHIR Bundle), previewed, then all or none."""
        return import_view(
            self,
            request,
            title="Import patients",
            rows=lambda name, content: patients_rows(name=name, content=content),
            run=lambda **kwargs: patients_import(now=timezone.now(), **kwargs),
            formats="A CSV with the columns below, or a FHIR R4 Bundle of Patient resources (.json).",
            columns=PATIENT_COLUMNS,
            done_url="admin:clinic_patient_changelist",
        )

    def get_search_results(self, request, queryset, search_term):
        # Also serves every patient autocomplete (booking, series, procedures, plans, break-glass).
        return patients_search(queryset=queryset, term=search_term), False

    def has_delete_permission(self, request, obj=None):
        return False  # patients hold clinical records: set them inactive or deceased instead

    def save_model(self, request, obj, form, change):
        if not change:
            admin_adopt(obj, patient_create(by=request.user, **form_values(form, PATIENT_UPDATABLE_FIELDS)))
            return
        changed = form_changes(form, PATIENT_UPDATABLE_FIELDS)
        if changed:
            patient_update(patient=obj, by=request.user, **changed)


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
