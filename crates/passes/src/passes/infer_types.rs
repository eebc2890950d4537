//! `infer-types`: recomputes every value's type with the op registry's inference.

use crate::options::{OptionError, OptionMap, OptionReader};
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::util::ChangeStamp;
use trtfx_ir::Program;

/// Shape/dtype inference over the whole program: wraps [`trtfx_ir::aten::infer_program`]
/// with the context's registry. Operators without inference keep their recorded types.
/// Counters: `inferred`, `recorded`, `minted-symbols`. Inference is whole-program (callees
/// before callers), so `each-subgraph(infer-types)` still infers every graph.
#[derive(Debug, Default, Clone)]
pub struct InferTypes;

impl InferTypes {
    /// Builds the pass from pipeline options (none).
    pub fn from_options(o: &OptionMap) -> Result<Self, OptionError> {
        OptionReader::new("infer-types", o).finish()?;
        Ok(InferTypes)
    }
}

impl Pass for InferTypes {
    fn name(&self) -> &str {
        "infer-types"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        // Graph setters bump epochs only when they store a different value, so the stamp
        // tells whether inference changed anything without cloning the program.
        let before = ChangeStamp::of(p);
        let report = trtfx_ir::aten::infer_program(p, cx.ops())
            .map_err(|e| PassError::new(e.to_string()))?;
        cx.stat("inferred", report.inferred as u64);
        if report.recorded > 0 {
            cx.stat("recorded", report.recorded as u64);
        }
        if !report.minted.is_empty() {
            cx.stat("minted-symbols", report.minted.len() as u64);
        }
        Ok(PassOutcome::from_changed(ChangeStamp::of(p) != before))
    }
}
