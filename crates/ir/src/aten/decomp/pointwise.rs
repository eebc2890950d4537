//! Pointwise composites: `addcmul`, `addcdiv`, `logaddexp`, `logaddexp2`, `log_sigmoid`.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{float, int, val};
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.addcmul.default", |c| addc(c, "aten.mul.Tensor"));
    add("aten.addcdiv.default", |c| addc(c, "aten.div.Tensor"));
    add("aten.logaddexp.default", |c| logaddexp(c, false));
    add("aten.logaddexp2.default", |c| logaddexp(c, true));
    add("aten.log_sigmoid.default", |c| {
        // min(x, 0) - log1p(exp(-|x|)): never overflows, unlike log(sigmoid(x)).
        let x = c.tensor("self")?;
        let lo = c.call("aten.clamp_max.default", vec![val(x), int(0)])?;
        let a = c.call("aten.abs.default", vec![val(x)])?;
        let na = c.call("aten.neg.default", vec![val(a)])?;
        let e = c.call("aten.exp.default", vec![val(na)])?;
        let l = c.call("aten.log1p.default", vec![val(e)])?;
        one(c.call("aten.sub.Tensor", vec![val(lo), val(l)])?)
    });
}

/// `self + value * (tensor1 OP tensor2)`.
fn addc(c: &mut DecompCx<'_>, op: &str) -> Result<Vec<Arg>, String> {
    let (s, t1, t2) = (
        c.tensor("self")?,
        c.tensor("tensor1")?,
        c.tensor("tensor2")?,
    );
    let value = c.arg("value")?;
    let p = c.call(op, vec![val(t1), val(t2)])?;
    let unit = matches!(value, Arg::Int(1)) || value.as_f64() == Some(1.0);
    let scaled = if unit {
        p
    } else {
        c.call("aten.mul.Scalar", vec![val(p), value])?
    };
    one(c.call("aten.add.Tensor", vec![val(s), val(scaled)])?)
}

/// `max(a, b) + log1p(exp(-|a - b|))` (base 2: `log2(1 + 2^-|a-b|)`), and `a` where both are
/// the same infinity (the difference is NaN there), as PyTorch's reference does.
fn logaddexp(c: &mut DecompCx<'_>, base2: bool) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    let m = c.call("aten.maximum.default", vec![val(a), val(b)])?;
    let d = c.call("aten.sub.Tensor", vec![val(a), val(b)])?;
    let d = c.call("aten.abs.default", vec![val(d)])?;
    let nd = c.call("aten.neg.default", vec![val(d)])?;
    let tail = if base2 {
        let p = c.call("aten.exp2.default", vec![val(nd)])?;
        let p = c.call("aten.log1p.default", vec![val(p)])?;
        c.call(
            "aten.mul.Scalar",
            vec![val(p), float(std::f64::consts::LOG2_E)],
        )?
    } else {
        let e = c.call("aten.exp.default", vec![val(nd)])?;
        c.call("aten.log1p.default", vec![val(e)])?
    };
    let r = c.call("aten.add.Tensor", vec![val(m), val(tail)])?;
    let inf = c.call("aten.isinf.default", vec![val(a)])?;
    let same = c.call("aten.eq.Tensor", vec![val(a), val(b)])?;
    let mask = c.call("aten.logical_and.default", vec![val(inf), val(same)])?;
    one(c.call("aten.where.self", vec![val(mask), val(a), val(r)])?)
}
