"""Who acts on a record: a signed-in staff user, or no one (a system job).

Services take `by: Actor` and store it in their `..._by` foreign keys; the admin and the API serve
only signed-in staff, and `request_user` says so to the type checker (and refuses anyone else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

Actor = User | None  # None for system jobs: the sweeps, the daily plan booking, the demo seed
AnyUser = User | AnonymousUser  # whoever sent a request, signed in or not: what permission checks read

if TYPE_CHECKING:  # DRF's modules import the settings' permission classes, which import this one
    from rest_framework.request import Request


def request_user(request: HttpRequest | Request) -> User:
    """Return the signed-in user of REQUEST; an anonymous one is refused (403)."""
    user = request.user
    if isinstance(user, AnonymousUser):
        raise PermissionDenied
    return user
