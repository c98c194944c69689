import datetime as dt

from django import forms
from django.contrib import admin
from django.utils import timezone

from clinic.admin_tools import admin_adopt, form_changes, form_values
from clinic.audit.mixins import AccessLoggedAdminMixin
from clinic.models import HealthPing, Patient, Provider
from clinic.patients import PATIENT_UPDATABLE_FIELDS, patient_create, patient_update

DOB_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"]


def _parse_date(text: str) -> dt.date | None:
    for fmt in DOB_INPUT_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()  # noqa: DTZ007 (a date, no time zone)
        except ValueError:
            continue
    return None


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
class PatientAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    """Every change/view page is a recorded chart read (clinic.audit)."""

    form = PatientAdminForm

    list_display = ["mrn", "legal_last_name", "legal_first_name", "date_of_birth", "mobile_phone", "status"]
    list_filter = ["status", "preferred_channel", "sex", "local_anaesthetic_allergy", "on_anticoagulants"]
    search_fields = ["mrn", "legal_last_name", "legal_first_name", "preferred_name", "mobile_phone", "email"]
    search_help_text = "MRN, name, phone, email, or date of birth (YYYY-MM-DD or MM/DD/YYYY)"
    readonly_fields = ["mrn", "created_at", "updated_at"]

    def get_search_results(self, request, queryset, search_term):
        date_of_birth = _parse_date(search_term) if search_term else None
        if date_of_birth is not None:
            return queryset.filter(date_of_birth=date_of_birth), False
        return super().get_search_results(request, queryset, search_term)

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
