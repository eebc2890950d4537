//! Search, order statistics and data-dependent selections (see [`crate::kernels::order`]).

use super::{one, two, KResult, KernelTable};
use crate::interp::{CallArgs, RunResult, Value};
use crate::kernels::order as k;
use crate::tensor::Scalar;
use crate::DType;

/// `right`, or `side` when given (`"left"` / `"right"`); both given must agree, as in ATen.
fn right_side(c: &CallArgs<'_>) -> RunResult<bool> {
    let right = c.bool("right")?;
    match c.opt_str("side")? {
        None => Ok(right),
        Some("right") => Ok(true),
        Some("left") if !right => Ok(false),
        Some("left") => Err(c.err("side=\"left\" contradicts right=True".to_string())),
        Some(s) => Err(c.err(format!("side must be \"left\" or \"right\", got \"{s}\""))),
    }
}

fn three(r: crate::Result<[crate::Tensor; 3]>, c: &CallArgs<'_>) -> KResult {
    r.map(|ts| ts.into_iter().map(Value::Tensor).collect())
        .map_err(|e| c.kernel_err(e))
}

pub(crate) fn register(t: &mut KernelTable) {
    t.add("aten.searchsorted.Tensor", |c| {
        let r = k::searchsorted(
            c.tensor("sorted_sequence")?,
            c.tensor("self")?,
            c.bool("out_int32")?,
            right_side(c)?,
            c.opt_tensor("sorter")?,
        );
        one(r, c)
    });
    t.add("aten.searchsorted.Scalar", |c| {
        let v = match c.scalar("self")? {
            s @ Scalar::Float(_) => k::scalar_tensor(s, DType::F64),
            s => k::scalar_tensor(s, DType::I64),
        };
        let r = k::searchsorted(
            c.tensor("sorted_sequence")?,
            &v,
            c.bool("out_int32")?,
            right_side(c)?,
            c.opt_tensor("sorter")?,
        );
        one(r, c)
    });
    for (name, nan) in [
        ("aten.median.default", false),
        ("aten.nanmedian.default", true),
    ] {
        t.add(name, move |c| one(k::median_all(c.tensor("self")?, nan), c));
    }
    for (name, nan) in [("aten.median.dim", false), ("aten.nanmedian.dim", true)] {
        t.add(name, move |c| {
            let x = c.tensor("self")?;
            two(k::median_dim(x, c.int("dim")?, c.bool("keepdim")?, nan), c)
        });
    }
    t.add("aten.kthvalue.default", |c| {
        let x = c.tensor("self")?;
        two(
            k::kthvalue(x, c.int("k")?, c.int("dim")?, c.bool("keepdim")?),
            c,
        )
    });
    t.add("aten.mode.default", |c| {
        let x = c.tensor("self")?;
        two(k::mode(x, c.int("dim")?, c.bool("keepdim")?), c)
    });
    t.add("aten.nonzero_static.default", |c| {
        let x = c.tensor("self")?;
        one(
            k::nonzero_static(x, c.int("size")?, c.int("fill_value")?),
            c,
        )
    });
    t.add("aten.nonzero_numpy.default", |c| {
        let x = c.tensor("self")?;
        // A 0-d tensor counts as 1-d (`torch.nonzero(as_tuple=True)`).
        let x = if x.ndim() == 0 {
            x.with_shape(vec![1]).map_err(|e| c.kernel_err(e))?
        } else {
            x.clone()
        };
        let r: crate::Result<Vec<crate::Tensor>> =
            crate::kernels::index::nonzero(&x).and_then(|nz| {
                (0..x.ndim() as i64)
                    .map(|d| crate::kernels::shape::select(&nz, 1, d))
                    .collect()
            });
        // One value per flattened result (as the export lists `Tensor[]` results), not a list:
        // a one-element list would not be spread over a single result.
        r.map(|ts| ts.into_iter().map(Value::Tensor).collect())
            .map_err(|e| c.kernel_err(e))
    });
    t.add("aten.combinations.default", |c| {
        let x = c.tensor("self")?;
        one(
            k::combinations(x, c.int("r")?, c.bool("with_replacement")?),
            c,
        )
    });
    t.add_with_inplace(&["aten.masked_scatter.default"], |c| {
        let r = k::masked_scatter(c.tensor("self")?, c.tensor("mask")?, c.tensor("source")?);
        one(r, c)
    });
    t.add_with_inplace(&["aten.put.default"], |c| {
        let r = k::put(
            c.tensor("self")?,
            c.tensor("index")?,
            c.tensor("source")?,
            c.bool("accumulate")?,
        );
        one(r, c)
    });
    t.add("aten.bincount.default", |c| {
        let r = k::bincount(
            c.tensor("self")?,
            c.opt_tensor("weights")?,
            c.int("minlength")?,
        );
        one(r, c)
    });
    t.add("aten._unique2.default", |c| {
        let x = c.tensor("self")?;
        let r = k::unique2(x, c.bool("return_inverse")?, c.bool("return_counts")?);
        three(r, c)
    });
    t.add("aten.unique_consecutive.default", |c| {
        let x = c.tensor("self")?;
        if c.opt_int("dim")?.is_some() && x.ndim() > 1 {
            return Err(c.err(
                "unique_consecutive along a dim of a tensor of rank > 1 is not supported"
                    .to_string(),
            ));
        }
        let r = k::unique_consecutive(x, c.bool("return_inverse")?, c.bool("return_counts")?);
        three(r, c)
    });
    t.add_all(
        &["aten.max_unpool2d.default", "aten.max_unpool3d.default"],
        |c| {
            let r = k::max_unpool(
                c.tensor("self")?,
                c.tensor("indices")?,
                &c.ints("output_size")?,
            );
            one(r, c)
        },
    );
}
