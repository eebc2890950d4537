//! The ATen decompositions of the op table, one file per family.
//!
//! Each entry writes one operator in terms of others, reading its arguments by schema name
//! (see [`crate::ops::DecompCx`]). Inference, the executor and the TensorRT converter use an
//! operator's decomposition whenever they have no direct implementation, so an op defined
//! here needs nothing else to run and convert. PyTorch's `torch/_decomp` and `torch/_refs`
//! are the semantic reference.

mod alias;
mod contract;
mod conv;
mod copies;
mod distance;
mod einsum;
mod embedding;
mod engine;
mod fft;
mod layout;
mod linalg;
mod logical;
mod loss;
mod math;
mod nn;
mod pointwise;
mod reduce;
mod scatter;
mod search;
mod shape;

use crate::graph::Arg;
use crate::ops::{DecompCx, DecompFn, InferFn, OpRegistry};
use std::sync::Arc;

/// Gives every operator of the families its decomposition.
pub(crate) fn register(reg: &mut OpRegistry) {
    let mut add = |name: &str, f: fn(&mut DecompCx<'_>) -> Result<Vec<Arg>, String>| {
        let f: DecompFn = Arc::new(f);
        match reg.get_mut(name) {
            Some(def) => def.decomposition = Some(f),
            // The schema data is generated; an entry for an op it lacks is a bug in this table.
            None => debug_assert!(false, "decomposition for unknown op {name}"),
        }
    };
    alias::register(&mut add);
    contract::register(&mut add);
    conv::register(&mut add);
    copies::register(&mut add);
    distance::register(&mut add);
    einsum::register(&mut add);
    embedding::register(&mut add);
    engine::register(&mut add);
    fft::register(&mut add);
    layout::register(&mut add);
    linalg::register(&mut add);
    math::register(&mut add);
    logical::register(&mut add);
    loss::register(&mut add);
    nn::register(&mut add);
    reduce::register(&mut add);
    scatter::register(&mut add);
    pointwise::register(&mut add);
    search::register(&mut add);
    shape::register(&mut add);
}

/// The signature of a decomposition's registration callback.
pub(crate) type Add<'a> = dyn FnMut(&str, fn(&mut DecompCx<'_>) -> Result<Vec<Arg>, String>) + 'a;

/// Inference through the decomposition of `name`, for operators with no rule of their own.
/// Reads the standard registry when called, so decompositions may use one another.
pub(crate) fn infer_through(_reg: &OpRegistry, name: &str) -> Option<InferFn> {
    let name = name.to_string();
    Some(Arc::new(move |a| {
        crate::ops::decomp::infer_by_decomposition(super::registry(), &name, a)
    }))
}

/// One result.
pub(crate) fn one(v: crate::graph::ValueId) -> Result<Vec<Arg>, String> {
    Ok(vec![Arg::Value(v)])
}
