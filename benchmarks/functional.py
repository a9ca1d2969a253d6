"""Benchmark ``convlab.functional.conv2d`` against ``F.conv2d`` on every ResNet-18 conv layer.

Batch 8, float32, 224x224 images, CPU. For each of ResNet-18's 11 distinct convolutions
(20 layers in all) we time ``F.conv2d``, ``convlab.functional.conv2d`` as dispatched
("auto") and each convlab backend forced, in paired, interleaved rounds
(``convlab.ladder.paired_times``: each round times every function once, the order shuffled
afresh each round). A function's number on a layer is the median over rounds of its time
divided by ``F.conv2d``'s time in the same round, rounds where the machine was busy
dropped and counted (``convlab.ladder.paired_ratio``). The summary is the median and the
worst of those ratios over the distinct layers. The output names the CPU, ISA, threads and
GEMM libraries (``convlab.ladder.machine_line``) and the JSON keeps every raw time.
Writes ``benchmarks/results/functional_cpu.{json,md}``.

Usage: ``python benchmarks/functional.py [--batch 8] [--repeats 15] [--threads 2] [--out P]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch
import torch.nn.functional as F

from convlab import functional
from convlab.ladder import machine_info, machine_line, paired_ratio, paired_times

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
BACKENDS = ("auto", *functional.BACKENDS)  # "auto" is what conv2d does


def _ours(backend, *args):
    functional.BACKEND = backend
    try:
        return functional.conv2d(*args)
    finally:
        functional.BACKEND = "auto"


def bench_layer(C_in, C_out, k, stride, padding, H, batch, repeats, raw=None):
    """Paired ratios of every applicable convlab backend to ``F.conv2d`` on one layer.

    Returns ``(seconds, err, chosen)``: each function's median seconds over the kept
    rounds (``None`` where a backend does not apply), the largest ``|convlab - torch|``
    and the backend ``conv2d`` picks. ``raw``, a dict, receives the raw seconds per round,
    each ratio with its kept and busy round counts.
    """
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
        times = paired_times(calls, repeats)
    stats = {n: paired_ratio(times, n, reference="torch") for n in calls}
    if raw is not None:
        raw.update(seconds=times, ratios=stats)
    return ({n: stats[n]["seconds"] if n in stats else None for n in ("torch", *BACKENDS)},
            err, chosen)


def _ms(seconds):
    return None if seconds is None else 1e3 * seconds


def _fmt(ms):
    return "n/a" if ms is None else f"{ms:.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (0: default)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "functional_cpu"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    info = machine_info()
    print(machine_line(info), flush=True)
    rows = []
    for name, C_in, C_out, k, s, p, H, count in RESNET18_LAYERS:
        raw = {}
        t, err, chosen = bench_layer(C_in, C_out, k, s, p, H, args.batch, args.repeats, raw)
        auto = raw["ratios"]["auto"]
        rows.append(dict(layer=name, C_in=C_in, C_out=C_out, kernel=k, stride=s, padding=p,
                         H_in=H, count=count, torch_ms=_ms(t["torch"]), convlab_ms=_ms(t["auto"]),
                         ratio=auto["ratio"], busy_rounds=auto["busy"], max_abs_diff=err,
                         backend=chosen,
                         **{f"{n}_ms": _ms(t[n]) for n in functional.BACKENDS},
                         **{f"{n}_ratio": raw["ratios"][n]["ratio"] if n in raw["ratios"]
                            else None for n in functional.BACKENDS},
                         raw_seconds=raw["seconds"]))
        forced = ", ".join(f"{n} {_fmt(_ms(t[n]))}" for n in functional.BACKENDS)
        print(f"{name:22s} torch {1e3 * t['torch']:7.2f} ms  convlab {1e3 * t['auto']:7.2f} ms "
              f"({chosen}; forced: {forced})  paired ratio {auto['ratio']:5.2f} "
              f"({auto['busy']} busy rounds of {args.repeats})  max|diff| {err:.1e}", flush=True)
    ratios = [r["ratio"] for r in rows]
    summary = dict(median_ratio=statistics.median(ratios), worst_ratio=max(ratios),
                   faster_layers=sum(r < 1 for r in ratios),
                   weighted_median_ratio=statistics.median(
                       [r["ratio"] for r in rows for _ in range(r["count"])]))
    print(f"median paired ratio over the {len(rows)} distinct layers: "
          f"{summary['median_ratio']:.2f} (worst {summary['worst_ratio']:.2f}, "
          f"{summary['faster_layers']} faster than F.conv2d); over all 20 layers "
          f"{summary['weighted_median_ratio']:.2f}")
    meta = dict(machine=machine_line(info), machine_info=info, torch=torch.__version__,
                threads=torch.get_num_threads(),
                batch=args.batch, repeats=args.repeats, method="median of paired ratios, "
                "order shuffled per round, busy rounds (> 1.5x the median) dropped")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(dict(meta=meta, layers=rows, **summary),
                                                   indent=1))
    lines = [f"# convlab.functional.conv2d vs F.conv2d (ResNet-18, batch {args.batch}, float32, "
             f"CPU, {meta['threads']} threads)", "", f"Measured on {meta['machine']}.", "",
             "| layer | C_in | C_out | k | s | H_in | torch ms | convlab ms | backend | "
             + " | ".join(f"{n} ratio" for n in functional.BACKENDS)
             + " | paired ratio | busy rounds |",
             "|" + " --- |" * (11 + len(functional.BACKENDS))]
    lines += [f"| {r['layer']} | {r['C_in']} | {r['C_out']} | {r['kernel']} | {r['stride']} | "
              f"{r['H_in']} | {r['torch_ms']:.2f} | {r['convlab_ms']:.2f} | {r['backend']} | "
              + " | ".join("n/a" if r[n + "_ratio"] is None else f"{r[n + '_ratio']:.2f}"
                           for n in functional.BACKENDS)
              + f" | {r['ratio']:.2f} | {r['busy_rounds']} of {args.repeats} |" for r in rows]
    lines += ["", f"Median paired ratio over the {len(rows)} distinct layers: "
              f"**{summary['median_ratio']:.2f}**, worst {summary['worst_ratio']:.2f}, "
              f"{summary['faster_layers']} layers faster than F.conv2d; over all 20 layers "
              f"{summary['weighted_median_ratio']:.2f}. Times are medians of the kept rounds; "
              "ratios are medians of per-round ratios (a shared machine: see the raw times "
              "in the JSON).", ""]
    out.with_suffix(".md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
