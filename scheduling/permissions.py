"""Who may do what in scheduling (a later security issue formalises the roles)."""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser


def user_is_clinic_admin(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Return True for superusers and members of the clinic-admin group (may book outside working hours)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=settings.SCHEDULING_CLINIC_ADMIN_GROUP).exists()
