"""The admin's patient import page: upload, preview every row, import all or nothing; clinic admins only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinic import roles
from clinic.imports.patients import COLUMNS
from clinic.models import Patient
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

URL = "/admin/clinic/patient/import/"
CSV = (
    "mrn,legal_first_name,legal_last_name,date_of_birth,mobile_phone\n"
    "A-1,Jordan,Rivera,1978-04-12,+12025550143\n"
    "A-2,Sam,Okafor,1990-01-02,12345\n"
)


@pytest.fixture
def admin_client(client):
    client.force_login(staff_user(roles.CLINIC_ADMIN))
    return client


def upload(client, text: str, name: str = "patients.csv"):
    return client.post(URL, {"step": "preview", "file": SimpleUploadedFile(name, text.encode())})


def test_the_preview_lists_every_row_and_a_refusal_blocks_the_import(admin_client):
    response = upload(admin_client, CSV)

    assert response.status_code == 200
    report = response.context["report"]
    assert [(r.line, r.action, r.reasons) for r in report.rows] == [
        (2, "create", ()),
        (3, "refuse", ("mobile_phone: '12345' is not a valid phone number.",)),
    ]
    assert response.context["payload"] == ""  # no Import button while a row is refused
    assert "Fix the refused rows" in response.content.decode()
    assert Patient.objects.count() == 0


def test_preview_then_import_writes_the_previewed_file(admin_client):
    good = CSV.splitlines()[:2]
    preview = upload(admin_client, "\n".join(good) + "\n")
    payload = preview.context["payload"]
    tampered = admin_client.post(URL, {"step": "commit", "payload": payload[:-2] + "xx"})
    done = admin_client.post(URL, {"step": "commit", "payload": payload})
    again = upload(admin_client, "\n".join(good) + "\n")

    assert tampered.context["error"] == "The preview expired or was changed; upload the file again."
    assert done.status_code == 302
    assert done["Location"] == "/admin/clinic/patient/"
    assert list(Patient.objects.values_list("mrn", "legal_last_name")) == [("A-1", "Rivera")]
    assert [r.action for r in again.context["report"].rows] == ["unchanged"]
    assert again.context["payload"] == ""  # nothing to import: no Import button
    assert "Nothing to import: every row is already here" in again.content.decode()


def test_a_file_that_is_not_a_patient_list_says_why(admin_client):
    response = upload(admin_client, "name,age\nx,1\n")

    assert response.context["error"] == (
        "patients.csv: missing column(s): mrn, legal_first_name, legal_last_name, date_of_birth; "
        f"unknown column(s): name, age (the columns are: {', '.join(COLUMNS)})"
    )


def test_front_desk_cannot_import(client):
    client.force_login(staff_user(roles.FRONT_DESK))
    assert client.get(URL).status_code == 403
