//! Partitioning speed on synthetic graphs: a residual chain (each node reads the previous node
//! and, every 4th node, the node 3 back) with 1% of the nodes unsupported, from 10k to 1M nodes.
//! `plan/N` times planning alone; `plan+outline/N` times planning and then outlining every
//! segment into a subgraph (the program is cloned outside the timed region).
//!
//! `cargo bench -p trtfx-passes --bench partition`
//!
//! With `PARTITION_BENCH_CPU=1` (Linux) it measures the benchmark thread's CPU time instead of
//! wall time, which stays meaningful on a loaded machine (time spent waiting for a core is left
//! out; page faults and other kernel work done for the thread are counted).

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BatchSize, BenchmarkId, Criterion};
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

fn bench<M: Measurement + 'static>(c: &mut Criterion<M>) {
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
                    outline(&mut p, main, &pl, "trt").expect("outlines");
                    p
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// CPU time of the calling thread, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec (64-bit Linux layout) for the whole call.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_ns() -> u64 {
    panic!("PARTITION_BENCH_CPU needs Linux (CLOCK_THREAD_CPUTIME_ID)")
}

/// A criterion measurement of the benchmark thread's CPU time (criterion runs the routine on
/// the thread that calls it), formatted like wall time.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = std::time::Duration;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> std::time::Duration {
        std::time::Duration::from_nanos(thread_cpu_ns() - start)
    }
    fn add(&self, a: &std::time::Duration, b: &std::time::Duration) -> std::time::Duration {
        *a + *b
    }
    fn zero(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
    fn to_f64(&self, v: &std::time::Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

fn main() {
    if std::env::var_os("PARTITION_BENCH_CPU").is_some() {
        let mut c = Criterion::default()
            .with_measurement(ThreadCpuTime)
            .configure_from_args();
        bench(&mut c);
    } else {
        let mut c = Criterion::default().configure_from_args();
        bench(&mut c);
    }
    Criterion::default().configure_from_args().final_summary();
}
