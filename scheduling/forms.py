"""Admin forms of the front desk: they parse input; the booking service decides."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.models import Patient, Provider
from scheduling.clock import local_date, localize
from scheduling.lead_times import lead_times_format, lead_times_parse
from scheduling.models import Appointment, AppointmentType, Room
from scheduling.series import series_rule_build


def at_room(cleaned: dict, name: str, room: Room | None = None) -> None:
    """Read the wall time in CLEANED[NAME] on the clock of the room's location (ROOM, else the form's room).

    Django parsed it on the clinic's clock; staff typed the time of the place the visit is at.
    """
    value, room = cleaned.get(name), room or cleaned.get("room")
    if value is None or room is None:
        return
    cleaned[name] = localize(timezone.make_naive(value), zone=room.location.zone)


class PatientChoiceField(forms.ModelChoiceField):
    """A patient picker: each choice shows the date of birth next to the name."""

    def label_from_instance(self, obj):
        return obj.picker_label


def _zone(cleaned: dict):
    room = cleaned.get("room")
    return room.location.zone if room is not None else None


class BookingForm(forms.Form):
    """Book one appointment: patient (autocomplete), provider, room, type, start on the room's location's clock."""

    patient = PatientChoiceField(
        queryset=Patient.objects.all(), widget=AutocompleteSelect(Appointment._meta.get_field("patient"), admin.site)
    )
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True).select_related("user"))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True).select_related("location"))
    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.filter(is_active=True))
    start = forms.DateTimeField(
        help_text="Local time of the room's location",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override_hours = forms.BooleanField(
        required=False, label="Book outside working hours (clinic admin override, recorded)"
    )

    def __init__(self, *args, allow_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_override:
            del self.fields["override_hours"]

    def clean(self):
        cleaned = super().clean() or {}
        at_room(cleaned, "start")
        return cleaned


class AppointmentTypeForm(forms.ModelForm):
    allowed_roles = forms.MultipleChoiceField(
        choices=Provider.Role.choices, widget=forms.CheckboxSelectMultiple, help_text="Who may take this visit"
    )
    # The other side of Room.appointment_types: a new visit type is bookable only in the rooms ticked here.
    rooms = forms.ModelMultipleChoiceField(
        queryset=Room.objects.select_related("location"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Rooms equipped for this visit",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["rooms"].initial = list(self.instance.rooms.all())

    class Meta:
        model = AppointmentType
        fields = [
            "code",
            "name",
            "default_duration_minutes",
            "buffer_after_minutes",
            "allowed_roles",
            "is_active",
            "send_confirmations",
            "reminder_lead_times",
        ]

    def clean_reminder_lead_times(self) -> str:
        """Store the lead times as the clinic reads them back ("2 days, 2 hours"); empty keeps the default."""
        text = self.cleaned_data["reminder_lead_times"].strip()
        return lead_times_format(lead_times_parse(text)) if text else ""


class SeriesForm(forms.Form):
    """Plan a recurring series: who, where, what, the first occurrence and the RRULE."""

    patient = PatientChoiceField(
        queryset=Patient.objects.all(), widget=AutocompleteSelect(Appointment._meta.get_field("patient"), admin.site)
    )
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True).select_related("user"))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True).select_related("location"))
    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.filter(is_active=True))
    dtstart = forms.DateTimeField(
        label="First occurrence",
        help_text="Local time of the room's location; later occurrences keep this clock time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    every_weeks = forms.IntegerField(label="Every", required=False, initial=4, help_text="weeks")
    times = forms.IntegerField(label="Times", required=False, initial=3, help_text="visits in all, the first included")
    until = forms.DateField(
        label="Or until", required=False, help_text="last possible day", widget=forms.DateInput(attrs={"type": "date"})
    )
    rrule = forms.CharField(
        label="Advanced: repeat rule (RRULE)",
        required=False,
        help_text="Leave empty to repeat as above; or an RFC 5545 rule, e.g. FREQ=WEEKLY;INTERVAL=4;COUNT=3",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        """Build the RRULE from "every N weeks, K times (or until a date)" unless an advanced rule is given."""
        cleaned = super().clean() or {}
        at_room(cleaned, "dtstart")
        if cleaned.get("rrule"):
            return cleaned
        start = cleaned.get("dtstart")
        try:
            cleaned["rrule"] = series_rule_build(
                every_weeks=cleaned.get("every_weeks"),
                times=cleaned.get("times"),
                until=cleaned.get("until"),
                first_day=local_date(start, zone=_zone(cleaned)) if start is not None else None,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name, messages)
        return cleaned


class MoveForm(forms.Form):
    """Move an appointment (or it and the following ones of its series) to a new start on the room's clock."""

    start = forms.DateTimeField(
        help_text="Local time of the room's location",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True).select_related("user"))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True).select_related("location"))
    scope = forms.ChoiceField(
        choices=[("this", "This appointment only"), ("following", "This and the following ones of the series")],
        initial="this",
        widget=forms.RadioSelect,
    )
    override_hours = forms.BooleanField(
        required=False, label="Move outside working hours (clinic admin override, recorded)"
    )

    def __init__(self, *args, in_series: bool = False, allow_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not in_series:
            del self.fields["scope"]
        if not allow_override:
            del self.fields["override_hours"]

    def clean(self):
        cleaned = super().clean() or {}
        at_room(cleaned, "start")
        return cleaned
