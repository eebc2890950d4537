//! Concatenation and slicing that cancel: a slice that selects exactly one input of a `cat`,
//! a `cat` of one tensor, and a `cat` of adjacent slices that cover their source.

use super::{arg, arg_class, find, is, norm_dim, tensor_ty, Build, Rule};
use crate::egraph::{cranelift_index, TNode, EG};
use egg::Id;
use trtfx_ir::Arg;

/// The family's rules.
pub const RULES: &[Rule] = &[
    Rule {
        name: "slice-cat",
        soundness: "slice(cat(xs, d), d, s, e, 1) = xs[k] when [s, e) is exactly xs[k]'s extent along d (static sizes): the slice copies those elements unchanged",
        roots: &["aten.slice.Tensor"],
        matcher: slice_cat,
    },
    Rule {
        name: "cat-single",
        soundness: "cat([x], d) = x: concatenating one tensor copies it",
        roots: &["aten.cat.default"],
        matcher: cat_single,
    },
    Rule {
        name: "cat-slices",
        soundness: "cat([slice(x,d,0,a), slice(x,d,a,b), ..., slice(x,d,y,n)], d) = x when the slices are adjacent, step 1, and cover x's whole (static) extent along d",
        roots: &["aten.cat.default"],
        matcher: cat_slices,
    },
];

/// The classes of a `cat`'s tensor list and its normalized dim.
fn cat_of(eg: &EG, n: &TNode) -> Option<(Vec<Id>, usize)> {
    if !is(eg, n, &["aten.cat.default"]) {
        return None;
    }
    let Arg::List(items) = arg(eg, n, 0, "tensors")? else {
        return None;
    };
    let xs: Vec<Id> = items
        .iter()
        .map(|a| match a {
            Arg::Value(s) => Some(n.kids[cranelift_index(*s)]),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let rank = tensor_ty(eg, *xs.first()?)?.rank();
    let d = match arg(eg, n, 1, "dim") {
        None => 0,
        Some(a) => norm_dim(a.as_int()?, rank)?,
    };
    Some((xs, d))
}

/// `(x, dim, start, end)` of a step-1 slice with static bounds, clamped to `x`'s static size.
fn slice_of(eg: &EG, n: &TNode) -> Option<(Id, usize, i64, i64)> {
    if !is(eg, n, &["aten.slice.Tensor"]) {
        return None;
    }
    let x = arg_class(eg, n, 0, "self")?;
    let xt = tensor_ty(eg, x)?;
    let d = match arg(eg, n, 1, "dim") {
        None => 0,
        Some(a) => norm_dim(a.as_int()?, xt.rank())?,
    };
    let size = xt.shape.get(d)?.as_const()?;
    let bound = |a: Option<&Arg>, default: i64| -> Option<i64> {
        let v = match a {
            None | Some(Arg::None) => default,
            Some(a) => a.as_int()?,
        };
        let v = if v < 0 { v + size } else { v };
        Some(v.clamp(0, size))
    };
    let s = bound(arg(eg, n, 2, "start"), 0)?;
    let e = bound(arg(eg, n, 3, "end"), size)?;
    let step = match arg(eg, n, 4, "step") {
        None => 1,
        Some(a) => a.as_int()?,
    };
    (step == 1).then_some((x, d, s, e))
}

/// `slice(cat(xs, d), d, s, e)` → `xs[k]` when `[s, e)` is exactly `xs[k]`'s extent. Sound:
/// the slice copies exactly the elements `cat` copied from `xs[k]`.
fn slice_cat(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (src, d, s, e) = slice_of(eg, n)?;
    let m = find(eg, src, &["aten.cat.default"])?;
    let (xs, cd) = cat_of(eg, m)?;
    if cd != d {
        return None;
    }
    let mut off = 0i64;
    for x in xs {
        let len = tensor_ty(eg, x)?.shape.get(d)?.as_const()?;
        if off == s && off + len == e && len > 0 {
            return Some(Build::Class(x));
        }
        off += len;
        if off > s {
            return None;
        }
    }
    None
}

/// `cat([x], d)` → `x`. Sound: a one-tensor concatenation is a copy (the type check refuses
/// the legacy empty-tensor special cases, whose type differs).
fn cat_single(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (xs, _) = cat_of(eg, n)?;
    (xs.len() == 1).then(|| Build::Class(xs[0]))
}

/// `cat` of adjacent step-1 slices of one `x` along the cat dim that cover `x` → `x`. Sound:
/// the pieces are reassembled in order.
fn cat_slices(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (xs, d) = cat_of(eg, n)?;
    if xs.len() < 2 {
        return None;
    }
    let mut src = None;
    let mut next = 0i64;
    for p in xs {
        let s = eg[p].nodes.iter().find_map(|m| slice_of(eg, m))?;
        let (x, sd, start, end) = s;
        if sd != d || start != next || end <= start {
            return None;
        }
        match src {
            None => src = Some(x),
            Some(y) if eg.find(y) == eg.find(x) => {}
            Some(_) => return None,
        }
        next = end;
    }
    let x = src?;
    let size = tensor_ty(eg, x)?.shape.get(d)?.as_const()?;
    (next == size).then_some(Build::Class(x))
}
