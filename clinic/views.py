from django.http import JsonResponse
from django.views.decorators.http import require_GET

from clinic.health import broker_is_reachable, database_is_reachable


@require_GET
def healthz(request):
    """Report database and broker reachability: 200 when both answer, 503 otherwise."""
    checks = {"database": database_is_reachable(), "broker": broker_is_reachable()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"} | {k: "ok" if v else "unreachable" for k, v in checks.items()}
    return JsonResponse(body, status=200 if healthy else 503)
