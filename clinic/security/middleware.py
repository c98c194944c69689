"""Request-level safeguards: a hard body-size limit and request logs without bodies or PHI."""

import logging
import time

from django.conf import settings
from django.http import JsonResponse

request_logger = logging.getLogger("clinic.requests")


class RequestSizeLimitMiddleware:
    """Refuse a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE with 413 before any view reads it.

    Django enforces the limit only when a view reads `request.body`/`POST`; DRF's parsers read the
    stream directly, so without this a huge JSON body would be parsed in full.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header.", "code": "bad_request"}, status=400)
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"Request body too large (limit {limit} bytes).", "code": "request_too_large"}, status=413
            )
        # No text a person types holds a NUL character, and PostgreSQL refuses one in a string: answer 400
        # here rather than 500 in whichever search or filter meets it first.
        bad = sorted({name for name, values in request.GET.lists() if any("\x00" in v for v in [name, *values])})
        if bad:
            message = "Must not contain a NUL character."
            return JsonResponse(
                {"detail": f"Invalid query parameter: {', '.join(bad)}.", "code": "invalid",
                 "errors": {name: [message] for name in bad}},
                status=400,
            )  # fmt: skip
        return self.get_response(request)


class RequestLogMiddleware:
    """Log method, path (never the query string), status, duration and user id: never a body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        if request_logger.isEnabledFor(logging.INFO):
            user = getattr(request, "user", None)
            request_logger.info(
                "%s %s %s %.0fms user=%s",
                request.method,
                request.path,
                response.status_code,
                (time.monotonic() - started) * 1000,
                user.pk if user is not None and user.is_authenticated else "-",
            )
        return response
