//! Partitioning the Llama fixtures (`benches/llama/llama_L*.core.pt2`) the way
//! `benches/llama/partition_torch.py` partitions them with torch.fx, for the side-by-side
//! comparison in `benches/llama/compare.sh`. Not a criterion bench: a plain timing binary.
//!
//! ```sh
//! cargo bench -p trtfx-passes --bench llama -- [--reps N] [--min-block-size K] [PATH...]
//! ```
//!
//! For each archive (default: the `llama_L{4,16,48}.core.pt2` that exist) it times the raw
//! typed parse of `models/model.json` (`parse_exported_program` on the bytes, read once
//! beforehand), `import_pt2`, `plan` and `outline` `N` times (default 5) and prints the medians, wall clock
//! and thread CPU time (`CLOCK_THREAD_CPUTIME_ID`). The capability refuses exactly `aten.rsqrt.default` and
//! `aten.embedding.default` and accepts every other `call_function` (`Op::Call`); min-block-size
//! defaults to 1 (torch.fx's partitioner has no minimum). Outside the timed regions it checks the
//! result: every TensorRT segment holds only supported nodes, every node is in exactly one
//! segment, each segment is convex, the segment order is executable, and the outlined program
//! verifies.
//!
//! Output: a header line, then one line per file with whitespace-separated `key=value` fields
//! (`compare.sh` parses them).

use std::path::{Path, PathBuf};
use std::time::Instant;
use trtfx_ir::{Graph, NodeId, Op};
use trtfx_passes::partition::{
    outline, plan, Capability, PartitionOptions, Placement, SegmentPlan,
};

const UNSUPPORTED: [&str; 2] = ["aten.rsqrt.default", "aten.embedding.default"];

/// The benchmark's support rule, the same as `partition_torch.py`'s `Support`.
struct LlamaCapability;

impl Capability for LlamaCapability {
    fn supports(&self, g: &Graph, n: NodeId) -> Result<(), String> {
        match &g.node(n).op {
            Op::Call { target } if UNSUPPORTED.contains(&target.as_str()) => {
                Err(format!("`{target}` is unsupported in this benchmark"))
            }
            Op::Call { .. } => Ok(()),
            other => Err(format!("{} nodes are not call_function", other.opcode())),
        }
    }
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

/// CPU time of the calling thread in seconds (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, Linux
/// x86-64/aarch64 layout); `NaN` where it fails.
fn thread_cpu() -> f64 {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    } else {
        f64::NAN
    }
}

/// Runs `f`, returning its result, wall seconds and CPU seconds.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let c0 = thread_cpu();
    let t0 = Instant::now();
    let r = f();
    let wall = t0.elapsed().as_secs_f64();
    (r, wall, thread_cpu() - c0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Checks a plan against the graph; returns a description of the first problem.
fn check_plan(g: &Graph, plan: &SegmentPlan) -> Result<(), String> {
    let order: Vec<NodeId> = g
        .nodes()
        .filter(|&n| matches!(g.node(n).op, Op::Call { .. } | Op::CallGraph { .. }))
        .collect();
    let mut seg_of = vec![usize::MAX; g.node_capacity()];
    for (k, s) in plan.segments.iter().enumerate() {
        for &n in &s.nodes {
            if seg_of[n.as_u32() as usize] != usize::MAX {
                return Err(format!("node {} is in two segments", g.node(n).name));
            }
            seg_of[n.as_u32() as usize] = k;
            if s.placement == Placement::Backend {
                LlamaCapability
                    .supports(g, n)
                    .map_err(|e| format!("node {} in TensorRT segment {k}: {e}", g.node(n).name))?;
            }
        }
    }
    if let Some(n) = order
        .iter()
        .find(|n| seg_of[n.as_u32() as usize] == usize::MAX)
    {
        return Err(format!("node {} is in no segment", g.node(*n).name));
    }
    // Executable order: every operand produced by a segment is produced by an earlier one (or
    // the same one). With that, the segment graph is acyclic, so every segment is convex (a
    // path leaving a segment and coming back would need an edge to an earlier segment).
    for (k, s) in plan.segments.iter().enumerate() {
        for &n in &s.nodes {
            let mut bad = None;
            g.node(n).for_each_input(|v| {
                let d = g.value(v).def;
                let ds = seg_of[d.as_u32() as usize];
                if ds != usize::MAX && ds > k {
                    bad = Some(g.node(d).name.clone());
                }
            });
            if let Some(d) = bad {
                return Err(format!(
                    "segment {k} reads {d} from a later segment: order not executable"
                ));
            }
        }
    }
    Ok(())
}

struct Sample {
    /// The raw typed parse of `models/model.json` alone (serde_json into the borrowed
    /// schema structs), the floor the import is compared with.
    parse: (f64, f64),
    import: (f64, f64),
    plan: (f64, f64),
    outline: (f64, f64),
}

fn run_file(path: &Path, reps: usize, opts: &PartitionOptions) -> Result<String, String> {
    let mut samples = Vec::new();
    let mut summary = String::new();
    let archive = trtfx_frontend_fx::Pt2Archive::open(path).map_err(|e| e.to_string())?;
    let json = archive
        .read_model_json(&archive.model_names()[0])
        .map_err(|e| e.to_string())?;
    // One untimed warm-up round (page cache, allocator), then `reps` timed ones.
    for rep in 0..=reps {
        let (parsed, sw, sc) = timed(|| {
            let mut warnings = Vec::new();
            trtfx_frontend_fx::parse_exported_program(&json, "bench", "model.json", &mut warnings)
                .map(|ep| ep.graph_module.graph.nodes.len())
        });
        parsed.map_err(|e| format!("parse {}: {e}", path.display()))?;
        let (program, iw, ic) = timed(|| trtfx_frontend_fx::import_pt2(path));
        let mut program = program.map_err(|e| format!("import {}: {e}", path.display()))?;
        let main = program.main;
        let (pl, pw, pc) = timed(|| plan(&program.graphs[main], &LlamaCapability, opts));
        let pl = pl.map_err(|e| e.to_string())?;
        let (created, ow, oc) = timed(|| outline(&mut program, main, &pl, "trt"));
        let created = created.map_err(|e| e.to_string())?;
        if rep == 0 {
            // Checks, once, outside the timings.
            let fresh = trtfx_frontend_fx::import_pt2(path).map_err(|e| e.to_string())?;
            let g = fresh.main_graph();
            check_plan(g, &pl)?;
            let registry = trtfx_ir::aten::standard_registry();
            trtfx_ir::verify_program(&program, Some(&registry))
                .map_err(|d| format!("outlined program: {}", trtfx_ir::verify::render(&d)))?;
            let mg = program.main_graph();
            let calls = mg
                .nodes()
                .filter(|&n| matches!(mg.node(n).op, Op::CallGraph { .. }))
                .count();
            if mg.nodes().any(|n| matches!(mg.node(n).op, Op::Call { .. }))
                || calls != pl.segments.len()
                || created.len() != pl.segments.len()
            {
                return Err("outlined main graph does not just call the segments".into());
            }
            let all = g.nodes().count();
            let call_fn = g
                .nodes()
                .filter(|&n| matches!(g.node(n).op, Op::Call { .. }))
                .count();
            let trt = pl
                .segments
                .iter()
                .filter(|s| s.placement == Placement::Backend)
                .count();
            summary = format!(
                "nodes={all} call_fn={call_fn} unsupported={} segments={} trt_segments={trt} fallback_segments={} valid=yes",
                pl.reasons.len(),
                pl.segments.len(),
                pl.segments.len() - trt
            );
            continue;
        }
        samples.push(Sample {
            parse: (sw, sc),
            import: (iw, ic),
            plan: (pw, pc),
            outline: (ow, oc),
        });
    }
    let med = |f: &dyn Fn(&Sample) -> f64| median(&mut samples.iter().map(f).collect::<Vec<_>>());
    Ok(format!(
        "file={} {summary} reps={reps} parse_s={:.4} parse_cpu={:.4} import_s={:.4} import_cpu={:.4} plan_s={:.5} plan_cpu={:.5} outline_s={:.5} outline_cpu={:.5} partition_s={:.5} partition_cpu={:.5}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        med(&|s| s.parse.0),
        med(&|s| s.parse.1),
        med(&|s| s.import.0),
        med(&|s| s.import.1),
        med(&|s| s.plan.0),
        med(&|s| s.plan.1),
        med(&|s| s.outline.0),
        med(&|s| s.outline.1),
        med(&|s| s.plan.0 + s.outline.0),
        med(&|s| s.plan.1 + s.outline.1),
    ))
}

fn main() {
    let mut reps = 5usize;
    let mut opts = PartitionOptions {
        min_block_size: 1,
        ..Default::default()
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reps" => reps = args.next().and_then(|v| v.parse().ok()).expect("--reps N"),
            "--min-block-size" => {
                opts.min_block_size = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--min-block-size K")
            }
            // cargo bench passes `--bench`; ignore it and other flags.
            _ if a.starts_with("--") => {}
            _ => paths.push(PathBuf::from(a)),
        }
    }
    let reps = reps.max(1);
    if paths.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/llama");
        paths = [4, 16, 48]
            .iter()
            .map(|l| dir.join(format!("llama_L{l}.core.pt2")))
            .filter(|p| p.exists())
            .collect();
    }
    println!(
        "trtfx llama partition: min-block-size {}, unsupported {:?}, medians of {reps}",
        opts.min_block_size, UNSUPPORTED
    );
    let mut failed = false;
    for p in &paths {
        match run_file(p, reps, &opts) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                println!("file={} error: {e}", p.display());
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
