//! Creation ops. Without a `dtype` argument the dtype is the node's recorded result dtype,
//! so defaults (int64 vs float32 for `arange`, the default dtype) match the export.

use super::{one, KernelTable};
use crate::interp::{CallArgs, RunResult, Value};
use crate::kernels::create;
use crate::tensor::Scalar;
use crate::DType;

fn dtype(c: &CallArgs<'_>) -> RunResult<Option<DType>> {
    Ok(c.opt_dtype("dtype")?.or(c.result_dtype()))
}

/// A `linspace`/`logspace` bound: a number, or the value of a 0-d tensor (ATen's `item()`).
fn bound(c: &CallArgs<'_>, name: &str) -> RunResult<Scalar> {
    if let Ok(t) = c.tensor(name) {
        if t.ndim() != 0 {
            return Err(c.err(format!(
                "only 0-dimensional start and end tensors are supported, `{name}` has {} dims",
                t.ndim()
            )));
        }
    }
    c.scalar(name)
}

pub(crate) fn register(t: &mut KernelTable) {
    t.add("aten.arange.default", |c| {
        // `arange(end)` counts from 0 by 1 (ATen's `arange.start_step` defaults).
        one(
            create::arange(Scalar::Int(0), c.scalar("end")?, Scalar::Int(1), dtype(c)?),
            c,
        )
    });
    t.add("aten.arange.start", |c| {
        one(
            create::arange(
                c.scalar("start")?,
                c.scalar("end")?,
                Scalar::Int(1),
                dtype(c)?,
            ),
            c,
        )
    });
    t.add("aten.arange.start_step", |c| {
        one(
            create::arange(
                c.scalar("start")?,
                c.scalar("end")?,
                c.scalar("step")?,
                dtype(c)?,
            ),
            c,
        )
    });
    t.add_all(&["aten.full.default", "aten.new_full.default"], |c| {
        one(
            create::full(&c.ints("size")?, c.scalar("fill_value")?, dtype(c)?),
            c,
        )
    });
    // `empty` is zero-filled: deterministic, so runs compare equal.
    t.add_all(
        &[
            "aten.zeros.default",
            "aten.empty.memory_format",
            "aten.new_zeros.default",
            "aten.new_empty.default",
        ],
        |c| one(create::zeros(&c.ints("size")?, dtype(c)?), c),
    );
    t.add_all(&["aten.ones.default", "aten.new_ones.default"], |c| {
        one(create::ones(&c.ints("size")?, dtype(c)?), c)
    });
    t.add("aten.full_like.default", |c| {
        let x = c.tensor("self")?;
        Ok(vec![Value::Tensor(create::full_like(
            x,
            c.scalar("fill_value")?,
            dtype(c)?,
        ))])
    });
    t.add_all(
        &["aten.zeros_like.default", "aten.empty_like.default"],
        |c| {
            Ok(vec![Value::Tensor(create::zeros_like(
                c.tensor("self")?,
                dtype(c)?,
            ))])
        },
    );
    t.add("aten.ones_like.default", |c| {
        Ok(vec![Value::Tensor(create::ones_like(
            c.tensor("self")?,
            dtype(c)?,
        ))])
    });
    t.add("aten.eye.default", |c| {
        one(create::eye(c.int("n")?, None, dtype(c)?), c)
    });
    t.add("aten.eye.m", |c| {
        one(create::eye(c.int("n")?, Some(c.int("m")?), dtype(c)?), c)
    });
    t.add("aten.linspace.default", |c| {
        one(
            create::linspace(
                c.scalar("start")?,
                c.scalar("end")?,
                c.int("steps")?,
                dtype(c)?,
            ),
            c,
        )
    });
    // The tensor-bound overloads read their 0-d bounds as numbers (ATen's `item()`).
    t.add_all(
        &[
            "aten.linspace.Tensor_Tensor",
            "aten.linspace.Tensor_Scalar",
            "aten.linspace.Scalar_Tensor",
        ],
        |c| {
            let (s, e) = (bound(c, "start")?, bound(c, "end")?);
            one(create::linspace(s, e, c.int("steps")?, dtype(c)?), c)
        },
    );
    t.add("aten.logspace.default", |c| {
        let (s, e) = (c.scalar("start")?, c.scalar("end")?);
        let base = c.scalar("base")?.to_f64();
        one(create::logspace(s, e, c.int("steps")?, base, dtype(c)?), c)
    });
    t.add_all(
        &[
            "aten.logspace.Tensor_Tensor",
            "aten.logspace.Tensor_Scalar",
            "aten.logspace.Scalar_Tensor",
        ],
        |c| {
            let (s, e) = (bound(c, "start")?, bound(c, "end")?);
            let base = c.scalar("base")?.to_f64();
            one(create::logspace(s, e, c.int("steps")?, base, dtype(c)?), c)
        },
    );
    t.add("aten.scalar_tensor.default", |c| {
        Ok(vec![Value::Tensor(create::scalar_tensor(
            c.scalar("s")?,
            dtype(c)?,
        ))])
    });
}
