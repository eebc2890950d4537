//! Matrix products with a bias: `mm + add` → `addmm`, and a transposed weight folded into
//! `linear` (TensorRT's matrix multiply takes the transpose as a flag, so no shuffle layer).

use super::{
    alpha_one, arg_class, call, dtype, find, is, l, only_kwargs, tensor_ty, v, Build, Rule,
};
use crate::egraph::{TNode, EG};
use egg::Id;
use trtfx_ir::Arg;

/// The family's rules.
pub const RULES: &[Rule] = &[
    Rule {
        name: "mm-add-addmm",
        soundness: "add(mm(x, w), b) = addmm(b, x, w) for floating dtypes with alpha 1, when b broadcasts to the product's shape (type check); only rounding of the bias addition may move",
        roots: &["aten.add.Tensor"],
        matcher: mm_add,
    },
    Rule {
        name: "addmm-linear",
        soundness: "addmm(b, x, permute(w, [1,0])) = linear(x, w, b) (beta = alpha = 1): linear is x @ w^T + b by definition",
        roots: &["aten.addmm.default"],
        matcher: addmm_linear,
    },
    Rule {
        name: "mm-linear",
        soundness: "mm(x, permute(w, [1,0])) = linear(x, w): linear without bias is x @ w^T",
        roots: &["aten.mm.default"],
        matcher: mm_linear,
    },
];

/// `add(mm(x, w), b)` or `add(b, mm(x, w))` → `addmm(b, x, w)`. Sound for floating dtypes
/// with alpha 1: addmm computes `b + x @ w`; the type check refuses a bias that would enlarge
/// the result by broadcasting. Integer products are left alone (addmm's integer support is
/// narrower than mm's).
fn mm_add(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.add.Tensor"]) || !alpha_one(eg, n) {
        return None;
    }
    let a = arg_class(eg, n, 0, "self")?;
    let b = arg_class(eg, n, 1, "other")?;
    for (p, bias) in [(a, b), (b, a)] {
        if let Some(m) = find(eg, p, &["aten.mm.default"]) {
            let x = arg_class(eg, m, 0, "self")?;
            let w = arg_class(eg, m, 1, "mat2")?;
            if !dtype(eg, x)?.is_float() || dtype(eg, bias)? != dtype(eg, x)? {
                return None;
            }
            return Some(call("aten.addmm.default", vec![v(bias), v(x), v(w)]));
        }
    }
    None
}

/// The `w` of a class that holds `permute(w, [1, 0])` (or `t(w)` / `transpose(w, 0, 1)`) of
/// a rank-2 `w`.
fn transposed(eg: &EG, id: Id) -> Option<Id> {
    let m = find(
        eg,
        id,
        &[
            "aten.permute.default",
            "aten.t.default",
            "aten.transpose.int",
        ],
    )?;
    let w = arg_class(eg, m, 0, "self")?;
    if tensor_ty(eg, w)?.rank() != 2 {
        return None;
    }
    let swaps = if is(eg, m, &["aten.permute.default"]) {
        super::arg(eg, m, 1, "dims")?.as_int_list()? == vec![1, 0]
    } else if is(eg, m, &["aten.transpose.int"]) {
        let a = super::arg(eg, m, 1, "dim0")?.as_int()?;
        let b = super::arg(eg, m, 2, "dim1")?.as_int()?;
        super::norm_dim(a, 2)? != super::norm_dim(b, 2)?
    } else {
        true
    };
    swaps.then_some(w)
}

/// `addmm(b, x, permute(w, [1,0]))` → `linear(x, w, b)` (beta, alpha absent or 1). Sound:
/// linear is defined as `x @ w^T + b`.
fn addmm_linear(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.addmm.default"]) || !only_kwargs(eg, n, &[]) {
        return None;
    }
    let b = arg_class(eg, n, 0, "self")?;
    let x = arg_class(eg, n, 1, "mat1")?;
    let w = transposed(eg, arg_class(eg, n, 2, "mat2")?)?;
    if !dtype(eg, x)?.is_float() {
        return None;
    }
    Some(call("aten.linear.default", vec![v(x), v(w), v(b)]))
}

/// `mm(x, permute(w, [1,0]))` → `linear(x, w)`. Sound: linear without bias is `x @ w^T`.
fn mm_linear(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.mm.default"]) {
        return None;
    }
    let x = arg_class(eg, n, 0, "self")?;
    let w = transposed(eg, arg_class(eg, n, 1, "mat2")?)?;
    if !dtype(eg, x)?.is_float() {
        return None;
    }
    Some(call("aten.linear.default", vec![v(x), v(w), l(Arg::None)]))
}
