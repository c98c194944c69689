"""Admin for the catalogue and procedures; every write goes through tpi/procedures.py and tpi/signing.py."""

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.forms import ModelChoiceField, Select
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from clinic.admin import PatientAdmin
from clinic.admin_tools import (
    CheckedInitialMixin,
    GrowingTableAdminMixin,
    PickerLabelMixin,
    ReadOnlyAdminMixin,
    admin_adopt,
    admin_page_context,
    form_changes,
    form_values,
)
from clinic.audit.mixins import AccessLoggedAdminMixin
from clinic.clock import local_date, staff_datetime
from clinic.exceptions import StateConflict
from clinic.models.providers import staff_name
from scheduling.models import Appointment
from tpi.access import (
    clinical_rows_visible,
    procedure_may_change,
    procedure_may_view,
    procedure_shows_clinical_detail,
    procedures_visible,
)
from tpi.admin_massage import anticoagulant_html, injected_sites_html
from tpi.body_map import body_map_marks, body_map_svg
from tpi.body_map_regions import NO_PLACE
from tpi.fast_entry import DEFAULT_FIELDS, injection_defaults_fill, procedure_copy_forward, procedure_copy_source
from tpi.massage import massage_note_deadline, massage_note_may_be_added
from tpi.models import (
    Addendum,
    FollowUp,
    Injection,
    Laterality,
    MassageNote,
    Procedure,
    StockLot,
    TriggerPointSite,
)
from tpi.models.procedures import ProcedureQuerySet
from tpi.procedures import (
    INJECTION_FIELDS,
    PROCEDURE_FIELDS,
    injection_add,
    injection_update,
    procedure_create,
    procedure_update,
)
from tpi.sign_warnings import procedure_sign_warnings
from tpi.signing import addendum_add, procedure_sign, procedure_void
from tpi.visit_links import appointment_label, appointments_to_pick

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


def _picked(request, obj, name: str) -> str | int | None:
    """Return the id the page is about: the saved procedure's, else the one posted or in the address."""
    if obj is not None:
        return getattr(obj, f"{name}_id")
    value = request.POST.get(name) or request.GET.get(name)
    return value if value and str(value).isdigit() else None


def _around(request, obj):
    """Return the instant the appointment picker centres on: the procedure's time, the prefilled visit, or now."""
    if obj is not None:
        return obj.performed_at
    appointment_id = _picked(request, None, "appointment")
    visit = Appointment.objects.filter(pk=appointment_id).only("start").first() if appointment_id else None
    return visit.start if visit is not None else timezone.now()


class VisitChoiceField(ModelChoiceField):
    """The procedure's appointment picker: each visit by its location's time, type, provider and status."""

    def label_from_instance(self, obj):
        return appointment_label(obj)


def _is_draft(obj) -> bool:
    return obj is None or obj.status == Procedure.Status.DRAFT


class ObjectRulesInlineMixin(_InlineBase):
    """Show only the rows the user may read (tpi.access), the same rules as the API."""

    def get_queryset(self, request):
        return clinical_rows_visible(user=request.user, queryset=super().get_queryset(request))


class DraftOnlyInline(NoDeleteMixin, ObjectRulesInlineMixin):
    """Editable while the procedure is a draft, read-only afterwards."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_change_permission(request, obj)


class InjectionInline(DraftOnlyInline, admin.TabularInline):
    """The sites of a procedure, one row each: what every site needs in columns, the rest folded per row."""

    model = Injection
    template = "admin/tpi/procedure/injection_inline.html"
    # Columns; then the per-row details (folded under "Details", filled by the defaults row or a stock pick).
    main_fields = ("site", "laterality", "anaesthetic_volume_ml", "steroid_agent", "steroid_dose_mg", "total_volume")
    detail_fields = (
        "dry_needling",
        "anaesthetic_agent",
        "anaesthetic_concentration_percent",
        "lot_number",
        "needle_gauge",
    )
    fields = (*main_fields, *detail_fields)
    readonly_fields = ("total_volume",)
    stock_picks: list[StockLot] = []  # set per request by get_formset (inline instances are made per request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site")

    def get_formset(self, request, obj=None, **kwargs):
        day = local_date(obj.performed_at if obj is not None else timezone.now())
        self.stock_picks = list(StockLot.objects.current(on=day))
        formset = super().get_formset(request, obj, **kwargs)
        volume = formset.form.base_fields.get("anaesthetic_volume_ml")
        if volume is not None:
            volume.label = "volume (mL, per side)"
        site = formset.form.base_fields.get("site")
        if site is not None:  # a plain select: no add/change/view icons under each row's site
            for name in ("can_add_related", "can_change_related", "can_view_related", "can_delete_related"):
                setattr(site.widget, name, False)
        lot = formset.form.base_fields.get("lot_number")
        if lot is not None:
            lot.widget.attrs["list"] = "stock-lot-numbers"  # the page's datalist of current lots
        return formset

    @admin.display(description="total volume")
    def total_volume(self, obj):
        total = obj.anaesthetic_volume_total_ml if obj and obj.pk else None
        if total is None:
            return "-"
        if obj.laterality == Laterality.BILATERAL:
            return f"{total} mL ({obj.anaesthetic_volume_ml} per side x 2)"
        return f"{total} mL"


def _with_defaults(data, prefix: str, defaults: dict[str, str]):
    """Return the posted injection rows with the defaults row filled into their empty cells (tpi.fast_entry)."""
    data = data.copy()
    for index in range(int(data.get(f"{prefix}-TOTAL_FORMS") or 0)):
        row = f"{prefix}-{index}"
        if not data.get(f"{row}-site"):
            continue  # an untouched extra row stays empty
        values: dict[str, Any] = {name: data.get(f"{row}-{name}", "") for name in DEFAULT_FIELDS}
        values["dry_needling"] = data.get(f"{row}-dry_needling") in ("on", "true", "True", "1")
        for name, value in injection_defaults_fill(row=values, defaults=defaults).items():
            data[f"{row}-{name}"] = value
    return data


class MassageNoteInline(ReadOnlyAdminMixin, ObjectRulesInlineMixin, admin.TabularInline):
    """The procedure's massage notes in order, read-only here: each is written on its own page."""

    model = MassageNote
    extra = 0
    show_change_link = True
    fields = readonly_fields = ("performed_at", "therapist", "sites_massaged", "duration_minutes", "status", "signed")
    verbose_name_plural = "massage notes"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("therapist__user", "signed_by__provider")
            .prefetch_related("massaged_sites__site")
        )

    @admin.display(description="sites massaged")
    def sites_massaged(self, obj):
        return ", ".join(f"{row.site.name} ({row.get_laterality_display()})" for row in obj.massaged_sites.all())

    @admin.display(description="signed")
    def signed(self, obj):
        return f"{staff_name(obj.signed_by)}, {_when(obj.signed_at)}" if obj.is_signed else "Not signed"


class AddendumInline(NoDeleteMixin, ObjectRulesInlineMixin, admin.TabularInline):
    """Existing addenda in order, read-only; a new one may be added once the procedure is signed."""

    model = Addendum
    extra = 0
    fields = ["created_at", "author_name", "text"]
    readonly_fields = ["created_at", "author_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author__provider")

    @admin.display(description="author")
    def author_name(self, obj):
        return staff_name(obj.author) if obj.pk else "-"

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


class FollowUpInline(ReadOnlyAdminMixin, ObjectRulesInlineMixin, admin.TabularInline):
    model = FollowUp
    extra = 0
    fields = readonly_fields = ("kind", "due_at", "status", "status_reason", "answer_pain_score", "answered_at")


def _visible_sites() -> dict[str, int]:
    """Return {site name: id} of the active catalogue sites (the body map's buttons)."""
    return dict(TriggerPointSite.objects.filter(is_active=True).values_list("name", "pk"))


@admin.register(Procedure)
class ProcedureAdmin(
    GrowingTableAdminMixin,
    CheckedInitialMixin,
    PickerLabelMixin,
    AccessLoggedAdminMixin,
    NoDeleteMixin,
    admin.ModelAdmin,
):
    """Object rules as in the API (tpi.access): the list holds what the user may read; a procedure is
    changed, signed and voided by its provider or a clinic admin; a massage therapist sees the basics
    and writes their own massage notes on drafts. Every change/view page is a recorded chart read."""

    list_display = ["performed_at", "patient", "provider", "status", "cpt_code", "signed_at"]
    # A date filter, not date_hierarchy: its year links are a DISTINCT over every procedure (0.3 s at 1M).
    list_filter = [("performed_at", admin.DateFieldListFilter), "status", "guidance", "provider"]
    list_select_related = ["patient", "provider__user"]
    search_fields = ["patient__mrn", "patient__legal_last_name", "patient__legal_first_name"]
    autocomplete_fields = ["patient", "provider", "consent_obtained_by"]
    inlines = [InjectionInline, MassageNoteInline, AddendumInline, FollowUpInline]
    actions = ["sign_selected", "void_selected"]

    class Media:
        css = {"all": ["tpi/procedure.css"]}
        js = ["tpi/procedure_draft.js"]

    # What a massage therapist reads: what the massage needs, no drug, dose, lot or pain score.
    basics_fieldsets = [
        (None, {"fields": ["patient", "provider", "appointment", "time_of_injection", "status"]}),
        ("For the massage", {"fields": ["injected_sites", "body_map", "anticoagulants", "note_window"]}),
    ]
    basics_readonly = ["patient", "provider", "appointment", "time_of_injection", "status", "injected_sites",
                       "body_map", "anticoagulants", "note_window"]  # fmt: skip
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
                    "cpt_billing",
                    "sign_warnings",
                    "signed_at",
                    "signed_by_name",
                    "voided_at",
                    "voided_by_name",
                    "void_reason",
                ]
            },
        ),
        ("Outcomes", {"fields": ["pain_timeline"]}),
    ]
    status_fields = [
        "body_map",
        "status",
        "cpt_billing",
        "sign_warnings",
        "signed_at",
        "signed_by_name",
        "voided_at",
        "voided_by_name",
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
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or procedure_may_change(user=request.user, procedure=obj))

    def get_readonly_fields(self, request, obj=None):
        if not procedure_shows_clinical_detail(user=request.user):
            return self.basics_readonly
        if obj is not None and not procedure_may_change(user=request.user, procedure=obj):
            return [*sorted(PROCEDURE_FIELDS), *self.status_fields, "consent_by_name"]
        if _is_draft(obj):
            return [*self.status_fields, "pain_timeline"]
        return [*sorted(PROCEDURE_FIELDS), *self.status_fields, "pain_timeline", "consent_by_name"]

    @admin.display(description="time of injection (clinic time)")
    def time_of_injection(self, obj):
        return _when(obj.performed_at) if obj else "-"

    @admin.display(description="sites and sides injected")
    def injected_sites(self, obj):
        return injected_sites_html(obj)

    @admin.display(description="body map")
    def body_map(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return body_map_svg(marks=body_map_marks(obj.injections.all()))

    @admin.display(description="anticoagulants (bruising)")
    def anticoagulants(self, obj):
        return anticoagulant_html(obj)

    @admin.display(description="massage notes may be added until")
    def note_window(self, obj):
        if obj is None:
            return "-"
        deadline = massage_note_deadline(procedure=obj)
        return _when(deadline) if deadline else "no limit while the procedure is a draft"

    @admin.display(description="Pain over time (0-10)")
    def pain_timeline(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        from tpi.admin_outcomes import procedure_outcome_html

        return procedure_outcome_html(obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("tpi.change_procedure"):
            actions.pop("sign_selected", None)
            actions.pop("void_selected", None)
        return actions

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "appointment" in form.base_fields:
            # Only this patient's visits around the procedure's day, not every appointment of the clinic.
            patient_id = _picked(request, obj, "patient")
            form.base_fields["appointment"] = VisitChoiceField(
                queryset=appointments_to_pick(patient_id=patient_id, around=_around(request, obj)),
                required=False,
                widget=Select(attrs={"style": "max-width: 100%"}),  # long labels stay on a 390 px screen
                help_text="The patient's visits from the day before to the day after the procedure.",
            )
        return form

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, InjectionInline) and "data" in kwargs:
            defaults = {name: request.POST.get(f"defaults-{name}", "").strip() for name in DEFAULT_FIELDS}
            if any(defaults.values()):
                kwargs["data"] = _with_defaults(kwargs["data"], prefix, defaults)
        return kwargs

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

    @admin.display(description="CPT (billing)")
    def cpt_billing(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        rows = obj.cpt_descriptions
        if not rows:
            return "-"
        return format_html_join("", "<p><strong>{}</strong> {}</p>", rows)

    @admin.display(description="Warnings before signing")
    def sign_warnings(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        if not obj.is_draft:
            # The signed note shows what the signer acknowledged, not the warnings again.
            rows = [
                (a.message, staff_name(a.acknowledged_by), _when(a.acknowledged_at))
                for a in obj.acknowledgements.select_related("acknowledged_by__provider")
            ]
            if not rows:
                return "None"
            return format_html_join("", "<p>&#10003; {} <small>(acknowledged by {}, {})</small></p>", rows)
        found = procedure_sign_warnings(procedure=obj)
        if not found:
            return "None"
        return format_html_join("", "<p>&#9888; {}</p>", ((w.message,) for w in found))

    @admin.display(description="signed by")
    def signed_by_name(self, obj):
        return staff_name(obj.signed_by) if obj and obj.signed_by_id else "-"

    @admin.display(description="voided by")
    def voided_by_name(self, obj):
        return staff_name(obj.voided_by) if obj and obj.voided_by_id else "-"

    @admin.display(description="consent obtained by")
    def consent_by_name(self, obj):
        return staff_name(obj.consent_obtained_by) if obj and obj.consent_obtained_by_id else "-"

    def get_fieldsets(self, request, obj=None):
        if not procedure_shows_clinical_detail(user=request.user):
            return self.basics_fieldsets
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # nothing to show yet of the status, signature or outcomes of a new note
            return [(name, opts) for name, opts in fieldsets if name not in ("Status", "Outcomes")]
        if obj.is_draft:
            return fieldsets
        # A signed note names people by full name and credentials, never by login.
        swap = {"consent_obtained_by": "consent_by_name"}
        named = [(name, {**opts, "fields": [swap.get(str(f), f) for f in opts["fields"]]}) for name, opts in fieldsets]
        return [*named[:3], ("Sites injected", {"fields": ["body_map"]}), *named[3:]]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if (
            obj is not None
            and request.user.has_perm("tpi.add_massagenote")
            and massage_note_may_be_added(procedure=obj, now=timezone.now())
        ):
            context["massage_note_add_url"] = f"{reverse('admin:tpi_massagenote_add')}?procedure={obj.pk}"
        if obj is not None and obj.is_draft and procedure_may_change(user=request.user, procedure=obj):
            context["copy_forward_source"] = procedure_copy_source(procedure=obj)
        writable_draft = obj is None or (obj.is_draft and procedure_may_change(user=request.user, procedure=obj))
        if writable_draft and procedure_shows_clinical_detail(user=request.user):
            day = local_date(obj.performed_at if obj is not None else timezone.now())
            context["injection_defaults"] = {
                "agents": Injection.Anaesthetic.choices,
                "values": {name: request.POST.get(f"defaults-{name}", "") for name in DEFAULT_FIELDS},
                "stock": list(StockLot.objects.current(on=day)),
            }
            context["body_map_draft"] = body_map_svg(clickable=_visible_sites())
            context["body_map_no_place"] = ", ".join(name.lower() for name in NO_PLACE)
        if obj is not None and not obj.is_draft:
            # A signed note offers no edit controls; only an addendum may be added (by whoever may).
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
            context["may_add_addendum"] = obj.is_signed and procedure_may_change(user=request.user, procedure=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

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
            elif formset.model is Addendum and not instance.pk:
                saved = addendum_add(procedure=procedure, author=request.user, text=data["text"])
            if saved is None:
                continue
            if instance.pk:
                formset.changed_objects.append((saved, inline_form.changed_data))
            else:
                formset.new_objects.append(saved)

    def _sign(self, request, procedure, acknowledged: list[str]) -> bool:
        label = f"Procedure #{procedure.pk} ({procedure.patient})"
        try:
            procedure_sign(procedure=procedure, by=request.user, acknowledged=acknowledged)
        except (StateConflict, PermissionDenied) as exc:
            self.message_user(request, f"{label}: {exc}", messages.ERROR)
            return False
        except ValidationError as exc:
            reasons = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
            self.message_user(request, f"{label}: not signed: {reasons}", messages.ERROR)
            return False
        self.message_user(request, f"{label}: signed.", messages.SUCCESS)
        return True

    def _sign_page(self, request, procedures, *, action: str = "") -> TemplateResponse:
        """The sign step: every warning of every procedure, each with its own box to tick."""
        rows = [(p, procedure_sign_warnings(procedure=p)) for p in procedures]
        context = admin_page_context(self, request, title="Read the warnings, then sign", rows=rows, action=action)
        return TemplateResponse(request, "admin/tpi/procedure/sign.html", context)

    @admin.action(description="Sign selected procedures (asks to acknowledge each warning)")
    def sign_selected(self, request, queryset):
        procedures = list(queryset)
        has_warnings = any(p.is_draft and procedure_sign_warnings(procedure=p) for p in procedures)
        if has_warnings and "confirm" not in request.POST:
            return self._sign_page(request, procedures, action="sign_selected")
        for procedure in procedures:
            self._sign(request, procedure, request.POST.getlist(f"ack-{procedure.pk}"))
        return None

    def sign_view(self, request, object_id):
        """Sign one procedure after its warnings were acknowledged (the page "Save and sign" leads to)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        procedure = self.get_object(request, object_id)
        if procedure is None:
            raise Http404
        if not procedure_may_change(user=request.user, procedure=procedure):
            raise PermissionDenied
        change_url = reverse("admin:tpi_procedure_change", args=[procedure.pk])
        if not procedure.is_draft:
            self.message_user(request, f"This procedure is already {procedure.status}.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        if request.method == "POST" and self._sign(request, procedure, request.POST.getlist(f"ack-{procedure.pk}")):
            return HttpResponseRedirect(change_url)
        return self._sign_page(request, [procedure])

    def copy_forward_view(self, request, object_id):
        """Copy forward from the patient's last signed procedure (a POST from the draft's page), then go back."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        procedure = self.get_object(request, object_id)
        if procedure is None:
            raise Http404
        if not self.has_change_permission(request, procedure):
            raise PermissionDenied
        try:
            added = procedure_copy_forward(procedure=procedure, by=request.user)
        except StateConflict as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
        else:
            names = ", ".join(f"{i.site.name} ({i.get_laterality_display()})" for i in added) or "nothing new"
            self.message_user(request, f"Copied from the last signed procedure: {names}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:tpi_procedure_change", args=[procedure.pk]))

    def get_urls(self):
        sign = path("<path:object_id>/sign/", self.admin_site.admin_view(self.sign_view), name="tpi_procedure_sign")
        copy_forward = path(
            "<path:object_id>/copy-forward/",
            self.admin_site.admin_view(require_POST(self.copy_forward_view)),
            name="tpi_procedure_copy_forward",
        )
        return [sign, copy_forward, *super().get_urls()]

    def _response_sign(self, request, obj):
        """After "Save and sign": the sign page when there are warnings to read, else sign and show the note."""
        if procedure_sign_warnings(procedure=obj):
            return HttpResponseRedirect(reverse("admin:tpi_procedure_sign", args=[obj.pk]))
        self._sign(request, obj, [])
        return HttpResponseRedirect(reverse("admin:tpi_procedure_change", args=[obj.pk]))

    def response_change(self, request, obj):
        if "_sign" in request.POST:
            return self._response_sign(request, obj)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if "_sign" in request.POST:
            return self._response_sign(request, obj)
        return super().response_add(request, obj, post_url_continue)

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


class PatientProcedureInline(ReadOnlyAdminMixin, ObjectRulesInlineMixin, admin.TabularInline):
    """The patient's procedures on the patient page (read-only; documented on the procedure page), under
    the body map of the sites injected in the signed ones the user may read, shaded by count."""

    model = Procedure
    template = "admin/tpi/patient_procedures_inline.html"
    body_map = ""  # set per request by get_formset
    extra = 0
    show_change_link = True
    fields = readonly_fields = ("performed_at", "provider", "status", "cpt_code")
    verbose_name_plural = "procedures"

    def get_queryset(self, request):
        queryset = cast(ProcedureQuerySet, super().get_queryset(request))  # as in ProcedureAdmin.get_queryset
        return queryset.with_muscle_count().select_related("provider__user")

    def get_formset(self, request, obj=None, **kwargs):
        self.body_map = ""
        if obj is not None and obj.pk is not None:
            signed = procedures_visible(
                user=request.user, queryset=Procedure.objects.filter(patient=obj, status=Procedure.Status.SIGNED)
            )
            marks = body_map_marks(Injection.objects.filter(procedure__in=signed.values("pk")))
            self.body_map = body_map_svg(marks=marks, caption="Sites injected (signed procedures), shaded by count")
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="CPT")
    def cpt_code(self, obj):
        return obj.cpt_code


# tpi depends on clinic, never the reverse: the patient page learns about procedures from here.
PatientAdmin.inlines = [*PatientAdmin.inlines, PatientProcedureInline]

# The follow-ups page and the treatment plans register themselves.
from tpi import admin_fhir, admin_followups, admin_outcomes, admin_plans, admin_stock  # noqa: E402, F401
