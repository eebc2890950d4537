//! Type promotion: `torch.promote_types` and `torch.result_type`.
//!
//! `result_type` follows c10's `ResultTypeState`: operands are split into three tiers — tensors
//! with at least one dim, 0-dim tensors, and Python scalars ("wrapped numbers"). Each tier is
//! promoted on its own, then a lower tier only matters when its category is higher than the
//! tiers above it (`combine_categories`). A float Python scalar counts as the default dtype (f32).

use crate::dtype::{Category, DType};
use crate::tensor::{Scalar, Tensor};

/// One argument of an op, for [`result_type`].
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// A tensor (0-dim tensors participate only by category).
    Tensor(&'a Tensor),
    /// A Python scalar (participates only by category).
    Scalar(Scalar),
}

impl<'a> From<&'a Tensor> for Operand<'a> {
    fn from(t: &'a Tensor) -> Self {
        Operand::Tensor(t)
    }
}
impl From<Scalar> for Operand<'_> {
    fn from(s: Scalar) -> Self {
        Operand::Scalar(s)
    }
}

fn int_rank(d: DType) -> u8 {
    match d {
        DType::U8 | DType::I8 => 1,
        DType::I16 | DType::U16 => 2,
        DType::I32 | DType::U32 => 3,
        _ => 4,
    }
}

/// `torch.promote_types(a, b)`: the smallest dtype both can be cast to safely.
pub fn promote_types(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    let wide = |d: DType| d == F64 || d == C128;
    match (a.category(), b.category()) {
        // complex64 with float64 (or complex128) needs complex128; otherwise complex64.
        (Category::Complex, _) | (_, Category::Complex) => {
            if wide(a) || wide(b) {
                C128
            } else {
                C64
            }
        }
        (Category::Bool, _) => b,
        (_, Category::Bool) => a,
        (Category::Float, Category::Float) => match (a, b) {
            (F64, _) | (_, F64) => F64,
            (F32, _) | (_, F32) => F32,
            // f16 with bf16 (a != b here).
            _ => F32,
        },
        (Category::Float, Category::Int) => a,
        (Category::Int, Category::Float) => b,
        (Category::Int, Category::Int)
            if DType::LIMITED_UNSIGNED.contains(&a) || DType::LIMITED_UNSIGNED.contains(&b) =>
        {
            // PyTorch refuses these pairs (and type inference reports it before anything runs);
            // the wider type, signed on a tie, keeps this total and symmetric.
            match int_rank(a).cmp(&int_rank(b)) {
                std::cmp::Ordering::Greater => a,
                std::cmp::Ordering::Less => b,
                std::cmp::Ordering::Equal if DType::LIMITED_UNSIGNED.contains(&a) => b,
                std::cmp::Ordering::Equal => a,
            }
        }
        (Category::Int, Category::Int) => {
            // Mixed uint8/int8 needs int16; otherwise the wider type wins (uint8 loses to any
            // wider signed type).
            if (a == U8 && b == I8) || (a == I8 && b == U8) {
                I16
            } else if a != U8 && (b == U8 || int_rank(a) >= int_rank(b)) {
                a
            } else {
                b
            }
        }
    }
}

fn promote_opt(a: Option<DType>, b: DType) -> Option<DType> {
    Some(match a {
        None => b,
        Some(a) => promote_types(a, b),
    })
}

/// c10's `combine_categories(higher, lower)`.
fn combine_categories(higher: Option<DType>, lower: Option<DType>) -> Option<DType> {
    match (higher, lower) {
        (Some(h), _) if h.is_complex() => Some(h),
        // A complex lower keeps a floating higher's precision (`f64` with `c64` → `c128`).
        (Some(h), Some(l)) if l.is_complex() && h.is_float() => Some(h.to_complex()),
        (Some(_), Some(l)) if l.is_complex() => Some(l),
        (Some(h), _) if h.is_float() => Some(h),
        (Some(h), Some(l)) if h == DType::Bool || l.is_float() => Some(promote_types(h, l)),
        (Some(h), _) => Some(h),
        (None, l) => l,
    }
}

/// The dtype a Python scalar contributes to promotion (float → default dtype f32).
pub fn scalar_dtype(s: Scalar) -> DType {
    match s {
        Scalar::Bool(_) => DType::Bool,
        Scalar::Int(_) => DType::I64,
        Scalar::Float(_) => DType::F32,
    }
}

/// `torch.result_type` over any mix of tensors and scalars. With no operands, returns f32.
pub fn result_type(ops: &[Operand<'_>]) -> DType {
    let (mut dim, mut zero, mut wrapped) = (None, None, None);
    for op in ops {
        match op {
            Operand::Tensor(t) if t.ndim() > 0 => dim = promote_opt(dim, t.dtype()),
            Operand::Tensor(t) => zero = promote_opt(zero, t.dtype()),
            Operand::Scalar(s) => wrapped = promote_opt(wrapped, scalar_dtype(*s)),
        }
    }
    combine_categories(dim, combine_categories(zero, wrapped)).unwrap_or(DType::F32)
}

/// `result_type` of two tensors.
pub fn result_type_tt(a: &Tensor, b: &Tensor) -> DType {
    result_type(&[a.into(), b.into()])
}

/// `result_type` of a tensor and a scalar.
pub fn result_type_ts(a: &Tensor, b: Scalar) -> DType {
    result_type(&[a.into(), b.into()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use DType::*;

    fn t(dt: DType) -> Tensor {
        Tensor::zeros(&[2], dt)
    }
    fn z(dt: DType) -> Tensor {
        Tensor::zeros(&[], dt)
    }

    #[test]
    fn promote_table() {
        assert_eq!(promote_types(U8, I8), I16);
        assert_eq!(promote_types(U8, I32), I32);
        assert_eq!(promote_types(I16, I32), I32);
        assert_eq!(promote_types(Bool, U8), U8);
        assert_eq!(promote_types(F16, BF16), F32);
        assert_eq!(promote_types(I64, F16), F16);
        assert_eq!(promote_types(F32, F64), F64);
        assert_eq!(promote_types(U16, F32), F32);
        assert_eq!(promote_types(Bool, U32), U32);
        assert_eq!(promote_types(C64, F64), C128);
        assert_eq!(promote_types(F32, C64), C64);
        assert_eq!(promote_types(I64, C64), C64);
        assert_eq!(promote_types(C64, C128), C128);
        let every = DType::ALL.into_iter().chain(DType::LIMITED_UNSIGNED);
        for a in every.clone() {
            for b in every.clone() {
                assert_eq!(promote_types(a, b), promote_types(b, a));
            }
        }
    }

    #[test]
    fn result_type_rules() {
        // int64 tensor with a Python float → default dtype float32.
        assert_eq!(result_type_ts(&t(I64), Scalar::Float(2.5)), F32);
        // Python int does not widen an int8 tensor.
        assert_eq!(result_type_ts(&t(I8), Scalar::Int(1000)), I8);
        assert_eq!(result_type_ts(&t(F16), Scalar::Float(2.5)), F16);
        assert_eq!(result_type_ts(&t(Bool), Scalar::Int(1)), I64);
        assert_eq!(result_type_ts(&t(Bool), Scalar::Float(1.0)), F32);
        // 0-dim tensors: same category does not widen, higher category takes its own type.
        assert_eq!(result_type_tt(&t(I32), &z(I64)), I32);
        assert_eq!(result_type_tt(&t(I32), &z(F64)), F64);
        assert_eq!(result_type_tt(&t(F16), &z(F64)), F16);
        assert_eq!(result_type_tt(&z(I32), &z(I64)), I64);
        assert_eq!(result_type_tt(&t(U8), &t(I8)), I16);
        // A 0-dim int tensor and a float scalar → default float.
        assert_eq!(
            result_type(&[(&z(I64)).into(), Scalar::Float(1.0).into()]),
            F32
        );
        assert_eq!(
            result_type(&[(&z(F64)).into(), Scalar::Float(1.0).into()]),
            F64
        );
    }
}
