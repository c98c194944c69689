"""Every body-map region names a catalogue site, and every catalogue site has a region or a stated reason."""

import pytest

from tpi.body_map_regions import BACK, FRONT, MIDLINE, NO_PLACE, REGIONS, regions_placed, sites_with_place
from tpi.models import TriggerPointSite

pytestmark = pytest.mark.django_db


def test_every_region_maps_to_a_catalogue_row():
    catalogue = set(TriggerPointSite.objects.values_list("name", flat=True))

    assert sites_with_place() - catalogue == set()


def test_every_catalogue_row_has_a_place_except_the_listed_deep_muscles():
    catalogue = set(TriggerPointSite.objects.values_list("name", flat=True))

    assert catalogue - sites_with_place() == set(NO_PLACE)
    assert set(NO_PLACE) == {"Subscapularis", "Pectoralis minor", "Gluteus minimus"}
    assert set(NO_PLACE) <= catalogue
    assert all(reason for reason in NO_PLACE.values())


def test_a_site_has_at_most_one_region_per_view_and_each_region_stays_on_its_half():
    keys = [(r.site, r.view) for r in REGIONS]

    assert len(keys) == len(set(keys))
    assert {r.view for r in REGIONS} == {FRONT, BACK}
    for region in REGIONS:
        assert region.cx + min(region.rx, region.ry) <= MIDLINE + 0.5, region.site  # the viewer's left half
        assert region.cx - max(region.rx, region.ry) >= 0, region.site


def test_each_region_is_placed_on_both_sides_mirrored_and_the_views_face_opposite_ways():
    placed = {(p.site, p.view, p.side): p for p in regions_placed()}

    assert len(placed) == 2 * len(REGIONS)
    front_right = placed[("Deltoid", FRONT, "right")]
    front_left = placed[("Deltoid", FRONT, "left")]
    back_left = placed[("Deltoid", BACK, "left")]
    assert front_right.cx < MIDLINE < front_left.cx  # the patient faces us: their right is on our left
    assert back_left.cx < MIDLINE  # seen from behind: their left is on our left
    assert front_left.cx == 2 * MIDLINE - front_right.cx
    assert front_left.rotate == -front_right.rotate
