//! Python's `&`, `|` and `^` on tensors: the bitwise ops (which are logical on bools); `isin`.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{int, ints, val};
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
    add("aten.isin.Tensor_Tensor", |c| {
        let (e, t) = (c.tensor("elements")?, c.tensor("test_elements")?);
        let invert = c.bool("invert")?;
        let flat = c.call("aten.reshape.default", vec![val(t), ints(&[-1])])?;
        let col = c.call("aten.unsqueeze.default", vec![val(e), int(-1)])?;
        let eq = c.call("aten.eq.Tensor", vec![val(col), val(flat)])?;
        let hit = c.call("aten.any.dim", vec![val(eq), int(-1)])?;
        inverted(c, hit, invert)
    });
    add("aten.isin.Tensor_Scalar", |c| {
        let e = c.tensor("elements")?;
        let (s, invert) = (c.arg("test_element")?, c.bool("invert")?);
        let hit = c.call("aten.eq.Scalar", vec![val(e), s])?;
        inverted(c, hit, invert)
    });
    add("aten.isin.Scalar_Tensor", |c| {
        let t = c.tensor("test_elements")?;
        let (s, invert) = (c.arg("element")?, c.bool("invert")?);
        let eq = c.call("aten.eq.Scalar", vec![val(t), s])?;
        let hit = c.call("aten.any.default", vec![val(eq)])?;
        inverted(c, hit, invert)
    });
}

/// `hit`, or its negation for `invert=True`.
fn inverted(c: &mut DecompCx<'_>, hit: crate::ValueId, invert: bool) -> Result<Vec<Arg>, String> {
    if invert {
        one(c.call("aten.logical_not.default", vec![val(hit)])?)
    } else {
        one(hit)
    }
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
