//! Layout kernels (views are copies): reshape, permute, expand, squeeze, cat, slice, split,
//! pad, clone and dtype conversion. The pure layout ops are foldable: applied to weights, the
//! interpreter computes them once.

use super::{many, one, KResult, KernelTable};
use crate::error::ExecError;
use crate::interp::{CallArgs, Value};
use crate::kernels::shape;
use crate::tensor::Tensor;

/// `tensor_split` into `n` nearly equal chunks (the first `size % n` one larger).
fn split_sections(c: &CallArgs<'_>, x: &Tensor, n: i64, dim: i64) -> KResult {
    if n <= 0 {
        return Err(c.kernel_err(ExecError::Invalid {
            op: "tensor_split",
            msg: format!("number of sections must be positive, got {n}"),
        }));
    }
    let size = dim_size(c, x, dim)?;
    let sizes: Vec<i64> = (0..n).map(|i| size / n + i64::from(i < size % n)).collect();
    many(shape::split_with_sizes(x, &sizes, dim), c)
}

/// `tensor_split` at indices: Python slicing between consecutive indices, x[0:i0], x[i0:i1],
/// ..., x[ik:]; pieces may be empty, and overlap when indices decrease.
fn split_indices(c: &CallArgs<'_>, x: &Tensor, idx: &[i64], dim: i64) -> KResult {
    let size = dim_size(c, x, dim)?;
    let wrap = |i: i64| if i < 0 { i + size } else { i }.clamp(0, size);
    let mut bounds = vec![0i64];
    bounds.extend(idx.iter().map(|&i| wrap(i)));
    bounds.push(size);
    let pieces: crate::Result<Vec<Tensor>> = bounds
        .windows(2)
        .map(|w| shape::narrow(x, dim, w[0], (w[1] - w[0]).max(0)))
        .collect();
    many(pieces, c)
}

fn dim_size(c: &CallArgs<'_>, x: &Tensor, dim: i64) -> crate::interp::RunResult<i64> {
    let d = crate::tensor::wrap_dim("tensor_split", dim, x.ndim()).map_err(|e| c.kernel_err(e))?;
    Ok(x.shape()[d] as i64)
}

fn copy(arg: &'static str) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| Ok(vec![Value::Tensor(shape::clone(c.tensor(arg)?))])
}

/// `view.dtype`: the same bytes read as another dtype. With a different element size the last
/// dim scales by the size ratio, which must divide it (PyTorch's rule).
fn view_dtype(x: &Tensor, to: crate::DType) -> crate::Result<Tensor> {
    let (from_size, to_size) = (x.dtype().size(), to.size());
    let mut shape = x.shape().to_vec();
    if from_size != to_size {
        let bad = || {
            crate::error::invalid(
                "view.dtype",
                format!(
                    "a {} tensor of shape {:?} cannot be viewed as {to}: the last dim times {from_size} \
                     must be a multiple of {to_size}",
                    x.dtype(),
                    x.shape()
                ),
            )
        };
        let Some(last) = shape.last_mut() else {
            return bad();
        };
        if !(*last * from_size).is_multiple_of(to_size) {
            return bad();
        }
        *last = *last * from_size / to_size;
    }
    Tensor::from_le_bytes(&x.to_le_bytes(), to, shape)
}

pub(crate) fn register(t: &mut KernelTable) {
    t.add_foldable(&["aten.view.dtype"], |c| {
        one(view_dtype(c.tensor("self")?, c.dtype("dtype")?), c)
    });
    // ---- foldable layout ops (computed once when applied to weights)
    t.add_foldable(&["aten.view.default", "aten._unsafe_view.default"], |c| {
        one(shape::reshape(c.tensor("self")?, &c.ints("size")?), c)
    });
    t.add_foldable(&["aten.reshape.default"], |c| {
        one(shape::reshape(c.tensor("self")?, &c.ints("shape")?), c)
    });
    t.add_foldable(&["aten.permute.default"], |c| {
        one(shape::permute(c.tensor("self")?, &c.ints("dims")?), c)
    });
    t.add_foldable(&["aten.transpose.int"], |c| {
        let x = c.tensor("self")?;
        one(shape::transpose(x, c.int("dim0")?, c.int("dim1")?), c)
    });
    t.add_foldable(&["aten.t.default", "aten.numpy_T.default"], |c| {
        one(shape::t(c.tensor("self")?), c)
    });
    t.add_foldable(&["aten.expand.default"], |c| {
        one(shape::expand(c.tensor("self")?, &c.ints("size")?), c)
    });
    t.add_foldable(&["aten.squeeze.default"], |c| {
        one(shape::squeeze(c.tensor("self")?, None), c)
    });
    t.add_foldable(&["aten.squeeze.dim", "aten.squeeze.dims"], |c| {
        one(shape::squeeze(c.tensor("self")?, Some(&c.ints("dim")?)), c)
    });
    t.add_foldable(&["aten.unsqueeze.default"], |c| {
        one(shape::unsqueeze(c.tensor("self")?, c.int("dim")?), c)
    });
    t.add_foldable(&["aten.flatten.using_ints"], |c| {
        let x = c.tensor("self")?;
        one(shape::flatten(x, c.int("start_dim")?, c.int("end_dim")?), c)
    });
    t.add_foldable(
        &[
            "aten.clone.default",
            "aten.contiguous.default",
            "aten.alias.default",
            "aten.detach.default",
            "aten.lift_fresh_copy.default",
        ],
        copy("self"),
    );
    t.add_foldable(&["aten._to_copy.default"], |c| {
        let x = c.tensor("self")?;
        let dtype = c.opt_dtype("dtype")?.or(c.result_dtype());
        Ok(vec![Value::Tensor(shape::to_copy(x, dtype))])
    });
    t.add_foldable(&["aten.to.dtype", "aten.to.device"], |c| {
        let x = c.tensor("self")?;
        Ok(vec![Value::Tensor(shape::to_copy(
            x,
            Some(c.dtype("dtype")?),
        ))])
    });
    t.add_foldable(&["aten.to.dtype_layout"], |c| {
        let x = c.tensor("self")?;
        let dtype = c.opt_dtype("dtype")?.or(c.result_dtype());
        Ok(vec![Value::Tensor(shape::to_copy(x, dtype))])
    });
    t.add_foldable(&["aten.to.other", "aten.type_as.default"], |c| {
        let x = c.tensor("self")?;
        let dt = c.tensor("other")?.dtype();
        Ok(vec![Value::Tensor(shape::to_copy(x, Some(dt)))])
    });

    // ---- the same, in place or not folded
    t.add_all(
        &[
            "aten.view_copy.default",
            "aten._reshape_alias.default",
            "aten._reshape_copy.default",
        ],
        |c| one(shape::reshape(c.tensor("self")?, &c.ints("size")?), c),
    );
    t.add("aten.transpose_.default", |c| {
        let x = c.tensor("self")?;
        one(shape::transpose(x, c.int("dim0")?, c.int("dim1")?), c)
    });
    t.add_with_inplace(&["aten.swapaxes.default"], |c| {
        let x = c.tensor("self")?;
        one(shape::transpose(x, c.int("axis0")?, c.int("axis1")?), c)
    });
    t.add("aten.t_.default", |c| one(shape::t(c.tensor("self")?), c));
    t.add("aten.broadcast_to.default", |c| {
        one(shape::expand(c.tensor("self")?, &c.ints("size")?), c)
    });
    t.add("aten.expand_as.default", |c| {
        let sizes: Vec<i64> = c
            .tensor("other")?
            .shape()
            .iter()
            .map(|&d| d as i64)
            .collect();
        one(shape::expand(c.tensor("self")?, &sizes), c)
    });
    t.add("aten.squeeze_.default", |c| {
        one(shape::squeeze(c.tensor("self")?, None), c)
    });
    t.add_all(&["aten.squeeze_.dim", "aten.squeeze_.dims"], |c| {
        one(shape::squeeze(c.tensor("self")?, Some(&c.ints("dim")?)), c)
    });
    t.add("aten.unsqueeze_.default", |c| {
        one(shape::unsqueeze(c.tensor("self")?, c.int("dim")?), c)
    });
    t.add_all(
        &[
            "aten.lift_fresh.default",
            "aten.detach_.default",
            "aten.dropout_.default",
            "aten.feature_dropout_.default",
            "aten.alpha_dropout_.default",
        ],
        copy("self"),
    );
    // Dropout runs in inference mode here: exported inference programs have train=False.
    t.add_all(
        &[
            "aten.dropout.default",
            "aten.feature_dropout.default",
            "aten.alpha_dropout.default",
        ],
        copy("input"),
    );
    t.add("aten.unflatten.int", |c| {
        let x = c.tensor("self")?;
        one(shape::unflatten(x, c.int("dim")?, &c.ints("sizes")?), c)
    });

    // ---- joining, slicing, splitting
    t.add_all(
        &[
            "aten.cat.default",
            "aten.concat.default",
            "aten.concatenate.default",
        ],
        |c| one(shape::cat(&c.tensors("tensors")?, c.int("dim")?), c),
    );
    t.add("aten.stack.default", |c| {
        one(shape::stack(&c.tensors("tensors")?, c.int("dim")?), c)
    });
    t.add("aten.slice.Tensor", |c| {
        let x = c.tensor("self")?;
        one(
            shape::slice(
                x,
                c.int("dim")?,
                c.opt_int("start")?,
                c.opt_int("end")?,
                c.int("step")?,
            ),
            c,
        )
    });
    t.add_all(&["aten.narrow.default", "aten.narrow.Tensor"], |c| {
        let x = c.tensor("self")?;
        one(
            shape::narrow(x, c.int("dim")?, c.int("start")?, c.int("length")?),
            c,
        )
    });
    t.add("aten.select.int", |c| {
        let x = c.tensor("self")?;
        one(shape::select(x, c.int("dim")?, c.int("index")?), c)
    });
    t.add("aten.unbind.int", |c| {
        many(shape::unbind(c.tensor("self")?, c.int("dim")?), c)
    });
    t.add("aten.tensor_split.sections", |c| {
        let x = c.tensor("self")?;
        split_sections(c, x, c.int("sections")?, c.int("dim")?)
    });
    t.add("aten.tensor_split.indices", |c| {
        let x = c.tensor("self")?;
        split_indices(c, x, &c.ints("indices")?, c.int("dim")?)
    });
    t.add("aten.tensor_split.tensor_indices_or_sections", |c| {
        // A 0-dim tensor is a number of sections, a 1-D tensor the indices.
        let x = c.tensor("self")?;
        let s = c.tensor("tensor_indices_or_sections")?;
        let dim = c.int("dim")?;
        let v: Vec<i64> = s.to_f64_vec().into_iter().map(|f| f as i64).collect();
        if s.ndim() == 0 {
            split_sections(c, x, v[0], dim)
        } else {
            split_indices(c, x, &v, dim)
        }
    });
    t.add_all(
        &["aten.split_with_sizes.default", "aten.split.default"],
        |c| {
            let x = c.tensor("self")?;
            many(
                shape::split_with_sizes(x, &c.ints("split_sizes")?, c.int("dim")?),
                c,
            )
        },
    );
    t.add("aten.split.sizes", |c| {
        let x = c.tensor("self")?;
        many(
            shape::split_with_sizes(x, &c.ints("split_size")?, c.int("dim")?),
            c,
        )
    });
    t.add("aten.split.Tensor", |c| {
        let x = c.tensor("self")?;
        many(shape::split(x, c.int("split_size")?, c.int("dim")?), c)
    });
    t.add("aten.chunk.default", |c| {
        let x = c.tensor("self")?;
        many(shape::chunk(x, c.int("chunks")?, c.int("dim")?), c)
    });

    // ---- rearranging
    t.add("aten.repeat.default", |c| {
        one(shape::repeat(c.tensor("self")?, &c.ints("repeats")?), c)
    });
    t.add("aten.flip.default", |c| {
        one(shape::flip(c.tensor("self")?, &c.ints("dims")?), c)
    });
    t.add("aten.roll.default", |c| {
        let x = c.tensor("self")?;
        one(shape::roll(x, &c.ints("shifts")?, &c.ints("dims")?), c)
    });
    t.add_with_inplace(&["aten.tril.default"], |c| {
        one(shape::tril(c.tensor("self")?, c.int("diagonal")?), c)
    });
    t.add_with_inplace(&["aten.triu.default"], |c| {
        one(shape::triu(c.tensor("self")?, c.int("diagonal")?), c)
    });
    t.add("aten.constant_pad_nd.default", |c| {
        let x = c.tensor("self")?;
        one(
            shape::constant_pad_nd(x, &c.ints("pad")?, c.scalar("value")?),
            c,
        )
    });
}
