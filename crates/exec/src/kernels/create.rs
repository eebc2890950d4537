//! Creation ops: `arange`, `full`, `zeros`, `ones`, `empty`, `*_like`, `eye`, `linspace`,
//! `logspace`.

use crate::dtype::DType;
use crate::error::{invalid, Result};
use crate::tensor::{Scalar, Tensor};
use crate::with_dtype;

/// Default dtype of a fill value: float → f32 (the default dtype), int → int64, bool → bool.
fn default_dtype(v: Scalar) -> DType {
    match v {
        Scalar::Bool(_) => DType::Bool,
        Scalar::Int(_) => DType::I64,
        Scalar::Float(_) => DType::F32,
    }
}

fn to_shape(op: &'static str, size: &[i64]) -> Result<Vec<usize>> {
    size.iter()
        .map(|&s| {
            if s < 0 {
                invalid(op, format!("negative dimension {s}"))
            } else {
                Ok(s as usize)
            }
        })
        .collect()
}

/// `aten.arange.start_step`. Without `dtype`, the result is int64 if all of start/end/step are
/// ints, else f32. Length is `ceil((end - start) / step)`.
pub fn arange(start: Scalar, end: Scalar, step: Scalar, dtype: Option<DType>) -> Result<Tensor> {
    let all_int = [start, end, step]
        .iter()
        .all(|s| !matches!(s, Scalar::Float(_)));
    let dt = dtype.unwrap_or(if all_int { DType::I64 } else { DType::F32 });
    if dt == DType::Bool {
        return crate::error::dtype_err("arange", dt);
    }
    let (s, e, st) = (start.to_f64(), end.to_f64(), step.to_f64());
    if st == 0.0 {
        return invalid("arange", "step must be nonzero");
    }
    if !(s.is_finite() && e.is_finite()) {
        return invalid("arange", "unsupported range");
    }
    if (st > 0.0 && e < s) || (st < 0.0 && e > s) {
        return invalid(
            "arange",
            "upper bound and larger bound inconsistent with step sign",
        );
    }
    let n = if all_int && dt.is_int() {
        // Exact integer arithmetic, as PyTorch does for integral dtypes.
        let (s, e, st) = (start.to_i64(), end.to_i64(), step.to_i64());
        ((e - s + st - st.signum()) / st).max(0) as usize
    } else {
        ((e - s) / st).ceil().max(0.0) as usize
    };
    Ok(with_dtype!(dt, T => {
        let v: Vec<T> = if dt.is_int() && all_int {
            let (s, st) = (start.to_i64(), step.to_i64());
            (0..n as i64).map(|i| T::from_i64(s + i * st)).collect()
        } else {
            (0..n).map(|i| T::from_f64(s + i as f64 * st)).collect()
        };
        Tensor::from_parts(v, vec![n])
    }))
}

/// `aten.full` (dtype defaults from the value's kind).
pub fn full(size: &[i64], value: Scalar, dtype: Option<DType>) -> Result<Tensor> {
    let shape = to_shape("full", size)?;
    Ok(Tensor::full(
        &shape,
        value,
        dtype.unwrap_or_else(|| default_dtype(value)),
    ))
}

/// `aten.zeros` (default f32).
pub fn zeros(size: &[i64], dtype: Option<DType>) -> Result<Tensor> {
    full(size, Scalar::Int(0), Some(dtype.unwrap_or(DType::F32)))
}

/// `aten.ones` (default f32).
pub fn ones(size: &[i64], dtype: Option<DType>) -> Result<Tensor> {
    full(size, Scalar::Int(1), Some(dtype.unwrap_or(DType::F32)))
}

/// `aten.empty.memory_format`: zero-filled so results are deterministic.
pub fn empty(size: &[i64], dtype: Option<DType>) -> Result<Tensor> {
    zeros(size, dtype)
}

/// `aten.scalar_tensor`.
pub fn scalar_tensor(value: Scalar, dtype: Option<DType>) -> Tensor {
    Tensor::from_scalar(value, dtype.unwrap_or(DType::F32))
}

/// `aten.full_like` (keeps `t`'s dtype unless given).
pub fn full_like(t: &Tensor, value: Scalar, dtype: Option<DType>) -> Tensor {
    Tensor::full(t.shape(), value, dtype.unwrap_or(t.dtype()))
}

/// `aten.zeros_like`.
pub fn zeros_like(t: &Tensor, dtype: Option<DType>) -> Tensor {
    full_like(t, Scalar::Int(0), dtype)
}

/// `aten.ones_like`.
pub fn ones_like(t: &Tensor, dtype: Option<DType>) -> Tensor {
    full_like(t, Scalar::Int(1), dtype)
}

/// `aten.empty_like` (zero-filled).
pub fn empty_like(t: &Tensor, dtype: Option<DType>) -> Tensor {
    zeros_like(t, dtype)
}

/// `aten.eye.m` (`m` defaults to `n`; default dtype f32).
pub fn eye(n: i64, m: Option<i64>, dtype: Option<DType>) -> Result<Tensor> {
    let m = m.unwrap_or(n);
    if n < 0 || m < 0 {
        return invalid("eye", "n and m must be non-negative");
    }
    let (n, m) = (n as usize, m as usize);
    Ok(with_dtype!(dtype.unwrap_or(DType::F32), T => {
        let mut v = vec![T::default(); n * m];
        for i in 0..n.min(m) {
            v[i * m + i] = T::from_bool(true);
        }
        Tensor::from_parts(v, vec![n, m])
    }))
}

/// `aten.linspace` (default f32). Like PyTorch, the first half is computed from `start` and the
/// second half from `end` so both endpoints are exact.
pub fn linspace(start: Scalar, end: Scalar, steps: i64, dtype: Option<DType>) -> Result<Tensor> {
    if steps < 0 {
        return invalid("linspace", "number of steps must be non-negative");
    }
    let n = steps as usize;
    Ok(with_dtype!(dtype.unwrap_or(DType::F32), T => {
        // ATen converts the endpoints to the result dtype first (an integer result truncates
        // them), then steps in double.
        let (s, e) = (T::from_f64(start.to_f64()).to_f64(), T::from_f64(end.to_f64()).to_f64());
        let step = if n > 1 { (e - s) / (n - 1) as f64 } else { 0.0 };
        let half = n / 2;
        let v: Vec<T> = (0..n)
            .map(|i| {
                let x = if n == 1 {
                    s
                } else if i < half { s + step * i as f64 } else { e - step * (n - 1 - i) as f64 };
                T::from_f64(x)
            })
            .collect();
        Tensor::from_parts(v, vec![n])
    }))
}

/// `aten.logspace`: `base ** linspace(start, end, steps)` (default f32), computed as ATen's
/// kernel does: endpoints converted to the result dtype (integers truncate), exponents in
/// double from `start` for the first half and from `end` for the second, and the power
/// converted back (integers truncate). One step is `base ** start`.
pub fn logspace(
    start: Scalar,
    end: Scalar,
    steps: i64,
    base: f64,
    dtype: Option<DType>,
) -> Result<Tensor> {
    if steps < 0 {
        return invalid("logspace", "number of steps must be non-negative");
    }
    let n = steps as usize;
    Ok(with_dtype!(dtype.unwrap_or(DType::F32), T => {
        let (s, e) = (T::from_f64(start.to_f64()).to_f64(), T::from_f64(end.to_f64()).to_f64());
        let step = if n > 1 { (e - s) / (n - 1) as f64 } else { 0.0 };
        let half = n / 2;
        let v: Vec<T> = (0..n)
            .map(|i| {
                let x = if n == 1 {
                    start.to_f64()
                } else if i < half { s + step * i as f64 } else { e - step * (n - 1 - i) as f64 };
                T::from_f64(base.powf(x))
            })
            .collect();
        Tensor::from_parts(v, vec![n])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arange_rules() {
        let a = arange(Scalar::Int(0), Scalar::Int(10), Scalar::Int(3), None).unwrap();
        assert_eq!((a.dtype(), a.to_i64_vec()), (DType::I64, vec![0, 3, 6, 9]));
        let a = arange(
            Scalar::Int(0),
            Scalar::Float(1.0),
            Scalar::Float(0.25),
            None,
        )
        .unwrap();
        assert_eq!(
            (a.dtype(), a.to_f64_vec()),
            (DType::F32, vec![0.0, 0.25, 0.5, 0.75])
        );
        let a = arange(Scalar::Int(5), Scalar::Int(0), Scalar::Int(-2), None).unwrap();
        assert_eq!(a.to_i64_vec(), vec![5, 3, 1]);
        let a = arange(
            Scalar::Float(0.0),
            Scalar::Float(1.0),
            Scalar::Float(0.3),
            None,
        )
        .unwrap();
        assert_eq!(a.numel(), 4);
        assert!(arange(Scalar::Int(0), Scalar::Int(5), Scalar::Int(0), None).is_err());
        assert!(arange(Scalar::Int(0), Scalar::Int(5), Scalar::Int(-1), None).is_err());
    }

    #[test]
    fn fills() {
        assert_eq!(
            full(&[2], Scalar::Float(1.5), None).unwrap().dtype(),
            DType::F32
        );
        assert_eq!(
            full(&[2], Scalar::Int(1), None).unwrap().dtype(),
            DType::I64
        );
        assert_eq!(
            full(&[2], Scalar::Bool(true), None).unwrap().dtype(),
            DType::Bool
        );
        assert!(zeros(&[-1], None).is_err());
        assert_eq!(
            eye(2, Some(3), None).unwrap().to_f64_vec(),
            vec![1., 0., 0., 0., 1., 0.]
        );
        let l = linspace(Scalar::Int(0), Scalar::Int(1), 5, None).unwrap();
        assert_eq!(l.to_f64_vec(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(
            linspace(Scalar::Int(3), Scalar::Int(7), 1, None)
                .unwrap()
                .to_f64_vec(),
            vec![3.0]
        );
    }
}
