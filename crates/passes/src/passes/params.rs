//! `lift-params`, `unlift-params`, `freeze-params`: moving weights between `get_attr` nodes,
//! lifted placeholders with signature entries, and constants of TensorRT segments, plus
//! [`check_weight_bindings`] and [`param_report`].
//!
//! The failure class these passes rule out: a program whose weights are lifted to placeholders
//! but whose signature (or caller) does not know it ("expected 3 inputs, got 1"), or whose
//! `get_attr` nodes name a weight that is not in the store ("GraphModule does not contain
//! attribute conv_weight"). Every pass here edits placeholders, signature entries and `get_attr`
//! nodes together, never one without the other, and refuses programs where they already
//! disagree instead of guessing.
//!
//! # Decisions
//! - **Canonical order.** `lift-params` orders the main graph's placeholders as torch.export
//!   does: parameters, buffers, constants, custom objects, tokens, then user inputs (and
//!   specialised `constant_input`s); the order inside each group is kept, newly lifted weights
//!   follow the existing ones of their group in order of first `get_attr`. User inputs keep
//!   their relative order, so input specs stay paired.
//! - **Names.** A lifted placeholder keeps the `get_attr` node's name and value name, and an
//!   unlifted `get_attr` keeps the placeholder's, so `lift ∘ unlift` and `unlift ∘ lift` are the
//!   identity (the property tests check it with `==`).
//! - **Kinds.** A `get_attr` carries only a weight name. The kind to give it when lifting comes
//!   from, in order: the [`WeightKinds`] table that `unlift-params` fills (shared by the passes a
//!   registry builds, so `unlift-params,...,lift-params` restores buffers, non-persistent flags
//!   and constants exactly); torch.export's naming convention (`p_*` parameter, `b_*` buffer,
//!   `c_*` or a `_tensor_constant*`/`_lifted_tensor_constant*` target: constant); otherwise
//!   parameter. The table lives only as long as the registry: a `Program::weight_kinds` field
//!   (weight name → kind, written by `unlift-params`) would make kinds survive save/load.
//! - **Subgraphs.** `lift-params` lifts only in the main graph: `get_attr` inside subgraphs is
//!   valid IR (the weight store is program-wide) and threading weights through `cond` branches
//!   would change their arity. `unlift-params` only touches main-graph placeholders.
//! - **Duplicates.** Several `get_attr` of one weight in the main graph become one placeholder;
//!   a `get_attr` of an already lifted weight is replaced by that placeholder.

use crate::options::{OptionMap, OptionReader, PassOptions};
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use trtfx_ir::{Arg, Graph, GraphId, InputKind, NodeBuilder, NodeId, Op, Program, Type, ValueId};

/// Weight name → the signature kind it had when `unlift-params` turned it into a `get_attr`.
///
/// Cloning shares the table: the registry gives one table to every `lift-params` and
/// `unlift-params` it builds, so a pipeline that unlifts and lifts again restores kinds exactly.
#[derive(Clone, Debug, Default)]
pub struct WeightKinds(Arc<Mutex<IndexMap<String, InputKind>>>);

impl WeightKinds {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers the kind of a weight (only parameter, buffer and constant kinds are kept).
    pub fn record(&self, kind: &InputKind) {
        if let Some(t) = kind.weight_target() {
            self.lock().insert(t.to_string(), kind.clone());
        }
    }

    /// The recorded kind of weight `target`.
    pub fn get(&self, target: &str) -> Option<InputKind> {
        self.lock().get(target).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IndexMap<String, InputKind>> {
        // A panic while holding the lock cannot leave the map half-updated (single inserts).
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The kind a lifted `get_attr` gets: see the module docs (table, naming convention, parameter).
pub fn infer_kind(kinds: Option<&WeightKinds>, target: &str, node_name: &str) -> InputKind {
    if let Some(k) = kinds.and_then(|k| k.get(target)) {
        return k;
    }
    let target_s = target.to_string();
    if node_name.starts_with("b_") {
        InputKind::Buffer {
            target: target_s,
            persistent: true,
        }
    } else if node_name.starts_with("c_")
        || target.starts_with("_tensor_constant")
        || target.starts_with("_lifted_tensor_constant")
    {
        InputKind::Constant { target: target_s }
    } else {
        InputKind::Parameter { target: target_s }
    }
}

/// Canonical group of a signature input: parameters, buffers, constants, custom objects,
/// tokens, user inputs (torch.export's order).
fn group(k: &InputKind) -> u8 {
    match k {
        InputKind::Parameter { .. } => 0,
        InputKind::Buffer { .. } => 1,
        InputKind::Constant { .. } => 2,
        InputKind::CustomObj { .. } => 3,
        InputKind::Token => 4,
        InputKind::User { .. } | InputKind::ConstantInput { .. } => 5,
    }
}

/// The word for a kind in messages and reports.
fn kind_word(k: &InputKind) -> &'static str {
    match k {
        InputKind::Parameter { .. } => "parameter",
        InputKind::Buffer { .. } => "buffer",
        InputKind::Constant { .. } => "constant",
        InputKind::CustomObj { .. } => "custom object",
        InputKind::Token => "token",
        InputKind::User { .. } => "user input",
        InputKind::ConstantInput { .. } => "constant input",
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The error for a main graph whose placeholders and signature do not pair.
fn count_mismatch(phs: usize, sig: usize) -> String {
    format!(
        "main graph has {} but the signature lists {} (expected {} inputs, got {sig})",
        plural(phs, "placeholder"),
        plural(sig, "input"),
        phs
    )
}

/// First node of `g` that is not a placeholder (where weights read by `get_attr` go).
fn first_non_placeholder(g: &Graph) -> Option<NodeId> {
    g.nodes().find(|&n| g.node(n).op != Op::Placeholder)
}

/// A builder reproducing `n`'s single result with a new opcode (same node and value name, type).
fn same_result(g: &Graph, n: NodeId, op: Op) -> NodeBuilder {
    let nd = g.node(n);
    let r = nd.results[0];
    NodeBuilder::new(op)
        .result(g.value(r).name.clone(), g.ty(r).clone())
        .name(nd.name.clone())
}

/// `lift-params`: every `get_attr` of the main graph becomes a placeholder with a signature
/// entry, and the placeholders are put in canonical order (see the module docs).
///
/// Counters: `lifted` (get_attr nodes replaced), `reordered` (1 when placeholders moved).
#[derive(Clone, Debug, Default)]
pub struct LiftParams {
    /// Kinds remembered by `unlift-params`.
    pub kinds: WeightKinds,
}

impl LiftParams {
    /// A pass consulting `kinds` for the kind of each lifted weight.
    pub fn new(kinds: WeightKinds) -> Self {
        LiftParams { kinds }
    }
}

impl Pass for LiftParams {
    fn name(&self) -> &str {
        "lift-params"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let (lifted, reordered) = lift(p, Some(&self.kinds))?;
        if lifted > 0 {
            cx.stat("lifted", lifted as u64);
        }
        if reordered {
            cx.stat("reordered", 1);
        }
        Ok(PassOutcome::from_changed(lifted > 0 || reordered))
    }
}

/// The work of `lift-params`: returns (get_attr nodes lifted, placeholders reordered).
pub fn lift(p: &mut Program, kinds: Option<&WeightKinds>) -> Result<(usize, bool), PassError> {
    let main = p.main;
    let g = &p.graphs[main];
    let phs = g.placeholders();
    if phs.len() != p.signature.inputs.len() {
        return Err(PassError::new(format!(
            "lift-params: {}",
            count_mismatch(phs.len(), p.signature.inputs.len())
        )));
    }
    // Existing placeholders with their kinds, and which weights are already lifted.
    let mut entries: Vec<(NodeId, InputKind)> = phs
        .iter()
        .copied()
        .zip(p.signature.inputs.iter().cloned())
        .collect();
    let mut lifted_value: HashMap<String, ValueId> = HashMap::new();
    for (n, k) in &entries {
        if let Some(t) = k.weight_target() {
            lifted_value
                .entry(t.to_string())
                .or_insert(g.node(*n).results[0]);
        }
    }
    // get_attr nodes of the main graph, in program order.
    let attrs: Vec<(NodeId, String)> = g
        .nodes()
        .filter_map(|n| match &g.node(n).op {
            Op::GetAttr { target } => Some((n, target.clone())),
            _ => None,
        })
        .collect();
    for (n, target) in &attrs {
        if !p.weights.contains_key(target) {
            return Err(PassError::at(
                format!("get_attr `{target}` in @{}: no such weight", g.name),
                g,
                *n,
            ));
        }
        if g.node(*n).results.len() != 1 {
            return Err(PassError::at(
                format!("get_attr `{target}` must have exactly one result"),
                g,
                *n,
            ));
        }
    }

    let g = &mut p.graphs[main];
    let mut lifted = 0usize;
    for (n, target) in attrs {
        let old = g.node(n).results[0];
        let new = match lifted_value.get(&target) {
            Some(&v) => v,
            None => {
                let kind = infer_kind(kinds, &target, &g.node(n).name);
                // Placed right before the get_attr; the reordering below moves it up.
                let ph = g.insert_before(n, same_result(g, n, Op::Placeholder));
                entries.push((ph, kind));
                let v = g.node(ph).results[0];
                lifted_value.insert(target, v);
                v
            }
        };
        g.replace_all_uses(old, new);
        g.remove_node(n)
            .map_err(|e| PassError::new(format!("lift-params: {e}")))?;
        lifted += 1;
    }

    // Canonical order: stable by group. Existing entries come first in `entries`, so within a
    // group lifted weights follow the ones that were already placeholders.
    entries.sort_by_key(|(_, k)| group(k));
    let after: Vec<NodeId> = entries.iter().map(|e| e.0).collect();
    let old_set: HashSet<NodeId> = phs.iter().copied().collect();
    let reordered = after.iter().filter(|n| old_set.contains(n)).ne(phs.iter());
    // New placeholders sit where their get_attr was: move everything into place.
    if g.placeholders() != after {
        match first_non_placeholder_excluding(g, &after) {
            Some(anchor) => {
                for &n in &after {
                    g.move_before(n, anchor);
                }
            }
            None => {
                for &n in &after {
                    g.move_to_end(n);
                }
            }
        }
    }
    p.signature.inputs = entries.into_iter().map(|(_, k)| k).collect();
    if lifted > 0 {
        p.graphs[main].compact();
    }
    Ok((lifted, reordered))
}

/// First node in program order that is not one of `phs` (the anchor placeholders go before).
fn first_non_placeholder_excluding(g: &Graph, phs: &[NodeId]) -> Option<NodeId> {
    let set: HashSet<NodeId> = phs.iter().copied().collect();
    g.nodes().find(|n| !set.contains(n))
}

/// `unlift-params`: parameter, buffer and constant placeholders of the main graph become
/// `get_attr` nodes right after the remaining placeholders, and their signature entries go.
/// User inputs, custom objects, tokens and specialised inputs stay. The weight store is not
/// touched (every referenced weight stays). Kinds are recorded in the [`WeightKinds`] table.
///
/// Counter: `unlifted`.
#[derive(Clone, Debug, Default)]
pub struct UnliftParams {
    /// Where the kinds of unlifted weights are recorded.
    pub kinds: WeightKinds,
}

impl UnliftParams {
    /// A pass recording kinds into `kinds`.
    pub fn new(kinds: WeightKinds) -> Self {
        UnliftParams { kinds }
    }
}

impl Pass for UnliftParams {
    fn name(&self) -> &str {
        "unlift-params"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let n = unlift(p, Some(&self.kinds))?;
        if n > 0 {
            cx.stat("unlifted", n as u64);
        }
        Ok(PassOutcome::from_changed(n > 0))
    }
}

/// The work of `unlift-params`: returns the number of placeholders turned into `get_attr`.
pub fn unlift(p: &mut Program, kinds: Option<&WeightKinds>) -> Result<usize, PassError> {
    let main = p.main;
    let g = &p.graphs[main];
    let phs = g.placeholders();
    if phs.len() != p.signature.inputs.len() {
        return Err(PassError::new(format!(
            "unlift-params: {}",
            count_mismatch(phs.len(), p.signature.inputs.len())
        )));
    }
    let mut todo: Vec<(NodeId, String)> = Vec::new();
    for (i, (&n, k)) in phs.iter().zip(&p.signature.inputs).enumerate() {
        let Some(t) = k.weight_target() else { continue };
        if !p.weights.contains_key(t) {
            return Err(PassError::at(
                format!(
                    "signature input {i} is {} `{t}`, but the weight store has no `{t}`",
                    kind_word(k)
                ),
                g,
                n,
            ));
        }
        if g.node(n).results.len() != 1 {
            return Err(PassError::at(
                "a weight placeholder must have exactly one result",
                g,
                n,
            ));
        }
        todo.push((n, t.to_string()));
    }
    if todo.is_empty() {
        return Ok(0);
    }
    let remove: HashSet<NodeId> = todo.iter().map(|x| x.0).collect();
    let mut sig = Vec::new();
    for (&n, k) in phs.iter().zip(&p.signature.inputs) {
        if remove.contains(&n) {
            if let Some(kt) = kinds {
                kt.record(k);
            }
        } else {
            sig.push(k.clone());
        }
    }
    let g = &mut p.graphs[main];
    // Inserting before the first non-placeholder puts the get_attr nodes after every
    // placeholder; removing the weight placeholders then leaves them right after the rest.
    let anchor = first_non_placeholder(g);
    for (n, target) in &todo {
        let b = same_result(
            g,
            *n,
            Op::GetAttr {
                target: target.clone(),
            },
        );
        let a = match anchor {
            Some(a) => g.insert_before(a, b),
            None => g.append(b),
        };
        let (old, new) = (g.node(*n).results[0], g.node(a).results[0]);
        g.replace_all_uses(old, new);
        g.remove_node(*n)
            .map_err(|e| PassError::new(format!("unlift-params: {e}")))?;
    }
    g.compact();
    p.signature.inputs = sig;
    Ok(todo.len())
}

/// `freeze-params`: weights passed to TensorRT segments become constants of the segment.
///
/// For every `call_graph` whose callee's name ends with `suffix` (`_trt`: the partitioner names
/// segments `<graph>_seg<i>_trt`), each argument that is a weight (a main-graph placeholder whose
/// signature kind is parameter/buffer/constant, or a `get_attr` value) is removed from the call,
/// and the callee's matching placeholder is replaced by a `get_attr` of the same weight name.
/// The bytes are not copied: the weight store is shared by name, and weights that fallback
/// segments also use stay passed to them. Without outlined segments it does nothing.
///
/// A position is frozen only if every call of the callee passes the same weight there, and a
/// callee that is also used as an `Arg::Graph` operand keeps its arity. With `ops=[...]`, only
/// weights whose every use in the segment is a call of a listed operator are frozen (e.g.
/// `ops=[aten.convolution.default]`).
///
/// Counter: `frozen`.
#[derive(Clone, Debug)]
pub struct FreezeParams {
    /// Callee name suffix marking TensorRT segments.
    pub suffix: String,
    /// Operators whose weight operands are frozen; empty means all.
    pub ops: Vec<String>,
}

impl Default for FreezeParams {
    fn default() -> Self {
        FreezeParams {
            suffix: "_trt".into(),
            ops: Vec::new(),
        }
    }
}

impl FreezeParams {
    /// Reads `suffix` and `ops`.
    pub fn from_options(o: &OptionMap) -> Result<Self, crate::options::OptionError> {
        let d = FreezeParams::default();
        let mut r = OptionReader::new("freeze-params", o);
        let suffix = r.get("suffix", d.suffix)?;
        let ops = r.get("ops", d.ops)?;
        r.finish()?;
        Ok(FreezeParams { suffix, ops })
    }
}

impl Pass for FreezeParams {
    fn name(&self) -> &str {
        "freeze-params"
    }

    fn options(&self) -> PassOptions {
        let d = FreezeParams::default();
        PassOptions::new()
            .with("suffix", &self.suffix, &d.suffix)
            .with("ops", &self.ops, &d.ops)
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let n = freeze(p, &self.suffix, &self.ops)?;
        if n > 0 {
            cx.stat("frozen", n as u64);
        }
        Ok(PassOutcome::from_changed(n > 0))
    }
}

/// The weight a value of graph `gid` is, if any: a `get_attr`, or a main-graph weight placeholder.
fn weight_of(p: &Program, gid: GraphId, v: ValueId) -> Option<String> {
    let g = &p.graphs[gid];
    let def = g.value(v).def;
    match &g.node(def).op {
        Op::GetAttr { target } => Some(target.clone()),
        Op::Placeholder if gid == p.main => {
            let pos = g.placeholders().iter().position(|&n| n == def)?;
            p.signature
                .inputs
                .get(pos)?
                .weight_target()
                .map(String::from)
        }
        _ => None,
    }
}

/// Every graph referenced as an `Arg::Graph` operand somewhere.
fn graph_operands(p: &Program) -> HashSet<GraphId> {
    fn walk(a: &Arg, out: &mut HashSet<GraphId>) {
        match a {
            Arg::Graph(g) => {
                out.insert(*g);
            }
            Arg::List(xs) => xs.iter().for_each(|x| walk(x, out)),
            Arg::Dict(xs) => xs.iter().for_each(|(_, x)| walk(x, out)),
            _ => {}
        }
    }
    let mut out = HashSet::new();
    for (_, g) in p.graphs.iter() {
        for n in g.nodes() {
            let nd = g.node(n);
            nd.args.iter().for_each(|a| walk(a, &mut out));
            nd.kwargs.iter().for_each(|(_, a)| walk(a, &mut out));
        }
    }
    out
}

/// The work of `freeze-params`: returns the number of callee placeholders frozen.
pub fn freeze(p: &mut Program, suffix: &str, ops: &[String]) -> Result<usize, PassError> {
    let operands = graph_operands(p);
    // Call sites per callee.
    let mut sites: IndexMap<GraphId, Vec<(GraphId, NodeId)>> = IndexMap::new();
    for (gid, g) in p.graphs.iter() {
        for n in g.nodes() {
            if let Op::CallGraph { graph } = g.node(n).op {
                sites.entry(graph).or_default().push((gid, n));
            }
        }
    }
    let mut frozen = 0usize;
    for (callee, calls) in sites {
        let Some(cg) = p.graphs.get(callee) else {
            continue;
        };
        if !cg.name.ends_with(suffix) || operands.contains(&callee) || calls.is_empty() {
            continue;
        }
        let cphs = cg.placeholders();
        let shapes_ok = calls.iter().all(|&(gid, n)| {
            let nd = p.graphs[gid].node(n);
            nd.kwargs.is_empty()
                && nd.args.len() == cphs.len()
                && nd.args.iter().all(|a| a.as_value().is_some())
        });
        if !shapes_ok {
            continue;
        }
        // Positions where every call passes the same weight.
        let mut freeze_at: Vec<(usize, String)> = Vec::new();
        for (i, &ph) in cphs.iter().enumerate() {
            let mut name: Option<String> = None;
            let mut same = true;
            for &(gid, n) in &calls {
                let v = p.graphs[gid].node(n).args[i].as_value().expect("checked");
                match (weight_of(p, gid, v), &name) {
                    (Some(w), None) => name = Some(w),
                    (Some(w), Some(prev)) if &w == prev => {}
                    _ => {
                        same = false;
                        break;
                    }
                }
            }
            let Some(w) = name.filter(|_| same) else {
                continue;
            };
            if !p.weights.contains_key(&w) {
                return Err(PassError::new(format!(
                    "freeze-params: @{} is passed weight `{w}`, which is not in the weight store",
                    cg.name
                )));
            }
            if !ops.is_empty() {
                let r = cg.node(ph).results[0];
                let all_listed = cg.value(r).uses().iter().all(
                    |&u| matches!(&cg.node(u).op, Op::Call { target } if ops.contains(target)),
                );
                if !all_listed {
                    continue;
                }
            }
            freeze_at.push((i, w));
        }
        if freeze_at.is_empty() {
            continue;
        }
        // Inside the callee: placeholder -> get_attr after the remaining placeholders.
        let g = &mut p.graphs[callee];
        let anchor = first_non_placeholder(g);
        for &(i, ref w) in &freeze_at {
            let ph = cphs[i];
            let b = same_result(g, ph, Op::GetAttr { target: w.clone() });
            let a = match anchor {
                Some(a) => g.insert_before(a, b),
                None => g.append(b),
            };
            let (old, new) = (g.node(ph).results[0], g.node(a).results[0]);
            g.replace_all_uses(old, new);
            g.remove_node(ph)
                .map_err(|e| PassError::new(format!("freeze-params: {e}")))?;
        }
        g.compact();
        // At the call sites: drop the frozen arguments.
        let drop: HashSet<usize> = freeze_at.iter().map(|x| x.0).collect();
        for (gid, n) in calls {
            let g = &mut p.graphs[gid];
            let args: Vec<Arg> = g
                .node(n)
                .args
                .iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, a)| a.clone())
                .collect();
            g.set_args(n, args, Vec::new());
        }
        frozen += freeze_at.len();
    }
    Ok(frozen)
}

/// Checks that placeholders, signature entries, `get_attr` nodes and the weight store agree:
/// as many main-graph placeholders as signature inputs, every weight a signature entry or a
/// `get_attr` names exists with the placeholder's dtype and shape, and no weight is bound to
/// two signature inputs. Each problem is one message naming the missing or extra item.
///
/// The IR verifier checks overlapping facts among many others; this check is the narrow one
/// that loaders, savers and executors run before binding weights, with messages that say what
/// the user has to supply. Weights in the store that nothing references are allowed (dead-code
/// elimination may drop their last `get_attr`); [`param_report`] lists them.
pub fn check_weight_bindings(p: &Program) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    let g = p.main_graph();
    let phs = g.placeholders();
    let sig = &p.signature.inputs;
    if phs.len() != sig.len() {
        errs.push(count_mismatch(phs.len(), sig.len()));
    }
    let mut bound: HashMap<&str, usize> = HashMap::new();
    for (i, k) in sig.iter().enumerate() {
        let Some(t) = k.weight_target() else { continue };
        if let Some(j) = bound.insert(t, i) {
            errs.push(format!(
                "signature inputs {j} and {i} both bind weight `{t}` (each weight is lifted once)"
            ));
        }
        let Some(w) = p.weights.get(t) else {
            errs.push(format!(
                "signature input {i} is {} `{t}`, but the weight store has no `{t}`",
                kind_word(k)
            ));
            continue;
        };
        if let Some(&ph) = phs.get(i) {
            if let Some(m) = type_mismatch(g, ph, w) {
                errs.push(format!("signature input {i} ({} `{t}`): {m}", kind_word(k)));
            }
        }
    }
    for (_, sg) in p.graphs.iter() {
        for n in sg.nodes() {
            let Op::GetAttr { target } = &sg.node(n).op else {
                continue;
            };
            match p.weights.get(target) {
                None => errs.push(format!(
                    "get_attr `{target}` in @{}: no such weight",
                    sg.name
                )),
                Some(w) => {
                    if let Some(m) = type_mismatch(sg, n, w) {
                        errs.push(format!("get_attr `{target}` in @{}: {m}", sg.name));
                    }
                }
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// Why node `n`'s single result cannot hold weight `w`, if it cannot.
fn type_mismatch(g: &Graph, n: NodeId, w: &trtfx_ir::Weight) -> Option<String> {
    let want = format!(
        "{}",
        trtfx_ir::TensorType::new(w.dtype, trtfx_ir::static_shape(&w.shape))
    );
    let nd = g.node(n);
    let &[r] = nd.results.as_slice() else {
        return Some(format!(
            "node `{}` has {} results, expected 1",
            nd.name,
            nd.results.len()
        ));
    };
    match g.ty(r) {
        Type::Tensor(t) if t.dtype == w.dtype && t.static_shape().as_deref() == Some(&w.shape) => {
            None
        }
        ty => Some(format!(
            "node `{}` has type {ty} but the weight is {want}",
            nd.name
        )),
    }
}

/// A table of the program's inputs and weights for `ir-opt`: user inputs, parameters, buffers
/// and constants (lifted or read by `get_attr`) with dtype, shape and size in bytes, weights
/// nothing references, and totals per kind.
pub fn param_report(p: &Program) -> String {
    struct Row {
        kind: String,
        name: String,
        dtype: String,
        shape: String,
        bytes: Option<usize>,
    }
    let g = p.main_graph();
    let phs = g.placeholders();
    let mut rows: Vec<Row> = Vec::new();
    let mut referenced: HashSet<&str> = HashSet::new();
    let ty_parts = |ty: &Type| match ty {
        Type::Tensor(t) => {
            let s = t.to_string();
            let open = s.find('[').unwrap_or(s.len());
            (s[..open].to_string(), s[open..].to_string())
        }
        other => (other.to_string(), "-".to_string()),
    };
    let weight_row = |kind: &str, name: &str, rows: &mut Vec<Row>| match p.weights.get(name) {
        Some(w) => rows.push(Row {
            kind: kind.to_string(),
            name: name.to_string(),
            dtype: w.dtype.to_string(),
            shape: format!("{:?}", w.shape).replace(' ', ""),
            bytes: Some(w.nbytes()),
        }),
        None => rows.push(Row {
            kind: kind.to_string(),
            name: name.to_string(),
            dtype: "?".into(),
            shape: "(missing from the weight store)".into(),
            bytes: None,
        }),
    };
    for (i, k) in p.signature.inputs.iter().enumerate() {
        if let Some(t) = k.weight_target() {
            referenced.insert(t);
            weight_row(kind_word(k), t, &mut rows);
            continue;
        }
        let (name, (dtype, shape)) = match (k, phs.get(i)) {
            (InputKind::User { name }, Some(&n))
            | (InputKind::ConstantInput { name, .. }, Some(&n)) => {
                (name.clone(), ty_parts(g.ty(g.node(n).results[0])))
            }
            (InputKind::CustomObj { target }, _) => (target.clone(), ("object".into(), "-".into())),
            (InputKind::User { name }, None) | (InputKind::ConstantInput { name, .. }, None) => {
                (name.clone(), ("?".into(), "(no placeholder)".into()))
            }
            _ => (String::new(), ("token".into(), "-".into())),
        };
        rows.push(Row {
            kind: kind_word(k).to_string(),
            name,
            dtype,
            shape,
            bytes: None,
        });
    }
    // Weights read by get_attr (in any graph), once each.
    let mut attrs: IndexMap<&str, ()> = IndexMap::new();
    for (_, sg) in p.graphs.iter() {
        for n in sg.nodes() {
            if let Op::GetAttr { target } = &sg.node(n).op {
                if !referenced.contains(target.as_str()) {
                    attrs.insert(target.as_str(), ());
                }
            }
        }
    }
    for t in attrs.keys() {
        referenced.insert(t);
        weight_row("get_attr", t, &mut rows);
    }
    for name in p.weights.keys() {
        if !referenced.contains(name.as_str()) {
            weight_row("unreferenced", name, &mut rows);
        }
    }

    let w =
        |f: &dyn Fn(&Row) -> usize, head: usize| rows.iter().map(f).max().unwrap_or(0).max(head);
    let wk = w(&|r| r.kind.len(), 4);
    let wn = w(&|r| r.name.len(), 4);
    let wd = w(&|r| r.dtype.len(), 5);
    let ws = w(&|r| r.shape.len(), 5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:wk$}  {:wn$}  {:wd$}  {:ws$}  {:>12}",
        "kind", "name", "dtype", "shape", "bytes"
    );
    for r in &rows {
        let bytes = r.bytes.map_or("-".to_string(), |b| b.to_string());
        let _ = writeln!(
            out,
            "{:wk$}  {:wn$}  {:wd$}  {:ws$}  {:>12}",
            r.kind, r.name, r.dtype, r.shape, bytes
        );
    }
    let mut totals: IndexMap<&str, (usize, usize)> = IndexMap::new();
    for k in [
        "user input",
        "parameter",
        "buffer",
        "constant",
        "get_attr",
        "unreferenced",
    ] {
        totals.insert(k, (0, 0));
    }
    for r in &rows {
        if let Some(e) = totals.get_mut(r.kind.as_str()) {
            e.0 += 1;
            e.1 += r.bytes.unwrap_or(0);
        }
    }
    let weight_bytes: usize = p.weights.values().map(|w| w.nbytes()).sum();
    let parts: Vec<String> = totals
        .iter()
        .filter(|(k, (n, _))| {
            *n > 0 || matches!(**k, "user input" | "parameter" | "buffer" | "constant")
        })
        .map(|(k, (n, b))| {
            if *k == "user input" {
                plural(*n, k)
            } else {
                format!("{} ({b} bytes)", plural(*n, k))
            }
        })
        .collect();
    let _ = writeln!(out, "total: {}", parts.join(", "));
    let _ = writeln!(
        out,
        "weight store: {} holding {weight_bytes} bytes",
        plural(p.weights.len(), "weight")
    );
    out
}

/// Registers `lift-params`, `unlift-params` and `freeze-params`. The lift and unlift passes
/// built by one registry share one [`WeightKinds`] table (see the module docs).
pub fn register(r: &mut crate::registry::PassRegistry) {
    let kinds = WeightKinds::new();
    let k1 = kinds.clone();
    r.register_pass(
        "lift-params",
        "turn get_attr weights into placeholders with signature entries, in canonical order",
        move |o| {
            OptionReader::new("lift-params", o).finish()?;
            Ok(Box::new(LiftParams::new(k1.clone())))
        },
    );
    r.register_pass(
        "unlift-params",
        "turn parameter/buffer/constant placeholders into get_attr nodes",
        move |o| {
            OptionReader::new("unlift-params", o).finish()?;
            Ok(Box::new(UnliftParams::new(kinds.clone())))
        },
    );
    r.register_pass(
        "freeze-params",
        "make weights passed to TensorRT segments get_attr constants of the segment",
        |o| Ok(Box::new(FreezeParams::from_options(o)?)),
    );
}
