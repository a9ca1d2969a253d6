"""Benchmark ``convlab.conv2d_backward`` against autograd of ``F.conv2d`` on ResNet-18's convs.

Batch 8, float32, 224x224 images, CPU. For each distinct convolution of ResNet-18 we
time, in the same run and interleaved, (a) the backward of ``F.conv2d`` through autograd
(``torch.autograd.grad`` on a retained graph, PyTorch's own kernels) and (b)
``conv2d_backward`` (a transposed convolution, a correlation and a sum built from
convlab's tensor-op code), both computing all three gradients, in paired rounds
(``convlab.ladder.paired_times``: each round times both once, the order shuffled). A
layer's ratio is the median over rounds of ``convlab / autograd`` in the same round,
busy rounds dropped and counted (``convlab.ladder.paired_ratio``); the summary is the
median ratio over the layers. The output names the CPU, ISA, threads and GEMM libraries,
and the JSON keeps every raw time. Writes ``benchmarks/results/backward_cpu.{json,md}``.

Usage: ``python benchmarks/backward.py [--batch 8] [--repeats 5] [--threads 2] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from pathlib import Path

import torch
import torch.nn.functional as F

from convlab import conv2d_backward
from convlab.ladder import machine_info, machine_line, paired_ratio, paired_times

# (name, C_in, C_out, k, stride, padding, H_in): ResNet-18's distinct convolutions
RESNET18_LAYERS = [
    ("conv1", 3, 64, 7, 2, 3, 224),
    ("layer1.*.conv*", 64, 64, 3, 1, 1, 56),
    ("layer2.0.conv1", 64, 128, 3, 2, 1, 56),
    ("layer2.*.conv* (128)", 128, 128, 3, 1, 1, 28),
    ("layer2.0.downsample", 64, 128, 1, 2, 0, 56),
    ("layer3.0.conv1", 128, 256, 3, 2, 1, 28),
    ("layer3.*.conv* (256)", 256, 256, 3, 1, 1, 14),
    ("layer3.0.downsample", 128, 256, 1, 2, 0, 28),
    ("layer4.0.conv1", 256, 512, 3, 2, 1, 14),
    ("layer4.*.conv* (512)", 512, 512, 3, 1, 1, 7),
    ("layer4.0.downsample", 256, 512, 1, 2, 0, 14),
]
RESULTS = Path(__file__).resolve().parent / "results"


def time_layer(C_in, C_out, k, stride, padding, H, batch, repeats):
    """Paired ratio of convlab's backward to autograd's on one layer, with both median
    times over the kept rounds and the raw seconds of every round."""
    torch.manual_seed(0)
    x = torch.randn(batch, C_in, H, H, requires_grad=True)
    w = torch.randn(C_out, C_in, k, k, requires_grad=True)
    b = torch.randn(C_out, requires_grad=True)
    out = F.conv2d(x, w, b, stride=stride, padding=padding)
    g = torch.randn_like(out)
    torch_fn = lambda: torch.autograd.grad(out, (x, w, b), g, retain_graph=True)
    ours_fn = lambda: conv2d_backward(g, x.detach(), w.detach(), stride=stride, padding=padding)
    ref, got = torch_fn(), ours_fn()  # a sanity check of the numbers
    for r, o in zip(ref, got):
        torch.testing.assert_close(o, r, rtol=1e-3, atol=1e-2)
    times = paired_times({"autograd": torch_fn, "convlab": ours_fn}, repeats)
    pair = paired_ratio(times, "convlab", reference="autograd")
    return {"autograd": paired_ratio(times, "autograd", "autograd")["seconds"],
            "convlab": pair["seconds"], "ratio": pair["ratio"], "busy": pair["busy"],
            "raw_seconds": times}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="batch 1, 2 repeats, no files")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.repeats = 1, 2
    torch.set_num_threads(args.threads)
    info = machine_info()
    print(machine_line(info), flush=True)
    rows = []
    for name, C_in, C_out, k, stride, padding, H in RESNET18_LAYERS:
        t = time_layer(C_in, C_out, k, stride, padding, H, args.batch, args.repeats)
        rows.append({"layer": name, "C_in": C_in, "C_out": C_out, "kernel": k,
                     "stride": stride, "padding": padding, "H_in": H,
                     "autograd_ms": 1e3 * t["autograd"], "convlab_ms": 1e3 * t["convlab"],
                     "ratio": t["ratio"], "busy_rounds": t["busy"],
                     "raw_seconds": t["raw_seconds"]})
        print(f"{name:24s} autograd {rows[-1]['autograd_ms']:9.2f} ms  convlab "
              f"{rows[-1]['convlab_ms']:9.2f} ms  paired ratio {rows[-1]['ratio']:5.2f} "
              f"({t['busy']} busy rounds of {args.repeats})", flush=True)
    result = {"benchmark": "conv2d backward vs autograd of F.conv2d, ResNet-18 layers",
              "device": "cpu", "dtype": "float32", "batch": args.batch,
              "repeats": args.repeats, "threads": args.threads, "torch": torch.__version__,
              "platform": platform.platform(), "cpu": info["cpu"], "date": info["date"][:10],
              "machine": machine_line(info), "machine_info": info, "layers": rows,
              "median_ratio": statistics.median(r["ratio"] for r in rows),
              "worst_ratio": max(r["ratio"] for r in rows)}
    print(f"median ratio convlab / autograd: {result['median_ratio']:.2f}")
    if not args.quick:
        write_results(result)
    return result


def write_results(result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "backward_cpu.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# {result['benchmark']}", "",
             f"batch {result['batch']}, {result['dtype']}, CPU, {result['threads']} threads, "
             f"median of paired ratios over {result['repeats']} rounds (busy rounds dropped)", "",
             f"Measured on {result['machine']}.", "",
             "| layer | C_in | C_out | k | stride | H_in | autograd (ms) | convlab (ms) | "
             "paired ratio | busy rounds |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["layers"]:
        lines.append(f"| {r['layer']} | {r['C_in']} | {r['C_out']} | {r['kernel']} | "
                     f"{r['stride']} | {r['H_in']} | {r['autograd_ms']:.2f} | "
                     f"{r['convlab_ms']:.2f} | {r['ratio']:.2f} | {r['busy_rounds']} |")
    lines += ["", f"**median ratio convlab / autograd: {result['median_ratio']:.2f}** "
              f"(worst {result['worst_ratio']:.2f})", ""]
    (RESULTS / "backward_cpu.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
