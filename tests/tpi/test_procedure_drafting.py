"""tpi.procedures: creating and editing drafts, with the validation rules."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import (
    InjectionFactory,
    PatientFactory,
    ProcedureFactory,
    ProviderFactory,
    site,
)
from tpi.exceptions import ProcedureStateConflict
from tpi.models import Injection, Procedure
from tpi.procedures import injection_add, injection_update, procedure_create, procedure_update

pytestmark = pytest.mark.django_db


def lidocaine(**overrides):
    data = {
        "site": site("Upper trapezius"),
        "laterality": "left",
        "anaesthetic_agent": "lidocaine",
        "anaesthetic_concentration_percent": Decimal("1"),
        "anaesthetic_volume_ml": Decimal("2"),
    }
    return {**data, **overrides}


def create(frozen, **overrides):
    provider = overrides.pop("provider", None) or ProviderFactory()
    fields = {
        "patient": PatientFactory(),
        "provider": provider,
        "performed_at": frozen - dt.timedelta(minutes=30),
        "indication": "Neck pain",
        "pain_before": 8,
        "injections": [lidocaine()],
        **overrides,
    }
    return procedure_create(by=provider.user, **fields)


def test_create_saves_a_draft_with_its_injections(frozen):
    procedure = create(
        frozen,
        injections=[
            lidocaine(),
            lidocaine(site=site("Levator scapulae"), steroid_agent="triamcinolone", steroid_dose_mg=Decimal("10")),
        ],
    )

    assert procedure.status == Procedure.Status.DRAFT
    assert [(i.site.name, i.steroid_agent) for i in procedure.injections.order_by("id")] == [
        ("Upper trapezius", ""),
        ("Levator scapulae", "triamcinolone"),
    ]
    assert list(Procedure.objects.with_steroid()) == [procedure]
    assert list(Procedure.objects.anaesthetic_only()) == []
    assert Injection.objects.anaesthetic_only().count() == 1


def test_consent_defaults_to_the_user_and_now(frozen):
    provider = ProviderFactory()
    procedure = create(frozen, provider=provider, consent_obtained=True)

    assert procedure.consent_obtained_by == provider.user
    assert procedure.consent_obtained_at == frozen


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"pain_before": 11}, "pain_before", "Ensure this value is less than or equal to 10."),
        ({"pain_after": -1}, "pain_after", "Ensure this value is greater than or equal to 0."),
        ({"indication_icd10": "123"}, "indication_icd10", "Enter an ICD-10 code such as M79.18."),
    ],
)
def test_invalid_procedure_fields_are_refused_naming_the_field(frozen, overrides, field, message):
    with pytest.raises(ValidationError) as raised:
        create(frozen, **overrides)

    assert raised.value.message_dict[field] == [message]
    assert Procedure.objects.count() == 0


def test_performed_at_in_the_future_is_refused(frozen):
    with pytest.raises(ValidationError) as raised:
        create(frozen, performed_at=frozen + dt.timedelta(minutes=1))

    assert raised.value.message_dict["performed_at"] == [
        "A procedure cannot be documented before it happened (time is in the future)."
    ]


def test_a_massage_therapist_cannot_be_the_injecting_provider(frozen):
    therapist = ProviderFactory(role="massage_therapist")

    with pytest.raises(ValidationError) as raised:
        create(frozen, provider=therapist)

    assert raised.value.message_dict["provider"] == ["Only a physician, nurse practitioner or PA performs injections."]


@pytest.mark.parametrize(
    ("injection", "field", "message"),
    [
        ({"steroid_agent": "triamcinolone"}, "steroid_dose_mg", "A steroid needs its dose in mg."),
        ({"steroid_dose_mg": Decimal("10")}, "steroid_agent", "A steroid dose needs the steroid agent."),
        (
            {"steroid_agent": "triamcinolone", "steroid_dose_mg": Decimal("41")},
            "steroid_dose_mg",
            "Must be at most 40 mg for this agent.",
        ),
        (
            {"steroid_agent": "dexamethasone", "steroid_dose_mg": Decimal("0")},
            "steroid_dose_mg",
            "Must be greater than zero.",
        ),
        ({"anaesthetic_volume_ml": Decimal("10.5")}, "anaesthetic_volume_ml", "Must be at most 10 mL for this agent."),
        ({"anaesthetic_volume_ml": Decimal("-1")}, "anaesthetic_volume_ml", "Must be greater than zero."),
        (
            {"anaesthetic_agent": "bupivacaine", "anaesthetic_concentration_percent": Decimal("0.75")},
            "anaesthetic_concentration_percent",
            "Must be at most 0.5 % for this agent.",
        ),
        (
            {"anaesthetic_agent": ""},
            "anaesthetic_agent",
            "Name the local anaesthetic (or mark the site as dry needling).",
        ),
        ({"dry_needling": True}, "anaesthetic_agent", "Dry needling injects no medication; leave this empty."),
    ],
)
def test_invalid_injections_are_refused_naming_the_field_and_nothing_is_saved(frozen, injection, field, message):
    with pytest.raises(ValidationError) as raised:
        create(frozen, injections=[lidocaine(), lidocaine(**injection)])

    assert raised.value.message_dict[f"injections[1].{field}"] == [message]
    assert Procedure.objects.count() == 0
    assert Injection.objects.count() == 0


def test_dry_needling_needs_no_medication(frozen):
    procedure = create(frozen, injections=[{"site": site("Piriformis"), "laterality": "right", "dry_needling": True}])

    assert procedure.injections.get().dry_needling is True


def test_database_refuses_a_steroid_dose_without_agent(frozen):
    injection = InjectionFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Injection.objects.filter(pk=injection.pk).update(steroid_dose_mg=Decimal("5"))


def test_database_refuses_pain_score_above_ten(frozen):
    procedure = ProcedureFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Procedure.objects.filter(pk=procedure.pk).update(pain_before=11)


def test_update_changes_a_draft_and_corrects_and_adds_injections(frozen):
    procedure = create(frozen)
    first = procedure.injections.get()

    updated = procedure_update(
        procedure=procedure,
        by=procedure.provider.user,
        pain_after=2,
        injections=[
            {"id": first.pk, "laterality": "right"},
            lidocaine(site=site("Rhomboids")),
        ],
    )

    assert updated.pain_after == 2
    assert [(i.site.name, i.laterality) for i in procedure.injections.order_by("id")] == [
        ("Upper trapezius", "right"),
        ("Rhomboids", "left"),
    ]


def test_update_refuses_to_drop_an_injection(frozen):
    procedure = create(frozen)

    with pytest.raises(ValidationError) as raised:
        procedure_update(procedure=procedure, by=procedure.provider.user, injections=[lidocaine()])

    assert "injections are never deleted" in raised.value.message_dict["injections"][0]
    assert procedure.injections.count() == 1


def test_update_refuses_status_fields(frozen):
    procedure = create(frozen)

    with pytest.raises(ValidationError) as raised:
        procedure_update(procedure=procedure, by=procedure.provider.user, status="signed")

    assert raised.value.message_dict == {"status": ["This field cannot be set here."]}


@pytest.mark.parametrize("status", ["signed", "voided"])
def test_a_signed_or_voided_procedure_and_its_injections_never_change(frozen, status):
    injection = InjectionFactory()
    procedure = injection.procedure
    Procedure.objects.filter(pk=procedure.pk).update(
        status=status, signed_at=frozen, signed_by=procedure.provider.user, voided_at=frozen, void_reason="x"
    )
    before = Procedure.objects.values().get(pk=procedure.pk)

    with pytest.raises(ProcedureStateConflict):
        procedure_update(procedure=procedure, by=procedure.provider.user, pain_before=1)
    with pytest.raises(ProcedureStateConflict):
        injection_update(injection=injection, laterality="right")
    with pytest.raises(ProcedureStateConflict):
        injection_add(procedure=procedure, **lidocaine())

    assert Procedure.objects.values().get(pk=procedure.pk) == before
    assert list(procedure.injections.values_list("laterality", flat=True)) == ["left"]
