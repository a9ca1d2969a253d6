"""Drop-in category *accuracy*: the float32 Winograd backends round more than a direct
sum, and this measures by how much, on 256-channel layers, forward and ``grad_input``.

Both PyTorch's float32 result and convlab's are compared with a float64 reference. The
bounds are where a user would not notice: F(4x4, 3x3) stays within 20x PyTorch's own
worst float32 error and within 1e-5 of the largest output (about 80 float32 rounding
steps; bfloat16 rounds 400 times coarser), F(2x2, 3x3) within 3x and 2e-6.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conv_oracle import no_torch_conv

from convlab import functional, gemm

BOUNDS = {"winograd4": (20.0, 1e-5), "winograd2": (3.0, 2e-6)}  # (x torch's error, of max|y|)
LAYERS = [(2, 256, 16, 64), (8, 256, 14, 256), (4, 256, 28, 128)]  # (N, C_in, H, C_out)


def _errors(backend, N, C, H, C_out, seed, monkeypatch):
    """Worst errors against float64, ours and PyTorch's, forward and grad_input."""
    monkeypatch.setattr(functional, "BACKEND", backend)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(N, C, H, H, generator=gen)
    w = torch.randn(C_out, C, 3, 3, generator=gen) / (9 * C) ** 0.5  # outputs of size ~1
    g = torch.randn(N, C_out, H, H, generator=gen)
    assert functional._choose_backend(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1) == backend
    results = {}
    for name, dtype in (("ours", torch.float32), ("torch", torch.float32),
                        ("exact", torch.float64)):
        xi = x.to(dtype).requires_grad_()
        conv = functional.conv2d if name == "ours" else F.conv2d
        with no_torch_conv() if name == "ours" else torch.enable_grad():
            y = conv(xi, w.to(dtype), padding=1)
            (grad,) = torch.autograd.grad(y, xi, g.to(dtype))
        results[name] = (y.double(), grad.double())
    (y_ref, g_ref), out = results["exact"], {}
    for name in ("ours", "torch"):
        y, grad = results[name]
        out[name] = ((y - y_ref).abs().max().item() / y_ref.abs().max().item(),
                     (grad - g_ref).abs().max().item() / g_ref.abs().max().item())
    return out


@pytest.mark.parametrize("backend", BOUNDS)
@pytest.mark.parametrize("layer", LAYERS, ids=str)
def test_float32_winograd_error_against_float64(backend, layer, monkeypatch):
    ratio_bound, relative_bound = BOUNDS[backend]
    for seed in range(3):
        errors = _errors(backend, *layer, seed, monkeypatch)
        for which, (ours, theirs) in zip(("forward", "grad_input"),
                                         zip(errors["ours"], errors["torch"])):
            assert ours <= relative_bound, (which, ours)
            assert ours <= ratio_bound * theirs, (which, ours / theirs)


def test_the_default_choice_is_a_bounded_backend(monkeypatch):
    """What ``conv2d`` picks on its own for the three layers, so the bounds above are the
    ones users get. On torch.matmul's GEMMs, the rules: F(4x4, 3x3) on the 16x16 and 28x28
    outputs, F(2x2, 3x3) on 14x14. On oneDNN's, each layer's first call times the
    backends (``_measured_backend``): the pick is whichever was fastest on this machine,
    one of those bounded above or im2col (on either GEMM library), and the same at every
    later call."""
    monkeypatch.setattr(functional, "_measured", {})
    layers = [(torch.randn(N, C, H, H), torch.randn(C_out, C, 3, 3) / 48)
              for N, C, H, C_out in LAYERS]
    pick = lambda x, w: functional._choose_backend(x, w, None, (1, 1), ((1, 1), (1, 1)),
                                                   (1, 1), 1)
    picks = [pick(x, w) for x, w in layers]
    if gemm.onednn_matmul_available():
        assert set(picks) <= {"im2col", "im2col_blas", *BOUNDS}
        assert len(functional._measured) == len(LAYERS)
        assert picks == list(functional._measured.values())
        assert [pick(x, w) for x, w in layers] == picks  # remembered: no second timing
    else:
        assert picks == ["winograd4", "winograd2", "winograd4"]
    monkeypatch.setattr(gemm, "GEMM", "torch")  # torch.matmul's GEMMs: Winograd pays
    assert [pick(x, w) for x, w in layers] == ["winograd4", "winograd2", "winograd4"]
