//! Algebraic identities: `x*1`, `x/1`, `x+0`, `x-0`, double negation, and `x-x` for integers.

use super::{alpha_one, arg, arg_class, call, dtype, find, is, lit, only_kwargs, v, Build, Rule};
use crate::egraph::{TNode, EG};
use egg::Id;

/// The family's rules.
pub const RULES: &[Rule] = &[
    Rule {
        name: "mul-one",
        soundness: "x*1 = x for every dtype (also NaN, inf, -0.0); the result type must equal x's (no promotion or broadcast), which the type check enforces",
        roots: &["aten.mul.Tensor", "aten.mul.Scalar"],
        matcher: mul_one,
    },
    Rule {
        name: "div-one",
        soundness: "x/1 = x exactly for floating x without rounding_mode; integer x promotes to float, which the type check refuses",
        roots: &["aten.div.Tensor", "aten.div.Scalar"],
        matcher: div_one,
    },
    Rule {
        name: "add-zero",
        soundness: "x+0 = x and x-0 = x for integer x; for floating x only x+(-0.0) and x-(+0.0), since -0.0 + 0.0 = +0.0",
        roots: &["aten.add.Tensor", "aten.add.Scalar", "aten.sub.Tensor", "aten.sub.Scalar"],
        matcher: add_zero,
    },
    Rule {
        name: "neg-neg",
        soundness: "-(-x) = x for every numeric dtype (integer negation wraps, and wraps back)",
        roots: &["aten.neg.default"],
        matcher: neg_neg,
    },
    Rule {
        name: "sub-self-int",
        soundness: "x-x = 0 only for integer and bool-free dtypes: for floats inf-inf and NaN-NaN are NaN",
        roots: &["aten.sub.Tensor"],
        matcher: sub_self_int,
    },
];

/// `mul(x, 1)` / `mul(1-tensor literal)` → `x`. Sound for every dtype: multiplying by one is
/// exact, including NaN, infinities and signed zeros; the type check refuses a product whose
/// type differs from `x`'s (promotion of an integer `x` by a float `1.0`).
fn mul_one(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.mul.Tensor", "aten.mul.Scalar"]) || !only_kwargs(eg, n, &[]) {
        return None;
    }
    let x = arg_class(eg, n, 0, "self")?;
    (lit(arg(eg, n, 1, "other")) == Some(1.0)).then_some(Build::Class(x))
}

/// `div(x, 1)` → `x` for floating `x` without `rounding_mode`. Sound: IEEE division by one is
/// exact. An integer `x` would be promoted to float (true division), so it is refused.
fn div_one(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.div.Tensor", "aten.div.Scalar"]) || !only_kwargs(eg, n, &[]) {
        return None;
    }
    let x = arg_class(eg, n, 0, "self")?;
    let ok = dtype(eg, x)?.is_float() && lit(arg(eg, n, 1, "other")) == Some(1.0);
    ok.then_some(Build::Class(x))
}

/// `add(x, 0)` / `sub(x, 0)` → `x` (alpha 1). Sound for integers. For floating `x`, only
/// `x + (-0.0)` and `x - (+0.0)` are identities: `-0.0 + 0.0 = +0.0`, so `x + 0.0` is refused.
fn add_zero(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let add = is(eg, n, &["aten.add.Tensor", "aten.add.Scalar"]);
    let sub = is(eg, n, &["aten.sub.Tensor", "aten.sub.Scalar"]);
    if !(add || sub) || !alpha_one(eg, n) {
        return None;
    }
    let x = arg_class(eg, n, 0, "self")?;
    let other = arg(eg, n, 1, "other")?;
    let zero = lit(Some(other)) == Some(0.0);
    if !zero {
        return None;
    }
    let dt = dtype(eg, x)?;
    let ok = if dt.is_float() {
        let neg = matches!(other, trtfx_ir::Arg::Float(f) if f.0.is_sign_negative());
        (add && neg) || (sub && !neg)
    } else {
        dt.is_integral()
    };
    ok.then_some(Build::Class(x))
}

/// `neg(neg(x))` → `x`. Sound for every numeric dtype: float negation flips the sign bit
/// (twice is the identity, NaN included); two's-complement negation of `MIN` wraps to `MIN`.
fn neg_neg(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.neg.default"]) {
        return None;
    }
    let inner = arg_class(eg, n, 0, "self")?;
    let m = find(eg, inner, &["aten.neg.default"])?;
    Some(Build::Class(arg_class(eg, m, 0, "self")?))
}

/// `sub(x, x)` → `zeros_like(x)` for integer `x` (alpha 1). Sound only for integers:
/// wrapping subtraction of equal values is 0. For floats `inf - inf` and `NaN - NaN` are NaN,
/// so float `x` is refused.
fn sub_self_int(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.sub.Tensor"]) || !alpha_one(eg, n) {
        return None;
    }
    let x = arg_class(eg, n, 0, "self")?;
    let y = arg_class(eg, n, 1, "other")?;
    let dt = dtype(eg, x)?;
    (eg.find(x) == eg.find(y) && dt.is_integral() && dt != trtfx_ir::DType::Bool)
        .then(|| call("aten.zeros_like.default", vec![v(x)]))
}
