"""Chapter 4's exercises: the solutions pass, plausible wrong answers fail and say where."""

from __future__ import annotations

import torch

from convlab.exercises import EXERCISES
from convlab.winograd import winograd_matrices

IDS = ["im2col_by_hand", "strided_windows", "fft_correlate1d", "winograd_tile"]


def test_registered_for_chapter_4():
    for id_ in IDS:
        assert EXERCISES[id_].chapter == 4


def test_solutions_pass():
    for id_ in IDS:
        assert EXERCISES[id_].check(EXERCISES[id_].solution, verbose=False), id_


def test_im2col_with_rows_in_tap_channel_order_fails():
    def wrong(x, k):  # rows ordered (i, j, c) instead of (c, i, j)
        C, H, W = x.shape
        taps = [x[:, i:i + H - k + 1, j:j + W - k + 1] for i in range(k) for j in range(k)]
        return torch.stack(taps, 0).reshape(C * k * k, -1)

    result = EXERCISES["im2col_by_hand"].check(wrong, verbose=False)
    assert not result and result.case == "three channels, 2x2"
    assert "three channels, 2x2" in result.message


def test_windows_with_stride_ignored_fails():
    def wrong(x, k, s):
        N, H, W, C = x.shape
        sN, sH, sW, sC = x.stride()
        H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
        return x.as_strided((N, H_out, W_out, k, k, C), (sN, sH, sW, sH, sW, sC))

    result = EXERCISES["strided_windows"].check(wrong, verbose=False)
    assert not result and result.case == "stride 2"


def test_fft_without_conjugate_fails():
    def wrong(x, w):  # convolution, not correlation
        L, k = len(x), len(w)
        return torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(w, n=L), n=L)[:L - k + 1]

    result = EXERCISES["fft_correlate1d"].check(wrong, verbose=False)
    assert not result and "values differ" in result.message


def test_fft_keeping_the_wrapped_outputs_fails():
    def wrong(x, w):
        L = len(x)
        return torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(w, n=L).conj(), n=L)

    result = EXERCISES["fft_correlate1d"].check(wrong, verbose=False)
    assert not result and "shape" in result.message


def test_winograd_with_transposes_forgotten_fails():
    def wrong(x_tile, w_tile):
        B_T, G, A_T = winograd_matrices(x_tile.dtype)
        return A_T @ ((G @ w_tile @ G.T) * (B_T @ x_tile @ B_T)) @ A_T.T  # no B_T.T on the right

    result = EXERCISES["winograd_tile"].check(wrong, verbose=False)
    assert not result and f"case '{result.case}'" in result.message
