//! Layout noise: permutation composition (`permute`, `transpose`, `t`), `view`/`reshape`
//! chains, `expand` chains, and no-op layout ops.

use super::{arg, arg_class, call, carry, find, ints, is, norm_dim, tensor_ty, ty, v, Build, Rule};
use crate::egraph::{TNode, EG};
use egg::Id;
use trtfx_ir::Arg;

/// The family's rules.
pub const RULES: &[Rule] = &[
    Rule {
        name: "permute-permute",
        soundness: "permute(permute(x, p), q) = permute(x, p∘q) for every dtype: both only move elements; an identity composition gives x",
        roots: PERMS,
        matcher: permute_permute,
    },
    Rule {
        name: "permute-identity",
        soundness: "a permutation that maps every axis to itself (or a transpose of one axis with itself) returns x unchanged",
        roots: PERMS,
        matcher: permute_identity,
    },
    Rule {
        name: "view-view",
        soundness: "view/reshape of a view/reshape: both keep the row-major element order, so only the last shape matters (trtfx computes views as copies, so aliasing does not change)",
        roots: VIEWS,
        matcher: view_view,
    },
    Rule {
        name: "view-identity",
        soundness: "a view/reshape/expand to the input's own type is the input",
        roots: &["aten.view.default", "aten.reshape.default", "aten._unsafe_view.default", "aten.expand.default"],
        matcher: layout_identity,
    },
    Rule {
        name: "expand-expand",
        soundness: "expand(expand(x, a), b) = expand(x, b) when b has no -1 (or its -1 are replaced by a's static sizes): broadcasting twice reads the same element of x",
        roots: &["aten.expand.default"],
        matcher: expand_expand,
    },
];

const VIEWS: &[&str] = &[
    "aten.view.default",
    "aten.reshape.default",
    "aten._unsafe_view.default",
];

/// The permutation an e-node applies and its input.
fn perm_of(eg: &EG, n: &TNode) -> Option<(Id, Vec<usize>)> {
    let x = arg_class(eg, n, 0, "self")?;
    let rank = tensor_ty(eg, x)?.rank();
    let mut perm: Vec<usize> = (0..rank).collect();
    if is(eg, n, &["aten.permute.default"]) {
        let dims = arg(eg, n, 1, "dims")?.as_int_list()?;
        if dims.len() != rank {
            return None;
        }
        perm = dims
            .into_iter()
            .map(|d| norm_dim(d, rank))
            .collect::<Option<_>>()?;
    } else if is(eg, n, &["aten.transpose.int"]) {
        let a = norm_dim(arg(eg, n, 1, "dim0")?.as_int()?, rank)?;
        let b = norm_dim(arg(eg, n, 2, "dim1")?.as_int()?, rank)?;
        if rank > 0 {
            perm.swap(a, b);
        }
    } else if is(eg, n, &["aten.t.default"]) {
        if rank == 2 {
            perm = vec![1, 0];
        }
    } else {
        return None;
    }
    Some((x, perm))
}

const PERMS: &[&str] = &[
    "aten.permute.default",
    "aten.transpose.int",
    "aten.t.default",
];

/// `permute(permute(x, p), q)` → `permute(x, [p[q[0]], p[q[1]], ...])` (or `x` when that is
/// the identity). Sound for every dtype: a permutation moves elements without computing.
fn permute_permute(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (inner, q) = perm_of(eg, n)?;
    let m = find(eg, inner, PERMS)?;
    let (x, p) = perm_of(eg, m)?;
    let composed: Vec<usize> = q.iter().map(|&i| p[i]).collect();
    if composed.iter().enumerate().all(|(i, &j)| i == j) {
        return Some(Build::Class(x));
    }
    let dims: Vec<i64> = composed.iter().map(|&i| i as i64).collect();
    Some(call("aten.permute.default", vec![v(x), ints(&dims)]))
}

/// An identity permutation → `x`. Sound: nothing moves.
fn permute_identity(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (x, p) = perm_of(eg, n)?;
    p.iter()
        .enumerate()
        .all(|(i, &j)| i == j)
        .then_some(Build::Class(x))
}

/// `view(view(x, a), b)` → `view(x, b)` (the outer op kept). Sound: views and reshapes keep the
/// row-major element order, so the intermediate shape is irrelevant.
fn view_view(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (target, args, kwargs) = super::call_of(eg, n)?;
    if !VIEWS.contains(&target) || !kwargs.is_empty() || args.len() != 2 {
        return None;
    }
    let inner = arg_class(eg, n, 0, "self")?;
    let m = find(eg, inner, VIEWS)?;
    let x = arg_class(eg, m, 0, "self")?;
    Some(call(target, vec![v(x), carry(n, &args[1])]))
}

/// `view`/`reshape`/`expand`/`clone`-free layout op to the input's own type → the input.
/// Sound: a view or expand that keeps the shape is the identity on values.
fn layout_identity(eg: &EG, c: Id, n: &TNode) -> Option<Build> {
    let mut ops = VIEWS.to_vec();
    ops.push("aten.expand.default");
    if !is(eg, n, &ops) {
        return None;
    }
    let x = arg_class(eg, n, 0, "self")?;
    (ty(eg, x)? == ty(eg, c)?).then_some(Build::Class(x))
}

/// `expand(expand(x, a), b)` → `expand(x, b')` where `b'` is `b` with each `-1` replaced by
/// the intermediate's static size. Sound: expanding broadcasts size-1 axes; the composition
/// reads, for every output index, the same element of `x` as the direct expand. The type
/// check refuses a direct expand that `x`'s shape does not allow.
fn expand_expand(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    if !is(eg, n, &["aten.expand.default"]) || arg(eg, n, 2, "implicit").is_some() {
        return None;
    }
    let inner = arg_class(eg, n, 0, "self")?;
    let m = find(eg, inner, &["aten.expand.default"])?;
    let x = arg_class(eg, m, 0, "self")?;
    let mid = tensor_ty(eg, inner)?;
    let Arg::List(sizes) = arg(eg, n, 1, "size")? else {
        return None;
    };
    let lead = sizes.len().checked_sub(mid.rank())?;
    let mut out = Vec::new();
    for (i, s) in sizes.iter().enumerate() {
        if let Arg::Int(-1) = s {
            let d = i.checked_sub(lead).and_then(|j| mid.shape[j].as_const())?;
            out.push(super::l(Arg::Int(d)));
        } else {
            out.push(carry(n, s));
        }
    }
    Some(call("aten.expand.default", vec![v(x), super::A::List(out)]))
}
