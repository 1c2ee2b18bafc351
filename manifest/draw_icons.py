"""Draw the two icons of the Teams app package: ``color.png`` (192x192) and ``outline.png`` (32x32).

Teams requires both, and the outline icon must be white on a transparent background. The motif is a
gift box (the membership benefits) with a keyhole on its front (the product keys it hands out). The
icons are drawn from code so that they can be changed by editing numbers and re-running
``python -m manifest.draw_icons``; the PNGs are checked in, so building a package needs no Pillow.
Shapes are drawn on a grid of 32 units at 8x size and scaled down, which gives anti-aliased edges.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SUPERSAMPLE = 8

BRAND_BLUE = (15, 108, 189, 255)  # also the manifest's accentColor, #0F6CBD
GOLD = (242, 193, 78, 255)
DARK_GOLD = (201, 140, 32, 255)
BOW_GOLD = (230, 166, 50, 255)
WHITE = (255, 255, 255, 255)

Point = tuple[float, float]

# The motif on a 32 x 32 grid.
# Bow: two wings that meet at a knot on the lid.
BOW_WINGS = (
    ((16.0, 9.2), (10.2, 4.4), (8.8, 6.2), (10.6, 10.0)),
    ((16.0, 9.2), (21.8, 4.4), (23.2, 6.2), (21.4, 10.0)),
)
BOW_KNOT = (14.3, 7.6, 17.7, 10.6)
LID = (5.0, 10.0, 27.0, 15.5)
BODY = (7.0, 15.5, 25.0, 28.0)
RIBBON = (14.5, 10.0, 17.5, 15.5)
KEYHOLE_CIRCLE = (16.0, 20.2, 2.3)  # centre x, centre y, radius
KEYHOLE_SLOT = ((15.2, 21.0), (16.8, 21.0), (17.6, 25.4), (14.4, 25.4))


def _scaler(size: int, offset: float, unit: float) -> Callable[[float], float]:
    def scale(value: float) -> float:
        return (offset + value * unit) * SUPERSAMPLE

    return scale


def draw_outline(size: int = 32) -> Image.Image:
    """White strokes on transparency: lid, box, bow, and a solid keyhole."""
    s = _scaler(size, 0.0, size / 32)
    big = size * SUPERSAMPLE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    stroke = round(2 * size / 32 * SUPERSAMPLE)

    def rect(box: tuple[float, float, float, float], fill: bool = False) -> None:
        x0, y0, x1, y1 = (s(v) for v in box)
        draw.rounded_rectangle(
            (x0, y0, x1, y1), radius=stroke * 0.6, outline=255, width=stroke, fill=255 if fill else None
        )

    for wing in BOW_WINGS:
        draw.line([(s(x), s(y)) for x, y in (*wing, wing[0])], fill=255, width=stroke, joint="curve")
    draw.ellipse(tuple(s(v) for v in BOW_KNOT), fill=255)
    rect(LID)
    rect(BODY)
    draw.rectangle(tuple(s(v) for v in RIBBON), fill=255)
    cx, cy, r = KEYHOLE_CIRCLE
    draw.ellipse((s(cx - r), s(cy - r), s(cx + r), s(cy + r)), fill=255)
    draw.polygon([(s(x), s(y)) for x, y in KEYHOLE_SLOT], fill=255)

    alpha = mask.resize((size, size), Image.Resampling.LANCZOS)
    icon = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    icon.putalpha(alpha)
    # Fully transparent pixels stay white too, so that every pixel is white or transparent.
    return icon


def draw_color(size: int = 192) -> Image.Image:
    """The same motif in colour on the brand blue; the symbol fills the central 120 of 192 pixels."""
    unit = size * 120 / 192 / 32
    offset = (size - 32 * unit) / 2
    s = _scaler(size, offset, unit)
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), BRAND_BLUE)
    draw = ImageDraw.Draw(image)
    stroke = round(2.2 * unit * SUPERSAMPLE)
    radius = unit * SUPERSAMPLE

    for wing in BOW_WINGS:
        points = [(s(x), s(y)) for x, y in wing]
        draw.polygon(points, fill=BOW_GOLD)
        draw.line([*points, points[0]], fill=BOW_GOLD, width=stroke // 2, joint="curve")
    draw.ellipse(tuple(s(v) for v in BOW_KNOT), fill=DARK_GOLD)
    draw.rounded_rectangle(tuple(s(v) for v in BODY), radius=radius, fill=WHITE)
    draw.rounded_rectangle(tuple(s(v) for v in LID), radius=radius, fill=GOLD)
    draw.rectangle(tuple(s(v) for v in RIBBON), fill=DARK_GOLD)
    cx, cy, r = KEYHOLE_CIRCLE
    draw.ellipse((s(cx - r), s(cy - r), s(cx + r), s(cy + r)), fill=BRAND_BLUE)
    draw.polygon([(s(x), s(y)) for x, y in KEYHOLE_SLOT], fill=BRAND_BLUE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write ``color.png`` and ``outline.png`` next to this file."""
    draw_color().save(HERE / "color.png", format="PNG", optimize=True)
    draw_outline().save(HERE / "outline.png", format="PNG", optimize=True)
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")


if __name__ == "__main__":
    main()
