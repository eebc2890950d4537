#!/usr/bin/env python3
"""Dump ATen operator schemas and tags from an installed PyTorch into trtfx-ir's data files.

Writes (relative to the repository root):
  crates/ir/src/aten/schemas.txt   one schema string per line (`str(torch._C.FunctionSchema)`),
                                   every `aten::` and `prims::` schema, sorted;
  crates/ir/src/aten/op_tags.txt   `<registry name> <tag>,<tag>` for overloads with tags trtfx
                                   uses (core, pointwise, view_copy, inplace_view,
                                   data_dependent_output, dynamic_output_shape,
                                   nondeterministic_seeded).

Schemas are public API facts of PyTorch; dumping them beats typing hundreds by hand. Rerun after a
PyTorch upgrade:  python scripts/dump_schemas.py  (needs `import torch`).
"""
import os
import sys

import torch

NAMESPACES = ("aten::", "prims::")
TAGS = (
    "core",
    "pointwise",
    "view_copy",
    "inplace_view",
    "data_dependent_output",
    "dynamic_output_shape",
    "nondeterministic_seeded",
)


def registry_name(schema_name: str, overload: str) -> str:
    ns, op = schema_name.split("::", 1)
    return f"{ns}.{op}.{overload or 'default'}"


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.join(root, "crates", "ir", "src", "aten")
    schemas = sorted(
        {str(s) for s in torch._C._jit_get_all_schemas() if str(s).startswith(NAMESPACES)}
    )
    with open(os.path.join(out_dir, "schemas.txt"), "w") as f:
        f.write(f"# ATen schemas dumped from torch {torch.__version__} by scripts/dump_schemas.py\n")
        for s in schemas:
            f.write(s + "\n")

    tags = {}
    for ns_name in ("aten", "prims"):
        ns = getattr(torch.ops, ns_name)
        for name in sorted(dir(ns)):
            try:
                packet = getattr(ns, name)
                overloads = packet.overloads()
            except Exception:
                continue
            for ov in overloads:
                try:
                    op = getattr(packet, ov)
                except Exception:
                    continue
                wanted = [t for t in TAGS if getattr(torch.Tag, t, None) in op.tags]
                if wanted:
                    tags[registry_name(op._schema.name, op._schema.overload_name)] = wanted
    with open(os.path.join(out_dir, "op_tags.txt"), "w") as f:
        f.write(f"# ATen operator tags from torch {torch.__version__} by scripts/dump_schemas.py\n")
        for name in sorted(tags):
            f.write(f"{name} {','.join(tags[name])}\n")
    print(f"{len(schemas)} schemas, {len(tags)} tagged overloads", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
