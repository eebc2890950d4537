//! Search ops written as others: `bucketize` is `searchsorted` with the operands swapped;
//! `argwhere` is `nonzero`.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::val;
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.bucketize.Tensor", |c| {
        let x = c.tensor("self")?;
        bucketize(c, val(x), "aten.searchsorted.Tensor")
    });
    add("aten.bucketize.Scalar", |c| {
        let x = c.arg("self")?;
        bucketize(c, x, "aten.searchsorted.Scalar")
    });
    add("aten.argwhere.default", |c| {
        let x = c.tensor("self")?;
        one(c.call("aten.nonzero.default", vec![val(x)])?)
    });
}

/// `bucketize(x, boundaries, out_int32, right)` = `searchsorted(boundaries, x, out_int32, right)`
/// (boundaries are 1-d, so every value searches all of them).
fn bucketize(c: &mut DecompCx<'_>, x: Arg, target: &str) -> Result<Vec<Arg>, String> {
    let b = c.tensor("boundaries")?;
    if c.rank(b)? != 1 {
        return Err("bucketize: boundaries must be 1-d".into());
    }
    let kwargs = vec![
        ("out_int32".to_string(), Arg::Bool(c.bool("out_int32")?)),
        ("right".to_string(), Arg::Bool(c.bool("right")?)),
    ];
    let r = c.call_kw(target, vec![val(b), x], kwargs)?;
    match r.as_slice() {
        [v] => one(*v),
        _ => Err(format!("`{target}` has {} results, expected one", r.len())),
    }
}
