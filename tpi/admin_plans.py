"""Admin for treatment plans and the front desk's queue of injections that could not be booked.

Every write goes through tpi/plans.py; registered by the one import at the end of tpi/admin.py.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminTimeWidget
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from clinic.admin_tools import (
    CheckedInitialMixin,
    GrowingTableAdminMixin,
    PickerLabelMixin,
    ReadOnlyAdminMixin,
    admin_adopt,
    form_changes,
    form_values,
)
from clinic.clock import STAFF_TIME, staff_datetime
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plans import (
    PLAN_FIELDS,
    UPDATABLE_FIELDS,
    default_appointment_type,
    occurrence_book,
    occurrence_skip,
    plan_book_next,
    plan_cancel,
    plan_create,
    plan_update,
    plan_validate,
)

OS = PlanOccurrence.Status


def _reasons(exc: ValidationError) -> str:
    return "; ".join(m for msgs in exc.message_dict.values() for m in msgs)


class NeedsReviewFilter(admin.SimpleListFilter):
    title = "needs review"
    parameter_name = "needs_review"

    def lookups(self, request, model_admin):
        return [("yes", "Needs review"), ("no", "No")]

    def queryset(self, request, queryset):
        field = "status" if queryset.model is PlanOccurrence else "occurrences__status"
        if self.value() == "yes":
            return queryset.filter(**{field: OS.NEEDS_REVIEW}).distinct()
        if self.value() == "no":
            return queryset.exclude(**{field: OS.NEEDS_REVIEW})
        return queryset


class PlanOccurrenceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PlanOccurrence
    extra = 0
    fields = readonly_fields = ("sequence", "target_date", "status", "appointment", "reason")

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("appointment__appointment_type", "appointment__room__location")
        )


class TreatmentPlanForm(forms.ModelForm):
    class Meta:
        model = TreatmentPlan
        fields = sorted(PLAN_FIELDS)
        widgets = {"preferred_time": AdminTimeWidget(format=STAFF_TIME)}  # "10:00", as staff write it


def _occurrence_count(status: str) -> Coalesce:
    """Count a plan's occurrences in STATUS with a subquery per page row, not a GROUP BY over every plan."""
    rows = (
        PlanOccurrence.objects.filter(plan=OuterRef("pk"), status=status)
        .order_by()
        .values("plan")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(GrowingTableAdminMixin, CheckedInitialMixin, PickerLabelMixin, admin.ModelAdmin):
    form = TreatmentPlanForm
    list_display = [
        "id",
        "patient",
        "provider",
        "appointment_type",
        "interval_weeks",
        "start_date",
        "preferred",
        "status",
        "open_count",
        "review_count",
    ]
    list_filter = ["status", NeedsReviewFilter]
    list_select_related = ["patient", "provider__user", "appointment_type"]
    search_fields = ["patient__mrn", "patient__legal_last_name", "patient__legal_first_name"]
    autocomplete_fields = ["patient", "provider"]
    inlines = [PlanOccurrenceInline]
    actions = ["book_now", "cancel_plans"]
    readonly_fields = ["status", "created_by", "created", "cancelled", "cancelled_by", "cancel_reason"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_open=_occurrence_count(OS.PLANNED), _review=_occurrence_count(OS.NEEDS_REVIEW))
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return sorted(PLAN_FIELDS)
        # A plan that no longer changes shows its time as staff write it ("10:00"), not Django's "10 a.m.".
        fields = [f if obj.is_active or f != "preferred_time" else "preferred" for f in sorted(PLAN_FIELDS)]
        return [*fields, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        locked = [] if obj.is_active else [*sorted(UPDATABLE_FIELDS - {"preferred_time"}), "preferred"]
        return [*sorted(PLAN_FIELDS - UPDATABLE_FIELDS), *locked, *self.readonly_fields]

    @admin.display(description="preferred time", ordering="preferred_time")
    def preferred(self, obj):
        """Return the wall time each injection is booked at, on the clock of its room's location."""
        return f"{obj.preferred_time:{STAFF_TIME}} (local time)"

    @admin.display(description="created at")
    def created(self, obj):
        return staff_datetime(obj.created_at)

    @admin.display(description="cancelled at")
    def cancelled(self, obj):
        return staff_datetime(obj.cancelled_at)

    def has_delete_permission(self, request, obj=None):
        return False  # plans are cancelled, never deleted

    @admin.display(description="to book")
    def open_count(self, obj):
        return obj._open

    @admin.display(description="needs review")
    def review_count(self, obj):
        return obj._review

    def save_model(self, request, obj, form, change):
        # The form's clean ran first; the service validates again and writes (errors become form errors).
        if not change:
            admin_adopt(obj, plan_create(by=request.user, **form_values(form, PLAN_FIELDS)))
            return
        changed = form_changes(form, UPDATABLE_FIELDS)
        if changed:
            plan_update(plan=obj, by=request.user, **changed)

    def save_related(self, request, form, formsets, change):
        # Occurrences are created and changed by the services only; the change message reads these lists.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        admin_self = self

        # A subclass of whatever form the admin built; mypy cannot take a variable as a base class.
        class ServiceValidatedForm(form_class):  # type: ignore[misc,valid-type]
            def validate_unique(self):
                # A new plan is checked by the service (its rules cover the model's constraints).
                if self.instance.pk:
                    super().validate_unique()
                else:
                    admin_self._dry_run(self)

        return ServiceValidatedForm

    def get_changeform_initial_data(self, request):
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        provider = getattr(request.user, "provider", None)
        if provider is not None:
            initial.setdefault("provider", provider.pk)
        default_type = default_appointment_type()
        if default_type is not None:
            initial.setdefault("appointment_type", default_type.pk)
        initial.setdefault("interval_weeks", settings.TPI_PLAN_DEFAULT_INTERVAL_WEEKS)
        return initial

    def _dry_run(self, form) -> None:
        """Validate a new plan with the service before saving, so its errors show on the form's fields."""
        fields = {name: form.cleaned_data.get(name) for name in PLAN_FIELDS}
        try:
            plan_validate(fields=fields)
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                if field not in form.errors:  # a field that failed its own parsing keeps that error
                    form.add_error(field if field in form.fields else None, msgs)

    @admin.action(description="Book the next injection now", permissions=["change"])
    def book_now(self, request, queryset):
        for plan in queryset:
            occurrence = plan_book_next(plan=plan, by=request.user)
            if occurrence is None:
                self.message_user(request, f"{plan}: nothing to book.", messages.WARNING)
            elif occurrence.status == OS.BOOKED:
                self.message_user(request, f"{plan}: booked {occurrence.appointment}.", messages.SUCCESS)
            else:
                self.message_user(request, f"{plan}: {occurrence.reason}", messages.ERROR)

    @admin.action(description="Cancel selected plans", permissions=["change"])
    def cancel_plans(self, request, queryset):
        for plan in queryset:
            try:
                plan_cancel(plan=plan, by=request.user, reason=f"cancelled in the admin by {request.user}")
            except ValidationError as exc:
                self.message_user(request, f"{plan}: {_reasons(exc)}", messages.ERROR)
                continue
            self.message_user(request, f"{plan}: cancelled.", messages.SUCCESS)


@admin.register(PlanOccurrence)
class PlanOccurrenceAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The front desk's review queue: planned injections the job could not place (filter "needs review")."""

    # Soonest first, from the (target_date, id) index; the model's order (plan, sequence) would sort the
    # whole table by the plan's creation time before the page could be cut.
    ordering = ["target_date", "id"]

    list_display = ["plan", "patient", "sequence", "target_date", "status", "reason", "appointment"]
    list_filter = [NeedsReviewFilter, "status"]
    list_select_related = ["plan__patient", "appointment__appointment_type", "appointment__room__location"]
    search_fields = ["plan__patient__mrn", "plan__patient__legal_last_name"]
    fields = readonly_fields = ("plan", "sequence", "target_date", "status", "reason", "appointment")
    actions = ["book_now", "skip"]

    @admin.display(description="patient")
    def patient(self, obj):
        return obj.plan.patient

    # The rows are read-only (ReadOnlyAdminMixin); the review actions below change them through the services.
    def has_review_permission(self, request) -> bool:
        """Return True when the user works the review queue (book again, skip)."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Try booking again now", permissions=["review"])
    def book_now(self, request, queryset):
        for occurrence in queryset:
            try:
                occurrence = occurrence_book(occurrence=occurrence, by=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{occurrence}: {_reasons(exc)}", messages.ERROR)
                continue
            if occurrence.status == OS.BOOKED:
                self.message_user(request, f"{occurrence}: booked {occurrence.appointment}.", messages.SUCCESS)
            else:
                self.message_user(request, f"{occurrence}: {occurrence.reason}", messages.ERROR)

    @admin.action(description="Skip (take off the plan; the front desk handles it)", permissions=["review"])
    def skip(self, request, queryset):
        for occurrence in queryset:
            try:
                occurrence_skip(occurrence=occurrence, by=request.user, reason="handled by the front desk")
            except ValidationError as exc:
                self.message_user(request, f"{occurrence}: {_reasons(exc)}", messages.ERROR)
                continue
            self.message_user(request, f"{occurrence}: skipped.", messages.SUCCESS)
