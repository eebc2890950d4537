//! Whole-program inference (`infer-types`) and checking against recorded types (`ir-opt check`).

use super::infer::{self, Autocast, InferContext};
use crate::dtype::DType;
use crate::graph::{Arg, Graph, GraphId, NodeId, Op, ValueId};
use crate::ops::{InferArgs, OpRegistry};
use crate::program::Program;
use crate::types::Type;
use std::fmt;

/// What [`infer_program`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InferReport {
    /// Nodes whose result types were recomputed (calls with inference, weights, sub-graph calls).
    pub inferred: usize,
    /// Nodes that kept their recorded types (no inference registered), now marked
    /// `meta.recorded_types`.
    pub recorded: usize,
    /// Unbacked symbols minted for data-dependent sizes, now declared in the program.
    pub minted: Vec<String>,
}

/// Why inference failed, anchored at a node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InferError {
    /// The op has no inference rule and the node carries no recorded type to keep.
    #[error(
        "graph `{graph}`, node `{node}`: operator `{op}` has no shape inference and no recorded \
         result type; register an inference function for it"
    )]
    NoTypes {
        /// Graph name.
        graph: String,
        /// Node name.
        node: String,
        /// Operator.
        op: String,
    },
    /// The rule rejected the node's arguments.
    #[error("graph `{graph}`, node `{node}`: inference of `{op}` failed: {message}")]
    Failed {
        /// Graph name.
        graph: String,
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// The rule's reason.
        message: String,
    },
}

/// One value whose inferred type differs from the recorded one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// Graph name.
    pub graph: String,
    /// Node name.
    pub node: String,
    /// Operator (or opcode).
    pub op: String,
    /// Value name.
    pub value: String,
    /// The recorded type.
    pub expected: Type,
    /// The inferred type.
    pub got: Type,
}

/// The result of [`check_program`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Values whose inferred type agrees with the recorded one.
    pub agree: usize,
    /// Values checked (results of nodes with inference).
    pub total: usize,
    /// Nodes without inference (their types are taken as recorded, not checked).
    pub recorded: usize,
    /// Values that disagree.
    pub disagreements: Vec<Disagreement>,
    /// Nodes whose inference failed, with the error.
    pub errors: Vec<InferError>,
}

impl CheckReport {
    /// True when every checked value agrees and no inference failed.
    pub fn ok(&self) -> bool {
        self.disagreements.is_empty() && self.errors.is_empty()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}/{} values agree ({} nodes without inference kept their recorded types)",
            self.agree, self.total, self.recorded
        )?;
        for d in &self.disagreements {
            writeln!(
                f,
                "  {}: node `{}` ({}): value `{}`: recorded {}, inferred {}",
                d.graph, d.node, d.op, d.value, d.expected, d.got
            )?;
        }
        for e in &self.errors {
            writeln!(f, "  error: {e}")?;
        }
        Ok(())
    }
}

/// Whether an inferred type agrees with a recorded one: equal, or equal up to what the record
/// cannot say (a recorded `symint` without expression, a concrete `int` recorded for a constant
/// SymInt, a recorded `int`/`float`/`bool` for a SymInt/SymFloat/SymBool).
pub fn types_agree(expected: &Type, got: &Type) -> bool {
    match (expected, got) {
        (a, b) if a == b => true,
        (Type::SymInt(None), Type::SymInt(_)) => true,
        (Type::Int, Type::SymInt(d)) => d.as_ref().is_none_or(|d| d.is_const()),
        (Type::SymInt(Some(d)), Type::Int) => d.is_const(),
        (Type::Float, Type::SymFloat) | (Type::SymFloat, Type::Float) => true,
        (Type::Bool, Type::SymBool) | (Type::SymBool, Type::Bool) => true,
        (Type::List(a), Type::List(b)) => types_agree(a, b),
        _ => false,
    }
}

/// Runs the op's inference on a node with its arguments' current types. `None` when the node is
/// not a call or its op has no inference.
pub fn infer_node(g: &Graph, n: NodeId, reg: &OpRegistry) -> Option<Result<Vec<Type>, String>> {
    infer_node_with(g, n, reg, &|v| {
        g.get_value(v).map(|vd| vd.ty.clone()).unwrap_or(Type::None)
    })
}

/// [`infer_node`] with each operand's type given by `type_of` (a pass asking "what would this
/// node infer if that operand were cast?"). The node's stored result types are its recorded
/// ones, so a data-dependent size keeps its symbol; outside [`infer_program`] / [`check_program`]
/// the inference runs in a fresh context, so the answer depends on the node alone.
pub fn infer_node_with(
    g: &Graph,
    n: NodeId,
    reg: &OpRegistry,
    type_of: &dyn Fn(ValueId) -> Type,
) -> Option<Result<Vec<Type>, String>> {
    let node = g.node(n);
    let Op::Call { target } = &node.op else {
        return None;
    };
    let f = reg.get(target)?.infer.as_ref()?;
    Some(infer::in_some_context(|| {
        infer::set_recorded(node.results.iter().map(|&r| g.ty(r).clone()).collect());
        // Inside an autocast region, ops on the lower-precision list see their arguments cast.
        let autocast = infer::autocast().filter(|a| a.lowers(target));
        let type_of = |v: ValueId| -> Type {
            let t = type_of(v);
            match &autocast {
                Some(a) => a.cast(t),
                None => t,
            }
        };
        let args = InferArgs {
            args: &node.args,
            kwargs: &node.kwargs,
            type_of: &type_of,
        };
        f(&args)
    }))
}

fn weight_type(p: &Program, name: &str) -> Option<Type> {
    let w = p.weights.get(name)?;
    Some(Type::tensor(w.dtype, crate::types::static_shape(&w.shape)))
}

/// Graphs in an order where every graph comes after the graphs it calls (`call_graph` and
/// sub-graph arguments), so callers see their callees' inferred output types.
fn graph_order(p: &Program) -> Vec<GraphId> {
    fn visit(p: &Program, g: GraphId, seen: &mut Vec<bool>, out: &mut Vec<GraphId>) {
        let i = g.as_u32() as usize;
        if seen[i] {
            return;
        }
        seen[i] = true;
        let graph = &p.graphs[g];
        for n in graph.nodes() {
            let nd = graph.node(n);
            if let Op::CallGraph { graph: callee } = nd.op {
                if p.graphs.get(callee).is_some() {
                    visit(p, callee, seen, out);
                }
            }
            for a in nd.args.iter().chain(nd.kwargs.iter().map(|(_, a)| a)) {
                if let Arg::Graph(callee) = a {
                    if p.graphs.get(*callee).is_some() {
                        visit(p, *callee, seen, out);
                    }
                }
            }
        }
        out.push(g);
    }
    let mut seen = vec![false; p.graphs.len()];
    let mut out = Vec::new();
    for g in p.graphs.keys() {
        visit(p, g, &mut seen, &mut out);
    }
    out
}

/// The types a non-call node gets (placeholders of weights, `get_attr`, `call_graph`); `None`
/// keeps the stored types.
fn structural_types(p: &Program, gid: GraphId, n: NodeId, ph_index: usize) -> Option<Vec<Type>> {
    let g = &p.graphs[gid];
    match &g.node(n).op {
        Op::Placeholder if gid == p.main => {
            let kind = p.signature.inputs.get(ph_index)?;
            let w = kind.weight_target()?;
            weight_type(p, w).map(|t| vec![t])
        }
        Op::GetAttr { target } => weight_type(p, target).map(|t| vec![t]),
        Op::CallGraph { graph } => {
            let callee = p.graphs.get(*graph)?;
            let mut tys = Vec::new();
            for a in callee.outputs() {
                match a {
                    Arg::Value(v) => tys.push(callee.ty(*v).clone()),
                    _ => tys.push(Type::None),
                }
            }
            Some(tys)
        }
        _ => None,
    }
}

fn op_name(g: &Graph, n: NodeId) -> String {
    match &g.node(n).op {
        Op::Call { target } => target.clone(),
        other => other.opcode().to_string(),
    }
}

fn context_for(p: &Program) -> InferContext {
    InferContext {
        symbols: p.symbols.clone(),
        device: program_device(p),
        ..InferContext::default()
    }
}

/// The device named by the program's `device=` arguments (factory ops, `_to_copy`), if any; the
/// IR's types carry no device, so this is the only trace of it.
fn program_device(p: &Program) -> Option<String> {
    p.graphs.values().find_map(|g| {
        g.nodes().find_map(|n| {
            let nd = g.node(n);
            nd.args
                .iter()
                .chain(nd.kwargs.iter().map(|(_, a)| a))
                .find_map(|a| match a {
                    Arg::Device(d) if d != "meta" => Some(d.clone()),
                    _ => None,
                })
        })
    })
}

/// The autocast region of a `higher_order.wrap_with_autocast` node: its arguments are
/// `(device_type, dtype, enabled, cache_enabled, body, *operands)`. `Err(())` when the node is
/// not one (its sub-graphs inherit the caller's region); `Ok(None)` for a disabled region.
fn autocast_of(nd: &crate::graph::NodeData) -> Result<Option<Autocast>, ()> {
    if nd.op.target() != Some("higher_order.wrap_with_autocast") {
        return Err(());
    }
    let device_type = match nd.args.first() {
        Some(Arg::Str(s)) | Some(Arg::Device(s)) => s.clone(),
        _ => "cpu".to_string(),
    };
    if matches!(nd.args.get(2), Some(Arg::Bool(false))) {
        return Ok(None);
    }
    let dtype = match nd.args.get(1) {
        Some(Arg::DType(d)) => *d,
        // `torch.get_autocast_dtype` defaults.
        _ if device_type.starts_with("cuda") => DType::F16,
        _ => DType::BF16,
    };
    Ok(Some(Autocast { device_type, dtype }))
}

/// The autocast region every graph runs in: the bodies of `wrap_with_autocast` and, through
/// them, every graph they call (a nested `wrap_with_autocast` overrides). Indexed by graph.
fn autocast_regions(p: &Program) -> Vec<Option<Autocast>> {
    fn visit(
        p: &Program,
        g: GraphId,
        region: Option<Autocast>,
        seen: &mut [bool],
        out: &mut [Option<Autocast>],
    ) {
        let i = g.as_u32() as usize;
        if seen[i] {
            return;
        }
        seen[i] = true;
        out[i] = region.clone();
        let graph = &p.graphs[g];
        for n in graph.nodes() {
            let nd = graph.node(n);
            let inner = autocast_of(nd).unwrap_or_else(|()| region.clone());
            if let Op::CallGraph { graph: callee } = nd.op {
                if p.graphs.get(callee).is_some() {
                    visit(p, callee, inner.clone(), seen, out);
                }
            }
            for a in nd.args.iter().chain(nd.kwargs.iter().map(|(_, a)| a)) {
                if let Arg::Graph(callee) = a {
                    if p.graphs.get(*callee).is_some() {
                        visit(p, *callee, inner.clone(), seen, out);
                    }
                }
            }
        }
    }
    let mut seen = vec![false; p.graphs.len()];
    let mut out = vec![None; p.graphs.len()];
    visit(p, p.main, None, &mut seen, &mut out);
    out
}

/// Recomputes every node's result types from its inputs, graph by graph (callees first), and
/// writes them into the graphs. Parameter/buffer/constant placeholders and `get_attr` nodes take
/// their weight's type; user inputs keep the program's types. Nodes whose op has no inference
/// keep their recorded types and are marked `meta.recorded_types`. Unbacked symbols minted for
/// data-dependent sizes are declared in the program.
pub fn infer_program(p: &mut Program, reg: &OpRegistry) -> Result<InferReport, InferError> {
    let order = graph_order(p);
    let regions = autocast_regions(p);
    let (res, cx) = infer::with_context(context_for(p), || {
        let mut report = InferReport::default();
        for gid in &order {
            infer::set_autocast(regions[gid.as_u32() as usize].clone());
            infer_graph(p, *gid, reg, &mut report)?;
        }
        Ok(report)
    });
    let mut report = res?;
    for s in &cx.minted {
        if let Some(sym) = cx.symbols.get(s) {
            p.symbols.insert(s.clone(), sym.clone());
        }
        report.minted.push(s.to_string());
    }
    Ok(report)
}

fn infer_graph(
    p: &mut Program,
    gid: GraphId,
    reg: &OpRegistry,
    report: &mut InferReport,
) -> Result<(), InferError> {
    let ids = p.graphs[gid].node_ids();
    let mut ph = 0usize;
    for n in ids {
        let is_ph = p.graphs[gid].node(n).op == Op::Placeholder;
        if let Some(tys) = structural_types(p, gid, n, ph) {
            set_types(&mut p.graphs[gid], n, tys);
            report.inferred += 1;
        } else if let Op::Call { .. } = p.graphs[gid].node(n).op {
            let g = &p.graphs[gid];
            let err = |message: String| InferError::Failed {
                graph: g.name.clone(),
                node: g.node(n).name.clone(),
                op: op_name(g, n),
                message,
            };
            match infer_node(g, n, reg) {
                Some(Ok(tys)) => {
                    let have = g.node(n).results.len();
                    if tys.len() != have {
                        return Err(err(format!(
                            "inferred {} results, the node has {have}",
                            tys.len()
                        )));
                    }
                    set_types(&mut p.graphs[gid], n, tys);
                    report.inferred += 1;
                }
                Some(Err(m)) => return Err(err(m)),
                None => {
                    let g = &p.graphs[gid];
                    // A result recorded as `None` is legitimate next to typed ones: the `as_none`
                    // slots of `with_effects` / `auto_functionalized_v2` outputs. A node whose
                    // results are all untyped has nothing to keep.
                    let results = &g.node(n).results;
                    if !results.is_empty() && results.iter().all(|&r| *g.ty(r) == Type::None) {
                        return Err(InferError::NoTypes {
                            graph: g.name.clone(),
                            node: g.node(n).name.clone(),
                            op: op_name(g, n),
                        });
                    }
                    let mut meta = g.node(n).meta.clone();
                    meta.recorded_types = true;
                    p.graphs[gid].set_node_meta(n, meta);
                    report.recorded += 1;
                }
            }
        }
        if is_ph {
            ph += 1;
        }
    }
    Ok(())
}

fn set_types(g: &mut Graph, n: NodeId, tys: Vec<Type>) {
    let results = g.node(n).results.clone();
    for (r, t) in results.into_iter().zip(tys) {
        g.set_ty(r, t);
    }
}

/// Infers every node from the *recorded* types of its inputs and compares with its recorded
/// result types, so each disagreement points at the node that causes it (no cascades). Inference
/// failures are collected, not fatal. The program is not modified.
pub fn check_program(p: &Program, reg: &OpRegistry) -> CheckReport {
    let order = graph_order(p);
    let regions = autocast_regions(p);
    let (report, _) = infer::with_context(context_for(p), || {
        let mut report = CheckReport::default();
        for gid in order {
            infer::set_autocast(regions[gid.as_u32() as usize].clone());
            let g = &p.graphs[gid];
            let mut ph = 0usize;
            for n in g.nodes() {
                let is_ph = g.node(n).op == Op::Placeholder;
                let inferred = match structural_types(p, gid, n, ph) {
                    Some(t) => Some(Ok(t)),
                    None => infer_node(g, n, reg),
                };
                if is_ph {
                    ph += 1;
                }
                let node = g.node(n);
                match inferred {
                    None => {
                        if matches!(node.op, Op::Call { .. }) {
                            report.recorded += 1;
                        }
                    }
                    Some(Err(message)) => {
                        report.total += node.results.len().max(1);
                        report.errors.push(InferError::Failed {
                            graph: g.name.clone(),
                            node: node.name.clone(),
                            op: op_name(g, n),
                            message,
                        });
                    }
                    Some(Ok(tys)) => {
                        if tys.len() != node.results.len() {
                            report.total += node.results.len().max(1);
                            report.errors.push(InferError::Failed {
                                graph: g.name.clone(),
                                node: node.name.clone(),
                                op: op_name(g, n),
                                message: format!(
                                    "inferred {} results, the node has {}",
                                    tys.len(),
                                    node.results.len()
                                ),
                            });
                            continue;
                        }
                        for (&r, got) in node.results.iter().zip(tys) {
                            report.total += 1;
                            let expected = g.ty(r);
                            if types_agree(expected, &got) {
                                report.agree += 1;
                            } else {
                                report.disagreements.push(Disagreement {
                                    graph: g.name.clone(),
                                    node: node.name.clone(),
                                    op: op_name(g, n),
                                    value: g.value(r).name.clone(),
                                    expected: expected.clone(),
                                    got,
                                });
                            }
                        }
                    }
                }
            }
        }
        report
    });
    report
}
