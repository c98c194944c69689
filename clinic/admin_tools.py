"""Reusable admin pieces: a read-only mixin, the context of a custom admin page, saving through services."""

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import Form
from django.http import HttpRequest


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
