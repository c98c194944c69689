"""The client's address, the same way for the audit trail, auditlog and the login lockout."""

from django.conf import settings


def client_ip(request) -> str | None:
    """Return the client address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front, the
    X-Forwarded-For entry the outermost trusted proxy saw (entries further left are client-made)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
