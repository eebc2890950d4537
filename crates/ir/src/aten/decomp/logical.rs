//! Python's `&`, `|` and `^` on tensors: the bitwise ops (which are logical on bools).

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::val;
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.__and__.Tensor", |c| {
        binary(c, "aten.bitwise_and.Tensor")
    });
    add("aten.__and__.Scalar", |c| {
        scalar(c, "aten.bitwise_and.Scalar")
    });
    add("aten.__or__.Tensor", |c| {
        binary(c, "aten.bitwise_or.Tensor")
    });
    add("aten.__or__.Scalar", |c| {
        scalar(c, "aten.bitwise_or.Scalar")
    });
    add("aten.__xor__.Tensor", |c| {
        binary(c, "aten.bitwise_xor.Tensor")
    });
    add("aten.__xor__.Scalar", |c| {
        scalar(c, "aten.bitwise_xor.Scalar")
    });
}

fn binary(c: &mut DecompCx<'_>, op: &str) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    one(c.call(op, vec![val(a), val(b)])?)
}

fn scalar(c: &mut DecompCx<'_>, op: &str) -> Result<Vec<Arg>, String> {
    let a = c.tensor("self")?;
    let b = c.arg("other")?;
    one(c.call(op, vec![val(a), b])?)
}
