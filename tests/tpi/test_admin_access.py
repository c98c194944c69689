"""The procedure admin applies the same object rules as the API (tpi.access), and reads are audited."""

import pytest

from clinic import roles
from clinic.audit.models import AccessLog
from tests.factories import InjectionFactory, MassageNoteFactory, PatientFactory, ProviderFactory, staff_user
from tests.tpi.test_admin_procedures import CHANGELIST, form_data
from tpi.models import Procedure

pytestmark = pytest.mark.django_db


def change_url(procedure) -> str:
    return f"{CHANGELIST}{procedure.pk}/change/"


def test_a_provider_lists_and_opens_only_their_own_procedures(frozen, client):
    mine = InjectionFactory().procedure
    theirs = InjectionFactory().procedure
    client.force_login(mine.provider.user)

    listed = [p.pk for p in client.get(CHANGELIST).context["cl"].result_list]
    assert listed == [mine.pk]
    assert client.get(change_url(mine)).status_code == 200
    assert client.get(change_url(theirs)).status_code == 302  # Django's "does not exist" redirect
    assert list(AccessLog.objects.values_list("object_id", flat=True)) == [str(mine.pk)]


def test_the_front_desk_sees_no_procedures(frozen, client):
    procedure = InjectionFactory().procedure
    client.force_login(staff_user(roles.FRONT_DESK))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(procedure)).status_code == 403


def test_a_massage_therapist_sees_the_basics_and_no_sign_action(frozen, client):
    note = MassageNoteFactory(procedure=InjectionFactory().procedure)
    client.force_login(note.therapist.user)

    page = client.get(change_url(note.procedure))
    assert page.status_code == 200
    fields = {f for fieldset in page.context["adminform"] for line in fieldset for f in line.fields}
    assert "indication" not in fields
    assert "pain_before" not in fields
    assert [f.opts.model.__name__ for f in page.context["inline_admin_formsets"]] == ["MassageNote"]
    changelist = client.get(CHANGELIST)
    assert changelist.context["action_form"] is None  # no sign or void action offered at all


def test_a_provider_cannot_document_for_another_provider_in_the_admin(frozen, client):
    me, other = ProviderFactory(), ProviderFactory()
    client.force_login(me.user)
    response = client.post(f"{CHANGELIST}add/", form_data(frozen, PatientFactory(), other))
    assert response.status_code == 403
    assert Procedure.objects.count() == 0
