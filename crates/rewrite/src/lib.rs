//! `trtfx-rewrite`: the `rewrite` pass, equality saturation over trtfx graphs with
//! [egg](https://docs.rs/egg).
//!
//! - [`egraph`]: the e-graph language (interned operator keys with literal arguments, operand
//!   classes) and the analysis that types every class (dtype + symbolic shape) through the op
//!   table's inference.
//! - [`rules`]: the rule families, one file each, as data: every rule states its soundness
//!   condition; every application is type-checked.
//! - [`cost`]: operator weights with TensorRT-friendly forms cheaper, for extraction and for
//!   the graph's DAG cost.
//! - [`pass`]: translation graph → e-graph → graph, limits (`iter`, `nodes`, `time-ms`), the
//!   pass and its statistics.
//!
//! The pass is registered by [`register`] (the facade crate `trtfx` calls it), and is not part of
//! the `default` pipeline: run it as `ir-opt opt --passes 'rewrite{iter=8}'`.

#![warn(missing_docs)]

pub mod cost;
pub mod egraph;
pub mod pass;
pub mod rules;

pub use pass::{Rewrite, RewriteOptions, NAME};

/// Registers the `rewrite` pass.
pub fn register(r: &mut trtfx_passes::PassRegistry) {
    r.register_declared::<RewriteOptions>(
        NAME,
        "equality saturation (egg) with typed rules, limits and cost-based extraction",
        |options, _| {
            Rewrite::new(options)
                .map(|p| Box::new(p) as Box<dyn trtfx_passes::Pass>)
                .map_err(|message| trtfx_passes::OptionError {
                    pass: NAME.to_string(),
                    option: "rules".to_string(),
                    message,
                    offset: None,
                })
        },
    );
}
