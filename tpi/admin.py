"""Admin for the catalogue and procedures; every write goes through tpi/procedures.py and tpi/signing.py."""

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html_join

from clinic.admin import PatientAdmin
from clinic.admin_tools import (
    CheckedInitialMixin,
    PickerLabelMixin,
    ReadOnlyAdminMixin,
    admin_adopt,
    admin_page_context,
    form_changes,
    form_values,
)
from clinic.audit.mixins import AccessLoggedAdminMixin
from clinic.clock import staff_datetime
from clinic.exceptions import StateConflict
from tpi.access import (
    massage_note_may_change,
    procedure_may_change,
    procedure_may_view,
    procedure_shows_clinical_detail,
    procedures_visible,
)
from tpi.models import Addendum, FollowUp, Injection, MassageNote, Procedure, TriggerPointSite
from tpi.models.procedures import ProcedureQuerySet
from tpi.outcomes import procedure_pain_timeline
from tpi.procedures import (
    INJECTION_FIELDS,
    MASSAGE_FIELDS,
    PROCEDURE_FIELDS,
    injection_add,
    injection_update,
    massage_note_create,
    massage_note_update,
    procedure_create,
    procedure_update,
)
from tpi.sign_warnings import procedure_sign_warnings
from tpi.signing import addendum_add, procedure_sign, procedure_void

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin

    _InlineBase = InlineModelAdmin[Any, Any]  # what DraftOnlyInline is mixed into
else:
    _InlineBase = object


class NoDeleteMixin:
    """Clinical records are voided, never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TriggerPointSite)
class TriggerPointSiteAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "body_region", "snomed_code", "is_active"]
    list_filter = ["body_region", "is_active"]
    search_fields = ["name", "snomed_code"]


def _when(at) -> str:
    return staff_datetime(at, empty="not answered")


def _is_draft(obj) -> bool:
    return obj is None or obj.status == Procedure.Status.DRAFT


class DraftOnlyInline(NoDeleteMixin, _InlineBase):
    """Editable while the procedure is a draft, read-only afterwards."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_change_permission(request, obj)


class InjectionInline(DraftOnlyInline, admin.TabularInline):
    model = Injection
    autocomplete_fields = ["site"]
    fields = INJECTION_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site")


class MassageNoteInline(DraftOnlyInline, admin.StackedInline):
    model = MassageNote
    autocomplete_fields = ["therapist", "sites"]
    fields = ["therapist", "performed_at", "sites", "duration_minutes", "technique", "tolerance", "notes"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("therapist__user").prefetch_related("sites")


class AddendumInline(NoDeleteMixin, admin.TabularInline):
    """Existing addenda in order, read-only; a new one may be added once the procedure is signed."""

    model = Addendum
    extra = 0
    fields = ["created_at", "author", "text"]
    readonly_fields = ["created_at", "author"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    def has_add_permission(self, request, obj=None):
        return (
            obj is not None
            and obj.status == Procedure.Status.SIGNED
            and super().has_add_permission(request, obj)
            and procedure_may_change(user=request.user, procedure=obj)
        )

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Saved addenda are never edited: only the empty "add" rows carry a text box.
        original = formset.form.__init__

        def init(form, *args, **kw):
            original(form, *args, **kw)
            if form.instance.pk:
                form.fields["text"].disabled = True

        formset.form = type(formset.form.__name__, (formset.form,), {"__init__": init})
        return formset


class FollowUpInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FollowUp
    extra = 0
    fields = readonly_fields = ("kind", "due_at", "status", "status_reason", "answer_pain_score", "answered_at")


@admin.register(Procedure)
class ProcedureAdmin(CheckedInitialMixin, PickerLabelMixin, AccessLoggedAdminMixin, NoDeleteMixin, admin.ModelAdmin):
    """Object rules as in the API (tpi.access): the list holds what the user may read; a procedure is
    changed, signed and voided by its provider or a clinic admin; a massage therapist sees the basics
    and writes their own massage notes on drafts. Every change/view page is a recorded chart read."""

    list_display = ["performed_at", "patient", "provider", "status", "cpt_code", "signed_at"]
    list_filter = ["status", "guidance", "provider"]
    list_select_related = ["patient", "provider__user"]
    date_hierarchy = "performed_at"
    search_fields = ["patient__mrn", "patient__legal_last_name", "patient__legal_first_name"]
    autocomplete_fields = ["patient", "provider", "consent_obtained_by"]
    raw_id_fields = ["appointment"]
    inlines = [InjectionInline, MassageNoteInline, AddendumInline, FollowUpInline]
    actions = ["sign_selected", "void_selected"]
    basics_fieldsets = [(None, {"fields": ["patient", "provider", "appointment", "performed_at", "status"]})]
    fieldsets = [
        (None, {"fields": ["patient", "provider", "appointment", "performed_at"]}),
        ("Indication and pain", {"fields": ["indication", "indication_icd10", "pain_before", "pain_after"]}),
        (
            "Consent and technique",
            {"fields": ["consent_obtained", "consent_obtained_by", "consent_obtained_at", "guidance", "complications"]},
        ),
        (
            "Status",
            {
                "fields": [
                    "status",
                    "cpt_code",
                    "sign_warnings",
                    "signed_at",
                    "signed_by",
                    "voided_at",
                    "voided_by",
                    "void_reason",
                ]
            },
        ),
        ("Outcomes", {"fields": ["pain_timeline"]}),
    ]
    status_fields = [
        "status",
        "cpt_code",
        "sign_warnings",
        "signed_at",
        "signed_by",
        "voided_at",
        "voided_by",
        "void_reason",
    ]

    def get_queryset(self, request):
        # The stubs type the admin's queryset as a plain QuerySet; the model's manager makes it a ProcedureQuerySet.
        queryset = cast(ProcedureQuerySet, super().get_queryset(request))
        return procedures_visible(user=request.user, queryset=queryset.with_muscle_count())

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or procedure_may_view(user=request.user, procedure=obj))

    def has_change_permission(self, request, obj=None):
        if obj is not None and self._writes_massage_notes_only(request, obj):
            return True  # the page saves; the procedure's own fields stay read-only for them
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or procedure_may_change(user=request.user, procedure=obj))

    def _writes_massage_notes_only(self, request, obj) -> bool:
        return (
            obj.is_draft
            and request.user.has_perm("tpi.change_massagenote")
            and not procedure_may_change(user=request.user, procedure=obj)
        )

    def get_fieldsets(self, request, obj=None):
        if not procedure_shows_clinical_detail(user=request.user):
            return self.basics_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not procedure_may_change(user=request.user, procedure=obj):
            return [*sorted(PROCEDURE_FIELDS), *self.status_fields]
        if _is_draft(obj):
            return [*self.status_fields, "pain_timeline"]
        return [*sorted(PROCEDURE_FIELDS), *self.status_fields, "pain_timeline"]

    @admin.display(description="Pain over time (0-10)")
    def pain_timeline(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        rows = [
            (p.label.replace("_", " "), "-" if p.score is None else p.score, _when(p.at))
            for p in procedure_pain_timeline(obj)
        ]
        return format_html_join("", "<p>{}: {} <small>{}</small></p>", rows)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("tpi.change_procedure"):
            actions.pop("sign_selected", None)
            actions.pop("void_selected", None)
        return actions

    def get_changeform_initial_data(self, request):
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        provider = getattr(request.user, "provider", None)
        if provider is not None:
            initial.setdefault("provider", provider.pk)
        initial.setdefault("consent_obtained_by", request.user.pk)
        initial.setdefault("consent_obtained_at", timezone.now())
        initial.setdefault("performed_at", timezone.now())
        return initial

    @admin.display(description="CPT")
    def cpt_code(self, obj):
        return obj.cpt_code

    @admin.display(description="Warnings before signing")
    def sign_warnings(self, obj):
        if obj is None or obj.pk is None or not obj.is_draft:
            return "-"
        found = procedure_sign_warnings(procedure=obj)
        if not found:
            return "None"
        return format_html_join("", "<p>&#9888; {}</p>", ((w.message,) for w in found))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StateConflict as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.path)

    def save_model(self, request, obj, form, change):
        if not change:
            fields = form_values(form, PROCEDURE_FIELDS)
            if not procedure_may_change(user=request.user, procedure=Procedure(provider=fields.get("provider"))):
                raise PermissionDenied("Document your own procedures (a clinic admin may document for others).")
            admin_adopt(obj, procedure_create(by=request.user, **fields))
            return
        changed = form_changes(form, PROCEDURE_FIELDS)
        if changed and procedure_may_change(user=request.user, procedure=obj):
            procedure_update(procedure=obj, by=request.user, **changed)

    def save_formset(self, request, form, formset, change):
        procedure = formset.instance
        # The admin's change message reads these lists; the services do the writing.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed():
                continue
            data = inline_form.cleaned_data
            instance = inline_form.instance
            saved: Model | None = None
            if formset.model is Injection:
                if not procedure_may_change(user=request.user, procedure=procedure):
                    continue
                names = inline_form.changed_data if instance.pk else data
                fields = {n: data[n] for n in names if n in INJECTION_FIELDS}
                if instance.pk:
                    saved = injection_update(injection=instance, **fields)
                else:
                    saved = injection_add(procedure=procedure, **fields)
            elif formset.model is MassageNote:
                fields = {n: data[n] for n in data if n in MASSAGE_FIELDS}
                owners = [MassageNote(therapist=data.get("therapist"))] + ([instance] if instance.pk else [])
                if not all(massage_note_may_change(user=request.user, note=note) for note in owners):
                    self.message_user(
                        request, "Only the note's own therapist or a clinic admin may write it.", messages.ERROR
                    )
                    continue
                if instance.pk:
                    saved = massage_note_update(note=instance, sites=data["sites"], **fields)
                else:
                    saved = massage_note_create(procedure=procedure, sites=data["sites"], **fields)
            elif formset.model is Addendum and not instance.pk:
                saved = addendum_add(procedure=procedure, author=request.user, text=data["text"])
            if saved is None:
                continue
            if instance.pk:
                formset.changed_objects.append((saved, inline_form.changed_data))
            else:
                formset.new_objects.append(saved)

    def _sign(self, request, procedure) -> None:
        label = f"Procedure #{procedure.pk} ({procedure.patient})"
        warnings = procedure_sign_warnings(procedure=procedure) if procedure.is_draft else []
        try:
            procedure_sign(procedure=procedure, by=request.user)
        except (StateConflict, PermissionDenied) as exc:
            self.message_user(request, f"{label}: {exc}", messages.ERROR)
            return
        except ValidationError as exc:
            reasons = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
            self.message_user(request, f"{label}: not signed: {reasons}", messages.ERROR)
            return
        self.message_user(request, f"{label}: signed.", messages.SUCCESS)
        for warning in warnings:
            self.message_user(request, f"{label}: {warning.message}", messages.WARNING)

    @admin.action(description="Sign selected procedures")
    def sign_selected(self, request, queryset):
        for procedure in queryset:
            self._sign(request, procedure)

    def response_change(self, request, obj):
        if "_sign" in request.POST:
            self._sign(request, obj)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    @admin.action(description="Void selected procedures (asks for the reason)")
    def void_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if "confirm" not in request.POST or not reason:
            context = admin_page_context(self, request, title="Void procedures", procedures=queryset)
            return TemplateResponse(request, "admin/tpi/procedure/void.html", context)
        for procedure in queryset:
            label = f"Procedure #{procedure.pk} ({procedure.patient})"
            try:
                procedure_void(procedure=procedure, by=request.user, reason=reason)
            except (StateConflict, PermissionDenied) as exc:
                self.message_user(request, f"{label}: {exc}", messages.ERROR)
                continue
            self.message_user(request, f"{label}: voided.", messages.SUCCESS)
        return None


class PatientProcedureInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The patient's procedures on the patient page (read-only; documented on the procedure page)."""

    model = Procedure
    extra = 0
    show_change_link = True
    fields = readonly_fields = ("performed_at", "provider", "status", "cpt_code")
    verbose_name_plural = "procedures"

    def get_queryset(self, request):
        queryset = cast(ProcedureQuerySet, super().get_queryset(request))  # as in ProcedureAdmin.get_queryset
        return queryset.with_muscle_count().select_related("provider__user")

    @admin.display(description="CPT")
    def cpt_code(self, obj):
        return obj.cpt_code


# tpi depends on clinic, never the reverse: the patient page learns about procedures from here.
PatientAdmin.inlines = [*PatientAdmin.inlines, PatientProcedureInline]

# The follow-ups page and the treatment plans register themselves.
from tpi import admin_followups, admin_plans  # noqa: E402, F401
