//! Broadcasting-aware hoisting: constants move together so they fold into one, and explicit
//! `expand`s of an elementwise operand give way to implicit broadcasting.

use super::{alpha_one, arg, arg_class, call, find, is, l, only_kwargs, tensor_ty, v, Build, Rule};
use crate::egraph::{TNode, EG};
use egg::Id;
use trtfx_ir::{Arg, DType, F64};

/// The family's rules.
pub const RULES: &[Rule] = &[
    Rule {
        name: "expand-into-broadcast",
        soundness: "op(expand(a, s), b) = op(a, b) for a broadcasting elementwise op when the result type is unchanged (type check): implicit broadcasting reads the same elements expand would copy",
        roots: ELEMENTWISE2,
        matcher: expand_into_broadcast,
    },
    Rule {
        name: "hoist-mul-const",
        soundness: "mul(mul(x, c1), c2) = mul(x, mul(c1, c2)) for integer dtypes (wrapping multiplication is associative) and f32/f64 (relative rounding only, barring overflow of an intermediate), where c1, c2 are weights of x's dtype or literals, and the constant product broadcasts into x's shape (type check)",
        roots: &["aten.mul.Tensor"],
        matcher: hoist_mul,
    },
    Rule {
        name: "hoist-add-const",
        soundness: "add(add(x, c1), c2) = add(x, add(c1, c2)) for integer dtypes only (wrapping addition is associative; float addition is not: (x + 1e8) - 1e8 loses x)",
        roots: &["aten.add.Tensor"],
        matcher: hoist_add,
    },
];

const ELEMENTWISE2: &[&str] = &[
    "aten.add.Tensor",
    "aten.sub.Tensor",
    "aten.mul.Tensor",
    "aten.div.Tensor",
    "aten.maximum.default",
    "aten.minimum.default",
    "aten.pow.Tensor_Tensor",
    "aten.eq.Tensor",
    "aten.ne.Tensor",
    "aten.lt.Tensor",
    "aten.le.Tensor",
    "aten.gt.Tensor",
    "aten.ge.Tensor",
];

/// `op(expand(a, s), b)` → `op(a, b)` (and the same for `b`). Sound: an elementwise op
/// broadcasts its operands exactly as `expand` would; if dropping the expand would change the
/// result's shape, the type check refuses it.
fn expand_into_broadcast(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (target, args, kwargs) = super::call_of(eg, n)?;
    if !ELEMENTWISE2.contains(&target) || args.len() < 2 {
        return None;
    }
    let a = arg_class(eg, n, 0, "self")?;
    let b = arg_class(eg, n, 1, "other")?;
    let rest: Vec<super::A> = args[2..].iter().map(|x| super::carry(n, x)).collect();
    let mut rest = Some(rest);
    for (i, side) in [a, b].into_iter().enumerate() {
        if let Some(m) = find(eg, side, &["aten.expand.default"]) {
            if arg(eg, m, 2, "implicit").is_some() {
                continue;
            }
            let inner = arg_class(eg, m, 0, "self")?;
            let mut ops = if i == 0 {
                vec![v(inner), v(b)]
            } else {
                vec![v(a), v(inner)]
            };
            ops.extend(rest.take()?);
            // Keyword arguments (`alpha`) are carried too.
            let kw: Vec<(&str, super::A)> = kwargs
                .iter()
                .map(|(k, a)| (k.as_str(), super::carry(n, a)))
                .collect();
            return Some(super::call_kw(target, ops, kw));
        }
    }
    None
}

/// A hoistable constant: a weight-only class of dtype `dt`, or a literal.
enum Const {
    Class(Id),
    Lit(Arg),
}

fn constant(eg: &EG, n: &TNode, dt: DType) -> Option<Const> {
    match arg(eg, n, 1, "other")? {
        Arg::Value(_) => {
            let c = arg_class(eg, n, 1, "other")?;
            (eg[c].data.weight_only && tensor_ty(eg, c)?.dtype == dt).then_some(Const::Class(c))
        }
        a @ (Arg::Int(_) | Arg::Float(_)) => Some(Const::Lit(a.clone())),
        _ => None,
    }
}

fn combine(
    eg: &EG,
    n: &TNode,
    target: &str,
    dt: DType,
    fold: fn(&Arg, &Arg, DType) -> Option<Arg>,
) -> Option<Build> {
    let x0 = arg_class(eg, n, 0, "self")?;
    let c2 = constant(eg, n, dt)?;
    let m = find(eg, x0, &[target])?;
    if !alpha_one(eg, m) || !only_kwargs(eg, m, &[]) {
        return None;
    }
    let x = arg_class(eg, m, 0, "self")?;
    if eg[x].data.weight_only || tensor_ty(eg, x)?.dtype != dt {
        return None;
    }
    let c1 = constant(eg, m, dt)?;
    let c = match (c1, c2) {
        (Const::Lit(a), Const::Lit(b)) => l(fold(&a, &b, dt)?),
        (Const::Class(a), Const::Class(b)) => super::t(call(target, vec![v(a), v(b)])),
        (Const::Class(a), Const::Lit(b)) | (Const::Lit(b), Const::Class(a)) => {
            super::t(call(target, vec![v(a), l(b)]))
        }
    };
    Some(call(target, vec![v(x), c]))
}

fn dt_ok(eg: &EG, n: &TNode, float_ok: bool) -> Option<DType> {
    let x = arg_class(eg, n, 0, "self")?;
    let dt = tensor_ty(eg, x)?.dtype;
    (dt.is_integral() || (float_ok && matches!(dt, DType::F32 | DType::F64))).then_some(dt)
}

fn fold_mul(a: &Arg, b: &Arg, dt: DType) -> Option<Arg> {
    match (a, b) {
        // Kept within i32 so the literal means the same for every integer tensor dtype.
        (Arg::Int(x), Arg::Int(y)) => {
            let p = x.checked_mul(*y)?;
            (i32::try_from(p).is_ok()).then_some(Arg::Int(p))
        }
        (Arg::Float(x), Arg::Float(y)) if dt.is_float() => {
            let ok = |v: f64| v == 0.0 || (v.is_finite() && (1e-6..=1e6).contains(&v.abs()));
            (ok(x.0) && ok(y.0) && ok(x.0 * y.0)).then_some(Arg::Float(F64(x.0 * y.0)))
        }
        _ => None,
    }
}

fn fold_add(a: &Arg, b: &Arg, _dt: DType) -> Option<Arg> {
    match (a, b) {
        (Arg::Int(x), Arg::Int(y)) => {
            let s = x.checked_add(*y)?;
            (i32::try_from(s).is_ok()).then_some(Arg::Int(s))
        }
        _ => None,
    }
}

/// `mul(mul(x, c1), c2)` → `mul(x, c1*c2)` with the constants combined (literals folded
/// now, weights left to `fold-constants`). Sound for integer dtypes (wrapping multiplication
/// is associative and commutative) and for f32/f64 up to rounding (barring overflow of an
/// intermediate; literals are limited to magnitudes in [1e-6, 1e6]). f16/bf16 are refused:
/// their narrow range makes intermediate overflow likely.
fn hoist_mul(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.mul.Tensor"]) || !only_kwargs(eg, n, &[]) {
        return None;
    }
    let dt = dt_ok(eg, n, true)?;
    combine(eg, n, "aten.mul.Tensor", dt, fold_mul)
}

/// `add(add(x, c1), c2)` → `add(x, c1+c2)` for integer dtypes only (alpha 1). Sound: wrapping
/// addition is associative. Floats are refused: reassociation can cancel catastrophically.
fn hoist_add(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.add.Tensor"]) || !alpha_one(eg, n) {
        return None;
    }
    let dt = dt_ok(eg, n, false)?;
    combine(eg, n, "aten.add.Tensor", dt, fold_add)
}
