//! Convolution + inference batch-norm folding: the normalization becomes a per-channel scale
//! of the weight and a new bias, computed from weights only (so `fold-constants` precomputes
//! them and TensorRT sees one convolution).

use super::{call, carry, find, l, t, v, Build, Rule, A};
use crate::egraph::{cranelift_index, Key, TNode, EG};
use egg::Id;
use trtfx_ir::{Arg, F64};

/// The family's rules.
pub const RULES: &[Rule] = &[Rule {
    name: "conv-bn-fold",
    soundness: "bn(conv(x, w, b)) = conv(x, w*s, (b-mean)*s+beta) with s = gamma/sqrt(var+eps), for floating dtypes, a non-transposed convolution and inference batch-norm; all of w, b, gamma, beta, mean, var must be weights (the folded terms are then constants); rounding moves within float tolerance",
    roots: &["aten._native_batch_norm_legit_no_training.default"],
    matcher: conv_bn,
}];

/// `getitem(_native_batch_norm_legit_no_training(conv(x, w, b, ...), gamma, beta, mean, var,
/// momentum, eps), 0)` → `convolution(x, w * s.view(-1,1,..), (b - mean) * s + beta, ...)`
/// with `s = gamma * rsqrt(var + eps)`. Sound for floating dtypes: inference batch-norm is the
/// affine map `(y - mean) * s + beta` per output channel, and a non-transposed convolution is
/// linear in its weight per output channel (`w`'s axis 0), so the scale moves into `w` and
/// the shift into the bias. Transposed convolutions (output channels on `w`'s axis 1) and
/// non-weight operands are refused.
fn conv_bn(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let Key::Call {
        target,
        args,
        kwargs,
        result: Some((0, 3)),
    } = eg.analysis.key(n)
    else {
        return None;
    };
    if target != "aten._native_batch_norm_legit_no_training.default"
        || !kwargs.is_empty()
        || args.len() != 7
    {
        return None;
    }
    let class = |i: usize| -> Option<Id> {
        match &args[i] {
            Arg::Value(s) => Some(n.kids[cranelift_index(*s)]),
            _ => None,
        }
    };
    let y = class(0)?;
    let (gamma, beta, mean, var) = (class(1)?, class(2)?, class(3)?, class(4)?);
    let eps = super::lit(Some(&args[6]))?;
    let weight = |id: Id| eg[id].data.weight_only;
    if ![gamma, beta, mean, var].into_iter().all(weight) {
        return None;
    }
    if !super::dtype(eg, y)?.is_float() {
        return None;
    }
    let conv = find(eg, y, &["aten.convolution.default"])?;
    let (_, cargs, ckw) = super::call_of(eg, conv)?;
    if cargs.len() != 9 || !ckw.is_empty() || cargs[6] != Arg::Bool(false) {
        return None;
    }
    let x = super::arg_class(eg, conv, 0, "input")?;
    let w = super::arg_class(eg, conv, 1, "weight")?;
    if !weight(w) {
        return None;
    }
    let wrank = super::tensor_ty(eg, w)?.rank();
    let bias = match &cargs[2] {
        Arg::None => None,
        Arg::Value(s) => Some(conv.kids[cranelift_index(*s)]),
        _ => return None,
    };
    if bias.is_some_and(|b| !weight(b)) {
        return None;
    }
    let f = |x: f64| l(Arg::Float(F64(x)));
    // s = gamma * rsqrt(var + eps)
    let scale = || {
        call(
            "aten.mul.Tensor",
            vec![
                v(gamma),
                t(call(
                    "aten.rsqrt.default",
                    vec![t(call("aten.add.Tensor", vec![v(var), f(eps)]))],
                )),
            ],
        )
    };
    let mut shape = vec![-1i64];
    shape.extend(std::iter::repeat_n(1, wrank.saturating_sub(1)));
    let new_w = call(
        "aten.mul.Tensor",
        vec![
            v(w),
            t(call(
                "aten.view.default",
                vec![t(scale()), super::ints(&shape)],
            )),
        ],
    );
    let centered = match bias {
        Some(b) => call("aten.sub.Tensor", vec![v(b), v(mean)]),
        None => call("aten.neg.default", vec![v(mean)]),
    };
    let new_b = call(
        "aten.add.Tensor",
        vec![
            t(call("aten.mul.Tensor", vec![t(centered), t(scale())])),
            v(beta),
        ],
    );
    let mut out: Vec<A> = vec![v(x), t(new_w), t(new_b)];
    out.extend(cargs[3..].iter().map(|a| carry(conv, a)));
    Some(call("aten.convolution.default", out))
}
