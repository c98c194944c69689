import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import filters, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from clinic.api.filters import ClinicFilterBackend, ClinicFilterSet, IdFilter, StrictBooleanFilter
from clinic.api.pagination import CappedPagePagination, PagePagination
from clinic.audit.mixins import AccessLoggedRetrieveMixin
from clinic.roles import ClinicModelPermissions
from tpi.access import (
    massage_note_may_change,
    massage_notes_visible,
    procedure_may_change,
    procedure_may_view,
    procedure_shows_clinical_detail,
    procedures_visible,
)
from tpi.api.serializers import (
    AddendumSerializer,
    InjectionDefaultsSerializer,
    MassageNoteAddendumSerializer,
    MassageNoteSerializer,
    ProcedureBasicsSerializer,
    ProcedureDetailSerializer,
    ProcedureSerializer,
    SignSerializer,
    SignWarningSerializer,
    TriggerPointSiteSerializer,
    VoidSerializer,
)
from tpi.fast_entry import injections_apply_defaults, procedure_copy_forward
from tpi.massage import massage_note_addendum_add, massage_note_create, massage_note_sign, massage_note_update
from tpi.models import (
    Addendum,
    Injection,
    MassagedSite,
    MassageNote,
    MassageNoteAddendum,
    Procedure,
    SignAcknowledgement,
    TriggerPointSite,
)
from tpi.outcomes import with_outcomes
from tpi.procedures import procedure_create, procedure_update
from tpi.sign_warnings import procedure_sign_warnings
from tpi.signing import addendum_add, procedure_sign, procedure_void


class TriggerPointSiteViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue of muscles (read only here; edited in the admin)."""

    queryset = TriggerPointSite.objects.all()
    serializer_class = TriggerPointSiteSerializer
    permission_classes = [ClinicModelPermissions]
    pagination_class = PagePagination
    filter_backends = [ClinicFilterBackend, filters.SearchFilter]
    filterset_fields = ["body_region", "is_active"]
    search_fields = ["name"]


class ProcedureFilter(ClinicFilterSet):
    performed_after = django_filters.IsoDateTimeFilter(field_name="performed_at", lookup_expr="gte")
    performed_before = django_filters.IsoDateTimeFilter(field_name="performed_at", lookup_expr="lte")
    with_steroid = StrictBooleanFilter(
        label="true: any site got a steroid; false: no site did", method="filter_with_steroid"
    )
    anaesthetic_only = StrictBooleanFilter(
        label="true: injected with a local anaesthetic and no steroid anywhere (dry needling alone is not); "
        "false: the rest",
        method="filter_anaesthetic_only",
    )
    dry_needling = StrictBooleanFilter(
        label="true: any site was dry-needled; false: none was", method="filter_dry_needling"
    )
    agent = django_filters.ChoiceFilter(
        choices=[*Injection.Anaesthetic.choices, *Injection.Steroid.choices],
        method="filter_agent",
        label="Any site got this anaesthetic or steroid",
    )
    site = IdFilter(method="filter_site", label="This catalogue site (id) was treated")

    class Meta:
        model = Procedure
        fields = ["patient", "provider", "status", "appointment"]

    def filter_with_steroid(self, queryset, name, value: bool):
        steroid = Procedure.objects.with_steroid().values("pk")
        return queryset.filter(pk__in=steroid) if value else queryset.exclude(pk__in=steroid)

    def filter_anaesthetic_only(self, queryset, name, value: bool):
        alone = Procedure.objects.anaesthetic_only().values("pk")
        return queryset.filter(pk__in=alone) if value else queryset.exclude(pk__in=alone)

    def filter_dry_needling(self, queryset, name, value: bool):
        return queryset.dry_needling(value)

    def filter_agent(self, queryset, name, value):
        return queryset.with_agent(value)

    def filter_site(self, queryset, name, value):
        return queryset.with_site(value)


def _by_role(name: str, full: type, *, many: bool = False) -> PolymorphicProxySerializer:
    """A response that is FULL for clinical roles and the basics for massage therapists (one of the two)."""
    return PolymorphicProxySerializer(
        component_name=name, serializers=[full, ProcedureBasicsSerializer], resource_type_field_name=None, many=many
    )


@extend_schema_view(
    list=extend_schema(responses=_by_role("ProcedureForRole", ProcedureSerializer, many=True)),
    retrieve=extend_schema(responses=_by_role("ProcedureDetailForRole", ProcedureDetailSerializer)),
    create=extend_schema(request=ProcedureSerializer, responses={201: ProcedureDetailSerializer}),
    update=extend_schema(request=ProcedureSerializer, responses=ProcedureDetailSerializer),
    partial_update=extend_schema(request=ProcedureSerializer, responses=ProcedureDetailSerializer),
)
class ProcedureViewSet(
    AccessLoggedRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Procedures with nested injections. Drafts are edited; signed ones get addenda; none is deleted."""

    serializer_class = ProcedureSerializer
    pagination_class = CappedPagePagination
    filterset_class = ProcedureFilter
    permission_classes = [ClinicModelPermissions]

    def get_serializer_class(self):
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated and not procedure_shows_clinical_detail(user=user):
            return ProcedureBasicsSerializer
        return ProcedureSerializer if self.action == "list" else ProcedureDetailSerializer

    def has_object_access(self, request, obj: Procedure) -> bool:
        """Reads: see tpi.access; any write (update, sign, void, addenda): its provider or a clinic admin."""
        if request.method in permissions.SAFE_METHODS:
            return procedure_may_view(user=request.user, procedure=obj)
        if not procedure_may_change(user=request.user, procedure=obj):
            verb = {"sign": "sign", "void": "void", "addenda": "add an addendum to"}.get(self.action, "change")
            raise PermissionDenied(f"Only the procedure's own provider or a clinic admin may {verb} it.")
        return True

    def get_queryset(self):
        queryset = self._base_queryset()
        if self.action == "list":
            # Lists show only what the user may read; a detail by id answers 403 (has_object_access).
            queryset = procedures_visible(user=self.request.user, queryset=queryset)
        return queryset

    def _base_queryset(self):
        # The outcome (responder, relief) is two LEFT JOINs on the (procedure, kind) unique follow-up rows.
        return (
            with_outcomes(Procedure.objects.with_muscle_count())
            .select_related(
                "patient",
                "provider__user",
                "consent_obtained_by__provider",
                "signed_by__provider",
                "voided_by__provider",
            )
            .prefetch_related(
                Prefetch("injections", queryset=Injection.objects.select_related("site")),
                "follow_ups",
                Prefetch(
                    "massage_notes",
                    queryset=MassageNote.objects.select_related(
                        "therapist__user", "signed_by__provider"
                    ).prefetch_related(
                        Prefetch("massaged_sites", queryset=MassagedSite.objects.select_related("site"))
                    ),
                ),
                Prefetch("addenda", queryset=Addendum.objects.select_related("author__provider")),
            )
        )

    def _respond(self, procedure: Procedure, code: int = status.HTTP_200_OK) -> Response:
        queryset = self._base_queryset().prefetch_related(
            Prefetch(
                "acknowledgements", queryset=SignAcknowledgement.objects.select_related("acknowledged_by__provider")
            )
        )
        return Response(self.get_serializer(queryset.get(pk=procedure.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        provider = serializer.validated_data.get("provider")
        if not procedure_may_change(user=request.user, procedure=Procedure(provider=provider)):
            raise PermissionDenied("Document your own procedures (a clinic admin may document for others).")
        procedure = procedure_create(by=request.user, **serializer.validated_data)
        return self._respond(procedure, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        procedure = self.get_object()
        serializer = self.get_serializer(procedure, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        provider = serializer.validated_data.get("provider", procedure.provider)
        if not procedure_may_change(user=request.user, procedure=Procedure(provider=provider)):
            raise PermissionDenied("A procedure cannot be handed to another provider here.")
        procedure = procedure_update(procedure=procedure, by=request.user, **serializer.validated_data)
        return self._respond(procedure)

    @extend_schema(request=SignSerializer, responses=ProcedureDetailSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Sign the draft (its own provider or a clinic admin), acknowledging every pre-sign warning.

        400 naming the warnings not acknowledged; 409 when it is already signed or voided.
        """
        procedure = self.get_object()
        serializer = SignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        acknowledged = serializer.validated_data["acknowledged_warnings"]
        return self._respond(procedure_sign(procedure=procedure, by=request.user, acknowledged=acknowledged))

    @extend_schema(request=VoidSerializer, responses=ProcedureDetailSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void the procedure with a reason; follow-ups not yet sent are cancelled."""
        serializer = VoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        procedure = procedure_void(procedure=self.get_object(), by=request.user, **serializer.validated_data)
        return self._respond(procedure)

    @extend_schema(request=AddendumSerializer, responses={201: AddendumSerializer})
    @action(detail=True, methods=["post"])
    def addenda(self, request, pk=None):
        """Append an addendum to a signed procedure."""
        serializer = AddendumSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        addendum = addendum_add(procedure=self.get_object(), author=request.user, **serializer.validated_data)
        return Response(AddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ProcedureDetailSerializer)
    @action(detail=True, methods=["post"], url_path="copy-forward")
    def copy_forward(self, request, pk=None):
        """Add the sites, sides, agents, amounts and needle of the patient's last signed procedure to the draft.

        Never pain scores, consent, times or lot numbers; a site and side already on the draft is kept.
        400 when the patient has no signed procedure; 409 when this one is not a draft.
        """
        procedure = self.get_object()
        procedure_copy_forward(procedure=procedure, by=request.user)
        return self._respond(procedure)

    @extend_schema(request=InjectionDefaultsSerializer, responses=ProcedureDetailSerializer)
    @action(detail=True, methods=["post"], url_path="apply-defaults")
    def apply_defaults(self, request, pk=None):
        """Fill the empty agent, concentration, lot and needle gauge of every site of the draft from one row.

        A value already on a site is kept (the site overrides the row); concentration and lot go only to
        sites of the row's agent; a dry-needled site takes only the needle gauge. 409 when not a draft.
        """
        procedure = self.get_object()
        serializer = InjectionDefaultsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        injections_apply_defaults(procedure=procedure, defaults=serializer.validated_data, by=request.user)
        return self._respond(procedure)

    @extend_schema(responses=SignWarningSerializer(many=True))
    @action(detail=True, methods=["get"])
    def warnings(self, request, pk=None):
        """The warnings to read before signing (allergy, anticoagulants, repeat site, steroid load)."""
        procedure = self.get_object()
        if not procedure_shows_clinical_detail(user=request.user):
            raise PermissionDenied("The sign warnings are clinical detail (allergies, medication).")
        found = procedure_sign_warnings(procedure=procedure)
        return Response(SignWarningSerializer(found, many=True).data)


class MassageNoteFilter(ClinicFilterSet):
    # Ids, not model choices: a filter by id needs no look-up query (the list stays at a fixed count).
    procedure = IdFilter(field_name="procedure_id")
    therapist = IdFilter(field_name="therapist_id")

    class Meta:
        model = MassageNote
        fields = ["procedure", "therapist", "status"]


class MassageNoteViewSet(
    AccessLoggedRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The therapist's own massage notes: added to a draft procedure or to a signed one within the
    window, edited while a draft, signed by their therapist, then corrected by addenda only."""

    queryset = MassageNote.objects.select_related(
        "procedure", "therapist__user", "signed_by__provider"
    ).prefetch_related(
        Prefetch("massaged_sites", queryset=MassagedSite.objects.select_related("site")),
        Prefetch("addenda", queryset=MassageNoteAddendum.objects.select_related("author__provider")),
    )
    serializer_class = MassageNoteSerializer
    pagination_class = CappedPagePagination
    filterset_class = MassageNoteFilter
    permission_classes = [ClinicModelPermissions]
    change_actions = ["sign", "addenda"]

    def get_audit_patient(self, obj: MassageNote):
        return obj.procedure.patient

    def get_queryset(self):
        if self.action == "list":
            return massage_notes_visible(user=self.request.user, queryset=self.queryset)
        return self.queryset

    def has_object_access(self, request, obj: MassageNote) -> bool:
        """Reads follow the procedure's rules; only the note's own therapist (or a clinic admin) writes it."""
        if request.method in permissions.SAFE_METHODS:
            return procedure_may_view(user=request.user, procedure=obj.procedure)
        if not massage_note_may_change(user=request.user, note=obj):
            verb = {"sign": "sign", "addenda": "add an addendum to"}.get(self.action, "change")
            raise PermissionDenied(f"Only the note's own therapist or a clinic admin may {verb} it.")
        return True

    def _respond(self, note: MassageNote, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.queryset.get(pk=note.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not massage_note_may_change(user=request.user, note=MassageNote(therapist=data.get("therapist"))):
            raise PermissionDenied("Write your own massage notes (a clinic admin may write for others).")
        note = massage_note_create(procedure=data.pop("procedure"), sites=data.pop("massaged_sites"), **data)
        return self._respond(note, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        note = self.get_object()
        serializer = self.get_serializer(note, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "procedure" in data and data.pop("procedure") != note.procedure:
            raise ValidationError({"procedure": "A massage note cannot move to another procedure."})
        if "therapist" in data and not massage_note_may_change(
            user=request.user, note=MassageNote(therapist=data["therapist"])
        ):
            raise PermissionDenied("A massage note cannot be handed to another therapist.")
        note = massage_note_update(note=note, sites=data.pop("massaged_sites", None), **data)
        return self._respond(note)

    @extend_schema(request=None, responses=MassageNoteSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Sign the draft note (its own therapist or a clinic admin); 409 when it is already signed."""
        return self._respond(massage_note_sign(note=self.get_object(), by=request.user))

    @extend_schema(request=MassageNoteAddendumSerializer, responses={201: MassageNoteAddendumSerializer})
    @action(detail=True, methods=["post"])
    def addenda(self, request, pk=None):
        """Append an addendum to a signed massage note (its own therapist or a clinic admin)."""
        serializer = MassageNoteAddendumSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        addendum = massage_note_addendum_add(note=self.get_object(), author=request.user, **serializer.validated_data)
        return Response(MassageNoteAddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)
