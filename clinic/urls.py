"""URL wiring: the core's routes, plus each installed app's own `api/urls.py` under /api/ and `root_urls.py`.

An app contributes API routes by having an `api.urls` module, and routes outside /api/ (e.g. a FHIR base
URL) by having a `root_urls` module, whose patterns are mounted at the site root; both are found with
clinic.app_modules, in INSTALLED_APPS order. This file names no app above the core.
"""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from clinic.api.export import PatientExportView
from clinic.app_modules import app_modules
from clinic.views import healthz

api_patterns: list[URLPattern | URLResolver] = [
    *(path("", include(module)) for module in app_modules("api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    # Security and audit (issue 6): right-of-access export, kept apart from the patients viewset.
    path("patients/<int:pk>/export/", PatientExportView.as_view(), name="patient-export"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("webhooks/", include("clinic.messaging.urls")),
    *(path("", include(module)) for module in app_modules("root_urls")),
]

# Security (issue 6): unmatched URLs under /api/ answer the API's JSON 404, not an HTML page.
handler404 = "clinic.api.not_found.not_found"
handler400 = "clinic.views.bad_request"
