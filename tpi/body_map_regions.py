"""Where each catalogue site sits on the body map: one place for the figure's muscle regions.

Drawn for this project (no third-party image). Each figure (front, back) is 200 x 440 units, the
body symmetric about x = 100. A region is given once, as an ellipse on the viewer's LEFT half; the
other side is its mirror image. Which of the patient's sides the viewer's left is depends on the view:
the front view faces us (the patient's right is on our left), the back view turns away (the
patient's left is on our left).

Keys are the catalogue's unique site names (`TriggerPointSite.name`, shipped by tpi migration 0002),
so the figure is the same in every database. `tests/tpi/test_body_map_regions.py` checks that every
region names a catalogue row and that every catalogue row has a region or is listed in NO_PLACE.
Regions are drawn in this order, later ones on top, so small muscles follow the large ones they overlie.
"""

from dataclasses import dataclass

FRONT = "front"
BACK = "back"
VIEWS = (FRONT, BACK)
WIDTH = 200
HEIGHT = 440
MIDLINE = WIDTH / 2

# The patient's side shown on the viewer's left half of each view (the mirror half is the other side).
VIEWER_LEFT_SIDE = {FRONT: "right", BACK: "left"}
OTHER_SIDE = {"left": "right", "right": "left"}


@dataclass(frozen=True)
class Region:
    """One muscle's place in one view: an ellipse on the viewer's left half (mirrored for the other side)."""

    site: str  # TriggerPointSite.name
    view: str  # FRONT or BACK
    cx: float
    cy: float
    rx: float
    ry: float
    rotate: float = 0.0  # degrees, clockwise, about the centre


@dataclass(frozen=True)
class PlacedRegion:
    """A region on one of the patient's sides, with the geometry to draw it."""

    site: str
    view: str
    side: str  # "left" or "right": the patient's side
    cx: float
    cy: float
    rx: float
    ry: float
    rotate: float


REGIONS: tuple[Region, ...] = (
    # Front: head and neck
    Region("Frontalis", FRONT, 91, 20, 7, 5),
    Region("Temporalis", FRONT, 82, 31, 3.5, 7),
    Region("Masseter", FRONT, 87, 47, 3.5, 5.5, -10),
    Region("Scalenes", FRONT, 89, 68, 3, 6, 25),
    Region("Sternocleidomastoid", FRONT, 95, 67, 3, 9, -20),
    # Front: shoulder, chest, arm
    Region("Deltoid", FRONT, 50, 100, 8, 14, 15),
    Region("Pectoralis major", FRONT, 79, 104, 15, 11),
    Region("Serratus anterior", FRONT, 68, 142, 4.5, 12),
    Region("Biceps brachii", FRONT, 48, 140, 5.5, 17, 8),
    Region("Wrist and finger flexors", FRONT, 41, 204, 5, 20, 8),
    # Front: abdomen, hip, leg
    Region("Rectus abdominis", FRONT, 93, 178, 6, 26),
    Region("Iliopsoas", FRONT, 84, 236, 7, 4.5, 35),
    Region("Tensor fasciae latae", FRONT, 67, 250, 4, 9),
    Region("Vastus lateralis", FRONT, 71, 290, 5.5, 22),
    Region("Adductor longus", FRONT, 91, 272, 4, 12, 15),
    Region("Vastus medialis", FRONT, 88, 308, 4.5, 9),
    Region("Peroneus longus", FRONT, 73, 362, 3, 20),
    Region("Tibialis anterior", FRONT, 81, 362, 3.5, 22),
    # Back: head and neck
    Region("Occipitalis", BACK, 92, 38, 6, 4),
    Region("Suboccipital muscles", BACK, 95, 52, 4, 3),
    Region("Splenius capitis", BACK, 89, 62, 3, 5, -20),
    Region("Semispinalis capitis", BACK, 96, 62, 3, 5),
    Region("Splenius cervicis", BACK, 89, 73, 3, 4.5, -20),
    Region("Cervical paraspinals", BACK, 96, 73, 3, 5),
    # Back: shoulder girdle and upper back
    Region("Latissimus dorsi", BACK, 73, 160, 8, 18, 10),
    Region("Upper trapezius", BACK, 71, 85, 14, 4.5, -18),
    Region("Levator scapulae", BACK, 85, 81, 3, 6.5, 25),
    Region("Deltoid", BACK, 50, 100, 8, 14, 15),
    Region("Supraspinatus", BACK, 70, 96, 9, 3.5, 10),
    Region("Infraspinatus", BACK, 70, 112, 9, 7),
    Region("Teres minor", BACK, 58, 116, 5, 2.5, 30),
    Region("Teres major", BACK, 63, 126, 6, 3, 25),
    Region("Serratus posterior superior", BACK, 91, 90, 4.5, 3),
    Region("Middle trapezius", BACK, 83, 101, 6, 4),
    Region("Rhomboids", BACK, 89, 116, 4.5, 9, -10),
    Region("Lower trapezius", BACK, 87, 141, 4.5, 12, -20),
    Region("Thoracic paraspinals", BACK, 96, 152, 3, 22),
    Region("Triceps brachii", BACK, 47, 140, 5.5, 17, 8),
    Region("Wrist and finger extensors", BACK, 40, 204, 5, 20, 8),
    # Back: low back, buttock, leg
    Region("Quadratus lumborum", BACK, 85, 200, 5, 8),
    Region("Lumbar paraspinals", BACK, 95, 201, 3.5, 12),
    Region("Gluteus medius", BACK, 72, 227, 9, 6),
    Region("Gluteus maximus", BACK, 83, 250, 12, 10),
    Region("Piriformis", BACK, 81, 239, 8, 2.5, -10),
    Region("Hamstrings", BACK, 80, 292, 7.5, 22),
    Region("Gastrocnemius", BACK, 81, 345, 7, 14),
    Region("Soleus", BACK, 81, 376, 5, 10),
)

# Catalogue rows with no place of their own on the figure: deep muscles that lie under another
# drawn muscle, where a region of their own would hide or contradict the one above. They are still
# documented by picking them in the injection row's site list.
NO_PLACE: dict[str, str] = {
    "Subscapularis": "on the front of the shoulder blade, against the ribs: no surface of its own front or back",
    "Pectoralis minor": "under pectoralis major",
    "Gluteus minimus": "under gluteus medius",
}


def _mirror(region: Region) -> tuple[float, float]:
    return 2 * MIDLINE - region.cx, -region.rotate


def regions_placed(view: str | None = None) -> list[PlacedRegion]:
    """Return every region on both of the patient's sides (of VIEW, or of both views), in drawing order."""
    placed = []
    for region in REGIONS:
        if view is not None and region.view != view:
            continue
        near = VIEWER_LEFT_SIDE[region.view]
        mirror_cx, mirror_rotate = _mirror(region)
        geometry = (region.cy, region.rx, region.ry)
        placed.append(PlacedRegion(region.site, region.view, near, region.cx, *geometry, region.rotate))
        placed.append(PlacedRegion(region.site, region.view, OTHER_SIDE[near], mirror_cx, *geometry, mirror_rotate))
    return placed


def sites_with_place() -> set[str]:
    """Return the names of the catalogue sites that have a region on the figure."""
    return {region.site for region in REGIONS}
