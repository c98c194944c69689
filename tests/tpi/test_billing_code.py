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
