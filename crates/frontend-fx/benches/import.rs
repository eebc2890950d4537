//! Import speed: `models/model.json` parsing alone and the full import (zip open, JSON parse,
//! conversion with lazy weights), on the largest committed fixture and the llama benchmark
//! archives (`benches/llama/llama_L48.core.pt2` only when present; it is not committed).
//!
//! `cargo bench -p trtfx-frontend-fx --bench import -- --sample-size 10`
//!
//! Throughput is reported in bytes of model.json (MB/s); the node count of each archive is
//! printed first, so nodes/s = nodes / time.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use trtfx_frontend_fx::{import_archive, parse_exported_program, ImportOptions, Pt2Archive};
use trtfx_ir::{Op, Program};

fn inputs() -> Vec<(String, PathBuf)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    [
        (
            "mobilenet_v3_small_core",
            "tests/fixtures/mobilenet_v3_small.core.pt2",
        ),
        ("llama_L4_core", "benches/llama/llama_L4.core.pt2"),
        ("llama_L48_core", "benches/llama/llama_L48.core.pt2"),
    ]
    .into_iter()
    .map(|(n, p)| (n.to_string(), root.join(p)))
    .filter(|(n, p)| {
        let ok = p.is_file();
        if !ok {
            eprintln!("skipping {n}: {} is absent", p.display());
        }
        ok
    })
    .collect()
}

/// Nodes of all graphs, without placeholders and outputs (= the `nodes` of model.json,
/// subgraphs counted once).
fn node_count(p: &Program) -> usize {
    p.graphs
        .values()
        .map(|g| {
            g.nodes()
                .filter(|&n| !matches!(g.node(n).op, Op::Placeholder | Op::Output))
                .count()
        })
        .sum()
}

/// On-CPU time of the calling thread in ns (Linux `schedstat`), immune to other processes
/// queueing for the cores; `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Mean on-CPU seconds of `f` over `n` runs.
fn cpu_secs(n: u32, mut f: impl FnMut()) -> Option<f64> {
    f();
    let t0 = thread_cpu_ns()?;
    for _ in 0..n {
        f();
    }
    Some((thread_cpu_ns()? - t0) as f64 / 1e9 / n as f64)
}

fn bench(c: &mut Criterion) {
    let opts = ImportOptions::standard();
    for (name, path) in inputs() {
        let ar = Pt2Archive::open(&path).unwrap();
        let json = ar.read_model_json("model").unwrap();
        let p = import_archive(Arc::new(Pt2Archive::open(&path).unwrap()), &opts)
            .unwrap()
            .program;
        let nodes = node_count(&p);
        eprintln!(
            "{name}: model.json {} bytes, {nodes} nodes, {} graphs, {} weights",
            json.len(),
            p.graphs.len(),
            p.weights.len()
        );
        // CPU-time rates, printed before criterion's wall-clock ones.
        let mb = json.len() as f64 / 1e6;
        let parse = cpu_secs(10, || {
            let mut w = vec![];
            black_box(parse_exported_program(&json, "bench", "model.json", &mut w).unwrap());
        });
        let import = cpu_secs(10, || {
            let ar = Arc::new(Pt2Archive::open(&path).unwrap());
            black_box(import_archive(ar, &opts).unwrap());
        });
        if let (Some(p), Some(i)) = (parse, import) {
            eprintln!(
                "{name} (thread CPU time): parse {:.2} ms = {:.0} MB/s, {:.0} nodes/s; \
                 import {:.2} ms = {:.0} MB/s, {:.0} nodes/s",
                p * 1e3,
                mb / p,
                nodes as f64 / p,
                i * 1e3,
                mb / i,
                nodes as f64 / i
            );
        }
        let mut g = c.benchmark_group(name.as_str());
        g.throughput(Throughput::Bytes(json.len() as u64));
        g.bench_function("parse_model_json", |b| {
            b.iter(|| {
                let mut w = vec![];
                let ep = parse_exported_program(black_box(&json), "bench", "model.json", &mut w)
                    .unwrap();
                black_box(ep.graph_module.graph.nodes.len())
            })
        });
        g.bench_function("import_lazy_weights", |b| {
            b.iter(|| {
                let ar = Arc::new(Pt2Archive::open(black_box(&path)).unwrap());
                black_box(import_archive(ar, &opts).unwrap().program)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
