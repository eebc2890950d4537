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
use std::collections::{BTreeMap, HashSet};
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

    /// Like [`Capability::supports`], with the whole program in view: a higher-order op's
    /// subgraphs (the branches of `cond`) live in `program.graphs`, outside `graph`. The
    /// `partition` pass calls this one; the default ignores the program.
    fn supports_in(&self, program: &Program, graph: &Graph, node: NodeId) -> Result<(), String> {
        let _ = program;
        self.supports(graph, node)
    }
}

/// A capability bound to a program: [`Capability::supports`] asks
/// [`Capability::supports_in`] with the program (for [`plan`], which sees one graph).
pub struct InProgram<'a, C: ?Sized> {
    /// The capability.
    pub capability: &'a C,
    /// The program whose graphs the checked nodes may refer to.
    pub program: &'a Program,
}

impl<C: Capability + ?Sized> Capability for InProgram<'_, C> {
    fn supports(&self, graph: &Graph, node: NodeId) -> Result<(), String> {
        self.capability.supports_in(self.program, graph, node)
    }
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

/// The id of the CPU executor in segment tags and subgraph names (`main_seg1_fallback`).
pub const FALLBACK: &str = "fallback";

/// Where a segment runs: on the backend whose capability planned it (known here only by id),
/// or on the fallback executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placement {
    /// The backend that planned it.
    Backend,
    /// The CPU fallback executor.
    Fallback,
}

impl Placement {
    /// The id to print: `backend` for [`Placement::Backend`], [`FALLBACK`] otherwise.
    pub fn id(self, backend: &str) -> &str {
        match self {
            Placement::Backend => backend,
            Placement::Fallback => FALLBACK,
        }
    }
}

/// A segment: nodes of one placement, in program order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Where it runs.
    pub placement: Placement,
    /// Its nodes in program order.
    pub nodes: Vec<NodeId>,
}

/// The result of planning: segments in execution order and why nodes are not on the backend.
#[derive(Clone, Debug, Default)]
pub struct SegmentPlan {
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
) -> Result<SegmentPlan, PartitionError> {
    let order: Vec<NodeId> = g.nodes().filter(|&n| partitionable(g, n)).collect();
    let mut reasons: IndexMap<NodeId, String> = IndexMap::new();
    // Kept by position in `order` alongside `reasons`, so the planning loop below does no
    // per-node hashing (graphs reach 10^6 nodes).
    let mut supported = vec![true; order.len()];
    for (i, &n) in order.iter().enumerate() {
        let node = g.node(n);
        let forced = node
            .op
            .target()
            .is_some_and(|t| opts.fallback_ops.iter().any(|f| f == t));
        if forced {
            reasons.insert(n, "forced to fallback by fallback-ops".into());
            supported[i] = false;
        } else if let Err(why) = cap.supports(g, n) {
            reasons.insert(n, why);
            supported[i] = false;
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
    let compute_node: Vec<bool> = order.iter().map(|&n| is_compute(g, n)).collect();
    // Re-plan until no TensorRT segment is below min-block-size.
    loop {
        let segments = plan_once(&order, &dag, &supported);
        let mut demoted = false;
        for s in &segments {
            if s.placement != Placement::Backend {
                continue;
            }
            let compute = s
                .nodes
                .iter()
                .filter(|&&n| compute_node[dag.pos[n.as_u32() as usize]])
                .count();
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
            return Ok(SegmentPlan { segments, reasons });
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
    //    Phases are below 2 * nodes + 2, so a dense table replaces a hash map.
    let mut seg_of = vec![usize::MAX; order.len()];
    let mut segs: Vec<(Placement, Vec<usize>)> = Vec::new();
    let mut trt_by_phase: Vec<usize> = vec![usize::MAX; max_phase as usize + 1];
    for i in 0..order.len() {
        let s = if kind_parity(i) == 0 {
            let slot = &mut trt_by_phase[phase[i] as usize];
            if *slot == usize::MAX {
                segs.push((Placement::Backend, Vec::new()));
                *slot = segs.len() - 1;
            }
            *slot
        } else {
            segs.push((Placement::Fallback, Vec::new()));
            segs.len() - 1
        };
        seg_of[i] = s;
        segs[s].1.push(i);
    }
    // Nodes were pushed in position order, so each segment's first node is its smallest.
    let min_node: Vec<usize> = segs.iter().map(|(_, v)| v[0]).collect();
    // 3. Merge TensorRT segments while no path through a third segment joins them.
    let mut sg = SegGraph::new(order.len(), dag, &seg_of, segs.len());
    merge_segments(&mut sg, &mut segs, &min_node);
    // 4. Execution order; runs of consecutive fallback nodes become one segment (merging
    //    neighbours in a topological order cannot create a cycle).
    let mut min_node = min_node;
    for (s, seg) in segs.iter().enumerate() {
        if sg.alive[s] {
            min_node[s] = seg.1.iter().copied().min().unwrap_or(usize::MAX);
        }
    }
    let topo = sg.topo_order(&min_node);
    let mut out: Vec<Segment> = Vec::new();
    for s in topo {
        let placement = segs[s].0;
        let nodes = segs[s].1.iter().map(|&i| order[i]);
        match out.last_mut() {
            Some(last)
                if placement == Placement::Fallback && last.placement == Placement::Fallback =>
            {
                last.nodes.extend(nodes)
            }
            _ => out.push(Segment {
                placement,
                nodes: nodes.collect(),
            }),
        }
    }
    for seg in &mut out {
        seg.nodes.sort_by_key(|n| dag.pos[n.as_u32() as usize]);
    }
    out
}

/// The segment graph during merging: deduplicated successor and predecessor lists (degrees
/// are small, so plain vectors beat hash sets), which segments are still alive, and a
/// topological order kept valid across merges, which bounds the path searches.
struct SegGraph {
    succ: Vec<Vec<usize>>,
    pred: Vec<Vec<usize>>,
    alive: Vec<bool>,
    /// Live segments in a topological order, with holes ([`HOLE`]) where merged-away segments
    /// were.
    topo: Vec<usize>,
    /// Position of each live segment in `topo`.
    topo_index: Vec<usize>,
    /// Where each merged-away segment went (a union-find forest over segment ids).
    parent: Vec<usize>,
    /// Visit stamps for the path search (no clearing between searches).
    mark: Vec<u32>,
    stamp: u32,
    stack: Vec<usize>,
}

/// An empty slot of [`SegGraph::topo`].
const HOLE: usize = usize::MAX;

impl SegGraph {
    fn new(nodes: usize, dag: &NodeDag, seg_of: &[usize], n: usize) -> Self {
        let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n];
        for i in 0..nodes {
            for &j in dag.succs(i) {
                let (a, b) = (seg_of[i], seg_of[j]);
                if a != b {
                    succ[a].push(b);
                    pred[b].push(a);
                }
            }
        }
        for l in succ.iter_mut().chain(pred.iter_mut()) {
            l.sort_unstable();
            l.dedup();
        }
        SegGraph {
            succ,
            pred,
            alive: vec![true; n],
            topo: Vec::new(),
            topo_index: vec![HOLE; n],
            parent: (0..n).collect(),
            mark: vec![0; n],
            stamp: 0,
            stack: Vec::new(),
        }
    }

    /// The live segment that `s` was merged into.
    fn find(&mut self, mut s: usize) -> usize {
        let mut root = s;
        while self.parent[root] != root {
            root = self.parent[root];
        }
        while self.parent[s] != root {
            let next = self.parent[s];
            self.parent[s] = root;
            s = next;
        }
        root
    }

    /// A topological order of the live segments. Ties break by the smallest node position, so
    /// the order is deterministic and follows the program where it can.
    fn topo_order(&self, min_node: &[usize]) -> Vec<usize> {
        let n = self.succ.len();
        let mut indeg = vec![0usize; n];
        for s in (0..n).filter(|&s| self.alive[s]) {
            for &t in &self.succ[s] {
                indeg[t] += 1;
            }
        }
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<(usize, usize)>> = (0..n)
            .filter(|&s| self.alive[s] && indeg[s] == 0)
            .map(|s| std::cmp::Reverse((min_node[s], s)))
            .collect();
        let mut topo = Vec::with_capacity(n);
        while let Some(std::cmp::Reverse((_, s))) = ready.pop() {
            topo.push(s);
            for &t in &self.succ[s] {
                indeg[t] -= 1;
                if indeg[t] == 0 {
                    ready.push(std::cmp::Reverse((min_node[t], t)));
                }
            }
        }
        topo
    }

    /// True if a path of length >= 2 leads from `a` to `b` (through some third segment), for
    /// `a` before `b` in `topo`. Only segments between them can lie on such a path, which
    /// bounds the search. When it returns false, the segments marked with the current stamp
    /// are exactly those between `a` and `b` that `a` reaches.
    fn indirect_path(&mut self, a: usize, b: usize) -> bool {
        let limit = self.topo_index[b];
        self.new_stamp();
        let stamp = self.stamp;
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        for &s in &self.succ[a] {
            if s != b && self.topo_index[s] < limit && self.mark[s] != stamp {
                self.mark[s] = stamp;
                stack.push(s);
            }
        }
        let mut found = false;
        'search: while let Some(s) = stack.pop() {
            for &t in &self.succ[s] {
                if t == b {
                    found = true;
                    break 'search;
                }
                if self.topo_index[t] < limit && self.mark[t] != stamp {
                    self.mark[t] = stamp;
                    stack.push(t);
                }
            }
        }
        self.stack = stack;
        found
    }

    /// Marks every segment that `a` reaches (not `a` itself) with a new stamp.
    fn mark_reach(&mut self, a: usize) {
        self.new_stamp();
        let stamp = self.stamp;
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push(a);
        while let Some(s) = stack.pop() {
            for &t in &self.succ[s] {
                if self.mark[t] != stamp {
                    self.mark[t] = stamp;
                    stack.push(t);
                }
            }
        }
        self.stack = stack;
    }

    /// With the marks of [`SegGraph::mark_reach`]`(a)` current: true if a path of length >= 2
    /// leads from `a` to `b`, i.e. some other predecessor of `b` is reached from `a`.
    fn indirect_path_marked(&self, a: usize, b: usize) -> bool {
        self.pred[b]
            .iter()
            .any(|&p| p != a && self.mark[p] == self.stamp)
    }

    fn new_stamp(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // Wrapped around: old marks could alias the new stamp.
            self.mark.fill(0);
            self.stamp = 1;
        }
    }

    /// Merges `b` into `a` (`a` before `b` in `topo`, no indirect path between them, and the
    /// marks of the [`SegGraph::indirect_path`] or [`SegGraph::mark_reach`] call that said so
    /// still current: they must cover the segments between `a` and `b` that `a` reaches).
    fn merge(&mut self, a: usize, b: usize) {
        for t in std::mem::take(&mut self.succ[b]) {
            redirect(&mut self.pred[t], b, a);
            if !self.succ[a].contains(&t) {
                self.succ[a].push(t);
            }
        }
        for q in std::mem::take(&mut self.pred[b]) {
            if q == a {
                self.succ[a].retain(|&t| t != b);
                continue;
            }
            redirect(&mut self.succ[q], b, a);
            if !self.pred[a].contains(&q) {
                self.pred[a].push(q);
            }
        }
        self.alive[b] = false;
        self.parent[b] = a;
        // Keep `topo` valid without recomputing it: between `a` and `b`, the segments that `a`
        // reaches (marked by the search) go after the merged segment, the others before it.
        // None of the former reaches `b` (that would be an indirect path) and none of the
        // latter is reached from `a` or `b`, so every edge still points forward. `b`'s slot
        // becomes a hole.
        let (ta, tb) = (self.topo_index[a], self.topo_index[b]);
        let stamp = self.stamp;
        let between: Vec<usize> = self.topo[ta + 1..tb]
            .iter()
            .copied()
            .filter(|&s| s != HOLE)
            .collect();
        let mut k = ta;
        for &s in between.iter().filter(|&&s| self.mark[s] != stamp) {
            self.topo[k] = s;
            self.topo_index[s] = k;
            k += 1;
        }
        self.topo[k] = a;
        self.topo_index[a] = k;
        k += 1;
        for &s in between.iter().filter(|&&s| self.mark[s] == stamp) {
            self.topo[k] = s;
            self.topo_index[s] = k;
            k += 1;
        }
        self.topo[k..=tb].fill(HOLE);
        self.topo_index[b] = HOLE;
    }
}

/// Replaces `from` by `to` in a deduplicated list, keeping it deduplicated.
fn redirect(list: &mut Vec<usize>, from: usize, to: usize) {
    if list.contains(&to) {
        list.retain(|&x| x != from);
    } else if let Some(x) = list.iter_mut().find(|x| **x == from) {
        *x = to;
    }
}

/// Merges TensorRT segments of `segs` while no path through a third segment joins them.
///
/// Candidate pairs are all pairs when there are at most [`ALL_PAIRS_LIMIT`] TensorRT segments,
/// else pairs consecutive in execution order and pairs joined by an edge. A pass scans the
/// candidates in execution order and keeps going after a merge (pairs naming a merged-away
/// segment now name its survivor); passes repeat until one merges nothing. A pair that cannot
/// merge stays unmergeable until one of its two segments grows (merging other segments keeps
/// any path between them, through the merged segment), so failures are remembered with the
/// generation of both segments and only those pairs are searched again.
fn merge_segments(sg: &mut SegGraph, segs: &mut [(Placement, Vec<usize>)], min_node: &[usize]) {
    sg.topo = sg.topo_order(min_node);
    for (k, &s) in sg.topo.iter().enumerate() {
        sg.topo_index[s] = k;
    }
    let mut generation = vec![0u32; segs.len()];
    // Pairs are tried by the thousand (all pairs of up to 256 segments); a fast non-keyed
    // hash is enough for ids.
    let mut failed: rustc_hash::FxHashMap<(usize, usize), (u32, u32)> =
        rustc_hash::FxHashMap::default();
    loop {
        let trt: Vec<usize> = sg
            .topo
            .iter()
            .copied()
            .filter(|&s| s != HOLE && segs[s].0 == Placement::Backend)
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
                for &b in &sg.succ[a] {
                    if segs[b].0 == Placement::Backend {
                        candidates.push((a, b));
                    }
                }
            }
        }
        let all_pairs = trt.len() <= ALL_PAIRS_LIMIT;
        // In the all-pairs case the pairs come grouped by their first segment, so one search
        // of everything that segment reaches answers all its pairs (until a merge changes the
        // graph), instead of one bounded search per pair.
        let mut reach_of = HOLE;
        let mut merged_any = false;
        for (a, b) in candidates {
            let (a, b) = (sg.find(a), sg.find(b));
            if a == b {
                continue;
            }
            let (a, b) = if sg.topo_index[a] < sg.topo_index[b] {
                (a, b)
            } else {
                (b, a)
            };
            let now = (generation[a], generation[b]);
            if failed.get(&(a, b)) == Some(&now) {
                continue;
            }
            let indirect = if all_pairs {
                if reach_of != a {
                    sg.mark_reach(a);
                    reach_of = a;
                }
                sg.indirect_path_marked(a, b)
            } else {
                sg.indirect_path(a, b)
            };
            if indirect {
                failed.insert((a, b), now);
                continue;
            }
            sg.merge(a, b);
            reach_of = HOLE;
            let moved = std::mem::take(&mut segs[b].1);
            segs[a].1.extend(moved);
            generation[a] += 1;
            merged_any = true;
        }
        if !merged_any {
            return;
        }
    }
}

/// A partition report: segments, nodes not on `backend` with reasons, totals.
pub fn report(g: &Graph, plan: &SegmentPlan, backend: &str) -> String {
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
        .filter(|s| s.placement == Placement::Backend)
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
            s.placement.id(backend),
            s.nodes.len()
        );
        for (op, k) in hist {
            let _ = writeln!(out, "  {k:>5} {op}");
        }
    }
    if !plan.reasons.is_empty() {
        let _ = writeln!(out, "not on {backend}:");
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
        "total: {} segment(s), {compute_trt}/{compute_total} compute nodes on {backend} ({pct:.1}%)",
        plan.segments.len()
    );
    out
}

/// Outlines every segment of `plan` (made for graph `gid`) into a subgraph named
/// `<graph>_seg<i>_<id>` (`id`: `backend` or [`FALLBACK`]) and calls it from `gid`. Returns
/// the new subgraphs in execution order.
///
/// Graph `gid` is rebuilt rather than edited in place: its nodes outside the plan that read no
/// segment's result keep their order, then come the calls in segment order, then the nodes
/// outside the plan that do read one (the casts back to f64 that `repair-types` puts before
/// the output), then the output node. Node and value ids of `gid` are renumbered densely. The
/// plan is checked first (every node in at most one segment, segments in an executable order,
/// no segment reading a node that must come after the calls); nothing is changed when that
/// fails.
pub fn outline(
    p: &mut Program,
    gid: GraphId,
    plan: &SegmentPlan,
    backend: &str,
) -> Result<Vec<GraphId>, PartitionError> {
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
    // Nodes outside the plan that read a segment's result (directly or through another such
    // node) run after the calls: they are marked `LATE`.
    const LATE: u32 = NONE - 2;
    for n in g.nodes() {
        if seg_of[n.as_u32() as usize] != NONE || n == out_node {
            continue;
        }
        let mut late = false;
        g.node(n).for_each_input(|v| {
            if seg_of[g.value(v).def.as_u32() as usize] != NONE {
                late = true;
            }
        });
        if late {
            seg_of[n.as_u32() as usize] = LATE;
        }
    }
    let seg_of_node = |n: NodeId| match seg_of[n.as_u32() as usize] {
        LATE => NONE,
        s => s,
    };
    let is_late = |n: NodeId| seg_of[n.as_u32() as usize] == LATE;
    // Executable order: each segment reads only earlier segments' results and no late node.
    for seg in &plan.segments {
        for &n in &seg.nodes {
            let mut bad = None;
            g.node(n).for_each_input(|v| {
                if is_late(g.value(v).def) {
                    bad = Some(v);
                }
            });
            if let Some(v) = bad {
                return Err(PartitionError::Graph(format!(
                    "{} is in a segment but reads {}, which is outside the plan and reads a \
                     segment's result",
                    g.node(n).name,
                    g.value(v).name
                )));
            }
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
    // Names and types of the boundary values, taken before any node moves (a segment's
    // inputs are results of earlier segments, whose nodes are moved out first): placeholders
    // of each subgraph, and results of each call.
    let mut sub_inputs: Vec<Vec<(String, Type)>> = Vec::with_capacity(plan.segments.len());
    let mut call_results: Vec<Vec<(String, Type)>> = Vec::with_capacity(plan.segments.len());
    for (seg, (inputs, outputs)) in plan.segments.iter().zip(&io) {
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
        let mut placeholders: Vec<(String, Type)> = Vec::with_capacity(inputs.len());
        let mut names: HashSet<String> = HashSet::new();
        for &v in inputs {
            let vd = g.value(v);
            let free = |name: &str| !in_segment(name) && !names.contains(name);
            let name = if free(&vd.name) {
                vd.name.clone()
            } else {
                (1..)
                    .map(|k| format!("{}_in{k}", vd.name))
                    .find(|c| free(c))
                    .expect("a free name")
            };
            names.insert(name.clone());
            placeholders.push((name, vd.ty.clone()));
        }
        sub_inputs.push(placeholders);
        call_results.push(
            outputs
                .iter()
                .map(|&v| (g.value(v).name.clone(), g.ty(v).clone()))
                .collect(),
        );
    }
    // From here on nothing fails. Nodes are moved (not cloned) into the subgraphs and the new
    // main graph: outlining touches every node, so per-node copies of operators, arguments,
    // names and types dominated its time on large graphs.
    let mut g = std::mem::replace(&mut p.graphs[gid], Graph::new(gname.clone()));
    let mut copy: Vec<(u32, ValueId)> = vec![(NONE, ValueId::from_u32(0)); g.value_capacity()];
    let mut created = Vec::with_capacity(plan.segments.len());
    for (i, ((seg, (inputs, outputs)), placeholders)) in
        plan.segments.iter().zip(&io).zip(sub_inputs).enumerate()
    {
        let stamp = i as u32;
        let values = inputs.len()
            + seg
                .nodes
                .iter()
                .map(|&n| g.node(n).results.len())
                .sum::<usize>();
        let mut sub = Graph::with_capacity(
            format!("{gname}_seg{i}_{}", seg.placement.id(backend)),
            inputs.len() + seg.nodes.len() + 1,
            values,
        );
        for (&v, (name, ty)) in inputs.iter().zip(placeholders) {
            let ph = sub.append(NodeBuilder::new(Op::Placeholder).result(name, ty));
            copy[v.as_u32() as usize] = (stamp, sub.node(ph).results[0]);
        }
        // Values read inside the segment are inputs (mapped above) or results of earlier
        // nodes of the segment (mapped below, before any use: program order).
        let lookup = |copy: &[(u32, ValueId)], v: ValueId| match copy[v.as_u32() as usize] {
            (s, c) if s == stamp => c,
            _ => v,
        };
        for &n in &seg.nodes {
            move_node(&mut g, n, &mut sub, &mut copy, stamp, |c, v| lookup(c, v));
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
    // Segment nodes were taken out above, so what is left is the rest, the late nodes and the
    // output node.
    let (late, rest): (Vec<NodeId>, Vec<NodeId>) = g
        .nodes()
        .filter(|&n| n != out_node)
        .partition(|&n| is_late(n));
    for n in rest {
        move_node(&mut g, n, &mut main, &mut copy, MAIN, |c, v| lookup(c, v));
    }
    for (i, (((seg, (inputs, outputs)), &sub_id), results)) in plan
        .segments
        .iter()
        .zip(&io)
        .zip(&created)
        .zip(call_results)
        .enumerate()
    {
        let mut call = NodeBuilder::new(Op::CallGraph { graph: sub_id })
            .args(
                inputs
                    .iter()
                    .map(|&v| Arg::Value(lookup(&copy, v)))
                    .collect(),
            )
            .name(format!("seg{i}_{}", seg.placement.id(backend)));
        call.results = results;
        let call_id = main.append(call);
        for (k, &v) in outputs.iter().enumerate() {
            copy[v.as_u32() as usize] = (MAIN, main.node(call_id).results[k]);
        }
    }
    for n in late {
        move_node(&mut g, n, &mut main, &mut copy, MAIN, |c, v| lookup(c, v));
    }
    move_node(&mut g, out_node, &mut main, &mut copy, MAIN, |c, v| {
        lookup(c, v)
    });
    p.graphs[gid] = main;
    Ok(created)
}

/// Moves node `n` of `from` to the end of `to`, its argument values renamed by `map` (given the
/// `copy` table), and records the copies of its results in `copy` under `stamp`.
fn move_node(
    from: &mut Graph,
    n: NodeId,
    to: &mut Graph,
    copy: &mut [(u32, ValueId)],
    stamp: u32,
    map: impl Fn(&[(u32, ValueId)], ValueId) -> ValueId,
) {
    let mut t = from.take_node(n).expect("checked live above");
    t.map_values(|v| map(copy, v));
    let new = to.append_taken(t);
    for (&r, &c) in from.node(n).results.iter().zip(&to.node(new).results) {
        copy[r.as_u32() as usize] = (stamp, c);
    }
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

/// A shared capability handle (what a backend registers, see
/// [`crate::PassRegistry::register_backend`]).
pub type SharedCapability = std::sync::Arc<dyn Capability + Send + Sync>;

/// The segments of an outlined graph: its `call_graph` nodes of subgraphs named
/// `<graph>_seg<i>_<id>`, in execution order, with the id (a backend id or [`FALLBACK`]).
pub fn outlined_segments(p: &Program, gid: GraphId) -> Vec<(GraphId, String)> {
    let g = &p.graphs[gid];
    let prefix = format!("{}_seg", g.name);
    g.nodes()
        .filter_map(|n| match g.node(n).op {
            Op::CallGraph { graph } => {
                let rest = p.graphs[graph].name.strip_prefix(&prefix)?;
                let (index, id) = rest.split_once('_')?;
                index.parse::<u32>().ok()?;
                Some((graph, id.to_string()))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
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

    fn names(g: &Graph, plan: &SegmentPlan) -> Vec<String> {
        plan.segments
            .iter()
            .map(|s| {
                let ns: Vec<_> = s.nodes.iter().map(|&n| g.node(n).name.clone()).collect();
                format!("{}:{}", s.placement.id("trt"), ns.join(","))
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
        let subs = outline(&mut p, main, &plan, "trt").unwrap();
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
                    if s.placement == Placement::Backend {
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
            let trt: Vec<&Segment> = plan.segments.iter().filter(|s| s.placement == Placement::Backend).collect();
            for (a, sa) in trt.iter().enumerate() {
                for sb in &trt[a + 1..] {
                    let set: HashSet<usize> = sa.nodes.iter().chain(&sb.nodes).map(|n| idx[n]).collect();
                    prop_assert!(!convex(&set, &succ), "two TRT segments could merge: {:?}", names(g, &plan));
                }
            }
        }
    }
}
