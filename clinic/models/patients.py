from django.conf import settings
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from clinic.validators import validate_time_zone


def clinic_time_zone() -> str:
    return settings.TIME_ZONE


class Patient(models.Model):
    """A patient of the clinic: demographics, contact, messaging consent and safety flags."""

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Unknown"

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        BOTH = "both", "SMS and email"
        NONE = "none", "No automated messages"

    class ConsentMethod(models.TextChoices):
        WRITTEN = "written", "Signed form"
        VERBAL = "verbal", "Verbal, recorded by staff"
        WEB_FORM = "web_form", "Web form"
        REPLY = "reply", "Patient reply (START)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        DECEASED = "deceased", "Deceased"

    mrn = models.CharField("MRN", max_length=12, unique=True, editable=False, help_text="Medical record number")
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    mobile_phone = PhoneNumberField(blank=True, help_text="E.164, e.g. +15555550123")
    email = models.EmailField(blank=True)
    preferred_channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.SMS)
    sms_consent = models.BooleanField("SMS consent", default=False)
    sms_consent_at = models.DateTimeField("SMS consent given at", null=True, blank=True)
    sms_consent_method = models.CharField(max_length=10, choices=ConsentMethod.choices, blank=True)
    email_consent = models.BooleanField(default=False)
    email_consent_at = models.DateTimeField(null=True, blank=True)
    email_consent_method = models.CharField(max_length=10, choices=ConsentMethod.choices, blank=True)
    time_zone = models.CharField(max_length=64, default=clinic_time_zone, validators=[validate_time_zone])
    preferred_language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    allergies = models.TextField(blank=True)
    local_anaesthetic_allergy = models.BooleanField(default=False)
    on_anticoagulants = models.BooleanField("anticoagulant use", default=False)
    anticoagulant_details = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "id"]
        indexes = [
            models.Index(fields=["legal_last_name", "legal_first_name"]),
            models.Index(fields=["date_of_birth"]),
            models.Index(fields=["mobile_phone"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(sms_consent=True, sms_consent_at__isnull=True),
                name="patient_sms_consent_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(email_consent=True, email_consent_at__isnull=True),
                name="patient_email_consent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    @property
    def picker_label(self) -> str:
        """Return how staff pick the patient, e.g. 'Ana Ruiz, DOB 05/17/1980, MRN 12345678'."""
        return f"{self.display_name}, DOB {self.date_of_birth:%m/%d/%Y}, MRN {self.mrn}"

    @property
    def display_name(self) -> str:
        """Return the name staff use: preferred first name when given, then legal last name."""
        return f"{self.preferred_name or self.legal_first_name} {self.legal_last_name}"
