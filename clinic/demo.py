"""Demo data for the core: staff users, providers and patients. Idempotent."""

from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from clinic import roles
from clinic.models import Patient, Provider
from clinic.patients import patient_create

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105  (printed demo login; seeding refuses DEBUG=false)
DEMO_USERS = [
    ("admin", "clinic admin"),
    ("frontdesk", "front desk"),
    ("drlee", "physician"),
    ("drpatel", "physician"),
    ("pasi", "massage therapist"),
]
_PROVIDERS = {
    "drlee": ("Morgan", "Lee", Provider.Role.PHYSICIAN, "MD", "1234567893"),
    "drpatel": ("Asha", "Patel", Provider.Role.PHYSICIAN, "DO", ""),
    "pasi": ("Pasi", "Virtanen", Provider.Role.MASSAGE_THERAPIST, "LMT", ""),
}
# Each demo user's role group (clinic.roles); created by a migration, permissions synced after migrate.
_GROUPS = {
    "admin": roles.CLINIC_ADMIN,
    "frontdesk": roles.FRONT_DESK,
    "drlee": roles.PROVIDER,
    "drpatel": roles.PROVIDER,
    "pasi": roles.MASSAGE_THERAPIST,
}
_PATIENTS = [
    ("Jordan", "Rivera", date(1978, 4, 12), Patient.Sex.FEMALE, "+12025550143", "jordan@example.com"),
    ("Sam", "Okafor", date(1985, 9, 3), Patient.Sex.MALE, "+12025550178", "sam@example.com"),
    ("Alex", "Nguyen", date(1969, 1, 22), Patient.Sex.OTHER, "+12025550191", ""),
    ("Maria", "Garcia", date(1991, 6, 30), Patient.Sex.FEMALE, "+12025550112", "maria@example.com"),
    ("Chris", "Baker", date(1958, 11, 5), Patient.Sex.MALE, "", "chris@example.com"),
]


def seed() -> None:
    User = get_user_model()
    for username, _role in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            first, last = _PROVIDERS.get(username, (username.title(), "Demo"))[:2]
            user.first_name, user.last_name = first, last
            user.is_superuser = username == "admin"
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=_GROUPS[username]))
        if username in _PROVIDERS:
            _, _, role, credentials, npi = _PROVIDERS[username]
            Provider.objects.get_or_create(user=user, defaults={"role": role, "credentials": credentials, "npi": npi})
    now = timezone.now()
    for first, last, dob, sex, phone, email in _PATIENTS:
        if Patient.objects.filter(legal_first_name=first, legal_last_name=last, date_of_birth=dob).exists():
            continue
        patient_create(
            legal_first_name=first,
            legal_last_name=last,
            date_of_birth=dob,
            sex=sex,
            mobile_phone=phone,
            email=email,
            preferred_channel=Patient.Channel.SMS if phone else Patient.Channel.EMAIL,
            sms_consent=bool(phone),
            sms_consent_at=now if phone else None,
            sms_consent_method=Patient.ConsentMethod.WRITTEN if phone else "",
            email_consent=bool(email),
            email_consent_at=now if email else None,
            email_consent_method=Patient.ConsentMethod.WRITTEN if email else "",
        )
