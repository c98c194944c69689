"""factory_boy factories for every app's records; one module so tests share one vocabulary."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from clinic.models import Patient, Provider
from clinic.patients import mrn_generate


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.example")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    user = factory.SubFactory(UserFactory)
    role = Provider.Role.PHYSICIAN
    credentials = "MD"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.LazyFunction(mrn_generate)
    legal_first_name = factory.Faker("first_name")
    legal_last_name = factory.Faker("last_name")
    date_of_birth = dt.date(1980, 5, 17)
    sex = Patient.Sex.FEMALE
    mobile_phone = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    email = factory.LazyAttribute(lambda p: f"{p.legal_first_name.lower()}@patients.example")
    preferred_channel = Patient.Channel.SMS
    sms_consent = True
    sms_consent_at = factory.LazyFunction(timezone.now)
    sms_consent_method = Patient.ConsentMethod.WRITTEN
    email_consent = True
    email_consent_at = factory.LazyFunction(timezone.now)
    email_consent_method = Patient.ConsentMethod.WRITTEN


# --- Scheduling ---------------------------------------------------------------------------------
# Appointments are made only by the booking service; tests use scheduling.booking.appointment_book.
from scheduling.models import AppointmentType, Room, WorkingHours  # noqa: E402


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Room {n + 1}")


class AppointmentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppointmentType
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"tpi-{n}")
    name = "TPI procedure"
    default_duration_minutes = 30
    buffer_after_minutes = 0
    allowed_roles = factory.LazyFunction(lambda: [Provider.Role.PHYSICIAN, Provider.Role.NP_PA])


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    provider = factory.SubFactory(ProviderFactory)
    weekday = 0
    start_time = dt.time(8)
    end_time = dt.time(17)


def working_week(provider, *, start=dt.time(8), end=dt.time(17), weekdays=range(7)):
    """Give PROVIDER the same working interval on each of WEEKDAYS (all seven by default)."""
    for weekday in weekdays:
        WorkingHoursFactory(provider=provider, weekday=weekday, start_time=start, end_time=end)
    return provider
