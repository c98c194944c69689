from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.health import health_report


@require_GET
def healthz(request):
    """Report database, broker and worker: 200 when all are "ok", 503 naming what is not."""
    report = health_report(now=timezone.now())
    healthy = all(state == "ok" for state in report.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable"} | report, status=200 if healthy else 503)
