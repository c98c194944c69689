"""Massage note admin: the therapist's own page, written and signed apart from the procedure.

The page shows what the massage needs (the sites and sides injected, the anticoagulant flag, the
time of injection in the clinic's zone) and nothing more; every write goes through tpi/massage.py.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from clinic.admin_tools import GrowingTableAdminMixin, admin_adopt, form_changes, form_values
from clinic.audit.mixins import AccessLoggedAdminMixin
from clinic.exceptions import StateConflict
from clinic.models.providers import staff_name
from tpi.access import clinical_rows_visible, massage_note_may_change, procedure_may_view
from tpi.body_map import body_map_marks, body_map_svg
from tpi.massage import (
    MASSAGE_FIELDS,
    massage_note_addendum_add,
    massage_note_create,
    massage_note_deadline,
    massage_note_may_be_added,
    massage_note_sign,
    massage_note_update,
)
from tpi.models import MassagedSite, MassageNote, MassageNoteAddendum, Procedure, TriggerPointSite


def _local(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else "-"


def injected_sites_html(procedure: Procedure | None) -> str:
    """Return the sites and sides injected, one per line (no drug, dose or lot)."""
    if procedure is None:
        return "-"
    rows = [(i.site.name, i.get_laterality_display()) for i in procedure.injections.select_related("site")]
    return format_html_join("", "<p>{} ({})</p>", rows) if rows else "-"


def anticoagulant_html(procedure: Procedure | None) -> str:
    """Return the bruising flag the therapist needs (yes/no only: the drug is not theirs to read)."""
    if procedure is None:
        return "-"
    if procedure.patient.on_anticoagulants:
        return format_html("<strong>{}</strong>", "Yes: takes anticoagulants, bruises easily; massage gently")
    return "No"


class NoteOwnedInline(admin.TabularInline):
    """Rows of a massage note: permissions follow the note (its therapist, while it is a draft)."""

    extra = 0

    def _may_write(self, request, obj) -> bool:
        if obj is None:
            return request.user.has_perm("tpi.add_massagenote")
        return obj.is_draft and massage_note_may_change(user=request.user, note=obj)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("tpi.view_massagenote")

    def has_add_permission(self, request, obj=None):
        return self._may_write(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_write(request, obj)  # a draft note's site list is edited freely


class MassagedSiteInline(NoteOwnedInline):
    model = MassagedSite
    fields = ["site", "laterality"]
    autocomplete_fields = ["site"]
    min_num = 1
    verbose_name = "site massaged"
    verbose_name_plural = "sites massaged"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        procedure = _procedure_from_request(request) if obj is None else None
        if procedure is not None:
            # A new note starts from what was injected: the same sites and sides, each one editable.
            initial = [{"site": i.site_id, "laterality": i.laterality} for i in procedure.injections.all()]
            formset.extra = max(len(initial) - formset.min_num, 0)
            formset = type(formset.__name__, (formset,), {"__init__": _with_initial(formset.__init__, initial)})
        return formset


def _with_initial(init: Any, initial: list[dict[str, Any]]) -> Any:
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", initial)
        init(self, *args, **kwargs)

    return wrapped


class MassageNoteAddendumInline(NoteOwnedInline):
    """Addenda in order, read-only; a new one once the note is signed, by its therapist."""

    model = MassageNoteAddendum
    fields = ["created_at", "author_name", "text"]
    readonly_fields = ["created_at", "author_name"]

    def _may_write(self, request, obj) -> bool:
        return obj is not None and obj.is_signed and massage_note_may_change(user=request.user, note=obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="author")
    def author_name(self, obj):
        return staff_name(obj.author) if obj.pk else "-"


def _procedure_from_request(request) -> Procedure | None:
    pk = request.GET.get("procedure")
    if not (pk and pk.isdigit()):
        return None
    queryset = clinical_rows_visible(user=request.user, queryset=Procedure.objects.all())
    return queryset.select_related("patient").filter(pk=pk).first()


def _site_rows(formset) -> list[dict[str, Any]]:
    """Return the site rows of the formset, including prefilled rows left as they were (Django skips those)."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data or form.initial
        if not data or data.get("DELETE") or not data.get("site"):
            continue
        site = (
            data["site"]
            if isinstance(data["site"], TriggerPointSite)
            else TriggerPointSite.objects.get(pk=data["site"])
        )
        rows.append({"site": site, "laterality": data.get("laterality")})
    return rows


class MassageNoteForm(forms.ModelForm):
    class Meta:
        model = MassageNote
        fields = ["procedure", *MASSAGE_FIELDS]

    def clean(self):
        cleaned = super().clean() or {}
        procedure, performed_at = cleaned.get("procedure"), cleaned.get("performed_at")
        adding = isinstance(procedure, Procedure) and self.instance.pk is None
        if (
            adding
            and isinstance(procedure, Procedure)
            and not massage_note_may_be_added(procedure=procedure, now=timezone.now())
        ):
            deadline = massage_note_deadline(procedure=procedure)
            when = f" (the window closed at {_local(deadline)})" if deadline else ""
            raise ValidationError(f"A massage note can no longer be added to this procedure{when}.")
        if procedure is not None and performed_at is not None and performed_at < procedure.performed_at:
            self.add_error("performed_at", "The massage follows the injections; it cannot be earlier.")
        return cleaned


@admin.register(MassageNote)
class MassageNoteAdmin(GrowingTableAdminMixin, AccessLoggedAdminMixin, admin.ModelAdmin):
    """The therapist writes, signs and amends their own notes; others read them by the procedure's rules."""

    form = MassageNoteForm
    list_display = ["performed_at", "procedure", "therapist", "status", "signed_at"]
    list_filter = ["status"]
    list_select_related = ["procedure__patient", "therapist__user"]
    raw_id_fields = ["procedure"]
    autocomplete_fields = ["therapist"]
    inlines = [MassagedSiteInline, MassageNoteAddendumInline]
    need_fields = ["time_of_injection", "injected_sites", "body_map", "anticoagulants", "note_window"]
    fieldsets = [
        ("What the massage needs", {"fields": ["procedure", *need_fields]}),
        ("Massage", {"fields": ["therapist", "performed_at", "duration_minutes", "technique", "tolerance", "notes"]}),
        ("Signature", {"fields": ["status", "signed"]}),
    ]

    def get_audit_patient(self, obj: MassageNote):
        return obj.procedure.patient

    def get_queryset(self, request):
        return clinical_rows_visible(user=request.user, queryset=super().get_queryset(request))

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or procedure_may_view(user=request.user, procedure=obj.procedure))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or (obj.is_draft and massage_note_may_change(user=request.user, note=obj)))

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        fixed = [*self.need_fields, "status", "signed"]
        if obj is None:
            return fixed
        if not self.has_change_permission(request, obj):
            return ["procedure", *MASSAGE_FIELDS, *fixed]
        return ["procedure", *fixed]

    def get_changeform_initial_data(self, request):
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        provider = getattr(request.user, "provider", None)
        if provider is not None:
            initial.setdefault("therapist", provider.pk)
        initial.setdefault("performed_at", timezone.now())
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        procedure = _procedure_from_request(request) if obj is None else None
        if procedure is None:
            return form

        class WithProcedure(form):  # type: ignore[valid-type,misc]
            """The add page's read-only panel reads the procedure named in the address (?procedure=id)."""

            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                if self.instance.procedure_id is None:
                    self.instance.procedure = procedure

        return WithProcedure

    def _procedure(self, request, obj) -> Procedure | None:
        return obj.procedure if obj is not None and obj.procedure_id else _procedure_from_request(request)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        procedure = self._procedure(request, obj)
        context["massage_procedure"] = procedure
        # "Save and sign" only where it can succeed: the note's own therapist (or a clinic admin), a draft.
        may_write = add if obj is None else self.has_change_permission(request, obj)
        context["may_sign_note"] = may_write and request.user.has_perm("tpi.change_massagenote")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _shown_procedure(self, obj) -> Procedure | None:
        return obj.procedure if obj is not None and obj.procedure_id else None

    @admin.display(description="time of injection (clinic time)")
    def time_of_injection(self, obj):
        procedure = self._shown_procedure(obj)
        return _local(procedure.performed_at) if procedure else "-"

    @admin.display(description="sites and sides injected")
    def injected_sites(self, obj):
        return injected_sites_html(self._shown_procedure(obj))

    @admin.display(description="body map")
    def body_map(self, obj):
        procedure = self._shown_procedure(obj)
        if procedure is None:
            return "-"
        return body_map_svg(marks=body_map_marks(procedure.injections.all()), caption="Sites injected")

    @admin.display(description="anticoagulants (bruising)")
    def anticoagulants(self, obj):
        return anticoagulant_html(self._shown_procedure(obj))

    @admin.display(description="notes may be added until")
    def note_window(self, obj):
        procedure = self._shown_procedure(obj)
        if procedure is None:
            return "-"
        deadline = massage_note_deadline(procedure=procedure)
        if deadline is None:
            hours = settings.TPI_MASSAGE_NOTE_WINDOW.total_seconds() / 3600
            return f"while the procedure is a draft, then {hours:g} hours after signing"
        return _local(deadline)

    @admin.display(description="signed")
    def signed(self, obj):
        if obj is None or not obj.pk or not obj.is_signed:
            return "Not signed"
        return f"{staff_name(obj.signed_by)}, {_local(obj.signed_at)}"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (StateConflict, ValidationError) as exc:
            text = exc.message if isinstance(exc, StateConflict) else "; ".join(exc.messages)
            self.message_user(request, text, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        pass  # written with its sites in save_related, through the services

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # the admin's change message reads these lists; the services write
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        sites_formset = next(f for f in formsets if f.model is MassagedSite)
        rows = _site_rows(sites_formset)
        obj = form.instance
        if not change:
            fields = form_values(form, MASSAGE_FIELDS)
            if not massage_note_may_change(user=request.user, note=MassageNote(therapist=fields.get("therapist"))):
                raise PermissionDenied("Write your own massage notes (a clinic admin may write for others).")
            created = massage_note_create(procedure=form.cleaned_data["procedure"], sites=rows, **fields)
            admin_adopt(obj, created)
        elif self.has_change_permission(request, obj):
            changed = form_changes(form, MASSAGE_FIELDS)
            if "therapist" in changed and not massage_note_may_change(
                user=request.user, note=MassageNote(therapist=changed["therapist"])
            ):
                raise PermissionDenied("A massage note cannot be handed to another therapist.")
            massage_note_update(note=obj, sites=rows if sites_formset.has_changed() else None, **changed)
        for formset in formsets:
            if formset.model is not MassageNoteAddendum:
                continue
            for addendum_form in formset.forms:
                if addendum_form.has_changed() and not addendum_form.instance.pk:
                    massage_note_addendum_add(note=obj, author=request.user, text=addendum_form.cleaned_data["text"])
        if "_sign" in request.POST:
            massage_note_sign(note=obj, by=request.user)
            self.message_user(request, "Massage note signed.", messages.SUCCESS)
