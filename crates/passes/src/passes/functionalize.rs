//! `functionalize`: in-place calls rewritten out of place, writes through views carried back to
//! the tensor they view ([`trtfx_ir::functionalize`]).

use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use trtfx_ir::Program;

/// Functionalization of every graph in scope. Counters: `rewritten` (in-place calls made out of
/// place) and one per reason an in-place call was left as it was.
#[derive(Debug, Default, Clone)]
pub struct Functionalize;

impl Pass for Functionalize {
    fn name(&self) -> &str {
        "functionalize"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let ops = cx.ops_handle();
        let mut changed = false;
        for gid in cx.graphs(p) {
            let stats = trtfx_ir::functionalize::functionalize_graph(&mut p.graphs[gid], &ops);
            if stats.rewritten > 0 {
                cx.stat("rewritten", stats.rewritten as u64);
                changed = true;
            }
            for (_, why) in stats.left {
                cx.stat(&format!("left: {why}"), 1);
            }
        }
        Ok(PassOutcome::from_changed(changed))
    }
}
