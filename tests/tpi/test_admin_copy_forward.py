"""The draft's page: "Copy forward from <date>" (issue 10)."""

import pytest

from tests.factories import ProcedureFactory, ProviderFactory
from tests.tpi.test_procedure_copy_forward import history  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def test_the_draft_offers_copy_forward_and_the_button_copies(client, history):  # noqa: F811
    draft, last, provider = history
    client.force_login(provider.user)
    change = f"/admin/tpi/procedure/{draft.pk}/change/"

    page = client.get(change).content.decode()
    response = client.post(f"/admin/tpi/procedure/{draft.pk}/copy-forward/", follow=True)

    assert f'action="/admin/tpi/procedure/{draft.pk}/copy-forward/"' in page
    assert "Copy forward from 2026-02-24" in page
    assert response.redirect_chain == [(change, 302)]
    assert (
        "Copied from the last signed procedure: Upper trapezius (Bilateral), Levator scapulae (Right), "
        "Rhomboids (Left)." in response.content.decode()
    )
    assert draft.injections.count() == 3
    assert "copy-forward" not in client.get(f"/admin/tpi/procedure/{last.pk}/change/").content.decode()


def test_no_button_without_a_source_and_a_clear_error_if_posted(client, frozen):
    draft = ProcedureFactory()
    client.force_login(draft.provider.user)

    page = client.get(f"/admin/tpi/procedure/{draft.pk}/change/").content.decode()
    response = client.post(f"/admin/tpi/procedure/{draft.pk}/copy-forward/", follow=True)

    assert "Copy forward" not in page
    assert "This patient has no signed procedure to copy from." in response.content.decode()


def test_another_provider_cannot_copy_and_get_is_refused(client, history):  # noqa: F811
    draft, _, provider = history
    client.force_login(ProviderFactory().user)

    # The list and look-ups hold only what the user may read: another provider's draft is not found.
    assert client.post(f"/admin/tpi/procedure/{draft.pk}/copy-forward/").status_code == 404
    client.force_login(provider.user)
    assert client.get(f"/admin/tpi/procedure/{draft.pk}/copy-forward/").status_code == 405
    assert draft.injections.count() == 0
