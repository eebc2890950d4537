//! The verifier: structural and typing invariants every pass may rely on.
//!
//! [`verify_program`] checks one program and returns *all* problems it finds, each as a
//! [`Diagnostic`] anchored at the node (or graph, symbol or signature item) it is about, so a
//! broken pass shows every symptom at once instead of the first one.
//!
//! What is checked:
//! - ids are live: every value an argument references exists and is defined by a live node of the
//!   same graph;
//! - the order is topological: a value is defined before its first use (this also rejects data
//!   dependency cycles, which cannot be ordered);
//! - use lists agree with the arguments (recomputed and compared as multisets);
//! - node names are unique per graph (value names are not checked: the printer renames values);
//! - placeholders come first, exactly one `output` node exists and it is last;
//! - every symbol mentioned by a value type, an input spec or a `SymInt` type is declared, and
//!   every symbol range has `min <= max`;
//! - `get_attr` targets and signature weights exist, with the placeholder's dtype and shape;
//! - `call_graph` and `Arg::Graph` reference existing graphs, without recursion; `call_graph`
//!   arity and result count match the callee;
//! - the main graph's placeholders and outputs pair with the signature, and the input specs pair
//!   with the user inputs;
//! - with a registry, calls match their operator's schema (positional count, keyword names,
//!   required arguments, literal kinds, result count).
//!
//! [`verify_types_with`] additionally re-runs the registry's inference functions and compares
//! them with the stored result types; it is separate because inference coverage grows over time
//! and a structurally valid program should not be rejected for an incomplete inference table.

use crate::dim::{Dim, SymName};
use crate::graph::{Arg, Graph, GraphId, NodeId, Op, ValueId};
use crate::ops::{BaseType, InferArgs, OpRegistry, Schema, SchemaType};
use crate::program::{DimSpec, InputKind, InputSpec, Program, WeightData};
use crate::types::Type;
use cranelift_entity::{EntityRef, SecondaryMap};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// One verifier finding, anchored at a graph and (usually) a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Name of the graph the finding is about; empty for program-level findings (symbol ranges,
    /// duplicate graph names, input specs that pair with no placeholder).
    pub graph: String,
    /// Name of the node the finding is about, when there is one.
    pub node: Option<String>,
    /// The symbol the finding is about (undeclared symbol, bad range), when there is one.
    pub symbol: Option<SymName>,
    /// What is wrong, in words.
    pub message: String,
    /// The node's text form, when it can be printed; shown under the message.
    pub text: Option<String>,
    /// Id of the graph, for tools that want to jump to it.
    pub graph_id: Option<GraphId>,
    /// Id of the node, for tools that want to jump to it.
    pub node_id: Option<NodeId>,
}

impl Diagnostic {
    fn program(message: impl Into<String>) -> Self {
        Diagnostic {
            graph: String::new(),
            node: None,
            symbol: None,
            message: message.into(),
            text: None,
            graph_id: None,
            node_id: None,
        }
    }

    fn in_graph(g: &Graph, message: impl Into<String>) -> Self {
        Diagnostic {
            graph: g.name.clone(),
            ..Diagnostic::program(message)
        }
    }

    fn at_node(g: &Graph, n: NodeId, message: impl Into<String>) -> Self {
        Diagnostic {
            graph: g.name.clone(),
            node: Some(g.node(n).name.clone()),
            node_id: Some(n),
            ..Diagnostic::program(message)
        }
    }

    fn with_symbol(mut self, s: &SymName) -> Self {
        self.symbol = Some(s.clone());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("error in ")?;
        if self.graph.is_empty() {
            f.write_str("program")?;
        } else {
            write!(f, "@{}", self.graph)?;
        }
        if let Some(n) = &self.node {
            write!(f, " at node {n:?}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(t) = &self.text {
            write!(f, "\n  | {t}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Renders diagnostics one per line (for error messages and snapshots).
pub fn render(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Verifies a whole program; `registry` enables schema checks for the operators it describes.
pub fn verify_program(p: &Program, registry: Option<&OpRegistry>) -> Result<(), Vec<Diagnostic>> {
    let mut out = Vec::new();
    check_program(p, registry, &mut out);
    attach_text(p, &mut out);
    finish(out)
}

/// Verifies one graph of a program (its program supplies symbols, weights and callees); the
/// signature is checked too when `g` is the main graph.
pub fn verify_graph(
    p: &Program,
    g: GraphId,
    registry: Option<&OpRegistry>,
) -> Result<(), Vec<Diagnostic>> {
    let mut out = Vec::new();
    match p.graphs.get(g) {
        None => out.push(Diagnostic::program(format!("graph {g} does not exist"))),
        Some(_) => {
            let ok = check_graph(p, g, registry, &mut out);
            if g == p.main && ok {
                check_signature(p, &mut out);
            }
            set_graph_id(&mut out, g);
        }
    }
    attach_text(p, &mut out);
    finish(out)
}

/// Re-runs the inference function of every registered operator on the stored argument types and
/// compares the result with the stored result types. Nodes whose types were recorded by the
/// export (`meta.recorded_types`) and operators without an inference function are skipped.
/// Structural checks run first; inference only runs on a structurally valid program, because
/// inference functions may assume valid value ids.
pub fn verify_types_with(p: &Program, registry: &OpRegistry) -> Result<(), Vec<Diagnostic>> {
    verify_program(p, Some(registry))?;
    let mut out = Vec::new();
    for (_, g) in p.graphs.iter() {
        for n in g.nodes() {
            let nd = g.node(n);
            let Op::Call { target } = &nd.op else {
                continue;
            };
            if nd.meta.recorded_types {
                continue;
            }
            let Some(infer) = registry.get(target).and_then(|d| d.infer.as_ref()) else {
                continue;
            };
            let type_of = |v: ValueId| g.ty(v).clone();
            let args = InferArgs {
                args: &nd.args,
                kwargs: &nd.kwargs,
                type_of: &type_of,
            };
            let stored: Vec<Type> = nd.results.iter().map(|&r| g.ty(r).clone()).collect();
            match infer(&args) {
                Err(why) => out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!("type inference for {target} failed: {why}"),
                )),
                Ok(inferred) if inferred != stored => out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!(
                        "stored result types ({}) differ from inferred types ({})",
                        list_types(&stored),
                        list_types(&inferred)
                    ),
                )),
                Ok(_) => {}
            }
        }
    }
    for d in &mut out {
        d.graph_id = p.graph_by_name(&d.graph);
    }
    attach_text(p, &mut out);
    finish(out)
}

fn list_types(ts: &[Type]) -> String {
    ts.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn set_graph_id(diags: &mut [Diagnostic], g: GraphId) {
    for d in diags {
        d.graph_id.get_or_insert(g);
    }
}

/// Most node texts attached to one report: printing a node costs a pass over its graph.
const MAX_TEXTS: usize = 100;

/// Fills [`Diagnostic::text`] with the node's statement, for graphs the printer can walk (a
/// corrupt node list or a result id that does not exist would make printing loop or panic).
fn attach_text(p: &Program, diags: &mut [Diagnostic]) {
    let mut printable: HashMap<GraphId, bool> = HashMap::new();
    for d in diags.iter_mut().take(MAX_TEXTS) {
        let (Some(gid), Some(n)) = (d.graph_id, d.node_id) else {
            continue;
        };
        let ok = *printable
            .entry(gid)
            .or_insert_with(|| printable_graph(p, gid));
        if ok && p.graphs[gid].get_node(n).is_some() {
            let t = crate::text::print_node(p, gid, n);
            if !t.is_empty() {
                d.text = Some(t);
            }
        }
    }
}

fn printable_graph(p: &Program, gid: GraphId) -> bool {
    let Some(g) = p.graphs.get(gid) else {
        return false;
    };
    if !order_is_walkable(p, gid) {
        return false;
    }
    g.nodes()
        .all(|n| g.node(n).results.iter().all(|&r| g.get_value(r).is_some()))
}

/// True when following the node list from the first node ends, visiting only existing live
/// nodes: the precondition of [`Graph::nodes`] and everything built on it.
fn order_is_walkable(p: &Program, gid: GraphId) -> bool {
    let Some(g) = p.graphs.get(gid) else {
        return false;
    };
    let mut seen = 0usize;
    let mut cur = g.first_node();
    while let Some(n) = cur {
        seen += 1;
        if n.index() >= g.node_capacity() || seen > g.node_capacity() || g.node(n).is_dead() {
            return false;
        }
        cur = g.next_node(n);
    }
    true
}

fn finish(out: Vec<Diagnostic>) -> Result<(), Vec<Diagnostic>> {
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

fn check_program(p: &Program, registry: Option<&OpRegistry>, out: &mut Vec<Diagnostic>) {
    for (name, s) in &p.symbols {
        if let (Some(lo), Some(hi)) = (s.min, s.max) {
            if lo > hi {
                out.push(
                    Diagnostic::program(format!("symbol {name} has an empty range {lo}..={hi}"))
                        .with_symbol(name),
                );
            }
        }
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (_, g) in p.graphs.iter() {
        *names.entry(g.name.as_str()).or_default() += 1;
    }
    for (_, g) in p.graphs.iter() {
        if let Some(c) = names.remove(g.name.as_str()).filter(|&c| c > 1) {
            out.push(Diagnostic::in_graph(
                g,
                format!("graph name @{} is used by {c} graphs", g.name),
            ));
        }
    }
    if p.graphs.get(p.main).is_none() {
        out.push(Diagnostic::program(format!(
            "the main graph {} does not exist",
            p.main
        )));
        return;
    }
    let mut main_ok = true;
    for (gid, _) in p.graphs.iter() {
        let start = out.len();
        let ok = check_graph(p, gid, registry, out);
        set_graph_id(&mut out[start..], gid);
        if gid == p.main {
            main_ok = ok;
        }
    }
    check_graph_recursion(p, out);
    // Pairing placeholders with the signature needs a sane node list.
    if main_ok {
        let start = out.len();
        check_signature(p, out);
        for d in &mut out[start..] {
            if !d.graph.is_empty() {
                d.graph_id = Some(p.main);
            }
        }
    }
}

/// Every graph a node references: its `call_graph` callee and `Arg::Graph` operands.
fn graph_refs(op: &Op, args: &[Arg], kwargs: &[(String, Arg)]) -> Vec<GraphId> {
    fn walk(a: &Arg, out: &mut Vec<GraphId>) {
        match a {
            Arg::Graph(g) => out.push(*g),
            Arg::List(items) => items.iter().for_each(|a| walk(a, out)),
            Arg::Dict(items) => items.iter().for_each(|(_, a)| walk(a, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Op::CallGraph { graph } = op {
        out.push(*graph);
    }
    args.iter().for_each(|a| walk(a, &mut out));
    kwargs.iter().for_each(|(_, a)| walk(a, &mut out));
    out
}

/// A graph on the DFS stack: its id, the graphs it references (with the referencing node), and
/// the next edge to follow.
type DfsFrame = (GraphId, Vec<(GraphId, NodeId)>, usize);

/// A graph that (transitively) calls itself can never be inlined or compiled.
fn check_graph_recursion(p: &Program, out: &mut Vec<Diagnostic>) {
    // Colour DFS over the graph-reference relation: 0 = unseen, 1 = on stack, 2 = done.
    let mut colour: SecondaryMap<GraphId, u8> = SecondaryMap::new();
    let callees = |g: GraphId| -> Vec<(GraphId, NodeId)> {
        let graph = &p.graphs[g];
        let mut v = Vec::new();
        // A corrupt node list is reported by check_graph; walking it here could loop forever.
        if !order_is_walkable(p, g) {
            return v;
        }
        for n in graph.nodes() {
            let nd = graph.node(n);
            for c in graph_refs(&nd.op, &nd.args, &nd.kwargs) {
                if p.graphs.get(c).is_some() {
                    v.push((c, n));
                }
            }
        }
        v
    };
    for (root, _) in p.graphs.iter() {
        if colour[root] != 0 {
            continue;
        }
        // Iterative DFS so deep call chains cannot overflow the stack.
        let mut stack: Vec<DfsFrame> = vec![(root, callees(root), 0)];
        colour[root] = 1;
        while let Some((g, edges, i)) = stack.last_mut() {
            if *i == edges.len() {
                colour[*g] = 2;
                stack.pop();
                continue;
            }
            let (c, n) = edges[*i];
            *i += 1;
            let g = *g;
            match colour[c] {
                0 => {
                    colour[c] = 1;
                    let e = callees(c);
                    stack.push((c, e, 0));
                }
                1 => {
                    let mut d = Diagnostic::at_node(
                        &p.graphs[g],
                        n,
                        format!(
                            "graph @{} is recursive: it is reached again through this node",
                            p.graphs[c].name
                        ),
                    );
                    d.graph_id = Some(g);
                    out.push(d);
                }
                _ => {}
            }
        }
    }
}

fn value_label(g: &Graph, v: ValueId) -> String {
    match g.get_value(v) {
        Some(vd) => format!("%{}", vd.name),
        None => format!("%{v}"),
    }
}

/// Checks one graph. Returns false when the node list itself is broken, in which case the
/// signature pairing is skipped (it would only repeat the same problem).
fn check_graph(
    p: &Program,
    gid: GraphId,
    registry: Option<&OpRegistry>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let g = &p.graphs[gid];
    // Walk the order list defensively: a deserialized graph may have a corrupt list.
    let mut order = Vec::new();
    let mut pos: SecondaryMap<NodeId, u32> = SecondaryMap::with_default(u32::MAX);
    let mut cur = g.first_node();
    let mut list_ok = true;
    while let Some(n) = cur {
        if n.index() >= g.node_capacity() {
            out.push(Diagnostic::in_graph(
                g,
                format!("node order list refers to nonexistent node {n}"),
            ));
            list_ok = false;
            break;
        }
        if pos[n] != u32::MAX {
            out.push(Diagnostic::at_node(
                g,
                n,
                "node appears twice in the node order (cyclic order list)",
            ));
            list_ok = false;
            break;
        }
        if g.node(n).is_dead() {
            out.push(Diagnostic::at_node(
                g,
                n,
                "removed node is still linked in the node order",
            ));
            list_ok = false;
        }
        if g.prev_node(n) != order.last().copied() {
            out.push(Diagnostic::at_node(
                g,
                n,
                "node's backward link disagrees with the node order",
            ));
            list_ok = false;
        }
        pos[n] = order.len() as u32;
        order.push(n);
        cur = g.next_node(n);
    }
    if list_ok && g.last_node() != order.last().copied() {
        out.push(Diagnostic::in_graph(
            g,
            "the graph's last-node link disagrees with the node order",
        ));
        list_ok = false;
    }
    if list_ok && order.len() != g.len() {
        out.push(Diagnostic::in_graph(
            g,
            format!(
                "graph records {} live nodes but its node order has {}",
                g.len(),
                order.len()
            ),
        ));
    }

    // Fx hashing: this map sees every node name after every pass.
    let mut names: rustc_hash::FxHashMap<&str, NodeId> = rustc_hash::FxHashMap::default();
    names.reserve(g.len());
    let mut seen_non_placeholder: Option<NodeId> = None;
    let mut outputs = Vec::new();
    // Expected uses, rebuilt from the arguments of live nodes as (value, user) pairs: one flat
    // vector sorted once, rather than a vector per value (the verifier runs after every pass).
    let mut expected_uses: Vec<(ValueId, NodeId)> = Vec::new();

    for (i, &n) in order.iter().enumerate() {
        let nd = g.node(n);
        if let Some(&first) = names.get(nd.name.as_str()) {
            out.push(Diagnostic::at_node(
                g,
                n,
                format!(
                    "node name {:?} is also the name of an earlier node ({first})",
                    nd.name
                ),
            ));
        } else {
            names.insert(nd.name.as_str(), n);
        }

        // Results: each must point back at this node, with its position.
        for (ri, &r) in nd.results.iter().enumerate() {
            match g.get_value(r) {
                None => out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!("result {ri} refers to nonexistent value {r}"),
                )),
                Some(vd) => {
                    if vd.def != n || vd.index as usize != ri {
                        out.push(Diagnostic::at_node(
                            g,
                            n,
                            format!(
                                "result {ri} (%{}) records its definition as result {} of {}",
                                vd.name, vd.index, vd.def
                            ),
                        ));
                    }
                    check_type_symbols(p, g, n, &vd.ty, || format!("result %{}", vd.name), out);
                }
            }
        }

        // Arguments: defined, live, same graph, earlier in the order.
        let mut bad_args = false;
        nd.for_each_input(|v| {
            let Some(vd) = g.get_value(v) else {
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!("argument %{v} refers to a nonexistent value"),
                ));
                bad_args = true;
                return;
            };
            expected_uses.push((v, n));
            let def_ok = vd.def.index() < g.node_capacity();
            if !def_ok {
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!(
                        "argument %{} records nonexistent node {} as its definition",
                        vd.name, vd.def
                    ),
                ));
                bad_args = true;
            } else if g.node(vd.def).results.get(vd.index as usize) != Some(&v) {
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!(
                        "argument %{} records itself as result {} of node {:?}, which does not \
                         list it",
                        vd.name,
                        vd.index,
                        g.node(vd.def).name
                    ),
                ));
                bad_args = true;
            } else if g.node(vd.def).is_dead() {
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!("argument %{} is defined by a removed node", vd.name),
                ));
                bad_args = true;
            } else if pos[vd.def] == u32::MAX {
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!(
                        "argument %{} is defined by node {:?}, which is not in the node order",
                        vd.name,
                        g.node(vd.def).name
                    ),
                ));
                bad_args = true;
            } else if pos[vd.def] as usize >= i {
                let why = if vd.def == n {
                    "it is this node's own result".to_string()
                } else {
                    format!("it is defined later, by node {:?}", g.node(vd.def).name)
                };
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!("argument %{} is not defined before use: {why}", vd.name),
                ));
                bad_args = true;
            }
        });

        match &nd.op {
            Op::Placeholder => {
                if let Some(first) = seen_non_placeholder {
                    out.push(Diagnostic::at_node(
                        g,
                        n,
                        format!(
                            "placeholder comes after non-placeholder node {:?}; placeholders \
                             must come first",
                            g.node(first).name
                        ),
                    ));
                }
                if nd.results.len() != 1 {
                    out.push(Diagnostic::at_node(
                        g,
                        n,
                        format!(
                            "placeholder has {} results, expected exactly 1",
                            nd.results.len()
                        ),
                    ));
                }
                if !nd.args.is_empty() || !nd.kwargs.is_empty() {
                    out.push(Diagnostic::at_node(g, n, "placeholder has arguments"));
                }
            }
            Op::Output => {
                outputs.push(n);
                if !nd.results.is_empty() {
                    out.push(Diagnostic::at_node(g, n, "output node has results"));
                }
                if i + 1 != order.len() {
                    out.push(Diagnostic::at_node(
                        g,
                        n,
                        "output node is not the last node of the graph",
                    ));
                }
            }
            Op::GetAttr { target } => match p.weights.get(target) {
                None => out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!("get_attr target {target:?} is not in the weight store"),
                )),
                Some(w) => {
                    if nd.results.len() != 1 {
                        out.push(Diagnostic::at_node(
                            g,
                            n,
                            format!(
                                "get_attr has {} results, expected exactly 1",
                                nd.results.len()
                            ),
                        ));
                    } else if let Some(vd) = g.get_value(nd.results[0]) {
                        if let Some(m) = weight_mismatch(&vd.ty, w.dtype, &w.shape) {
                            out.push(Diagnostic::at_node(
                                g,
                                n,
                                format!("get_attr {target:?}: {m}"),
                            ));
                        }
                    }
                }
            },
            Op::CallGraph { graph } => check_call_graph(p, g, n, *graph, bad_args, out),
            Op::Call { target } => {
                if let Some(schema) = registry.and_then(|r| r.get(target)?.schema.as_ref()) {
                    check_schema(g, n, target, schema, out);
                }
            }
        }
        if !matches!(nd.op, Op::Placeholder | Op::Output) && seen_non_placeholder.is_none() {
            seen_non_placeholder = Some(n);
        }
        for gr in graph_refs(&Op::Output, &nd.args, &nd.kwargs) {
            if p.graphs.get(gr).is_none() {
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!("argument refers to nonexistent graph {gr}"),
                ));
            }
        }
    }

    // With a broken node list, missing outputs and use-list differences are consequences of
    // the nodes not visited; reporting them would bury the real problem.
    if !list_ok {
        return false;
    }
    match outputs.len() {
        0 => out.push(Diagnostic::in_graph(g, "graph has no output node")),
        1 => {}
        k => {
            for &n in &outputs[1..] {
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!("graph has {k} output nodes, expected exactly 1"),
                ));
            }
        }
    }

    // Use lists of values defined by live nodes must equal the recomputed ones (as multisets:
    // the order of a use list is an implementation detail of the mutation methods).
    // Bucketed by value (a counting sort: linear, where sorting the pairs was n log n), each
    // bucket then sorted on its own (use lists are short).
    let nvalues = g.value_capacity();
    let mut start = vec![0u32; nvalues + 1];
    for &(v, _) in &expected_uses {
        start[v.index() + 1] += 1;
    }
    for i in 0..nvalues {
        start[i + 1] += start[i];
    }
    let mut fill: Vec<u32> = start[..nvalues].to_vec();
    let mut users = vec![NodeId::from_u32(0); expected_uses.len()];
    for &(v, u) in &expected_uses {
        users[fill[v.index()] as usize] = u;
        fill[v.index()] += 1;
    }
    drop(fill);
    let mut have: Vec<NodeId> = Vec::new();
    for &n in &order {
        for &r in &g.node(n).results {
            let Some(vd) = g.get_value(r) else { continue };
            let want = &mut users[start[r.index()] as usize..start[r.index() + 1] as usize];
            want.sort_unstable();
            let want = want.iter().copied();
            have.clear();
            have.extend_from_slice(vd.uses());
            have.sort_unstable();
            if !have.iter().copied().eq(want.clone()) {
                let want: Vec<NodeId> = want.collect();
                let names = |v: &[NodeId]| {
                    v.iter()
                        .map(|&u| match g.get_node(u) {
                            Some(d) => format!("{:?}", d.name),
                            None if u.index() < g.node_capacity() => {
                                format!("{:?} (removed)", g.node(u).name)
                            }
                            None => u.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!(
                        "use list of %{} is [{}] but the arguments of the graph use it at [{}]",
                        vd.name,
                        names(&have),
                        names(&want)
                    ),
                ));
            }
        }
    }
    list_ok
}

/// Every symbol of `ty` must be declared in the program.
fn check_type_symbols(
    p: &Program,
    g: &Graph,
    n: NodeId,
    ty: &Type,
    what: impl Fn() -> String,
    out: &mut Vec<Diagnostic>,
) {
    // The common case, static shapes, allocates nothing.
    let all_static = match ty {
        Type::Tensor(t) => t.shape.iter().all(|d| d.is_const()),
        Type::SymInt(d) => d.as_ref().is_none_or(|d| d.is_const()),
        _ => ty.dims().is_empty(),
    };
    if all_static {
        return;
    }
    for s in undeclared(p, ty.dims()) {
        let what = what();
        out.push(
            Diagnostic::at_node(
                g,
                n,
                format!("{what} has type {ty}, which uses undeclared symbol {s}"),
            )
            .with_symbol(&s),
        );
    }
}

fn undeclared<'a>(p: &Program, dims: impl IntoIterator<Item = &'a Dim>) -> Vec<SymName> {
    let mut v: Vec<SymName> = dims
        .into_iter()
        .flat_map(|d| d.symbols())
        .filter(|s| !p.symbols.contains_key(s))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Why a value of type `ty` cannot hold a weight of `dtype`/`shape`, if it cannot.
fn weight_mismatch(ty: &Type, dtype: crate::DType, shape: &[i64]) -> Option<String> {
    let Some(t) = ty.as_tensor() else {
        return Some(format!("type {ty} is not a tensor type"));
    };
    let same_shape = t.rank() == shape.len()
        && t.shape
            .iter()
            .zip(shape)
            .all(|(d, &s)| d.as_const().is_none_or(|c| c == s));
    if t.dtype != dtype || !same_shape {
        let w = crate::TensorType::new(dtype, crate::static_shape(shape));
        return Some(format!("type {ty} does not match the weight's {w}"));
    }
    None
}

fn check_call_graph(
    p: &Program,
    g: &Graph,
    n: NodeId,
    callee: GraphId,
    bad_args: bool,
    out: &mut Vec<Diagnostic>,
) {
    let nd = g.node(n);
    let Some(cg) = p.graphs.get(callee) else {
        out.push(Diagnostic::at_node(
            g,
            n,
            format!("call_graph callee {callee} does not exist"),
        ));
        return;
    };
    // The callee's own check reports a corrupt node list; walking it here could loop forever.
    if !order_is_walkable(p, callee) {
        return;
    }
    let params = cg.placeholders();
    if nd.args.len() != params.len() || !nd.kwargs.is_empty() {
        out.push(Diagnostic::at_node(
            g,
            n,
            format!(
                "call_graph passes {} arguments{} but @{} has {} placeholders",
                nd.args.len(),
                if nd.kwargs.is_empty() {
                    ""
                } else {
                    " and keyword arguments"
                },
                cg.name,
                params.len()
            ),
        ));
    } else if !bad_args {
        for (i, (a, &ph)) in nd.args.iter().zip(&params).enumerate() {
            let Some(&pv) = cg.node(ph).results.first() else {
                continue;
            };
            let Some(pvd) = cg.get_value(pv) else {
                continue;
            };
            if let Arg::Value(v) = a {
                let at = g.ty(*v);
                if *at != pvd.ty {
                    out.push(Diagnostic::at_node(
                        g,
                        n,
                        format!(
                            "call_graph argument {i} ({}) has type {at} but @{} expects {}",
                            value_label(g, *v),
                            cg.name,
                            pvd.ty
                        ),
                    ));
                }
            }
        }
    }
    let outs = cg.outputs();
    if cg.output_node().is_some() && outs.len() != nd.results.len() {
        out.push(Diagnostic::at_node(
            g,
            n,
            format!(
                "call_graph has {} results but @{} returns {} values",
                nd.results.len(),
                cg.name,
                outs.len()
            ),
        ));
    } else {
        for (i, (a, &r)) in outs.iter().zip(&nd.results).enumerate() {
            let (Arg::Value(cv), Some(rvd)) = (a, g.get_value(r)) else {
                continue;
            };
            let Some(cvd) = cg.get_value(*cv) else {
                continue;
            };
            if cvd.ty != rvd.ty {
                out.push(Diagnostic::at_node(
                    g,
                    n,
                    format!(
                        "call_graph result {i} (%{}) has type {} but @{} returns {}",
                        rvd.name, rvd.ty, cg.name, cvd.ty
                    ),
                ));
            }
        }
    }
}

/// Positional count, keyword names, required arguments, literal kinds and result count.
fn check_schema(g: &Graph, n: NodeId, target: &str, schema: &Schema, out: &mut Vec<Diagnostic>) {
    let nd = g.node(n);
    let max_pos = schema.args.iter().filter(|a| !a.kwarg_only).count();
    if nd.args.len() > max_pos {
        out.push(Diagnostic::at_node(
            g,
            n,
            format!(
                "too many positional arguments: {} given, {target} takes at most {max_pos}",
                nd.args.len()
            ),
        ));
    }
    let mut seen_kw: HashSet<&str> = HashSet::new();
    for (k, _) in &nd.kwargs {
        if !seen_kw.insert(k.as_str()) {
            out.push(Diagnostic::at_node(
                g,
                n,
                format!("keyword argument {k:?} is given twice"),
            ));
        }
        match schema.arg_index(k) {
            None => out.push(Diagnostic::at_node(
                g,
                n,
                format!("unknown keyword argument {k:?} for {target}"),
            )),
            Some(i) if i < nd.args.len() && i < max_pos => out.push(Diagnostic::at_node(
                g,
                n,
                format!("argument {k:?} is given both positionally and by keyword"),
            )),
            Some(_) => {}
        }
    }
    for (i, sa) in schema.args.iter().enumerate() {
        let given = if i < nd.args.len() && !sa.kwarg_only {
            Some(&nd.args[i])
        } else {
            nd.kwarg(&sa.name)
        };
        match given {
            None if sa.default.is_none() => out.push(Diagnostic::at_node(
                g,
                n,
                format!("missing required argument {:?} of {target}", sa.name),
            )),
            None => {}
            Some(a) => {
                if let Some(why) = arg_kind_mismatch(g, a, &sa.ty) {
                    out.push(Diagnostic::at_node(
                        g,
                        n,
                        format!("argument {:?}: {why}", sa.name),
                    ));
                }
            }
        }
    }
    // A list return (`Tensor[]`) may be represented as one list value or spread over results,
    // so only list-free return signatures have a fixed count.
    if schema.returns.iter().all(|r| r.list.is_none()) && nd.results.len() != schema.returns.len() {
        out.push(Diagnostic::at_node(
            g,
            n,
            format!(
                "{target} returns {} values but the node has {} results",
                schema.returns.len(),
                nd.results.len()
            ),
        ));
    }
}

fn schema_type_name(t: &SchemaType) -> String {
    let base = match &t.base {
        BaseType::Other(s) => s.clone(),
        b => format!("{b:?}"),
    };
    let mut s = base;
    if t.optional_elements {
        s.push('?');
    }
    match t.list {
        Some(Some(k)) => s.push_str(&format!("[{k}]")),
        Some(None) => s.push_str("[]"),
        None => {}
    }
    if t.optional {
        s.push('?');
    }
    s
}

fn arg_kind_name(g: &Graph, a: &Arg) -> String {
    match a {
        Arg::Value(v) => match g.get_value(*v) {
            Some(vd) => format!("value %{} of type {}", vd.name, vd.ty),
            None => format!("value %{v}"),
        },
        Arg::None => "None".into(),
        Arg::Bool(_) => "a bool literal".into(),
        Arg::Int(_) => "an int literal".into(),
        Arg::Float(_) => "a float literal".into(),
        Arg::Str(_) => "a string literal".into(),
        Arg::List(_) => "a list".into(),
        Arg::DType(_) => "a dtype".into(),
        Arg::Device(_) => "a device".into(),
        Arg::Layout(_) => "a layout".into(),
        Arg::MemoryFormat(_) => "a memory format".into(),
        Arg::Graph(_) => "a graph".into(),
        Arg::OpRef(_) => "an operator".into(),
        Arg::Complex(..) => "a complex literal".into(),
        Arg::Dict(_) => "a dict".into(),
    }
}

/// Why `a` cannot be passed for a parameter of type `t`, if it cannot. Deliberately lenient
/// where exports legitimately differ (a value of any non-tensor type is accepted for a scalar
/// parameter, dtypes may be ints); the point is to catch arguments shifted into the wrong slot.
fn arg_kind_mismatch(g: &Graph, a: &Arg, t: &SchemaType) -> Option<String> {
    if matches!(a, Arg::None) {
        return (!t.optional)
            .then(|| format!("None given for non-optional {}", schema_type_name(t)));
    }
    if let Arg::Value(v) = a {
        // A list parameter may receive a value of list type; anything else is checked below.
        if let Some(vd) = g.get_value(*v) {
            if t.list.is_some() && matches!(vd.ty, Type::List(_)) {
                return None;
            }
        }
    }
    let bad = || {
        Some(format!(
            "{} given for {}",
            arg_kind_name(g, a),
            schema_type_name(t)
        ))
    };
    if t.list.is_some() {
        let elem = SchemaType {
            base: t.base.clone(),
            list: None,
            optional: t.optional_elements,
            optional_elements: false,
        };
        return match a {
            Arg::List(items) => items.iter().find_map(|x| arg_kind_mismatch(g, x, &elem)),
            // ATen broadcasts a single int to an `int[N]`.
            Arg::Int(_) if matches!(t.base, BaseType::Int | BaseType::SymInt) => None,
            // A symbolic int value broadcast the same way.
            Arg::Value(_) if matches!(t.base, BaseType::Int | BaseType::SymInt) => {
                arg_kind_mismatch(g, a, &elem)
            }
            _ => bad(),
        };
    }
    let value_ty = match a {
        Arg::Value(v) => g.get_value(*v).map(|vd| &vd.ty),
        _ => None,
    };
    let ok = match &t.base {
        // Exports pass Python numbers and symbolic scalars for `Tensor` operands ("wrapped
        // numbers": `aten.mul.Tensor(%x, 0.5)`), so only non-numeric literals are wrong here.
        BaseType::Tensor => matches!(
            a,
            Arg::Value(_) | Arg::Int(_) | Arg::Float(_) | Arg::Bool(_) | Arg::Complex(..)
        ),
        BaseType::Int | BaseType::SymInt => match value_ty {
            Some(ty) => !matches!(ty, Type::Tensor(_)),
            None => matches!(a, Arg::Int(_) | Arg::Value(_)),
        },
        BaseType::Float => match value_ty {
            Some(ty) => !matches!(ty, Type::Tensor(_)),
            None => matches!(a, Arg::Int(_) | Arg::Float(_) | Arg::Value(_)),
        },
        BaseType::Bool => match value_ty {
            Some(ty) => !matches!(ty, Type::Tensor(_)),
            None => matches!(a, Arg::Bool(_) | Arg::Value(_)),
        },
        BaseType::Scalar => match value_ty {
            Some(ty) => !matches!(ty, Type::Tensor(_)),
            None => matches!(
                a,
                Arg::Int(_) | Arg::Float(_) | Arg::Bool(_) | Arg::Complex(..) | Arg::Value(_)
            ),
        },
        BaseType::ScalarType => matches!(a, Arg::DType(_) | Arg::Int(_) | Arg::Value(_)),
        BaseType::Str => matches!(a, Arg::Str(_) | Arg::Value(_)),
        BaseType::Layout => matches!(a, Arg::Layout(_) | Arg::Int(_) | Arg::Value(_)),
        BaseType::Device => matches!(a, Arg::Device(_) | Arg::Str(_) | Arg::Value(_)),
        BaseType::MemoryFormat => matches!(a, Arg::MemoryFormat(_) | Arg::Int(_) | Arg::Value(_)),
        BaseType::Generator | BaseType::Dimname | BaseType::Other(_) => true,
    };
    if ok {
        None
    } else {
        bad()
    }
}

/// Placeholders and outputs of the main graph against the signature; weights; input specs.
fn check_signature(p: &Program, out: &mut Vec<Diagnostic>) {
    let g = p.main_graph();
    let sig = &p.signature;
    let phs = g.placeholders();
    if phs.len() != sig.inputs.len() {
        out.push(Diagnostic::in_graph(
            g,
            format!(
                "main graph has {} placeholders but the signature lists {} inputs",
                phs.len(),
                sig.inputs.len()
            ),
        ));
    }
    let outs = g.outputs();
    if g.output_node().is_some() && outs.len() != sig.outputs.len() {
        out.push(Diagnostic::at_node(
            g,
            g.output_node().expect("checked above"),
            format!(
                "main graph returns {} values but the signature lists {} outputs",
                outs.len(),
                sig.outputs.len()
            ),
        ));
    }

    let ph_ty = |n: NodeId| -> Option<&Type> {
        let r = *g.node(n).results.first()?;
        g.get_value(r).map(|vd| &vd.ty)
    };
    let mut user_phs = Vec::new();
    for (i, (kind, &ph)) in sig.inputs.iter().zip(&phs).enumerate() {
        if let InputKind::User { name } = kind {
            user_phs.push((i, name.as_str(), ph));
        }
        let Some(target) = kind.weight_target() else {
            continue;
        };
        let Some(w) = p.weights.get(target) else {
            out.push(Diagnostic::at_node(
                g,
                ph,
                format!("signature input {i} refers to weight {target:?}, which is not in the weight store"),
            ));
            continue;
        };
        if let Some(ty) = ph_ty(ph) {
            if let Some(m) = weight_mismatch(ty, w.dtype, &w.shape) {
                out.push(Diagnostic::at_node(
                    g,
                    ph,
                    format!("signature input {i} (weight {target:?}): {m}"),
                ));
            }
        }
    }

    // Weight byte counts: a short buffer would be read out of bounds by every backend.
    for (name, w) in &p.weights {
        if let WeightData::Bytes(b) = &w.data {
            if w.shape.iter().any(|&d| d < 0) {
                out.push(Diagnostic::program(format!(
                    "weight {name:?} has a negative dim in shape {:?}",
                    w.shape
                )));
            } else if b.len() != w.nbytes() {
                out.push(Diagnostic::program(format!(
                    "weight {name:?} holds {} bytes but {} needs {}",
                    b.len(),
                    crate::TensorType::new(w.dtype, crate::static_shape(&w.shape)),
                    w.nbytes()
                )));
            }
        }
    }

    if p.input_specs.len() != user_phs.len() {
        out.push(Diagnostic::in_graph(
            g,
            format!(
                "the signature has {} user inputs but there are {} input specs",
                user_phs.len(),
                p.input_specs.len()
            ),
        ));
    }
    for (spec, &(i, uname, ph)) in p.input_specs.iter().zip(&user_phs) {
        let at =
            |m: String| Diagnostic::at_node(g, ph, format!("input spec {:?}: {m}", spec.name()));
        if spec.name() != uname {
            out.push(at(format!(
                "pairs with signature input {i}, which is named {uname:?}"
            )));
        }
        let ty = ph_ty(ph);
        match spec {
            InputSpec::Tensor { dtype, dims, .. } => {
                let Some(t) = ty.and_then(Type::as_tensor) else {
                    out.push(at(format!(
                        "is a tensor spec but the placeholder has type {}",
                        ty.map_or("?".into(), |t| t.to_string())
                    )));
                    continue;
                };
                if t.dtype != *dtype {
                    out.push(at(format!(
                        "dtype {dtype} differs from the placeholder's {}",
                        t.dtype
                    )));
                }
                if t.rank() != dims.len() {
                    out.push(at(format!(
                        "has {} dims but the placeholder has rank {}",
                        dims.len(),
                        t.rank()
                    )));
                }
                for (ax, (ds, d)) in dims.iter().zip(&t.shape).enumerate() {
                    match ds {
                        DimSpec::Static(k) => {
                            if let Some(c) = d.as_const().filter(|c| c != k) {
                                out.push(at(format!(
                                    "dim {ax} is static {k} but the placeholder's dim is {c}"
                                )));
                            }
                        }
                        DimSpec::Dynamic { sym, min, opt, max } => {
                            if !(min <= opt && opt <= max) {
                                out.push(at(format!(
                                    "dim {ax} needs min <= opt <= max, got {min}, {opt}, {max}"
                                )));
                            }
                            if let Some(s) = sym {
                                if !p.symbols.contains_key(s) {
                                    out.push(
                                        at(format!("dim {ax} uses undeclared symbol {s}"))
                                            .with_symbol(s),
                                    );
                                }
                            }
                        }
                    }
                }
            }
            InputSpec::Scalar { .. } => {
                let ok = matches!(
                    ty,
                    Some(
                        Type::SymInt(_)
                            | Type::SymFloat
                            | Type::SymBool
                            | Type::Int
                            | Type::Float
                            | Type::Bool
                    )
                );
                if !ok {
                    out.push(at(format!(
                        "is a scalar spec but the placeholder has type {}",
                        ty.map_or("?".into(), |t| t.to_string())
                    )));
                }
            }
        }
    }
    for spec in p.input_specs.iter().skip(user_phs.len()) {
        out.push(Diagnostic::program(format!(
            "input spec {:?} pairs with no user input",
            spec.name()
        )));
    }
}
