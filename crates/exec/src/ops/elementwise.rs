//! Pointwise kernels: unary math and activations, binary arithmetic and comparisons,
//! `where`, `masked_fill`, `clamp`.

use super::{one, KResult, KernelTable};
use crate::interp::{CallArgs, RunResult, Value};
use crate::kernels::elementwise as ew;
use crate::tensor::{Scalar, Tensor};

type Unary = fn(&Tensor) -> crate::Result<Tensor>;
type Binary = fn(&Tensor, &Tensor) -> crate::Result<Tensor>;

fn unary(f: Unary) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| one(f(c.tensor("self")?), c)
}

/// The operands `self` and `other` of a binary op as tensors: a Python scalar operand (the
/// `.Scalar` overloads, SymInt arithmetic exported as `sub.Tensor(1, x)`) becomes a 0-dim
/// tensor that promotes like the scalar against the other operand.
pub(crate) fn operands(c: &CallArgs<'_>, lhs: &str, rhs: &str) -> RunResult<(Tensor, Tensor)> {
    match (c.value(lhs)?, c.value(rhs)?) {
        (Value::Tensor(a), Value::Tensor(b)) => Ok((a.clone(), b.clone())),
        (Value::Tensor(a), _) => Ok((a.clone(), ew::scalar_operand(a, c.scalar(rhs)?))),
        (_, Value::Tensor(b)) => Ok((ew::scalar_operand(b, c.scalar(lhs)?), b.clone())),
        _ => {
            let (x, y) = (c.scalar(lhs)?, c.scalar(rhs)?);
            let dt = crate::promote::promote_types(
                crate::promote::scalar_dtype(x),
                crate::promote::scalar_dtype(y),
            );
            Ok((Tensor::from_scalar(x, dt), Tensor::from_scalar(y, dt)))
        }
    }
}

fn binary(f: Binary) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| {
        let (a, b) = operands(c, "self", "other")?;
        one(f(&a, &b), c)
    }
}

/// The overloads of a binary op over tensors and scalars: `.Tensor`, `.Scalar` and, when
/// present, `.Scalar_Tensor` (Python number `self`).
fn tensor_scalar(base: &str, scalar_tensor: bool) -> Vec<String> {
    let mut v = vec![format!("aten.{base}.Tensor"), format!("aten.{base}.Scalar")];
    if scalar_tensor {
        v.push(format!("aten.{base}.Scalar_Tensor"));
    }
    v
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

pub(crate) fn register(t: &mut KernelTable) {
    let unaries: &[(&str, Unary)] = &[
        ("aten.neg.default", ew::neg),
        ("aten.abs.default", ew::abs),
        ("aten.relu.default", ew::relu),
        ("aten.exp.default", ew::exp),
        ("aten.exp2.default", ew::exp2),
        ("aten.log.default", ew::log),
        ("aten.log2.default", ew::log2),
        ("aten.log10.default", ew::log10),
        ("aten.log1p.default", ew::log1p),
        ("aten.expm1.default", ew::expm1),
        ("aten.sqrt.default", ew::sqrt),
        ("aten.rsqrt.default", ew::rsqrt),
        ("aten.sin.default", ew::sin),
        ("aten.cos.default", ew::cos),
        ("aten.tan.default", ew::tan),
        ("aten.asin.default", ew::asin),
        ("aten.acos.default", ew::acos),
        ("aten.atan.default", ew::atan),
        ("aten.sinh.default", ew::sinh),
        ("aten.cosh.default", ew::cosh),
        ("aten.tanh.default", ew::tanh),
        ("aten.erf.default", ew::erf),
        ("aten.erfc.default", ew::erfc),
        ("aten.lgamma.default", ew::lgamma),
        ("aten.asinh.default", ew::asinh),
        ("aten.acosh.default", ew::acosh),
        ("aten.atanh.default", ew::atanh),
        ("aten.sigmoid.default", ew::sigmoid),
        ("aten.reciprocal.default", ew::reciprocal),
        ("aten.silu.default", ew::silu),
        ("aten.mish.default", ew::mish),
        ("aten.hardswish.default", ew::hardswish),
        ("aten.hardsigmoid.default", ew::hardsigmoid),
        ("aten.floor.default", ew::floor),
        ("aten.ceil.default", ew::ceil),
        ("aten.trunc.default", ew::trunc),
        ("aten.sign.default", ew::sign),
        ("aten.square.default", ew::square),
        ("aten.logical_not.default", ew::logical_not),
        ("aten.isnan.default", ew::isnan),
        ("aten.isinf.default", ew::isinf),
        ("aten.isfinite.default", ew::isfinite),
        ("aten.bitwise_not.default", ew::bitwise_not),
        ("aten.round.default", ew::round),
    ];
    for &(name, f) in unaries {
        t.add_with_inplace(&[name], unary(f));
    }
    t.add_with_inplace(&["aten.round.decimals"], |c| {
        let x = c.tensor("self")?;
        match c.int("decimals")? {
            0 => one(ew::round(x), c),
            d => one(ew::round_decimals(x, d), c),
        }
    });
    t.add_with_inplace(&["aten.gelu.default"], |c| {
        one(ew::gelu(c.tensor("self")?, c.str("approximate")?), c)
    });
    t.add_with_inplace(&["aten.leaky_relu.default"], |c| {
        one(
            ew::leaky_relu(c.tensor("self")?, c.float("negative_slope")?),
            c,
        )
    });
    t.add_with_inplace(&["aten.elu.default"], |c| {
        one(
            ew::elu(
                c.tensor("self")?,
                c.float("alpha")?,
                c.float("scale")?,
                c.float("input_scale")?,
            ),
            c,
        )
    });
    t.add("aten.softplus.default", |c| {
        one(
            ew::softplus(c.tensor("self")?, c.float("beta")?, c.float("threshold")?),
            c,
        )
    });
    t.add_with_inplace(&["aten.hardtanh.default"], |c| {
        one(
            ew::hardtanh(c.tensor("self")?, c.float("min_val")?, c.float("max_val")?),
            c,
        )
    });
    t.add_with_inplace(&["aten.relu6.default"], |c| {
        one(ew::hardtanh(c.tensor("self")?, 0.0, 6.0), c)
    });

    // ---- binary arithmetic
    type WithAlpha = fn(&Tensor, &Tensor, Scalar) -> crate::Result<Tensor>;
    for (base, f) in [
        ("add", ew::add as WithAlpha),
        ("sub", ew::sub),
        ("rsub", ew::rsub),
    ] {
        let names = tensor_scalar(base, false);
        t.add_with_inplace(&strs(&names), move |c| {
            let (a, b) = operands(c, "self", "other")?;
            one(f(&a, &b, c.scalar("alpha")?), c)
        });
    }
    t.add_with_inplace(&strs(&tensor_scalar("mul", false)), binary(ew::mul));
    t.add_with_inplace(&strs(&tensor_scalar("div", false)), binary(ew::div));
    t.add_with_inplace(&["aten.div.Tensor_mode", "aten.div.Scalar_mode"], |c| {
        let (a, b) = operands(c, "self", "other")?;
        one(ew::div_mode(&a, &b, c.opt_str("rounding_mode")?), c)
    });
    t.add_with_inplace(
        &["aten.floor_divide.default", "aten.floor_divide.Scalar"],
        binary(ew::floor_divide),
    );
    t.add("aten.floor_divide_.Tensor", binary(ew::floor_divide));
    let families: &[(&str, bool, Binary)] = &[
        ("remainder", true, ew::remainder),
        ("fmod", false, ew::fmod),
        ("eq", false, ew::eq),
        ("ne", false, ew::ne),
        ("lt", false, ew::lt),
        ("le", false, ew::le),
        ("gt", false, ew::gt),
        ("ge", false, ew::ge),
        ("bitwise_and", true, ew::bitwise_and),
        ("bitwise_or", true, ew::bitwise_or),
        ("bitwise_xor", true, ew::bitwise_xor),
    ];
    for &(base, st, f) in families {
        t.add_with_inplace(&strs(&tensor_scalar(base, st)), binary(f));
    }
    for (base, dunder, f) in [
        (
            "bitwise_left_shift",
            "__lshift__",
            ew::bitwise_left_shift as Binary,
        ),
        ("bitwise_right_shift", "__rshift__", ew::bitwise_right_shift),
    ] {
        let names = [
            format!("aten.{base}.Tensor"),
            format!("aten.{base}.Tensor_Scalar"),
            format!("aten.{base}.Scalar_Tensor"),
            format!("aten.{dunder}.Tensor"),
            format!("aten.{dunder}.Scalar"),
        ];
        t.add_with_inplace(&strs(&names), binary(f));
    }
    let plain: &[(&str, Binary)] = &[
        ("aten.maximum.default", ew::maximum),
        ("aten.minimum.default", ew::minimum),
        ("aten.atan2.default", ew::atan2),
        ("aten.gcd.default", ew::gcd),
        ("aten.lcm.default", ew::lcm),
        ("aten.logical_and.default", ew::logical_and),
        ("aten.logical_or.default", ew::logical_or),
        ("aten.logical_xor.default", ew::logical_xor),
        ("aten.max.other", ew::maximum),
        ("aten.min.other", ew::minimum),
    ];
    for &(name, f) in plain {
        t.add_with_inplace(&[name], binary(f));
    }
    t.add_all(&["aten.pow.Tensor_Tensor", "aten.pow_.Tensor"], |c| {
        one(ew::pow(c.tensor("self")?, c.tensor("exponent")?), c)
    });
    t.add_all(&["aten.pow.Tensor_Scalar", "aten.pow_.Scalar"], |c| {
        one(ew::pow_scalar(c.tensor("self")?, c.scalar("exponent")?), c)
    });
    t.add("aten.pow.Scalar", |c| {
        one(
            ew::pow_scalar_base(c.scalar("self")?, c.tensor("exponent")?),
            c,
        )
    });

    // ---- selection
    t.add_all(
        &[
            "aten.where.self",
            "aten.where.ScalarOther",
            "aten.where.ScalarSelf",
            "aten.where.Scalar",
        ],
        |c| {
            let (a, b) = operands(c, "self", "other")?;
            one(ew::where_(c.tensor("condition")?, &a, &b), c)
        },
    );
    t.add_with_inplace(&["aten.masked_fill.Scalar"], |c| {
        let (x, mask) = (c.tensor("self")?, c.tensor("mask")?);
        one(ew::masked_fill(x, mask, c.scalar("value")?), c)
    });
    t.add_with_inplace(&["aten.masked_fill.Tensor"], |c| {
        let (x, mask) = (c.tensor("self")?, c.tensor("mask")?);
        one(ew::masked_fill_tensor(x, mask, c.tensor("value")?), c)
    });
    t.add_with_inplace(&["aten.clamp.default", "aten.clip.default"], |c| {
        let x = c.tensor("self")?;
        one(ew::clamp(x, c.opt_scalar("min")?, c.opt_scalar("max")?), c)
    });
    t.add_with_inplace(&["aten.clamp.Tensor", "aten.clip.Tensor"], |c| {
        let x = c.tensor("self")?;
        one(
            ew::clamp_tensor(x, c.opt_tensor("min")?, c.opt_tensor("max")?),
            c,
        )
    });
    t.add_with_inplace(&["aten.clamp_min.default"], |c| {
        one(
            ew::clamp(c.tensor("self")?, Some(c.scalar("min")?), None),
            c,
        )
    });
    t.add_with_inplace(&["aten.clamp_max.default"], |c| {
        one(
            ew::clamp(c.tensor("self")?, None, Some(c.scalar("max")?)),
            c,
        )
    });
    t.add_with_inplace(&["aten.clamp_min.Tensor"], |c| {
        one(
            ew::clamp_tensor(c.tensor("self")?, Some(c.tensor("min")?), None),
            c,
        )
    });
    t.add_with_inplace(&["aten.clamp_max.Tensor"], |c| {
        one(
            ew::clamp_tensor(c.tensor("self")?, None, Some(c.tensor("max")?)),
            c,
        )
    });
}
