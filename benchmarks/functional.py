"""Benchmark ``convlab.functional.conv2d`` against ``F.conv2d`` on every ResNet-18 conv layer.

Batch 8, float32, 224x224 images, CPU. For each of ResNet-18's 20 convolutions (11 distinct
configurations) we time ``F.conv2d``, ``convlab.functional.conv2d`` as dispatched ("auto") and
each convlab backend forced, in the same run, interleaved (the order rotates every round), and
report the best (minimum) time and the ratio ``convlab / torch``; the summary is the median
ratio over the 20 layers.
Writes ``benchmarks/results/functional_cpu.{json,md}``.

Usage: ``python benchmarks/functional.py [--batch 8] [--repeats 15] [--threads 1] [--out P]``.
One thread is the steadier measurement on a shared machine; the saved results use it, and
``functional_cpu_2threads.*`` holds a run with both cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from convlab import functional

# (name, C_in, C_out, k, stride, padding, H_in, how many of ResNet-18's layers share it)
RESNET18_LAYERS = [
    ("conv1", 3, 64, 7, 2, 3, 224, 1),
    ("layer1.*.conv*", 64, 64, 3, 1, 1, 56, 4),
    ("layer2.0.conv1", 64, 128, 3, 2, 1, 56, 1),
    ("layer2.*.conv* (128)", 128, 128, 3, 1, 1, 28, 3),
    ("layer2.0.downsample", 64, 128, 1, 2, 0, 56, 1),
    ("layer3.0.conv1", 128, 256, 3, 2, 1, 28, 1),
    ("layer3.*.conv* (256)", 256, 256, 3, 1, 1, 14, 3),
    ("layer3.0.downsample", 128, 256, 1, 2, 0, 28, 1),
    ("layer4.0.conv1", 256, 512, 3, 2, 1, 14, 1),
    ("layer4.*.conv* (512)", 512, 512, 3, 1, 1, 7, 3),
    ("layer4.0.downsample", 256, 512, 1, 2, 0, 14, 1),
]


def _time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


BACKENDS = ("auto", *functional.BACKENDS)  # "auto" is what conv2d does


def _ours(backend, *args):
    functional.BACKEND = backend
    try:
        return functional.conv2d(*args)
    finally:
        functional.BACKEND = "auto"


def bench_layer(C_in, C_out, k, stride, padding, H, batch, repeats):
    """Best seconds of torch and of each convlab backend (interleaved rounds), max |diff|,
    and the backend that ``conv2d`` picks."""
    x = torch.randn(batch, C_in, H, H)
    w = torch.randn(C_out, C_in, k, k) / (C_in * k * k) ** 0.5
    b = torch.randn(C_out)
    pads = ((padding, padding), (padding, padding))
    chosen = functional._choose_backend(x, w, b, (stride, stride), pads, (1, 1), 1)
    applies = functional._winograd_applies(w, (stride, stride), pads, (1, 1), 1)
    names = [n for n in BACKENDS if applies or not n.startswith("winograd")]  # others: n/a
    with torch.no_grad():
        ref = F.conv2d(x, w, b, stride, padding)
        err = max((ref - _ours(n, x, w, b, stride, padding)).abs().max().item() for n in names)
        calls = {"torch": lambda: F.conv2d(x, w, b, stride, padding),
                 **{n: (lambda n=n: _ours(n, x, w, b, stride, padding)) for n in names}}
        times = {name: [] for name in calls}
        order = list(calls)
        for r in range(repeats):  # interleaved, so all see the same machine load, and each
            for name in order[r % len(order):] + order[:r % len(order)]:  # round rotated:
                times[name].append(_time(calls[name], 1))  # nobody always follows torch
    best = {name: min(t) for name, t in times.items()}  # min: the run least disturbed by load
    return {n: best.get(n) for n in ("torch", *BACKENDS)}, err, chosen


def _ms(seconds):
    return None if seconds is None else 1e3 * seconds


def _fmt(ms):
    return "n/a" if ms is None else f"{ms:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "functional_cpu"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows, ratios = [], []
    for name, C_in, C_out, k, s, p, H, count in RESNET18_LAYERS:
        t, err, chosen = bench_layer(C_in, C_out, k, s, p, H, args.batch, args.repeats)
        ratio = t["auto"] / t["torch"]
        ratios += [ratio] * count
        rows.append(dict(layer=name, C_in=C_in, C_out=C_out, kernel=k, stride=s, padding=p,
                         H_in=H, count=count, torch_ms=1e3 * t["torch"],
                         convlab_ms=1e3 * t["auto"], ratio=ratio, max_abs_diff=err,
                         backend=chosen,
                         **{f"{n}_ms": _ms(t[n]) for n in functional.BACKENDS}))
        forced = ", ".join(f"{n} {_fmt(_ms(t[n]))}" for n in functional.BACKENDS)
        print(f"{name:22s} torch {1e3 * t['torch']:7.2f} ms  convlab {1e3 * t['auto']:7.2f} ms "
              f"({chosen}; forced: {forced})  ratio {ratio:5.2f}  "
              f"max|diff| {err:.1e}", flush=True)
    median = statistics.median(ratios)
    print(f"median ratio over ResNet-18's 20 conv layers: {median:.2f}")
    meta = dict(torch=torch.__version__, threads=torch.get_num_threads(), batch=args.batch,
                machine=platform.machine(), processor=platform.processor(), repeats=args.repeats)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(dict(meta=meta, layers=rows,
                                                        median_ratio=median), indent=2))
    lines = [f"# convlab.functional.conv2d vs F.conv2d (ResNet-18, batch {args.batch}, float32, "
             f"CPU, {meta['threads']} threads, torch {meta['torch']})", "",
             "| layer | C_in | C_out | k | s | H_in | torch ms | convlab ms | backend | "
             + " | ".join(f"{n} ms" for n in functional.BACKENDS) + " | ratio |",
             "|" + " --- |" * (10 + len(functional.BACKENDS))]
    lines += [f"| {r['layer']} | {r['C_in']} | {r['C_out']} | {r['kernel']} | {r['stride']} | "
              f"{r['H_in']} | {r['torch_ms']:.2f} | {r['convlab_ms']:.2f} | {r['backend']} | "
              + " | ".join(_fmt(r[n + "_ms"]) for n in functional.BACKENDS)
              + f" | {r['ratio']:.2f} |" for r in rows]
    lines += ["", f"Median ratio over the 20 conv layers: **{median:.2f}**", ""]
    out.with_suffix(".md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
