"""Admin forms of the front desk: they parse input; the booking service decides."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect

from clinic.models import Patient, Provider
from scheduling.models import Appointment, AppointmentType, Room


class BookingForm(forms.Form):
    """Book one appointment: patient (autocomplete), provider, room, type, local start time."""

    patient = forms.ModelChoiceField(
        queryset=Patient.objects.all(), widget=AutocompleteSelect(Appointment._meta.get_field("patient"), admin.site)
    )
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True).select_related("user"))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True))
    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.filter(is_active=True))
    start = forms.DateTimeField(
        help_text="Clinic local time",
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
        fields = ["code", "name", "default_duration_minutes", "buffer_after_minutes", "allowed_roles", "is_active"]


class SeriesForm(forms.Form):
    """Plan a recurring series: who, where, what, the first occurrence and the RRULE."""

    patient = forms.ModelChoiceField(
        queryset=Patient.objects.all(), widget=AutocompleteSelect(Appointment._meta.get_field("patient"), admin.site)
    )
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True).select_related("user"))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True))
    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.filter(is_active=True))
    dtstart = forms.DateTimeField(
        label="First occurrence",
        help_text="Clinic local time; later occurrences keep this clock time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    rrule = forms.CharField(
        label="Repeat rule (RRULE)",
        initial="FREQ=WEEKLY;INTERVAL=4;COUNT=3",
        help_text="e.g. FREQ=WEEKLY;INTERVAL=4;COUNT=3 (every 4 weeks, 3 times) or FREQ=WEEKLY;UNTIL=20270301",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MoveForm(forms.Form):
    """Move an appointment (or it and the following ones of its series) to a new local start time."""

    start = forms.DateTimeField(
        help_text="Clinic local time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True).select_related("user"))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True))
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
