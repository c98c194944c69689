"""The FHIR R4 routes, mounted under /fhir/R4/ by tpi/root_urls.py."""

from django.urls import path, re_path

from tpi.fhir import views

urlpatterns = [
    path("metadata", views.MetadataView.as_view(), name="fhir-metadata"),
    path("$export", views.ExportKickoffView.as_view(), name="fhir-export"),
    path("$export-status/<str:export_id>", views.ExportStatusView.as_view(), name="fhir-export-status"),
    path(
        "$export-file/<str:export_id>/<str:resource_type>.ndjson",
        views.ExportFileView.as_view(),
        name="fhir-export-file",
    ),
    path("Patient/<str:resource_id>/$everything", views.EverythingView.as_view(), name="fhir-everything"),
    re_path(r"^(?P<resource_type>[A-Za-z]+)$", views.SearchView.as_view(), name="fhir-search"),
    re_path(
        r"^(?P<resource_type>[A-Za-z]+)/(?P<resource_id>[A-Za-z0-9\-.]{1,64})$",
        views.ReadView.as_view(),
        name="fhir-read",
    ),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="fhir-not-found"),
]
