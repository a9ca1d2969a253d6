"""Draw the landing page's figure: a 3x3 kernel sliding over a photo.

    python tools/make_intro_figure.py      # writes book/images/intro_kernel.png

Three panels: the photo with the kernel's window, the kernel's weights, and the
feature map filled in up to the window's position (row by row, as the loop of
chapter 2 computes it). The PNG is committed; rerun this script to regenerate it.
"""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import ConnectionPatch, Rectangle  # noqa: E402

from convlab.data import sample_gray  # noqa: E402
from convlab.kernels import KERNELS  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "book" / "images" / "intro_kernel.png"
SIZE = 72  # the photo's side in pixels: small, so the window is visible


def cross_correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'valid' cross-correlation with two loops over the output (what chapter 2 builds)."""
    kH, kW = kernel.shape
    H_out, W_out = image.shape[0] - kH + 1, image.shape[1] - kW + 1
    out = np.empty((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[i, j] = (image[i:i + kH, j:j + kW] * kernel).sum()
    return out


def draw(row: int = 44, col: int = 30, kernel_name: str = "sobel x"):
    image = sample_gray("astronaut", SIZE)[0].numpy()  # (H, W)
    kernel = KERNELS[kernel_name].numpy()  # (3, 3)
    out = cross_correlate(image, kernel)  # (H-2, W-2)
    done = np.full(out.shape, np.nan)
    done[:row] = out[:row]
    done[row, :col + 1] = out[row, :col + 1]  # the loop has reached (row, col)

    fig, (ax_in, ax_k, ax_out) = plt.subplots(
        1, 3, figsize=(8.0, 3.0), gridspec_kw={"width_ratios": [3, 1.4, 3]})
    ax_in.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax_in.add_patch(Rectangle((col - 0.5, row - 0.5), 3, 3, fill=False, ec="#ffb000", lw=2))
    ax_in.set_title("input $x$", fontsize=12)
    limit = float(np.abs(kernel).max())
    ax_k.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for (i, j), w in np.ndenumerate(kernel):
        ax_k.text(j, i, f"{w:g}", ha="center", va="center", fontsize=12,
                  color="white" if abs(w) > 0.6 * limit else "black")
    ax_k.set_title(f"kernel $w$\n({kernel_name})", fontsize=12)
    bound = float(np.nanmax(np.abs(out)))
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad("#eeeeee")
    ax_out.imshow(np.ma.masked_invalid(done), cmap=cmap, vmin=-bound, vmax=bound)
    ax_out.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, ec="#ffb000", lw=2))
    ax_out.set_title(r"output $y[i,j]=\sum_{u,v} x[i+u,j+v]\,w[u,v]$", fontsize=12)
    for ax in (ax_in, ax_k, ax_out):
        ax.set_xticks([])
        ax.set_yticks([])
    arrow = ConnectionPatch((col + 2.5, row + 1), (col, row), "data", "data", axesA=ax_in,
                            axesB=ax_out, color="#ffb000", lw=1.5, arrowstyle="->")
    fig.add_artist(arrow)
    fig.tight_layout()
    return fig


def main() -> None:
    torch.manual_seed(0)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    fig = draw()
    fig.savefig(OUTPUT, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
