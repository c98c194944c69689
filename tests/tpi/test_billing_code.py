"""CPT code derived from distinct muscles, never typed."""

import pytest

from tests.factories import InjectionFactory, ProcedureFactory, site
from tpi.models import Procedure

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("injections", "expected"),
    [
        ([], ""),
        ([("Upper trapezius", "left")], "20552"),
        ([("Upper trapezius", "left"), ("Upper trapezius", "right"), ("Upper trapezius", "bilateral")], "20552"),
        ([("Upper trapezius", "left"), ("Rhomboids", "left")], "20552"),
        ([("Upper trapezius", "left"), ("Rhomboids", "left"), ("Rhomboids", "right")], "20552"),
        ([("Upper trapezius", "left"), ("Rhomboids", "left"), ("Piriformis", "left")], "20553"),
    ],
)
def test_cpt_counts_distinct_muscles_not_needle_sticks(frozen, injections, expected):
    procedure = ProcedureFactory()
    for name, side in injections:
        InjectionFactory(procedure=procedure, site=site(name), laterality=side)

    assert Procedure.objects.get(pk=procedure.pk).cpt_code == expected
    assert Procedure.objects.with_muscle_count().get(pk=procedure.pk).cpt_code == expected


def needled(procedure, name):
    InjectionFactory(
        procedure=procedure,
        site=site(name),
        dry_needling=True,
        anaesthetic_agent="",
        anaesthetic_concentration_percent=None,
        anaesthetic_volume_ml=None,
        lot_number="",
    )


@pytest.mark.parametrize(
    ("injected", "dry_needled", "expected"),
    [
        ([], ["Upper trapezius"], ["20560"]),
        ([], ["Upper trapezius", "Rhomboids"], ["20560"]),
        ([], ["Upper trapezius", "Rhomboids", "Piriformis"], ["20561"]),
        # A dry-needled muscle does not count towards the injection code.
        (["Upper trapezius", "Rhomboids"], ["Piriformis"], ["20552", "20560"]),
        (["Upper trapezius"], ["Rhomboids", "Piriformis", "Levator scapulae"], ["20552", "20561"]),
        # A muscle both injected and needled counts once, as injected.
        (["Upper trapezius"], ["Upper trapezius"], ["20552"]),
        (["Upper trapezius", "Rhomboids", "Piriformis"], ["Upper trapezius"], ["20553"]),
    ],
)
def test_dry_needling_is_billed_as_needle_insertion_without_injection(frozen, injected, dry_needled, expected):
    procedure = ProcedureFactory()
    for name in injected:
        InjectionFactory(procedure=procedure, site=site(name))
    for name in dry_needled:
        needled(procedure, name)

    assert Procedure.objects.get(pk=procedure.pk).cpt_codes == expected
    assert Procedure.objects.with_muscle_count().get(pk=procedure.pk).cpt_codes == expected
    assert Procedure.objects.get(pk=procedure.pk).cpt_code == ", ".join(expected)


def test_each_code_comes_with_its_description(frozen):
    procedure = ProcedureFactory()
    InjectionFactory(procedure=procedure, site=site("Upper trapezius"))
    needled(procedure, "Rhomboids")

    assert Procedure.objects.get(pk=procedure.pk).cpt_descriptions == [
        ("20552", "Injection(s); single or multiple trigger point(s), 1 or 2 muscle(s)"),
        ("20560", "Needle insertion(s) without injection(s); 1 or 2 muscle(s)"),
    ]
