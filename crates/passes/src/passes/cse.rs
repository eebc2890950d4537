//! `cse`: merges identical side-effect-free nodes.

use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::util::Effect;
use std::collections::HashMap;
use trtfx_ir::{Arg, NodeId, Op, Program, Type};

/// Common-subexpression elimination on every graph in scope.
///
/// Two nodes are the same when they have the same opcode and target, the same arguments and
/// keyword arguments (value references after earlier merges) and the same result types. Only
/// [`Effect::Pure`] nodes are merged: effectful and random (`aten.rand`, `dropout`) nodes never
/// are. A graph is a DAG without regions, so the first occurrence dominates the later ones.
/// Counter: `nodes-merged`.
#[derive(Debug, Default, Clone)]
pub struct Cse;

type Key = (Op, Vec<Arg>, Vec<(String, Arg)>, Vec<Type>);

impl Pass for Cse {
    fn name(&self) -> &str {
        "cse"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let mut merged = 0u64;
        for gid in cx.graphs(p) {
            let mut seen: HashMap<Key, NodeId> = HashMap::new();
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
                let key: Key = (
                    d.op.clone(),
                    d.args.clone(),
                    d.kwargs.clone(),
                    d.results.iter().map(|&r| g.ty(r).clone()).collect(),
                );
                match seen.get(&key) {
                    Some(&first) => {
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
                    None => {
                        seen.insert(key, n);
                    }
                }
            }
        }
        if merged > 0 {
            cx.stat("nodes-merged", merged);
        }
        Ok(PassOutcome::from_changed(merged > 0))
    }
}
