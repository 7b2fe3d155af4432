"""The share image (the ``png`` format): a 1200×630 card per comparison for Open Graph and
Twitter/X previews, with the two names, the answer and both panel ship percentages.

Drawn with Pillow (matplotlib's own image library, already installed with it) in the DejaVu
fonts matplotlib ships, so no system font is needed and the bytes are the same on every
machine: the site build writes it beside the page and rewrites it only when the record's
content changes (the build cache keys it like the page). The PNG carries panel's mark in a
text chunk (``Software: panel``), so the build knows its own images and takes them down with
their page. Names are vendor text: drawn as text, never interpreted, and cut to fit.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import matplotlib
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from panel.publish.render.base import Comparison, Context, Subject, unsupported

WIDTH, HEIGHT = 1200, 630
MARK = b"Software\x00panel"  # the tEXt chunk's key and value, as they appear in the file
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
INK, MUTED, PAPER, SHIP, SKIP, LINE = (
    "#14181f",
    "#5a6472",
    "#f7f5f0",
    "#17663a",
    "#a3261b",
    "#d9d4c7",
)

Font = ImageFont.FreeTypeFont


@functools.cache
def _font(size: int, bold: bool = False) -> Font:
    return ImageFont.truetype(
        str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size
    )


def _fit(
    draw: ImageDraw.ImageDraw, text: str, width: int, sizes: tuple[int, ...]
) -> tuple[str, Font]:
    """``text`` at the largest size that fits ``width``; cut with an ellipsis at the smallest."""
    for size in sizes:
        font = _font(size, bold=True)
        if draw.textlength(text, font=font) <= width:
            return text, font
    font = _font(sizes[-1], bold=True)
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…", font


def share_image(subject: Comparison, site_title: str) -> bytes:
    view = subject.view
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    margin = 64
    inner = WIDTH - 2 * margin
    draw.rectangle((0, 0, WIDTH, 12), fill=SHIP if view.picked else MUTED)
    draw.text((margin, 52), site_title.upper()[:60], font=_font(26, bold=True), fill=MUTED)
    draw.text((margin, 92), "Which one should you ship with?", font=_font(34), fill=INK)
    answer = f"Ship with {view.pick}" if view.picked else "No pick"
    text, font = _fit(draw, answer, inner, (72, 64, 56, 48))
    draw.text((margin, 150), text, font=font, fill=SHIP if view.picked else INK)
    column = (inner - 32) // 2
    for n, card in enumerate(view.cards[:2]):
        left = margin + n * (column + 32)
        top = 300
        picked = view.picked and card.name == view.pick
        draw.rounded_rectangle(
            (left, top, left + column, top + 250),
            radius=18,
            fill="#ffffff",
            outline=SHIP if picked else LINE,
            width=5 if picked else 2,
        )
        name, font = _fit(draw, card.name, column - 48, (40, 34, 30, 26))
        draw.text((left + 24, top + 24), name, font=font, fill=INK)
        colour = SKIP if card.score.ship_pct is not None and card.score.ship_pct < 50 else SHIP
        draw.text((left + 24, top + 92), card.ship_label, font=_font(84, bold=True), fill=colour)
        draw.text((left + 24, top + 196), "panel ship", font=_font(26), fill=MUTED)
    draw.text(
        (margin, HEIGHT - 52),
        "Reviews written by AI models, approved by editors",
        font=_font(22),
        fill=MUTED,
    )
    info = PngInfo()
    info.add_text("Software", "panel")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()


class ShareImageRenderer:
    """A comparison's share image; the site writes ``compare/<a>-vs-<b>.png``."""

    name = "png"
    media_type = "image/png"
    suffix = ".png"
    subjects: tuple[type, ...] = (Comparison,)
    site = True

    def render(self, subject: Subject, context: Context) -> bytes:
        if isinstance(subject, Comparison):
            return share_image(subject, context.site_title)
        raise unsupported(self, subject)

    def marked(self, head: bytes) -> bool:
        return head.startswith(b"\x89PNG") and MARK in head


RENDERER = ShareImageRenderer()
