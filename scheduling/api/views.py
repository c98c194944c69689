"""Scheduling REST endpoints: thin views over the booking, series and slot services."""

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.accounts.actors import request_user
from clinic.api.filters import ClinicFilterSet
from clinic.roles import ClinicModelPermissions
from scheduling.api import serializers as s
from scheduling.booking import appointment_book, appointment_move, appointment_status_set, appointment_status_undo
from scheduling.calendar import appointment_ics, provider_by_feed_token, provider_feed, provider_feed_appointments
from scheduling.clock import day_bounds
from scheduling.closures import closure_create
from scheduling.exceptions import BackdatedRefused, BookingConflict, BookingError
from scheduling.models import (
    Appointment,
    AppointmentType,
    Closure,
    Location,
    Room,
    Series,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
)
from scheduling.series import (
    SeriesChoice,
    appointments_cancel_scoped,
    appointments_move_scoped,
    series_commit,
    series_preview,
)
from scheduling.slots import slots_find
from scheduling.waitlist import waitlist_entry_create, waitlist_entry_withdraw

if TYPE_CHECKING:
    _ViewBase = APIView  # the mixin only ever goes into views; the checker needs to know what super() holds
else:
    _ViewBase = object


class BookingErrorsMixin(_ViewBase):
    """Turn the booking service's refusals into 409 responses that carry the conflicting appointments."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, BackdatedRefused):
            refusal = {"detail": exc.message, "code": exc.code, "errors": {exc.field: [exc.message]}}
            return Response(refusal, status=status.HTTP_403_FORBIDDEN)
        if isinstance(exc, BookingError):
            body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
            if isinstance(exc, BookingConflict):
                body["conflicts"] = s.AppointmentSerializer(exc.appointments, many=True).data
            if exc.occurrence is not None:
                body["occurrence"] = exc.occurrence.isoformat()
            return Response(body, status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)


class AppointmentTypeViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AppointmentType.objects.all()
    serializer_class = s.AppointmentTypeSerializer
    permission_classes = [ClinicModelPermissions]
    filterset_fields = ["is_active"]


class LocationViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Location.objects.prefetch_related("opening_hours")
    serializer_class = s.LocationSerializer
    permission_classes = [ClinicModelPermissions]
    filterset_fields = ["is_active"]


class RoomViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Room.objects.prefetch_related("appointment_types")
    serializer_class = s.RoomSerializer
    permission_classes = [ClinicModelPermissions]
    filterset_fields = ["is_active", "location"]


class ClosureViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Closures: list, read, add one (the answer lists the booked appointments it covers, to move)."""

    queryset = Closure.objects.select_related("location")
    serializer_class = s.ClosureSerializer
    permission_classes = [ClinicModelPermissions]
    filterset_fields = ["location", "source"]

    @extend_schema(request=s.ClosureSerializer, responses={201: s.ClosureCreatedSerializer})
    def create(self, request):
        serializer = s.ClosureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        closure, affected = closure_create(**serializer.validated_data)
        body = {**s.ClosureSerializer(closure).data, "affected": s.AppointmentSerializer(affected, many=True).data}
        return Response(body, status=status.HTTP_201_CREATED)


class WorkingHoursViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = WorkingHours.objects.all()
    serializer_class = s.WorkingHoursSerializer
    permission_classes = [ClinicModelPermissions]
    filterset_fields = ["provider", "weekday"]


class AppointmentFilter(ClinicFilterSet):
    location = filters.ModelChoiceFilter(field_name="room__location", queryset=Location.objects.all())
    date_from = filters.DateFilter(
        method="filter_date_from", help_text="First local day (of the location asked for, else the clinic's)"
    )
    date_to = filters.DateFilter(
        method="filter_date_to", help_text="Last local day (of the location asked for, else the clinic's)"
    )

    class Meta:
        model = Appointment
        fields = ["provider", "patient", "room", "location", "status", "appointment_type", "series"]

    def _zone(self):
        location = self.form.cleaned_data.get("location")
        return location.zone if location is not None else None

    def filter_date_from(self, queryset, name, value: dt.date):
        return queryset.filter(start__gte=day_bounds(value, zone=self._zone())[0])

    def filter_date_to(self, queryset, name, value: dt.date):
        return queryset.filter(start__lt=day_bounds(value, zone=self._zone())[1])


class AppointmentViewSet(BookingErrorsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Appointments: list, read, book (POST), move, cancel, change status, .ics."""

    queryset = Appointment.objects.select_related(
        "patient", "provider__user", "room__location", "appointment_type", "hours_override_by__provider"
    ).order_by("start", "id")
    serializer_class = s.AppointmentSerializer
    permission_classes = [ClinicModelPermissions]
    change_actions = frozenset({"move", "cancel", "status", "undo"})  # POSTs on a booked row need change_
    filterset_class = AppointmentFilter

    @extend_schema(request=s.BookSerializer, responses={201: s.AppointmentSerializer})
    def create(self, request):
        data = self._valid(s.BookSerializer, request)
        appointment = appointment_book(**data, by=request.user)
        return Response(s.AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MoveSerializer, responses={200: s.AppointmentSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        appointment = self.get_object()
        data = self._valid(s.MoveSerializer, request, context={"room": appointment.room})
        if data["scope"] == "following":
            moved = appointments_move_scoped(
                appointment=appointment,
                scope="following",
                start=data["start"],
                override_hours=data["override_hours"],
                by=request.user,
            )
        else:
            data.pop("scope")
            moved = [appointment_move(appointment=appointment, **data, by=request.user)]
        return Response(s.AppointmentSerializer(moved, many=True).data)

    @extend_schema(request=s.CancelSerializer, responses={200: s.AppointmentSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self._valid(s.CancelSerializer, request)
        cancelled = appointments_cancel_scoped(appointment=self.get_object(), **data, by=request.user)
        return Response(s.AppointmentSerializer(cancelled, many=True).data)

    @extend_schema(request=s.StatusSerializer, responses={200: s.AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        data = self._valid(s.StatusSerializer, request)
        appointment = appointment_status_set(appointment=self.get_object(), **data, by=request.user)
        return Response(s.AppointmentSerializer(appointment).data)

    @extend_schema(request=None, responses={200: s.AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        """Undo the appointment's last status change (its author or a clinic admin, within the undo window)."""
        appointment = appointment_status_undo(appointment=self.get_object(), by=request.user)
        return Response(s.AppointmentSerializer(appointment).data)

    @extend_schema(responses={(200, "text/calendar"): bytes})
    @action(detail=True, methods=["get"])
    def ics(self, request, pk=None):
        appointment = self.get_object()
        response = HttpResponse(appointment_ics(appointment=appointment), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
        return response

    @staticmethod
    def _valid(serializer_class, request, context: dict | None = None) -> dict:
        serializer = serializer_class(data=request.data, context=context or {})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class SeriesViewSet(BookingErrorsMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Recurring series: preview (no writes), commit (all or none), read."""

    queryset = Series.objects.prefetch_related(
        "appointments__patient",
        "appointments__provider__user",
        "appointments__room__location",
        "appointments__appointment_type",
        "appointments__hours_override_by__provider",
    )
    serializer_class = s.SeriesSerializer
    permission_classes = [ClinicModelPermissions]
    filterset_fields = ["patient", "provider"]

    @extend_schema(request=s.SeriesPlanSerializer, responses={200: s.OccurrencePreviewSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        serializer = s.SeriesPlanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        previews = series_preview(**serializer.validated_data)
        return Response(s.OccurrencePreviewSerializer(previews, many=True).data)

    @extend_schema(request=s.SeriesCommitSerializer, responses={201: s.SeriesSerializer})
    def create(self, request):
        serializer = s.SeriesCommitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "choices" in data:
            data["choices"] = [SeriesChoice(occurrence=c["occurrence"], start=c.get("start")) for c in data["choices"]]
        series = series_commit(**data, by=request.user)
        return Response(s.SeriesSerializer(self.get_queryset().get(pk=series.pk)).data, status=status.HTTP_201_CREATED)


class FreeSlotsView(APIView):
    """Free slots for a visit type, one provider or any eligible one, over a date range."""

    permission_classes = [ClinicModelPermissions]
    queryset = Appointment.objects.none()  # the permission: scheduling.view_appointment

    @extend_schema(parameters=[s.FreeSlotQuerySerializer], responses={200: s.SlotSerializer(many=True)})
    def get(self, request):
        query = s.FreeSlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        slots = slots_find(
            appointment_type=q["appointment_type"],
            first_day=q["date_from"],
            last_day=q["date_to"],
            provider=q.get("provider"),
            room=q.get("room"),
            location=q.get("location"),
            patient=q.get("patient"),
            limit=q["limit"],
        )
        return Response(s.SlotSerializer(slots, many=True).data)


class ProviderFeedView(APIView):
    """A provider's iCalendar feed; the secret token in the URL is the only credential (calendar apps)."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(responses={(200, "text/calendar"): bytes})
    def get(self, request, provider_id: int, token: str):
        provider = provider_by_feed_token(provider_id=provider_id, token=token)
        if provider is None:
            raise Http404
        body = provider_feed(provider=provider, appointments=provider_feed_appointments(provider=provider))
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, max-age=300"
        return response


class WaitlistEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The waitlist: patients waiting for an earlier visit (join order) with the offers made; join, withdraw."""

    queryset = WaitlistEntry.objects.prefetch_related(
        Prefetch("offers", queryset=WaitlistOffer.objects.select_related("slot"))
    ).order_by("created_at", "id")
    serializer_class = s.WaitlistEntrySerializer
    permission_classes = [ClinicModelPermissions]
    change_actions = frozenset({"withdraw"})
    filterset_fields = ["status", "patient", "appointment_type", "location", "provider"]

    @extend_schema(request=s.WaitlistJoinSerializer, responses={201: s.WaitlistEntrySerializer})
    def create(self, request):
        data = s.WaitlistJoinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = waitlist_entry_create(**data.validated_data, by=request_user(request))
        return Response(s.WaitlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.WaitlistEntrySerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Take the entry off the waitlist (its open offers end)."""
        entry = waitlist_entry_withdraw(entry=self.get_object(), by=request_user(request))
        return Response(s.WaitlistEntrySerializer(entry).data)
