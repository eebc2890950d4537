//! Shape composites: `diff`, `mT`, `reshape_as`, `atleast_{1,2,3}d`.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{int, ints, val};
use crate::ops::DecompCx;
use crate::types::Type;
use crate::DType;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.diff.default", diff);
    add("aten.mT.default", |c| {
        let x = c.tensor("self")?;
        if c.rank(x)? < 2 {
            return Err("mT needs a tensor of rank 2 or more".into());
        }
        one(c.call("aten.transpose.int", vec![val(x), int(-2), int(-1)])?)
    });
    add("aten.reshape_as.default", |c| {
        let (x, other) = (c.tensor("self")?, c.tensor("other")?);
        let shape = sizes(c, other)?;
        one(c.call("aten.reshape.default", vec![val(x), shape])?)
    });
    add("aten.atleast_1d.default", |c| atleast(c, 1));
    add("aten.atleast_2d.default", |c| atleast(c, 2));
    add("aten.atleast_3d.default", |c| atleast(c, 3));
}

/// The sizes of tensor `v` as a list argument: literal ints where static, `sym_size` calls
/// where symbolic.
fn sizes(c: &mut DecompCx<'_>, v: crate::ValueId) -> Result<Arg, String> {
    let shape = c.tensor_type(v)?.shape.clone();
    let mut out = Vec::with_capacity(shape.len());
    for (i, d) in shape.iter().enumerate() {
        out.push(match d.as_const() {
            Some(n) => int(n),
            None => val(c.call("aten.sym_size.int", vec![val(v), int(i as i64)])?),
        });
    }
    Ok(Arg::List(out))
}

/// `n`-th forward difference along `dim`, after concatenating `prepend` and `append`;
/// booleans differ by `logical_xor`, as in PyTorch.
fn diff(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let mut x = c.tensor("self")?;
    let n = c.int("n")?;
    let dim = c.int("dim")?;
    if n < 0 {
        return Err(format!("order must be non-negative, got {n}"));
    }
    let rank = c.rank(x)? as i64;
    if rank == 0 {
        return Err("diff needs a tensor of rank 1 or more".into());
    }
    let d = if dim < 0 { dim + rank } else { dim };
    if !(0..rank).contains(&d) {
        return Err(format!("dim {dim} is out of range for rank {rank}"));
    }
    let (pre, app) = (c.opt_tensor("prepend")?, c.opt_tensor("append")?);
    if pre.is_some() || app.is_some() {
        let parts: Vec<Arg> = pre.into_iter().chain([x]).chain(app).map(val).collect();
        x = c.call("aten.cat.default", vec![Arg::List(parts), int(d)])?;
    }
    let is_bool = matches!(c.ty(x), Type::Tensor(t) if t.dtype == DType::Bool);
    for _ in 0..n {
        let hi = c.call(
            "aten.slice.Tensor",
            vec![val(x), int(d), int(1), int(i64::MAX), int(1)],
        )?;
        let lo = c.call(
            "aten.slice.Tensor",
            vec![val(x), int(d), int(0), int(-1), int(1)],
        )?;
        x = if is_bool {
            c.call("aten.logical_xor.default", vec![val(hi), val(lo)])?
        } else {
            c.call("aten.sub.Tensor", vec![val(hi), val(lo)])?
        };
    }
    one(x)
}

/// Unsqueezes a tensor of rank below `n` as `torch.atleast_{n}d` does: a scalar becomes
/// `[1]`, `[1, 1]` or `[1, 1, 1]`; a vector `[k]` becomes `[1, k]` or `[1, k, 1]`; a matrix
/// `[a, b]` becomes `[a, b, 1]`.
fn atleast(c: &mut DecompCx<'_>, n: usize) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let r = c.rank(x)?;
    if r >= n {
        return one(c.call("aten.alias.default", vec![val(x)])?);
    }
    let shape: Vec<i64> = match (n, r) {
        (_, 0) => vec![1; n],
        _ => Vec::new(),
    };
    if !shape.is_empty() {
        return one(c.call("aten.reshape.default", vec![val(x), ints(&shape)])?);
    }
    let y = match (n, r) {
        (2, 1) => c.call("aten.unsqueeze.default", vec![val(x), int(0)])?,
        (3, 1) => {
            let y = c.call("aten.unsqueeze.default", vec![val(x), int(0)])?;
            c.call("aten.unsqueeze.default", vec![val(y), int(2)])?
        }
        (3, 2) => c.call("aten.unsqueeze.default", vec![val(x), int(2)])?,
        _ => return Err(format!("atleast_{n}d of rank {r}")),
    };
    one(y)
}
