"""Two concurrent sign requests: exactly one signature, the other a conflict (row lock)."""

import threading

import pytest
from django.db import connection

from tests.factories import InjectionFactory
from tpi.exceptions import ProcedureStateConflict
from tpi.models import FollowUp, Procedure
from tpi.signing import procedure_sign


@pytest.mark.django_db(transaction=True)
def test_signing_concurrently_gives_one_signature_and_one_conflict():
    procedure = InjectionFactory().procedure
    user = procedure.provider.user
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign():
        try:
            barrier.wait(timeout=10)
            procedure_sign(procedure=Procedure(pk=procedure.pk, provider_id=procedure.provider_id), by=user)
            outcomes.append("signed")
        except ProcedureStateConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "signed"]
    assert Procedure.objects.get(pk=procedure.pk).status == "signed"
    assert FollowUp.objects.filter(procedure=procedure).count() == 2
