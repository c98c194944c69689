"""A JSON 404 for URLs under /api/ that match no route (e.g. /api/patients/-1/export/ with <int:pk>).

Clients (and the schema) expect the API's JSON error shape, not Django's HTML page.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: {"detail": "Not found.", "code": "not_found"} under /api/, Django's own page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)
