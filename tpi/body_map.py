"""The body map: one SVG figure, front and back, with the catalogue sites as regions.

Every page that shows the figure calls `body_map_svg` here; the regions come from
`tpi.body_map_regions`. Marks are counts per (site name, side), so the same call draws one
procedure's sites (each counted once), a patient's sites over time shaded by how often each was
injected, or a clinic-wide picture:

    from django.db.models import Count
    from tpi.body_map import body_map_marks, body_map_svg

    # One signed procedure (the signed note):
    body_map_svg(marks=body_map_marks(procedure.injections.all()))

    # A patient's sites injected over time, shaded by count (the patient's chart):
    injections = Injection.objects.filter(procedure__patient=patient, procedure__status="signed")
    body_map_svg(marks=body_map_marks(injections), caption="Sites injected, shaded by count")

`body_map_marks` aggregates in the database (one query, whatever the number of injections). A
bilateral mark counts on both sides, a midline mark on both sides too (the figure has no midline
regions). Counts are shaded in four steps from the lowest to the highest count on the figure; a
figure whose counts are all equal uses the strongest shade and a one-line legend.

The draft page passes `clickable` (site name -> catalogue id of the active sites): each region on
each side then becomes a keyboard-focusable button (`data-site`, `data-side`) that
`tpi/static/tpi/procedure_draft.js` turns into an injection row.
"""

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from tpi.body_map_regions import BACK, FRONT, HEIGHT, VIEWER_LEFT_SIDE, WIDTH, PlacedRegion, regions_placed

Marks = Mapping[tuple[str, str], int]

SHADES = ("#fdbb84", "#fc8d59", "#e34a33", "#b30000")  # lowest count .. highest count
SKIN = "#f3ede6"
OUTLINE = "#8a8178"
REGION_IDLE = "#d9cfc4"  # an unmarked muscle region

# One half of the silhouette (the viewer's left), from the top of the neck round the arm and leg
# to the crotch; the other half is its mirror image.
_HALF_BODY = (
    "M100,55 L86,55 L85,74 C74,78 62,80 54,85 C46,90 43,100 42,112 L37,170 L30,240 "
    "C28,252 24,262 26,276 C30,283 37,281 38,271 L43,244 L53,176 L59,121 "
    "C62,150 67,180 68,200 C66,215 61,228 61,242 L63,262 L66,320 L70,362 L72,404 "
    "C66,410 60,416 62,422 L90,424 L92,406 L92,362 L95,320 L98,262 L100,256 Z"
)


def body_map_marks(injections: QuerySet[Any] | Iterable[Any]) -> dict[tuple[str, str], int]:
    """Return {(site name, side): number of injections} for INJECTIONS (a queryset: one grouped query)."""
    if isinstance(injections, QuerySet):
        rows = injections.order_by().values_list("site__name", "laterality").annotate(n=Count("id"))
        return {(name, side): n for name, side, n in rows}
    marks: dict[tuple[str, str], int] = {}
    for injection in injections:
        key = (injection.site.name, injection.laterality)
        marks[key] = marks.get(key, 0) + 1
    return marks


def _per_side(marks: Marks) -> dict[tuple[str, str], int]:
    """Spread bilateral and midline marks over both sides: {(site, left|right): count}."""
    counts: dict[tuple[str, str], int] = {}
    for (site, side), count in marks.items():
        if count <= 0:
            continue
        sides = ("left", "right") if side in ("bilateral", "midline") else (side,)
        for one in sides:
            counts[(site, one)] = counts.get((site, one), 0) + count
    return counts


def _shade(count: int, low: int, high: int) -> str:
    if high <= low:
        return SHADES[-1]
    step = math.floor((count - low) * (len(SHADES) - 1) / (high - low))
    return SHADES[min(step, len(SHADES) - 1)]


def _ellipse(region: PlacedRegion, attrs: SafeString) -> SafeString:
    transform = f"rotate({region.rotate:g} {region.cx:g} {region.cy:g})" if region.rotate else ""
    return format_html(
        '<ellipse cx="{}" cy="{}" rx="{}" ry="{}"{}{}>',
        f"{region.cx:g}",
        f"{region.cy:g}",
        f"{region.rx:g}",
        f"{region.ry:g}",
        format_html(' transform="{}"', transform) if transform else "",
        attrs,
    )


def _silhouette() -> SafeString:
    mirror = f"translate({WIDTH},0) scale(-1,1)"
    # Stroke first, then fill over it: the outline is the union's edge, with no seams inside.
    return format_html(
        '<g class="bm-body"><g stroke="{o}" stroke-width="3" fill="{o}">'
        '<ellipse cx="100" cy="31" rx="18" ry="24"/><path d="{p}"/><path d="{p}" transform="{m}"/></g>'
        '<g fill="{s}"><ellipse cx="100" cy="31" rx="18" ry="24"/><path d="{p}"/><path d="{p}" transform="{m}"/>'
        "</g></g>",
        o=OUTLINE,
        s=SKIN,
        p=_HALF_BODY,
        m=mirror,
    )


def _region(region: PlacedRegion, count: int, low: int, high: int, clickable: Mapping[str, int] | None) -> SafeString:
    label = f"{region.site}, {region.side}"
    if clickable is not None:
        site_id = clickable.get(region.site)
        if site_id is None:
            return SafeString("")  # a deactivated site is not offered
        attrs = format_html(
            ' class="bm-region" tabindex="0" role="button" aria-pressed="false" data-site="{}" data-side="{}"'
            ' data-name="{}" fill="{}" aria-label="{}"><title>{}</title></ellipse',
            site_id,
            region.side,
            region.site,
            REGION_IDLE,
            f"Add {label}",
            f"{label} (click the other side too for bilateral)",
        )
        return _ellipse(region, attrs)
    if count:
        title = f"{label}: {count}" if high > 1 else label
        attrs = format_html(
            ' class="bm-region bm-marked" data-count="{}" fill="{}" stroke="#7f0000" stroke-width="0.6">'
            "<title>{}</title></ellipse",
            count,
            _shade(count, low, high),
            title,
        )
    else:
        attrs = format_html(' class="bm-region" fill="{}" aria-hidden="true"/', REGION_IDLE)
    return _ellipse(region, attrs)


def _view(
    view: str, counts: Mapping[tuple[str, str], int], low: int, high: int, clickable: Mapping[str, int] | None
) -> SafeString:
    near = VIEWER_LEFT_SIDE[view]
    far = "left" if near == "right" else "right"
    regions = format_html_join(
        "",
        "{}",
        ((_region(r, counts.get((r.site, r.side), 0), low, high, clickable),) for r in regions_placed(view)),
    )
    return format_html(
        '<figure class="bm-view bm-{view}"><svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'role="group" aria-label="{label}">{body}{regions}'
        '<text x="8" y="16" font-size="12" fill="#555">{near}</text>'
        '<text x="{far_x}" y="16" font-size="12" fill="#555" text-anchor="end">{far}</text>'
        "</svg><figcaption>{label}</figcaption></figure>",
        view=view,
        w=WIDTH,
        h=HEIGHT,
        label="Front" if view == FRONT else "Back",
        body=_silhouette(),
        regions=regions,
        near=near[0].upper(),
        far_x=WIDTH - 8,
        far=far[0].upper(),
    )


def _legend(low: int, high: int, caption: str) -> SafeString:
    if high == 0:
        return format_html('<p class="bm-legend">{}: none marked.</p>', caption)
    if high == low:
        swatch = format_html('<span class="bm-swatch" style="background:{}"></span>', SHADES[-1])
        return format_html('<p class="bm-legend">{} {}{}</p>', swatch, caption, "" if high == 1 else f" ({high} times)")
    ranges: dict[str, list[int]] = {}
    for count in range(low, high + 1):  # the same step rule as the regions' fill
        ranges.setdefault(_shade(count, low, high), []).append(count)
    steps = [(shade, str(c[0]) if len(c) == 1 else f"{c[0]}-{c[-1]}") for shade, c in ranges.items()]
    swatches = format_html_join(
        " ", '<span class="bm-step"><span class="bm-swatch" style="background:{}"></span> {}</span>', steps
    )
    return format_html('<p class="bm-legend">{}: {} times</p>', caption, swatches)


def body_map_svg(
    *,
    marks: Marks | None = None,
    clickable: Mapping[str, int] | None = None,
    caption: str = "Sites injected",
) -> SafeString:
    """Return the body map (front and back figures) as HTML, marking MARKS shaded by count.

    MARKS: {(site name, side): count}, side left/right/bilateral/midline (see body_map_marks).
    CLICKABLE: {site name: catalogue id} to make those sites' regions buttons (the draft page);
    marks are then not drawn (the page's script marks the rows as they are added).
    """
    counts = _per_side(marks or {})
    low = min(counts.values(), default=0)
    high = max(counts.values(), default=0)
    views = format_html_join("", "{}", ((_view(v, counts, low, high, clickable),) for v in (FRONT, BACK)))
    legend = SafeString("") if clickable is not None else _legend(low, high, caption)
    style = mark_safe(  # a constant
        "<style>.body-map{display:flex;flex-wrap:wrap;gap:.5em 1.5em;align-items:flex-start}"
        ".body-map .bm-view{margin:0;text-align:center;flex:1 1 40%;max-width:15em;min-width:0}"
        ".body-map svg{width:100%;height:auto;max-height:26em}"
        ".body-map .bm-legend{flex-basis:100%;margin:.25em 0}"
        ".body-map .bm-swatch{display:inline-block;width:1em;height:1em;vertical-align:middle;"
        "border:1px solid #7f0000}</style>"
    )
    return format_html('<div class="body-map">{}{}{}</div>', style, views, legend)
