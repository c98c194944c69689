from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.admin_tools import BadParameter
from clinic.health import health_report


@require_GET
def healthz(request):
    """Report database, broker and worker: 200 when all are "ok", 503 naming what is not."""
    report = health_report(now=timezone.now())
    healthy = all(state == "ok" for state in report.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable"} | report, status=200 if healthy else 503)


def bad_request(request, exception=None):
    """Answer 400 saying what to fix when we know (BadParameter), a plain 400 otherwise."""
    text = str(exception) if isinstance(exception, BadParameter) else "Bad request."
    return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
