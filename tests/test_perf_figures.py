"""Chapter 4's measurements and figures: small sizes, so the whole file runs in seconds."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from convlab import perf_figures as pf  # noqa: E402
from convlab.ladder import RESNET18  # noqa: E402


def fake_results():
    """A saved-run shaped dict with known ratios (two layers, three rungs)."""
    def rung(ratio):
        return {"seconds": ratio * 1e-3, "ratio": ratio, "gflops": 100 / ratio, "peak_mib": 1.0}
    return {
        "rungs": ["naive", "im2col", "fft", "winograd"], "batch": 8, "threads": 2,
        "torch": "2.x", "machine": "x86_64, 2 threads",
        "layers": [
            {"layer": "a 3x3", "shape": [8, 8, 8, 3, 1, 1],
             "rungs": {"F.conv2d": rung(1.0), "naive": {"skipped": "skipped (too slow)"},
                       "im2col": rung(2.0), "fft": rung(20.0), "winograd": rung(1.5)}},
            {"layer": "b 1x1/2", "shape": [8, 16, 8, 1, 2, 0],
             "rungs": {"F.conv2d": rung(1.0), "naive": rung(30.0), "im2col": rung(0.9),
                       "fft": rung(40.0), "winograd": {"skipped": "n/a (3x3 stride 1 only)"}}},
        ]}


def test_conv_intensity_counts_flops_over_compulsory_bytes():
    C_in, C_out, H, k, s, p = 4, 6, 10, 3, 1, 1
    flops = 2 * 2 * C_out * H * H * C_in * k * k
    elements = 2 * C_in * H * H + C_out * C_in * k * k + 2 * C_out * H * H
    assert pf.conv_intensity((C_in, C_out, H, k, s, p), 2) == pytest.approx(flops / (4 * elements))
    strided = pf.conv_intensity(RESNET18[3][1:], 8)  # a 1x1 stride-2 layer: little reuse
    assert strided < pf.conv_intensity(RESNET18[1][1:], 8)


def test_ladder_facts_are_computed_from_the_ratios():
    facts = pf.ladder_facts(fake_results())
    assert facts["best"] == {"a 3x3": ("winograd", 1.5), "b 1x1/2": ("im2col", 0.9)}
    assert facts["median_best"] == pytest.approx(1.2)
    assert facts["worst_best"] == ("a 3x3", 1.5)
    assert facts["wins"] == ["b 1x1/2"]
    assert facts["fft_median"] == pytest.approx(30.0)
    assert facts["winograd"] == {"a 3x3": 1.5}


def test_kernel_size_sweep_times_every_method_at_every_k():
    calls = []

    def fake(x, w, padding):
        calls.append((w.shape[-1], padding))
        return x

    ms = pf.kernel_size_sweep({"a": fake, "b": fake}, torch.zeros(1, 2, 5, 5), [1, 3], rounds=2)
    assert set(ms) == {"a", "b"} and all(len(v) == 2 and min(v) >= 0 for v in ms.values())
    assert calls.count((3, 1)) == 2 * 3  # two methods, a warm-up round and two timed rounds


def test_ratio_grid_marks_skipped_rungs_and_why():
    results = fake_results()
    layers, rungs, grid = pf.ratio_grid(results)
    assert layers == ["a 3x3", "b 1x1/2"] and rungs == ["naive", "im2col", "fft", "winograd"]
    assert grid[0][0] is None and grid[1][3] is None and grid[1][1] == 0.9
    assert pf.skip_reason(results["layers"][0], "naive") == "slow"
    assert pf.skip_reason(results["layers"][1], "winograd") == "n/a"


def test_first_win_finds_the_crossover_or_none():
    ms = {"fft": [5, 4, 3], "direct": [1, 4, 9]}
    assert pf.first_win([3, 5, 7], ms, "fft", "direct") == 7
    assert pf.first_win([3, 5, 7], ms, "direct", "fft") is None  # slower at the largest k
    assert pf.first_win([3, 5, 7], {"a": [1, 3, 1], "b": [2, 2, 2]}, "a", "b") == 7
    assert pf.first_win([3, 5], {"a": [1, 1], "b": [2, 2]}, "a", "b") == 3


def test_run_label_names_machine_and_date_or_says_they_are_missing():
    old = pf.run_label(fake_results())
    assert "no CPU model recorded" in old and "date not recorded" in old
    new = dict(fake_results(), machine_info={"cpu": "Some CPU 9000", "isa_flags": ["avx2"],
                                             "date": "2026-12-01T10:00+00:00"})
    label = pf.run_label(new)
    assert "Some CPU 9000 (avx2)" in label and "measured 2026-12-01" in label


def test_gemm_verdict_follows_the_measured_ratio():
    base = {"sizes": [64, 128], "MKL": [100.0, 100.0]}
    assert "about 2.0x behind" in pf.gemm_verdict(dict(base, oneDNN=[200.0, 200.0]))
    assert "MKL is the faster" in pf.gemm_verdict(dict(base, oneDNN=[50.0, 50.0]))
    assert "within 20 %" in pf.gemm_verdict(dict(base, oneDNN=[105.0, 95.0]))
    assert "only MKL" in pf.gemm_verdict(dict(base, oneDNN=None))


def test_gemm_roofs_and_bandwidth_measure_positive_rates():
    roofs = pf.gemm_roofs((32, 64), repeat=1)
    assert roofs["sizes"] == [32, 64] and len(roofs["MKL"]) == 2
    assert all(g > 0 for g in roofs["MKL"])
    assert roofs["oneDNN"] is None or all(g > 0 for g in roofs["oneDNN"])
    assert pf.copy_bandwidth(mib=1, repeat=1) > 0


def test_onednn_linear_matches_matmul_where_present():
    linear = pf.onednn_linear()
    if linear is None:
        pytest.skip("this torch build has no oneDNN linear operator")
    a, w = torch.randn(5, 7), torch.randn(3, 7)
    torch.testing.assert_close(linear(a, w), a @ w.T, rtol=1e-5, atol=1e-5)


def test_cpu_description_names_the_libraries():
    info = pf.cpu_description()
    assert info["model"] and info["threads"] >= 1 and info["torch"] == torch.__version__
    assert set(info["isa"]) <= set(pf.ISA_FLAGS)
    assert isinstance(info["vendor"], str)


@pytest.mark.parametrize("draw", ["heatmap", "roofline", "gemm", "sweep"])
def test_figures_draw_with_legible_text(draw):
    if draw == "heatmap":
        fig = pf.plot_ratio_heatmap(fake_results(), title="t")
    elif draw == "roofline":
        fig = pf.plot_roofline(200.0, 20.0, [("F.conv2d", 30.0, 150.0, "k", "o"),
                                             ("im2col", 30.0, 80.0, "b", "s")], title="t")
    elif draw == "gemm":
        fig = pf.plot_gemm_roofs({"sizes": [64, 128], "MKL": [10.0, 20.0], "oneDNN": None})
    else:
        fig = pf.plot_kernel_sweep([3, 5], {"fft": [1.0, 1.1], "F.conv2d": [0.1, 0.3]})
    width = fig.get_size_inches()[0]
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert sizes and min(sizes) >= 1.39 * width, (min(sizes), width)
    plt.close(fig)
