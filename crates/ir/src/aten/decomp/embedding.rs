//! Embedding bags: `embedding_bag` (`.default`, `.padding_idx`), `_embedding_bag` and
//! `_embedding_bag_forward_only` written with comparisons, a gather, a matrix product and a
//! masked max, which the executor runs and TensorRT converts (TensorRT's scatter cannot
//! accumulate, so a segment sum by scatter-add is not an option).
//!
//! For `n` indices and `B` bags (`B'` offsets):
//! - the bag of index position `j` is `#{k < B' : offsets[k] <= j} - 1`, PyTorch's
//!   `offset2bag` (`make_offset2bag`: ones added at the offsets, then a cumulative sum). With
//!   `include_last_offset` the last offset ends the last bag, so positions after it fall in
//!   no bag `< B`; without it the last bag runs to the end of `indices`;
//! - `member[b, j]` is whether position `j` is in bag `b` and its index is not `padding_idx`
//!   (a `[B, n]` mask of comparisons), and `rows = weight[indices]` (`[n, D]`, times
//!   `per_sample_weights` when given);
//! - sum is `member @ rows`, mean that divided by the bag's count of non-padding indices
//!   (at least 1), max the maximum over `j` of `rows` where `member` (else `-inf`), and an
//!   empty bag gives zeros in every mode, as PyTorch's.
//!
//! The auxiliary results take the shapes the node's types give (PyTorch's meta function,
//! [`crate::aten::infer::nn::bag_layout`], which depends on the device and on whether the
//! weight needs a gradient). Their values follow PyTorch's CPU kernel where it writes them:
//! `offset2bag` the bag per position (empty on the sum fast path), `bag_size` the count per
//! bag in mean and max mode (zeros in sum mode, where the kernel leaves its zero-initialised
//! buffer; a forward-only `bag_size` of `B'` entries ends with 0), `max_indices` the index
//! holding each maximum (the first, as PyTorch's strict `>`; 0 for an empty bag) in max
//! mode, `bag_size` again in mean mode and zeros in sum mode. The conformance goldens
//! compare only `output`, the one result the public `F.embedding_bag` returns.
//!
//! Where this differs from PyTorch: a non-finite weight row makes the matrix product give NaN
//! in the bags without it (`0 * inf`), and max mode propagates NaN (PyTorch's running `>`
//! comparison skips a NaN after the first element).

use super::Add;
use crate::aten::infer::nn::{bag_layout, wrap_padding_idx, BagLayout, BagSpec};
use crate::dim::Dim;
use crate::dtype::DType;
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{float, int, ints, val};
use crate::ops::DecompCx;
use crate::types::Type;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.embedding_bag.default", |c| {
        embedding_bag(c, Variant::Public)
    });
    add("aten.embedding_bag.padding_idx", |c| {
        embedding_bag(c, Variant::PublicPadding)
    });
    add("aten._embedding_bag.default", |c| {
        embedding_bag(c, Variant::Private)
    });
    add("aten._embedding_bag_forward_only.default", |c| {
        embedding_bag(c, Variant::ForwardOnly)
    });
}

/// Which overload: they differ in how `padding_idx` is given and in `bag_size`'s length.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// `embedding_bag.default`: no padding row.
    Public,
    /// `embedding_bag.padding_idx`: `int?`, wrapped like a dim.
    PublicPadding,
    /// `_embedding_bag`: `int`, negative for none.
    Private,
    /// `_embedding_bag_forward_only`: as `_embedding_bag`.
    ForwardOnly,
}

/// The extent of dim `axis` of `v` as an argument (a literal, or a `sym_size` call).
fn dim_arg(c: &mut DecompCx<'_>, v: ValueId, axis: usize) -> Result<Arg, String> {
    let d = c.tensor_type(v)?.shape[axis].clone();
    Ok(match d.as_const() {
        Some(n) => int(n),
        None => val(c.call("aten.sym_size.int", vec![val(v), int(axis as i64)])?),
    })
}

/// `arange(end)` as int64, for a literal or symbolic `end`.
fn arange(c: &mut DecompCx<'_>, end: Arg) -> Result<ValueId, String> {
    c.call_kw(
        "aten.arange.default",
        vec![end],
        vec![("dtype".into(), Arg::DType(DType::I64))],
    )
    .and_then(single)
}

fn single(v: Vec<ValueId>) -> Result<ValueId, String> {
    match v[..] {
        [x] => Ok(x),
        _ => Err(format!("expected one result, got {}", v.len())),
    }
}

fn cast(c: &mut DecompCx<'_>, v: ValueId, dtype: DType) -> Result<ValueId, String> {
    if c.tensor_type(v)?.dtype == dtype {
        return Ok(v);
    }
    c.call_kw(
        "aten._to_copy.default",
        vec![val(v)],
        vec![("dtype".into(), Arg::DType(dtype))],
    )
    .and_then(single)
}

fn unsqueeze(c: &mut DecompCx<'_>, v: ValueId, d: i64) -> Result<ValueId, String> {
    c.call("aten.unsqueeze.default", vec![val(v), int(d)])
}

/// The first `len` elements of 1-d `v` (`len` 0: an empty tensor of `v`'s dtype).
fn head(c: &mut DecompCx<'_>, v: ValueId, len: i64) -> Result<ValueId, String> {
    c.call(
        "aten.slice.Tensor",
        vec![val(v), int(0), int(0), int(len), int(1)],
    )
}

/// The layout of the node's auxiliary results: from its types when it has them, else
/// PyTorch's CPU layout (forward-only for the public op, as the export records it).
fn layout(c: &DecompCx<'_>, spec: &BagSpec<'_>, variant: Variant) -> Result<BagLayout, String> {
    let mut l = bag_layout(spec, variant != Variant::Private, true)?;
    let dims = |i: usize| match c.result_type(i) {
        Some(Type::Tensor(t)) => Some((t.dtype, t.shape.to_vec())),
        _ => None,
    };
    if let (Some((aux, o2b)), Some((_, bs)), Some((_, mi))) = (dims(1), dims(2), dims(3)) {
        if let ([o2b], [bs]) = (&o2b[..], &bs[..]) {
            l.offset2bag = o2b.clone();
            l.bag_size = bs.clone();
            l.max_indices = mi;
            l.aux = aux;
        }
    }
    Ok(l)
}

fn embedding_bag(c: &mut DecompCx<'_>, variant: Variant) -> Result<Vec<Arg>, String> {
    let (w, idx, off) = (
        c.tensor("weight")?,
        c.tensor("indices")?,
        c.tensor("offsets")?,
    );
    let psw = c.opt_tensor("per_sample_weights")?;
    let (wt, it, ot) = (
        c.tensor_type(w)?.clone(),
        c.tensor_type(idx)?.clone(),
        c.tensor_type(off)?.clone(),
    );
    let pt = psw.map(|p| c.tensor_type(p).cloned()).transpose()?;
    let rows_dim = wt.shape.first().cloned().unwrap_or(Dim::constant(0));
    let padding_idx = match variant {
        Variant::Public => -1,
        Variant::PublicPadding => wrap_padding_idx(c.opt_int("padding_idx")?, &rows_dim)?,
        Variant::Private | Variant::ForwardOnly => c.int("padding_idx")?,
    };
    let mode = c.int("mode")?;
    let include_last = c.bool("include_last_offset")?;
    let spec = BagSpec {
        weight: &wt,
        indices: &it,
        offsets: &ot,
        mode,
        per_sample_weights: pt.as_ref(),
        include_last_offset: include_last,
        padding_idx,
    };
    let l = layout(c, &spec, variant)?;
    let bags = l.bags.clone();

    // The bag of every index position: (#offsets <= j) - 1.
    let n = dim_arg(c, idx, 0)?;
    let j = arange(c, n)?;
    let starts = unsqueeze(c, off, 1)?;
    let started = c.call("aten.le.Tensor", vec![val(starts), val(j)])?;
    let count = c.call("aten.sum.dim_IntList", vec![val(started), ints(&[0])])?;
    let bag = c.call("aten.sub.Tensor", vec![val(count), int(1)])?;
    let bag_arg = match bags.as_const() {
        Some(b) => int(b),
        None => {
            // `B` is `B'` (or `B' - 1`): read it from `offsets`.
            let all = dim_arg(c, off, 0)?;
            if include_last {
                val(c.call("_operator.sub", vec![all, int(1)])?)
            } else {
                all
            }
        }
    };
    let ids = arange(c, bag_arg)?;
    let ids = unsqueeze(c, ids, 1)?;
    let mut member = c.call("aten.eq.Tensor", vec![val(ids), val(bag)])?;
    if padding_idx >= 0 {
        let kept = c.call("aten.ne.Scalar", vec![val(idx), int(padding_idx)])?;
        member = c.call("aten.logical_and.default", vec![val(member), val(kept)])?;
    }

    let mut rows = c.call("aten.embedding.default", vec![val(w), val(idx)])?;
    if let Some(p) = psw {
        let p = unsqueeze(c, p, 1)?;
        rows = c.call("aten.mul.Tensor", vec![val(rows), val(p)])?;
    }
    // Non-padding indices per bag ([B] int64).
    let sizes = c.call("aten.sum.dim_IntList", vec![val(member), ints(&[1])])?;
    let nonempty = c.call("aten.gt.Scalar", vec![val(sizes), int(0)])?;
    let nonempty = unsqueeze(c, nonempty, 1)?;
    // Max mode over no indices at all has no maximum to take (`max.dim` refuses an empty
    // dim): every bag is empty, and the product below gives its zeros.
    let no_indices = it.shape[0].as_const() == Some(0);
    let (out, max_at) = match mode {
        2 if no_indices => {
            let mf = cast(c, member, wt.dtype)?;
            let zeros = c.call("aten.mm.default", vec![val(mf), val(rows)])?;
            (zeros, Some(cast(c, zeros, DType::I64)?))
        }
        0 | 1 => {
            let mf = cast(c, member, wt.dtype)?;
            let sum = c.call("aten.mm.default", vec![val(mf), val(rows)])?;
            let out = if mode == 0 {
                sum
            } else {
                let sf = cast(c, sizes, wt.dtype)?;
                let sf = c.call("aten.clamp_min.default", vec![val(sf), int(1)])?;
                let sf = unsqueeze(c, sf, 1)?;
                c.call("aten.div.Tensor", vec![val(sum), val(sf)])?
            };
            (out, None)
        }
        _ => {
            let m3 = unsqueeze(c, member, 2)?;
            let r3 = unsqueeze(c, rows, 0)?;
            let masked = c.call(
                "aten.where.ScalarOther",
                vec![val(m3), val(r3), float(f64::NEG_INFINITY)],
            )?;
            let mx = c.call_kw("aten.max.dim", vec![val(masked), int(1)], vec![])?;
            let [values, at] = mx[..] else {
                return Err("max.dim gave other than two results".into());
            };
            let out = c.call(
                "aten.where.ScalarOther",
                vec![val(nonempty), val(values), float(0.0)],
            )?;
            // The row number (`indices[j]`) of each maximum; 0 for an empty bag.
            let row = c.call(
                "aten.index.Tensor",
                vec![val(idx), Arg::List(vec![val(at)])],
            )?;
            let row = cast(c, row, DType::I64)?;
            let row = c.call(
                "aten.where.ScalarOther",
                vec![val(nonempty), val(row), int(0)],
            )?;
            (out, Some(row))
        }
    };

    let aux = l.aux;
    let offset2bag = if l.offset2bag.as_const() == Some(0) {
        head(c, bag, 0)?
    } else {
        bag
    };
    let offset2bag = cast(c, offset2bag, aux)?;
    // `bag_size`: counts in mean/max mode, zeros in sum mode.
    let per_bag = if mode == 0 {
        c.call("aten.mul.Tensor", vec![val(sizes), int(0)])?
    } else {
        sizes
    };
    let per_bag = cast(c, per_bag, aux)?;
    let bag_size = fit_len(c, per_bag, &bags, &l.bag_size, &ot.shape[0])?;
    let max_indices = match max_at {
        Some(m) => cast(c, m, aux)?,
        None if l.max_indices.first().and_then(Dim::as_const) == Some(0) => head(c, per_bag, 0)?,
        None => fit_len(c, per_bag, &bags, &l.max_indices[0], &ot.shape[0])?,
    };
    Ok(vec![
        val(out),
        val(offset2bag),
        val(bag_size),
        val(max_indices),
    ])
}

/// `v` (`[B]`) laid out with `len` entries: as is, with one 0 appended when `len` is the
/// offsets' `B'` (`= B + 1`), or empty.
fn fit_len(
    c: &mut DecompCx<'_>,
    v: ValueId,
    bags: &Dim,
    len: &Dim,
    all: &Dim,
) -> Result<ValueId, String> {
    if len == bags {
        return Ok(v);
    }
    if len.as_const() == Some(0) {
        return head(c, v, 0);
    }
    if len == all && *all == bags.add(&Dim::constant(1)) {
        let dtype = c.tensor_type(v)?.dtype;
        let zero = c
            .call_kw(
                "aten.zeros.default",
                vec![ints(&[1])],
                vec![("dtype".into(), Arg::DType(dtype))],
            )
            .and_then(single)?;
        return c.call(
            "aten.cat.default",
            vec![Arg::List(vec![val(v), val(zero)]), int(0)],
        );
    }
    Err(format!(
        "embedding_bag: an auxiliary result of {len} entries for {bags} bags"
    ))
}
