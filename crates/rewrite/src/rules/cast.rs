//! Cast chains: `cast(cast(x, a), b)` → `cast(x, b)` when the first cast is lossless, and casts
//! to the input's own dtype.

use super::{arg, arg_class, call_kw, call_of, dtype, find, l, v, Build, Rule};
use crate::egraph::{TNode, EG};
use egg::Id;
use trtfx_ir::{Arg, DType};

/// The family's rules.
pub const RULES: &[Rule] = &[
    Rule {
        name: "cast-cast",
        soundness: "cast(cast(x, a), b) = cast(x, b) when every value of x's dtype is exactly representable in a (the first cast is lossless); f32→f16→f32 or i64→i32→i64 are refused",
        roots: CASTS,
        matcher: cast_cast,
    },
    Rule {
        name: "cast-noop",
        soundness: "a cast to the input's own dtype (no memory-format change) returns the input's values",
        roots: CASTS,
        matcher: cast_noop,
    },
];

const CASTS: &[&str] = &[
    "aten._to_copy.default",
    "aten.to.dtype",
    "prims.convert_element_type.default",
];

/// The input class and target dtype of a plain dtype cast (no layout, device or memory-format
/// change).
fn cast_of(eg: &EG, n: &TNode) -> Option<(Id, DType)> {
    let (target, args, kwargs) = call_of(eg, n)?;
    let x = arg_class(eg, n, 0, "self").or_else(|| arg_class(eg, n, 0, "a"))?;
    let dt = match target {
        "aten._to_copy.default" => {
            let neutral = kwargs.iter().all(|(k, a)| match k.as_str() {
                "dtype" => true,
                "layout" | "device" | "pin_memory" | "non_blocking" => true,
                "memory_format" => matches!(a, Arg::None)
                    || matches!(a, Arg::MemoryFormat(m) if m == "preserve_format" || m == "contiguous_format"),
                _ => false,
            });
            if !neutral || args.len() != 1 {
                return None;
            }
            match arg(eg, n, 99, "dtype")? {
                Arg::DType(d) => *d,
                _ => return None,
            }
        }
        "aten.to.dtype" => {
            if args.len() > 4 || kwargs.iter().any(|(k, _)| k == "memory_format") {
                return None;
            }
            match arg(eg, n, 1, "dtype")? {
                Arg::DType(d) => *d,
                _ => return None,
            }
        }
        "prims.convert_element_type.default" => match arg(eg, n, 1, "dtype")? {
            Arg::DType(d) => *d,
            _ => return None,
        },
        _ => return None,
    };
    Some((x, dt))
}

/// Every value of `from` is exactly representable in `to`.
pub fn lossless(from: DType, to: DType) -> bool {
    use DType::*;
    if from == to {
        return true;
    }
    match from {
        Bool => !matches!(to, Bool),
        U8 => matches!(
            to,
            I16 | I32 | I64 | U16 | U32 | U64 | F16 | BF16 | F32 | F64
        ),
        I8 => matches!(to, I16 | I32 | I64 | F16 | BF16 | F32 | F64),
        I16 => matches!(to, I32 | I64 | F32 | F64),
        U16 => matches!(to, I32 | I64 | U32 | U64 | F32 | F64),
        I32 => matches!(to, I64 | F64),
        U32 => matches!(to, I64 | U64 | F64),
        F16 => matches!(to, F32 | F64),
        BF16 => matches!(to, F32 | F64),
        F32 => matches!(to, F64),
        _ => false,
    }
}

/// `cast(cast(x, a), b)` → `_to_copy(x, dtype=b)` when `x.dtype → a` is lossless. Sound: the
/// first cast then changes no value, so the second sees `x`'s values exactly. (A lossy first
/// cast, e.g. f32→f16, rounds and is kept.)
fn cast_cast(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (inner, b) = cast_of(eg, n)?;
    let m = find(eg, inner, CASTS)?;
    let (x, a) = cast_of(eg, m)?;
    let from = dtype(eg, x)?;
    if !lossless(from, a) {
        return None;
    }
    if from == b {
        return Some(Build::Class(x));
    }
    Some(call_kw(
        "aten._to_copy.default",
        vec![v(x)],
        vec![("dtype", l(Arg::DType(b)))],
    ))
}

/// A cast to the input's own dtype → the input. Sound: the values are unchanged.
fn cast_noop(eg: &EG, _c: Id, n: &TNode) -> Option<Build> {
    let (x, b) = cast_of(eg, n)?;
    (dtype(eg, x)? == b).then_some(Build::Class(x))
}
