//! Reductions, scans, histograms, softmax, sort and top-k. An empty or omitted dim list reduces over
//! every dim, as in ATen.

use super::{many, one, two, KResult, KernelTable};
use crate::interp::{CallArgs, RunResult, Value};
use crate::kernels::elementwise as ew;
use crate::kernels::histogram;
use crate::kernels::reduce;
use crate::tensor::Tensor;
use crate::DType;

type SumLike = fn(&Tensor, Option<&[i64]>, bool, Option<DType>) -> crate::Result<Tensor>;
type AnyLike = fn(&Tensor, Option<&[i64]>, bool) -> crate::Result<Tensor>;
type VarLike = fn(&CallArgs<'_>, &Tensor, Option<&[i64]>, f64, bool) -> KResult;

/// `dim` as an optional dim list (`int[1]? dim`), with empty meaning all dims.
fn dims(c: &CallArgs<'_>) -> RunResult<Option<Vec<i64>>> {
    Ok(c.opt_ints("dim")?.filter(|d| !d.is_empty()))
}

/// The correction of a `var`/`std` overload: `unbiased` (`True` → 1) or `correction`
/// (`None` → 1, as ATen).
fn correction(c: &CallArgs<'_>) -> RunResult<f64> {
    if c.has("correction") {
        Ok(c.opt_float("correction")?.unwrap_or(1.0))
    } else {
        Ok(if c.bool("unbiased")? { 1.0 } else { 0.0 })
    }
}

fn var_kernels(t: &mut KernelTable, base: &str, f: VarLike) {
    t.add(&format!("aten.{base}.default"), move |c| {
        f(c, c.tensor("self")?, None, correction(c)?, false)
    });
    let names = [
        format!("aten.{base}.dim"),
        format!("aten.{base}.correction"),
    ];
    t.add_all(&[names[0].as_str(), names[1].as_str()], move |c| {
        let d = dims(c)?;
        f(
            c,
            c.tensor("self")?,
            d.as_deref(),
            correction(c)?,
            c.bool("keepdim")?,
        )
    });
}

/// The per-dim bin counts of a `histogramdd` call: the `int[]`, or the one `int` repeated
/// for every dim of the points (`int_bins`).
fn dd_bins(c: &CallArgs<'_>, x: &Tensor) -> RunResult<Vec<i64>> {
    if let Ok(b) = c.int("bins") {
        let n = x.shape().last().copied().unwrap_or(0);
        return Ok(vec![b; n]);
    }
    c.ints("bins")
}

pub(crate) fn register(t: &mut KernelTable) {
    for (base, f) in [
        ("sum", reduce::sum as SumLike),
        ("mean", reduce::mean),
        ("prod", reduce::prod),
    ] {
        t.add(&format!("aten.{base}.default"), move |c| {
            one(f(c.tensor("self")?, None, false, c.opt_dtype("dtype")?), c)
        });
    }
    for (name, f) in [
        ("aten.sum.dim_IntList", reduce::sum as SumLike),
        ("aten.mean.dim", reduce::mean),
        ("aten.nansum.default", reduce::nansum),
    ] {
        t.add(name, move |c| {
            let d = dims(c)?;
            one(
                f(
                    c.tensor("self")?,
                    d.as_deref(),
                    c.bool("keepdim")?,
                    c.opt_dtype("dtype")?,
                ),
                c,
            )
        });
    }
    t.add("aten.prod.dim_int", |c| {
        let d = [c.int("dim")?];
        one(
            reduce::prod(
                c.tensor("self")?,
                Some(&d),
                c.bool("keepdim")?,
                c.opt_dtype("dtype")?,
            ),
            c,
        )
    });
    t.add("aten.amax.default", |c| {
        let x = c.tensor("self")?;
        one(reduce::amax(x, &c.ints("dim")?, c.bool("keepdim")?), c)
    });
    t.add("aten.amin.default", |c| {
        let x = c.tensor("self")?;
        one(reduce::amin(x, &c.ints("dim")?, c.bool("keepdim")?), c)
    });
    t.add("aten.max.default", |c| {
        one(reduce::max_all(c.tensor("self")?), c)
    });
    t.add("aten.min.default", |c| {
        one(reduce::min_all(c.tensor("self")?), c)
    });
    t.add("aten.max.dim", |c| {
        let x = c.tensor("self")?;
        two(reduce::max_dim(x, c.int("dim")?, c.bool("keepdim")?), c)
    });
    t.add("aten.min.dim", |c| {
        let x = c.tensor("self")?;
        two(reduce::min_dim(x, c.int("dim")?, c.bool("keepdim")?), c)
    });
    t.add("aten.argmax.default", |c| {
        let x = c.tensor("self")?;
        one(reduce::argmax(x, c.opt_int("dim")?, c.bool("keepdim")?), c)
    });
    t.add("aten.argmin.default", |c| {
        let x = c.tensor("self")?;
        one(reduce::argmin(x, c.opt_int("dim")?, c.bool("keepdim")?), c)
    });
    var_kernels(t, "var", |c, x, d, k, keep| {
        one(reduce::var(x, d, k, keep), c)
    });
    var_kernels(t, "std", |c, x, d, k, keep| {
        one(reduce::std(x, d, k, keep), c)
    });
    var_kernels(t, "var_mean", |c, x, d, k, keep| {
        two(reduce::var_mean(x, d, k, keep), c)
    });
    var_kernels(t, "std_mean", |c, x, d, k, keep| {
        let r = reduce::var_mean(x, d, k, keep).and_then(|(v, m)| Ok((ew::sqrt(&v)?, m)));
        two(r, c)
    });
    for (base, f) in [("any", reduce::any as AnyLike), ("all", reduce::all)] {
        t.add(&format!("aten.{base}.default"), move |c| {
            one(f(c.tensor("self")?, None, false), c)
        });
        t.add(&format!("aten.{base}.dim"), move |c| {
            let d = [c.int("dim")?];
            one(f(c.tensor("self")?, Some(&d), c.bool("keepdim")?), c)
        });
        t.add(&format!("aten.{base}.dims"), move |c| {
            let d = dims(c)?;
            one(f(c.tensor("self")?, d.as_deref(), c.bool("keepdim")?), c)
        });
    }
    t.add("aten.logsumexp.default", |c| {
        let x = c.tensor("self")?;
        one(reduce::logsumexp(x, &c.ints("dim")?, c.bool("keepdim")?), c)
    });
    t.add("aten.norm.Scalar", |c| {
        one(
            reduce::norm(c.tensor("self")?, c.float("p")?, None, false),
            c,
        )
    });
    t.add("aten.norm.ScalarOpt_dim", |c| {
        // `p=None` is the 2-norm (ATen's `Scalar? p`).
        let p = c.opt_float("p")?.unwrap_or(2.0);
        let d = dims(c)?;
        one(
            reduce::norm(c.tensor("self")?, p, d.as_deref(), c.bool("keepdim")?),
            c,
        )
    });
    t.add("aten.linalg_vector_norm.default", |c| {
        let d = dims(c)?;
        let x = c.tensor("self")?;
        let x = match c.opt_dtype("dtype")? {
            Some(dt) => x.to_dtype(dt),
            None => x.clone(),
        };
        one(
            reduce::norm(&x, c.float("ord")?, d.as_deref(), c.bool("keepdim")?),
            c,
        )
    });
    t.add_with_inplace(&["aten.cumsum.default"], |c| {
        let x = c.tensor("self")?;
        one(reduce::cumsum(x, c.int("dim")?, c.opt_dtype("dtype")?), c)
    });
    // ---- histograms
    t.add("aten.histc.default", |c| {
        let x = c.tensor("self")?;
        let (lo, hi) = (c.scalar("min")?.to_f64(), c.scalar("max")?.to_f64());
        one(histogram::histc(x, c.int("bins")?, lo, hi), c)
    });
    t.add("aten.histogram.bin_ct", |c| {
        let x = c.tensor("self")?;
        let range = c.opt_floats("range")?;
        two(
            histogram::histogram_bin_ct(
                x,
                c.int("bins")?,
                range.as_deref(),
                c.opt_tensor("weight")?,
                c.bool("density")?,
            ),
            c,
        )
    });
    t.add("aten.histogram.bins_tensor", |c| {
        let x = c.tensor("self")?;
        two(
            histogram::histogram_bins_tensor(
                x,
                c.tensor("bins")?,
                c.opt_tensor("weight")?,
                c.bool("density")?,
            ),
            c,
        )
    });
    t.add_all(
        &["aten.histogramdd.default", "aten.histogramdd.int_bins"],
        |c| {
            let x = c.tensor("self")?;
            let bins = dd_bins(c, x)?;
            let range = c.opt_floats("range")?;
            let (h, edges) = histogram::histogramdd(
                x,
                &bins,
                range.as_deref(),
                c.opt_tensor("weight")?,
                c.bool("density")?,
            )
            .map_err(|e| c.kernel_err(e))?;
            Ok(std::iter::once(h).chain(edges).map(Value::Tensor).collect())
        },
    );
    t.add("aten.histogramdd.TensorList_bins", |c| {
        let x = c.tensor("self")?;
        let edges = c.tensors("bins")?;
        let h = histogram::histogramdd_from_edges(
            x,
            &edges,
            c.opt_tensor("weight")?,
            c.bool("density")?,
        )
        .map_err(|e| c.kernel_err(e))?;
        Ok(std::iter::once(h)
            .chain(edges.into_iter().cloned())
            .map(Value::Tensor)
            .collect())
    });
    t.add("aten._histogramdd_bin_edges.default", |c| {
        let x = c.tensor("self")?;
        let range = c.opt_floats("range")?;
        many(
            histogram::histogramdd_bin_edges(x, &c.ints("bins")?, range.as_deref()),
            c,
        )
    });
    t.add("aten._histogramdd_from_bin_cts.default", |c| {
        let x = c.tensor("self")?;
        let range = c.opt_floats("range")?;
        let r = histogram::histogramdd(
            x,
            &c.ints("bins")?,
            range.as_deref(),
            c.opt_tensor("weight")?,
            c.bool("density")?,
        );
        one(r.map(|(h, _)| h), c)
    });
    t.add("aten._histogramdd_from_bin_tensors.default", |c| {
        let x = c.tensor("self")?;
        let edges = c.tensors("bins")?;
        one(
            histogram::histogramdd_from_edges(
                x,
                &edges,
                c.opt_tensor("weight")?,
                c.bool("density")?,
            ),
            c,
        )
    });
    t.add("aten.segment_reduce.default", |c| {
        if c.opt_tensor("indices")?.is_some() {
            return Err(c.err("indices based reduction is not supported (as in ATen)"));
        }
        one(
            reduce::segment_reduce(
                c.tensor("data")?,
                c.str("reduce")?,
                c.opt_tensor("lengths")?,
                c.opt_tensor("offsets")?,
                c.int("axis")?,
                c.bool("unsafe")?,
                c.opt_scalar("initial")?.map(|s| s.to_f64()),
            ),
            c,
        )
    });
    t.add("aten.logcumsumexp.default", |c| {
        one(reduce::logcumsumexp(c.tensor("self")?, c.int("dim")?), c)
    });
    t.add_with_inplace(&["aten.cumprod.default"], |c| {
        let x = c.tensor("self")?;
        one(reduce::cumprod(x, c.int("dim")?, c.opt_dtype("dtype")?), c)
    });
    // `softmax.int(self, dim, dtype=None)` casts first; `_softmax(self, dim, half_to_float)`.
    type Softmax = fn(&Tensor, i64, bool) -> crate::Result<Tensor>;
    for (name, f) in [
        ("aten.softmax.int", reduce::softmax as Softmax),
        ("aten.log_softmax.int", reduce::log_softmax),
    ] {
        t.add(name, move |c| {
            let x = c.tensor("self")?;
            let x = match c.opt_dtype("dtype")? {
                Some(dt) => x.to_dtype(dt),
                None => x.clone(),
            };
            one(f(&x, c.int("dim")?, false), c)
        });
    }
    for (name, f) in [
        ("aten._softmax.default", reduce::softmax as Softmax),
        ("aten._log_softmax.default", reduce::log_softmax),
    ] {
        t.add(name, move |c| {
            let x = c.tensor("self")?;
            one(f(x, c.int("dim")?, c.bool("half_to_float")?), c)
        });
    }
    // Sorting is stable here, so `sort.stable` is the same kernel.
    t.add_all(&["aten.sort.default", "aten.sort.stable"], |c| {
        let x = c.tensor("self")?;
        two(reduce::sort(x, c.int("dim")?, c.bool("descending")?), c)
    });
    t.add("aten.topk.default", |c| {
        let x = c.tensor("self")?;
        two(
            reduce::topk(x, c.int("k")?, c.int("dim")?, c.bool("largest")?),
            c,
        )
    });
}
