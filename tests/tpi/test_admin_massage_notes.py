"""Massage note admin: the therapist's own page, on a signed procedure, showing what the massage needs."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.factories import InjectionFactory, MassageNoteFactory, PatientFactory, ProviderFactory, site
from tests.tpi.test_admin_procedures import management
from tpi.massage import massage_note_sign
from tpi.models import MassageNote
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db

ADD = "/admin/tpi/massagenote/add/"


@pytest.fixture
def therapist():
    return ProviderFactory(role="massage_therapist", credentials="LMT", user__first_name="Pat", user__last_name="Kim")


@pytest.fixture
def signed(frozen):
    """A signed procedure: trapezius left with a steroid, rhomboids bilateral; the patient on anticoagulants."""
    patient = PatientFactory(on_anticoagulants=True, anticoagulant_details="apixaban")
    injection = InjectionFactory(
        procedure__patient=patient,
        procedure__performed_at=frozen - dt.timedelta(hours=1),
        steroid_agent="triamcinolone",
        steroid_dose_mg="10",
        lot_number="LOT-SECRET-7",
    )
    InjectionFactory(procedure=injection.procedure, site=site("Rhomboids"), laterality="bilateral")
    return procedure_sign(procedure=injection.procedure, by=injection.procedure.provider.user)


def note_data(frozen, procedure, therapist, rows, **overrides):
    local = timezone.localtime(frozen - dt.timedelta(minutes=20))
    data = {
        "procedure": procedure.pk,
        "therapist": therapist.pk,
        "performed_at_0": local.strftime("%Y-%m-%d"),
        "performed_at_1": local.strftime("%H:%M:%S"),
        "duration_minutes": "12",
        "technique": "effleurage",
        "tolerance": "good",
        "notes": "",
        **management("massaged_sites", len(rows), 0),
        **management("addenda", 0, 0),
        **overrides,
    }
    for index, (name, side) in enumerate(rows):
        data[f"massaged_sites-{index}-site"] = site(name).pk
        data[f"massaged_sites-{index}-laterality"] = side
    return data


def test_the_add_page_shows_sites_and_sides_and_the_bruising_flag_but_no_drugs(frozen, client, signed, therapist):
    client.force_login(therapist.user)

    page = client.get(f"{ADD}?procedure={signed.pk}").content.decode()

    assert "<p>Upper trapezius (Left)</p><p>Rhomboids (Bilateral)</p>" in page
    assert "Yes: takes anticoagulants, bruises easily; massage gently" in page
    assert timezone.localtime(signed.performed_at).strftime("%Y-%m-%d %H:%M") in page
    for secret in (
        "Triamcinolone",
        "triamcinolone",
        "Lidocaine",
        "lidocaine",
        "LOT-SECRET-7",
        "apixaban",
        "10.00",
        "dose",
    ):
        assert secret not in page, secret
    # The site rows start from what was injected.
    assert 'name="massaged_sites-1-laterality"' in page
    assert '<option value="bilateral" selected>' in page


def test_a_therapist_adds_and_signs_a_note_on_a_signed_procedure(frozen, client, signed, therapist):
    client.force_login(therapist.user)
    data = note_data(frozen, signed, therapist, [("Upper trapezius", "left"), ("Rhomboids", "bilateral")])

    response = client.post(f"{ADD}?procedure={signed.pk}", {**data, "_sign": "Save and sign"})

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    note = MassageNote.objects.get()
    assert (note.status, note.signed_by, note.therapist) == ("signed", therapist.user, therapist)
    assert list(note.massaged_sites.values_list("site__name", "laterality")) == [
        ("Upper trapezius", "left"),
        ("Rhomboids", "bilateral"),
    ]
    signed.refresh_from_db()
    assert (signed.status, signed.signed_at) == ("signed", frozen)  # the procedure did not change


def test_after_the_window_the_note_is_refused(frozen, client, therapist):
    signed_at = frozen - dt.timedelta(hours=24, minutes=1)
    with time_machine.travel(signed_at, tick=False):
        draft = InjectionFactory(procedure__performed_at=signed_at - dt.timedelta(hours=1)).procedure
        signed = procedure_sign(procedure=draft, by=draft.provider.user)
    client.force_login(therapist.user)
    data = note_data(frozen, signed, therapist, [("Upper trapezius", "left")])
    data["performed_at_0"] = timezone.localtime(signed_at).strftime("%Y-%m-%d")
    data["performed_at_1"] = timezone.localtime(signed_at).strftime("%H:%M:%S")

    response = client.post(f"{ADD}?procedure={signed.pk}", data)
    procedure_page = client.get(f"/admin/tpi/procedure/{signed.pk}/change/").content.decode()

    assert response.status_code == 200
    assert "A massage note can no longer be added to this procedure" in response.content.decode()
    assert MassageNote.objects.count() == 0
    assert "Write massage note" not in procedure_page


def test_a_signed_note_shows_no_save_buttons_and_the_signer_by_name(frozen, client, signed, therapist):
    note = MassageNoteFactory(procedure=signed, therapist=therapist)
    massage_note_sign(note=note, by=therapist.user)
    client.force_login(therapist.user)

    page = client.get(f"/admin/tpi/massagenote/{note.pk}/change/").content.decode()

    assert 'name="_save"' not in page
    assert 'name="_continue"' not in page
    assert "Save and sign" not in page
    assert "Pat Kim, LMT" in page
    assert therapist.user.username not in page


def test_the_therapist_is_not_offered_save_and_sign_on_the_procedure(frozen, client, therapist):
    draft = InjectionFactory(procedure__performed_at=frozen - dt.timedelta(hours=1)).procedure
    client.force_login(therapist.user)

    page = client.get(f"/admin/tpi/procedure/{draft.pk}/change/").content.decode()

    assert "Save and sign" not in page
    assert 'name="_save"' not in page
    assert "Write massage note" in page
    assert "<p>Upper trapezius (Left)</p>" in page
    for secret in ("Lidocaine", "lidocaine", "LIDO-2026-114", "pain score"):
        assert secret not in page, secret


def test_another_therapist_cannot_change_or_sign_the_note(frozen, client, signed, therapist):
    note = MassageNoteFactory(procedure=signed, therapist=therapist)
    other = ProviderFactory(role="massage_therapist")
    client.force_login(other.user)

    page = client.get(f"/admin/tpi/massagenote/{note.pk}/change/").content.decode()

    assert "Save and sign" not in page
    assert 'name="_save"' not in page


def test_the_procedure_page_lists_its_massage_notes_in_order(frozen, client, signed, therapist):
    later = MassageNoteFactory(procedure=signed, therapist=therapist, performed_at=frozen - dt.timedelta(minutes=5))
    earlier = MassageNoteFactory(procedure=signed, therapist=therapist, performed_at=frozen - dt.timedelta(minutes=40))
    client.force_login(signed.provider.user)

    page = client.get(f"/admin/tpi/procedure/{signed.pk}/change/")

    notes = next(fs for fs in page.context["inline_admin_formsets"] if fs.opts.model is MassageNote)
    assert [row.pk for row in notes.formset.get_queryset()] == [earlier.pk, later.pk]
    assert "Upper trapezius (Left)" in page.content.decode()
