"""POST /api/procedures/{id}/copy-forward/ (issue 10)."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ProcedureFactory, ProviderFactory
from tests.tpi.test_procedure_copy_forward import history  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_copy_forward_answers_the_draft_with_the_copied_sites(history):  # noqa: F811
    draft, _, provider = history

    response = api_for(provider.user).post(f"/api/procedures/{draft.pk}/copy-forward/")

    assert response.status_code == 200, response.json()
    rows = [(i["laterality"], i["anaesthetic_agent"], i["lot_number"]) for i in response.json()["injections"]]
    assert rows == [("bilateral", "lidocaine", ""), ("right", "bupivacaine", ""), ("left", "", "")]
    assert response.json()["pain_before"] == 4


def test_errors_no_source_400_signed_409_other_provider_403(history, frozen):  # noqa: F811
    draft, last, provider = history
    lonely = ProcedureFactory()

    no_source = api_for(lonely.provider.user).post(f"/api/procedures/{lonely.pk}/copy-forward/")
    signed = api_for(provider.user).post(f"/api/procedures/{last.pk}/copy-forward/")
    stranger = api_for(ProviderFactory().user).post(f"/api/procedures/{draft.pk}/copy-forward/")

    assert no_source.status_code == 400
    assert "This patient has no signed procedure to copy from." in str(no_source.json())
    assert signed.status_code == 409
    assert stranger.status_code == 403
    assert draft.injections.count() == 0
