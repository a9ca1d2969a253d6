"""Chapter 3's kernels-as-volumes picture and its explorers, driven like a user would."""


import matplotlib

matplotlib.use("Agg")

import matplotlib.text  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from frame_helpers import assert_legible  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from convlab.widgets import (  # noqa: E402
    groups_explorer,
    groups_static_explorer,
    render_kernel_volumes,
)
from convlab.widgets.groups import connections  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    matplotlib.pyplot.close("all")


def test_groups_control_redraws():
    ex = groups_explorer(4, 8)
    assert ex.error is None and ex.image.value[:4] == b"\x89PNG"
    assert list(ex.controls["groups"].options) == [1, 2, 4]
    for g in (2, 4):
        before = ex.image.value
        ex.controls["groups"].value = g
        assert ex.image.value != before and ex.error is None


def test_every_move_redraws_once():
    """A channel move that changes the groups' options draws once, never first with the
    old (now invalid) groups."""
    ex = groups_explorer(4, 8)
    ex.controls["groups"].value = 4
    for name, value in [("in_channels", 6), ("out_channels", 6), ("in_channels", 3),
                        ("groups", 3), ("out_channels", 5)]:
        before = ex.redraws
        ex.controls[name].value = value
        assert ex.redraws == before + 1, name
        assert ex.error is None


def test_channel_change_updates_group_options():
    ex = groups_explorer(6, 8)
    ex.controls["groups"].value = 2
    before = ex.image.value
    ex.controls["out_channels"].value = 4  # gcd(6, 4) = 2: groups=2 stays valid
    assert list(ex.controls["groups"].options) == [1, 2]
    assert ex.controls["groups"].value == 2
    assert ex.image.value != before and ex.error is None
    ex.controls["in_channels"].value = 3  # gcd(3, 4) = 1: back to groups=1
    assert list(ex.controls["groups"].options) == [1]
    assert ex.controls["groups"].value == 1 and ex.error is None


@pytest.mark.parametrize("c_in, c_out, groups", [(6, 12, 1), (6, 12, 3), (4, 4, 4), (8, 4, 2)])
def test_connections_are_the_nonzero_weight_blocks(c_in, c_out, groups):
    """A grouped conv equals a full conv whose weight is zero off these connections."""
    pairs = set(connections(c_in, c_out, groups))
    assert len(pairs) == c_out * c_in // groups
    w = torch.randn(c_out, c_in // groups, 3, 3, dtype=torch.float64)
    full = torch.zeros(c_out, c_in, 3, 3, dtype=torch.float64)
    for o in range(c_out):
        ins = sorted(c for c, oo in pairs if oo == o)
        full[o, ins] = w[o]
    x = torch.randn(1, c_in, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(torch.nn.functional.conv2d(x, w, groups=groups),
                               torch.nn.functional.conv2d(x, full))


def _slices(fig):
    """Filled squares drawn (input, kernel and output slices)."""
    return [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_fill()]


@pytest.mark.parametrize("c_in, c_out, groups", [(3, 1, 1), (4, 8, 2), (4, 4, 4), (2, 8, 1)])
def test_the_picture_has_every_channel_and_every_kernel_slice(c_in, c_out, groups):
    """C_in input slices, C_out kernels of C_in/G slices each, C_out output maps, plus one
    written pixel per drawn path; the title states the weight's shape and size."""
    fig = render_kernel_volumes(c_in, c_out, groups)
    paths = 2 if groups > 1 else 1
    assert len(_slices(fig)) == c_in + c_out * (c_in // groups) + c_out + paths
    title = fig.axes[0].get_title()
    assert f"weight ({c_out}, {c_in // groups}, 3, 3) = {c_out * c_in // groups * 9}" in title
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert f"C_in = {c_in}" in texts and f"C_out = {c_out}" in texts
    kernels = f"{c_out} kernels, each " if c_out > 1 else "1 kernel, "
    assert f"{kernels}{c_in // groups}×3×3" in texts
    numbers = [t.get_text() for t in fig.axes[0].texts if t.get_text().isdigit()]
    assert numbers == [str(o) for o in range(c_out)]  # every kernel is numbered
    assert ("depthwise" in title) == (groups == c_in > 1)


def _kernel_boxes(fig) -> dict:
    """Bounding box ``(x0, y0, x1, y1)`` of each kernel volume, by its number."""
    boxes = {}
    for patch in fig.axes[0].patches:
        gid = patch.get_gid() or ""
        if gid.startswith("kernel "):
            (x0, y0), (x1, y1) = patch.get_xy(), patch.get_xy()
            x1, y1 = x0 + patch.get_width(), y0 + patch.get_height()
            o = int(gid.split()[1])
            a = boxes.get(o, (x0, y0, x1, y1))
            boxes[o] = (min(a[0], x0), min(a[1], y0), max(a[2], x1), max(a[3], y1))
    return boxes


def _path_segments(fig) -> dict:
    """The line segments of every drawn path (lines and arrows), by kernel number."""
    segments = {}
    for artist in fig.axes[0].lines + fig.axes[0].texts:
        gid = artist.get_gid() or ""
        if not gid.startswith("path "):
            continue
        if isinstance(artist, matplotlib.text.Annotation):
            points = [artist.xyann, artist.xy]
        else:
            points = list(zip(artist.get_xdata(), artist.get_ydata()))
        o = int(gid.split()[1])
        segments.setdefault(o, []).extend(zip(points[:-1], points[1:]))
    return segments


@pytest.mark.parametrize("c_in, c_out, groups", [(4, 8, 1), (4, 8, 2), (4, 8, 4), (4, 4, 4),
                                                 (2, 8, 2), (8, 5, 1), (6, 6, 3), (8, 8, 8),
                                                 (3, 1, 1), (4, 2, 2)])
def test_paths_never_pass_through_another_kernel(c_in, c_out, groups):
    """The lines from a window to its kernel and from the kernel to its map go around every
    other kernel: none looks as if it wrote into another group's map."""
    fig = render_kernel_volumes(c_in, c_out, groups)
    boxes, segments = _kernel_boxes(fig), _path_segments(fig)
    assert sorted(boxes) == list(range(c_out))
    assert sorted(segments) == ([0, c_out - 1] if groups > 1 else [0])
    for o, lines in segments.items():
        for (x0, y0), (x1, y1) in lines:
            for t in np.linspace(0, 1, 400):
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                for other, (bx0, by0, bx1, by1) in boxes.items():
                    inside = bx0 + 1e-3 < x < bx1 - 1e-3 and by0 + 1e-3 < y < by1 - 1e-3
                    assert other == o or not inside, (
                        f"the path of kernel {o} passes through kernel {other} at ({x:.2f}, "
                        f"{y:.2f})")


def test_real_images_and_weights_are_drawn_on_the_slices():
    photo = torch.rand(3, 12, 12)
    weight = torch.randn(1, 3, 3, 3)
    fig = render_kernel_volumes(3, 1, input_images=photo.numpy(), weight=weight.numpy(),
                                output_images=torch.randn(1, 10, 10).numpy(),
                                input_cmaps=["Reds", "Greens", "Blues"])
    images = fig.axes[0].get_images()
    assert len(images) == 3 + 3 + 1
    assert [im.get_cmap().name for im in images[:3]] == ["Blues", "Greens", "Reds"]  # back first


@pytest.mark.parametrize("c_in, c_out, groups", [(6, 4, 4), (2, 8, 4), (4, 2, 4)])
def test_invalid_groups_draw_torchs_error(c_in, c_out, groups):
    with pytest.raises(ValueError) as raised:
        torch.nn.Conv2d(c_in, c_out, 3, groups=groups)
    fig = render_kernel_volumes(c_in, c_out, groups)
    text = fig.axes[0].texts[0].get_text()
    assert f"ValueError: {raised.value}" in text
    with pytest.raises(ValueError):
        connections(c_in, c_out, groups)


def test_static_twin_frames_are_legible():
    ex = groups_static_explorer()
    assert len(ex) == 2 * 3 * 3 and len(ex.to_html()) < 3_000_000
    assert_legible(ex, same_width=False)
    assert list(ex.controls) == ["groups", "in_channels", "out_channels"]
    start = ex.to_html().split("base64,")[1].split('"')[0]  # G=1, C_in=4, C_out=8
    assert start == ex.frames["0_1_2"]
