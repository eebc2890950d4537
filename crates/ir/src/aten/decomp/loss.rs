//! Loss functions that the export dialect keeps whole (core ATen decomposes them):
//! `binary_cross_entropy(_with_logits)`, `cross_entropy_loss`, `nll_loss(_nd, 2d)`, `kl_div`,
//! `huber_loss`, `l1_loss`, `hinge_embedding_loss`, `multi_margin_loss` and
//! `multilabel_margin_loss`, written as ATen's kernels compute them (`LossNLL.cpp`,
//! `Loss.cpp`, `LossMultiMargin.cpp`, `LossMultiLabelMargin.cpp`): the same per-element
//! formulas, weights, `ignore_index`, label smoothing and `reduction` (0 none, 1 mean, 2 sum).

use super::math::reduce;
use super::{one, Add};
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{float, int, ints, val};
use crate::ops::DecompCx;
use crate::DType;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.binary_cross_entropy.default", binary_cross_entropy);
    add(
        "aten.binary_cross_entropy_with_logits.default",
        binary_cross_entropy_with_logits,
    );
    add("aten.cross_entropy_loss.default", cross_entropy_loss);
    for name in [
        "aten.nll_loss_nd.default",
        "aten.nll_loss.default",
        "aten.nll_loss2d.default",
    ] {
        add(name, |c| {
            let (x, y) = (c.tensor("self")?, c.tensor("target")?);
            let w = c.opt_tensor("weight")?;
            let (red, ignore) = (c.int("reduction")?, c.int("ignore_index")?);
            one(nll_loss(c, x, y, w, red, ignore)?)
        });
    }
    add("aten.kl_div.default", |c| {
        // log_target: e^t (t - x); else t log t - t x (0 where t = 0, as xlogy).
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let l = if c.bool("log_target")? {
            let e = c.call("aten.exp.default", vec![val(y)])?;
            let d = c.call("aten.sub.Tensor", vec![val(y), val(x)])?;
            c.call("aten.mul.Tensor", vec![val(e), val(d)])?
        } else {
            let tl = c.call("aten.xlogy.Tensor", vec![val(y), val(y)])?;
            let tx = c.call("aten.mul.Tensor", vec![val(y), val(x)])?;
            c.call("aten.sub.Tensor", vec![val(tl), val(tx)])?
        };
        reduce(c, l)
    });
    add("aten.huber_loss.default", |c| {
        // |d| < delta ? d²/2 : delta (|d| - delta/2).
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let delta = c.float("delta")?;
        let d = c.call("aten.sub.Tensor", vec![val(x), val(y)])?;
        let z = c.call("aten.abs.default", vec![val(d)])?;
        let sq = c.call("aten.mul.Tensor", vec![val(z), val(z)])?;
        let sq = c.call("aten.mul.Scalar", vec![val(sq), float(0.5)])?;
        let li = c.call("aten.sub.Scalar", vec![val(z), float(0.5 * delta), int(1)])?;
        let li = c.call("aten.mul.Scalar", vec![val(li), float(delta)])?;
        let m = c.call("aten.lt.Scalar", vec![val(z), float(delta)])?;
        let l = c.call("aten.where.self", vec![val(m), val(sq), val(li)])?;
        reduce(c, l)
    });
    add("aten.l1_loss.default", |c| {
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let d = c.call("aten.sub.Tensor", vec![val(x), val(y)])?;
        let l = c.call("aten.abs.default", vec![val(d)])?;
        reduce(c, l)
    });
    add("aten.hinge_embedding_loss.default", |c| {
        // (target != 1 ? max(0, margin - x) : 0) + (target != -1 ? x : 0).
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let margin = c.float("margin")?;
        let zeros = c.call("aten.zeros_like.default", vec![val(x)])?;
        let m = c.call("aten.rsub.Scalar", vec![val(x), float(margin), int(1)])?;
        let m = c.call("aten.clamp_min.default", vec![val(m), int(0)])?;
        let not_pos = c.call("aten.ne.Scalar", vec![val(y), int(1)])?;
        let not_neg = c.call("aten.ne.Scalar", vec![val(y), int(-1)])?;
        let lm = c.call("aten.where.self", vec![val(not_pos), val(m), val(zeros)])?;
        let ls = c.call("aten.where.self", vec![val(not_neg), val(x), val(zeros)])?;
        let l = c.call("aten.add.Tensor", vec![val(lm), val(ls)])?;
        reduce(c, l)
    });
    add("aten.multi_margin_loss.default", multi_margin_loss);
    add("aten.multilabel_margin_loss.default", |c| {
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let red = c.int("reduction")?;
        one(multilabel_margin_loss(c, x, y, red)?.0)
    });
    add("aten.multilabel_margin_loss_forward.default", |c| {
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let red = c.int("reduction")?;
        let (l, is_target) = multilabel_margin_loss(c, x, y, red)?;
        Ok(vec![val(l), val(is_target)])
    });
}

/// `(t - 1) max(log(1 - x), -100) - t max(log x, -100)`, times `weight`. ATen's kernel
/// rejects inputs outside `[0, 1]`; here they give NaN.
fn binary_cross_entropy(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, y) = (c.tensor("self")?, c.tensor("target")?);
    let w = c.opt_tensor("weight")?;
    let nx = c.call("aten.neg.default", vec![val(x)])?;
    let l1 = c.call("aten.log1p.default", vec![val(nx)])?;
    let l1 = c.call("aten.clamp_min.default", vec![val(l1), int(-100)])?;
    let lx = c.call("aten.log.default", vec![val(x)])?;
    let lx = c.call("aten.clamp_min.default", vec![val(lx), int(-100)])?;
    let ym = c.call("aten.sub.Scalar", vec![val(y), int(1), int(1)])?;
    let a = c.call("aten.mul.Tensor", vec![val(ym), val(l1)])?;
    let b = c.call("aten.mul.Tensor", vec![val(y), val(lx)])?;
    let mut l = c.call("aten.sub.Tensor", vec![val(a), val(b)])?;
    if let Some(w) = w {
        l = c.call("aten.mul.Tensor", vec![val(l), val(w)])?;
    }
    reduce(c, l)
}

/// `(1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x)`, times `weight` (the stable form
/// ATen uses: no `exp` of a large logit).
fn binary_cross_entropy_with_logits(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, y) = (c.tensor("self")?, c.tensor("target")?);
    let (w, pw) = (c.opt_tensor("weight")?, c.opt_tensor("pos_weight")?);
    let omt = c.call("aten.rsub.Scalar", vec![val(y), int(1), int(1)])?;
    let a = c.call("aten.mul.Tensor", vec![val(omt), val(x)])?;
    let mut ls = c.call("aten.log_sigmoid.default", vec![val(x)])?;
    if let Some(pw) = pw {
        let k = c.call("aten.sub.Scalar", vec![val(pw), int(1), int(1)])?;
        let k = c.call("aten.mul.Tensor", vec![val(k), val(y)])?;
        let k = c.call("aten.add.Scalar", vec![val(k), int(1), int(1)])?;
        ls = c.call("aten.mul.Tensor", vec![val(k), val(ls)])?;
    }
    let mut l = c.call("aten.sub.Tensor", vec![val(a), val(ls)])?;
    if let Some(w) = w {
        l = c.call("aten.mul.Tensor", vec![val(l), val(w)])?;
    }
    reduce(c, l)
}

/// The class dim of a loss input: 0 for `[C]`, else 1 (`[N, C, d1, ...]`).
fn class_dim(c: &DecompCx<'_>, x: ValueId) -> Result<usize, String> {
    match c.rank(x)? {
        0 => Err("the input needs a class dim (rank >= 1)".into()),
        1 => Ok(0),
        _ => Ok(1),
    }
}

/// `weight` `[C]` reshaped to broadcast against an input of rank `rank` with classes at
/// `cdim`.
fn class_weight(
    c: &mut DecompCx<'_>,
    w: ValueId,
    rank: usize,
    cdim: usize,
) -> Result<ValueId, String> {
    let mut shape = vec![1i64; rank];
    shape[cdim] = -1;
    c.call("aten.reshape.default", vec![val(w), ints(&shape)])
}

/// `nll_loss_nd`: `-w[t] x[.., t, ..]` per target (0 where `t == ignore_index`); mean divides
/// the sum by the total weight of the targets not ignored (NaN when there are none, as ATen).
fn nll_loss(
    c: &mut DecompCx<'_>,
    x: ValueId,
    y: ValueId,
    w: Option<ValueId>,
    reduction: i64,
    ignore: i64,
) -> Result<ValueId, String> {
    let cdim = class_dim(c, x)? as i64;
    let (xt, yt) = (c.tensor_type(x)?.clone(), c.tensor_type(y)?.clone());
    if yt.dtype.is_float() || yt.dtype == DType::Bool {
        return Err(format!("class-index targets must be integers, got {yt}"));
    }
    if yt.rank() + 1 != xt.rank() {
        return Err(format!(
            "target {yt} does not match input {xt} (expected the input's shape without the class dim)"
        ));
    }
    let keep = c.call("aten.ne.Scalar", vec![val(y), int(ignore)])?;
    let ignored = c.call("aten.logical_not.default", vec![val(keep)])?;
    let safe = c.call(
        "aten.masked_fill.Scalar",
        vec![val(y), val(ignored), int(0)],
    )?;
    let idx = c.call("aten.unsqueeze.default", vec![val(safe), int(cdim)])?;
    let picked = c.call("aten.gather.default", vec![val(x), int(cdim), val(idx)])?;
    let picked = c.call("aten.squeeze.dims", vec![val(picked), ints(&[cdim])])?;
    let mut l = c.call("aten.neg.default", vec![val(picked)])?;
    let wt = match w {
        Some(w) => {
            let wt = c.call(
                "aten.index.Tensor",
                vec![val(w), Arg::List(vec![val(safe)])],
            )?;
            let wt = c.call(
                "aten.masked_fill.Scalar",
                vec![val(wt), val(ignored), int(0)],
            )?;
            l = c.call("aten.mul.Tensor", vec![val(l), val(wt)])?;
            Some(wt)
        }
        None => None,
    };
    l = c.call(
        "aten.masked_fill.Scalar",
        vec![val(l), val(ignored), int(0)],
    )?;
    match reduction {
        0 => Ok(l),
        1 => {
            let s = c.call("aten.sum.default", vec![val(l)])?;
            let total = match wt {
                Some(wt) => c.call("aten.sum.default", vec![val(wt)])?,
                None => {
                    let n = c.call("aten.sum.default", vec![val(keep)])?;
                    super::layout::to_dtype(c, n, xt.dtype)?
                }
            };
            c.call("aten.div.Tensor", vec![val(s), val(total)])
        }
        2 => c.call("aten.sum.default", vec![val(l)]),
        r => Err(format!("unknown reduction {r}")),
    }
}

/// `cross_entropy_loss`: `log_softmax` over the class dim, then the negative log-likelihood
/// of class-index targets (target shape = input shape without the class dim) or the
/// cross-entropy with class probabilities (target shape = input shape); label smoothing mixes
/// in the uniform distribution as ATen's `cross_entropy_loss_label_smoothing` does.
fn cross_entropy_loss(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, y) = (c.tensor("self")?, c.tensor("target")?);
    let w = c.opt_tensor("weight")?;
    let (red, ignore) = (c.int("reduction")?, c.int("ignore_index")?);
    let ls = c.float("label_smoothing")?;
    if !(0.0..=1.0).contains(&ls) {
        return Err(format!("label_smoothing must be in [0, 1], got {ls}"));
    }
    let cdim = class_dim(c, x)?;
    let (xt, yt) = (c.tensor_type(x)?.clone(), c.tensor_type(y)?.clone());
    let rank = xt.rank();
    let n_classes = || {
        xt.shape[cdim]
            .as_const()
            .ok_or_else(|| format!("label smoothing needs a static number of classes, got {xt}"))
    };
    let logp = c.call(
        "aten._log_softmax.default",
        vec![val(x), int(cdim as i64), Arg::Bool(false)],
    )?;
    let wb = match w {
        Some(w) => Some(class_weight(c, w, rank, cdim)?),
        None => None,
    };
    if xt.shape == yt.shape {
        // Class probabilities.
        if !yt.dtype.is_float() {
            return Err(format!(
                "a target of the input's shape holds class probabilities and must be floating, got {yt}"
            ));
        }
        let mut t = y;
        if ls > 0.0 {
            let k = n_classes()? as f64;
            t = c.call("aten.mul.Scalar", vec![val(t), float(1.0 - ls)])?;
            t = c.call("aten.add.Scalar", vec![val(t), float(ls / k), int(1)])?;
        }
        let mut p = c.call("aten.mul.Tensor", vec![val(logp), val(t)])?;
        if let Some(wb) = wb {
            p = c.call("aten.mul.Tensor", vec![val(p), val(wb)])?;
        }
        let s = c.call(
            "aten.sum.dim_IntList",
            vec![val(p), ints(&[cdim as i64]), Arg::Bool(false)],
        )?;
        let l = c.call("aten.neg.default", vec![val(s)])?;
        return match red {
            0 => one(l),
            // The sum over every element divided by the number of samples (numel / C).
            1 => one(c.call("aten.mean.default", vec![val(l)])?),
            2 => one(c.call("aten.sum.default", vec![val(l)])?),
            r => Err(format!("unknown reduction {r}")),
        };
    }
    let nll = nll_loss(c, logp, y, w, red, ignore)?;
    if ls <= 0.0 {
        return one(nll);
    }
    let k = n_classes()? as f64;
    let ignored = c.call("aten.eq.Scalar", vec![val(y), int(ignore)])?;
    let p = match wb {
        Some(wb) => c.call("aten.mul.Tensor", vec![val(logp), val(wb)])?,
        None => logp,
    };
    let s = c.call(
        "aten.sum.dim_IntList",
        vec![val(p), ints(&[cdim as i64]), Arg::Bool(false)],
    )?;
    let smooth = c.call("aten.neg.default", vec![val(s)])?;
    let smooth = c.call(
        "aten.masked_fill.Scalar",
        vec![val(smooth), val(ignored), int(0)],
    )?;
    let ret = match red {
        0 => smooth,
        1 => {
            let total = c.call("aten.sum.default", vec![val(smooth)])?;
            // Normalised like the NLL term: by the weight of the targets not ignored.
            let den = match w {
                Some(w) => {
                    let safe = c.call(
                        "aten.masked_fill.Scalar",
                        vec![val(y), val(ignored), int(0)],
                    )?;
                    let wt = c.call(
                        "aten.index.Tensor",
                        vec![val(w), Arg::List(vec![val(safe)])],
                    )?;
                    let wt = c.call(
                        "aten.masked_fill.Scalar",
                        vec![val(wt), val(ignored), int(0)],
                    )?;
                    c.call("aten.sum.default", vec![val(wt)])?
                }
                None => {
                    let keep = c.call("aten.logical_not.default", vec![val(ignored)])?;
                    let n = c.call("aten.sum.default", vec![val(keep)])?;
                    super::layout::to_dtype(c, n, xt.dtype)?
                }
            };
            c.call("aten.div.Tensor", vec![val(total), val(den)])?
        }
        2 => c.call("aten.sum.default", vec![val(smooth)])?,
        r => return Err(format!("unknown reduction {r}")),
    };
    let a = c.call("aten.mul.Scalar", vec![val(nll), float(1.0 - ls)])?;
    let b = c.call("aten.mul.Scalar", vec![val(ret), float(ls / k)])?;
    one(c.call("aten.add.Tensor", vec![val(a), val(b)])?)
}

/// `multi_margin_loss`: per sample, `sum_{i != y} max(0, margin - x[y] + x[i])^p w[y] / C`
/// (`p` 1 or 2); mean averages the samples, sum adds them. Inputs `[N, C]`, `[C]` or a
/// scalar; the unreduced result has the target's shape.
fn multi_margin_loss(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, y) = (c.tensor("self")?, c.tensor("target")?);
    let w = c.opt_tensor("weight")?;
    let (p, margin) = (c.float("p")?, c.float("margin")?);
    let red = c.int("reduction")?;
    if p != 1.0 && p != 2.0 {
        return Err(format!("only p = 1 and p = 2 are supported, got {p}"));
    }
    let (xt, yt) = (c.tensor_type(x)?.clone(), c.tensor_type(y)?.clone());
    if xt.rank() > 2 || yt.rank() > 1 {
        return Err(format!(
            "expected an input of rank <= 2 and a target of rank <= 1, got {xt} and {yt}"
        ));
    }
    let x2 = match xt.rank() {
        2 => x,
        _ => c.call("aten.reshape.default", vec![val(x), ints(&[1, -1])])?,
    };
    let classes = c.tensor_type(x2)?.shape[1]
        .as_const()
        .ok_or_else(|| format!("needs a static number of classes, got {xt}"))?;
    if classes == 0 {
        return Err(format!("expected a non-empty input, got {xt}"));
    }
    let y1 = c.call("aten.reshape.default", vec![val(y), ints(&[-1, 1])])?;
    let u = c.call("aten.gather.default", vec![val(x2), int(1), val(y1)])?;
    let z = c.call("aten.sub.Tensor", vec![val(x2), val(u)])?;
    let z = c.call("aten.add.Scalar", vec![val(z), float(margin), int(1)])?;
    let mut z = c.call("aten.clamp_min.default", vec![val(z), int(0)])?;
    if p == 2.0 {
        z = c.call("aten.mul.Tensor", vec![val(z), val(z)])?;
    }
    if let Some(w) = w {
        let wy = c.call("aten.index.Tensor", vec![val(w), Arg::List(vec![val(y1)])])?;
        z = c.call("aten.mul.Tensor", vec![val(z), val(wy)])?;
    }
    let ar = c.call_kw(
        "aten.arange.default",
        vec![int(classes)],
        vec![("dtype".into(), Arg::DType(yt.dtype))],
    )?[0];
    let is_y = c.call("aten.eq.Tensor", vec![val(ar), val(y1)])?;
    let z = c.call("aten.masked_fill.Scalar", vec![val(z), val(is_y), int(0)])?;
    match red {
        0 => {
            let l = c.call("aten.mean.dim", vec![val(z), ints(&[1]), Arg::Bool(false)])?;
            let shape: Vec<i64> = if yt.rank() == 0 { vec![] } else { vec![-1] };
            one(c.call("aten.reshape.default", vec![val(l), ints(&shape)])?)
        }
        1 => one(c.call("aten.mean.default", vec![val(z)])?),
        2 => {
            let s = c.call("aten.sum.default", vec![val(z)])?;
            one(c.call("aten.div.Scalar", vec![val(s), int(classes)])?)
        }
        r => Err(format!("unknown reduction {r}")),
    }
}

/// `multilabel_margin_loss`: the targets of a sample are its target entries before the first
/// -1; its loss is `sum_{j target} sum_{i not target} max(0, 1 - x[j] + x[i]) / C`. Returns
/// the loss (mean over samples, sum, or per sample; a scalar for a `[C]` input) and the
/// `is_target` mask (in the input's dtype).
///
/// PyTorch 2.11's Python decomposition (`torch/_decomp`) counts the entries after the first
/// -1 as targets of class 0's value; this follows the eager kernel, which stops at the -1.
fn multilabel_margin_loss(
    c: &mut DecompCx<'_>,
    x: ValueId,
    y: ValueId,
    reduction: i64,
) -> Result<(ValueId, ValueId), String> {
    let (xt, yt) = (c.tensor_type(x)?.clone(), c.tensor_type(y)?.clone());
    if xt.rank() > 2 || xt.shape != yt.shape {
        return Err(format!(
            "expected an input of rank <= 2 and a target of its shape, got {xt} and {yt}"
        ));
    }
    if yt.dtype.is_float() || yt.dtype == DType::Bool {
        return Err(format!("the target must hold class indices, got {yt}"));
    }
    // `[C]` and scalars are one sample.
    let x2 = match xt.rank() {
        2 => x,
        _ => c.call("aten.reshape.default", vec![val(x), ints(&[1, -1])])?,
    };
    let y2 = match yt.rank() {
        2 => y,
        _ => c.call("aten.reshape.default", vec![val(y), ints(&[1, -1])])?,
    };
    let n_cls = c.tensor_type(x2)?.shape[1]
        .as_const()
        .ok_or_else(|| format!("needs a static number of classes, got {xt}"))?;
    if n_cls == 0 {
        return Err(format!("expected a non-empty input, got {xt}"));
    }
    let ar = c.call_kw(
        "aten.arange.default",
        vec![int(n_cls)],
        vec![("dtype".into(), Arg::DType(yt.dtype))],
    )?[0];
    // Position of the first -1 (C when there is none); entries before it are targets.
    let is_end = c.call("aten.eq.Scalar", vec![val(y2), int(-1)])?;
    let cap = c.call("aten.full_like.default", vec![val(y2), int(n_cls)])?;
    let pos = c.call("aten.where.self", vec![val(is_end), val(ar), val(cap)])?;
    let end = c.call(
        "aten.amin.default",
        vec![val(pos), ints(&[-1]), Arg::Bool(true)],
    )?;
    let valid = c.call("aten.lt.Tensor", vec![val(ar), val(end)])?; // [N, C] over j
    let invalid = c.call("aten.logical_not.default", vec![val(valid)])?;
    let tj = c.call(
        "aten.masked_fill.Scalar",
        vec![val(y2), val(invalid), int(0)],
    )?;
    let u = c.call("aten.gather.default", vec![val(x2), int(1), val(tj)])?; // x[y_j]
                                                                            // is_target[n, i]: some valid j has y_j == i.
    let tm = c.call(
        "aten.masked_fill.Scalar",
        vec![val(y2), val(invalid), int(-1)],
    )?;
    let tm = c.call("aten.unsqueeze.default", vec![val(tm), int(-1)])?; // [N, J, 1]
    let hit = c.call("aten.eq.Tensor", vec![val(tm), val(ar)])?; // [N, J, I]
    let is_target = c.call("aten.any.dim", vec![val(hit), int(1), Arg::Bool(false)])?;
    // z[n, j, i] = max(0, 1 - x[y_j] + x[i]) / C, kept for valid j and non-target i.
    let uj = c.call("aten.unsqueeze.default", vec![val(u), int(-1)])?; // [N, J, 1]
    let xi = c.call("aten.unsqueeze.default", vec![val(x2), int(1)])?; // [N, 1, I]
    let z = c.call("aten.sub.Tensor", vec![val(xi), val(uj)])?;
    let z = c.call("aten.add.Scalar", vec![val(z), int(1), int(1)])?;
    let z = c.call("aten.clamp_min.default", vec![val(z), int(0)])?;
    let z = c.call("aten.div.Scalar", vec![val(z), int(n_cls)])?;
    let drop_i = c.call("aten.unsqueeze.default", vec![val(is_target), int(1)])?;
    let z = c.call("aten.masked_fill.Scalar", vec![val(z), val(drop_i), int(0)])?;
    let drop_j = c.call("aten.unsqueeze.default", vec![val(invalid), int(-1)])?;
    let z = c.call("aten.masked_fill.Scalar", vec![val(z), val(drop_j), int(0)])?;
    let per = c.call(
        "aten.sum.dim_IntList",
        vec![val(z), ints(&[1, 2]), Arg::Bool(false)],
    )?;
    let l = match reduction {
        0 if xt.rank() == 2 => per,
        0 => c.call("aten.reshape.default", vec![val(per), ints(&[])])?,
        1 => c.call("aten.mean.default", vec![val(per)])?,
        2 => c.call("aten.sum.default", vec![val(per)])?,
        r => return Err(format!("unknown reduction {r}")),
    };
    let is_target = super::layout::to_dtype(c, is_target, xt.dtype)?;
    let shape: Vec<i64> = yt
        .shape
        .iter()
        .map(|d| d.as_const().unwrap_or(-1))
        .collect();
    let is_target = c.call("aten.reshape.default", vec![val(is_target), ints(&shape)])?;
    Ok((l, is_target))
}
