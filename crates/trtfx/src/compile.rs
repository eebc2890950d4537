//! `compile`: a program in, a [`CompiledProgram`] out, by running the registered `compile`
//! pipeline (`default`, `partition`, `truncate-long-double`, `repair-types`,
//! `outline-segments`, `build-engines`) with verification after every pass, and assembling
//! the artifact from the resulting program and the pipeline's products
//! ([`CompiledProgram::from_pipeline`]). `ir-opt opt --passes 'compile{...}' -o X.trtfx` does
//! the same through the same two functions.
//!
//! Inputs are metadata: the shape ranges of the TensorRT networks' optimization profiles come
//! from the program's input specs and symbol ranges, never from example inputs.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::sync::Arc;

pub use trtfx_backend_trt::build_engines::TrtSegment;
use trtfx_backend_trt::build_engines::{BuildEnginesOptions, BuildProgress, BuiltEngines};
use trtfx_backend_trt::network::TrtDataType;
use trtfx_backend_trt::BuildSettings;
use trtfx_exec::interp::CustomKernel;
use trtfx_ir::ops::{LibraryError, OpLibraries};
use trtfx_ir::{aten, Graph, Op, OpRegistry, Program, Type};
use trtfx_passes::compile::CompileOptions;
use trtfx_passes::options::OptionSet;
use trtfx_passes::partition::{outlined_segments, PartitionOptions, FALLBACK};
pub use trtfx_passes::passes::autocast::Precision;
use trtfx_passes::passes::partition::PartitionReport;
pub use trtfx_passes::passes::truncate::{Int64Policy, SmallIntPolicy};
use trtfx_passes::{PassManager, Products, RunError};

/// The passes run before partitioning: the `default` pipeline (`functionalize`, `decompose`,
/// `infer-types`, then canonicalize/fold/CSE/DCE to a fixpoint), the first step of `compile{...}`.
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
    /// sees the post-truncation types, and only the TensorRT segments are truncated: casts at
    /// their boundaries keep exact f64 semantics in the main graph and the fallback segments.
    pub truncate_double: bool,
    /// i64 inside TensorRT segments: `Native` (only converters that take i64), `Int32`
    /// (truncated like f64; compile-time values outside i32 are an error) or `Fallback`
    /// (nodes with i64 values stay on the executor).
    pub int64: Int64Policy,
    /// u8/i8/i16/u16 inside TensorRT segments: `Int32` (default: widened to i32, with
    /// wrap-around repaired after arithmetic, so results are exact) or `Native` (such nodes
    /// stay on the executor: TensorRT has no arithmetic on these types).
    pub small_int: SmallIntPolicy,
    /// Precision of f32 computation inside TensorRT segments (the `autocast` pass): `F32`
    /// (default), `Fp16` or `Bf16`. Numerically sensitive operators stay f32 by the pass's
    /// policy table; program inputs and outputs and the executor's segments keep their types.
    pub precision: Precision,
    /// Operators kept in f32 under reduced precision besides the policy table
    /// (`aten.gelu.default`, or `aten.gelu` for every overload).
    pub keep_f32: Vec<String>,
    /// Plan cache directory ([`trtfx_backend_trt::plan_cache`]): a plan built before for the
    /// same network, settings and TensorRT library is reused instead of built. Off by default.
    pub plan_cache: Option<std::path::PathBuf>,
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
            int64: Int64Policy::Native,
            small_int: SmallIntPolicy::Int32,
            precision: Precision::F32,
            keep_f32: Vec::new(),
            plan_cache: None,
        }
    }
}

impl CompileSettings {
    /// The pipeline text [`compile`] runs: `compile{...}` with the options that differ from
    /// the defaults, and, when the builder settings differ from the defaults,
    /// `compile{...,engines=false},build-engines{...}`.
    pub fn pipeline_text(&self) -> String {
        let custom_build = self.build != BuildSettings::default() || self.plan_cache.is_some();
        let o = CompileOptions {
            backend: String::new(),
            min_block_size: self.min_block_size,
            fallback_ops: self.fallback_ops.clone(),
            require_full_compilation: self.require_full_compilation,
            truncate_double: self.truncate_double,
            int64: self.int64,
            small_int: self.small_int,
            precision: self.precision,
            keep_f32: self.keep_f32.clone(),
            engines: !custom_build,
            build_plans: self.build_plans,
        };
        let mut text = format!("compile{}", o.to_pass_options().to_text(&[]));
        if custom_build {
            let mut b = BuildEnginesOptions::from_build_settings(&self.build);
            b.require_full_compilation = self.require_full_compilation;
            b.build_plans = self.build_plans;
            b.plan_cache = self.plan_cache.as_ref().map(|p| p.display().to_string());
            let _ = write!(text, ",build-engines{}", b.to_pass_options().to_text(&[]));
        }
        text
    }
}

/// Failures of [`compile`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum CompileError {
    /// The pipeline text did not parse.
    #[error("compile pipeline `{pipeline}`: {message}")]
    Pipeline {
        /// The text.
        pipeline: String,
        /// Why.
        message: String,
    },
    /// A pass of the pipeline failed (or the verifier after it); the message names the pass.
    #[error("{0}")]
    Pass(String),
    /// An op library does not fit the program (schema mismatch) or does not register.
    #[error("{0}")]
    Library(#[from] trtfx_ir::ops::LibraryError),
    /// The pipeline ran, but its result is not a compiled program (no `partition` or no
    /// `outline-segments` step).
    #[error("not a compiled program: {0}")]
    Incomplete(String),
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
    /// Op libraries of the custom operators the program calls (saved in the artifact).
    pub(crate) libraries: OpLibraries,
    /// The op table with `libraries` registered (`None` without libraries).
    pub(crate) ops: Option<Arc<OpRegistry>>,
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

/// Compiles a program: runs [`CompileSettings::pipeline_text`] (the registered `compile`
/// pipeline: preparation, partitioning with the TensorRT converter registry as capability,
/// truncation, boundary casts, outlining, and one recorded network per TensorRT segment with
/// its plan when the TensorRT library is available) with the verifier after every pass, then
/// assembles the result with [`CompiledProgram::from_pipeline`].
///
/// A TensorRT segment whose conversion fails runs on the executor instead (its
/// [`CompiledSegment::note`] says why), unless `require_full_compilation` is set. With
/// [`CompileSettings::truncate_double`], f64 is truncated to f32 inside TensorRT segments only
/// (such a segment that then fails to convert runs its truncated subgraph on the executor).
pub fn compile(
    program: &Program,
    settings: &CompileSettings,
) -> Result<CompiledProgram, CompileError> {
    compile_with_libraries(program, settings, &OpLibraries::new())
}

/// [`compile`] with op libraries: each custom operator's body is its decomposition, so the
/// partitioner puts a call on TensorRT when its whole body converts (the converter inlines the
/// body into the network) and on the executor otherwise (which runs the body). The libraries
/// the program uses are embedded in the result and saved with it, so the artifact runs on its
/// own. A call that does not fit its library's schema is an error.
pub fn compile_with_libraries(
    program: &Program,
    settings: &CompileSettings,
    libraries: &OpLibraries,
) -> Result<CompiledProgram, CompileError> {
    compile_with_progress(program, settings, libraries, None)
}

/// [`compile_with_libraries`] reporting the plan builds to `progress` (one event per TensorRT
/// segment: started, then built / cache hit / skipped; `ir-opt compile` draws a progress bar).
pub fn compile_with_progress(
    program: &Program,
    settings: &CompileSettings,
    libraries: &OpLibraries,
    progress: Option<BuildProgress>,
) -> Result<CompiledProgram, CompileError> {
    libraries.check_program(program)?;
    let text = settings.pipeline_text();
    let (registry, ops) = if libraries.is_empty() {
        (crate::pass_registry(), Arc::new(aten::standard_registry()))
    } else {
        let ops = Arc::new(libraries.registry()?);
        (crate::pass_registry_with_ops(ops.clone()), ops)
    };
    let pipeline = registry
        .parse_pipeline(&text)
        .map_err(|e| CompileError::Pipeline {
            pipeline: text.clone(),
            message: e.to_string(),
        })?;
    let mut pm = PassManager::new(pipeline).with_ops(ops);
    if let Some(progress) = progress {
        pm.products_mut().insert(progress);
    }
    let mut p = program.clone();
    pm.run(&mut p)
        .map_err(|e: RunError| CompileError::Pass(e.to_string()))?;
    let mut c = CompiledProgram::from_pipeline(p, pm.products())?;
    c.add_libraries(libraries)?;
    Ok(c)
}

impl CompiledProgram {
    /// Assembles a compiled program from the result of a `compile` pipeline: the outlined
    /// program and the products of its `partition` ([`PartitionReport`]) and `build-engines`
    /// ([`BuiltEngines`]) steps. Without `build-engines` every segment runs on the executor.
    pub fn from_pipeline(program: Program, products: &Products) -> Result<Self, CompileError> {
        let report = products.get::<PartitionReport>().ok_or_else(|| {
            CompileError::Incomplete("the pipeline has no `partition` step".into())
        })?;
        let g = program.main_graph();
        if g.nodes().any(|n| g.node(n).meta.segment.is_some()) {
            return Err(CompileError::Incomplete(
                "the main graph still has segment tags (no `outline-segments` step)".into(),
            ));
        }
        let engines = products.get::<BuiltEngines>();
        let mut segments = Vec::new();
        for (gid, backend) in outlined_segments(&program, program.main) {
            let sg = &program.graphs[gid];
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
            if backend != FALLBACK {
                match engines.and_then(|e| e.get(&sg.name)).map(|b| &b.result) {
                    Some(Ok(t)) => {
                        out.backend = SegmentBackend::Trt;
                        out.trt = Some(t.clone());
                    }
                    Some(Err(message)) => out.note = Some(format!("conversion failed: {message}")),
                    None => out.note = Some("no engine was built (no `build-engines` step)".into()),
                }
            }
            segments.push(out);
        }
        Ok(CompiledProgram {
            segments,
            unsupported: report
                .unsupported
                .iter()
                .map(|u| UnsupportedNode {
                    node: u.node.clone(),
                    op: u.op.clone(),
                    reason: u.reason.clone(),
                })
                .collect(),
            partition: report.options.clone(),
            program,
            kernels: HashMap::new(),
            libraries: OpLibraries::new(),
            ops: None,
        })
    }

    /// Adds the libraries of `libs` that the program uses (see [`OpLibraries::used_by`]):
    /// the executor runs their bodies and the artifact embeds them. A library whose operators
    /// the program already has (the same definition) is merged; a different definition of the
    /// same operator is an error.
    pub fn add_libraries(&mut self, libs: &OpLibraries) -> Result<(), LibraryError> {
        if libs.is_empty() {
            return Ok(());
        }
        let mut all = self.libraries.clone();
        for l in libs.used_by(&self.program).iter() {
            all.add(l.clone())?;
        }
        all.check_program(&self.program)?;
        self.ops = if all.is_empty() {
            None
        } else {
            Some(Arc::new(all.registry()?))
        };
        self.libraries = all;
        Ok(())
    }

    /// The op libraries the program carries.
    pub fn libraries(&self) -> &OpLibraries {
        &self.libraries
    }

    /// The op table the program runs with: the standard one, extended by its libraries.
    pub fn ops(&self) -> &OpRegistry {
        self.ops.as_deref().unwrap_or(aten::registry())
    }

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
                // Only reduced-precision networks say so (f32 ones read as before).
                let counts = t.network.float_tensor_counts();
                if counts
                    .iter()
                    .any(|(d, _)| d.is_float() && *d != TrtDataType::Float)
                {
                    let parts: Vec<String> = counts
                        .iter()
                        .map(|(d, k)| format!("{k} {}", d.short_name()))
                        .collect();
                    let _ = writeln!(out, "  precision: {} tensors", parts.join(", "));
                }
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
            if plan.stripped {
                // Each refit weight once (a weight can feed several layers).
                let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
                for (i, l) in t.network.layers.iter().enumerate() {
                    for (f, w) in trtfx_backend_trt::refit::weight_fields(&l.op) {
                        if let Some(name) = t.weight_refs.get(&format!("{i}.{f}")) {
                            sizes.insert(name, w.bytes.len());
                        }
                    }
                }
                let _ = write!(
                    s,
                    ", weight-stripped (refitted with {} weights, {} bytes)",
                    sizes.len(),
                    sizes.values().sum::<usize>()
                );
            } else if !t.weight_refs.is_empty() {
                let _ = write!(s, ", with weights");
            }
            if let Some(d) = t.build_time {
                let _ = write!(s, ", built in {:.2} s", d.as_secs_f64());
            }
            if let Some(used) = &t.plan_cache {
                let key = used.key();
                let _ = write!(
                    s,
                    ", plan cache {} ({})",
                    used.describe(),
                    &key[..12.min(key.len())]
                );
            }
            s
        }
        (None, Some(why)) => format!("skipped ({why})"),
        (None, None) => "skipped".into(),
    }
}
