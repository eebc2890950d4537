#!/usr/bin/env python3
"""Generate the OpInfo conformance corpus for trtfx (issue 16).

    /path/to/venv/bin/python tests/conformance/gen.py [--jobs 2] [--filter NAME] [--out DIR]

Requires torch==2.11.0 and safetensors (CPU only). Writes `tests/conformance/corpus.tar.gz`
(one solid archive, deterministic bytes; see below) and `tests/conformance/skips.tsv` (every
skipped OpInfo entry, dtype or sample with its reason).

Over `torch.testing._internal.common_methods_invocations.op_db`, for every entry and dtype in
{float32} ∪ (the integer and bool dtypes the entry declares for CPU), it takes the entry's
sample inputs (deterministic seed per entry and dtype), keeps at most SAMPLES_F32 (float32) or
SAMPLES_INT (integer, bool) of them, preferring small ones, and wraps each in a module whose
inputs are the sample's tensors (everything else is a constant). Each case is exported
(`torch.export.export`, the export-IR dialect) and decomposed (`run_decompositions()`, core
ATen); the goldens of each dialect come from its exported program (`ep.module()`).

Skipped, with the reason in skips.tsv: complex dtypes and tensors, sparse layouts, outputs that
differ between two runs under different seeds (nondeterministic: random ops, uninitialised
memory), samples that do not export, decompose or run as exported programs, and outputs that are
not tensors.

The archive holds, per case ID = `<entry>.<dtype>.<k>`:
  ID/export.pt2   ID/core.pt2     the two dialects
  ID/export.io.safetensors        in_0.. (the sample's tensors) and out_0.. (the export program)
  ID/core.io.safetensors          the same inputs, out_0.. from the core ATen program
and `cases.json`: per case the entry name, variant, dtype, sample index and a description.
"""
import argparse
import gzip
import io
import json
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
import warnings
import tarfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES_F32 = 2
SAMPLES_INT = 1
CANDIDATES = 8          # samples looked at per (entry, dtype); the smallest are kept
OP_TIMEOUT_S = 120      # per entry (all its dtypes)

# Dtypes besides float32: the integer and bool dtypes an entry declares.
INT_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64"]

# Known to be random or to return uninitialised memory. The two-run check below catches most of
# these on its own; naming them keeps the skip reason exact (an uninitialised buffer can repeat).
NONDETERMINISTIC = ("rand", "normal", "bernoulli", "dropout", "multinomial", "uniform",
                    "exponential", "cauchy", "geometric", "log_normal", "empty", "new_empty",
                    "randn", "randint", "poisson", "rrelu")


def entry_name(op):
    return op.name + (("." + op.variant_test_name) if op.variant_test_name else "")


def safe_id(s):
    return "".join(c if (c.isalnum() or c in "._-") else "_" for c in s)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def first_line(e):
    s = (f"{type(e).__name__}: {e}").strip().splitlines()
    s = s[0] if s else type(e).__name__
    return s[:300]


def worker_init():
    import torch
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _alarm)


def numel_of(sample):
    import torch
    import torch.utils._pytree as pytree
    leaves = pytree.tree_leaves((sample.input, sample.args, sample.kwargs))
    return sum(t.numel() for t in leaves if isinstance(t, torch.Tensor))


def describe_leaf(x):
    import torch
    if isinstance(x, torch.Tensor):
        return f"{str(x.dtype).replace('torch.', '')}{list(x.shape)}"
    r = repr(x)
    return r if len(r) <= 40 else r[:37] + "..."


def make_case(op, sample, dtype):
    """Returns (files dict name->bytes, description) or raises SkipCase."""
    import torch
    import torch.utils._pytree as pytree
    from safetensors.torch import save

    leaves, spec = pytree.tree_flatten((sample.input, sample.args, sample.kwargs))
    tensor_pos = [i for i, x in enumerate(leaves) if isinstance(x, torch.Tensor)]
    for i in tensor_pos:
        t = leaves[i]
        if t.is_complex():
            raise SkipCase("complex tensor in sample")
        if t.layout != torch.strided:
            raise SkipCase(f"sparse layout {t.layout}")
    for x in leaves:
        if isinstance(x, complex):
            raise SkipCase("complex scalar in sample")
    inputs = tuple(leaves[i].detach().clone().contiguous() for i in tensor_pos)
    if not inputs:
        raise SkipCase("sample has no tensor input")
    const = list(leaves)
    fn = op.op

    class Case(torch.nn.Module):
        def forward(self, *ts):
            vals = list(const)
            for i, t in zip(tensor_pos, ts):
                vals[i] = t
            a, args, kwargs = pytree.tree_unflatten(vals, spec)
            r = fn(a, *args, **kwargs)
            # torch.return_types (sort, topk, max.dim, ...) cannot be serialized as outputs:
            # return their fields as a plain tuple (the same leaves).
            if isinstance(r, tuple) and type(r) is not tuple:
                return tuple(r)
            return r

    m = Case().eval()
    try:
        with torch.no_grad():
            eager = m(*[t.clone() for t in inputs])
    except Exception as e:
        raise SkipCase(f"eager call fails: {first_line(e)}")
    outs = pytree.tree_leaves(eager)
    if not outs:
        raise SkipCase("no outputs")
    for o in outs:
        if not isinstance(o, torch.Tensor):
            raise SkipCase(f"non-tensor output {type(o).__name__}")
        if o.is_complex():
            raise SkipCase("complex output")
        if o.layout != torch.strided:
            raise SkipCase("sparse output")
    try:
        ep = torch.export.export(m, tuple(t.clone() for t in inputs), strict=False)
    except Exception as e:
        raise SkipCase(f"not exportable: {first_line(e)}")
    try:
        core = ep.run_decompositions()
    except Exception as e:
        raise SkipCase(f"run_decompositions fails: {first_line(e)}")

    def golden(prog, seed):
        torch.manual_seed(seed)
        with torch.no_grad():
            r = pytree.tree_leaves(prog.module()(*[t.clone() for t in inputs]))
        return [x.detach().clone().contiguous() if isinstance(x, torch.Tensor) else x for x in r]

    files = {}
    for dialect, prog in (("export", ep), ("core", core)):
        try:
            g0 = golden(prog, 0)
            g1 = golden(prog, 1)
        except Exception as e:
            raise SkipCase(f"{dialect} program does not run: {first_line(e)}")
        for a, b in zip(g0, g1):
            if not isinstance(a, torch.Tensor):
                raise SkipCase(f"{dialect} program returns a {type(a).__name__}")
            if a.is_complex():
                raise SkipCase("complex output")
            if not torch.equal(a, b) and not (a.dtype.is_floating_point and
                                             torch.allclose(a, b, rtol=0, atol=0, equal_nan=True)):
                raise SkipCase("nondeterministic: outputs differ between two seeds")
        buf = io.BytesIO()
        try:
            torch.export.save(prog, buf)
        except Exception as e:
            raise SkipCase(f"not serializable: {first_line(e)}")
        files[f"{dialect}.pt2"] = buf.getvalue()
        tensors = {f"in_{i}": t for i, t in enumerate(inputs)}
        tensors.update({f"out_{i}": t for i, t in enumerate(g0)})
        files[f"{dialect}.io.safetensors"] = save(tensors, metadata={
            "info": f"tests/conformance/gen.py, torch {torch.__version__}"})
    desc = ", ".join(describe_leaf(x) for x in leaves)
    return files, desc


class SkipCase(Exception):
    pass


def do_entry(idx):
    """All dtypes and samples of op_db[idx]: returns (cases, skips)."""
    import torch
    from torch.testing._internal.common_methods_invocations import op_db
    op = op_db[idx]
    name = entry_name(op)
    cases, skips = [], []
    signal.alarm(OP_TIMEOUT_S)
    try:
        if "sparse" in name:
            return cases, [(name, "*", "-", "sparse entry")]
        declared = op.supported_dtypes("cpu")
        dtypes = [torch.float32] if torch.float32 in declared else []
        if not dtypes:
            skips.append((name, "float32", "-", "float32 not declared for CPU"))
        dtypes += [getattr(torch, d) for d in INT_DTYPES if getattr(torch, d) in declared]
        for dtype in dtypes:
            dname = str(dtype).replace("torch.", "")
            if any(k in op.name for k in NONDETERMINISTIC):
                skips.append((name, dname, "-", "nondeterministic (random or uninitialised)"))
                continue
            seed = zlib.crc32(f"{name}/{dname}".encode())
            torch.manual_seed(seed)
            try:
                samples = []
                for k, s in enumerate(op.sample_inputs("cpu", dtype, requires_grad=False)):
                    samples.append((k, s))
                    if len(samples) >= CANDIDATES:
                        break
            except Timeout:
                raise
            except Exception as e:
                skips.append((name, dname, "-", f"sample_inputs fails: {first_line(e)}"))
                continue
            if not samples:
                skips.append((name, dname, "-", "no samples"))
                continue
            cap = SAMPLES_F32 if dtype == torch.float32 else SAMPLES_INT
            samples.sort(key=lambda ks: (numel_of(ks[1]), ks[0]))
            kept = 0
            for k, s in samples:
                if kept >= cap:
                    break
                try:
                    files, desc = make_case(op, s, dtype)
                except SkipCase as e:
                    skips.append((name, dname, str(k), str(e)))
                    continue
                except Timeout:
                    raise
                except Exception as e:
                    skips.append((name, dname, str(k), f"generator error: {first_line(e)}"))
                    continue
                cid = safe_id(f"{name}.{dname}.{k}")
                cases.append(dict(id=cid, entry=name, op=op.name, variant=op.variant_test_name,
                                  dtype=dname, sample=k, desc=desc, files=files))
                kept += 1
    except Timeout:
        skips.append((name, "*", "-", f"generation timed out after {OP_TIMEOUT_S} s"))
    finally:
        signal.alarm(0)
    return cases, skips


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--filter", default=None, help="only entries whose name contains this")
    ap.add_argument("--out", default=os.path.join(HERE, "corpus.tar.gz"))
    ap.add_argument("--skips", default=os.path.join(HERE, "skips.tsv"))
    ap.add_argument("--merge", action="store_true",
                    help="keep the existing corpus and skips; regenerate only the --filter/"
                         "--entries entries")
    ap.add_argument("--entries", default=None,
                    help="only the entries named in this file (one per line)")
    a = ap.parse_args()
    import torch
    from torch.testing._internal.common_methods_invocations import op_db
    print("torch", torch.__version__, "entries", len(op_db), flush=True)
    only = None
    if a.entries:
        only = {l.strip() for l in open(a.entries) if l.strip()}
    idxs = [i for i, op in enumerate(op_db) if (a.filter is None or a.filter in entry_name(op))
            and (only is None or entry_name(op) in only)]
    t0 = time.time()
    all_cases, all_skips = [], []
    if a.merge:
        redo = {entry_name(op_db[i]) for i in idxs}
        with tarfile.open(a.out, "r:gz") as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
        for c in json.loads(members["cases.json"])["cases"]:
            if c["entry"] in redo:
                continue
            c["files"] = {k.split("/", 1)[1]: v for k, v in members.items()
                          if k.startswith(c["id"] + "/")}
            all_cases.append(c)
        for line in open(a.skips):
            if line.startswith("#"):
                continue
            row = tuple(line.rstrip("\n").split("\t"))
            if row[0] not in redo:
                all_skips.append(row)
        print(f"merge: kept {len(all_cases)} cases, {len(all_skips)} skips", flush=True)
    ctx = mp.get_context("fork")
    with ctx.Pool(a.jobs, initializer=worker_init, maxtasksperchild=20) as pool:
        for n, (cases, skips) in enumerate(pool.imap_unordered(do_entry, idxs, chunksize=1)):
            all_cases += cases
            all_skips += skips
            if n % 25 == 0:
                print(f"[{time.time() - t0:6.0f}s] {n + 1}/{len(idxs)} entries, "
                      f"{len(all_cases)} cases, {len(all_skips)} skips", flush=True)
    all_cases.sort(key=lambda c: c["id"])
    all_skips.sort()
    # Deterministic archive: sorted members, fixed metadata, one gzip stream (a solid archive:
    # neighbouring cases share most of their bytes, which per-member zip compression cannot use).
    meta = [{k: v for k, v in c.items() if k != "files"} for c in all_cases]
    info = dict(generator="tests/conformance/gen.py", torch=torch.__version__,
                samples_f32=SAMPLES_F32, samples_int=SAMPLES_INT, cases=meta)
    with open(a.out, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:

        def put(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 0
            tar.addfile(ti, io.BytesIO(data))

        put("cases.json", json.dumps(info, indent=1, sort_keys=True).encode())
        for c in all_cases:
            for fname, data in sorted(c["files"].items()):
                put(f"{c['id']}/{fname}", data)
    with open(a.skips, "w") as f:
        f.write("# entry\tdtype\tsample\treason   (tests/conformance/gen.py)\n")
        for s in all_skips:
            f.write("\t".join(x.replace("\t", " ") for x in s) + "\n")
    entries = len({c["entry"] for c in all_cases})
    print(f"done in {time.time() - t0:.0f}s: {len(all_cases)} cases over {entries} entries, "
          f"{len(all_skips)} skips; {a.out}: {os.path.getsize(a.out) / 1e6:.1f} MB", flush=True)


if __name__ == "__main__":
    sys.exit(main())
