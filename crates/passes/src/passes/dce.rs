//! `dce`: removes side-effect-free nodes whose results are unused.

use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::util::Effect;
use trtfx_ir::Program;

/// Dead-code elimination on every graph in scope.
///
/// Removes `call_function`, `get_attr` and `call_graph` nodes whose results have no use and
/// whose effect is not [`Effect::Effectful`] (see [`crate::util::node_effect`]); placeholders,
/// outputs, in-place ops, asserts and custom ops are kept. Counter: `nodes-removed`.
#[derive(Debug, Default, Clone)]
pub struct Dce;

impl Pass for Dce {
    fn name(&self) -> &str {
        "dce"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let mut removed = 0u64;
        let mut kept_effectful = 0u64;
        for gid in cx.graphs(p) {
            // Users follow their inputs, so one sweep in reverse order frees whole chains.
            let mut order = p.graphs[gid].node_ids();
            order.reverse();
            for n in order {
                let g = &p.graphs[gid];
                let unused = g
                    .node(n)
                    .results
                    .iter()
                    .all(|&r| g.value(r).uses().is_empty());
                if !unused {
                    continue;
                }
                if cx.effect(p, g, n) == Effect::Effectful {
                    if g.node(n).op.target().is_some() {
                        kept_effectful += 1;
                    }
                    continue;
                }
                if p.graphs[gid].remove_node(n).is_ok() {
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            cx.stat("nodes-removed", removed);
        }
        if kept_effectful > 0 {
            cx.stat("effectful-kept", kept_effectful);
        }
        Ok(PassOutcome::from_changed(removed > 0))
    }
}
