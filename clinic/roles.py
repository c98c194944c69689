"""Staff roles: Django groups whose permissions each app declares in its own `<app>.roles` module.

An app lists what each role may do in `ROLE_PERMISSIONS = {"front desk": ["clinic.view_patient"]}`;
`roles_sync()` (run after every migrate) collects those lists from every installed app and makes
each group hold exactly them, so the core never imports the apps above it. The clinic admin role
holds every permission.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.http import HttpRequest
from rest_framework import authentication, permissions
from rest_framework.request import Request

from clinic.accounts.actors import AnyUser
from clinic.app_modules import app_modules

if TYPE_CHECKING:  # rest_framework.views imports DEFAULT_PERMISSION_CLASSES, which name this module
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

FRONT_DESK = "front desk"
PROVIDER = "provider"
MASSAGE_THERAPIST = "massage therapist"
CLINIC_ADMIN = "clinic admin"
ROLES = (FRONT_DESK, PROVIDER, MASSAGE_THERAPIST, CLINIC_ADMIN)
ALL_PERMISSIONS = "*"

# The core's own share: demographics and contact for the front desk, read-only for clinicians.
ROLE_PERMISSIONS = {
    FRONT_DESK: ["clinic.view_patient", "clinic.add_patient", "clinic.change_patient", "clinic.view_provider"],
    PROVIDER: ["clinic.view_patient", "clinic.view_provider"],
    MASSAGE_THERAPIST: ["clinic.view_patient", "clinic.view_provider"],
    CLINIC_ADMIN: [ALL_PERMISSIONS],
}


def has_role(user: AnyUser | None, name: str) -> bool:
    """Return True when the user is active, signed in and a member of the role's group."""
    if name not in ROLES:
        raise ValueError(f"unknown role {name!r}")
    if not (user and user.is_authenticated and user.is_active):
        return False
    cache = getattr(user, "_clinic_role_names", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        # Cached on the user object for the request, as Django caches permissions in user._perm_cache.
        user._clinic_role_names = cache  # type: ignore[attr-defined]
    return name in cache


def is_clinic_admin(user: AnyUser | None) -> bool:
    """Return True for a clinic admin (or a superuser, who is one by definition)."""
    if user and user.is_authenticated and user.is_active and user.is_superuser:
        return True
    return has_role(user, CLINIC_ADMIN)


def role_permissions_collect() -> dict[str, set[str]]:
    """Return {role: {"app_label.codename", ...}} gathered from every installed app's `roles` module."""
    collected: dict[str, set[str]] = {role: set() for role in ROLES}
    for module in app_modules("roles"):
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            if role not in collected:
                raise ValueError(f"{module.__name__} names unknown role {role!r}; roles are {ROLES}")
            collected[role].update(perms)
    return collected


def roles_sync(*, using: str = "default") -> list[str]:
    """Make every role group hold exactly its declared permissions; return the names not found."""
    everything = Permission.objects.using(using).select_related("content_type")
    by_name = {f"{p.content_type.app_label}.{p.codename}": p for p in everything}
    missing: list[str] = []
    for role, names in role_permissions_collect().items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        if ALL_PERMISSIONS in names:
            wanted = list(by_name.values())
        else:
            wanted = [by_name[n] for n in sorted(names) if n in by_name]
            missing += [n for n in sorted(names) if n not in by_name]
        group.permissions.set(wanted)
    if missing:
        logger.warning("role permissions not found (app not migrated?): %s", ", ".join(missing))
    return missing


def roles_sync_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver: sync once, after the last app's permissions exist."""
    last = [c for c in apps.get_app_configs() if c.models_module is not None][-1]
    if sender.label == last.label:
        roles_sync(using=using)


def otp_satisfied(request: Request | HttpRequest) -> bool:
    """Return False when two-factor sign-in is required and a session user has not passed it.

    Token-authenticated integrations are not interactive and carry no OTP; sessions come from the
    admin sign-in, which asks for the TOTP token when OTP_REQUIRED is on.
    """
    if not settings.OTP_REQUIRED:
        return True
    if not isinstance(getattr(request, "successful_authenticator", None), authentication.SessionAuthentication):
        return True
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


class OTPSatisfied(permissions.BasePermission):
    """Refuse a session that has not passed two-factor sign-in while OTP_REQUIRED is on."""

    message = "Sign in with your authenticator code first."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return otp_satisfied(request)


class ClinicModelPermissions(permissions.DjangoModelPermissions):
    """Model permissions for every API viewset (reads need `view_`), plus an object-level hook.

    A viewset adds object rules with `def has_object_access(self, request, obj) -> bool`
    (e.g. "a provider signs only their own procedures"); a False answer is a 403. POST actions that
    change an existing row (cancel, move, ...) are named in the viewset's `change_actions` and need
    `change_` instead of the `add_` a POST otherwise needs.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated and otp_satisfied(request)):
            return False
        method = (request.method or "").lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True  # a method the endpoint does not offer: 405 for a signed-in user, not 403
        if getattr(view, "action", None) in getattr(view, "change_actions", ()):
            opts = self._queryset(view).model._meta
            return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
        return super().has_permission(request, view)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        hook = getattr(view, "has_object_access", None)
        return hook(request, obj) if hook is not None else True


class IsClinicAdmin(permissions.BasePermission):
    """Only clinic admins (and superusers), with two-factor sign-in where required."""

    message = "Only a clinic admin may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_clinic_admin(request.user) and otp_satisfied(request)
