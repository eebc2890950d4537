//! Indexing: gather/scatter, advanced indexing, embedding, masks, padding by mode.

use super::{one, KResult, KernelTable};
use crate::interp::{CallArgs, RunError, RunResult};
use crate::kernels::{index, shape};
use crate::tensor::Tensor;

/// Reflect/replicate/circular padding as an index gather per padded dim (last dim first, as
/// `pad` lists `(left, right)` pairs from the last dim backwards).
fn pad_by_index(x: &Tensor, pad: &[i64], mode: &str) -> crate::Result<Tensor> {
    let mut t = x.clone();
    for (k, lr) in pad.chunks(2).enumerate() {
        let (left, right) = (lr[0], lr.get(1).copied().unwrap_or(0));
        let dim = t.ndim() as i64 - 1 - k as i64;
        if dim < 0 {
            return Err(crate::ExecError::Invalid {
                op: "pad",
                msg: format!("padding {pad:?} has more dims than the input"),
            });
        }
        let n = t.shape()[dim as usize] as i64;
        if mode == "reflect" && (left >= n || right >= n) {
            return Err(crate::ExecError::Invalid {
                op: "pad",
                msg: format!(
                    "reflect padding ({left}, {right}) must be smaller than the dim size {n}"
                ),
            });
        }
        if n == 0 {
            return Err(crate::ExecError::Invalid {
                op: "pad",
                msg: "cannot pad an empty dim by reflection or replication".into(),
            });
        }
        let idx: Vec<i64> = (-left..n + right)
            .map(|i| match mode {
                "reflect" => {
                    let period = 2 * (n - 1).max(1);
                    let m = i.rem_euclid(period);
                    if m < n {
                        m
                    } else {
                        period - m
                    }
                }
                "replicate" => i.clamp(0, n - 1),
                _ => i.rem_euclid(n),
            })
            .collect();
        let len = idx.len();
        let idx = Tensor::from_vec(idx, vec![len])?;
        t = index::index_select(&t, dim, &idx)?;
    }
    Ok(t)
}

fn indices(c: &CallArgs<'_>) -> RunResult<Vec<Option<Tensor>>> {
    Ok(c.opt_tensors("indices")?
        .into_iter()
        .map(|t| t.cloned())
        .collect())
}

fn pad(c: &CallArgs<'_>) -> KResult {
    let x = c.tensor("self")?;
    let pad = c.ints("pad")?;
    match c.str("mode")? {
        // `value=None` pads with zeros, as ATen.
        "constant" => {
            let v = c.opt_scalar("value")?.unwrap_or(crate::Scalar::Int(0));
            one(shape::constant_pad_nd(x, &pad, v), c)
        }
        mode @ ("reflect" | "replicate" | "circular") => one(pad_by_index(x, &pad, mode), c),
        other => Err(RunError::Unsupported {
            node: c.node.to_string(),
            op: c.op.to_string(),
            hint: format!(" in mode `{other}`"),
        }),
    }
}

pub(crate) fn register(t: &mut KernelTable) {
    t.add("aten.index_select.default", |c| {
        let x = c.tensor("self")?;
        one(index::index_select(x, c.int("dim")?, c.tensor("index")?), c)
    });
    t.add("aten.repeat_interleave.Tensor", |c| {
        let r = c.tensor("repeats")?;
        one(index::repeat_interleave(r, c.opt_int("output_size")?), c)
    });
    t.add("aten.gather.default", |c| {
        let x = c.tensor("self")?;
        one(index::gather(x, c.int("dim")?, c.tensor("index")?), c)
    });
    t.add_with_inplace(&["aten.scatter.src"], |c| {
        let (x, d, idx) = (c.tensor("self")?, c.int("dim")?, c.tensor("index")?);
        one(index::scatter(x, d, idx, c.tensor("src")?), c)
    });
    t.add_with_inplace(&["aten.scatter.value"], |c| {
        let (x, d, idx) = (c.tensor("self")?, c.int("dim")?, c.tensor("index")?);
        one(index::scatter_value(x, d, idx, c.scalar("value")?), c)
    });
    t.add_with_inplace(&["aten.scatter_add.default"], |c| {
        let (x, d, idx) = (c.tensor("self")?, c.int("dim")?, c.tensor("index")?);
        one(index::scatter_add(x, d, idx, c.tensor("src")?), c)
    });
    t.add_all(
        &[
            "aten.index.Tensor",
            "aten.index.Tensor_hacked_twin",
            "aten._unsafe_index.Tensor",
        ],
        |c| one(index::index(c.tensor("self")?, &indices(c)?), c),
    );
    t.add_with_inplace(
        &[
            "aten.index_put.default",
            "aten.index_put.hacked_twin",
            "aten._unsafe_index_put.default",
        ],
        |c| {
            one(
                index::index_put(
                    c.tensor("self")?,
                    &indices(c)?,
                    c.tensor("values")?,
                    c.bool("accumulate")?,
                ),
                c,
            )
        },
    );
    t.add("aten.slice_scatter.default", |c| {
        one(
            index::slice_scatter(
                c.tensor("self")?,
                c.tensor("src")?,
                c.int("dim")?,
                c.opt_int("start")?,
                c.opt_int("end")?,
                c.int("step")?,
            ),
            c,
        )
    });
    t.add("aten.select_scatter.default", |c| {
        one(
            index::select_scatter(
                c.tensor("self")?,
                c.tensor("src")?,
                c.int("dim")?,
                c.int("index")?,
            ),
            c,
        )
    });
    t.add("aten.embedding.default", |c| {
        one(
            index::embedding(c.tensor("weight")?, c.tensor("indices")?),
            c,
        )
    });
    t.add("aten.one_hot.default", |c| {
        one(index::one_hot(c.tensor("self")?, c.int("num_classes")?), c)
    });
    t.add("aten.nonzero.default", |c| {
        one(index::nonzero(c.tensor("self")?), c)
    });
    t.add("aten.masked_select.default", |c| {
        one(
            index::masked_select(c.tensor("self")?, c.tensor("mask")?),
            c,
        )
    });
    t.add("aten.pad.default", pad);
}
