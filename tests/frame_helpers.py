"""Legibility of static explorer frames, as the browser check will measure it on the page."""

import base64
import struct

COLUMN_PX = 752  # the book's column at a 1280 px window: frames are shown at this width
MIN_FRAME_WIDTH = 700
MIN_TEXT_PX = 13.3  # 10 pt


def png_width(frame: str) -> int:
    data = base64.b64decode(frame)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "frames are PNG"
    return struct.unpack(">I", data[16:20])[0]


def assert_legible(explorer) -> None:
    """Every frame is at least 700 px wide, and its smallest text shown at the column width
    is at least 10 pt; all frames have the same width (the page does not jump)."""
    widths = {png_width(frame) for frame in explorer.frames.values()}
    assert min(widths) >= MIN_FRAME_WIDTH, widths
    assert len(widths) == 1, f"frames of different widths: {sorted(widths)}"
    assert explorer.min_font_px is not None
    shown = explorer.min_font_px * COLUMN_PX / min(widths)
    assert shown >= MIN_TEXT_PX, f"smallest text {shown:.1f} px as displayed"
