//! Partitioning speed on synthetic graphs: a residual chain (each node reads the previous node
//! and, every 4th node, the node 3 back) with 1% of the nodes unsupported, from 10k to 1M nodes.
//! `plan/N` times planning alone; `plan+outline/N` times planning and then outlining every
//! segment into a subgraph (the program is cloned outside the timed region).
//!
//! `cargo bench -p trtfx-passes --bench partition`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use trtfx_ir::{static_shape, Arg, DType, Graph, NodeBuilder, NodeId, Op, Program, Type};
use trtfx_passes::partition::{outline, plan, PartitionOptions};

/// A deterministic residual chain of `n` call nodes; every 100th node (offset by a hash) is
/// `unsup`.
pub fn residual_chain(n: usize) -> Graph {
    let t = Type::tensor(DType::F32, static_shape(&[8]));
    let mut g = Graph::new("main");
    let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", t.clone()));
    let mut vals = vec![g.node(x).results[0]];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..n {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let unsupported = (state >> 33).is_multiple_of(100);
        let mut args = vec![Arg::Value(vals[vals.len() - 1])];
        if i % 4 == 3 && vals.len() > 3 {
            args.push(Arg::Value(vals[vals.len() - 3]));
        }
        let target = if unsupported {
            "unsup"
        } else {
            "aten.add.Tensor"
        };
        let node = g.append(
            NodeBuilder::call(target)
                .args(args)
                .result(format!("v{i}"), t.clone()),
        );
        vals.push(g.node(node).results[0]);
    }
    let last = *vals.last().expect("at least the input");
    g.append(NodeBuilder::new(Op::Output).args(vec![Arg::Value(last)]));
    g
}

fn cap(g: &Graph, n: NodeId) -> Result<(), String> {
    if g.node(n).op.target() == Some("unsup") {
        Err("unsupported".into())
    } else {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("partition");
    group.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        let mut p = Program::new();
        *p.main_graph_mut() = residual_chain(n);
        let opts = PartitionOptions {
            min_block_size: 5,
            ..Default::default()
        };
        group.bench_with_input(BenchmarkId::new("plan", n), &p, |b, p| {
            b.iter(|| plan(p.main_graph(), &cap, &opts).expect("plans"))
        });
        group.bench_with_input(BenchmarkId::new("plan+outline", n), &p, |b, p| {
            b.iter_batched(
                || p.clone(),
                |mut p| {
                    let main = p.main;
                    let pl = plan(&p.graphs[main], &cap, &opts).expect("plans");
                    outline(&mut p, main, &pl).expect("outlines");
                    p
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
