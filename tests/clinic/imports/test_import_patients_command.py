"""manage.py import_patients: --dry-run and --commit on a file, refused rows listed, progress on stderr."""

import io

import pytest
from django.core.management import CommandError, call_command

from clinic import roles
from clinic.models import Patient
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

HEADER = "mrn,legal_first_name,legal_last_name,date_of_birth\n"


def command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_patients", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_dry_run_then_commit_then_again(tmp_path):
    staff_user(roles.CLINIC_ADMIN, username="onboarding")
    path = tmp_path / "patients.csv"
    path.write_text(HEADER + "".join(f"M-{i},First{i},Last{i},1980-01-{i + 1:02d}\n" for i in range(3)))

    dry, progress = command(str(path), "--dry-run", "--by", "onboarding")
    assert Patient.objects.count() == 0
    committed, _ = command(str(path), "--commit", "--by", "onboarding")
    again, _ = command(str(path), "--commit")

    assert dry.splitlines() == [
        "3 to create, 0 to update, 0 unchanged, 0 refused",
        "Dry run: nothing was written. Run again with --commit.",
    ]
    assert progress.startswith("\r3 / 3 rows (100%), ")
    assert committed.splitlines()[-1] == "Imported: 3 created, 0 updated, 0 unchanged, 0 refused."
    assert again.splitlines()[0] == "0 created, 0 updated, 3 unchanged, 0 refused"
    assert sorted(Patient.objects.values_list("mrn", flat=True)) == ["M-0", "M-1", "M-2"]


def test_refused_rows_are_listed_and_nothing_is_written(tmp_path):
    path = tmp_path / "patients.csv"
    path.write_text(HEADER + "M-1,Ana,Ruiz,1980-01-01\nM-1,Ana,Ruiz,1980-01-01\n")
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"^1 patients refused; nothing was written"):
        call_command("import_patients", str(path), "--commit", stdout=out, stderr=io.StringIO())

    assert out.getvalue().splitlines()[0] == "line 3: MRN M-1 Ruiz, Ana: mrn: MRN M-1 appears again (first on line 2)."
    assert Patient.objects.count() == 0


def test_fhir_ndjson_streams_one_patient_a_line(tmp_path):
    path = tmp_path / "Patient.ndjson"
    path.write_text(
        '{"resourceType": "Patient", "identifier": [{"value": "N-1"}], "name": [{"family": "Rivera", '
        '"given": ["Jordan"]}], "birthDate": "1978-04-12"}\n'
    )

    out, _ = command(str(path), "--commit")

    assert out.splitlines()[-1] == "Imported: 1 created, 0 updated, 0 unchanged, 0 refused."
    assert Patient.objects.get().mrn == "N-1"
