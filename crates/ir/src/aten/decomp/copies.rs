//! The functional copies of view ops (`permute_copy`, `t_copy`, `unbind_copy`, ...) as their
//! view followed by `clone`, and `narrow` as `slice`. torch/_refs defines each `*_copy` op
//! this way; the executor keeps its own kernels, so these are what the TensorRT converters
//! and inference fall back to.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{int, val};
use crate::ops::DecompCx;

/// `view(args...)` then `clone`: a copy with the view's shape and values.
fn copy_of(c: &mut DecompCx<'_>, view: &str, names: &[&str]) -> Result<Vec<Arg>, String> {
    let args = names
        .iter()
        .map(|n| c.arg(n))
        .collect::<Result<Vec<_>, _>>()?;
    let v = c.call(view, args)?;
    one(c.call("aten.clone.default", vec![val(v)])?)
}

/// `view(args...)` of a list-returning view (`unbind`, `split`): in a functional program
/// nothing writes through the pieces, so they need no copy.
fn pieces_of(c: &mut DecompCx<'_>, view: &str, names: &[&str]) -> Result<Vec<Arg>, String> {
    let args = names
        .iter()
        .map(|n| c.arg(n))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(c.call_kw(view, args, Vec::new())?
        .into_iter()
        .map(Arg::Value)
        .collect())
}

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.permute_copy.default", |c| {
        copy_of(c, "aten.permute.default", &["self", "dims"])
    });
    add("aten.transpose_copy.int", |c| {
        copy_of(c, "aten.transpose.int", &["self", "dim0", "dim1"])
    });
    add("aten.t_copy.default", |c| {
        copy_of(c, "aten.t.default", &["self"])
    });
    add("aten.unsqueeze_copy.default", |c| {
        copy_of(c, "aten.unsqueeze.default", &["self", "dim"])
    });
    add("aten.squeeze_copy.default", |c| {
        copy_of(c, "aten.squeeze.default", &["self"])
    });
    add("aten.squeeze_copy.dim", |c| {
        copy_of(c, "aten.squeeze.dim", &["self", "dim"])
    });
    add("aten.squeeze_copy.dims", |c| {
        copy_of(c, "aten.squeeze.dims", &["self", "dim"])
    });
    add("aten.select_copy.int", |c| {
        copy_of(c, "aten.select.int", &["self", "dim", "index"])
    });
    add("aten.slice_copy.Tensor", |c| {
        copy_of(
            c,
            "aten.slice.Tensor",
            &["self", "dim", "start", "end", "step"],
        )
    });
    add("aten.detach_copy.default", |c| {
        copy_of(c, "aten.clone.default", &["self"])
    });
    add("aten.unfold_copy.default", |c| {
        copy_of(
            c,
            "aten.unfold.default",
            &["self", "dimension", "size", "step"],
        )
    });
    add("aten.unbind_copy.int", |c| {
        pieces_of(c, "aten.unbind.int", &["self", "dim"])
    });
    add("aten.split_copy.Tensor", |c| {
        pieces_of(c, "aten.split.Tensor", &["self", "split_size", "dim"])
    });
    add("aten.split_with_sizes_copy.default", |c| {
        pieces_of(
            c,
            "aten.split_with_sizes.default",
            &["self", "split_sizes", "dim"],
        )
    });
    // The `unsafe_` splits differ from the safe ones only in autograd's view tracking.
    add("aten.unsafe_split.Tensor", |c| {
        pieces_of(c, "aten.split.Tensor", &["self", "split_size", "dim"])
    });
    add("aten.unsafe_split_with_sizes.default", |c| {
        pieces_of(
            c,
            "aten.split_with_sizes.default",
            &["self", "split_sizes", "dim"],
        )
    });
    add("aten.unsafe_chunk.default", |c| {
        pieces_of(c, "aten.chunk.default", &["self", "chunks", "dim"])
    });
    add("aten.narrow.default", narrow);
}

/// `narrow(x, dim, start, length)` is `slice(x, dim, start, start + length)`, with a negative
/// `start` counted from the end of the (static) dim first, as ATen does.
fn narrow(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let rank = c.rank(x)? as i64;
    let dim = c.int("dim")?;
    let d = if dim < 0 { dim + rank } else { dim };
    if !(0..rank.max(1)).contains(&d) {
        return Err(format!("dim {dim} is out of range for rank {rank}"));
    }
    let (mut start, length) = (c.int("start")?, c.int("length")?);
    if start < 0 {
        let size = match c.tensor_type(x)?.shape.get(d as usize) {
            Some(s) => s.as_const(),
            None => Some(1),
        };
        let size = size.ok_or_else(|| {
            format!("a negative start ({start}) on the dynamic dim {d} of narrow")
        })?;
        start += size;
    }
    if length < 0 {
        return Err(format!("narrow: negative length {length}"));
    }
    one(c.call(
        "aten.slice.Tensor",
        vec![val(x), int(d), int(start), int(start + length), int(1)],
    )?)
}
