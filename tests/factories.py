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
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    role = Provider.Role.PHYSICIAN
    credentials = "MD"

    @factory.post_generation
    def role_group(obj, create, extracted, **kwargs):
        """Put the user in their staff role's group (issue 6): massage therapist, else provider."""
        if create and extracted is not False:
            from django.contrib.auth.models import Group

            from clinic import roles

            name = roles.MASSAGE_THERAPIST if obj.role == Provider.Role.MASSAGE_THERAPIST else roles.PROVIDER
            obj.user.groups.add(Group.objects.get(name=name))


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


# --- Security (issue 6): staff users in a role group ------------------------------------------
def staff_user(role: str, **kwargs):
    """Return a new staff user who belongs to ROLE's group (see clinic.roles)."""
    from django.contrib.auth.models import Group

    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


# --- tpi (issue 3) ------------------------------------------------------------------------------
from decimal import Decimal  # noqa: E402
from importlib import import_module  # noqa: E402

from tpi.models import Injection, MassageNote, Procedure, TriggerPointSite  # noqa: E402


def site(name: str) -> TriggerPointSite:
    """Return a catalogue site shipped by the data migration, by name.

    Recreated from the migration's list when a transactional test has flushed the table.
    """
    regions = dict(import_module("tpi.migrations.0002_trigger_point_sites").SITES)
    return TriggerPointSite.objects.get_or_create(name=name, defaults={"body_region": regions[name]})[0]


class ProcedureFactory(factory.django.DjangoModelFactory):
    """A complete draft: consent recorded, pain scores before and after; add injections to sign it."""

    class Meta:
        model = Procedure

    patient = factory.SubFactory(PatientFactory)
    provider = factory.SubFactory(ProviderFactory)
    performed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    indication = "Myofascial pain, upper trapezius"
    indication_icd10 = "M79.18"
    pain_before = 7
    pain_after = 3
    consent_obtained = True
    consent_obtained_by = factory.LazyAttribute(lambda p: p.provider.user)
    consent_obtained_at = factory.LazyAttribute(lambda p: p.performed_at - dt.timedelta(minutes=10))


class InjectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Injection

    procedure = factory.SubFactory(ProcedureFactory)
    site = factory.LazyFunction(lambda: site("Upper trapezius"))
    laterality = Injection.Laterality.LEFT
    anaesthetic_agent = Injection.Anaesthetic.LIDOCAINE
    anaesthetic_concentration_percent = Decimal("1.00")
    anaesthetic_volume_ml = Decimal("2.00")
    needle_gauge = 25
    lot_number = "LIDO-2026-114"


class MassageNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MassageNote
        skip_postgeneration_save = True

    procedure = factory.SubFactory(ProcedureFactory)
    therapist = factory.SubFactory(ProviderFactory, role="massage_therapist", credentials="LMT")
    performed_at = factory.LazyAttribute(lambda m: m.procedure.performed_at + dt.timedelta(minutes=15))
    duration_minutes = 10
    technique = MassageNote.Technique.EFFLEURAGE
    tolerance = MassageNote.Tolerance.GOOD

    @factory.post_generation
    def sites(obj, create, extracted, **kwargs):
        if create:
            obj.sites.set(extracted or [site("Upper trapezius")], through_defaults={"laterality": "left"})


# --- Scheduling ---------------------------------------------------------------------------------
# Appointments are made only by the booking service; tests use scheduling.booking.appointment_book.
from scheduling.models import AppointmentType, Closure, Location, OpeningHours, Room, WorkingHours  # noqa: E402


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["name"]

    name = "Main location"
    address = "1 Main Street"


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    location = factory.SubFactory(LocationFactory)
    weekday = 0
    start_time = dt.time(8)
    end_time = dt.time(17)


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    reason = "Staff training"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ["name"]
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Room {n + 1}")
    location = factory.SubFactory(LocationFactory)

    @factory.post_generation
    def appointment_types(self, create, extracted, **kwargs):
        """Host the given types, or (by default, like the migration did for existing rooms) every type."""
        if not create:
            return
        self.appointment_types.set(extracted if extracted is not None else AppointmentType.objects.all())


class AppointmentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppointmentType
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"tpi-{n}")
    name = "TPI procedure"
    default_duration_minutes = 30
    buffer_after_minutes = 0
    allowed_roles = factory.LazyFunction(lambda: [Provider.Role.PHYSICIAN, Provider.Role.NP_PA])

    @factory.post_generation
    def rooms(self, create, extracted, **kwargs):
        """Be hosted by the given rooms, or (by default) by every existing room."""
        if not create:
            return
        self.rooms.add(*(extracted if extracted is not None else Room.objects.all()))


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


# --- tpi follow-ups (issue 5) -------------------------------------------------------------------
def signed_procedure(*, performed_at: dt.datetime, **procedure_fields) -> Procedure:
    """Return a procedure performed at PERFORMED_AT with one injection, signed by its provider.

    The clock must be at or after PERFORMED_AT (signing refuses a procedure in the future).
    """
    from tpi.signing import procedure_sign

    fields = {f"procedure__{name}": value for name, value in procedure_fields.items()}
    procedure = InjectionFactory(procedure__performed_at=performed_at, **fields).procedure
    return procedure_sign(procedure=procedure, by=procedure.provider.user)
