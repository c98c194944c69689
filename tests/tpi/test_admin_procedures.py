"""Procedure admin: drafting through the services, Sign action, read-only once signed, addenda."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from tests.factories import InjectionFactory, PatientFactory, ProviderFactory, UserFactory, site
from tpi.models import Addendum, FollowUp, Injection, Procedure
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tpi/procedure/"


@pytest.fixture
def provider():
    user = UserFactory(is_superuser=True)
    return ProviderFactory(user=user)


@pytest.fixture
def admin_client(client, provider):
    client.force_login(provider.user)
    return client


def management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def form_data(frozen, patient, provider, injections=(), existing=0, addenda=None, **overrides):
    local = (frozen - dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=-5)))
    data = {
        "patient": patient.pk,
        "provider": provider.pk,
        "appointment": "",
        "performed_at_0": local.strftime("%Y-%m-%d"),
        "performed_at_1": local.strftime("%H:%M:%S"),
        "indication": "Neck pain",
        "indication_icd10": "M79.18",
        "pain_before": "7",
        "pain_after": "2",
        "consent_obtained": "on",
        "consent_obtained_by": provider.user.pk,
        "consent_obtained_at_0": local.strftime("%Y-%m-%d"),
        "consent_obtained_at_1": local.strftime("%H:%M:%S"),
        "guidance": "landmark",
        "complications": "",
        **management("injections", len(injections), existing),
        **management("massage_notes"),
        **management("addenda", len(addenda or []), 0),
        **management("follow_ups"),
    }
    for index, injection in enumerate(injections):
        for key, value in injection.items():
            data[f"injections-{index}-{key}"] = value
    for index, text in enumerate(addenda or []):
        data[f"addenda-{index}-text"] = text
    data.update(overrides)
    return data


def lidocaine(name="Upper trapezius", **overrides):
    return {
        "site": site(name).pk,
        "laterality": "left",
        "anaesthetic_agent": "lidocaine",
        "anaesthetic_concentration_percent": "1",
        "anaesthetic_volume_ml": "2",
        **overrides,
    }


def test_add_a_draft_with_injections(frozen, admin_client, provider):
    patient = PatientFactory()

    response = admin_client.post(
        f"{CHANGELIST}add/", form_data(frozen, patient, provider, [lidocaine(), lidocaine("Rhomboids")])
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    procedure = Procedure.objects.get()
    assert (procedure.status, procedure.patient, procedure.provider) == ("draft", patient, provider)
    assert sorted(procedure.injections.values_list("site__name", flat=True)) == ["Rhomboids", "Upper trapezius"]


def test_bad_injection_shows_the_error_and_saves_nothing(frozen, admin_client, provider):
    response = admin_client.post(
        f"{CHANGELIST}add/",
        form_data(frozen, PatientFactory(), provider, [lidocaine(steroid_dose_mg="10")], pain_before="11"),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["pain_before"] == [
        "Ensure this value is less than or equal to 10."
    ]
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["steroid_agent"] == [
        "A steroid dose needs the steroid agent."
    ]
    assert Procedure.objects.count() == 0


def test_sign_action_asks_to_acknowledge_each_warning_then_signs(frozen, admin_client, provider):
    # Issue 10: signing means reading: the warnings are acknowledged first, not shown after as banners.
    patient = PatientFactory(local_anaesthetic_allergy=True)
    procedure = InjectionFactory(procedure__provider=provider, procedure__patient=patient).procedure
    selection = {"action": "sign_selected", "_selected_action": [procedure.pk]}

    asked = admin_client.post(CHANGELIST, selection)
    unticked = admin_client.post(CHANGELIST, {**selection, "confirm": "Sign"}, follow=True)
    procedure.refresh_from_db()
    assert procedure.status == "draft"
    assert f'name="ack-{procedure.pk}" value="anaesthetic_allergy"' in asked.content.decode()
    assert "The patient has a local anaesthetic allergy on file." in asked.content.decode()
    assert [str(m) for m in unticked.context["messages"]] == [
        f"Procedure #{procedure.pk} ({procedure.patient}): not signed: Acknowledge the warning "
        "anaesthetic_allergy: The patient has a local anaesthetic allergy on file."
    ]

    response = admin_client.post(
        CHANGELIST, {**selection, "confirm": "Sign", f"ack-{procedure.pk}": "anaesthetic_allergy"}, follow=True
    )

    procedure.refresh_from_db()
    assert procedure.status == "signed"
    assert FollowUp.objects.filter(procedure=procedure).count() == 2
    assert [str(m) for m in response.context["messages"]] == [
        f"Procedure #{procedure.pk} ({procedure.patient}): signed."
    ]
    assert list(procedure.acknowledgements.values_list("key", "message", "acknowledged_by", "acknowledged_at")) == [
        ("anaesthetic_allergy", "The patient has a local anaesthetic allergy on file.", provider.user.pk, frozen)
    ]


def test_sign_action_by_another_provider_is_refused(frozen, client):
    procedure = InjectionFactory().procedure
    other = ProviderFactory()
    other.user.user_permissions.set(Permission.objects.filter(codename__in=["view_procedure", "change_procedure"]))
    client.force_login(other.user)

    # Another provider's procedures are not in their list, so the action cannot reach them (tpi.access).
    assert procedure.pk not in [p.pk for p in client.get(CHANGELIST).context["cl"].result_list]
    response = client.post(CHANGELIST, {"action": "sign_selected", "_selected_action": [procedure.pk]}, follow=True)

    procedure.refresh_from_db()
    assert procedure.status == "draft"
    assert [str(m) for m in response.context["messages"]] == []
    assert client.get(f"{CHANGELIST}{procedure.pk}/change/").status_code == 302  # "does not exist" redirect


def test_sign_action_twice_reports_already_signed(frozen, admin_client, provider):
    procedure = InjectionFactory(procedure__provider=provider).procedure
    procedure_sign(procedure=procedure, by=provider.user)

    response = admin_client.post(
        CHANGELIST, {"action": "sign_selected", "_selected_action": [procedure.pk]}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        f"Procedure #{procedure.pk} ({procedure.patient}): This procedure is already signed."
    ]


def test_signed_procedure_renders_read_only_and_a_post_changes_nothing(frozen, admin_client, provider):
    injection = InjectionFactory(procedure__provider=provider)
    procedure = procedure_sign(procedure=injection.procedure, by=provider.user)
    before = Procedure.objects.values().get(pk=procedure.pk)
    url = f"{CHANGELIST}{procedure.pk}/change/"

    page = admin_client.get(url)
    data = form_data(
        frozen,
        procedure.patient,
        provider,
        [{"id": injection.pk, "procedure": procedure.pk, **lidocaine("Piriformis", laterality="right")}],
        existing=1,
        pain_before="1",
    )
    response = admin_client.post(url, data)

    assert page.status_code == 200
    assert 'name="pain_before"' not in page.content.decode()
    assert 'name="injections-0-site"' not in page.content.decode()
    assert response.status_code == 302
    assert Procedure.objects.values().get(pk=procedure.pk) == before
    assert list(Injection.objects.values_list("site__name", "laterality")) == [("Upper trapezius", "left")]


def test_addendum_inline_adds_to_a_signed_procedure(frozen, admin_client, provider):
    injection = InjectionFactory(procedure__provider=provider)
    procedure = procedure_sign(procedure=injection.procedure, by=provider.user)
    url = f"{CHANGELIST}{procedure.pk}/change/"
    data = form_data(frozen, procedure.patient, provider, addenda=["Bruise at the left trapezius site."])
    data.update(management("injections", 1, 1))
    data.update({"injections-0-id": injection.pk, "injections-0-procedure": procedure.pk})

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert list(Addendum.objects.values_list("procedure", "author", "text")) == [
        (procedure.pk, provider.user.pk, "Bruise at the left trapezius site.")
    ]


def test_draft_change_page_shows_warnings(frozen, admin_client, provider):
    patient = PatientFactory(on_anticoagulants=True, anticoagulant_details="warfarin")
    procedure = InjectionFactory(procedure__provider=provider, procedure__patient=patient).procedure

    page = admin_client.get(f"{CHANGELIST}{procedure.pk}/change/")

    assert "The patient takes anticoagulants (warfarin)." in page.content.decode()
    assert 'name="pain_before"' in page.content.decode()


def test_no_delete_in_admin(frozen, admin_client, provider):
    procedure = InjectionFactory(procedure__provider=provider).procedure

    assert admin_client.get(f"{CHANGELIST}{procedure.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/tpi/triggerpointsite/{site('Piriformis').pk}/delete/").status_code == 403
    assert Procedure.objects.count() == 1


@pytest.mark.parametrize("rows", [3, 30])
def test_changelist_runs_a_constant_number_of_queries(
    frozen, admin_client, provider, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        procedure = InjectionFactory(procedure__provider=provider).procedure
        InjectionFactory(procedure=procedure, site=site("Rhomboids"))

    with django_assert_max_num_queries(14):
        response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert response.context["cl"].result_count == rows


def test_site_autocomplete(frozen, admin_client):
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "trap", "app_label": "tpi", "model_name": "injection", "field_name": "site"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Lower trapezius", "Middle trapezius", "Upper trapezius"]


def test_save_and_sign_button_on_a_draft(frozen, admin_client, provider):
    injection = InjectionFactory(procedure__provider=provider)
    procedure = injection.procedure
    url = f"{CHANGELIST}{procedure.pk}/change/"
    unchanged = {
        "id": injection.pk,
        "procedure": procedure.pk,
        **lidocaine(needle_gauge="25", lot_number="LIDO-2026-114"),
    }
    data = form_data(frozen, procedure.patient, provider, [unchanged], existing=1, pain_after="1", _sign="Save")

    page = admin_client.get(url)
    response = admin_client.post(url, data, follow=True)

    assert 'name="_sign"' in page.content.decode()
    procedure.refresh_from_db()
    assert (procedure.status, procedure.pain_after) == ("signed", 1)
    assert f"Procedure #{procedure.pk} ({procedure.patient}): signed." in [str(m) for m in response.context["messages"]]
    assert 'name="_sign"' not in admin_client.get(url).content.decode()


def test_void_action_asks_for_a_reason_then_voids(frozen, admin_client, provider):
    procedure = procedure_sign(procedure=InjectionFactory(procedure__provider=provider).procedure, by=provider.user)
    selection = {"action": "void_selected", "_selected_action": [procedure.pk]}

    asked = admin_client.post(CHANGELIST, selection)
    procedure.refresh_from_db()
    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    assert procedure.status == "signed"

    admin_client.post(CHANGELIST, {**selection, "confirm": "Void", "reason": "Duplicate entry"})

    procedure.refresh_from_db()
    assert (procedure.status, procedure.void_reason) == ("voided", "Duplicate entry")
    assert set(procedure.follow_ups.values_list("status", flat=True)) == {"cancelled"}


def test_the_change_page_shows_each_cpt_code_with_its_description(frozen, admin_client, provider):
    procedure = InjectionFactory(procedure__provider=provider).procedure
    InjectionFactory(
        procedure=procedure,
        site=site("Rhomboids"),
        dry_needling=True,
        anaesthetic_agent="",
        anaesthetic_concentration_percent=None,
        anaesthetic_volume_ml=None,
    )

    page = admin_client.get(f"{CHANGELIST}{procedure.pk}/change/").content.decode()

    assert "<p><strong>20552</strong> Injection(s); single or multiple trigger point(s), 1 or 2 muscle(s)</p>" in page
    assert "<p><strong>20560</strong> Needle insertion(s) without injection(s); 1 or 2 muscle(s)</p>" in page


def test_save_and_sign_with_warnings_leads_to_the_sign_page_and_the_signed_note_shows_the_acknowledgement(
    frozen, admin_client, provider
):
    provider.user.first_name, provider.user.last_name = "Dana", "Lee"
    provider.user.save()
    provider.credentials = "MD"
    provider.save()
    patient = PatientFactory(on_anticoagulants=True)
    injection = InjectionFactory(procedure__provider=provider, procedure__patient=patient)
    procedure = injection.procedure
    url = f"{CHANGELIST}{procedure.pk}/change/"
    unchanged = {
        "id": injection.pk,
        "procedure": procedure.pk,
        **lidocaine(needle_gauge="25", lot_number="LIDO-2026-114"),
    }
    data = form_data(frozen, patient, provider, [unchanged], existing=1, _sign="Save and sign")

    saved = admin_client.post(url, data)
    sign_url = f"{CHANGELIST}{procedure.pk}/sign/"
    assert saved.status_code == 302
    assert saved.url == sign_url
    page = admin_client.get(sign_url).content.decode()
    assert "The patient takes anticoagulants." in page
    signed = admin_client.post(sign_url, {f"ack-{procedure.pk}": "anticoagulants"})

    assert signed.status_code == 302
    procedure.refresh_from_db()
    assert procedure.status == "signed"
    note = admin_client.get(url).content.decode()
    assert "The patient takes anticoagulants. <small>(acknowledged by Dana Lee, MD, " in note
    assert "&#9888;" not in note  # no warning banner on the signed note
    assert 'name="_continue"' not in note
    assert 'name="_sign"' not in note
    assert 'value="Save"' not in note
    assert "Dana Lee, MD" in note
    assert provider.user.username not in note
