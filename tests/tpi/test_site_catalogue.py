"""The trigger point site catalogue shipped by the data migration."""

import pytest

from tpi.models import TriggerPointSite

pytestmark = pytest.mark.django_db


def test_catalogue_holds_at_least_thirty_muscles_with_regions():
    sites = TriggerPointSite.objects.all()

    assert sites.count() >= 30
    assert not sites.filter(body_region="").exists()
    expected = {
        "Upper trapezius",
        "Levator scapulae",
        "Rhomboids",
        "Infraspinatus",
        "Supraspinatus",
        "Quadratus lumborum",
        "Gluteus medius",
        "Piriformis",
        "Sternocleidomastoid",
        "Scalenes",
    }
    assert expected <= set(sites.values_list("name", flat=True))
    valid_regions = set(TriggerPointSite.Region.values)
    assert set(sites.values_list("body_region", flat=True)) <= valid_regions
