"""clinic.imports.patients: the dry run lists every row's fate, the commit writes all or nothing, twice is a no-op."""

import datetime as dt
import io
import json

import pytest
import time_machine

from clinic import roles
from clinic.imports.patients import patients_import, patients_read_csv, patients_read_fhir
from clinic.imports.runner import ImportParseError
from clinic.messaging.models import ConsentEvent
from clinic.models import Patient
from tests.factories import PatientFactory, staff_user

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC)  # the clinic's date is still the 29th
HEADER = (
    "mrn,legal_first_name,legal_last_name,date_of_birth,sex,mobile_phone,email,sms_consent,sms_consent_at,"
    "sms_consent_method"
)
GOOD = [
    "A-1001,Jordan,Rivera,1978-04-12,female,(202) 555-0143,jordan@example.com,yes,2025-03-01T10:30:00-05:00,written",
    "A-1002,Sam,Okafor,1990-01-02,male,+12025550188,,no,,",
]
BAD = [
    "A-1003,Lee,Park,1985-06-30,male,12345,,no,,",  # bad phone
    "A-1001,Jordan,Rivera,1978-04-12,female,,,no,,",  # MRN again
    "A-1004,Ana,Ruiz,1970-13-01,female,,,no,,",  # no such date
    "A-1005,Kim,Sato,1966-02-02,female,+12025550111,,yes,,",  # consent without its time and method
    "A-1006,Max,Weber,1959-09-09,robot,,,maybe,,",  # unknown sex, not yes/no
]


@pytest.fixture
def admin():
    return staff_user(roles.CLINIC_ADMIN, username="onboarding", first_name="Olu", last_name="Ade")


def rows(*lines: str):
    return patients_read_csv(io.StringIO("\n".join([HEADER, *lines]) + "\n"))


def run(admin, *lines: str, commit: bool):
    with time_machine.travel(NOW, tick=False):
        return patients_import(rows=rows(*lines), by=admin, commit=commit, now=NOW)


def test_the_dry_run_lists_every_row_and_writes_nothing(admin):
    report = run(admin, *GOOD, *BAD, commit=False)

    assert not report.committed
    assert [(r.line, r.action, r.label) for r in report.rows] == [
        (2, "create", "MRN A-1001 Rivera, Jordan"),
        (3, "create", "MRN A-1002 Okafor, Sam"),
        (4, "refuse", "MRN A-1003 Park, Lee"),
        (5, "refuse", "MRN A-1001 Rivera, Jordan"),
        (6, "refuse", "MRN A-1004 Ruiz, Ana"),
        (7, "refuse", "MRN A-1005 Sato, Kim"),
        (8, "refuse", "MRN A-1006 Weber, Max"),
    ]
    assert [r.reasons for r in report.refused] == [
        ("mobile_phone: '12345' is not a valid phone number.",),
        ("mrn: MRN A-1001 appears again (first on line 2).",),
        ("date_of_birth: not a date ('1970-13-01'); write it as 1978-04-12.",),
        (
            "sms_consent: consent is imported only with its time (sms_consent_at) and how it was given "
            "(sms_consent_method: written, verbal, web_form, reply).",
        ),
        ("sms_consent: write yes or no, not 'maybe'.", "sex: Value 'robot' is not a valid choice."),
    ]
    assert report.summary() == "2 to create, 0 to update, 0 unchanged, 5 refused"
    assert Patient.objects.count() == 0
    assert ConsentEvent.objects.count() == 0


def test_a_commit_with_a_refused_row_writes_nothing(admin):
    report = run(admin, *GOOD, BAD[0], commit=True)

    assert not report.committed
    assert report.counts == {"create": 2, "refuse": 1}
    assert Patient.objects.count() == 0


def test_the_commit_creates_through_the_service_with_the_consent_source_and_time(admin):
    report = run(admin, *GOOD, commit=True)

    assert report.committed
    assert report.summary() == "2 created, 0 updated, 0 unchanged, 0 refused"
    jordan = Patient.objects.get(mrn="A-1001")
    assert (jordan.legal_last_name, str(jordan.mobile_phone), jordan.email) == (
        "Rivera",
        "+12025550143",
        "jordan@example.com",
    )
    assert (jordan.sms_consent, jordan.sms_consent_at, jordan.sms_consent_method) == (
        True,
        dt.datetime(2025, 3, 1, 15, 30, tzinfo=dt.UTC),
        "written",
    )
    event = ConsentEvent.objects.get()
    assert (event.patient, event.channel, event.granted, event.source, event.at, event.by) == (
        jordan,
        "sms",
        True,
        "import",
        dt.datetime(2025, 3, 1, 15, 30, tzinfo=dt.UTC),
        admin,
    )
    sam = Patient.objects.get(mrn="A-1002")
    assert (sam.sms_consent, sam.sms_consent_at, sam.email) == (False, None, "")


def test_a_second_run_finds_everything_unchanged(admin):
    run(admin, *GOOD, commit=True)

    again = run(admin, *GOOD, commit=True)

    assert again.committed
    assert [r.action for r in again.rows] == ["unchanged", "unchanged"]
    assert Patient.objects.count() == 2
    assert ConsentEvent.objects.count() == 1


def test_a_changed_row_updates_only_what_changed_and_never_the_consent(admin):
    run(admin, *GOOD, commit=True)
    jordan = Patient.objects.get(mrn="A-1001")
    jordan.sms_consent = False  # the patient texted STOP since the first import
    jordan.save()

    report = run(
        admin,
        "A-1001,Jordan,Rivera,1978-04-12,female,+12025550199,jordan@new.example,yes,2025-03-01T10:30:00-05:00,written",
        commit=True,
    )

    assert [(r.action, r.changes) for r in report.rows] == [("update", ("email", "mobile_phone"))]
    jordan.refresh_from_db()
    assert (str(jordan.mobile_phone), jordan.email, jordan.sms_consent) == (
        "+12025550199",
        "jordan@new.example",
        False,
    )


def test_an_mrn_of_another_person_or_a_person_under_another_mrn_is_refused(admin):
    PatientFactory(mrn="A-1001", legal_first_name="Pat", legal_last_name="Quinn", date_of_birth=dt.date(1950, 1, 1))
    PatientFactory(mrn="77777777", legal_first_name="Sam", legal_last_name="Okafor", date_of_birth=dt.date(1990, 1, 2))

    report = run(admin, *GOOD, commit=False)

    assert [r.reasons for r in report.rows] == [
        ("mrn: MRN A-1001 is Pat Quinn, born 1950-01-01: not this person.",),
        ("mrn: Sam Okafor, born 1990-01-02, is already registered as MRN 77777777.",),
    ]


def test_a_file_with_unknown_or_missing_columns_is_refused_whole():
    with pytest.raises(ImportParseError, match=r"missing column\(s\): date_of_birth; unknown column\(s\): birthday"):
        list(patients_read_csv(io.StringIO("mrn,first_name,last_name,birthday\n1,A,B,2000-01-01\n")))


def test_a_fhir_bundle_reads_like_the_csv(admin):
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [
                        {"system": "urn:old-ehr:ssn", "value": "999-99-9999"},
                        {"type": {"coding": [{"code": "MR"}]}, "system": "urn:old-ehr:mrn", "value": "F-1"},
                    ],
                    "name": [
                        {"use": "official", "family": "Rivera", "given": ["Jordan", "Ann"]},
                        {"use": "usual", "given": ["Jo"]},
                    ],
                    "gender": "female",
                    "birthDate": "1978-04-12",
                    "telecom": [
                        {"system": "phone", "use": "home", "value": "+12025550100"},
                        {"system": "phone", "use": "mobile", "value": "+1 202 555 0143"},
                        {"system": "email", "value": "jo@example.com"},
                    ],
                    "communication": [{"language": {"coding": [{"code": "es-MX"}]}}],
                }
            },
            {"resource": {"resourceType": "Organization", "name": "Old clinic"}},
            {"resource": {"resourceType": "Patient", "identifier": [{"value": "F-2"}], "birthDate": "1990-01-02"}},
        ],
    }

    with time_machine.travel(NOW, tick=False):
        report = patients_import(rows=patients_read_fhir(json.dumps(bundle)), by=admin, commit=True, now=NOW)

    assert [(r.line, r.action, r.label) for r in report.rows] == [
        (1, "create", "MRN F-1 Rivera, Jordan Ann"),
        (3, "refuse", "MRN F-2"),
    ]
    assert not report.committed  # F-2 has no name: the whole bundle waits
    assert [r.reasons for r in report.refused] == [
        ("legal_first_name: This field cannot be blank.", "legal_last_name: This field cannot be blank.")
    ]
    one = json.dumps({**bundle, "entry": bundle["entry"][:1]})
    with time_machine.travel(NOW, tick=False):
        good = patients_import(rows=patients_read_fhir(one), by=admin, commit=True, now=NOW)
    assert good.committed
    jordan = Patient.objects.get(mrn="F-1")
    assert (jordan.legal_first_name, jordan.preferred_name, str(jordan.mobile_phone), jordan.preferred_language) == (
        "Jordan Ann",
        "Jo",
        "+12025550143",
        "es",
    )
