//! The `default` pipeline on synthetic programs of about 10k, 100k and 1M nodes; the time per
//! node must stay flat (no pass may be superlinear).
//!
//! The program is a chain of residual blocks, each with work for every pass: `conv2d` and
//! `linear` (decompose), a duplicated `relu` (cse), a `reshape` chain and a permute pair that
//! cancels (canonicalize), `x * 1` (canonicalize), a dead `neg` (dce) and a `full` + `add` of
//! constants (fold-constants). Every block reads the previous block's output and, as a
//! residual edge, the output of the block before it.
//!
//! ```sh
//! cargo bench -p trtfx-passes --bench pipeline -- --sample-size 10
//! ```
//!
//! Besides criterion's wall-clock estimates (reported per node through the throughput), the
//! bench prints one run per size with wall time and the thread's CPU time (from
//! `/proc/thread-self/schedstat`), since wall time on a loaded machine includes waiting.

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::time::{Duration, Instant};
use trtfx_ir::{
    static_shape, Arg, DType, DimSpec, Graph, InputKind, InputSpec, NodeBuilder, Op, OutputKind,
    Program, Type, ValueId, Weight, F64,
};
use trtfx_passes::{PassManager, PassRegistry};

/// Nodes per block (see [`block`]).
const BLOCK_NODES: usize = 20;

fn f32t(shape: &[i64]) -> Type {
    Type::tensor(DType::F32, static_shape(shape))
}

fn ints(v: &[i64]) -> Arg {
    Arg::List(v.iter().map(|&x| Arg::Int(x)).collect())
}

struct Ctx {
    n: usize,
}

impl Ctx {
    fn call(&mut self, g: &mut Graph, target: &str, args: Vec<Arg>, ty: Type) -> ValueId {
        self.n += 1;
        let id = g.append(
            NodeBuilder::call(target)
                .args(args)
                .result(format!("v{}", self.n), ty),
        );
        g.node(id).results[0]
    }
}

/// One residual block on `x: f32[1,4,4,4]` (20 nodes); returns its output.
fn block(c: &mut Ctx, g: &mut Graph, x: ValueId, skip: ValueId, w: &[ValueId; 4]) -> ValueId {
    let [cw, cb, lw, lb] = *w;
    let t4 = f32t(&[1, 4, 4, 4]);
    let conv = c.call(
        g,
        "aten.conv2d.default",
        vec![
            Arg::Value(x),
            Arg::Value(cw),
            Arg::Value(cb),
            ints(&[1, 1]),
            ints(&[1, 1]),
        ],
        t4.clone(),
    );
    let r1 = c.call(g, "aten.relu.default", vec![Arg::Value(conv)], t4.clone());
    let r2 = c.call(g, "aten.relu.default", vec![Arg::Value(conv)], t4.clone()); // cse
    let a = c.call(
        g,
        "aten.add.Tensor",
        vec![Arg::Value(r1), Arg::Value(r2)],
        t4.clone(),
    );
    let s = c.call(
        g,
        "aten.add.Tensor",
        vec![Arg::Value(a), Arg::Value(skip)],
        t4.clone(),
    );
    let _dead = c.call(g, "aten.neg.default", vec![Arg::Value(s)], t4.clone()); // dce
    let v1 = c.call(
        g,
        "aten.reshape.default",
        vec![Arg::Value(s), ints(&[1, 4, 16])],
        f32t(&[1, 4, 16]),
    );
    let v2 = c.call(
        g,
        "aten.view.default",
        vec![Arg::Value(v1), ints(&[4, 16])],
        f32t(&[4, 16]),
    ); // view chain
    let p1 = c.call(
        g,
        "aten.permute.default",
        vec![Arg::Value(v2), ints(&[1, 0])],
        f32t(&[16, 4]),
    );
    let p2 = c.call(
        g,
        "aten.permute.default",
        vec![Arg::Value(p1), ints(&[1, 0])],
        f32t(&[4, 16]),
    ); // cancels
    let l = c.call(
        g,
        "aten.linear.default",
        vec![Arg::Value(p2), Arg::Value(lw), Arg::Value(lb)],
        f32t(&[4, 16]),
    );
    let one = c.call(
        g,
        "aten.mul.Scalar",
        vec![Arg::Value(l), Arg::Int(1)],
        f32t(&[4, 16]),
    ); // identity
    let k1 = c.call(
        g,
        "aten.full.default",
        vec![ints(&[4, 16]), Arg::Float(F64(0.5))],
        f32t(&[4, 16]),
    );
    let k2 = c.call(
        g,
        "aten.mul.Scalar",
        vec![Arg::Value(k1), Arg::Float(F64(2.0))],
        f32t(&[4, 16]),
    ); // folds
    let b = c.call(
        g,
        "aten.add.Tensor",
        vec![Arg::Value(one), Arg::Value(k2)],
        f32t(&[4, 16]),
    );
    let t = c.call(g, "aten.tanh.default", vec![Arg::Value(b)], f32t(&[4, 16]));
    let dup = c.call(g, "aten.tanh.default", vec![Arg::Value(b)], f32t(&[4, 16])); // cse
    let m = c.call(
        g,
        "aten.add.Tensor",
        vec![Arg::Value(t), Arg::Value(dup)],
        f32t(&[4, 16]),
    );
    let back = c.call(
        g,
        "aten.reshape.default",
        vec![Arg::Value(m), ints(&[1, 4, 4, 4])],
        t4.clone(),
    );
    c.call(g, "aten.sigmoid.default", vec![Arg::Value(back)], t4)
}

fn weight(shape: &[i64]) -> Weight {
    let numel: i64 = shape.iter().product();
    let bytes: Vec<u8> = (0..numel)
        .flat_map(|i| ((i % 7) as f32 * 0.1).to_le_bytes())
        .collect();
    Weight::from_bytes(DType::F32, shape.to_vec(), bytes)
}

/// A program of about `nodes` call nodes.
pub fn synthetic(nodes: usize) -> Program {
    let mut p = Program::new();
    let mut g = Graph::new("main");
    let mut w = Vec::new();
    for (name, shape) in [
        ("conv.weight", vec![4i64, 4, 3, 3]),
        ("conv.bias", vec![4]),
        ("fc.weight", vec![16, 16]),
        ("fc.bias", vec![16]),
    ] {
        p.weights.insert(name.into(), weight(&shape));
        let n = g.append(
            NodeBuilder::new(Op::Placeholder)
                .result(format!("p_{}", name.replace('.', "_")), f32t(&shape)),
        );
        w.push(g.node(n).results[0]);
        p.signature.inputs.push(InputKind::Parameter {
            target: name.into(),
        });
    }
    let w: [ValueId; 4] = w.try_into().unwrap();
    let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", f32t(&[1, 4, 4, 4])));
    let x = g.node(x).results[0];
    p.signature
        .inputs
        .push(InputKind::User { name: "x".into() });
    p.input_specs.push(InputSpec::Tensor {
        name: "x".into(),
        dtype: DType::F32,
        dims: [1, 4, 4, 4].into_iter().map(DimSpec::Static).collect(),
    });
    let mut c = Ctx { n: 0 };
    let (mut prev, mut cur) = (x, x);
    for _ in 0..nodes.div_ceil(BLOCK_NODES) {
        let next = block(&mut c, &mut g, cur, prev, &w);
        prev = cur;
        cur = next;
    }
    g.append(NodeBuilder::new(Op::Output).args(vec![Arg::Value(cur)]));
    p.signature.outputs.push(OutputKind::User);
    let main = p.main;
    p.graphs[main] = g;
    p
}

fn run_default(reg: &PassRegistry, mut p: Program) -> Program {
    let mut pm = PassManager::parse(reg, "default").expect("default parses");
    // `PIPELINE_TIMING=1` prints the per-pass timing tree of every run (for profiling).
    let timing = std::env::var_os("PIPELINE_TIMING").is_some();
    if timing {
        pm = pm.enable_timing();
    }
    pm.run(&mut p).expect("default pipeline runs");
    if let Some(report) = pm.timing_report(true).filter(|_| timing) {
        eprintln!("{report}");
    }
    p
}

/// CPU time of the calling thread.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        s.split_whitespace().next()?.parse().ok()?,
    ))
}

fn node_count(p: &Program) -> usize {
    p.main_graph().node_ids().len()
}

/// The sizes to run: `PIPELINE_SIZES=10000,100000` overrides the default three (handy when
/// profiling one size).
fn sizes() -> Vec<usize> {
    std::env::var("PIPELINE_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

fn bench(c: &mut Criterion) {
    let reg = PassRegistry::with_builtins();
    // One measured run per size with CPU time (criterion below gives the statistics).
    eprintln!("nodes      wall/node   cpu/node   (one run each, `default` pipeline)");
    for &n in &sizes() {
        let p = synthetic(n);
        let count = node_count(&p);
        let (t0, c0) = (Instant::now(), thread_cpu());
        let out = run_default(&reg, p);
        let (wall, cpu) = (t0.elapsed(), thread_cpu());
        let cpu = match (c0, cpu) {
            (Some(a), Some(b)) => format!("{:8.0} ns", (b - a).as_nanos() as f64 / count as f64),
            _ => "      n/a".into(),
        };
        eprintln!(
            "{count:<9}  {:8.0} ns {cpu}   ({} nodes after)",
            wall.as_nanos() as f64 / count as f64,
            node_count(&out)
        );
    }
    let mut group = c.benchmark_group("default-pipeline");
    group.sample_size(10);
    // One iteration per sample: a 1M-node run takes seconds, linear sampling would need 55.
    group.sampling_mode(SamplingMode::Flat);
    for &n in &sizes() {
        let p = synthetic(n);
        group.throughput(Throughput::Elements(node_count(&p) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &p, |b, p| {
            b.iter_batched(
                || p.clone(),
                |q| run_default(&reg, q),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
