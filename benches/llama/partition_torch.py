#!/usr/bin/env python3
"""Python baseline for the partitioner benchmark.

    /path/to/venv/bin/python benches/llama/partition_torch.py benches/llama/llama_L*.core.pt2

For each archive: time torch.export.load, then time CapabilityBasedPartitioner
propose_partitions() + fuse_partitions() with an OperatorSupport that rejects aten.rsqrt.default
and aten.embedding.default and accepts every other call_function node.
Prints one line per file: nodes, load seconds, partition seconds, number of partitions.
Times are wall-clock (perf_counter); the *_cpu columns are this process's CPU time
(process_time), which is steadier on a shared machine. The first file is loaded once, untimed,
before the measurements so that one-off import/initialisation cost is not charged to it.
"""
import os
import sys
import time

import torch
from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner
from torch.fx.passes.operator_support import OperatorSupportBase

UNSUPPORTED = {torch.ops.aten.rsqrt.default, torch.ops.aten.embedding.default}


class Support(OperatorSupportBase):
    def is_node_supported(self, submodules, node):
        return node.op == "call_function" and node.target not in UNSUPPORTED


def main(paths):
    if not paths:
        sys.exit(__doc__)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    torch.export.load(paths[0])  # warm-up, untimed
    print(f"{'file':28s} {'nodes':>6s} {'call_fn':>7s} {'load_s':>8s} {'partition_s':>11s} "
          f"{'propose_s':>9s} {'fuse_s':>7s} {'parts':>6s} {'load_cpu':>8s} {'part_cpu':>8s}")
    for p in paths:
        c0 = time.process_time()
        t0 = time.perf_counter()
        ep = torch.export.load(p)
        t1 = time.perf_counter()
        c1 = time.process_time()
        gm = ep.graph_module
        nodes = len(gm.graph.nodes)
        calls = sum(1 for n in gm.graph.nodes if n.op == "call_function")
        t2 = time.perf_counter()
        part = CapabilityBasedPartitioner(gm, Support(), allows_single_node_partition=False)
        partitions = part.propose_partitions()
        t3 = time.perf_counter()
        part.fuse_partitions(partitions)
        t4 = time.perf_counter()
        c4 = time.process_time()
        print(f"{os.path.basename(p):28s} {nodes:6d} {calls:7d} {t1 - t0:8.3f} {t4 - t2:11.3f} "
              f"{t3 - t2:9.3f} {t4 - t3:7.3f} {len(partitions):6d} {c1 - c0:8.3f} {c4 - c1:8.3f}",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
