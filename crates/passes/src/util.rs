//! Helpers shared by the pass manager and the passes: name suggestions, op effects (purity),
//! IR text, fingerprints and verification.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use trtfx_ir::{Graph, GraphId, NodeId, Op, OpRegistry, Program};

/// Levenshtein distance between two strings (by chars).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate nearest to `word` by edit distance, if it is close enough to be a plausible
/// typo (at most a third of the word's length, and at least 1 edit allowed).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// What a node may do besides computing its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// No side effects and deterministic: may be removed when unused and merged by CSE.
    Pure,
    /// No side effects but a fresh random result per call: may be removed when unused, never
    /// merged.
    Nondeterministic,
    /// Side effects (mutation, asserts, printing, unknown custom code): never removed or merged.
    Effectful,
}

/// Higher-order ops that are pure when every subgraph they call is pure.
const PURE_IF_BODIES_PURE: &[&str] = &[
    "cond",
    "while_loop",
    "map_impl",
    "invoke_subgraph",
    "scan",
    "associative_scan",
];

/// The effect of calling operator `target`, from the op table's [`trtfx_ir::ops::Effects`]
/// when the operator is registered (random ops are nondeterministic; mutation and other side
/// effects are effectful). An operator the table does not know is classified by its namespace
/// alone: `aten`/`prims` are pure unless in-place (trailing `_`, `__i*__`), `_operator`/`math`
/// (SymInt arithmetic, `getitem`) are pure, and custom ops are effectful because nothing is
/// known about them. Higher-order ops are classified by [`node_effect`], which can see their
/// subgraphs.
pub fn op_effect(target: &str, ops: Option<&OpRegistry>) -> Effect {
    if let Some(def) = ops
        .and_then(|r| r.get(target))
        .or_else(|| trtfx_ir::aten::registry().get(target))
    {
        let e = &def.effects;
        return if !e.mutates.is_empty() || e.side_effect {
            Effect::Effectful
        } else if e.random {
            Effect::Nondeterministic
        } else {
            Effect::Pure
        };
    }
    let mut parts = target.split('.');
    let ns = parts.next().unwrap_or("");
    let name = parts.next().unwrap_or("");
    match ns {
        "aten" | "prims" => {
            let dunder = name.starts_with("__") && name.ends_with("__");
            let inplace_dunder = dunder && name.starts_with("__i");
            if (name.ends_with('_') && !dunder) || inplace_dunder {
                Effect::Effectful
            } else {
                Effect::Pure
            }
        }
        "_operator" | "operator" | "math" | "builtins" => Effect::Pure,
        _ => Effect::Effectful,
    }
}

/// The effect of a node: placeholders and outputs are effectful (they are the interface);
/// `get_attr` is pure; a `call_graph` or pure-bodied higher-order op is pure when everything it
/// calls is pure.
pub fn node_effect(p: &Program, g: &Graph, n: NodeId, ops: Option<&OpRegistry>) -> Effect {
    let mut seen = HashSet::new();
    node_effect_rec(p, g, n, ops, &mut seen)
}

fn node_effect_rec(
    p: &Program,
    g: &Graph,
    n: NodeId,
    ops: Option<&OpRegistry>,
    seen: &mut HashSet<GraphId>,
) -> Effect {
    let node = g.node(n);
    match &node.op {
        Op::Placeholder | Op::Output => Effect::Effectful,
        Op::GetAttr { .. } => Effect::Pure,
        Op::CallGraph { graph } => graph_effect(p, *graph, ops, seen),
        Op::Call { target } => {
            let mut parts = target.split('.');
            if parts.next() == Some("higher_order") {
                let name = parts.next().unwrap_or("");
                if !PURE_IF_BODIES_PURE.contains(&name) {
                    return Effect::Effectful;
                }
                let mut graphs = Vec::new();
                for a in node.args.iter().chain(node.kwargs.iter().map(|(_, a)| a)) {
                    collect_graphs(a, &mut graphs);
                }
                let mut eff = Effect::Pure;
                for sub in graphs {
                    match graph_effect(p, sub, ops, seen) {
                        Effect::Effectful => return Effect::Effectful,
                        Effect::Nondeterministic => eff = Effect::Nondeterministic,
                        Effect::Pure => {}
                    }
                }
                return eff;
            }
            op_effect(target, ops)
        }
    }
}

fn collect_graphs(a: &trtfx_ir::Arg, out: &mut Vec<GraphId>) {
    match a {
        trtfx_ir::Arg::Graph(g) => out.push(*g),
        trtfx_ir::Arg::List(items) => items.iter().for_each(|x| collect_graphs(x, out)),
        trtfx_ir::Arg::Dict(items) => items.iter().for_each(|(_, x)| collect_graphs(x, out)),
        _ => {}
    }
}

fn graph_effect(
    p: &Program,
    id: GraphId,
    ops: Option<&OpRegistry>,
    seen: &mut HashSet<GraphId>,
) -> Effect {
    // A recursive call graph is treated as effectful: we cannot prove it terminates.
    if !seen.insert(id) {
        return Effect::Effectful;
    }
    let Some(g) = p.graphs.get(id) else {
        return Effect::Effectful;
    };
    let mut eff = Effect::Pure;
    for n in g.nodes() {
        if matches!(g.node(n).op, Op::Placeholder | Op::Output) {
            continue;
        }
        match node_effect_rec(p, g, n, ops, seen) {
            Effect::Effectful => {
                seen.remove(&id);
                return Effect::Effectful;
            }
            Effect::Nondeterministic => eff = Effect::Nondeterministic,
            Effect::Pure => {}
        }
    }
    seen.remove(&id);
    eff
}

/// The program as `.fxir` text.
pub fn print_ir(p: &Program) -> String {
    trtfx_ir::text::print_program(p)
}

/// A cheap fingerprint of the program: a hash of its printed text, so it ignores arena ids
/// and tombstones (the printer renames positionally) but sees every structural change.
pub fn fingerprint(p: &Program) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    print_ir(p).hash(&mut h);
    h.finish()
}

/// What the pass manager compares around a pass to catch a change the pass did not report,
/// in time independent of the graph sizes: every graph's mutation epoch
/// ([`Graph::epoch`]) and a hash of the program-level parts (graph names, signature,
/// symbols, input specs, meta, and each weight's name, dtype, shape and byte size).
///
/// Unlike [`fingerprint`], a pass that mutates and then restores the IR counts as a change;
/// the manager's `expensive_checks` option compares fingerprints instead. Neither reads
/// weight bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeStamp {
    epochs: Vec<(GraphId, u64)>,
    program: u64,
}

impl ChangeStamp {
    /// The stamp of `p` now.
    pub fn of(p: &Program) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (_, g) in p.graphs.iter() {
            g.name.hash(&mut h);
        }
        p.main.hash(&mut h);
        // These are small next to the graphs; their Debug text is a complete rendering.
        format!(
            "{:?}{:?}{:?}{:?}",
            p.signature, p.symbols, p.input_specs, p.meta
        )
        .hash(&mut h);
        for (name, w) in &p.weights {
            (name, w.dtype.to_string(), &w.shape, w.nbytes()).hash(&mut h);
        }
        ChangeStamp {
            epochs: p.graphs.iter().map(|(id, g)| (id, g.epoch())).collect(),
            program: h.finish(),
        }
    }
}

/// Verifies the program with the IR verifier (schemas from `ops`); with `types`, also re-runs
/// inference and compares with the stored types. The error is the rendered diagnostics.
pub fn verify(p: &Program, ops: &OpRegistry, types: bool) -> Result<(), String> {
    let r = if types {
        trtfx_ir::verify::verify_types_with(p, ops)
    } else {
        trtfx_ir::verify::verify_program(p, Some(ops))
    };
    r.map_err(|d| trtfx_ir::verify::render(&d))
}

/// Removes nodes of `g` that are unused and removable (pure or nondeterministic), repeatedly,
/// starting from `candidates`. Returns the number of removed nodes. Used by passes that orphan
/// nodes so that each leaves no garbage behind (and stays idempotent).
pub fn remove_dead(
    p: &mut Program,
    gid: GraphId,
    candidates: Vec<NodeId>,
    ops: Option<&OpRegistry>,
) -> usize {
    let mut work = candidates;
    let mut removed = 0;
    while let Some(n) = work.pop() {
        let g = &p.graphs[gid];
        if g.get_node(n).is_none() {
            continue;
        }
        let node = g.node(n);
        if node.results.iter().any(|&r| !g.value(r).uses().is_empty()) {
            continue;
        }
        if node_effect(p, g, n, ops) == Effect::Effectful {
            continue;
        }
        let inputs: Vec<NodeId> = node.inputs().iter().map(|&v| g.value(v).def).collect();
        if p.graphs[gid].remove_node(n).is_ok() {
            removed += 1;
            work.extend(inputs);
        }
    }
    removed
}
