import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.accounts.actors import request_user
from clinic.api.filters import ClinicFilterSet
from clinic.messaging.api import serializers as s
from clinic.messaging.models import TriageAnswer, TriageItem
from clinic.messaging.triage import triage_answer, triage_handle
from clinic.roles import ClinicModelPermissions


class TriageFilter(ClinicFilterSet):
    state = django_filters.ChoiceFilter(
        choices=[("open", "open"), ("handled", "handled"), ("all", "all")],
        method="filter_state",
        empty_label=None,
        help_text="open (the default), handled or all",
    )

    class Meta:
        model = TriageItem
        fields = ["urgency", "reason", "patient"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("state", "open")
        super().__init__(data, *args, **kwargs)

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(handled_at__isnull=True)
        if value == "handled":
            return queryset.filter(handled_at__isnull=False)
        return queryset


class TriageItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The triage inbox: replies that need a person, most urgent first; mark handled, answer by SMS."""

    queryset = (
        TriageItem.objects.select_related("inbound", "handled_by__provider")
        .prefetch_related(
            Prefetch("staff_answers", queryset=TriageAnswer.objects.select_related("message", "by__provider"))
        )
        .order_by("-urgency", "opened_at", "id")
    )
    serializer_class = s.TriageItemSerializer
    permission_classes = [ClinicModelPermissions]
    filterset_class = TriageFilter
    change_actions = frozenset({"handle", "answer"})  # POSTs on an item need change_triageitem

    @extend_schema(request=None, responses={200: s.TriageItemSerializer})
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        """Mark the item handled (an item already handled keeps its first handler)."""
        item = triage_handle(item=self.get_object(), by=request_user(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)

    @extend_schema(request=s.TriageAnswerRequestSerializer, responses={201: s.TriageAnswerSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Text the patient through the outbox (consent and quiet hours apply); 400 names why it cannot go."""
        data = s.TriageAnswerRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = triage_answer(item=self.get_object(), text=data.validated_data["text"], by=request_user(request))
        return Response(s.TriageAnswerSerializer(answer).data, status=status.HTTP_201_CREATED)
