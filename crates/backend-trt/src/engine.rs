//! Whole graphs to TensorRT networks and plans.
//!
//! - [`convert_graph`] converts one graph of a program (a TensorRT segment outlined by the
//!   partitioner, or the main graph) into a [`RecordedNetwork`]: placeholders become network
//!   inputs, except those bound to weights, which become constants; dynamic dims become `-1`
//!   with an optimization profile from the program's input specs and symbol ranges.
//! - [`convert_to_engine`] is whole-program mode: it validates *every* node of the main graph
//!   first and fails with the complete list of unsupported nodes (nothing partial is built),
//!   then converts and, with the `tensorrt` feature and the library present, builds a plan.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use trtfx_ir::{
    Arg, DimSpec, Graph, GraphId, InputKind, InputSpec, NodeId, Op, OutputKind, Program, SymKind,
    SymName, Type, ValueId,
};

use crate::convert::{
    trt_dtype, ConvertCtx, ConvertError, ConverterRegistry, Expansion, Prepared, Slot,
};
use crate::network::{NetworkBuilder, TensorId, Weights};
use crate::plan_cache::{CacheUse, PlanCache};
use crate::refit::WeightRefs;
use crate::settings::{BuildSettings, OptimizationProfile, SerializedEngine};
use crate::RecordedNetwork;

/// One node that cannot be converted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedNode {
    /// FX node name.
    pub node: String,
    /// Operator (or opcode for non-call nodes).
    pub op: String,
    /// The validator's reason.
    pub reason: String,
}

impl fmt::Display for UnsupportedNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.node, self.op, self.reason)
    }
}

/// Whether a plan was built.
#[derive(Debug, Clone)]
pub enum PlanOutcome {
    /// Built by TensorRT.
    Built {
        /// The serialized engine.
        plan: SerializedEngine,
        /// Wall time of `buildSerializedNetwork` (replay included).
        build_time: Duration,
    },
    /// No TensorRT available (feature off or library not found); the network was still
    /// converted and validated.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// A whole-program engine: the recorded network, its plan (if built) and its I/O names.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The network as recorded (printable, replayable, emulatable).
    pub network: RecordedNetwork,
    /// The plan, or why it was not built.
    pub plan: PlanOutcome,
    /// Network input names, in the program's user-input order.
    pub input_names: Vec<String>,
    /// Network output names, in the program's output order.
    pub output_names: Vec<String>,
}

impl Engine {
    /// The plan, when one was built.
    pub fn plan(&self) -> Option<&SerializedEngine> {
        match &self.plan {
            PlanOutcome::Built { plan, .. } => Some(plan),
            PlanOutcome::Skipped { .. } => None,
        }
    }
}

/// Failures of [`convert_to_engine`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// Some nodes cannot be converted (every one is listed).
    #[error("{} node(s) cannot be converted to TensorRT:\n{}", .0.len(), .0.iter().map(|n| format!("  {n}")).collect::<Vec<_>>().join("\n"))]
    Unsupported(Vec<UnsupportedNode>),
    /// Validation passed but conversion failed.
    #[error("conversion failed: {0}")]
    Convert(#[from] ConvertError),
    /// TensorRT failed to build the plan.
    #[error("TensorRT build failed: {0}")]
    Build(String),
}

/// How a placeholder of the converted graph is bound.
enum Binding {
    Input(String),
    Weight(String),
    Literal(Arg),
    Unsupported(String),
}

/// Bindings of the graph's placeholders (see the module docs).
fn bindings(program: &Program, gid: GraphId) -> Vec<(NodeId, Binding)> {
    let g = &program.graphs[gid];
    let phs = g.placeholders();
    if gid == program.main {
        return phs
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let b = match program.signature.inputs.get(i) {
                    Some(InputKind::User { name }) => Binding::Input(name.clone()),
                    Some(k) if k.weight_target().is_some() => {
                        Binding::Weight(k.weight_target().unwrap_or_default().to_string())
                    }
                    Some(InputKind::ConstantInput { value, .. }) => Binding::Literal(value.clone()),
                    Some(k) => Binding::Unsupported(format!("input kind {k:?}")),
                    None => Binding::Input(g.value(g.node(n).results[0]).name.clone()),
                };
                (n, b)
            })
            .collect();
    }
    // A subgraph: a placeholder is a weight when every caller passes a weight there.
    let main = program.main_graph();
    let main_weight = |v: ValueId| -> Option<String> {
        let def = main.value(v).def;
        match &main.node(def).op {
            Op::GetAttr { target } => Some(target.clone()),
            Op::Placeholder => {
                let i = main.placeholders().iter().position(|&p| p == def)?;
                program
                    .signature
                    .inputs
                    .get(i)?
                    .weight_target()
                    .map(String::from)
            }
            _ => None,
        }
    };
    let callers: Vec<NodeId> = main
        .nodes()
        .filter(|&n| main.node(n).op == Op::CallGraph { graph: gid })
        .collect();
    phs.iter()
        .enumerate()
        .map(|(i, &n)| {
            let weights: Vec<Option<String>> = callers
                .iter()
                .map(|&c| {
                    main.node(c)
                        .args
                        .get(i)
                        .and_then(Arg::as_value)
                        .and_then(main_weight)
                })
                .collect();
            let b = match weights.first() {
                Some(Some(w)) if weights.iter().all(|x| x.as_deref() == Some(w)) => {
                    Binding::Weight(w.clone())
                }
                _ => Binding::Input(g.value(g.node(n).results[0]).name.clone()),
            };
            (n, b)
        })
        .collect()
}

/// (min, opt, max) of every symbol: user input specs first, then the symbol table.
fn sym_ranges(program: &Program) -> HashMap<SymName, (i64, i64, i64)> {
    let mut m = HashMap::new();
    for spec in &program.input_specs {
        if let InputSpec::Tensor { dims, .. } = spec {
            for d in dims {
                if let DimSpec::Dynamic {
                    sym: Some(s),
                    min,
                    opt,
                    max,
                } = d
                {
                    m.entry(s.clone()).or_insert((*min, *opt, *max));
                }
            }
        }
    }
    for (name, s) in &program.symbols {
        if let (Some(max), false) = (s.max, m.contains_key(name)) {
            let min = s.min.unwrap_or(1).max(0);
            let opt = s.hint.unwrap_or(min).clamp(min, max);
            m.insert(name.clone(), (min, opt, max));
        }
    }
    m
}

/// Every node of `gid` that the registry cannot convert, with reasons.
pub fn unsupported_nodes(
    program: &Program,
    gid: GraphId,
    registry: &ConverterRegistry,
) -> Vec<UnsupportedNode> {
    let g = &program.graphs[gid];
    let mut out = vec![];
    let binds: HashMap<NodeId, Binding> = bindings(program, gid).into_iter().collect();
    for n in g.nodes() {
        let data = g.node(n);
        let reason = match &data.op {
            Op::Placeholder => match binds.get(&n) {
                Some(Binding::Unsupported(r)) => Some(r.clone()),
                Some(Binding::Input(_)) => {
                    let ty = g.ty(data.results[0]);
                    match ty {
                        Type::Tensor(t) => trt_dtype(t.dtype).err(),
                        Type::SymInt(Some(_)) => None,
                        t => Some(format!("input of type {t}")),
                    }
                }
                _ => None,
            },
            Op::GetAttr { .. } => None,
            Op::Output => {
                let mut r = None;
                if gid == program.main {
                    for k in &program.signature.outputs {
                        if *k != OutputKind::User {
                            r = Some(format!("output kind {k:?} (mutations are not converted)"));
                        }
                    }
                }
                for a in &data.args {
                    match a.as_value().map(|v| g.ty(v)) {
                        Some(Type::Tensor(t)) => {
                            if let Err(e) = trt_dtype(t.dtype) {
                                r = Some(e);
                            }
                        }
                        _ => r = Some(format!("output {a} is not a tensor")),
                    }
                }
                r
            }
            Op::Call { .. } | Op::CallGraph { .. } => registry.check_in(program, g, n).err(),
        };
        if let Some(reason) = reason {
            out.push(UnsupportedNode {
                node: data.name.clone(),
                op: data
                    .op
                    .target()
                    .map(String::from)
                    .unwrap_or_else(|| data.op.opcode().to_string()),
                reason,
            });
        }
    }
    out
}

/// A weight as a constant layer.
fn weight_constant(
    ctx: &mut ConvertCtx<'_>,
    program: &Program,
    name: &str,
) -> Result<TensorId, ConvertError> {
    let w = program
        .weights
        .get(name)
        .ok_or_else(|| ConvertError::Other(format!("no weight named {name:?}")))?;
    let dt = trt_dtype(w.dtype).map_err(|e| format!("weight {name:?}: {e}"))?;
    let bytes = w.bytes().map_err(|e| format!("weight {name:?}: {e}"))?;
    let weights = Weights::from_bytes(dt, bytes)?;
    ctx.weight_sources.note(&weights.bytes, name);
    ctx.constant(&w.shape, weights)
}

/// Checks a converter's output against the IR type (catches converter bugs early).
fn check_type(ctx: &ConvertCtx<'_>, t: TensorId, ty: &Type) -> Result<(), String> {
    let Type::Tensor(tt) = ty else {
        return Err(format!("a tensor was produced for a {ty} result"));
    };
    let d = ctx.desc(t).map_err(|e| e.to_string())?;
    let want = trt_dtype(tt.dtype)?;
    let dims_ok = d.rank() == tt.rank()
        && d.dims
            .iter()
            .zip(&tt.shape)
            .all(|(&a, b)| a < 0 || b.as_const().is_none_or(|c| c == a));
    if d.dtype != want || !dims_ok {
        return Err(format!("converter produced {d}, the IR type is {tt}"));
    }
    Ok(())
}

/// Checks and converts call node `n` of `g` (a graph of `program`), binding its results.
/// `depth` counts the decompositions the node is inside (see [`convert_expansion`]).
fn convert_call(
    ctx: &mut ConvertCtx<'_>,
    program: &Program,
    registry: &ConverterRegistry,
    g: &Graph,
    n: NodeId,
    depth: usize,
) -> Result<(), ConvertError> {
    let data = g.node(n);
    let target = data.op.target().unwrap_or(data.op.opcode());
    let unsupported = |reason: String| ConvertError::Unsupported {
        node: data.name.clone(),
        op: target.to_string(),
        reason,
    };
    let node_err = |e: ConvertError| ConvertError::Node {
        node: data.name.clone(),
        op: target.to_string(),
        message: e.to_string(),
    };
    let slots = match registry
        .prepare(Some(program), g, n, depth)
        .map_err(unsupported)?
    {
        Prepared::Direct { conv, args } => (conv.convert)(ctx, &args).map_err(node_err)?,
        Prepared::Decomposed(exp) => convert_expansion(ctx, program, registry, &exp, depth)?,
    };
    if slots.len() != data.results.len() {
        return Err(node_err(ConvertError::Other(format!(
            "converter returned {} values for {} results",
            slots.len(),
            data.results.len()
        ))));
    }
    let backed = |s: &SymName| {
        program
            .symbols
            .get(s)
            .is_some_and(|sym| matches!(sym.kind, SymKind::Size | SymKind::Int))
    };
    for (v, s) in data.results.iter().zip(slots) {
        if let Slot::Tensor(t) = s {
            check_type(ctx, t, g.ty(*v)).map_err(|e| node_err(ConvertError::Other(e)))?;
            if let Type::Tensor(tt) = g.ty(*v) {
                ctx.add_result_sym_sources(t, tt, &backed);
            }
        }
        ctx.set(*v, s);
    }
    Ok(())
}

/// Converts the calls of a node's expansion inline (its scratch placeholders bound to what the
/// node's inputs became) and returns the slots of the node's results.
fn convert_expansion(
    ctx: &mut ConvertCtx<'_>,
    program: &Program,
    registry: &ConverterRegistry,
    exp: &Expansion,
    depth: usize,
) -> Result<Vec<Slot>, ConvertError> {
    let inputs: Vec<(ValueId, Slot)> = exp
        .inputs
        .iter()
        .map(|(outer, inner)| Ok((*inner, ctx.slot(*outer)?.clone())))
        .collect::<Result<_, ConvertError>>()?;
    // Scratch value ids are those of another graph: the expansion gets its own value scope.
    ctx.with_value_scope(|ctx| {
        for (v, s) in inputs {
            ctx.set(v, s);
        }
        for n in exp.calls() {
            convert_call(ctx, program, registry, &exp.graph, n, depth + 1)?;
        }
        exp.outs.iter().map(|a| ctx.arg_slot(a)).collect()
    })
}

/// Converts subgraph `gid` of `program` inline into the network of `ctx`: its placeholders
/// are bound to `inputs` (in order), its nodes are checked and converted with `registry`,
/// and the slots of its outputs are returned. The caller's value bindings are untouched
/// (the subgraph gets its own value scope). This is how a `higher_order.cond` branch
/// becomes layers of the network that holds the `cond` node.
pub fn convert_subgraph(
    ctx: &mut ConvertCtx<'_>,
    program: &Program,
    registry: &ConverterRegistry,
    gid: GraphId,
    inputs: &[Slot],
) -> Result<Vec<Slot>, ConvertError> {
    let g = program
        .graphs
        .get(gid)
        .ok_or_else(|| ConvertError::Other(format!("no graph {gid}")))?;
    let phs = g.placeholders();
    if phs.len() != inputs.len() {
        return Err(format!(
            "graph @{}: {} placeholders, {} operands",
            g.name,
            phs.len(),
            inputs.len()
        )
        .into());
    }
    ctx.with_value_scope(|ctx| {
        for (&n, s) in phs.iter().zip(inputs) {
            ctx.set(g.node(n).results[0], s.clone());
        }
        for n in g.nodes() {
            let data = g.node(n);
            match &data.op {
                Op::Placeholder | Op::Output => {}
                Op::GetAttr { target } => {
                    let t = weight_constant(ctx, program, target)?;
                    ctx.set(data.results[0], Slot::Tensor(t));
                }
                Op::Call { .. } => convert_call(ctx, program, registry, g, n, 0)?,
                Op::CallGraph { .. } => {
                    return Err(ConvertError::Unsupported {
                        node: data.name.clone(),
                        op: data.op.opcode().to_string(),
                        reason: "call_graph: nested graphs are not converted".into(),
                    })
                }
            }
        }
        g.outputs().iter().map(|a| ctx.arg_slot(a)).collect()
    })
}

/// Converts graph `gid` into `net`; returns the input and output names.
pub fn convert_graph_into(
    program: &Program,
    gid: GraphId,
    registry: &ConverterRegistry,
    net: &mut dyn NetworkBuilder,
) -> Result<(Vec<String>, Vec<String>), ConvertError> {
    convert_graph_with_sources(program, gid, registry, net).map(|(i, o, _)| (i, o))
}

/// [`convert_graph_into`], also returning the payloads made from program weights (what
/// [`crate::refit::weight_refs`] turns into the network's weight refs).
pub fn convert_graph_with_sources(
    program: &Program,
    gid: GraphId,
    registry: &ConverterRegistry,
    net: &mut dyn NetworkBuilder,
) -> Result<(Vec<String>, Vec<String>, crate::refit::WeightSources), ConvertError> {
    let g: &Graph = &program.graphs[gid];
    let binds: HashMap<NodeId, Binding> = bindings(program, gid).into_iter().collect();
    let ranges = sym_ranges(program);
    let mut ctx = ConvertCtx::new(net);
    let mut inputs = vec![];
    let mut profile = OptimizationProfile::new();
    let mut need_profile = false;
    let mut input_tensors = vec![];
    for n in g.nodes() {
        let data = g.node(n);
        let unsupported = |reason: String| ConvertError::Unsupported {
            node: data.name.clone(),
            op: data.op.target().unwrap_or(data.op.opcode()).to_string(),
            reason,
        };
        match &data.op {
            Op::Placeholder => {
                let v = data.results[0];
                match binds.get(&n) {
                    Some(Binding::Weight(w)) => {
                        let t = weight_constant(&mut ctx, program, w)?;
                        ctx.set(v, Slot::Tensor(t));
                    }
                    Some(Binding::Literal(a)) => {
                        let s = ctx.arg_slot(a)?;
                        ctx.set(v, s);
                    }
                    Some(Binding::Input(name)) => match g.ty(v) {
                        Type::Tensor(tt) => {
                            let dt = trt_dtype(tt.dtype).map_err(unsupported)?;
                            let dims = ConvertCtx::trt_dims(tt);
                            let t = ctx.net.add_input(name, dt, &dims)?;
                            ctx.add_sym_sources(t, tt);
                            if dims.iter().any(|&d| d < 0) {
                                need_profile = true;
                                let mut mm = [vec![], vec![], vec![]];
                                for d in &tt.shape {
                                    for (k, m) in mm.iter_mut().enumerate() {
                                        let x = d.eval(&|s: &str| {
                                            ranges.get(s).map(|r| [r.0, r.1, r.2][k])
                                        });
                                        m.push(x.ok_or_else(|| {
                                            format!(
                                                "input {name:?}: no min/opt/max for dim {d} \
                                                 (give the input spec a range)"
                                            )
                                        })?);
                                    }
                                }
                                let [lo, mut mid, hi] = mm;
                                for i in 0..mid.len() {
                                    mid[i] = mid[i].clamp(lo[i], hi[i]);
                                }
                                profile.set_dimensions(name, &lo, &mid, &hi);
                            }
                            inputs.push(name.clone());
                            input_tensors.push(t);
                            ctx.set(v, Slot::Tensor(t));
                        }
                        Type::SymInt(Some(d)) => ctx.set(v, Slot::Sym(d.clone())),
                        t => return Err(unsupported(format!("input of type {t}"))),
                    },
                    Some(Binding::Unsupported(r)) => return Err(unsupported(r.clone())),
                    None => return Err(unsupported("unbound placeholder".into())),
                }
            }
            Op::GetAttr { target } => {
                let t = weight_constant(&mut ctx, program, target)?;
                ctx.set(data.results[0], Slot::Tensor(t));
            }
            Op::Call { .. } => convert_call(&mut ctx, program, registry, g, n, 0)?,
            Op::CallGraph { .. } => {
                return Err(unsupported(
                    "call_graph: nested graphs are not converted".into(),
                ))
            }
            Op::Output => {}
        }
    }
    let mut outputs = vec![];
    let mut marked: Vec<TensorId> = vec![];
    for (i, a) in g.outputs().iter().enumerate() {
        let s = ctx.arg_slot(a)?;
        let Slot::Tensor(mut t) = s else {
            return Err(format!("output {i} is {s:?}, not a tensor").into());
        };
        // TensorRT cannot mark an input, or one tensor twice, as an output: copy it.
        if input_tensors.contains(&t) || marked.contains(&t) {
            t = ctx.net.add_identity(t)?;
        }
        let name = format!("output_{i}");
        ctx.net.mark_output(t, &name)?;
        marked.push(t);
        outputs.push(name);
    }
    if need_profile {
        ctx.net.add_optimization_profile(&profile)?;
    }
    Ok((inputs, outputs, ctx.weight_sources))
}

/// Converts graph `gid` of `program` (a segment subgraph or the main graph) into a recorded
/// network. Unsupported nodes fail with [`ConvertError::Unsupported`].
pub fn convert_graph(
    program: &Program,
    gid: GraphId,
    registry: &ConverterRegistry,
) -> Result<RecordedNetwork, ConvertError> {
    let mut net = RecordedNetwork::new();
    convert_graph_into(program, gid, registry, &mut net)?;
    Ok(net)
}

/// Builds the plan of a recorded network when TensorRT is available.
pub fn build_plan(
    network: &RecordedNetwork,
    settings: &BuildSettings,
) -> Result<PlanOutcome, EngineError> {
    build_plan_cached(network, settings, None).map(|(outcome, _)| outcome)
}

/// [`build_plan`] through a plan cache: with `cache`, an intact entry for the same network,
/// settings and library is used instead of building, and a built plan is stored. The
/// [`CacheUse`] says which happened (`None` without a cache or when no build was possible).
pub fn build_plan_cached(
    network: &RecordedNetwork,
    settings: &BuildSettings,
    cache: Option<&PlanCache>,
) -> Result<(PlanOutcome, Option<CacheUse>), EngineError> {
    build_plan_refittable(network, settings, cache, &WeightRefs::new())
}

/// [`build_plan_cached`] for a network whose weight fields `refs` are program weights: with
/// [`BuildSettings::strip_weights`] they are named after the program weights, marked
/// refittable and stripped from the plan ([`SerializedEngine::stripped`]); the cache key then
/// covers their names instead of their bytes ([`PlanCache::key_with_refs`]).
pub fn build_plan_refittable(
    network: &RecordedNetwork,
    settings: &BuildSettings,
    cache: Option<&PlanCache>,
    refs: &WeightRefs,
) -> Result<(PlanOutcome, Option<CacheUse>), EngineError> {
    #[cfg(feature = "tensorrt")]
    {
        use crate::tensorrt::{TrtError, TrtLibrary};
        let start = Instant::now();
        // A cache hit needs the library's version for its key, not the library: the cache's
        // stamp of the library file gives it, so a fully cached compile never loads TensorRT.
        let known = cache.and_then(|c| {
            let version = c.known_library_version(&TrtLibrary::locate()?)?;
            let key = PlanCache::key_with_refs(network, settings, &version, refs);
            Some((c, version, key))
        });
        if let Some((_, version, key)) = &known {
            if let Some(plan) = known.as_ref().and_then(|(c, ..)| c.lookup(key, version)) {
                return Ok((
                    PlanOutcome::Built {
                        plan,
                        build_time: start.elapsed(),
                    },
                    Some(CacheUse::Hit { key: key.clone() }),
                ));
            }
        }
        match TrtLibrary::load() {
            Ok(lib) => {
                let build = || {
                    crate::tensorrt::build_plan_with_refs(lib, network, settings, refs)
                        .map_err(|e| EngineError::Build(e.to_string()))
                };
                let (plan, used) = match cache {
                    Some(c) => {
                        let version = lib.version().to_string();
                        // Best effort: without the stamp the next compile loads the library.
                        let _ = c.remember_library_version(lib.path(), &version);
                        let key = match known {
                            Some((_, v, key)) if v == version => key,
                            _ => PlanCache::key_with_refs(network, settings, &version, refs),
                        };
                        let (plan, used) = c.get_or_build_keyed(key, &version, build)?;
                        (plan, Some(used))
                    }
                    None => (build()?, None),
                };
                Ok((
                    PlanOutcome::Built {
                        plan,
                        build_time: start.elapsed(),
                    },
                    used,
                ))
            }
            Err(e @ TrtError::NotFound { .. }) => Ok((
                PlanOutcome::Skipped {
                    reason: e.to_string(),
                },
                None,
            )),
            Err(e) => Err(EngineError::Build(e.to_string())),
        }
    }
    #[cfg(not(feature = "tensorrt"))]
    {
        let _ = (network, settings, cache, refs, Instant::now());
        Ok((
            PlanOutcome::Skipped {
                reason: "trtfx-backend-trt was built without the `tensorrt` feature".into(),
            },
            None,
        ))
    }
}

/// `program` with its in-place calls rewritten out of place ([`trtfx_ir::functionalize`]) when
/// it has any, else `program` itself: a TensorRT network is a function of its inputs, so a
/// write through a view (the export dialect keeps them) must be carried back to the tensor it
/// views before converting.
pub fn functional_program<'p>(
    program: &'p Program,
    registry: &ConverterRegistry,
) -> std::borrow::Cow<'p, Program> {
    match trtfx_ir::functionalize::functionalize_program(program, registry.op_table()) {
        Some(p) => std::borrow::Cow::Owned(p),
        None => std::borrow::Cow::Borrowed(program),
    }
}

/// Whole-program mode: every node of the main graph must convert (else the full list of
/// unsupported nodes is returned and nothing is built); the plan is built when TensorRT is
/// available ([`PlanOutcome`] says whether it was).
pub fn convert_to_engine(
    program: &Program,
    registry: &ConverterRegistry,
    settings: &BuildSettings,
) -> Result<Engine, EngineError> {
    let program = &*functional_program(program, registry);
    let bad = unsupported_nodes(program, program.main, registry);
    if !bad.is_empty() {
        return Err(EngineError::Unsupported(bad));
    }
    let mut network = RecordedNetwork::new();
    let (input_names, output_names) =
        convert_graph_into(program, program.main, registry, &mut network)?;
    let plan = build_plan(&network, settings)?;
    Ok(Engine {
        network,
        plan,
        input_names,
        output_names,
    })
}
