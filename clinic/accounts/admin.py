from django.contrib import admin

from clinic.accounts.breakglass import break_glass_open
from clinic.accounts.models import BreakGlassGrant
from clinic.admin_tools import CheckedInitialMixin, PickerLabelMixin, ReadOnlyAdminMixin, admin_adopt
from clinic.roles import is_clinic_admin


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(CheckedInitialMixin, PickerLabelMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Clinic admins open a grant (patient + reason); grants are never edited or deleted."""

    list_display = ["id", "user", "patient_id", "opened_at", "expires_at"]
    list_filter = ["opened_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "patient__mrn"]
    fields = ["patient", "reason", "user", "opened_at", "expires_at"]
    autocomplete_fields = ["patient"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["user", "opened_at", "expires_at"]
        return self.fields

    def has_module_permission(self, request) -> bool:
        return is_clinic_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_clinic_admin(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return is_clinic_admin(request.user)

    def save_model(self, request, obj, form, change):
        admin_adopt(obj, break_glass_open(user=request.user, patient=obj.patient, reason=obj.reason))
