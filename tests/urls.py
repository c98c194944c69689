"""Test-only routes: a patients viewset built the way every app's viewsets are meant to be."""

from django.urls import include, path
from rest_framework import filters, permissions, serializers, views, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from clinic.audit.mixins import AccessLoggedRetrieveMixin
from clinic.models import Patient
from clinic.roles import ClinicModelPermissions
from clinic.urls import urlpatterns as clinic_urlpatterns


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "mrn", "legal_first_name", "legal_last_name", "date_of_birth", "mobile_phone", "email"]
        read_only_fields = ["mrn"]


class PatientViewSet(AccessLoggedRetrieveMixin, viewsets.ModelViewSet):
    queryset = Patient.objects.order_by("id")
    serializer_class = PatientSerializer
    filter_backends = [filters.SearchFilter]
    search_fields = ["legal_last_name", "email"]
    permission_classes = [ClinicModelPermissions]

    def has_object_access(self, request, obj) -> bool:
        # An object rule for the test: nobody may touch a deceased patient's record through this API.
        return obj.status != Patient.Status.DECEASED


class PublicPing(views.APIView):
    """Stands in for an anonymous endpoint such as a signed webhook."""

    permission_classes = [permissions.AllowAny]

    def get(self, request):
        return Response({"pong": True})


router = SimpleRouter()
router.register("test-patients", PatientViewSet, basename="test-patient")

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/public-ping/", PublicPing.as_view()),
    *clinic_urlpatterns,
]
