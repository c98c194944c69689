"""The triage inbox over the API: items with their links, who handled them, the answers sent."""

from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.api.fields import UserField
from clinic.messaging.models import TriageAnswer, TriageItem


class LinkSerializer(serializers.Serializer):
    """A generic link: the record's kind ("app_label.model"), id and text as staff read it."""

    kind = serializers.CharField()
    id = serializers.IntegerField()
    text = serializers.CharField()


def _link(content_type_id: int | None, object_id: int | None, label: str) -> dict | None:
    if content_type_id is None or object_id is None:
        return None
    content_type = ContentType.objects.get_for_id(content_type_id)  # cached: no query per row
    return {"kind": f"{content_type.app_label}.{content_type.model}", "id": object_id, "text": label}


class TriageAnswerSerializer(serializers.ModelSerializer):
    by = UserField(read_only=True, allow_null=True)
    text = serializers.CharField(source="message.body", read_only=True)
    message_status = serializers.CharField(source="message.status", read_only=True)
    send_at = serializers.DateTimeField(source="message.next_attempt_at", read_only=True)

    class Meta:
        model = TriageAnswer
        fields = ["id", "at", "by", "text", "message", "message_status", "send_at"]


class TriageItemSerializer(serializers.ModelSerializer):
    urgency_label = serializers.CharField(source="get_urgency_display", read_only=True)
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)
    body = serializers.CharField(source="inbound.body", read_only=True, default="")
    concerns = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField()
    handled_by = UserField(read_only=True, allow_null=True)
    staff_answers = TriageAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = TriageItem
        fields = [
            "id", "urgency", "urgency_label", "reason", "reason_label", "detail", "patient", "inbound", "body",
            "opened_at", "concerns", "answers", "handled_at", "handled_by", "staff_answers",
        ]  # fmt: skip

    @extend_schema_field(LinkSerializer(allow_null=True))
    def get_concerns(self, obj: TriageItem) -> dict | None:
        return _link(obj.concerns_type_id, obj.concerns_id, obj.concerns_label)

    @extend_schema_field(LinkSerializer(allow_null=True))
    def get_answers(self, obj: TriageItem) -> dict | None:
        return _link(obj.answers_type_id, obj.answers_id, obj.answers_label)


class TriageAnswerRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=1000)
