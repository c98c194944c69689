"""The admin site: django-otp's OTPAdminSite whose two-factor step follows settings.OTP_REQUIRED."""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from clinic.admin_index import admin_sections_for


class PickerAutocompleteView(AutocompleteJsonView):
    """Admin autocomplete whose results read as staff pick them (a patient shows date of birth and MRN)."""

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": getattr(obj, "picker_label", None) or str(obj)}


class ClinicAdminSite(OTPAdminSite):
    """Ask for a TOTP token at sign-in and refuse unverified sessions when OTP_REQUIRED is on."""

    index_template = "admin/clinic_index.html"  # the stock index plus the shortcuts apps register

    def autocomplete_view(self, request):
        return PickerAutocompleteView.as_view(admin_site=self)(request)

    def index(self, request, extra_context=None):
        context = {"clinic_sections": admin_sections_for(request.user), **(extra_context or {})}
        return super().index(request, extra_context=context)

    @property
    def site_header(self):
        return settings.CLINIC_NAME

    @property
    def site_title(self):
        return settings.CLINIC_NAME

    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if settings.OTP_REQUIRED else AdminAuthenticationForm

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.OTP_REQUIRED else None

    def has_permission(self, request) -> bool:
        if settings.OTP_REQUIRED:
            return OTPAdminSite.has_permission(self, request)
        return AdminSite.has_permission(self, request)
