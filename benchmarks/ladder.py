"""The performance ladder: every convlab rung against ``F.conv2d`` on ResNet-18's conv layers.

    .venv/bin/python benchmarks/ladder.py                 # full run (make bench), CPU (+ CUDA)
    .venv/bin/python benchmarks/ladder.py --shapes tiny   # seconds; used by the tests

ResNet-18's distinct conv layers (He et al., 2016) at batch 8, float32; the method
(interleaved rounds, median ratios, GF/s, peak memory) is in ``convlab.ladder``.
Writes ``ladder_<device>.json``, ``.md`` (table) and ``.png`` (plot) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from convlab.ladder import SHAPES, markdown_table, plot_ladder, run


def save(results, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"ladder_{torch.device(results['device']).type}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1))
    stem.with_suffix(".md").write_text(markdown_table(results))
    plot_ladder(results, stem.with_suffix(".png"))
    return stem


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", choices=sorted(SHAPES), default="resnet18")
    parser.add_argument("--quick", action="store_true", help="same as --shapes tiny --rounds 3")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (0: torch's default)")
    parser.add_argument("--device", default="all", help="cpu, cuda or all (cuda if present)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    if args.quick:
        args.shapes, args.rounds = "tiny", 3
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    for device in devices:
        if device == "cuda" and not torch.cuda.is_available():
            continue
        results = run(args.shapes, args.batch, args.rounds, device, args.threads)
        stem = save(results, args.out)
        print(markdown_table(results))
        print(f"wrote {stem}.json/.md/.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
