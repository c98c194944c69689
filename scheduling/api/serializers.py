"""Scheduling API shapes: read serializers for records, input serializers for each service call."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from clinic.api.fields import UserField
from clinic.models import Patient, Provider
from scheduling.clock import local_date, localize
from scheduling.models import (
    Appointment,
    AppointmentType,
    Closure,
    Location,
    OpeningHours,
    Room,
    Series,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
)
from scheduling.series import series_rule_build


class WallDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time; one without an offset is a wall time of the room's location (read in validate())."""

    def enforce_timezone(self, value):
        # An offset given is kept; a naive value stays naive here: the serializer knows the room, hence the zone.
        return value


def at_room(attrs: dict, name: str, room: Room | None) -> None:
    """Read a naive ATTRS[NAME] on the clock of ROOM's location (an offset, when given, wins)."""
    value = attrs.get(name)
    if value is not None and room is not None and timezone.is_naive(value):
        attrs[name] = localize(value, zone=room.location.zone)


class OpeningHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "start_time", "end_time"]


class LocationSerializer(serializers.ModelSerializer):
    opening_hours = OpeningHoursSerializer(many=True, read_only=True)

    class Meta:
        model = Location
        fields = ["id", "name", "address", "time_zone", "is_active", "opening_hours"]
        read_only_fields = fields


class RoomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "name", "location", "appointment_types", "is_active"]
        read_only_fields = fields


class ClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Closure
        fields = ["id", "location", "first_day", "last_day", "start", "end", "reason", "source", "created_at"]
        read_only_fields = ["id", "source", "created_at"]


class AppointmentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppointmentType
        fields = [
            "id",
            "code",
            "name",
            "default_duration_minutes",
            "buffer_after_minutes",
            "allowed_roles",
            "is_active",
            "send_confirmations",
            "reminder_lead_times",
        ]


class WorkingHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkingHours
        fields = ["id", "provider", "location", "weekday", "start_time", "end_time"]


class AppointmentSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.display_name", read_only=True)
    provider_name = serializers.CharField(source="provider.__str__", read_only=True)
    hours_override_by = UserField(read_only=True, allow_null=True)
    # Empty until confirmed: the schema names "" beside the choices (a read-only model field would not).
    confirmed_via = serializers.ChoiceField(
        choices=Appointment.ConfirmedVia.choices,
        allow_blank=True,
        read_only=True,
        help_text="Who confirmed: the patient by SMS, or staff; empty until confirmed",
    )
    summary = serializers.CharField(
        source="__str__", read_only=True, help_text="Visit type and start on the clock of the room's location"
    )
    time_zone = serializers.CharField(
        source="room.location.time_zone", read_only=True, help_text="IANA zone of the room's location"
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "summary",
            "patient",
            "patient_name",
            "provider",
            "provider_name",
            "room",
            "time_zone",
            "appointment_type",
            "start",
            "end",
            "blocked_end",
            "status",
            "cancellation_reason",
            "notes",
            "series",
            "series_occurrence",
            "hours_override_by",
            "hours_override_at",
            "is_backdated",
            "confirmed_at",
            "confirmed_via",
            "reschedule_requested_at",
            "created_at",
        ]
        read_only_fields = fields


class BookSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.select_related("user"))
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all())
    appointment_type = serializers.PrimaryKeyRelatedField(queryset=AppointmentType.objects.all())
    start = WallDateTimeField(help_text="With an offset, or a wall time of the room's location")
    end = WallDateTimeField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    override_hours = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        at_room(attrs, "start", attrs.get("room"))
        at_room(attrs, "end", attrs.get("room"))
        return attrs


SCOPES = [("this", "This appointment"), ("following", "This and the following ones of its series")]


class MoveSerializer(serializers.Serializer):
    """A naive start or end is read on the clock of the new room's location (else the appointment's room's)."""

    start = WallDateTimeField(help_text="With an offset, or a wall time of the room's location")
    end = WallDateTimeField(required=False)
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.select_related("user"), required=False)
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all(), required=False)
    override_hours = serializers.BooleanField(required=False, default=False)
    scope = serializers.ChoiceField(choices=SCOPES, default="this")

    def validate(self, attrs):
        if attrs["scope"] == "following" and ({"end", "provider", "room"} & attrs.keys()):
            raise serializers.ValidationError({"scope": "Moving the following ones shifts their start only."})
        room = attrs.get("room") or self.context.get("room")
        at_room(attrs, "start", room)
        at_room(attrs, "end", room)
        return attrs


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    scope = serializers.ChoiceField(choices=SCOPES, default="this")


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Appointment.Status.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SeriesPlanSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.select_related("user"))
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all())
    appointment_type = serializers.PrimaryKeyRelatedField(queryset=AppointmentType.objects.all())
    dtstart = WallDateTimeField(
        help_text="First occurrence (with an offset, or a wall time of the room's location); later ones keep its "
        "wall-clock time at that location"
    )
    every_weeks = serializers.IntegerField(
        required=False, allow_null=True, help_text="Every N weeks (1-52); with times or until, instead of rrule"
    )
    times = serializers.IntegerField(
        required=False, allow_null=True, help_text="How many visits in all, the first included (or give until)"
    )
    until = serializers.DateField(
        required=False, allow_null=True, help_text="The last possible day, at the room's location (or give times)"
    )
    rrule = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;INTERVAL=4;COUNT=3; leave out to give every_weeks and times/until",
    )

    def validate(self, attrs):
        at_room(attrs, "dtstart", attrs.get("room"))
        simple = {name: attrs.pop(name, None) for name in ("every_weeks", "times", "until")}
        if attrs.get("rrule"):
            if any(value is not None for value in simple.values()):
                raise serializers.ValidationError(
                    {"rrule": ["Give the repeat rule or every_weeks with times or until, not both."]}
                )
            return attrs
        # "Every N weeks, K times (or until a day)": the same rule the admin's series form builds.
        start, room = attrs.get("dtstart"), attrs.get("room")
        first_day = local_date(start, zone=room.location.zone) if start is not None and room is not None else None
        try:
            attrs["rrule"] = series_rule_build(**simple, first_day=first_day)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class SeriesChoiceSerializer(serializers.Serializer):
    occurrence = serializers.DateTimeField()
    start = serializers.DateTimeField(
        required=False, allow_null=True, help_text="An alternative time; omit for as planned"
    )


class SeriesCommitSerializer(SeriesPlanSerializer):
    choices = SeriesChoiceSerializer(
        many=True, required=False, help_text="Accepted occurrences; omit to accept every occurrence as planned"
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    override_hours = serializers.BooleanField(required=False, default=False)


class SlotSerializer(serializers.Serializer):
    provider = serializers.IntegerField(source="provider.pk")
    provider_name = serializers.CharField(source="provider.__str__")
    room = serializers.IntegerField(source="room.pk")
    room_name = serializers.CharField(source="room.name")
    time_zone = serializers.CharField(source="room.location.time_zone", help_text="IANA zone of the room's location")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class OccurrencePreviewSerializer(serializers.Serializer):
    occurrence = serializers.DateTimeField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=["free", "conflict", "closed", "outside_hours"])
    problem = serializers.CharField()
    conflicts = serializers.SerializerMethodField()
    alternatives = SlotSerializer(many=True)

    def get_conflicts(self, obj) -> list[dict]:
        return [{**AppointmentSerializer(c.appointment).data, "on": list(c.on)} for c in obj.collisions]


class SeriesSerializer(serializers.ModelSerializer):
    appointments = AppointmentSerializer(many=True, read_only=True)

    class Meta:
        model = Series
        fields = [
            "id",
            "patient",
            "provider",
            "room",
            "appointment_type",
            "dtstart",
            "rrule",
            "created_at",
            "appointments",
        ]
        read_only_fields = fields


class FreeSlotQuerySerializer(serializers.Serializer):
    appointment_type = serializers.PrimaryKeyRelatedField(queryset=AppointmentType.objects.all())
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.select_related("user"), required=False)
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all(), required=False)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False)
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all(), required=False)
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)

    def validate(self, attrs):
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": "Must not be before date_from."})
        if (attrs["date_to"] - attrs["date_from"]).days > 31:
            raise serializers.ValidationError({"date_to": "Search at most 31 days at once."})
        return attrs


class ClosureCreatedSerializer(ClosureSerializer):
    affected = AppointmentSerializer(many=True, read_only=True, help_text="Booked appointments it covers, to move")

    class Meta(ClosureSerializer.Meta):
        fields = [*ClosureSerializer.Meta.fields, "affected"]


class WaitlistOfferSerializer(serializers.ModelSerializer):
    start = serializers.DateTimeField(source="slot.start", read_only=True)

    class Meta:
        model = WaitlistOffer
        fields = ["id", "start", "status", "offered_at", "expires_at", "answered_at", "appointment"]


class WaitlistEntrySerializer(serializers.ModelSerializer):
    offers = WaitlistOfferSerializer(many=True, read_only=True)

    class Meta:
        model = WaitlistEntry
        fields = [
            "id", "patient", "appointment_type", "provider", "location", "weekdays", "earliest_time", "latest_time",
            "until", "status", "appointment", "notes", "created_at", "offers",
        ]  # fmt: skip


class WaitlistJoinSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    appointment_type = serializers.PrimaryKeyRelatedField(queryset=AppointmentType.objects.all())
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.select_related("user"), required=False, allow_null=True, default=None,
        help_text="Empty: any provider who takes this type",
    )  # fmt: skip
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, default=list,
        help_text="0 = Monday ... 6 = Sunday; empty: any day",
    )  # fmt: skip
    earliest_time = serializers.TimeField(required=False, allow_null=True, default=None)
    latest_time = serializers.TimeField(required=False, allow_null=True, default=None)
    until = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
