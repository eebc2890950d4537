//! Capability-based partitioning into TensorRT and fallback segments, and outlining.
//!
//! # Algorithm
//! Every `call_function` node is *supported* (its capability says yes and it is not forced to
//! fallback) or not. Segments must be convex: merging two nodes into one segment must not create
//! a path that leaves the segment and comes back, or the segment graph would have a cycle and
//! could not be executed in order.
//!
//! 1. **Phases (linear).** In program order, each node gets the smallest phase that is at least
//!    every operand's phase and has its kind's parity (supported: even, fallback: odd). Phases
//!    never decrease along an edge and strictly increase when the kind changes, so any grouping
//!    of equal-phase supported nodes is acyclic. A reverse sweep then moves every supported node
//!    to the latest phase its users allow (as late as possible), which lets independent branches
//!    join the segment that follows them instead of forming their own.
//! 2. **Segments.** Supported nodes of one phase form one TensorRT segment; each fallback node
//!    starts alone (grouping unrelated fallback nodes early would tie together TensorRT segments
//!    that could otherwise merge).
//! 3. **Merging (maximality).** Two TensorRT segments `A`, `B` merge when no path leads from one
//!    to the other through a third segment, checked by a DFS on the segment graph bounded by
//!    topological index. All pairs are tried when there are at most
//!    [`ALL_PAIRS_LIMIT`] TensorRT segments; beyond that, pairs joined by an edge and pairs
//!    consecutive in execution order, which keeps large graphs near-linear.
//! 4. **Order.** Segments are put in a deterministic topological order that follows the program,
//!    and runs of consecutive fallback nodes become one fallback segment.
//! 5. **min-block-size.** TensorRT segments with fewer compute nodes (nodes producing a tensor)
//!    fall back, and the plan is recomputed with those nodes unsupported.
//!
//! Outlining turns each segment into a subgraph with explicit inputs (every value it reads from
//! outside, parameters included) and outputs (every value used outside), called from the main
//! graph in execution order with `call_graph`.

use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use trtfx_ir::{Arg, Graph, GraphId, NodeBuilder, NodeId, Op, Program, Type, ValueId};

/// Beyond this many TensorRT segments the merge step only tries edge-adjacent and consecutive
/// pairs (see the module docs).
pub const ALL_PAIRS_LIMIT: usize = 256;

/// Whether a backend can take a node. The TensorRT backend implements it through its converter
/// registry; tests plug in simple rules.
pub trait Capability {
    /// `Ok(())` if the node is supported, else the reason.
    fn supports(&self, graph: &Graph, node: NodeId) -> Result<(), String>;
}

impl<F: Fn(&Graph, NodeId) -> Result<(), String>> Capability for F {
    fn supports(&self, graph: &Graph, node: NodeId) -> Result<(), String> {
        self(graph, node)
    }
}

/// Partitioning options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionOptions {
    /// TensorRT segments with fewer compute nodes fall back.
    pub min_block_size: usize,
    /// Operators forced to fallback (`aten.embedding.default`).
    pub fallback_ops: Vec<String>,
    /// Fail unless everything lands in one TensorRT segment.
    pub require_full_compilation: bool,
}

impl Default for PartitionOptions {
    fn default() -> Self {
        PartitionOptions {
            min_block_size: 5,
            fallback_ops: Vec::new(),
            require_full_compilation: false,
        }
    }
}

/// Where a segment runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// A TensorRT engine.
    Trt,
    /// The CPU fallback executor.
    Fallback,
}

impl Backend {
    /// `trt` or `fallback`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Trt => "trt",
            Backend::Fallback => "fallback",
        }
    }
}

/// A segment: nodes of one backend, in program order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Where it runs.
    pub backend: Backend,
    /// Its nodes in program order.
    pub nodes: Vec<NodeId>,
}

/// The result of planning: segments in execution order and why nodes are unsupported.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Segments in an executable (topological) order.
    pub segments: Vec<Segment>,
    /// Nodes that are not on TensorRT, with the reason.
    pub reasons: IndexMap<NodeId, String>,
}

/// Partitioning failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// `require_full_compilation` and some nodes are not supported.
    #[error("full compilation required, but {} node(s) cannot run on TensorRT:\n{}", .0.len(), .0.iter().map(|(n, r)| format!("  {n}: {r}")).collect::<Vec<_>>().join("\n"))]
    NotFullyConvertible(Vec<(String, String)>),
    /// A malformed graph.
    #[error("{0}")]
    Graph(String),
}

fn is_compute(g: &Graph, n: NodeId) -> bool {
    g.node(n)
        .results
        .iter()
        .any(|&r| matches!(g.ty(r), Type::Tensor(_)))
}

fn partitionable(g: &Graph, n: NodeId) -> bool {
    matches!(g.node(n).op, Op::Call { .. } | Op::CallGraph { .. })
}

/// Plans the segments of graph `g`.
pub fn plan(
    g: &Graph,
    cap: &dyn Capability,
    opts: &PartitionOptions,
) -> Result<Plan, PartitionError> {
    let order: Vec<NodeId> = g.nodes().filter(|&n| partitionable(g, n)).collect();
    let mut reasons: IndexMap<NodeId, String> = IndexMap::new();
    for &n in &order {
        let node = g.node(n);
        let forced = node
            .op
            .target()
            .is_some_and(|t| opts.fallback_ops.iter().any(|f| f == t));
        if forced {
            reasons.insert(n, "forced to fallback by fallback-ops".into());
        } else if let Err(why) = cap.supports(g, n) {
            reasons.insert(n, why);
        }
    }
    if opts.require_full_compilation && !reasons.is_empty() {
        return Err(PartitionError::NotFullyConvertible(
            reasons
                .iter()
                .map(|(n, r)| (g.node(*n).name.clone(), r.clone()))
                .collect(),
        ));
    }
    let dag = NodeDag::new(g, &order);
    let mut supported: Vec<bool> = order.iter().map(|n| !reasons.contains_key(n)).collect();
    // Re-plan until no TensorRT segment is below min-block-size.
    loop {
        let segments = plan_once(&order, &dag, &supported);
        let mut demoted = false;
        for s in &segments {
            if s.backend != Backend::Trt {
                continue;
            }
            let compute = s.nodes.iter().filter(|&&n| is_compute(g, n)).count();
            if compute < opts.min_block_size {
                for &n in &s.nodes {
                    reasons.insert(
                        n,
                        format!(
                            "in a TensorRT segment of {compute} compute node(s), below min-block-size {}",
                            opts.min_block_size
                        ),
                    );
                    supported[dag.pos[n.as_u32() as usize]] = false;
                }
                demoted = true;
            }
        }
        if !demoted {
            return Ok(Plan { segments, reasons });
        }
    }
}

/// Data dependencies between the partitionable nodes, as compressed adjacency arrays (one
/// allocation each instead of one per node: graphs reach 10^6 nodes).
struct NodeDag {
    /// Position in `order` of each node id; `usize::MAX` for other nodes.
    pos: Vec<usize>,
    pred_off: Vec<usize>,
    pred: Vec<usize>,
    succ_off: Vec<usize>,
    succ: Vec<usize>,
}

impl NodeDag {
    fn new(g: &Graph, order: &[NodeId]) -> Self {
        let mut pos = vec![usize::MAX; g.node_capacity()];
        for (i, &n) in order.iter().enumerate() {
            pos[n.as_u32() as usize] = i;
        }
        let mut pred_off = Vec::with_capacity(order.len() + 1);
        let mut pred = Vec::with_capacity(order.len() * 2);
        let mut out_deg = vec![0usize; order.len()];
        for &n in order {
            pred_off.push(pred.len());
            g.node(n).for_each_input(|x| {
                let p = pos[g.value(x).def.as_u32() as usize];
                if p != usize::MAX {
                    pred.push(p);
                    out_deg[p] += 1;
                }
            });
        }
        pred_off.push(pred.len());
        let mut succ_off = Vec::with_capacity(order.len() + 1);
        let mut acc = 0;
        for d in &out_deg {
            succ_off.push(acc);
            acc += d;
        }
        succ_off.push(acc);
        let mut fill = succ_off.clone();
        let mut succ = vec![0usize; acc];
        for i in 0..order.len() {
            for &p in &pred[pred_off[i]..pred_off[i + 1]] {
                succ[fill[p]] = i;
                fill[p] += 1;
            }
        }
        NodeDag {
            pos,
            pred_off,
            pred,
            succ_off,
            succ,
        }
    }

    fn preds(&self, i: usize) -> &[usize] {
        &self.pred[self.pred_off[i]..self.pred_off[i + 1]]
    }

    fn succs(&self, i: usize) -> &[usize] {
        &self.succ[self.succ_off[i]..self.succ_off[i + 1]]
    }
}

fn plan_once(order: &[NodeId], dag: &NodeDag, supported: &[bool]) -> Vec<Segment> {
    // 1. ASAP phases with parity, then ALAP for supported nodes.
    let kind_parity = |i: usize| if supported[i] { 0u64 } else { 1u64 };
    let mut phase = vec![0u64; order.len()];
    for i in 0..order.len() {
        let base = dag.preds(i).iter().map(|&p| phase[p]).max().unwrap_or(0);
        phase[i] = if base % 2 == kind_parity(i) {
            base
        } else {
            base + 1
        };
    }
    let max_phase = phase.iter().copied().max().unwrap_or(0);
    for i in (0..order.len()).rev() {
        if kind_parity(i) != 0 {
            continue;
        }
        let limit = dag
            .succs(i)
            .iter()
            .map(|&s| phase[s])
            .min()
            .unwrap_or(max_phase);
        let latest = if limit % 2 == 0 { limit } else { limit - 1 };
        if latest > phase[i] {
            phase[i] = latest;
        }
    }
    // 2. Initial segments: supported nodes by phase; every fallback node on its own for now
    //    (fallback nodes are coalesced at the end, so they never tie TensorRT segments together).
    let mut seg_of = vec![usize::MAX; order.len()];
    let mut segs: Vec<(Backend, Vec<usize>)> = Vec::new();
    let mut trt_by_phase: HashMap<u64, usize> = HashMap::new();
    for i in 0..order.len() {
        let s = if kind_parity(i) == 0 {
            *trt_by_phase.entry(phase[i]).or_insert_with(|| {
                segs.push((Backend::Trt, Vec::new()));
                segs.len() - 1
            })
        } else {
            segs.push((Backend::Fallback, Vec::new()));
            segs.len() - 1
        };
        seg_of[i] = s;
        segs[s].1.push(i);
    }
    // 3. Merge TensorRT segments while no path through a third segment joins them. The
    //    segment graph is kept at segment level and updated in place on each merge.
    let mut alive = vec![true; segs.len()];
    let mut succ_set: Vec<HashSet<usize>> = vec![HashSet::new(); segs.len()];
    let mut pred_set: Vec<HashSet<usize>> = vec![HashSet::new(); segs.len()];
    for i in 0..order.len() {
        for &j in dag.succs(i) {
            let (a, b) = (seg_of[i], seg_of[j]);
            if a != b {
                succ_set[a].insert(b);
                pred_set[b].insert(a);
            }
        }
    }
    let mut min_node: Vec<usize> = segs
        .iter()
        .map(|(_, v)| v.iter().copied().min().unwrap_or(usize::MAX))
        .collect();
    // Merging only adds connectivity, so a pair that cannot merge never can later: remember it.
    let mut failed: HashSet<(usize, usize)> = HashSet::new();
    loop {
        let (succ, topo_index, topo) = segment_dag(&succ_set, &alive, &min_node);
        let trt: Vec<usize> = topo
            .iter()
            .copied()
            .filter(|&s| segs[s].0 == Backend::Trt)
            .collect();
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        if trt.len() <= ALL_PAIRS_LIMIT {
            for (k, &a) in trt.iter().enumerate() {
                for &b in &trt[k + 1..] {
                    candidates.push((a, b));
                }
            }
        } else {
            for w in trt.windows(2) {
                candidates.push((w[0], w[1]));
            }
            for &a in &trt {
                for &b in &succ[a] {
                    if segs[b].0 == Backend::Trt {
                        candidates.push((a, b));
                    }
                }
            }
        }
        let mut merged_any = false;
        for (a, b) in candidates {
            let (a, b) = if topo_index[a] < topo_index[b] {
                (a, b)
            } else {
                (b, a)
            };
            if failed.contains(&(a, b)) {
                continue;
            }
            if indirect_path(a, b, &succ, &topo_index) {
                failed.insert((a, b));
            } else {
                let moved = std::mem::take(&mut segs[b].1);
                segs[a].1.extend(moved);
                alive[b] = false;
                min_node[a] = min_node[a].min(min_node[b]);
                for t in std::mem::take(&mut succ_set[b]) {
                    pred_set[t].remove(&b);
                    if t != a {
                        pred_set[t].insert(a);
                        succ_set[a].insert(t);
                    }
                }
                for q in std::mem::take(&mut pred_set[b]) {
                    succ_set[q].remove(&b);
                    if q != a {
                        succ_set[q].insert(a);
                        pred_set[a].insert(q);
                    }
                }
                merged_any = true;
                break;
            }
        }
        if !merged_any {
            // 4. Execution order; runs of consecutive fallback nodes become one segment (merging
            //    neighbours in a topological order cannot create a cycle).
            let mut out: Vec<Segment> = Vec::new();
            for s in topo.into_iter().filter(|&s| alive[s]) {
                let backend = segs[s].0;
                let nodes = segs[s].1.iter().map(|&i| order[i]);
                match out.last_mut() {
                    Some(last)
                        if backend == Backend::Fallback && last.backend == Backend::Fallback =>
                    {
                        last.nodes.extend(nodes)
                    }
                    _ => out.push(Segment {
                        backend,
                        nodes: nodes.collect(),
                    }),
                }
            }
            for seg in &mut out {
                seg.nodes.sort_by_key(|n| dag.pos[n.as_u32() as usize]);
            }
            return out;
        }
    }
}

type SegDag = (Vec<Vec<usize>>, Vec<usize>, Vec<usize>);

/// A topological order of the live segments, each segment's index in it, and sorted successor
/// lists. Ties break by the smallest node position, so the order is deterministic and follows
/// the program where it can.
fn segment_dag(succ_set: &[HashSet<usize>], alive: &[bool], min_node: &[usize]) -> SegDag {
    let n = succ_set.len();
    let mut indeg = vec![0usize; n];
    for (s, ss) in succ_set.iter().enumerate() {
        if alive[s] {
            for &t in ss {
                indeg[t] += 1;
            }
        }
    }
    let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<(usize, usize)>> = (0..n)
        .filter(|&s| alive[s] && indeg[s] == 0)
        .map(|s| std::cmp::Reverse((min_node[s], s)))
        .collect();
    let mut topo = Vec::new();
    let mut topo_index = vec![usize::MAX; n];
    while let Some(std::cmp::Reverse((_, s))) = ready.pop() {
        topo_index[s] = topo.len();
        topo.push(s);
        for &t in &succ_set[s] {
            indeg[t] -= 1;
            if indeg[t] == 0 {
                ready.push(std::cmp::Reverse((min_node[t], t)));
            }
        }
    }
    let succ: Vec<Vec<usize>> = succ_set
        .iter()
        .map(|s| {
            let mut v: Vec<usize> = s.iter().copied().collect();
            v.sort_unstable();
            v
        })
        .collect();
    (succ, topo_index, topo)
}

/// True if a path of length >= 2 leads from `a` to `b` (through some third segment). Only
/// segments between them in topological order can lie on such a path, which bounds the search.
fn indirect_path(a: usize, b: usize, succ: &[Vec<usize>], topo_index: &[usize]) -> bool {
    let limit = topo_index[b];
    let mut seen = HashSet::new();
    let mut stack: Vec<usize> = succ[a]
        .iter()
        .copied()
        .filter(|&s| s != b && topo_index[s] < limit)
        .collect();
    while let Some(s) = stack.pop() {
        if !seen.insert(s) {
            continue;
        }
        for &t in &succ[s] {
            if t == b {
                return true;
            }
            if topo_index[t] < limit && !seen.contains(&t) {
                stack.push(t);
            }
        }
    }
    false
}

/// A partition report: segments, unsupported nodes with reasons, totals.
pub fn report(g: &Graph, plan: &Plan) -> String {
    let mut out = String::new();
    let compute_total = plan
        .segments
        .iter()
        .flat_map(|s| s.nodes.iter())
        .filter(|&&n| is_compute(g, n))
        .count();
    let compute_trt = plan
        .segments
        .iter()
        .filter(|s| s.backend == Backend::Trt)
        .flat_map(|s| s.nodes.iter())
        .filter(|&&n| is_compute(g, n))
        .count();
    for (i, s) in plan.segments.iter().enumerate() {
        let mut hist: BTreeMap<String, usize> = BTreeMap::new();
        for &n in &s.nodes {
            let name = match &g.node(n).op {
                Op::Call { target } => target.clone(),
                other => other.opcode().to_string(),
            };
            *hist.entry(name).or_insert(0) += 1;
        }
        let _ = writeln!(
            out,
            "segment {i}: {} ({} nodes)",
            s.backend.name(),
            s.nodes.len()
        );
        for (op, k) in hist {
            let _ = writeln!(out, "  {k:>5} {op}");
        }
    }
    if !plan.reasons.is_empty() {
        let _ = writeln!(out, "not on TensorRT:");
        for (n, why) in &plan.reasons {
            let node = g.node(*n);
            let op = node.op.target().unwrap_or(node.op.opcode());
            let _ = writeln!(out, "  {} ({op}): {why}", node.name);
        }
    }
    let pct = if compute_total == 0 {
        100.0
    } else {
        100.0 * compute_trt as f64 / compute_total as f64
    };
    let _ = writeln!(
        out,
        "total: {} segment(s), {compute_trt}/{compute_total} compute nodes on TensorRT ({pct:.1}%)",
        plan.segments.len()
    );
    out
}

/// Outlines every segment of `plan` (made for graph `gid`) into a subgraph named
/// `<graph>_seg<i>_<backend>` and calls it from `gid`. Returns the new subgraphs in execution
/// order.
///
/// Graph `gid` is rebuilt rather than edited in place: its nodes outside the plan keep their
/// order, then come the calls in segment order, then the output node. Node and value ids of
/// `gid` are renumbered densely. The plan is checked first (every node in at most one segment,
/// segments in an executable order); nothing is changed when that fails.
pub fn outline(p: &mut Program, gid: GraphId, plan: &Plan) -> Result<Vec<GraphId>, PartitionError> {
    const NONE: u32 = u32::MAX;
    let g = &p.graphs[gid];
    let gname = g.name.clone();
    let out_node = g
        .output_node()
        .ok_or_else(|| PartitionError::Graph(format!("graph @{gname} has no output node")))?;
    // Dense tables instead of hash sets (graphs reach 10^6 nodes): the segment of each node, and
    // for values the segment that last took them as an input and their copy in that segment's
    // subgraph.
    let mut seg_of = vec![NONE; g.node_capacity()];
    for (i, seg) in plan.segments.iter().enumerate() {
        for &n in &seg.nodes {
            if g.get_node(n).is_none_or(|d| d.is_dead()) || n == out_node {
                return Err(PartitionError::Graph(format!(
                    "{n} cannot be outlined from @{gname}"
                )));
            }
            let slot = &mut seg_of[n.as_u32() as usize];
            if *slot != NONE {
                return Err(PartitionError::Graph(format!("{n} is in two segments")));
            }
            *slot = i as u32;
        }
    }
    let seg_of_node = |n: NodeId| seg_of[n.as_u32() as usize];
    // Executable order: nodes outside the plan (they stay before the calls) read no segment's
    // results, and each segment reads only earlier segments' results.
    for n in g.nodes() {
        if seg_of_node(n) != NONE || n == out_node {
            continue;
        }
        let mut bad = None;
        g.node(n).for_each_input(|v| {
            if seg_of_node(g.value(v).def) != NONE {
                bad = Some(v);
            }
        });
        if let Some(v) = bad {
            return Err(PartitionError::Graph(format!(
                "{} is outside the plan but reads {}, a segment's result",
                g.node(n).name,
                g.value(v).name
            )));
        }
    }
    // Inputs (external values in order of first use) and outputs (values used outside, in
    // definition order) of every segment.
    let mut seen_by: Vec<u32> = vec![NONE; g.value_capacity()];
    let mut io: Vec<(Vec<ValueId>, Vec<ValueId>)> = Vec::with_capacity(plan.segments.len());
    for (i, seg) in plan.segments.iter().enumerate() {
        let stamp = i as u32;
        let mut inputs: Vec<ValueId> = Vec::new();
        let mut later = None;
        for &n in &seg.nodes {
            g.node(n).for_each_input(|v| {
                let k = v.as_u32() as usize;
                let ds = seg_of_node(g.value(v).def);
                if seen_by[k] != stamp && ds != stamp {
                    seen_by[k] = stamp;
                    inputs.push(v);
                    if ds != NONE && ds > stamp {
                        later = Some(v);
                    }
                }
            });
        }
        if let Some(v) = later {
            return Err(PartitionError::Graph(format!(
                "segment {i} reads {} from a later segment",
                g.value(v).name
            )));
        }
        let mut outputs: Vec<ValueId> = Vec::new();
        for &n in &seg.nodes {
            for &r in &g.node(n).results {
                if g.value(r).uses().iter().any(|&u| seg_of_node(u) != stamp) {
                    outputs.push(r);
                }
            }
        }
        io.push((inputs, outputs));
    }
    // From here on nothing fails. Build the subgraphs.
    let g = std::mem::replace(&mut p.graphs[gid], Graph::new(gname.clone()));
    let mut copy: Vec<(u32, ValueId)> = vec![(NONE, ValueId::from_u32(0)); g.value_capacity()];
    let mut created = Vec::with_capacity(plan.segments.len());
    for (i, (seg, (inputs, outputs))) in plan.segments.iter().zip(&io).enumerate() {
        let stamp = i as u32;
        let mut sub = Graph::new(format!("{gname}_seg{i}_{}", seg.backend.name()));
        // Placeholders are named after the outside values they receive; an inner node may
        // carry the same node name (multi-output nodes are named apart from their values), so
        // names are made unique within the subgraph. With few inputs (the common case on long
        // chains) the segment's names are scanned instead of hashed.
        let few = inputs.len() <= 4;
        let mut taken: HashSet<&str> = HashSet::new();
        if !few {
            for &n in &seg.nodes {
                taken.insert(&g.node(n).name);
                for &r in &g.node(n).results {
                    taken.insert(&g.value(r).name);
                }
            }
        }
        let in_segment = |name: &str| {
            if few {
                seg.nodes.iter().any(|&n| {
                    g.node(n).name == name
                        || g.node(n).results.iter().any(|&r| g.value(r).name == name)
                })
            } else {
                taken.contains(name)
            }
        };
        let mut placeholders: HashSet<String> = HashSet::new();
        for &v in inputs {
            let vd = g.value(v);
            let free = |name: &str| !in_segment(name) && !placeholders.contains(name);
            let name = if free(&vd.name) {
                vd.name.clone()
            } else {
                (1..)
                    .map(|k| format!("{}_in{k}", vd.name))
                    .find(|c| free(c))
                    .expect("a free name")
            };
            placeholders.insert(name.clone());
            let ph = sub.append(NodeBuilder::new(Op::Placeholder).result(name, vd.ty.clone()));
            copy[v.as_u32() as usize] = (stamp, sub.node(ph).results[0]);
        }
        // Values read inside the segment are inputs (copied above) or results of earlier
        // nodes of the segment (copied below, before any use: program order).
        let lookup = |copy: &[(u32, ValueId)], v: ValueId| match copy[v.as_u32() as usize] {
            (s, c) if s == stamp => c,
            _ => v,
        };
        for &n in &seg.nodes {
            let new = copy_node(&g, n, &mut sub, |v| lookup(&copy, v));
            for (k, &r) in g.node(n).results.iter().enumerate() {
                copy[r.as_u32() as usize] = (stamp, sub.node(new).results[k]);
            }
        }
        sub.append(
            NodeBuilder::new(Op::Output).args(
                outputs
                    .iter()
                    .map(|&v| Arg::Value(lookup(&copy, v)))
                    .collect(),
            ),
        );
        created.push(p.add_graph(sub));
    }
    // The new main graph: nodes outside the plan, the calls, the output. `copy` now maps old
    // values to new main-graph values (stamp `NONE - 1`); the checks above guarantee every
    // value is mapped before it is read.
    const MAIN: u32 = NONE - 1;
    let mut main = Graph::new(gname);
    let lookup = |copy: &[(u32, ValueId)], v: ValueId| match copy[v.as_u32() as usize] {
        (MAIN, c) => c,
        _ => v,
    };
    let copy_into_main = |main: &mut Graph, copy: &mut [(u32, ValueId)], n: NodeId| {
        let new = copy_node(&g, n, main, |v| lookup(copy, v));
        for (k, &r) in g.node(n).results.iter().enumerate() {
            copy[r.as_u32() as usize] = (MAIN, main.node(new).results[k]);
        }
    };
    for n in g.nodes() {
        if seg_of_node(n) == NONE && n != out_node {
            copy_into_main(&mut main, &mut copy, n);
        }
    }
    for (i, ((seg, (inputs, outputs)), &sub_id)) in
        plan.segments.iter().zip(&io).zip(&created).enumerate()
    {
        let mut call = NodeBuilder::new(Op::CallGraph { graph: sub_id })
            .args(
                inputs
                    .iter()
                    .map(|&v| Arg::Value(lookup(&copy, v)))
                    .collect(),
            )
            .name(format!("seg{i}_{}", seg.backend.name()));
        for &v in outputs {
            call = call.result(g.value(v).name.clone(), g.ty(v).clone());
        }
        let call_id = main.append(call);
        for (k, &v) in outputs.iter().enumerate() {
            copy[v.as_u32() as usize] = (MAIN, main.node(call_id).results[k]);
        }
    }
    copy_into_main(&mut main, &mut copy, out_node);
    p.graphs[gid] = main;
    Ok(created)
}

/// Appends a copy of node `n` of `g` to `to`, with its values renamed by `map`.
fn copy_node(g: &Graph, n: NodeId, to: &mut Graph, map: impl Fn(ValueId) -> ValueId) -> NodeId {
    let nd = g.node(n);
    let remap = |a: &Arg| {
        let mut a = a.clone();
        a.map_values(&mut |v| map(v));
        a
    };
    let mut b = NodeBuilder::new(nd.op.clone())
        .args(nd.args.iter().map(remap).collect())
        .name(nd.name.clone());
    b.kwargs = nd
        .kwargs
        .iter()
        .map(|(k, a)| (k.clone(), remap(a)))
        .collect();
    for &r in &nd.results {
        b = b.result(g.value(r).name.clone(), g.ty(r).clone());
    }
    let new = to.append(b);
    *to.node_meta_mut(new) = nd.meta.clone();
    new
}

/// A capability that accepts every `aten.*` operator and nothing else: the stand-in used by the
/// pass registry when no backend registered its own (`partition{backend=aten}`); tests and
/// `ir-opt` without a backend use it. Custom ops and higher-order ops fall back.
#[derive(Clone, Copy, Debug, Default)]
pub struct AtenCapability;

impl Capability for AtenCapability {
    fn supports(&self, g: &Graph, n: NodeId) -> Result<(), String> {
        match &g.node(n).op {
            Op::Call { target } if target.starts_with("aten.") => Ok(()),
            Op::Call { target } => Err(format!("`{target}` is not an ATen operator")),
            other => Err(format!("{} nodes are not converted", other.opcode())),
        }
    }
}

/// A shared capability handle for the pass.
pub type SharedCapability = std::sync::Arc<dyn Capability + Send + Sync>;

/// The `partition` pass: plans the main graph and outlines its segments (or, with
/// `dry-run=true`, only reports). Options: `backend` (the capability's name, informational),
/// `min-block-size`, `fallback-ops=[...]`, `require-full-compilation`, `dry-run`.
pub struct PartitionPass {
    backend: String,
    capability: SharedCapability,
    options: PartitionOptions,
    dry_run: bool,
    /// The report of the last run (also written to stderr on a dry run).
    pub last_report: Option<String>,
}

impl PartitionPass {
    /// A partition pass with a capability.
    pub fn new(
        backend: impl Into<String>,
        capability: SharedCapability,
        options: PartitionOptions,
    ) -> Self {
        PartitionPass {
            backend: backend.into(),
            capability,
            options,
            dry_run: false,
            last_report: None,
        }
    }

    /// Builds the pass from pipeline options.
    pub fn from_options(
        backend: &str,
        capability: SharedCapability,
        o: &crate::options::OptionMap,
    ) -> Result<Self, crate::options::OptionError> {
        let mut r = crate::options::OptionReader::new("partition", o);
        let written_backend: String = r.get("backend", backend.to_string())?;
        let d = PartitionOptions::default();
        let options = PartitionOptions {
            min_block_size: r.get("min-block-size", d.min_block_size)?,
            fallback_ops: r.get("fallback-ops", d.fallback_ops)?,
            require_full_compilation: r.get("require-full-compilation", false)?,
        };
        let dry_run = r.get("dry-run", false)?;
        r.finish()?;
        if written_backend != backend {
            return Err(crate::options::OptionError {
                pass: "partition".into(),
                option: "backend".into(),
                message: format!(
                    "pass `partition` has no backend `{written_backend}` registered (this registry has `{backend}`)"
                ),
                offset: None,
            });
        }
        let mut p = PartitionPass::new(backend, capability, options);
        p.dry_run = dry_run;
        Ok(p)
    }
}

impl crate::pass::Pass for PartitionPass {
    fn name(&self) -> &str {
        "partition"
    }

    fn options(&self) -> crate::options::PassOptions {
        let d = PartitionOptions::default();
        crate::options::PassOptions::new()
            .with("backend", &self.backend, &self.backend)
            .with(
                "min-block-size",
                &self.options.min_block_size,
                &d.min_block_size,
            )
            .with("fallback-ops", &self.options.fallback_ops, &d.fallback_ops)
            .with(
                "require-full-compilation",
                &self.options.require_full_compilation,
                &false,
            )
            .with("dry-run", &self.dry_run, &false)
    }

    fn run(
        &mut self,
        p: &mut Program,
        cx: &mut crate::pass::PassCx,
    ) -> Result<crate::pass::PassOutcome, crate::pass::PassError> {
        let main = p.main;
        // Already partitioned: the main graph only calls segments.
        let g = &p.graphs[main];
        if g.nodes().all(|n| !matches!(g.node(n).op, Op::Call { .. }))
            && g.nodes()
                .any(|n| matches!(g.node(n).op, Op::CallGraph { .. }))
        {
            return Ok(crate::pass::PassOutcome::unchanged());
        }
        let plan = plan(g, self.capability.as_ref(), &self.options)
            .map_err(|e| crate::pass::PassError::new(e.to_string()))?;
        let text = report(g, &plan);
        cx.stat("segments", plan.segments.len() as u64);
        cx.stat(
            "trt-segments",
            plan.segments
                .iter()
                .filter(|s| s.backend == Backend::Trt)
                .count() as u64,
        );
        if self.dry_run {
            eprint!("{text}");
            self.last_report = Some(text);
            return Ok(crate::pass::PassOutcome::unchanged());
        }
        self.last_report = Some(text);
        if plan.segments.is_empty() {
            return Ok(crate::pass::PassOutcome::unchanged());
        }
        outline(p, main, &plan).map_err(|e| crate::pass::PassError::new(e.to_string()))?;
        Ok(crate::pass::PassOutcome::changed())
    }
}

/// Registers `partition` with a capability under a backend name (replacing an earlier one).
pub fn register_partition(
    r: &mut crate::registry::PassRegistry,
    backend: &str,
    capability: SharedCapability,
) {
    let backend_name = backend.to_string();
    r.register_pass(
        "partition",
        "split the main graph into backend and fallback segments and outline them",
        move |o| {
            Ok(Box::new(PartitionPass::from_options(
                &backend_name,
                capability.clone(),
                o,
            )?))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use trtfx_ir::{static_shape, DType};

    fn t() -> Type {
        Type::tensor(DType::F32, static_shape(&[2]))
    }

    /// Builds a graph: one input, then nodes `ops[i] = (target, operand indices)` where an
    /// operand index `k` refers to value k (0 = the input, i+1 = node i), and an output of
    /// every value that has no user.
    fn build(ops: &[(&str, Vec<usize>)]) -> Program {
        let mut p = Program::new();
        let g = p.main_graph_mut();
        let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", t()));
        let mut vals = vec![g.node(x).results[0]];
        for (i, (target, operands)) in ops.iter().enumerate() {
            let args = operands.iter().map(|&k| Arg::Value(vals[k])).collect();
            let n = g.append(
                NodeBuilder::call(*target)
                    .args(args)
                    .result(format!("n{i}"), t()),
            );
            vals.push(g.node(n).results[0]);
        }
        let outs: Vec<Arg> = vals
            .iter()
            .filter(|&&v| g.value(v).uses().is_empty())
            .map(|&v| Arg::Value(v))
            .collect();
        g.append(NodeBuilder::new(Op::Output).args(outs));
        p.signature
            .inputs
            .push(trtfx_ir::InputKind::User { name: "x".into() });
        p
    }

    fn cap() -> impl Capability {
        |g: &Graph, n: NodeId| {
            if g.node(n).op.target() == Some("unsup") {
                Err("not convertible".to_string())
            } else {
                Ok(())
            }
        }
    }

    fn opts(min: usize) -> PartitionOptions {
        PartitionOptions {
            min_block_size: min,
            ..Default::default()
        }
    }

    fn names(g: &Graph, plan: &Plan) -> Vec<String> {
        plan.segments
            .iter()
            .map(|s| {
                let ns: Vec<_> = s.nodes.iter().map(|&n| g.node(n).name.clone()).collect();
                format!("{}:{}", s.backend.name(), ns.join(","))
            })
            .collect()
    }

    #[test]
    fn chain_splits_at_unsupported() {
        let p = build(&[
            ("sup", vec![0]),
            ("sup", vec![1]),
            ("unsup", vec![2]),
            ("sup", vec![3]),
        ]);
        let plan = plan(p.main_graph(), &cap(), &opts(1)).unwrap();
        assert_eq!(
            names(p.main_graph(), &plan),
            ["trt:n0,n1", "fallback:n2", "trt:n3"]
        );
    }

    #[test]
    fn residual_cycle_trap() {
        // x → a → u(unsup) → b, with a → b as well: {a, b} would be a cycle through u.
        let p = build(&[("sup", vec![0]), ("unsup", vec![1]), ("sup", vec![1, 2])]);
        let plan = plan(p.main_graph(), &cap(), &opts(1)).unwrap();
        assert_eq!(
            names(p.main_graph(), &plan),
            ["trt:n0", "fallback:n1", "trt:n2"]
        );
    }

    #[test]
    fn independent_branch_joins_later_segment() {
        // x → u(unsup) → b ; x → a → b: a can run after u, so {a, b} is one segment.
        let p = build(&[("unsup", vec![0]), ("sup", vec![0]), ("sup", vec![1, 2])]);
        let plan = plan(p.main_graph(), &cap(), &opts(1)).unwrap();
        assert_eq!(names(p.main_graph(), &plan), ["fallback:n0", "trt:n1,n2"]);
    }

    #[test]
    fn min_block_size_demotes() {
        let p = build(&[
            ("sup", vec![0]),
            ("unsup", vec![1]),
            ("sup", vec![2]),
            ("sup", vec![3]),
        ]);
        let plan = plan(p.main_graph(), &cap(), &opts(2)).unwrap();
        assert_eq!(
            names(p.main_graph(), &plan),
            ["fallback:n0,n1", "trt:n2,n3"]
        );
        assert!(plan
            .reasons
            .values()
            .any(|r| r.contains("min-block-size 2")));
    }

    #[test]
    fn forced_fallback_and_full_compilation() {
        let p = build(&[("sup", vec![0]), ("aten.embedding.default", vec![1])]);
        let mut o = opts(1);
        o.fallback_ops = vec!["aten.embedding.default".into()];
        let plan = plan(p.main_graph(), &cap(), &o).unwrap();
        assert_eq!(names(p.main_graph(), &plan), ["trt:n0", "fallback:n1"]);
        o.require_full_compilation = true;
        let err = super::plan(p.main_graph(), &cap(), &o).unwrap_err();
        assert!(
            err.to_string()
                .contains("n1: forced to fallback by fallback-ops"),
            "{err}"
        );
    }

    #[test]
    fn outline_rewires_main() {
        let mut p = build(&[("sup", vec![0]), ("unsup", vec![1]), ("sup", vec![1, 2])]);
        let plan = plan(p.main_graph(), &cap(), &opts(1)).unwrap();
        let main = p.main;
        let subs = outline(&mut p, main, &plan).unwrap();
        assert_eq!(subs.len(), 3);
        let main = p.main_graph();
        let ops: Vec<String> = main
            .nodes()
            .map(|n| main.node(n).op.opcode().to_string())
            .collect();
        assert_eq!(
            ops,
            [
                "placeholder",
                "call_graph",
                "call_graph",
                "call_graph",
                "output"
            ]
        );
        // The first TRT segment returns n0, used by both the fallback and the last segment.
        let first = &p.graphs[subs[0]];
        assert_eq!(first.outputs().len(), 1);
        let last = &p.graphs[subs[2]];
        assert_eq!(last.placeholders().len(), 2);
    }

    /// Node-level reachability: can `to` be reached from `from`?
    fn reach(succ: &[Vec<usize>], from: usize) -> Vec<bool> {
        let mut seen = vec![false; succ.len()];
        let mut stack = vec![from];
        while let Some(s) = stack.pop() {
            for &t in &succ[s] {
                if !seen[t] {
                    seen[t] = true;
                    stack.push(t);
                }
            }
        }
        seen
    }

    /// A set of nodes is a valid segment iff it is convex: no path leaves it and comes back.
    fn convex(set: &HashSet<usize>, succ: &[Vec<usize>]) -> bool {
        for &a in set {
            for &out in &succ[a] {
                if set.contains(&out) {
                    continue;
                }
                let r = reach(succ, out);
                if set.iter().any(|&b| r[b]) {
                    return false;
                }
            }
        }
        true
    }

    fn arb_dag(max: usize) -> impl Strategy<Value = Vec<(bool, Vec<usize>)>> {
        (1..=max).prop_flat_map(|n| {
            (0..n)
                .map(|i| (any::<bool>(), proptest::collection::vec(0..=i, 1..=2)))
                .collect::<Vec<_>>()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        /// Segments are disjoint and cover every node, TRT segments hold only supported nodes,
        /// the segment order is executable, every segment is convex, and no two TRT segments
        /// can be merged into a convex set (maximality, by brute force on small graphs).
        #[test]
        fn partition_invariants(dag in arb_dag(8), min in 1usize..3) {
            let ops: Vec<(&str, Vec<usize>)> = dag
                .iter()
                .map(|(s, ins)| (if *s { "sup" } else { "unsup" }, ins.clone()))
                .collect();
            let p = build(&ops);
            let g = p.main_graph();
            let plan = plan(g, &cap(), &opts(min)).unwrap();
            let calls: Vec<NodeId> = g.nodes().filter(|&n| matches!(g.node(n).op, Op::Call { .. })).collect();
            let idx: HashMap<NodeId, usize> = calls.iter().enumerate().map(|(i, &n)| (n, i)).collect();
            let mut succ = vec![Vec::new(); calls.len()];
            for (i, &n) in calls.iter().enumerate() {
                g.node(n).for_each_input(|v| {
                    if let Some(&j) = idx.get(&g.value(v).def) {
                        succ[j].push(i);
                    }
                });
            }
            let mut covered = vec![0; calls.len()];
            let mut seg_of = vec![usize::MAX; calls.len()];
            for (k, s) in plan.segments.iter().enumerate() {
                for n in &s.nodes {
                    covered[idx[n]] += 1;
                    seg_of[idx[n]] = k;
                    if s.backend == Backend::Trt {
                        prop_assert!(g.node(*n).op.target() == Some("sup"));
                    }
                }
                let set: HashSet<usize> = s.nodes.iter().map(|n| idx[n]).collect();
                prop_assert!(convex(&set, &succ), "segment {} not convex", k);
            }
            prop_assert!(covered.iter().all(|&c| c == 1));
            // Executable order: every edge goes to the same or a later segment.
            for (i, ss) in succ.iter().enumerate() {
                for &j in ss {
                    prop_assert!(seg_of[i] <= seg_of[j]);
                }
            }
            // Maximality over every pair of TRT segments.
            let trt: Vec<&Segment> = plan.segments.iter().filter(|s| s.backend == Backend::Trt).collect();
            for (a, sa) in trt.iter().enumerate() {
                for sb in &trt[a + 1..] {
                    let set: HashSet<usize> = sa.nodes.iter().chain(&sb.nodes).map(|n| idx[n]).collect();
                    prop_assert!(!convex(&set, &succ), "two TRT segments could merge: {:?}", names(g, &plan));
                }
            }
        }
    }
}
