"""Chapter 3's channel-connectivity diagram, driven like a user would."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from convlab.widgets import groups_explorer, groups_static_explorer, render_groups  # noqa: E402
from convlab.widgets.groups import connections  # noqa: E402


def test_groups_control_redraws():
    ex = groups_explorer(6, 12)
    assert ex.error is None and ex.image.value[:4] == b"\x89PNG"
    assert list(ex.controls["groups"].options) == [1, 2, 3, 6]
    for g in (2, 3, 6):
        before = ex.image.value
        ex.controls["groups"].value = g
        assert ex.image.value != before and ex.error is None


def test_channel_change_updates_group_options():
    ex = groups_explorer(6, 12)
    ex.controls["groups"].value = 3
    before = ex.image.value
    ex.controls["out_channels"].value = 9  # gcd(6, 9) = 3: groups=3 stays valid
    assert list(ex.controls["groups"].options) == [1, 3]
    assert ex.controls["groups"].value == 3
    assert ex.image.value != before and ex.error is None
    ex.controls["in_channels"].value = 4  # gcd(4, 9) = 1: back to groups=1
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


def test_invalid_groups_draws_message():
    with pytest.raises(ValueError):
        connections(6, 4, 4)
    fig = render_groups(6, 4, 4)
    assert "must divide" in fig.axes[0].texts[0].get_text()
    matplotlib.pyplot.close(fig)


def test_static_twin():
    ex = groups_static_explorer()
    assert len(ex) == 8 and len(ex.to_html()) < 3_000_000
