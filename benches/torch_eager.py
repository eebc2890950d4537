#!/usr/bin/env python3
"""PyTorch eager on CPU, one thread, on every fixture model: the reference side of
`benches/compare_exec.sh` (the trtfx side is `cargo bench -p trtfx-exec --bench fixtures`).

For each tests/fixtures/NAME.pt2 (export IR) and NAME.core.pt2 (core ATen) this loads
`torch.export.load(p).module()`, runs the forward on the golden inputs (NAME.io.safetensors,
in_0, in_1, ...) under `torch.no_grad()` for a warm-up, then ITERS timed runs, and prints one
tab-separated line per archive:

    torch <dialect> <name> <median wall ms> <median cpu ms> <iters>

cpu is the on-CPU time of the calling thread (time.thread_time), which is all of the work with
one intra-op thread, and is not inflated by other processes queueing for the cores.

    /work/venv/bin/python benches/torch_eager.py [--iters N] [--only cnn,mlp] [--extra DIR/NAME,...]

--extra adds models laid out like the fixtures outside tests/fixtures (DIR/NAME.pt2,
DIR/NAME.core.pt2, DIR/NAME.io.safetensors), as TRTFX_BENCH_EXTRA does for the trtfx side.
"""
import argparse
import os
import statistics
import sys
import time

import torch
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")
NAMES = ["cnn", "mlp", "transformer", "customop", "intmath", "cond", "mobilenet_v3_small", "ops"]


# The custom op of the `customop` fixture (as defined in tests/fixtures/gen.py); loading the
# archive needs it registered.
@torch.library.custom_op("trtfx_test::scale_shift", mutates_args=())
def scale_shift(x: torch.Tensor, scale: float, *, shift: int = 0) -> torch.Tensor:
    return x * scale + shift


@scale_shift.register_fake
def _scale_shift_fake(x, scale, *, shift=0):
    return torch.empty_like(x)


def inputs(folder, name):
    io = load_file(os.path.join(folder, f"{name}.io.safetensors"))
    ins = sorted((int(k[3:]), v) for k, v in io.items() if k.startswith("in_"))
    return [v for _, v in ins]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--only", default=None, help="comma-separated fixture names")
    ap.add_argument("--extra", default="", help="comma-separated DIR/NAME of other models")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    # Like TRTFX_BENCH_ONLY: names that are not fixtures select nothing (`--only none`).
    names = [n for n in NAMES if n in a.only.split(",")] if a.only else NAMES
    models = [(FIXTURES, n) for n in names]
    models += [os.path.split(e.strip()) for e in a.extra.split(",") if e.strip()]
    for folder, name in models:
        args = inputs(folder, name)
        for dialect, file in (("core", f"{name}.core.pt2"), ("export", f"{name}.pt2")):
            m = torch.export.load(os.path.join(folder, file)).module()
            with torch.no_grad():
                t_end = time.perf_counter() + 0.2
                m(*args)
                while time.perf_counter() < t_end:
                    m(*args)
                wall, cpu = [], []
                for _ in range(a.iters):
                    c0 = time.thread_time_ns()
                    t0 = time.perf_counter_ns()
                    m(*args)
                    wall.append((time.perf_counter_ns() - t0) / 1e6)
                    cpu.append((time.thread_time_ns() - c0) / 1e6)
            print(
                f"torch\t{dialect}\t{name}\t{statistics.median(wall):.4f}\t"
                f"{statistics.median(cpu):.4f}\t{a.iters}",
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
