//! `cse`: merges identical side-effect-free nodes.

use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::util::Effect;
use rustc_hash::{FxHashMap, FxHasher};
use smallvec::SmallVec;
use std::hash::{Hash, Hasher};
use trtfx_ir::{Graph, NodeId, Op, Program};

/// Common-subexpression elimination on every graph in scope.
///
/// Two nodes are the same when they have the same opcode and target, the same arguments and
/// keyword arguments (value references after earlier merges) and the same result types. Only
/// [`Effect::Pure`] nodes are merged: effectful and random (`aten.rand`, `dropout`) nodes never
/// are. A graph is a DAG without regions, so the first occurrence dominates the later ones.
/// Counter: `nodes-merged`.
#[derive(Debug, Default, Clone)]
pub struct Cse;

/// A hash of what makes two nodes the same (see [`same_node`]). The table maps it to the
/// first node of each distinct key, so nothing of the node is cloned: at 10^6 nodes cloning
/// operators, arguments and types into keys dominated the pass.
fn node_hash(g: &Graph, n: NodeId) -> u64 {
    let d = g.node(n);
    let mut h = FxHasher::default();
    d.op.hash(&mut h);
    d.args.hash(&mut h);
    d.kwargs.hash(&mut h);
    for &r in &d.results {
        g.ty(r).hash(&mut h);
    }
    h.finish()
}

fn same_node(g: &Graph, a: NodeId, b: NodeId) -> bool {
    let (x, y) = (g.node(a), g.node(b));
    x.op == y.op
        && x.args == y.args
        && x.kwargs == y.kwargs
        && x.results.len() == y.results.len()
        && x.results
            .iter()
            .zip(&y.results)
            .all(|(&r, &s)| g.ty(r) == g.ty(s))
}

impl Pass for Cse {
    fn name(&self) -> &str {
        "cse"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let mut merged = 0u64;
        for gid in cx.graphs(p) {
            // Hash collisions are resolved by comparing with every node in the bucket.
            let mut seen: FxHashMap<u64, SmallVec<[NodeId; 1]>> = FxHashMap::default();
            for n in p.graphs[gid].node_ids() {
                let g = &p.graphs[gid];
                let d = g.node(n);
                if !matches!(
                    d.op,
                    Op::Call { .. } | Op::GetAttr { .. } | Op::CallGraph { .. }
                ) {
                    continue;
                }
                if cx.effect(p, g, n) != Effect::Pure {
                    continue;
                }
                let bucket = seen.entry(node_hash(g, n)).or_default();
                match bucket.iter().copied().find(|&m| same_node(g, m, n)) {
                    Some(first) => {
                        let pairs: Vec<_> = g
                            .node(n)
                            .results
                            .iter()
                            .copied()
                            .zip(g.node(first).results.iter().copied())
                            .collect();
                        let g = &mut p.graphs[gid];
                        for (old, new) in pairs {
                            g.replace_all_uses(old, new);
                        }
                        if g.remove_node(n).is_ok() {
                            merged += 1;
                        }
                    }
                    None => bucket.push(n),
                }
            }
        }
        if merged > 0 {
            cx.stat("nodes-merged", merged);
        }
        Ok(PassOutcome::from_changed(merged > 0))
    }
}
