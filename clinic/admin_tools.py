"""Reusable admin pieces: a read-only mixin, the context of a custom admin page, saving through services."""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.forms import Form
from django.http import HttpRequest
from django.utils.dateparse import parse_date

from clinic.clock import Zone, staff_datetime
from clinic.pagination import CappedCountPaginator


class GrowingTableAdminMixin:
    """A change list over a table that grows without bound (patients, appointments, messages, logs...).

    Its page costs the same at any table size: the count stops at COUNT_CAP rows ("10000 results"
    then means at least that many) and the admin runs no second, unfiltered count. The page itself
    must come from an index matching the list's ordering (tests/test_list_indexes.py checks both).
    """

    paginator: type[Paginator] = CappedCountPaginator
    show_full_result_count: bool = False


class ReadOnlyAdminMixin:
    """Show rows without offering to add, change or delete them (Django contrib's mixin pattern).

    Put it before `admin.ModelAdmin` or an inline. Records that services change (follow-ups, plan
    occurrences, audit rows) are read here; a subclass whose actions need the change permission
    overrides `has_change_permission` alone.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def admin_page_context(
    model_admin: admin.ModelAdmin, request: HttpRequest, *, title: str, form: Form | None = None, **extra: Any
) -> dict[str, Any]:
    """Return the context of a custom page of MODEL_ADMIN (a view or an action's confirmation page)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "media": model_admin.media + form.media if form is not None else model_admin.media,
    }
    if form is not None:
        context["form"] = form
    return context | extra


def form_values(form: Form, names: Iterable[str]) -> dict[str, Any]:
    """Return the cleaned values of the form's fields among NAMES (the keyword arguments of a create service)."""
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


def form_changes(form: Form, names: Iterable[str]) -> dict[str, Any]:
    """Return the cleaned values of the changed fields among NAMES (the keyword arguments of an update service)."""
    allowed = set(names)
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}


def admin_adopt(obj: models.Model, created: models.Model) -> None:
    """Make the admin's unsaved OBJ the row a service created, so the admin logs and redirects to that row."""
    obj.pk = created.pk
    obj._state.adding = False
    obj.refresh_from_db()


class BadParameter(BadRequest):
    """A query parameter that cannot be read; answered 400 with this message (clinic.views.bad_request)."""


def query_date(query: Mapping[str, str], name: str) -> dt.date | None:
    """Return the date in query parameter NAME (YYYY-MM-DD), None when absent; BadParameter when unreadable."""
    text = (query.get(name) or "").strip()
    if not text:
        return None
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is None:
        raise BadParameter(f"{name}={text} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-30.")
    return day


def initial_check(form_class: type[forms.Form] | type[forms.ModelForm], initial: Mapping[str, Any]) -> dict[str, Any]:
    """Return the prefill values a form can take from the query string; BadParameter names the first that it cannot."""
    fields = form_class.base_fields
    checked = {}
    for name, value in initial.items():
        field = fields.get(name)
        if field is None:
            continue  # not on this form: Django ignores it too
        try:
            if isinstance(field, forms.MultiValueField):
                # A split date/time widget cannot show text from the URL; say so instead of failing.
                raise ValidationError("cannot be prefilled from the address")
            field.clean(value)
        except ValidationError as exc:
            label = str(field.label or name.replace("_", " ")).lower()
            raise BadParameter(f"{name}={value} cannot fill in the {label}: {' '.join(exc.messages)}") from exc
        checked[name] = value
    return checked


class CheckedInitialMixin:
    """Answer 400 instead of 500 when an add page's address carries a prefill its form cannot read."""

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = super().get_changeform_initial_data(request)  # type: ignore[misc]
        form_class = self.get_form(request)  # type: ignore[attr-defined]
        from_query = {k: v for k, v in initial.items() if k in request.GET}
        initial.update(initial_check(form_class, from_query))
        return initial


def picker_label(obj: models.Model) -> str:
    """Return how staff pick OBJ in a form: its picker_label when it has one (patients: with date of birth)."""
    return getattr(obj, "picker_label", None) or str(obj)


class PickerRawIdWidget(ForeignKeyRawIdWidget):
    """A raw id field whose label next to the box reads as a picker does (a patient with date of birth)."""

    def label_and_url_for_value(self, value):
        label, url = super().label_and_url_for_value(value)
        if not label:
            return label, url
        key = self.rel.get_related_field().name
        return picker_label(self.rel.model._default_manager.get(**{key: value})), url


class PickerLabelMixin:
    """Label every foreign-key choice (select, autocomplete, raw id) with the object's picker_label."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in getattr(self, "raw_id_fields", ()):
            kwargs["widget"] = PickerRawIdWidget(db_field.remote_field, self.admin_site)  # type: ignore[attr-defined]
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and hasattr(db_field.related_model, "picker_label"):
            formfield.label_from_instance = picker_label
        return formfield


def staff_datetime_display(
    name: str, *, description: str, zone_of: Callable[[Any], Zone] | None = None
) -> Callable[[Any, Any], str]:
    """Return an admin display method showing the instant OBJ.<NAME> as staff read it (clinic.clock.staff_datetime).

    ZONE_OF(obj) gives the zone the record is read in (an appointment's location's); the zone's
    abbreviation is added when it is not the clinic's. Use it instead of a datetime field on a
    read-only admin page, where Django would write its own style ("Nov. 30, 2026, 9 p.m.").
    """

    @admin.display(description=description, ordering=name)
    def show(model_admin: Any, obj: Any) -> str:
        zone = zone_of(obj) if zone_of is not None else None
        return staff_datetime(getattr(obj, name), zone=zone, name_zone=zone is not None)

    show.__name__ = f"{name}_display"
    return show
