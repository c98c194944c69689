"""tpi.body_map: marks per (site, side) with counts, shading by count, the clickable draft figure."""

import re

import pytest

from tests.factories import InjectionFactory, ProcedureFactory, site
from tpi.body_map import SHADES, body_map_marks, body_map_svg
from tpi.models import Injection, TriggerPointSite

pytestmark = pytest.mark.django_db


def _marked(html: str) -> dict[tuple[str, str], tuple[str, str]]:
    """Return {(view, title): (count, fill)} of the marked regions."""
    found = {}
    for view, body in re.findall(r'<figure class="bm-view bm-(\w+)">(.*?)</figure>', html, re.S):
        for count, fill, title in re.findall(
            r'class="bm-region bm-marked" data-count="(\d+)" fill="(#\w+)"[^>]*><title>([^<]+)</title>', body
        ):
            found[(view, title)] = (count, fill)
    return found


def test_marks_count_injections_per_site_and_side_in_one_query(django_assert_num_queries):
    procedure = ProcedureFactory()
    InjectionFactory(procedure=procedure, site=site("Upper trapezius"), laterality="left")
    InjectionFactory(procedure=procedure, site=site("Rhomboids"), laterality="bilateral")
    InjectionFactory(procedure__patient=procedure.patient, site=site("Upper trapezius"), laterality="left")

    with django_assert_num_queries(1):
        marks = body_map_marks(Injection.objects.filter(procedure__patient=procedure.patient))

    assert marks == {("Upper trapezius", "left"): 2, ("Rhomboids", "bilateral"): 1}
    assert body_map_marks(list(procedure.injections.select_related("site"))) == {
        ("Upper trapezius", "left"): 1,
        ("Rhomboids", "bilateral"): 1,
    }


def test_sites_are_shaded_by_count_and_bilateral_marks_both_sides():
    html = body_map_svg(marks={("Upper trapezius", "left"): 5, ("Rhomboids", "bilateral"): 1, ("Deltoid", "right"): 3})
    marked = _marked(html)

    assert marked == {
        ("back", "Upper trapezius, left: 5"): ("5", SHADES[-1]),
        ("back", "Rhomboids, left: 1"): ("1", SHADES[0]),
        ("back", "Rhomboids, right: 1"): ("1", SHADES[0]),
        ("front", "Deltoid, right: 3"): ("3", SHADES[1]),
        ("back", "Deltoid, right: 3"): ("3", SHADES[1]),
    }
    legend = re.sub(r"<[^>]+>", "", html.split('class="bm-legend">')[1]).split()
    assert legend == ["Sites", "injected:", "1-2", "3", "4", "5", "times"]


def test_one_procedure_uses_one_shade_and_a_plain_legend():
    html = body_map_svg(marks={("Upper trapezius", "left"): 1, ("Levator scapulae", "right"): 1})

    assert _marked(html) == {
        ("back", "Upper trapezius, left"): ("1", SHADES[-1]),
        ("back", "Levator scapulae, right"): ("1", SHADES[-1]),
    }
    assert "times" not in html
    assert body_map_svg(marks={}).count("bm-marked") == 0
    assert "none marked" in body_map_svg(marks={})


def test_midline_marks_both_sides_and_a_site_without_a_place_is_not_drawn():
    marked = _marked(body_map_svg(marks={("Rectus abdominis", "midline"): 1, ("Subscapularis", "left"): 1}))

    assert set(marked) == {("front", "Rectus abdominis, left"), ("front", "Rectus abdominis, right")}


def test_the_clickable_figure_offers_each_active_site_on_both_sides_by_id():
    TriggerPointSite.objects.filter(name="Frontalis").update(is_active=False)
    active = dict(TriggerPointSite.objects.filter(is_active=True).values_list("name", "pk"))

    html = body_map_svg(clickable=active)

    buttons = set(re.findall(r'data-site="(\d+)" data-side="(left|right)" data-name="([^"]+)"', html))
    trapezius = active["Upper trapezius"]
    assert (str(trapezius), "left", "Upper trapezius") in buttons
    assert (str(trapezius), "right", "Upper trapezius") in buttons
    assert "Frontalis" not in html
    assert 'tabindex="0" role="button"' in html
    assert "bm-marked" not in html
