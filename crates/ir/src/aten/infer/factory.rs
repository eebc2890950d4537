//! Tensor factories: `arange`, `full`, `zeros`, `empty`, random tensors, `scalar_tensor`.

use super::{ceil_div, t, Call, Rule, ScalarVal, R};
use crate::aten::promote::DEFAULT_FLOAT;
use crate::dim::Dim;
use crate::dtype::DType;
use crate::types::Shape;

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("arange", arange),
    ("full", full),
    ("zeros", sized),
    ("ones", sized),
    ("empty.memory_format", sized),
    ("empty.default", sized),
    ("empty_permuted", empty_permuted),
    ("empty_strided", sized),
    ("rand", sized),
    ("randn", sized),
    ("randint", randint),
    ("randint.low", randint),
    ("randperm", randperm),
    ("new_zeros", new_sized),
    ("new_ones", new_sized),
    ("new_empty", new_sized),
    ("new_empty_strided", new_sized),
    ("new_full", new_sized),
    ("scalar_tensor", scalar_tensor),
    ("linspace", linspace),
    ("logspace", linspace),
    ("eye", eye),
];

/// `arange`: `ceil((end - start) / step)` elements; `i64` unless an endpoint or the step is a
/// float (then the default float), or a dtype is given.
fn arange(c: &Call) -> R {
    let start = c.scalar("start");
    let end = c.scalar("end").ok_or("arange needs `end`")?;
    let step = c.scalar("step");
    let any_float = [start.as_ref(), Some(&end), step.as_ref()]
        .into_iter()
        .flatten()
        .any(|s| matches!(s, ScalarVal::Float(_)));
    let dtype = c
        .opt_dtype("dtype")?
        .unwrap_or(if any_float { DEFAULT_FLOAT } else { DType::I64 });
    let len = if any_float {
        let f = |s: Option<&ScalarVal>, d: f64| -> Option<f64> {
            match s {
                None => Some(d),
                Some(ScalarVal::Float(v)) => *v,
                Some(ScalarVal::Int(Some(v))) => v.as_const().map(|x| x as f64),
                _ => None,
            }
        };
        let (a, b, s) = (
            f(start.as_ref(), 0.0),
            f(Some(&end), 0.0),
            f(step.as_ref(), 1.0),
        );
        match (a, b, s) {
            (Some(a), Some(b), Some(s)) if s != 0.0 => {
                Dim::constant(((b - a) / s).ceil().max(0.0) as i64)
            }
            _ => return Err("arange with symbolic float bounds".into()),
        }
    } else {
        let int = |s: Option<&ScalarVal>, d: i64| -> Result<Dim, String> {
            match s {
                None => Ok(Dim::constant(d)),
                Some(ScalarVal::Int(Some(v))) => Ok(v.clone()),
                Some(ScalarVal::Bool) => Err("arange of a bool".into()),
                _ => Err("arange bound of unknown value".into()),
            }
        };
        let (a, b) = (int(start.as_ref(), 0)?, int(Some(&end), 0)?);
        let s = int(step.as_ref(), 1)?;
        let s = s.as_const().ok_or("arange with a symbolic step")?;
        if s == 0 {
            return Err("arange step must be nonzero".into());
        }
        let span = b.sub(&a);
        let len = if s > 0 {
            ceil_div(&span, &Dim::constant(s))
        } else {
            ceil_div(&span.neg(), &Dim::constant(-s))
        };
        match len.as_const() {
            Some(l) if l < 0 => Dim::constant(0),
            _ => len,
        }
    };
    Ok(vec![t(dtype, vec![len])])
}

/// `full`: the dtype follows the fill value (bool, `i64`, default float) unless given.
fn full(c: &Call) -> R {
    let size = c.syms("size")?;
    let dtype = match c.opt_dtype("dtype")? {
        Some(d) => d,
        None => c
            .scalar("fill_value")
            .map(|s| super::elementwise::scalar_dtype(&s))
            .unwrap_or(DEFAULT_FLOAT),
    };
    Ok(vec![t(dtype, size)])
}

fn sized(c: &Call) -> R {
    let size = c.syms("size")?;
    Ok(vec![t(
        c.opt_dtype("dtype")?.unwrap_or(DEFAULT_FLOAT),
        size,
    )])
}

fn empty_permuted(c: &Call) -> R {
    let size = c.syms("size")?;
    Ok(vec![t(
        c.opt_dtype("dtype")?.unwrap_or(DEFAULT_FLOAT),
        size,
    )])
}

fn randint(c: &Call) -> R {
    let size = c.syms("size")?;
    Ok(vec![t(c.opt_dtype("dtype")?.unwrap_or(DType::I64), size)])
}

fn randperm(c: &Call) -> R {
    let n = c.sym("n")?;
    Ok(vec![t(
        c.opt_dtype("dtype")?.unwrap_or(DType::I64),
        vec![n],
    )])
}

fn new_sized(c: &Call) -> R {
    let x = c.tensor("self")?;
    let size = c.syms("size")?;
    Ok(vec![t(c.opt_dtype("dtype")?.unwrap_or(x.dtype), size)])
}

fn scalar_tensor(c: &Call) -> R {
    Ok(vec![t(
        c.opt_dtype("dtype")?.unwrap_or(DEFAULT_FLOAT),
        Shape::new(),
    )])
}

fn linspace(c: &Call) -> R {
    let steps = c.sym("steps")?;
    Ok(vec![t(
        c.opt_dtype("dtype")?.unwrap_or(DEFAULT_FLOAT),
        vec![steps],
    )])
}

fn eye(c: &Call) -> R {
    let n = c.sym("n")?;
    let m = c.opt_sym("m")?.unwrap_or_else(|| n.clone());
    Ok(vec![t(
        c.opt_dtype("dtype")?.unwrap_or(DEFAULT_FLOAT),
        vec![n, m],
    )])
}
