//! Elementwise operators: broadcasting, type promotion, activations, casts, copies.

use super::{broadcast, t, Call, Rule, ScalarVal, R};
use crate::aten::promote::{apply_kind, result_type, Operand, PromotionKind};
use crate::dim::Dim;
use crate::dtype::DType;
use crate::graph::Arg;
use crate::ops::{BaseType, Schema};
use crate::types::{Shape, Type};

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("where.self", where_self),
    ("where.ScalarSelf", where_self),
    ("where.ScalarOther", where_self),
    ("where.Scalar", where_self),
    ("frexp.Tensor", frexp),
    ("masked_fill", same_as_self),
    ("masked_fill_", same_as_self),
    ("native_dropout", native_dropout),
    ("dropout", same_as_self),
    ("feature_dropout", same_as_self),
    ("alpha_dropout", same_as_self),
    ("clone", same_as_self),
    ("alias", same_as_self),
    ("detach", same_as_self),
    ("lift_fresh_copy", same_as_self),
    ("lift_fresh", same_as_self),
    ("lift", same_as_self),
    ("contiguous", same_as_self),
    ("copy", same_as_self),
    ("fill", same_as_self),
    ("bernoulli", same_as_self),
    ("resolve_conj", same_as_self),
    ("resolve_neg", same_as_self),
    ("_conj", same_as_self),
    ("conj", same_as_self),
    ("relu", same_as_self),
    ("relu6", same_as_self),
    ("gelu", same_as_self),
    ("silu", same_as_self),
    ("mish", same_as_self),
    ("hardswish", same_as_self),
    ("hardsigmoid", same_as_self),
    ("hardtanh", same_as_self),
    ("leaky_relu", same_as_self),
    ("elu", same_as_self),
    ("celu", same_as_self),
    ("selu", same_as_self),
    ("prelu", same_as_self),
    ("_prelu_kernel", same_as_self),
    ("rrelu", same_as_self),
    ("glu", glu),
    ("softplus", same_as_self),
    ("softshrink", same_as_self),
    ("hardshrink", same_as_self),
    ("threshold", same_as_self),
    ("logit", int_to_float_self),
    ("nan_to_num", same_as_self),
    ("round", same_as_self),
    ("_to_copy", to_copy),
    ("to.dtype", to_copy),
    ("to.dtype_layout", to_copy),
    ("to.device", to_copy),
    ("to.other", to_other),
    ("type_as", to_other),
    ("_autocast_to_reduced_precision", same_as_self),
    ("convert_element_type", convert_element_type),
    ("zeros_like", like),
    ("ones_like", like),
    ("empty_like", like),
    ("full_like", like),
    ("rand_like", like),
    ("randn_like", like),
    ("randint_like", like),
    ("softmax.int", softmax),
    ("log_softmax.int", softmax),
    ("_softmax", softmax_half),
    ("_log_softmax", softmax_half),
    ("_safe_softmax", softmax),
    ("cumsum", cumulative),
    ("cumprod", cumulative),
    ("logcumsumexp", same_as_self),
    ("cummax", cum_minmax),
    ("cummin", cum_minmax),
    ("clamp", pointwise_rule),
    ("clip", pointwise_rule),
    ("lerp", pointwise_rule),
    ("addcmul", pointwise_rule),
    ("addcdiv", pointwise_rule),
    ("rsub", pointwise_rule),
    ("floor_divide", pointwise_rule),
    ("true_divide", pointwise_rule),
    ("bitwise_not", pointwise_rule),
    ("logical_not", pointwise_rule),
    ("logical_and", pointwise_rule),
    ("logical_or", pointwise_rule),
    ("logical_xor", pointwise_rule),
    ("isnan", pointwise_rule),
    ("isinf", pointwise_rule),
    ("isfinite", pointwise_rule),
    ("sigmoid", pointwise_rule),
    ("tanh", pointwise_rule),
    ("real", complex_to_real),
    ("imag", complex_to_real),
    ("view_as_real", view_as_real),
];

/// The promotion kind of an elementwise op, by base name (PyTorch's refs declare the same).
pub(crate) fn promotion_kind(base: &str) -> PromotionKind {
    use PromotionKind::*;
    let b = base.trim_end_matches('_');
    match b {
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "isnan" | "isinf" | "isfinite" | "isneginf"
        | "isposinf" | "signbit" | "logical_and" | "logical_or" | "logical_xor" | "logical_not"
        | "isclose" | "isreal" => AlwaysBool,
        "abs" | "absolute" => ComplexToFloat,
        // `square` is `pow(x, 2)`: a bool squared is an int64.
        "square" => BoolToLong,
        "angle" => IntToFloatComplexToFloat,
        "sin" | "cos" | "tan" | "asin" | "acos" | "atan" | "arcsin" | "arccos" | "arctan"
        | "sinh" | "cosh" | "tanh" | "asinh" | "acosh" | "atanh" | "exp" | "exp2" | "expm1"
        | "log" | "log2" | "log10" | "log1p" | "sqrt" | "rsqrt" | "sigmoid" | "erf" | "erfc"
        | "erfinv" | "lgamma" | "digamma" | "polygamma" | "mvlgamma" | "reciprocal" | "atan2"
        | "arctan2" | "logit" | "i0" | "sinc" | "deg2rad" | "rad2deg" | "true_divide"
        | "logaddexp" | "logaddexp2" | "hypot" | "igamma" | "igammac" | "xlogy" | "erfcx"
        | "nextafter" | "copysign" | "ldexp" => IntToFloat,
        b if b.starts_with("special_") => IntToFloat,
        _ => Default,
    }
}

/// Names of scalar arguments that are coefficients, not operands of promotion.
fn is_coefficient(name: &str) -> bool {
    matches!(
        name,
        "alpha" | "beta" | "value" | "negative_slope" | "decimals" | "rounding_mode" | "n"
    )
}

/// The generic rule for ops without an explicit one: pointwise-tagged functional ops promote
/// and broadcast; in-place ops (`add_`) and `out=` variants return the type of the argument
/// they write.
pub(crate) fn generic_rule(
    base: &str,
    overload: &str,
    schema: &Schema,
    tags: &[&str],
) -> Option<Rule> {
    let writes_self = schema
        .args
        .first()
        .is_some_and(|a| a.mutable && a.name == "self");
    let has_out = schema.args.iter().any(|a| a.mutable && a.kwarg_only);
    let single_tensor_return = schema.returns.len() == 1
        && schema.returns[0].base == BaseType::Tensor
        && schema.returns[0].list.is_none();
    if writes_self && single_tensor_return {
        return Some(same_as_self);
    }
    if has_out && overload.contains("out") {
        // Results are the written arguments, in order.
        return Some(out_args);
    }
    let _ = base;
    if tags.contains(&"pointwise") && single_tensor_return {
        return Some(pointwise_rule);
    }
    None
}

fn out_args(c: &Call) -> R {
    let mut out = Vec::new();
    for a in &c.schema.args {
        if a.mutable && a.kwarg_only {
            out.push(Type::Tensor(c.tensor(&a.name)?));
        }
    }
    Ok(out)
}

/// Result of a promoting elementwise op: broadcast shape of tensor operands, `result_type`
/// over tensor and scalar operands, then the op's promotion kind.
pub(crate) fn pointwise_rule(c: &Call) -> R {
    let mut shapes: Vec<Shape> = Vec::new();
    let mut operands = Vec::new();
    for (i, sa) in c.schema.args.iter().enumerate() {
        if sa.kwarg_only && sa.mutable {
            continue;
        }
        let Some(a) = c.nth(i) else { continue };
        if *a == Arg::None {
            continue;
        }
        match (&sa.ty.base, sa.ty.list) {
            (BaseType::Tensor, None) => match super::as_tensor(c, a) {
                Some(tt) => {
                    operands.push(Operand::tensor(tt.dtype, tt.rank()));
                    shapes.push(tt.shape);
                }
                // Export passes Python numbers to Tensor parameters (`x + 1.5` is
                // `add.Tensor(x, 1.5)`); they promote as wrapped scalars.
                None => {
                    let s = super::scalar_of(c, a)
                        .ok_or_else(|| format!("argument `{}` is not a tensor", sa.name))?;
                    operands.push(Operand::Scalar(s.kind()));
                }
            },
            (BaseType::Scalar, None) if !is_coefficient(&sa.name) => {
                // A 0-dim tensor passed where a Scalar is expected still counts as a scalar.
                match super::scalar_of(c, a) {
                    Some(s) => operands.push(Operand::Scalar(s.kind())),
                    None => {
                        if let Some(tt) = super::as_tensor(c, a) {
                            operands.push(Operand::tensor(tt.dtype, tt.rank()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if operands.is_empty() {
        return Err("no tensor or scalar operands".into());
    }
    let refs: Vec<&[Dim]> = shapes.iter().map(|s| &s[..]).collect();
    let shape = broadcast(&refs)?;
    let mut dtype = result_type(&operands)?;
    let base = c.base();
    let kind = match (base.trim_end_matches('_'), c.opt_str("rounding_mode")) {
        // `div` without rounding mode is true division.
        ("div", None) => PromotionKind::IntToFloat,
        (b, _) => promotion_kind(b),
    };
    dtype = apply_kind(kind, dtype);
    Ok(vec![t(dtype, shape)])
}

fn same_as_self(c: &Call) -> R {
    let name = &c.schema.args.first().ok_or("no arguments")?.name;
    Ok(vec![Type::Tensor(c.tensor(name)?)])
}

fn int_to_float_self(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![t(
        apply_kind(PromotionKind::IntToFloat, x.dtype),
        x.shape,
    )])
}

fn complex_to_real(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![t(crate::aten::promote::to_real(x.dtype), x.shape)])
}

fn view_as_real(c: &Call) -> R {
    let x = c.tensor("self")?;
    let mut s = x.shape;
    s.push(Dim::constant(2));
    Ok(vec![t(crate::aten::promote::to_real(x.dtype), s)])
}

fn glu(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = super::norm_dim(c.opt_int("dim")?.unwrap_or(-1), x.rank())?;
    let mut s = x.shape;
    s[d] = super::div_dim(&s[d], &Dim::constant(2));
    Ok(vec![t(x.dtype, s)])
}

fn where_self(c: &Call) -> R {
    let cond = c.tensor("condition")?;
    let mut shapes = vec![cond.shape.clone()];
    let mut ops = Vec::new();
    for name in ["self", "other"] {
        let tensor = match c.arg_base(name) {
            Some(BaseType::Tensor) => c.opt_tensor(name).ok().flatten(),
            _ => None,
        };
        match tensor {
            Some(x) => {
                ops.push(Operand::tensor(x.dtype, x.rank()));
                shapes.push(x.shape);
            }
            None => {
                let s = c.scalar(name).ok_or_else(|| format!("bad `{name}`"))?;
                ops.push(Operand::Scalar(s.kind()));
            }
        }
    }
    let refs: Vec<&[Dim]> = shapes.iter().map(|s| &s[..]).collect();
    Ok(vec![t(result_type(&ops)?, broadcast(&refs)?)])
}

fn native_dropout(c: &Call) -> R {
    let x = c.tensor("input")?;
    Ok(vec![t(x.dtype, x.shape.clone()), t(DType::Bool, x.shape)])
}

fn to_copy(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = c.opt_dtype("dtype")?.unwrap_or(x.dtype);
    Ok(vec![t(d, x.shape)])
}

fn to_other(c: &Call) -> R {
    let x = c.tensor("self")?;
    let o = c.tensor("other")?;
    Ok(vec![t(o.dtype, x.shape)])
}

fn convert_element_type(c: &Call) -> R {
    let x = c.tensor("a")?;
    let d = c.opt_dtype("dtype")?.ok_or("missing dtype")?;
    Ok(vec![t(d, x.shape)])
}

fn like(c: &Call) -> R {
    let x = c.tensor("self")?;
    let mut d = c.opt_dtype("dtype")?;
    if d.is_none() && c.base() == "full_like" {
        // full_like keeps self's dtype unless given one (the fill value does not matter).
        d = Some(x.dtype);
    }
    Ok(vec![t(d.unwrap_or(x.dtype), x.shape)])
}

fn softmax(c: &Call) -> R {
    let x = c.tensor("self")?;
    super::norm_dim(c.int("dim")?, x.rank())?;
    let d = c.opt_dtype("dtype")?.unwrap_or(x.dtype);
    Ok(vec![t(d, x.shape)])
}

fn softmax_half(c: &Call) -> R {
    let x = c.tensor("self")?;
    super::norm_dim(c.int("dim")?, x.rank())?;
    let d = if c.bool_or("half_to_float", false) && x.dtype == DType::F16 {
        DType::F32
    } else {
        x.dtype
    };
    Ok(vec![t(d, x.shape)])
}

/// `cumsum`/`cumprod`: integral and bool inputs accumulate in `i64` unless a dtype is given.
fn cumulative(c: &Call) -> R {
    let x = c.tensor("self")?;
    super::norm_dim(c.int("dim")?, x.rank())?;
    let d = match c.opt_dtype("dtype")? {
        Some(d) => d,
        None if x.dtype.is_integral() || x.dtype == DType::Bool => DType::I64,
        None => x.dtype,
    };
    Ok(vec![t(d, x.shape)])
}

fn cum_minmax(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![t(x.dtype, x.shape.clone()), t(DType::I64, x.shape)])
}

/// Scalar values of `Scalar` arguments, used by factories (`full`'s fill value).
pub(crate) fn scalar_dtype(s: &ScalarVal) -> DType {
    match s {
        ScalarVal::Int(_) => DType::I64,
        ScalarVal::Float(_) => crate::aten::promote::DEFAULT_FLOAT,
        ScalarVal::Bool => DType::Bool,
        ScalarVal::Complex => crate::aten::promote::DEFAULT_COMPLEX,
    }
}

/// `frexp`: the mantissa in `self`'s type and int32 exponents of its shape.
fn frexp(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![t(x.dtype, x.shape.clone()), t(DType::I32, x.shape)])
}
