//! The `rewrite` pass: graph → e-graph → equality saturation with limits → extraction →
//! graph, per graph in scope.
//!
//! Translation: every pure, single-result (or multi-result with exactly one result used),
//! tensor-typed call whose operator has shape inference, and whose inferred type equals its
//! stored type, becomes an e-node. Everything else is a *barrier*: its results are opaque
//! leaves (placeholders, weights, side-effecting or random ops from the op table's effects,
//! higher-order ops, calls of subgraphs, operators without inference, multi-result nodes with
//! several used results, non-tensor values), and its operands are *roots* that extraction
//! must produce.
//!
//! Back: barriers stay where they are; before each barrier the best term of each root is
//! materialized (memoized per class). A term node that is an original node with the same
//! operands is reused in place (so unchanged parts keep their names); others are inserted.
//! Original nodes left unused are removed. The result must have a lower [`graph_cost`] than
//! the input, or the graph is left untouched; then the program is re-typed with the op table's
//! inference and verified.

use crate::cost::{graph_cost, EggCost};
use crate::egraph::{slot, Key, Leaf, TNode, TypeAnalysis, EG};
use crate::rules::{families, to_rewrites, Rule};
use egg::{Extractor, Id, Runner, StopReason};
use rustc_hash::{FxHashMap, FxHashSet};
use std::time::{Duration, Instant};
use trtfx_ir::{Arg, Graph, GraphId, InputKind, NodeBuilder, NodeId, Op, Program, Type, ValueId};
use trtfx_passes::pass::Ops;
use trtfx_passes::util::{node_effect, Effect};
use trtfx_passes::{Pass, PassCx, PassError, PassOptions, PassOutcome};

/// The pass name.
pub const NAME: &str = "rewrite";

trtfx_passes::declare_options! {
    /// Options of `rewrite`.
    pub struct RewriteOptions {
        /// Most saturation iterations (a deterministic limit).
        iter: usize = "iter", 16;
        /// Most e-nodes in the e-graph (a deterministic limit).
        nodes: usize = "nodes", 200_000;
        /// Wall-clock limit of saturation in milliseconds (a safety net; not deterministic).
        time_ms: u64 = "time-ms", 5_000;
        /// Rule families to run (`algebra`, `layout`, `cast`, `linear`, `conv-bn`, `concat-slice`, `hoist`), or `all`.
        rules: Vec<String> = "rules", vec!["all".to_string()];
    }
}

/// The equality-saturation rewrite pass.
pub struct Rewrite {
    /// Its options.
    pub options: RewriteOptions,
    rules: Vec<Rule>,
}

impl Rewrite {
    /// The pass with these options; unknown family names are an error.
    pub fn new(options: RewriteOptions) -> Result<Self, String> {
        let fams = families();
        let mut rules = Vec::new();
        for name in &options.rules {
            if name == "all" {
                fams.iter().for_each(|f| rules.extend_from_slice(f.rules));
                continue;
            }
            match fams.iter().find(|f| f.name == name) {
                Some(f) => rules.extend_from_slice(f.rules),
                None => {
                    let known: Vec<&str> = fams.iter().map(|f| f.name).collect();
                    return Err(format!(
                        "unknown rule family `{name}` for option `rules` of pass `rewrite`; families are all, {}",
                        known.join(", ")
                    ));
                }
            }
        }
        let mut seen = FxHashSet::default();
        rules.retain(|r| seen.insert(r.name));
        Ok(Rewrite { options, rules })
    }
}

impl Pass for Rewrite {
    fn name(&self) -> &str {
        NAME
    }

    fn options(&self) -> PassOptions {
        use trtfx_passes::OptionSet;
        self.options.to_pass_options()
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let ops = cx.ops_handle();
        let mut changed = false;
        for gid in cx.graphs(p) {
            let r = rewrite_graph(p, gid, &ops, &self.options, &self.rules)?;
            for (k, v) in &r.stats {
                cx.stat(k, *v);
            }
            changed |= r.changed;
        }
        if changed {
            // Re-type with the op table (the rewritten nodes were typed by the e-graph
            // analysis; this also refreshes anything downstream) and verify.
            trtfx_ir::aten::infer_program(p, &ops).map_err(|e| PassError::new(e.to_string()))?;
            trtfx_passes::util::verify(p, &ops, true).map_err(|e| {
                PassError::new(format!("rewrite produced an invalid program:\n{e}"))
            })?;
        }
        Ok(PassOutcome::from_changed(changed))
    }
}

/// What rewriting one graph did.
#[derive(Debug, Default)]
pub struct GraphReport {
    /// The graph was replaced.
    pub changed: bool,
    /// Counters for `--statistics`.
    pub stats: Vec<(&'static str, u64)>,
}

fn is_weight_placeholder(p: &Program, gid: GraphId, index: usize) -> bool {
    gid == p.main
        && matches!(
            p.signature.inputs.get(index),
            Some(
                InputKind::Parameter { .. } | InputKind::Buffer { .. } | InputKind::Constant { .. }
            )
        )
}

/// Whether node `n` can be an e-node: which result it stands for, if so.
fn translatable(p: &Program, g: &Graph, n: NodeId, ops: &Ops) -> Option<Option<(u32, u32)>> {
    let d = g.node(n);
    let Op::Call { target } = &d.op else {
        return None;
    };
    if target.starts_with("higher_order.") || ops.get(target)?.infer.is_none() {
        return None;
    }
    if node_effect(p, g, n, Some(&**ops)) != Effect::Pure {
        return None;
    }
    let mut has_graph = false;
    for a in d.args.iter().chain(d.kwargs.iter().map(|(_, a)| a)) {
        has_graph |= contains_graph(a);
    }
    if has_graph || d.results.iter().any(|&r| g.ty(r).as_tensor().is_none()) {
        return None;
    }
    match d.results.len() {
        1 => Some(None),
        0 => None,
        k => {
            let used: Vec<usize> = (0..k)
                .filter(|&i| !g.value(d.results[i]).uses().is_empty())
                .collect();
            (used.len() == 1).then(|| Some((used[0] as u32, k as u32)))
        }
    }
}

fn contains_graph(a: &Arg) -> bool {
    match a {
        Arg::Graph(_) => true,
        Arg::List(items) => items.iter().any(contains_graph),
        Arg::Dict(items) => items.iter().any(|(_, a)| contains_graph(a)),
        _ => false,
    }
}

/// Args with every value replaced by the next slot; the values in slot order.
fn slotted(args: &[Arg], kwargs: &[(String, Arg)]) -> (Vec<Arg>, Vec<(String, Arg)>, Vec<ValueId>) {
    let mut vals = Vec::new();
    let mut f = |v: ValueId| {
        vals.push(v);
        slot(vals.len() - 1)
    };
    let args = args
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.map_values(&mut f);
            a
        })
        .collect();
    let kwargs = kwargs
        .iter()
        .map(|(k, a)| {
            let mut a = a.clone();
            a.map_values(&mut f);
            (k.clone(), a)
        })
        .collect();
    (args, kwargs, vals)
}

fn unslotted(
    args: &[Arg],
    kwargs: &[(String, Arg)],
    vals: &[ValueId],
) -> (Vec<Arg>, Vec<(String, Arg)>) {
    use cranelift_entity::EntityRef;
    let mut f = |s: ValueId| vals[s.index()];
    let args = args
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.map_values(&mut f);
            a
        })
        .collect();
    let kwargs = kwargs
        .iter()
        .map(|(k, a)| {
            let mut a = a.clone();
            a.map_values(&mut f);
            (k.clone(), a)
        })
        .collect();
    (args, kwargs)
}

/// The e-graph of a graph, with the maps back to it.
pub struct Translated {
    /// The e-graph.
    pub egraph: EG,
    /// Class of every value of the graph.
    pub class_of: FxHashMap<ValueId, Id>,
    /// Translated nodes: node → (the e-node, the value it stands for).
    pub nodes: FxHashMap<NodeId, (TNode, ValueId)>,
    /// Nodes that are barriers (kept in place), in order.
    pub barriers: Vec<NodeId>,
}

/// Builds the e-graph of graph `gid`.
pub fn translate(p: &Program, gid: GraphId, ops: &Ops) -> Translated {
    let g = &p.graphs[gid];
    let mut eg = EG::new(TypeAnalysis::new(ops.clone()));
    let mut class_of: FxHashMap<ValueId, Id> = FxHashMap::default();
    let mut nodes = FxHashMap::default();
    let mut barriers = Vec::new();
    let mut ph = 0usize;
    for n in g.nodes() {
        let d = g.node(n);
        let mut done = false;
        if let Some(which) = translatable(p, g, n, ops) {
            let (args, kwargs, vals) = slotted(&d.args, &d.kwargs);
            let target = d.op.target().unwrap_or_default().to_string();
            let key = Key::Call {
                target,
                args,
                kwargs,
                result: which,
            };
            let kids: smallvec::SmallVec<[Id; 3]> = vals.iter().map(|v| class_of[v]).collect();
            let kid_ty: Vec<Option<Type>> = kids.iter().map(|&k| eg[k].data.ty.clone()).collect();
            let r = d.results[which.map_or(0, |(i, _)| i as usize)];
            if eg.analysis.infer(&key, &kid_ty).as_ref() == Some(g.ty(r)) {
                let node = eg.analysis.node(key, kids);
                let id = eg.add(node.clone());
                class_of.insert(r, id);
                nodes.insert(n, (node, r));
                done = true;
            }
        }
        if !done {
            barriers.push(n);
            let weight = match d.op {
                Op::Placeholder => {
                    ph += 1;
                    is_weight_placeholder(p, gid, ph - 1)
                }
                Op::GetAttr { .. } => true,
                _ => false,
            };
            for &r in &d.results {
                let i = eg.analysis.leaves.len() as u32;
                eg.analysis.leaves.push(Leaf {
                    value: r,
                    ty: g.ty(r).clone(),
                    weight,
                });
                let node = eg.analysis.node(Key::Leaf(i), Default::default());
                let id = eg.add(node);
                class_of.insert(r, id);
            }
        }
    }
    Translated {
        egraph: eg,
        class_of,
        nodes,
        barriers,
    }
}

/// Rewrites graph `gid` of `p` in place when that lowers its cost.
pub fn rewrite_graph(
    p: &mut Program,
    gid: GraphId,
    ops: &Ops,
    o: &RewriteOptions,
    rules: &[Rule],
) -> Result<GraphReport, PassError> {
    let mut rep = GraphReport::default();
    let g = &p.graphs[gid];
    if g.nodes().any(|n| g.node(n).meta.segment.is_some()) {
        // Segments are recorded on nodes until `outline-segments`: rewriting across them would
        // invalidate the partition. Run on outlined segments (`each-subgraph(rewrite)`).
        rep.stats.push(("skipped-partitioned", 1));
        return Ok(rep);
    }
    let nodes_before = g.len() as u64;
    let tr = translate(p, gid, ops);
    let enodes_before = tr.egraph.total_number_of_nodes() as u64;
    let t0 = Instant::now();
    let runner: Runner<TNode, TypeAnalysis, ()> = Runner::new(TypeAnalysis::new(ops.clone()))
        .with_egraph(tr.egraph)
        .with_iter_limit(o.iter)
        .with_node_limit(o.nodes)
        .with_time_limit(Duration::from_millis(o.time_ms))
        .run(&to_rewrites(rules));
    let sat_us = t0.elapsed().as_micros() as u64;
    let stop = match runner.stop_reason {
        Some(StopReason::Saturated) => "stop-saturated",
        Some(StopReason::IterationLimit(_)) => "stop-iter-limit",
        Some(StopReason::NodeLimit(_)) => "stop-node-limit",
        Some(StopReason::TimeLimit(_)) => "stop-time-limit",
        _ => "stop-other",
    };
    let eg = runner.egraph;
    rep.stats.push((stop, 1));
    rep.stats
        .push(("iterations", runner.iterations.len() as u64));
    rep.stats.push(("nodes-before", nodes_before));
    rep.stats.push(("enodes-before", enodes_before));
    rep.stats
        .push(("enodes-after", eg.total_number_of_nodes() as u64));
    rep.stats
        .push(("eclasses-after", eg.number_of_classes() as u64));
    rep.stats.push(("applied", eg.analysis.applied));
    if eg.analysis.refused_type > 0 {
        rep.stats.push(("refused-type", eg.analysis.refused_type));
    }
    if eg.analysis.type_conflicts > 0 {
        rep.stats
            .push(("type-conflicts", eg.analysis.type_conflicts));
    }
    rep.stats.push(("saturation-us", sat_us));
    if eg.analysis.applied == 0 {
        rep.stats.push(("nodes-after", nodes_before));
        return Ok(rep);
    }
    let tr = Translated {
        egraph: eg,
        class_of: tr.class_of,
        nodes: tr.nodes,
        barriers: tr.barriers,
    };
    let Some(ng) = extract_graph(p, gid, &tr) else {
        rep.stats.push(("refused-order", 1));
        rep.stats.push(("nodes-after", nodes_before));
        return Ok(rep);
    };
    let (before, after) = (graph_cost(p, gid, &p.graphs[gid]), graph_cost(p, gid, &ng));
    if after < before {
        rep.stats.push(("nodes-after", ng.len() as u64));
        p.graphs[gid] = ng;
        rep.changed = true;
    } else {
        rep.stats.push(("refused-not-cheaper", 1));
        rep.stats.push(("nodes-after", nodes_before));
    }
    Ok(rep)
}

/// Fresh names not used in a graph.
struct Names(FxHashSet<String>);

impl Names {
    fn of(g: &Graph) -> Self {
        let mut s = FxHashSet::default();
        for n in g.nodes() {
            let d = g.node(n);
            s.insert(d.name.clone());
            for &r in &d.results {
                s.insert(g.value(r).name.clone());
            }
        }
        Names(s)
    }

    fn fresh(&mut self, base: &str) -> String {
        if self.0.insert(base.to_string()) {
            return base.to_string();
        }
        for i in 1.. {
            let c = format!("{base}_{i}");
            if self.0.insert(c.clone()) {
                return c;
            }
        }
        unreachable!()
    }
}

/// A name base for a call: the operator's short name (`aten.permute.default` → `permute`).
fn base_name(target: &str) -> String {
    target
        .split('.')
        .nth(1)
        .unwrap_or(target)
        .trim_start_matches('_')
        .to_string()
}

/// The graph with every root replaced by its best term; `None` when a term would need a value
/// defined after its use (never the case for the shipped rules, which only reuse operands of
/// the matched terms).
fn extract_graph(p: &Program, gid: GraphId, tr: &Translated) -> Option<Graph> {
    let g = &p.graphs[gid];
    let eg = &tr.egraph;
    let ex = Extractor::new(eg, EggCost { egraph: eg });
    let mut pos: FxHashMap<NodeId, usize> = FxHashMap::default();
    for (i, n) in g.nodes().enumerate() {
        pos.insert(n, i);
    }
    // Original translated nodes by (key, operand values), for reuse in place.
    let mut orig: FxHashMap<(u32, Vec<ValueId>), NodeId> = FxHashMap::default();
    for (&n, (node, _)) in &tr.nodes {
        orig.insert((node.key, g.node(n).inputs()), n);
    }
    let mut ng = g.clone();
    let mut names = Names::of(g);
    let mut memo: FxHashMap<Id, ValueId> = FxHashMap::default();
    let mut reused: FxHashSet<NodeId> = FxHashSet::default();
    let barrier_set: FxHashSet<NodeId> = tr.barriers.iter().copied().collect();
    // The name each class had in the source (its first original value), for new nodes to take
    // over once the original is gone.
    // Only a node of the same operator takes a name over (a `linear` replacing an `addmm` is
    // not called `addmm`).
    let mut class_name: FxHashMap<Id, (String, String)> = FxHashMap::default();
    for n in g.nodes() {
        if let Some((_, r)) = tr.nodes.get(&n) {
            class_name
                .entry(eg.find(tr.class_of[r]))
                .or_insert_with(|| {
                    let t = g.node(n).op.target().unwrap_or_default().to_string();
                    (g.value(*r).name.clone(), t)
                });
        }
    }
    let mut wanted: Vec<(NodeId, ValueId, String)> = Vec::new();
    let find = |id: Id| eg.find(id);
    for &b in &tr.barriers {
        let bpos = pos[&b];
        let inputs = g.node(b).inputs();
        let mut map: FxHashMap<ValueId, ValueId> = FxHashMap::default();
        for v in inputs {
            let def = g.value(v).def;
            if barrier_set.contains(&def) {
                continue;
            }
            // Materialize class(v) before b, iteratively (deep chains).
            let root = find(tr.class_of[&v]);
            let mut stack: Vec<(Id, bool)> = vec![(root, false)];
            let mut open: FxHashSet<Id> = FxHashSet::default();
            while let Some((c, expanded)) = stack.pop() {
                if memo.contains_key(&c) {
                    continue;
                }
                let best = ex.find_best_node(c);
                match eg.analysis.key(best) {
                    Key::Leaf(i) => {
                        let val = eg.analysis.leaves[*i as usize].value;
                        if pos[&g.value(val).def] >= bpos {
                            return None;
                        }
                        memo.insert(c, val);
                    }
                    Key::Call {
                        target,
                        args,
                        kwargs,
                        result,
                    } => {
                        if !expanded {
                            // A class met again before it is done would be a cyclic term
                            // (extraction with positive costs never picks one; refuse anyway).
                            if !open.insert(c) {
                                return None;
                            }
                            stack.push((c, true));
                            for &k in best.kids.iter().rev() {
                                let k = find(k);
                                if !memo.contains_key(&k) {
                                    stack.push((k, false));
                                }
                            }
                            continue;
                        }
                        let kid_vals: Vec<ValueId> =
                            best.kids.iter().map(|&k| memo[&find(k)]).collect();
                        if let Some(&o) = orig.get(&(best.key, kid_vals.clone())) {
                            let ov = tr.nodes[&o].1;
                            if pos[&o] < bpos && find(tr.class_of[&ov]) == c {
                                reused.insert(o);
                                memo.insert(c, ov);
                                continue;
                            }
                        }
                        let (a, kw) = unslotted(args, kwargs, &kid_vals);
                        let kid_ty: Vec<Option<Type>> =
                            kid_vals.iter().map(|&kv| Some(ng.ty(kv).clone())).collect();
                        let tys = match result {
                            None => vec![eg[c].data.ty.clone()?],
                            Some(_) => eg.analysis.infer_all(eg.analysis.key(best), &kid_ty)?,
                        };
                        let base = base_name(target);
                        let mut nb = NodeBuilder::call(target.clone()).args(a);
                        for (k, x) in kw {
                            nb = nb.kwarg(k, x);
                        }
                        let node_name = names.fresh(&base);
                        if tys.len() == 1 {
                            nb = nb.result(node_name.clone(), tys[0].clone());
                        } else {
                            for (i, t) in tys.into_iter().enumerate() {
                                let nm = if Some(i as u32) == result.map(|r| r.0) {
                                    names.fresh(&format!("{base}_{i}"))
                                } else {
                                    names.fresh(&format!("{base}_unused_{i}"))
                                };
                                nb = nb.result(nm, t);
                            }
                        }
                        nb = nb.name(node_name);
                        let nn = ng.insert_before(b, nb);
                        let r = ng.node(nn).results[result.map_or(0, |r| r.0 as usize)];
                        if let Some((name, t)) = class_name.get(&c) {
                            if t == target {
                                wanted.push((nn, r, name.clone()));
                            }
                        }
                        memo.insert(c, r);
                    }
                }
            }
            let nv = memo[&root];
            if nv != v {
                map.insert(v, nv);
            }
        }
        if !map.is_empty() {
            let d = ng.node(b);
            let mut args = d.args.clone();
            let mut kwargs = d.kwargs.clone();
            let mut f = |x: ValueId| map.get(&x).copied().unwrap_or(x);
            args.iter_mut().for_each(|a| a.map_values(&mut f));
            kwargs.iter_mut().for_each(|(_, a)| a.map_values(&mut f));
            ng.set_args(b, args, kwargs);
        }
    }
    // Original term nodes that nothing uses any more, users before producers.
    let order: Vec<NodeId> = g.nodes().collect();
    for &n in order.iter().rev() {
        if !tr.nodes.contains_key(&n) || reused.contains(&n) {
            continue;
        }
        let d = ng.node(n);
        if d.results.iter().all(|&r| ng.value(r).uses().is_empty()) {
            ng.remove_node(n).ok()?;
        }
    }
    // New nodes take the names of the values they replace, where those are free now.
    if !wanted.is_empty() {
        let mut used = Names::of(&ng);
        for (n, r, name) in wanted {
            if used.0.contains(&name) {
                continue;
            }
            used.0.insert(name.clone());
            let single = ng.node(n).results.len() == 1;
            ng.set_value_name(r, name.clone());
            if single {
                ng.set_node_name(n, name);
            }
        }
    }
    Some(ng)
}
