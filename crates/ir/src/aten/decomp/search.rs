//! Search ops written as others: `bucketize` is `searchsorted` with the operands swapped;
//! `argwhere` is `nonzero`, and the other data-dependent selections are `nonzero` and a
//! gather or a column split: `masked_select` gathers the flattened (broadcast) input at the
//! nonzero positions of the flattened mask, `nonzero_numpy` (`nonzero(as_tuple=True)`) is the
//! columns of `nonzero` (a 0-d input counting as 1-d, as PyTorch's does).

use super::{one, Add};
use crate::dtype::DType;
use crate::graph::Arg;
use crate::ops::decomp::{int, ints, val};
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
    add("aten.masked_select.default", masked_select);
    add("aten.nonzero_numpy.default", nonzero_numpy);
}

/// `masked_select(self, mask)`: `self` and `mask` broadcast to one shape and flattened in
/// row-major order (PyTorch's order of the selected elements); the positions of the mask's
/// true elements (`nonzero` of the flat mask, one column) index the flat input.
fn masked_select(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, m) = (c.tensor("self")?, c.tensor("mask")?);
    let mt = c.tensor_type(m)?;
    if !matches!(mt.dtype, DType::Bool | DType::U8) {
        return Err(format!(
            "masked_select: mask must be bool, got {}",
            mt.dtype
        ));
    }
    let (x, m) = if c.tensor_type(x)?.shape == mt.shape {
        (x, m)
    } else {
        let b = c.call_kw(
            "aten.broadcast_tensors.default",
            vec![Arg::List(vec![val(x), val(m)])],
            vec![],
        )?;
        match b[..] {
            [x, m] => (x, m),
            _ => return Err("broadcast_tensors gave other than two tensors".into()),
        }
    };
    let flat =
        |c: &mut DecompCx<'_>, v| c.call("aten.flatten.using_ints", vec![val(v), int(0), int(-1)]);
    let (x, m) = (flat(c, x)?, flat(c, m)?);
    let nz = c.call("aten.nonzero.default", vec![val(m)])?;
    let idx = c.call("aten.squeeze.dims", vec![val(nz), ints(&[1])])?;
    one(c.call("aten.index_select.default", vec![val(x), int(0), val(idx)])?)
}

/// `nonzero_numpy(self)`: one `[n]` int64 tensor per dim of `self` (a 0-d tensor counts as
/// 1-d), column `d` of `nonzero` for dim `d`.
fn nonzero_numpy(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let mut x = c.tensor("self")?;
    if c.rank(x)? == 0 {
        x = c.call("aten.unsqueeze.default", vec![val(x), int(0)])?;
    }
    let nz = c.call("aten.nonzero.default", vec![val(x)])?;
    (0..c.rank(x)? as i64)
        .map(|d| {
            Ok(val(
                c.call("aten.select.int", vec![val(nz), int(1), int(d)])?
            ))
        })
        .collect()
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
