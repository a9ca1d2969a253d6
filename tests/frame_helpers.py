"""Legibility of static explorer frames, as the browser check will measure it on the page."""

import base64
import io

from PIL import Image

from convlab.explore import COLUMN_PX, MIN_FRAME_WIDTH  # frames are shown COLUMN_PX wide

MIN_TEXT_PX = 13.3  # 10 pt


def frame_width(frame: str) -> int:
    """Natural width in pixels of a base64 frame (PNG or JPEG)."""
    return Image.open(io.BytesIO(base64.b64decode(frame))).size[0]


def assert_legible(explorer, same_width: bool = True) -> None:
    """Every frame is at least 700 px wide, and its smallest text shown at the column width
    is at least 10 pt; with ``same_width``, all frames have one width (the page does not
    jump)."""
    widths = {frame_width(frame) for frame in explorer.frames.values()}
    assert min(widths) >= MIN_FRAME_WIDTH, widths
    assert not same_width or len(widths) == 1, f"frames of different widths: {sorted(widths)}"
    assert explorer.min_font_px is not None
    shown = explorer.min_font_px * COLUMN_PX / max(widths)  # the widest frame shrinks most
    assert shown >= MIN_TEXT_PX, f"smallest text {shown:.1f} px as displayed"
