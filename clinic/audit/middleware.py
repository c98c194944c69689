from auditlog.middleware import AuditlogMiddleware
from django.contrib.auth import get_user_model
from django.utils.functional import SimpleLazyObject

from clinic.security.client_ip import client_ip


class AuditActorMiddleware(AuditlogMiddleware):
    """auditlog's middleware, but the actor is read when a change is saved, not when the request
    arrives: DRF authenticates tokens inside the view and then sets `request.user`."""

    @staticmethod
    def _get_remote_addr(request):
        # auditlog trusts the leftmost X-Forwarded-For entry, which any client can forge.
        return client_ip(request)

    @staticmethod
    def _get_actor(request):
        def actor():
            user = getattr(request, "user", None)
            return user if isinstance(user, get_user_model()) and user.is_authenticated else None

        return SimpleLazyObject(actor)
