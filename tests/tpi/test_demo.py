"""tpi.demo.seed: one signed demo procedure, idempotent."""

import pytest

from clinic import demo as clinic_demo
from tpi import demo as tpi_demo
from tpi.models import FollowUp, MassageNote, Procedure

pytestmark = pytest.mark.django_db


def test_seed_creates_one_signed_procedure_and_is_idempotent():
    clinic_demo.seed()
    tpi_demo.seed()
    tpi_demo.seed()

    procedure = Procedure.objects.with_muscle_count().get()
    assert (procedure.status, procedure.signed_by.username, procedure.provider.user.username) == (
        "signed",
        "drlee",
        "drlee",
    )
    assert procedure.patient.legal_last_name == "Rivera"
    assert procedure.injections.count() == 3
    assert procedure.injections.with_steroid().count() == 1
    assert procedure.cpt_code == "20553"
    assert MassageNote.objects.get().therapist.user.username == "pasi"
    assert FollowUp.objects.filter(procedure=procedure).count() == 2
