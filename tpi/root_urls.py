"""tpi's routes at the site root (collected by clinic/urls.py through app_modules("root_urls")): FHIR R4."""

from django.urls import include, path

urlpatterns = [path("fhir/R4/", include("tpi.fhir.urls"))]
