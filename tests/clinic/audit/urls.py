"""Test-only admin site: a patient admin built with the read-audit mixin, as every app's will be."""

from django.contrib import admin
from django.urls import path

from clinic.audit.mixins import AccessLoggedAdminMixin
from clinic.models import Patient
from tests.urls import urlpatterns as security_urlpatterns

site = admin.AdminSite(name="audittest")


@admin.register(Patient, site=site)
class AuditedPatientAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    readonly_fields = ["mrn"]


urlpatterns = [path("audited-admin/", site.urls), *security_urlpatterns]
