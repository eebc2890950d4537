//! PyTorch's type promotion (`torch.promote_types`, `torch.result_type`) and broadcasting over
//! symbolic shapes.
//!
//! `result_type` follows c10's `ResultTypeState` exactly: operands fall into three priority
//! classes — tensors with `dim > 0`, zero-dim tensors, and Python scalars ("wrapped numbers") —
//! each class is promoted on its own, and a lower class only matters when it is of a *higher
//! category* (bool < integral < floating < complex) than the classes above it. Python scalars
//! enter as `i64`, the default float (`f32`) or the default complex (`c64`).

use crate::dim::Dim;
use crate::dtype::{Category, DType};
use crate::types::Shape;

/// The kind of a Python scalar operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarKind {
    /// `bool`
    Bool,
    /// `int` (and `SymInt`)
    Int,
    /// `float` (and `SymFloat`)
    Float,
    /// `complex`
    Complex,
}

/// One operand of a type-promoting operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A tensor; `zero_dim` for rank-0 tensors, which rank below tensors with dims.
    Tensor {
        /// Element type.
        dtype: DType,
        /// True if the tensor has rank 0.
        zero_dim: bool,
    },
    /// A Python number.
    Scalar(ScalarKind),
}

impl Operand {
    /// A tensor operand of the given rank.
    pub fn tensor(dtype: DType, rank: usize) -> Operand {
        Operand::Tensor {
            dtype,
            zero_dim: rank == 0,
        }
    }
}

/// `torch.get_default_dtype()`: trtfx assumes PyTorch's default, `float32`.
pub const DEFAULT_FLOAT: DType = DType::F32;
/// The default complex dtype matching [`DEFAULT_FLOAT`].
pub const DEFAULT_COMPLEX: DType = DType::C64;

fn is_barebones_unsigned(d: DType) -> bool {
    matches!(d, DType::U16 | DType::U32 | DType::U64)
}

fn is_float8(d: DType) -> bool {
    matches!(
        d,
        DType::F8E4M3FN | DType::F8E5M2 | DType::F8E4M3FNUZ | DType::F8E5M2FNUZ | DType::F8E8M0FNU
    )
}

/// The complex type whose components have the precision of a float type.
pub fn to_complex(d: DType) -> DType {
    match d {
        DType::F16 => DType::C32,
        DType::F64 => DType::C128,
        DType::C32 | DType::C64 | DType::C128 => d,
        _ => DType::C64,
    }
}

/// The real type of a complex type's components (`c64` → `f32`); other types unchanged.
pub fn to_real(d: DType) -> DType {
    match d {
        DType::C32 => DType::F16,
        DType::C64 => DType::F32,
        DType::C128 => DType::F64,
        _ => d,
    }
}

fn int_rank(d: DType) -> (u8, bool) {
    // (bytes, signed)
    match d {
        DType::U8 => (1, false),
        DType::I8 => (1, true),
        DType::I16 => (2, true),
        DType::I32 => (4, true),
        DType::I64 => (8, true),
        DType::U16 => (2, false),
        DType::U32 => (4, false),
        _ => (8, false),
    }
}

fn signed_of_size(bytes: u8) -> DType {
    match bytes {
        1 => DType::I8,
        2 => DType::I16,
        4 => DType::I32,
        _ => DType::I64,
    }
}

/// `torch.promote_types(a, b)`: the smallest type both convert to without losing category.
/// Errors where PyTorch refuses (float8 with another type, `uint16/32/64` with another type
/// except floating ones).
pub fn promote_types(a: DType, b: DType) -> Result<DType, String> {
    if a == b {
        return Ok(a);
    }
    if is_float8(a) || is_float8(b) {
        return Err(format!(
            "promotion of float8 types is not supported ({a}, {b})"
        ));
    }
    if (is_barebones_unsigned(a) || is_barebones_unsigned(b)) && !(a.is_float() || b.is_float()) {
        return Err(format!(
            "promotion for uint16, uint32, uint64 types is not supported ({a}, {b})"
        ));
    }
    use Category::*;
    let (ca, cb) = (a.category(), b.category());
    Ok(match (ca, cb) {
        (Bool, _) => b,
        (_, Bool) => a,
        (Integral, Integral) => {
            let ((sa, ga), (sb, gb)) = (int_rank(a), int_rank(b));
            if ga == gb {
                if sa >= sb {
                    a
                } else {
                    b
                }
            } else {
                // Mixed signedness (u8 with a signed type): the signed type that holds both.
                let (us, ss) = if ga { (sb, sa) } else { (sa, sb) };
                signed_of_size(if ss > us { ss } else { (us * 2).min(8) })
            }
        }
        (Integral, _) => b,
        (_, Integral) => a,
        (Floating, Floating) => match (a, b) {
            (DType::F16, DType::BF16) | (DType::BF16, DType::F16) => DType::F32,
            _ => {
                if a.itemsize() >= b.itemsize() {
                    a
                } else {
                    b
                }
            }
        },
        (Complex, Complex) => {
            if a.itemsize() >= b.itemsize() {
                a
            } else {
                b
            }
        }
        (Complex, Floating) | (Floating, Complex) => {
            let (c, f) = if ca == Complex { (a, b) } else { (b, a) };
            let real = promote_types(to_real(c), f)?;
            to_complex(real)
        }
    })
}

fn combine_categories(
    higher: Option<DType>,
    lower: Option<DType>,
) -> Result<Option<DType>, String> {
    let Some(h) = higher else { return Ok(lower) };
    let Some(l) = lower else { return Ok(Some(h)) };
    if h.is_complex() {
        return Ok(Some(h));
    }
    if l.is_complex() {
        // Keep the precision of a floating higher class.
        return Ok(Some(if h.is_float() { to_complex(h) } else { l }));
    }
    if h.is_float() {
        return Ok(Some(h));
    }
    if h == DType::Bool || l.is_float() {
        return promote_types(h, l).map(Some);
    }
    Ok(Some(h))
}

/// `torch.result_type` over operands. Errors when there is no operand or PyTorch refuses a pair.
pub fn result_type(operands: &[Operand]) -> Result<DType, String> {
    let (mut dim, mut zero, mut wrapped): (Option<DType>, Option<DType>, Option<DType>) =
        (None, None, None);
    let upd = |slot: &mut Option<DType>, d: DType| -> Result<(), String> {
        *slot = Some(match *slot {
            None => d,
            Some(c) => promote_types(c, d)?,
        });
        Ok(())
    };
    for op in operands {
        match *op {
            Operand::Tensor {
                dtype,
                zero_dim: false,
            } => upd(&mut dim, dtype)?,
            Operand::Tensor {
                dtype,
                zero_dim: true,
            } => upd(&mut zero, dtype)?,
            Operand::Scalar(k) => {
                let d = match k {
                    ScalarKind::Bool => DType::Bool,
                    ScalarKind::Int => DType::I64,
                    ScalarKind::Float => DEFAULT_FLOAT,
                    ScalarKind::Complex => DEFAULT_COMPLEX,
                };
                upd(&mut wrapped, d)?
            }
        }
    }
    combine_categories(dim, combine_categories(zero, wrapped)?)?
        .ok_or_else(|| "type promotion of no operands".to_string())
}

/// How an elementwise op derives its result dtype from the promoted operand type, as in
/// `torch._prims_common.ELEMENTWISE_TYPE_PROMOTION_KIND`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PromotionKind {
    /// The promoted type.
    Default,
    /// Integral and bool results become the default float (`sin`, true `div`).
    IntToFloat,
    /// Always `bool` (comparisons, `isnan`, logical ops).
    AlwaysBool,
    /// Complex results become their real type (`abs`).
    ComplexToFloat,
    /// Bool becomes `i64` (`neg`-like ops on bool are errors in PyTorch; kept for `pow`).
    BoolToLong,
    /// Like [`PromotionKind::IntToFloat`], then complex to real (`angle`).
    IntToFloatComplexToFloat,
}

/// The result dtype of an elementwise op of `kind` over promoted type `d`.
pub fn apply_kind(kind: PromotionKind, d: DType) -> DType {
    match kind {
        PromotionKind::Default => d,
        PromotionKind::IntToFloat => {
            if d.is_integral() || d == DType::Bool {
                DEFAULT_FLOAT
            } else {
                d
            }
        }
        PromotionKind::AlwaysBool => DType::Bool,
        PromotionKind::ComplexToFloat => to_real(d),
        PromotionKind::BoolToLong => {
            if d == DType::Bool {
                DType::I64
            } else {
                d
            }
        }
        PromotionKind::IntToFloatComplexToFloat => {
            to_real(apply_kind(PromotionKind::IntToFloat, d))
        }
    }
}

/// Known value ranges of symbols, used to decide whether a symbolic dim can be 1 when
/// broadcasting. Inference gets it from the program's symbol table.
pub trait SymRanges {
    /// Inclusive `(min, max)` of a symbol, `None` for unbounded sides or unknown symbols.
    fn range(&self, sym: &str) -> (Option<i64>, Option<i64>);
}

/// No range information.
pub struct NoRanges;
impl SymRanges for NoRanges {
    fn range(&self, _: &str) -> (Option<i64>, Option<i64>) {
        (None, None)
    }
}

/// Inclusive bounds of a dim by interval arithmetic over its polynomial form; atoms other than
/// symbols (`FloorDiv`, `Min`...) are unbounded, except that sizes are never negative.
pub fn dim_bounds(d: &Dim, ranges: &dyn SymRanges) -> (Option<i64>, Option<i64>) {
    if let Some(c) = d.as_const() {
        return (Some(c), Some(c));
    }
    let mut lo = Some(d.constant_term() as i128);
    let mut hi = Some(d.constant_term() as i128);
    for (m, c) in d.terms() {
        // Bounds of the monomial (product of atoms, each at least 0 as a size).
        let (mut mlo, mut mhi): (Option<i128>, Option<i128>) = (Some(1), Some(1));
        for (a, e) in m {
            let (alo, ahi) = match a {
                crate::dim::Atom::Sym(s) => ranges.range(s),
                _ => (None, None),
            };
            let alo = alo.unwrap_or(0).max(0) as i128;
            for _ in 0..*e {
                mlo = mlo.map(|x| x * alo);
                mhi = match (mhi, ahi) {
                    (Some(x), Some(y)) => Some(x * (y.max(0) as i128)),
                    _ => None,
                };
            }
        }
        let c = *c as i128;
        let (tlo, thi) = if c >= 0 {
            (mlo.map(|x| x * c), mhi.map(|x| x * c))
        } else {
            (mhi.map(|x| x * c), mlo.map(|x| x * c))
        };
        lo = lo.zip(tlo).map(|(a, b)| a + b);
        hi = hi.zip(thi).map(|(a, b)| a + b);
    }
    let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    (lo.map(clamp), hi.map(clamp))
}

/// Broadcasts one pair of dims (already aligned from the right).
///
/// Equal expressions agree; a constant 1 yields the other; a symbolic dim against a constant
/// `N > 1` is `N` (PyTorch guards the symbol equal to `N`); two different symbolic dims agree only
/// when one is provably 1 by the symbol ranges. Anything else is an error.
pub fn broadcast_dim(a: &Dim, b: &Dim, ranges: &dyn SymRanges) -> Result<Dim, String> {
    if a == b {
        return Ok(a.clone());
    }
    let one = |d: &Dim| d.as_const() == Some(1) || dim_bounds(d, ranges) == (Some(1), Some(1));
    if one(a) {
        return Ok(b.clone());
    }
    if one(b) {
        return Ok(a.clone());
    }
    match (a.as_const(), b.as_const()) {
        (Some(x), Some(y)) => Err(format!("cannot broadcast {x} with {y}")),
        (Some(_), None) => Ok(a.clone()),
        (None, Some(_)) => Ok(b.clone()),
        (None, None) => Err(format!(
            "cannot broadcast symbolic dims {a} and {b}: neither is provably 1"
        )),
    }
}

/// Broadcasts shapes by NumPy's rule (align from the right, 1 stretches).
pub fn broadcast_shapes(shapes: &[&[Dim]], ranges: &dyn SymRanges) -> Result<Shape, String> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out: Shape = (0..rank).map(|_| Dim::constant(1)).collect();
    for s in shapes {
        let off = rank - s.len();
        for (i, d) in s.iter().enumerate() {
            out[off + i] = broadcast_dim(&out[off + i], d, ranges).map_err(|e| {
                format!(
                    "{e} (shapes {})",
                    shapes
                        .iter()
                        .map(|s| format!(
                            "[{}]",
                            s.iter()
                                .map(|d| d.to_string())
                                .collect::<Vec<_>>()
                                .join(",")
                        ))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            })?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promote_table_spots() {
        assert_eq!(promote_types(DType::U8, DType::I8), Ok(DType::I16));
        assert_eq!(promote_types(DType::U8, DType::I32), Ok(DType::I32));
        assert_eq!(promote_types(DType::BF16, DType::F16), Ok(DType::F32));
        assert_eq!(promote_types(DType::C32, DType::F32), Ok(DType::C64));
        assert_eq!(promote_types(DType::C64, DType::F64), Ok(DType::C128));
        assert_eq!(promote_types(DType::U16, DType::F32), Ok(DType::F32));
        assert!(promote_types(DType::U16, DType::I8).is_err());
        assert!(promote_types(DType::U16, DType::Bool).is_err());
        assert!(promote_types(DType::F8E4M3FN, DType::F32).is_err());
        assert_eq!(promote_types(DType::Bool, DType::F16), Ok(DType::F16));
    }
}
