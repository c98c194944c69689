"""Treatment plans over the API: create, read, change who/where/when, cancel (never delete), book now."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.api.fields import UserField
from clinic.api.filters import ClinicFilterSet, IdFilter
from clinic.api.pagination import CappedPagePagination
from clinic.models import Patient, Provider
from clinic.roles import ClinicModelPermissions
from scheduling.models import AppointmentType, Room
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plans import plan_book_next, plan_cancel, plan_create, plan_update


class PlanOccurrenceSerializer(serializers.ModelSerializer):
    appointment_start = serializers.DateTimeField(
        source="appointment.start", read_only=True, default=None, allow_null=True
    )
    appointment_time_zone = serializers.CharField(
        source="appointment.room.location.time_zone",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="IANA zone of the booked visit's location (its times are read on that clock)",
    )

    class Meta:
        model = PlanOccurrence
        fields = [
            "id",
            "plan",
            "sequence",
            "target_date",
            "status",
            "reason",
            "appointment",
            "appointment_start",
            "appointment_time_zone",
        ]
        read_only_fields = fields


class TreatmentPlanSerializer(serializers.ModelSerializer):
    occurrences = PlanOccurrenceSerializer(many=True, read_only=True)
    created_by = UserField(read_only=True)

    class Meta:
        model = TreatmentPlan
        fields = [
            "id",
            "patient",
            "provider",
            "room",
            "appointment_type",
            "interval_weeks",
            "injections",
            "end_date",
            "start_date",
            "preferred_time",
            "status",
            "created_by",
            "created_at",
            "cancelled_at",
            "cancel_reason",
            "occurrences",
        ]
        read_only_fields = fields


class PlanCreateSerializer(serializers.Serializer):
    """Input for a new plan; the service checks the rules and names the field at fault."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.all(), required=False, allow_null=True, help_text="Empty: any eligible provider"
    )
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all(), required=False, allow_null=True)
    appointment_type = serializers.PrimaryKeyRelatedField(
        queryset=AppointmentType.objects.all(), required=False, allow_null=True, help_text="Default: TPI procedure"
    )
    interval_weeks = serializers.IntegerField(required=False, min_value=1, max_value=52)
    injections = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    end_date = serializers.DateField(required=False, allow_null=True)
    start_date = serializers.DateField()
    preferred_time = serializers.TimeField(
        help_text="Wall time at the location of the room each injection is booked in (its own zone), e.g. 10:30"
    )


class PlanUpdateSerializer(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False, allow_null=True)
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all(), required=False, allow_null=True)
    preferred_time = serializers.TimeField(required=False)


class PlanCancelSerializer(serializers.Serializer):
    reason = serializers.CharField()


class TreatmentPlanFilter(ClinicFilterSet):
    patient = IdFilter(field_name="patient_id")
    provider = IdFilter(field_name="provider_id")

    class Meta:
        model = TreatmentPlan
        fields = ["patient", "provider", "status"]


class TreatmentPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Recurring injection plans with their occurrences. Cancelled, never deleted."""

    serializer_class = TreatmentPlanSerializer
    pagination_class = CappedPagePagination
    permission_classes = [ClinicModelPermissions]
    change_actions = frozenset({"cancel", "book_next"})  # POSTs on an existing plan need change_
    filterset_class = TreatmentPlanFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return TreatmentPlan.objects.select_related("created_by__provider").prefetch_related(
            Prefetch("occurrences", queryset=PlanOccurrence.objects.select_related("appointment__room__location"))
        )

    def _respond(self, plan: TreatmentPlan, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=plan.pk)).data, status=code)

    @extend_schema(request=PlanCreateSerializer, responses={201: TreatmentPlanSerializer})
    def create(self, request, *args, **kwargs):
        serializer = PlanCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(plan_create(by=request.user, **serializer.validated_data), status.HTTP_201_CREATED)

    @extend_schema(request=PlanUpdateSerializer, responses=TreatmentPlanSerializer)
    def partial_update(self, request, *args, **kwargs):
        serializer = PlanUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._respond(plan_update(plan=self.get_object(), by=request.user, **serializer.validated_data))

    @extend_schema(request=PlanCancelSerializer, responses=TreatmentPlanSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel the plan with a reason: injections not yet booked are dropped; booked visits stay."""
        serializer = PlanCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(plan_cancel(plan=self.get_object(), by=request.user, **serializer.validated_data))

    @extend_schema(request=None, responses=TreatmentPlanSerializer)
    @action(detail=True, methods=["post"], url_path="book-next")
    def book_next(self, request, pk=None):
        """Book the plan's next open injection now (or send it to the front desk's review with the reason)."""
        plan = self.get_object()
        plan_book_next(plan=plan, by=request.user)
        return self._respond(plan)


class PlanOccurrenceFilter(ClinicFilterSet):
    # Plain ids: an unknown id finds nothing (200, empty) instead of failing validation.
    plan = IdFilter(field_name="plan_id")
    patient = IdFilter(field_name="plan__patient_id")

    class Meta:
        model = PlanOccurrence
        fields = ["plan", "status", "patient"]


class PlanOccurrenceViewSet(viewsets.ReadOnlyModelViewSet):
    """Planned injections (read only); ?status=needs_review is the front desk's queue."""

    queryset = PlanOccurrence.objects.select_related("appointment__room__location").order_by("target_date", "id")
    serializer_class = PlanOccurrenceSerializer
    pagination_class = CappedPagePagination
    permission_classes = [ClinicModelPermissions]
    filterset_class = PlanOccurrenceFilter
