//! `compile`: a program in, a [`CompiledProgram`] out — preparation passes, partitioning with
//! the TensorRT converter registry as capability, one recorded TensorRT network per TensorRT
//! segment and, when the TensorRT library is available, its serialized plan.
//!
//! Inputs are metadata: the shape ranges of the TensorRT networks' optimization profiles come
//! from the program's input specs and symbol ranges, never from example inputs.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::Duration;

use trtfx_backend_trt::convert::ConverterRegistry;
use trtfx_backend_trt::engine::{build_plan, convert_graph_into, PlanOutcome};
use trtfx_backend_trt::{BuildSettings, Plan, RecordedNetwork};
use trtfx_exec::interp::CustomKernel;
use trtfx_ir::{aten, Graph, GraphId, Op, Program, Type};
use trtfx_passes::partition::{outline, plan, Backend, PartitionError, PartitionOptions};
use trtfx_passes::PassManager;

/// The passes run before partitioning: the `default` pipeline (`decompose`, `infer-types`,
/// then canonicalize/fold/CSE/DCE to a fixpoint), the one `ir-opt opt --passes default` runs
/// and that every fixture model goes through.
pub const PREPARE_PIPELINE: &str = "default";

/// What [`compile`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileSettings {
    /// TensorRT segments with fewer compute nodes fall back to the executor (Torch-TensorRT's
    /// `min_block_size`, default 5).
    pub min_block_size: usize,
    /// Operators forced to fallback (`aten.embedding.default`).
    pub fallback_ops: Vec<String>,
    /// Fail unless every node runs on TensorRT.
    pub require_full_compilation: bool,
    /// Builder settings for the plans.
    pub build: BuildSettings,
    /// Build plans when the TensorRT library is available (off: networks only).
    pub build_plans: bool,
    /// Run f64 computation on TensorRT in f32 (TensorRT has no f64; default off). Partitioning
    /// sees the post-truncation types, and only the TensorRT segments are truncated: their
    /// calls get casts to f32 before and back to f64 after, so the main graph and the fallback
    /// segments keep exact f64 semantics.
    pub truncate_double: bool,
}

impl Default for CompileSettings {
    fn default() -> Self {
        let p = PartitionOptions::default();
        CompileSettings {
            min_block_size: p.min_block_size,
            fallback_ops: p.fallback_ops,
            require_full_compilation: p.require_full_compilation,
            build: BuildSettings::default(),
            build_plans: true,
            truncate_double: false,
        }
    }
}

/// Failures of [`compile`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum CompileError {
    /// A preparation pass failed.
    #[error("preparing the program (pipeline `{PREPARE_PIPELINE}`): {0}")]
    Prepare(String),
    /// Partitioning failed (with `require_full_compilation`: the unsupported nodes).
    #[error("{0}")]
    Partition(#[from] PartitionError),
    /// `truncate_double`, and a TensorRT segment could not be truncated to f32, or the
    /// truncated program failed type inference or verification.
    #[error("truncating f64 to f32: {0}")]
    Truncate(String),
    /// `require_full_compilation`, and a TensorRT segment did not convert.
    #[error("full compilation required, but segment @{graph} did not convert: {message}")]
    Convert {
        /// The segment subgraph.
        graph: String,
        /// The converter's error.
        message: String,
    },
}

/// Where a segment of a compiled program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentBackend {
    /// A TensorRT engine (or, without one, the layer emulator on the recorded network).
    Trt,
    /// The CPU executor.
    Fallback,
}

impl SegmentBackend {
    /// `trt` or `fallback`.
    pub fn name(self) -> &'static str {
        match self {
            SegmentBackend::Trt => "trt",
            SegmentBackend::Fallback => "fallback",
        }
    }
}

/// The TensorRT part of a segment: its network and, if built, its plan.
#[derive(Debug, Clone)]
pub struct TrtSegment {
    /// The recorded network (printable, emulatable, replayable into TensorRT).
    pub network: RecordedNetwork,
    /// For each placeholder of the segment subgraph, the network input it feeds (`None` for
    /// placeholders converted to constants or symbolic sizes).
    pub input_bindings: Vec<Option<String>>,
    /// Network output names, in the subgraph's output order.
    pub outputs: Vec<String>,
    /// The serialized engine, when TensorRT was available.
    pub plan: Option<Plan>,
    /// Why there is no plan.
    pub plan_skipped: Option<String>,
    /// Build wall time (known only in the process that built the plan).
    pub build_time: Option<Duration>,
}

/// One segment of a compiled program: a subgraph called from the main graph.
#[derive(Debug, Clone)]
pub struct CompiledSegment {
    /// The subgraph's name (`main_seg0_trt`).
    pub graph: String,
    /// Where it runs.
    pub backend: SegmentBackend,
    /// Operator nodes (`call_function` and `call_graph`) in the segment.
    pub nodes: usize,
    /// Those that produce a tensor.
    pub compute_nodes: usize,
    /// Operator histogram (sorted by operator).
    pub ops: BTreeMap<String, usize>,
    /// For TensorRT segments, the network and plan.
    pub trt: Option<TrtSegment>,
    /// For a TensorRT segment moved back to the executor because its conversion failed: why.
    pub note: Option<String>,
}

/// A node that does not run on TensorRT, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedNode {
    /// FX node name.
    pub node: String,
    /// Operator (or opcode).
    pub op: String,
    /// The reason (the converter validator's, `fallback-ops`, or `min-block-size`).
    pub reason: String,
}

/// A compiled program: the partitioned program (its main graph calls one subgraph per
/// segment), its weights and input specs, and per TensorRT segment the recorded network and
/// plan bytes. It holds no live TensorRT objects, so it can always be saved
/// ([`CompiledProgram::save`]).
#[derive(Clone)]
pub struct CompiledProgram {
    /// The partitioned program.
    pub program: Program,
    /// Segments in execution order.
    pub segments: Vec<CompiledSegment>,
    /// Nodes that are not on TensorRT, with reasons.
    pub unsupported: Vec<UnsupportedNode>,
    /// The partition settings used (`min_block_size`, `fallback_ops`,
    /// `require_full_compilation`).
    pub partition: PartitionOptions,
    /// Kernels of custom operators for the executor (not saved).
    pub(crate) kernels: HashMap<String, CustomKernel>,
}

impl fmt::Debug for CompiledProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledProgram")
            .field("segments", &self.segments)
            .field("unsupported", &self.unsupported)
            .field("partition", &self.partition)
            .finish_non_exhaustive()
    }
}

/// Operator nodes of `g` and their histogram: (nodes, compute nodes, histogram).
pub(crate) fn census(g: &Graph) -> (usize, usize, BTreeMap<String, usize>) {
    let (mut nodes, mut compute) = (0, 0);
    let mut ops = BTreeMap::new();
    for n in g.nodes() {
        let node = g.node(n);
        let name = match &node.op {
            Op::Call { target } => target.clone(),
            Op::CallGraph { .. } => "call_graph".to_string(),
            _ => continue,
        };
        nodes += 1;
        if node
            .results
            .iter()
            .any(|&r| matches!(g.ty(r), Type::Tensor(_)))
        {
            compute += 1;
        }
        *ops.entry(name).or_insert(0) += 1;
    }
    (nodes, compute, ops)
}

/// Converts one outlined TensorRT segment; builds its plan when asked and possible.
fn convert_segment(
    program: &Program,
    gid: GraphId,
    registry: &ConverterRegistry,
    settings: &CompileSettings,
) -> Result<TrtSegment, String> {
    let mut network = RecordedNetwork::new();
    let (inputs, outputs) =
        convert_graph_into(program, gid, registry, &mut network).map_err(|e| e.to_string())?;
    let g = &program.graphs[gid];
    let input_bindings = g
        .placeholders()
        .iter()
        .map(|&n| {
            let name = &g.value(g.node(n).results[0]).name;
            inputs.contains(name).then(|| name.clone())
        })
        .collect();
    let mut seg = TrtSegment {
        network,
        input_bindings,
        outputs,
        plan: None,
        plan_skipped: None,
        build_time: None,
    };
    if !settings.build_plans {
        seg.plan_skipped = Some("plan builds were turned off".into());
        return Ok(seg);
    }
    // A failed build keeps the network (it still runs on the emulator) and says why, rather
    // than failing the whole compile: the report shows it.
    match build_plan(&seg.network, &settings.build) {
        Ok(PlanOutcome::Built { plan, build_time }) => {
            seg.plan = Some(plan);
            seg.build_time = Some(build_time);
        }
        Ok(PlanOutcome::Skipped { reason }) => seg.plan_skipped = Some(reason),
        Err(e) => seg.plan_skipped = Some(e.to_string()),
    }
    Ok(seg)
}

/// Truncates every TensorRT segment of the plan to f32 (casts at the calls in `main`), then
/// re-runs type inference and the verifier: inference must reproduce the truncated types, so
/// the casts and the retyped subgraphs are consistent.
fn truncate_trt_segments(
    p: &mut Program,
    main: GraphId,
    pl: &trtfx_passes::partition::Plan,
    gids: &[GraphId],
) -> Result<(), CompileError> {
    for (seg, &gid) in pl.segments.iter().zip(gids) {
        if seg.backend == Backend::Trt {
            crate::truncate::truncate_segment(p, main, gid).map_err(CompileError::Truncate)?;
        }
    }
    let types = |p: &Program| -> Vec<(String, String, Type)> {
        p.graphs
            .values()
            .flat_map(|g| {
                g.value_ids()
                    .map(|v| (g.name.clone(), g.value(v).name.clone(), g.ty(v).clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let before = types(p);
    let reg = aten::standard_registry();
    aten::infer_program(p, &reg).map_err(|e| CompileError::Truncate(e.to_string()))?;
    if let Some((b, a)) = before.iter().zip(types(p)).find(|(b, a)| **b != *a) {
        return Err(CompileError::Truncate(format!(
            "type inference disagrees with the truncated types: %{} of @{}: {:?} vs {:?}",
            b.1, b.0, b.2, a.2
        )));
    }
    trtfx_ir::verify_program(p, Some(&reg)).map_err(|d| {
        CompileError::Truncate(
            d.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// Compiles a program: runs [`PREPARE_PIPELINE`], partitions the main graph with the standard
/// TensorRT converter registry as capability, outlines the segments, converts every TensorRT
/// segment to a recorded network (dynamic dims become `-1` with an optimization profile from
/// the input specs and symbol ranges) and builds its plan when the TensorRT library is
/// available.
///
/// A TensorRT segment whose conversion fails runs on the executor instead (its
/// [`CompiledSegment::note`] says why), unless `require_full_compilation` is set. With
/// [`CompileSettings::truncate_double`], f64 is truncated to f32 inside TensorRT segments only
/// (such a segment that then fails to convert runs its truncated subgraph on the executor).
pub fn compile(
    program: &Program,
    settings: &CompileSettings,
) -> Result<CompiledProgram, CompileError> {
    let mut p = program.clone();
    let registry = crate::pass_registry();
    let pipeline = registry
        .parse_pipeline(PREPARE_PIPELINE)
        .map_err(|e| CompileError::Prepare(e.to_string()))?;
    PassManager::new(pipeline)
        .with_ops(Arc::new(aten::standard_registry()))
        .run(&mut p)
        .map_err(|e| CompileError::Prepare(e.to_string()))?;

    let converters = ConverterRegistry::standard();
    let options = PartitionOptions {
        min_block_size: settings.min_block_size,
        fallback_ops: settings.fallback_ops.clone(),
        require_full_compilation: settings.require_full_compilation,
    };
    let main = p.main;
    let pl = if settings.truncate_double {
        // Plan on a truncated copy: same structure and node ids, so the plan applies to `p`,
        // and f64 nodes are judged as the f32 nodes they become inside a TensorRT segment.
        let copy = crate::truncate::truncated_copy(&p);
        plan(&copy.graphs[main], &converters.capability(&copy), &options)?
    } else {
        plan(&p.graphs[main], &converters.capability(&p), &options)?
    };
    let g = &p.graphs[main];
    let unsupported = pl
        .reasons
        .iter()
        .map(|(&n, why)| {
            let node = g.node(n);
            UnsupportedNode {
                node: node.name.clone(),
                op: node.op.target().unwrap_or(node.op.opcode()).to_string(),
                reason: why.clone(),
            }
        })
        .collect();
    let gids = if pl.segments.is_empty() {
        Vec::new()
    } else {
        outline(&mut p, main, &pl)?
    };

    if settings.truncate_double {
        truncate_trt_segments(&mut p, main, &pl, &gids)?;
    }

    let mut segments = Vec::with_capacity(gids.len());
    for (seg, &gid) in pl.segments.iter().zip(&gids) {
        let sg = &p.graphs[gid];
        let (nodes, compute_nodes, ops) = census(sg);
        let mut out = CompiledSegment {
            graph: sg.name.clone(),
            backend: SegmentBackend::Fallback,
            nodes,
            compute_nodes,
            ops,
            trt: None,
            note: None,
        };
        if seg.backend == Backend::Trt {
            match convert_segment(&p, gid, &converters, settings) {
                Ok(t) => {
                    out.backend = SegmentBackend::Trt;
                    out.trt = Some(t);
                }
                Err(message) if settings.require_full_compilation => {
                    return Err(CompileError::Convert {
                        graph: out.graph,
                        message,
                    })
                }
                Err(message) => out.note = Some(format!("conversion failed: {message}")),
            }
        }
        segments.push(out);
    }
    Ok(CompiledProgram {
        program: p,
        segments,
        unsupported,
        partition: options,
        kernels: HashMap::new(),
    })
}

impl CompiledProgram {
    /// Registers a kernel for a custom operator that runs on the executor
    /// (`mylib.op.default`). Kernels are code, so they are not saved with the program.
    pub fn register_kernel(&mut self, op: impl Into<String>, k: CustomKernel) {
        self.kernels.insert(op.into(), k);
    }

    /// The TensorRT segments.
    pub fn trt_segments(&self) -> impl Iterator<Item = (&CompiledSegment, &TrtSegment)> {
        self.segments
            .iter()
            .filter_map(|s| s.trt.as_ref().map(|t| (s, t)))
    }

    /// The compile report: per segment its backend, node counts and operator histogram, the
    /// network's layer count and the plan's status; the nodes not on TensorRT with reasons;
    /// and the share of compute nodes on TensorRT. It is rendered from the compiled program
    /// alone, so a loaded artifact reports the same (build times only where just built).
    pub fn report(&self) -> String {
        let mut out = String::new();
        let (mut total, mut on_trt, mut n_trt) = (0, 0, 0);
        for (i, s) in self.segments.iter().enumerate() {
            total += s.compute_nodes;
            if s.backend == SegmentBackend::Trt {
                on_trt += s.compute_nodes;
                n_trt += 1;
            }
            let _ = writeln!(
                out,
                "segment {i}: {} @{} ({} nodes, {} compute)",
                s.backend.name(),
                s.graph,
                s.nodes,
                s.compute_nodes
            );
            for (op, k) in &s.ops {
                let _ = writeln!(out, "  {k:>5} {op}");
            }
            if let Some(note) = &s.note {
                let _ = writeln!(out, "  note: {note}");
            }
            if let Some(t) = &s.trt {
                let _ = writeln!(
                    out,
                    "  network: {} layers, {} input(s), {} output(s)",
                    t.network.num_layers(),
                    t.input_bindings.iter().flatten().count(),
                    t.outputs.len()
                );
                let _ = writeln!(out, "  plan: {}", plan_status(t));
            }
        }
        if !self.unsupported.is_empty() {
            let _ = writeln!(out, "not on TensorRT:");
            for u in &self.unsupported {
                let _ = writeln!(out, "  {} ({}): {}", u.node, u.op, u.reason);
            }
        }
        let pct = if total == 0 {
            100.0
        } else {
            100.0 * on_trt as f64 / total as f64
        };
        let _ = writeln!(
            out,
            "total: {} segment(s) ({n_trt} trt, {} fallback), {on_trt}/{total} compute nodes on \
             TensorRT ({pct:.1}%)",
            self.segments.len(),
            self.segments.len() - n_trt
        );
        out
    }
}

/// One line on a segment's plan.
pub(crate) fn plan_status(t: &TrtSegment) -> String {
    match (&t.plan, &t.plan_skipped) {
        (Some(plan), _) => {
            let targets: Vec<&str> = plan
                .settings
                .compute_capabilities
                .iter()
                .map(|c| c.name())
                .collect();
            let mut s = format!(
                "{} bytes, {}, targets {}",
                plan.bytes.len(),
                plan.trt_version,
                targets.join(",")
            );
            if let Some(d) = t.build_time {
                let _ = write!(s, ", built in {:.2} s", d.as_secs_f64());
            }
            s
        }
        (None, Some(why)) => format!("skipped ({why})"),
        (None, None) => "skipped".into(),
    }
}
