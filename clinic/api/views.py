from rest_framework import filters, mixins, viewsets

from clinic.accounts.actors import request_user
from clinic.api.filters import ClinicFilterBackend, ClinicFilterSet
from clinic.api.pagination import CappedPagePagination, PagePagination
from clinic.api.serializers import PatientSerializer, ProviderSerializer
from clinic.audit.mixins import AccessLoggedRetrieveMixin
from clinic.models import Patient, Provider
from clinic.patient_search import patients_search
from clinic.patients import patient_create, patient_update
from clinic.roles import ClinicModelPermissions


class PatientFilter(ClinicFilterSet):
    class Meta:
        model = Patient
        fields = {"status": ["exact"], "mrn": ["exact"], "date_of_birth": ["exact"], "preferred_channel": ["exact"]}


class PatientSearchFilter(filters.SearchFilter):
    """?search= finds patients as the admin does: phone in any format, date of birth, name fragments."""

    def filter_queryset(self, request, queryset, view):
        return patients_search(queryset=queryset, term=request.query_params.get(self.search_param, ""))


class PatientViewSet(
    AccessLoggedRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Patients: list, register, read and update. Never deleted (set status inactive or deceased)."""

    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    permission_classes = [ClinicModelPermissions]
    pagination_class = CappedPagePagination
    filterset_class = PatientFilter
    filter_backends = [ClinicFilterBackend, PatientSearchFilter]
    search_fields = ["mrn", "legal_last_name", "legal_first_name", "preferred_name", "mobile_phone", "email"]

    def perform_create(self, serializer):
        serializer.instance = patient_create(by=request_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = patient_update(
            patient=serializer.instance, by=request_user(self.request), **serializer.validated_data
        )


class ProviderViewSet(viewsets.ReadOnlyModelViewSet):
    """Providers (read only; staff profiles are managed in the admin)."""

    queryset = Provider.objects.select_related("user")
    serializer_class = ProviderSerializer
    permission_classes = [ClinicModelPermissions]
    pagination_class = PagePagination
    filterset_fields = ["role", "is_active"]
