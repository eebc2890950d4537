//! Elementwise families: arithmetic with ATen promotion, comparisons, logic, `where`, unary
//! math and activations.

use trtfx_ir::aten::{result_type, Operand, ScalarKind};
use trtfx_ir::{Arg, DType, Type};

use super::{trt_dtype, CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{Activation, ElementWiseOp as E, TensorId, TrtDataType, UnaryOp as U};

/// Validator helper: the first result must be a floating-point tensor.
pub(super) fn float_result(a: &NodeArgs<'_>) -> Result<(), String> {
    let t = a.result_tensor(0)?;
    if !t.dtype.is_float() {
        return Err(format!(
            "{}: {} results are not supported (TensorRT has this layer for floats only)",
            a.op, t.dtype
        ));
    }
    Ok(())
}

/// Validator helper: an in-place op (one whose schema writes an argument, `Tensor(a!)`) may
/// be converted out of place only when no later node reads the tensor it overwrote.
pub(super) fn inplace_ok(a: &NodeArgs<'_>) -> Result<(), String> {
    for name in a.mutated() {
        if a.used_after(name)? {
            return Err(format!(
                "{}: in-place op whose input is read afterwards (run functionalization)",
                a.op
            ));
        }
    }
    Ok(())
}

/// The `rounding_mode` of the division overloads that have one (`None`: true division).
fn rounding_mode<'n>(a: &'n NodeArgs<'_>) -> Result<Option<&'n str>, String> {
    if a.has("rounding_mode") {
        a.opt_str("rounding_mode")
    } else {
        Ok(None)
    }
}

fn ok(_: &NodeArgs<'_>) -> Result<(), String> {
    Ok(())
}

/// The promotion operand of argument `name`.
fn promo_operand(a: &NodeArgs<'_>, name: &str) -> Result<Operand, String> {
    Ok(match a.req(name)? {
        Arg::Value(v) => match a.graph.ty(*v) {
            Type::Tensor(t) => Operand::Tensor {
                dtype: t.dtype,
                zero_dim: t.rank() == 0,
            },
            Type::SymInt(_) | Type::Int => Operand::Scalar(ScalarKind::Int),
            Type::SymFloat | Type::Float => Operand::Scalar(ScalarKind::Float),
            Type::SymBool | Type::Bool => Operand::Scalar(ScalarKind::Bool),
            t => return Err(format!("{}: `{name}` of type {t} is not a number", a.op)),
        },
        Arg::Int(_) => Operand::Scalar(ScalarKind::Int),
        Arg::Float(_) => Operand::Scalar(ScalarKind::Float),
        Arg::Bool(_) => Operand::Scalar(ScalarKind::Bool),
        x => return Err(format!("{}: `{name}` = {x} is not a number", a.op)),
    })
}

/// Converts an operand argument to a tensor of `dt` with the result's rank.
fn operand(
    ctx: &mut ConvertCtx<'_>,
    a: &NodeArgs<'_>,
    name: &str,
    dt: TrtDataType,
    rank: usize,
) -> CResult<TensorId> {
    let s = ctx.arg_slot(a.req(name)?)?;
    ctx.operand(&s, dt, rank)
}

fn result_dt(a: &NodeArgs<'_>) -> CResult<(TrtDataType, usize)> {
    let t = a.result_tensor(0)?;
    Ok((trt_dtype(t.dtype)?, t.rank()))
}

fn one(t: TensorId) -> CResult<Vec<Slot>> {
    Ok(vec![Slot::Tensor(t)])
}

/// trunc for floats: sign(x) * floor(|x|).
fn trunc_f(ctx: &mut ConvertCtx<'_>, x: TensorId) -> CResult<TensorId> {
    let s = ctx.unary(x, U::Sign)?;
    let m = ctx.unary(x, U::Abs)?;
    let f = ctx.unary(m, U::Floor)?;
    ctx.elementwise(s, f, E::Prod)
}

#[derive(Clone, Copy, PartialEq)]
enum Bin {
    Add,
    Sub,
    Rsub,
    Mul,
    Div,
    Pow,
    Max,
    Min,
    Rem,
    Fmod,
    FloorDivide,
}

fn binary(kind: Bin, lhs: &'static str, rhs: &'static str) -> OpConverter {
    OpConverter::new(
        move |a| {
            let t = a.result_tensor(0)?;
            if t.dtype == DType::Bool {
                // On bools, `add` (alpha 1) is logical or and `mul` logical and, as in
                // PyTorch; the rest have no bool meaning TensorRT can compute.
                let alpha_one = !a.has("alpha") || a.f64("alpha")? == 1.0;
                let ok = matches!(kind, Bin::Max | Bin::Min | Bin::Mul)
                    || (kind == Bin::Add && alpha_one);
                if !ok {
                    return Err(format!("{}: bool arithmetic is not supported", a.op));
                }
            }
            if kind == Bin::Pow && !t.dtype.is_float() {
                return Err(format!(
                    "{}: integer pow is not supported (TensorRT kPOW is float-only)",
                    a.op
                ));
            }
            if let Some(m) = rounding_mode(a)? {
                if m != "floor" && m != "trunc" {
                    return Err(format!("{}: rounding_mode {m:?}", a.op));
                }
            }
            if a.has("alpha") {
                a.f64("alpha")?;
            }
            inplace_ok(a)?;
            Ok(())
        },
        move |ctx, a| {
            let (dt, rank) = result_dt(a)?;
            let x = operand(ctx, a, lhs, dt, rank)?;
            let mut y = operand(ctx, a, rhs, dt, rank)?;
            if dt == TrtDataType::Bool && matches!(kind, Bin::Add | Bin::Mul) {
                let op = if kind == Bin::Add { E::Or } else { E::And };
                return one(ctx.elementwise(x, y, op)?);
            }
            if a.has("alpha") {
                let alpha = a.f64("alpha")?;
                if alpha != 1.0 {
                    let c = ctx.scalar(alpha, dt, rank)?;
                    let target = if kind == Bin::Rsub { x } else { y };
                    let scaled = ctx.elementwise(target, c, E::Prod)?;
                    if kind == Bin::Rsub {
                        return one(ctx.elementwise(y, scaled, E::Sub)?);
                    }
                    y = scaled;
                }
            }
            let float = dt.is_float();
            let out = match kind {
                Bin::Add => ctx.elementwise(x, y, E::Sum)?,
                Bin::Sub => ctx.elementwise(x, y, E::Sub)?,
                Bin::Rsub => ctx.elementwise(y, x, E::Sub)?,
                Bin::Mul => ctx.elementwise(x, y, E::Prod)?,
                Bin::Max => ctx.elementwise(x, y, E::Max)?,
                Bin::Min => ctx.elementwise(x, y, E::Min)?,
                Bin::Pow => ctx.elementwise(x, y, E::Pow)?,
                Bin::Div => match (rounding_mode(a)?, float) {
                    (None, _) => ctx.elementwise(x, y, E::Div)?,
                    (Some("floor"), true) => {
                        let q = ctx.elementwise(x, y, E::Div)?;
                        ctx.unary(q, U::Floor)?
                    }
                    (Some("floor"), false) => ctx.elementwise(x, y, E::FloorDiv)?,
                    (_, true) => {
                        let q = ctx.elementwise(x, y, E::Div)?;
                        trunc_f(ctx, q)?
                    }
                    // TensorRT's integer kDIV truncates toward zero, as trunc division wants.
                    (_, false) => ctx.elementwise(x, y, E::Div)?,
                },
                Bin::FloorDivide => {
                    if float {
                        let q = ctx.elementwise(x, y, E::Div)?;
                        ctx.unary(q, U::Floor)?
                    } else {
                        ctx.elementwise(x, y, E::FloorDiv)?
                    }
                }
                Bin::Rem | Bin::Fmod => {
                    // x - q * y with q = floor(x / y) (Python %) or trunc(x / y) (C fmod).
                    let q = match (kind, float) {
                        (Bin::Rem, true) => {
                            let d = ctx.elementwise(x, y, E::Div)?;
                            ctx.unary(d, U::Floor)?
                        }
                        (Bin::Rem, false) => ctx.elementwise(x, y, E::FloorDiv)?,
                        (_, true) => {
                            let d = ctx.elementwise(x, y, E::Div)?;
                            trunc_f(ctx, d)?
                        }
                        _ => ctx.elementwise(x, y, E::Div)?,
                    };
                    let p = ctx.elementwise(q, y, E::Prod)?;
                    ctx.elementwise(x, p, E::Sub)?
                }
            };
            one(out)
        },
    )
}

#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn compare(kind: Cmp) -> OpConverter {
    let compute = |a: &NodeArgs<'_>| -> Result<DType, String> {
        result_type(&[promo_operand(a, "self")?, promo_operand(a, "other")?])
    };
    OpConverter::new(
        move |a| {
            let d = compute(a)?;
            trt_dtype(d).map(|_| ())
        },
        move |ctx, a| {
            let d = compute(a)?;
            // TensorRT compares numbers, not bools: compare bools as i32.
            let dt = match trt_dtype(d)? {
                TrtDataType::Bool => TrtDataType::Int32,
                t => t,
            };
            let rank = a.result_tensor(0)?.rank();
            let x = operand(ctx, a, "self", dt, rank)?;
            let y = operand(ctx, a, "other", dt, rank)?;
            let out = match kind {
                Cmp::Eq => ctx.elementwise(x, y, E::Equal)?,
                Cmp::Ne => {
                    let e = ctx.elementwise(x, y, E::Equal)?;
                    ctx.unary(e, U::Not)?
                }
                Cmp::Lt => ctx.elementwise(x, y, E::Less)?,
                Cmp::Gt => ctx.elementwise(x, y, E::Greater)?,
                Cmp::Le | Cmp::Ge => {
                    let op = if matches!(kind, Cmp::Le) {
                        E::Less
                    } else {
                        E::Greater
                    };
                    let s = ctx.elementwise(x, y, op)?;
                    let e = ctx.elementwise(x, y, E::Equal)?;
                    ctx.elementwise(s, e, E::Or)?
                }
            };
            one(out)
        },
    )
}

/// Logical ops, and the bitwise ops (`bitwise = true`) on bools, where they are logical.
fn logical(op: Option<E>, bitwise: bool) -> OpConverter {
    OpConverter::new(
        move |a| {
            if bitwise {
                for n in ["self", "other"].into_iter().filter(|n| a.has(n)) {
                    if let Some(Type::Tensor(t)) = a.ty(n)? {
                        if t.dtype != DType::Bool {
                            return Err(format!("{}: bitwise ops on {} tensors", a.op, t.dtype));
                        }
                    }
                }
            }
            Ok(())
        },
        move |ctx, a| {
            let rank = a.result_tensor(0)?.rank();
            let x = ctx.input(a, "self")?;
            let x = to_bool(ctx, x)?;
            let out = match op {
                None => ctx.unary(x, U::Not)?,
                Some(op) => {
                    let y = operand(ctx, a, "other", TrtDataType::Bool, rank)?;
                    let y = to_bool(ctx, y)?;
                    ctx.elementwise(x, y, op)?
                }
            };
            one(out)
        },
    )
}

/// `bitwise_and/or/xor` with a Python scalar on one side: logical on bools (a bool tensor
/// and a bool scalar give a bool result). TensorRT has no integer bitwise layers, so other
/// result types are refused.
fn bitwise_scalar(op: E) -> OpConverter {
    OpConverter::new(
        |a| {
            let t = a.result_tensor(0)?;
            if t.dtype != DType::Bool {
                return Err(format!(
                    "{}: {} result (TensorRT has bitwise ops on bools only)",
                    a.op, t.dtype
                ));
            }
            Ok(())
        },
        move |ctx, a| {
            let rank = a.result_tensor(0)?.rank();
            let x = operand(ctx, a, "self", TrtDataType::Bool, rank)?;
            let y = operand(ctx, a, "other", TrtDataType::Bool, rank)?;
            one(ctx.elementwise(x, y, op)?)
        },
    )
}

/// `atan2(self, other)`: the angle of the point `(other, self)`, from `atan(self / other)`
/// moved into the right quadrant: `+pi` (or `-pi` below the x axis) for `other < 0`, and 0 at
/// the origin, where the quotient is NaN. (Signed zeros and two infinite operands, where
/// PyTorch gives ±pi/4-style angles, are not distinguished.)
fn atan2() -> OpConverter {
    OpConverter::new(float_result, |ctx, a| {
        let (dt, rank) = result_dt(a)?;
        let y = operand(ctx, a, "self", dt, rank)?;
        let x = operand(ctx, a, "other", dt, rank)?;
        let q = ctx.elementwise(y, x, E::Div)?;
        let r = ctx.unary(q, U::Atan)?;
        let zero = ctx.scalar(0.0, dt, rank)?;
        let pi = ctx.scalar(std::f64::consts::PI, dt, rank)?;
        let neg_pi = ctx.scalar(-std::f64::consts::PI, dt, rank)?;
        let y_neg = ctx.elementwise(y, zero, E::Less)?;
        let turn = ctx.select(y_neg, neg_pi, pi)?;
        let turned = ctx.elementwise(r, turn, E::Sum)?;
        let x_neg = ctx.elementwise(x, zero, E::Less)?;
        let r = ctx.select(x_neg, turned, r)?;
        let x0 = ctx.elementwise(x, zero, E::Equal)?;
        let y0 = ctx.elementwise(y, zero, E::Equal)?;
        let origin = ctx.elementwise(x0, y0, E::And)?;
        one(ctx.select(origin, zero, r)?)
    })
}

/// Truthiness as TensorRT bool: `x != 0` (a cast to bool does the same).
fn to_bool(ctx: &mut ConvertCtx<'_>, t: TensorId) -> CResult<TensorId> {
    ctx.cast(t, TrtDataType::Bool)
}

fn where_(cond: &'static str, then: &'static str, other: &'static str) -> OpConverter {
    OpConverter::new(ok, move |ctx, a| {
        let (dt, rank) = result_dt(a)?;
        let c = operand(ctx, a, cond, TrtDataType::Bool, rank)?;
        let x = operand(ctx, a, then, dt, rank)?;
        let y = operand(ctx, a, other, dt, rank)?;
        one(ctx.select(c, x, y)?)
    })
}

#[derive(Clone, Copy)]
enum Un {
    /// A TensorRT unary layer, float-only.
    F(U),
    /// A TensorRT unary layer that also takes ints.
    I(U),
    Rsqrt,
    Log2,
    Log10,
    Log1p,
    Expm1,
    Trunc,
    /// floor/ceil/round: identity on ints.
    Round(U),
    Square,
}

fn unary(kind: Un) -> OpConverter {
    let float_only = matches!(
        kind,
        Un::F(_) | Un::Rsqrt | Un::Log2 | Un::Log10 | Un::Log1p | Un::Expm1
    );
    OpConverter::new(
        move |a| {
            let t = a.result_tensor(0)?;
            if t.dtype == DType::Bool {
                return Err(format!("{}: bool tensors", a.op));
            }
            if float_only && !t.dtype.is_float() {
                return Err(format!("{}: {} result", a.op, t.dtype));
            }
            inplace_ok(a)
        },
        move |ctx, a| {
            let (dt, rank) = result_dt(a)?;
            let x = operand(ctx, a, "self", dt, rank)?;
            let out = match kind {
                Un::F(op) | Un::I(op) => ctx.unary(x, op)?,
                Un::Round(op) => {
                    if dt.is_float() {
                        ctx.unary(x, op)?
                    } else {
                        x
                    }
                }
                Un::Trunc => {
                    if dt.is_float() {
                        trunc_f(ctx, x)?
                    } else {
                        x
                    }
                }
                Un::Rsqrt => {
                    let s = ctx.unary(x, U::Sqrt)?;
                    ctx.unary(s, U::Recip)?
                }
                Un::Log2 | Un::Log10 => {
                    let l = ctx.unary(x, U::Log)?;
                    let base: f64 = if matches!(kind, Un::Log2) { 2.0 } else { 10.0 };
                    let c = ctx.scalar(base.ln(), dt, rank)?;
                    ctx.elementwise(l, c, E::Div)?
                }
                Un::Log1p => {
                    let c = ctx.scalar(1.0, dt, rank)?;
                    let s = ctx.elementwise(x, c, E::Sum)?;
                    ctx.unary(s, U::Log)?
                }
                Un::Expm1 => {
                    let e = ctx.unary(x, U::Exp)?;
                    let c = ctx.scalar(1.0, dt, rank)?;
                    ctx.elementwise(e, c, E::Sub)?
                }
                Un::Square => ctx.elementwise(x, x, E::Prod)?,
            };
            one(out)
        },
    )
}

#[derive(Clone, Copy)]
enum Act {
    Relu,
    Sigmoid,
    Tanh,
    Gelu,
    Silu,
    Hardswish,
    Hardsigmoid,
    LeakyRelu,
    Elu,
    Softplus,
    Hardtanh,
    Relu6,
}

fn activation(kind: Act) -> OpConverter {
    OpConverter::new(
        move |a| {
            inplace_ok(a)?;
            if !matches!(kind, Act::Relu) {
                float_result(a)?;
            }
            match kind {
                Act::Gelu => match a.str("approximate")? {
                    "none" | "tanh" => Ok(()),
                    m => Err(format!("{}: approximate={m:?}", a.op)),
                },
                Act::Elu => {
                    if a.f64("scale")? != 1.0 || a.f64("input_scale")? != 1.0 {
                        Err(format!("{}: scale/input_scale other than 1", a.op))
                    } else {
                        Ok(())
                    }
                }
                _ => Ok(()),
            }
        },
        move |ctx, a| {
            let (dt, rank) = result_dt(a)?;
            let x = operand(ctx, a, "self", dt, rank)?;
            let act = |ctx: &mut ConvertCtx<'_>, act| ctx.activation(x, act);
            let out = match kind {
                Act::Relu => act(ctx, Activation::Relu)?,
                Act::Sigmoid => act(ctx, Activation::Sigmoid)?,
                Act::Tanh => act(ctx, Activation::Tanh)?,
                Act::Gelu => {
                    if a.str("approximate")? == "tanh" {
                        act(ctx, Activation::GeluTanh)?
                    } else {
                        act(ctx, Activation::GeluErf)?
                    }
                }
                Act::Silu => {
                    let s = act(ctx, Activation::Sigmoid)?;
                    ctx.elementwise(x, s, E::Prod)?
                }
                Act::Hardswish => {
                    let s = act(
                        ctx,
                        Activation::HardSigmoid {
                            alpha: 1.0 / 6.0,
                            beta: 0.5,
                        },
                    )?;
                    ctx.elementwise(x, s, E::Prod)?
                }
                Act::Hardsigmoid => act(
                    ctx,
                    Activation::HardSigmoid {
                        alpha: 1.0 / 6.0,
                        beta: 0.5,
                    },
                )?,
                Act::LeakyRelu => act(
                    ctx,
                    Activation::LeakyRelu {
                        alpha: a.f64("negative_slope")? as f32,
                    },
                )?,
                Act::Elu => act(
                    ctx,
                    Activation::Elu {
                        alpha: a.f64("alpha")? as f32,
                    },
                )?,
                Act::Softplus => {
                    let beta = a.f64("beta")?;
                    let sp = act(
                        ctx,
                        Activation::Softplus {
                            alpha: (1.0 / beta) as f32,
                            beta: beta as f32,
                        },
                    )?;
                    // PyTorch returns `x` where `beta * x > threshold`; TensorRT's softplus
                    // has no threshold. Above 20 the two differ by < exp(-20) / beta, far
                    // below f32 resolution of the result, so only lower thresholds need the
                    // select.
                    let threshold = a.f64("threshold")?;
                    if threshold < 20.0 {
                        let b = ctx.scalar(beta, dt, rank)?;
                        let bx = ctx.elementwise(x, b, E::Prod)?;
                        let t = ctx.scalar(threshold, dt, rank)?;
                        let above = ctx.elementwise(bx, t, E::Greater)?;
                        ctx.select(above, x, sp)?
                    } else {
                        sp
                    }
                }
                Act::Hardtanh => act(
                    ctx,
                    Activation::Clip {
                        alpha: a.f64("min_val")? as f32,
                        beta: a.f64("max_val")? as f32,
                    },
                )?,
                Act::Relu6 => act(
                    ctx,
                    Activation::Clip {
                        alpha: 0.0,
                        beta: 6.0,
                    },
                )?,
            };
            one(out)
        },
    )
}

/// clamp / clamp_min / clamp_max with scalar or tensor bounds, as max/min elementwise layers
/// (exact for ints, NaN-propagating like PyTorch for floats only when TensorRT's max/min are).
fn clamp(lo: Option<&'static str>, hi: Option<&'static str>) -> OpConverter {
    OpConverter::new(
        move |a| {
            if a.result_tensor(0)?.dtype == DType::Bool {
                return Err(format!("{}: bool tensors", a.op));
            }
            inplace_ok(a)
        },
        move |ctx, a| {
            let (dt, rank) = result_dt(a)?;
            let mut x = operand(ctx, a, "self", dt, rank)?;
            for (name, op) in [(lo, E::Max), (hi, E::Min)] {
                let Some(name) = name else { continue };
                if a.is_none(name)? {
                    continue;
                }
                let b = operand(ctx, a, name, dt, rank)?;
                x = ctx.elementwise(x, b, op)?;
            }
            one(x)
        },
    )
}

pub(super) fn register(r: &mut ConverterRegistry) {
    let bins: &[(&str, Bin, &str, &str)] = &[
        ("aten.add.Tensor", Bin::Add, "self", "other"),
        ("aten.add.Scalar", Bin::Add, "self", "other"),
        ("aten.add_.Tensor", Bin::Add, "self", "other"),
        ("aten.sub.Tensor", Bin::Sub, "self", "other"),
        ("aten.sub.Scalar", Bin::Sub, "self", "other"),
        ("aten.rsub.Scalar", Bin::Rsub, "self", "other"),
        ("aten.rsub.Tensor", Bin::Rsub, "self", "other"),
        ("aten.mul.Tensor", Bin::Mul, "self", "other"),
        ("aten.mul.Scalar", Bin::Mul, "self", "other"),
        ("aten.mul_.Tensor", Bin::Mul, "self", "other"),
        ("aten.div.Tensor", Bin::Div, "self", "other"),
        ("aten.div.Scalar", Bin::Div, "self", "other"),
        ("aten.div.Tensor_mode", Bin::Div, "self", "other"),
        ("aten.div.Scalar_mode", Bin::Div, "self", "other"),
        (
            "aten.floor_divide.default",
            Bin::FloorDivide,
            "self",
            "other",
        ),
        ("aten.pow.Tensor_Tensor", Bin::Pow, "self", "exponent"),
        ("aten.pow.Tensor_Scalar", Bin::Pow, "self", "exponent"),
        ("aten.pow.Scalar", Bin::Pow, "self", "exponent"),
        ("aten.maximum.default", Bin::Max, "self", "other"),
        ("aten.minimum.default", Bin::Min, "self", "other"),
        ("aten.remainder.Tensor", Bin::Rem, "self", "other"),
        ("aten.remainder.Scalar", Bin::Rem, "self", "other"),
        ("aten.fmod.Tensor", Bin::Fmod, "self", "other"),
        ("aten.fmod.Scalar", Bin::Fmod, "self", "other"),
    ];
    for (name, kind, l, rhs) in bins {
        r.register(*name, binary(*kind, l, rhs));
    }
    for (base, kind) in [
        ("eq", Cmp::Eq),
        ("ne", Cmp::Ne),
        ("lt", Cmp::Lt),
        ("le", Cmp::Le),
        ("gt", Cmp::Gt),
        ("ge", Cmp::Ge),
    ] {
        r.register(format!("aten.{base}.Tensor"), compare(kind));
        r.register(format!("aten.{base}.Scalar"), compare(kind));
    }
    r.register("aten.logical_and.default", logical(Some(E::And), false));
    r.register("aten.logical_or.default", logical(Some(E::Or), false));
    r.register("aten.logical_xor.default", logical(Some(E::Xor), false));
    r.register("aten.logical_not.default", logical(None, false));
    r.register("aten.bitwise_and.Tensor", logical(Some(E::And), true));
    r.register("aten.bitwise_or.Tensor", logical(Some(E::Or), true));
    r.register("aten.bitwise_xor.Tensor", logical(Some(E::Xor), true));
    r.register("aten.bitwise_not.default", logical(None, true));
    r.register("aten.where.self", where_("condition", "self", "other"));
    r.register(
        "aten.where.ScalarSelf",
        where_("condition", "self", "other"),
    );
    r.register(
        "aten.where.ScalarOther",
        where_("condition", "self", "other"),
    );
    r.register("aten.where.Scalar", where_("condition", "self", "other"));
    r.register("aten.masked_fill.Scalar", where_("mask", "value", "self"));
    r.register("aten.masked_fill.Tensor", where_("mask", "value", "self"));
    let unaries: &[(&str, Un)] = &[
        ("exp", Un::F(U::Exp)),
        ("log", Un::F(U::Log)),
        ("sqrt", Un::F(U::Sqrt)),
        ("rsqrt", Un::Rsqrt),
        ("reciprocal", Un::F(U::Recip)),
        ("abs", Un::I(U::Abs)),
        ("neg", Un::I(U::Neg)),
        ("sign", Un::I(U::Sign)),
        ("sin", Un::F(U::Sin)),
        ("cos", Un::F(U::Cos)),
        ("tan", Un::F(U::Tan)),
        ("asin", Un::F(U::Asin)),
        ("acos", Un::F(U::Acos)),
        ("atan", Un::F(U::Atan)),
        ("sinh", Un::F(U::Sinh)),
        ("cosh", Un::F(U::Cosh)),
        ("asinh", Un::F(U::Asinh)),
        ("acosh", Un::F(U::Acosh)),
        ("atanh", Un::F(U::Atanh)),
        ("erf", Un::F(U::Erf)),
        ("floor", Un::Round(U::Floor)),
        ("ceil", Un::Round(U::Ceil)),
        ("round", Un::Round(U::Round)),
        ("trunc", Un::Trunc),
        ("log2", Un::Log2),
        ("log10", Un::Log10),
        ("log1p", Un::Log1p),
        ("expm1", Un::Expm1),
        ("square", Un::Square),
    ];
    for (base, kind) in unaries {
        r.register(format!("aten.{base}.default"), unary(*kind));
    }
    let acts: &[(&str, Act)] = &[
        ("aten.relu.default", Act::Relu),
        ("aten.relu_.default", Act::Relu),
        ("aten.sigmoid.default", Act::Sigmoid),
        ("aten.tanh.default", Act::Tanh),
        ("aten.gelu.default", Act::Gelu),
        ("aten.silu.default", Act::Silu),
        ("aten.silu_.default", Act::Silu),
        ("aten.hardswish.default", Act::Hardswish),
        ("aten.hardswish_.default", Act::Hardswish),
        ("aten.hardsigmoid.default", Act::Hardsigmoid),
        ("aten.hardsigmoid_.default", Act::Hardsigmoid),
        ("aten.leaky_relu.default", Act::LeakyRelu),
        ("aten.elu.default", Act::Elu),
        ("aten.softplus.default", Act::Softplus),
        ("aten.hardtanh.default", Act::Hardtanh),
        ("aten.hardtanh_.default", Act::Hardtanh),
        ("aten.relu6.default", Act::Relu6),
    ];
    for (name, kind) in acts {
        r.register(*name, activation(*kind));
    }
    r.register(
        "aten.isinf.default",
        OpConverter::new(
            |a| {
                let t = a.tensor("self")?;
                if !t.dtype.is_float() {
                    return Err(format!("{}: {} input", a.op, t.dtype));
                }
                Ok(())
            },
            |ctx, a| {
                // |x| == inf: TensorRT has no isinf layer.
                let x = ctx.input(a, "self")?;
                let d = ctx.desc(x)?;
                let m = ctx.unary(x, U::Abs)?;
                let inf = ctx.scalar(f64::INFINITY, d.dtype, d.rank())?;
                one(ctx.elementwise(m, inf, E::Equal)?)
            },
        ),
    );
    r.register(
        "aten.isnan.default",
        OpConverter::new(ok, |ctx, a| {
            // NaN is the one value unequal to itself (ints and bools never are NaN; bools
            // are compared as ints, TensorRT compares numbers only).
            let x = ctx.input(a, "self")?;
            let x = match ctx.desc(x)?.dtype {
                TrtDataType::Bool => ctx.cast(x, TrtDataType::Int32)?,
                _ => x,
            };
            let e = ctx.elementwise(x, x, E::Equal)?;
            one(ctx.unary(e, U::Not)?)
        }),
    );
    for (base, op) in [("and", E::And), ("or", E::Or), ("xor", E::Xor)] {
        for overload in ["Scalar", "Scalar_Tensor"] {
            r.register(
                format!("aten.bitwise_{base}.{overload}"),
                bitwise_scalar(op),
            );
        }
    }
    r.register("aten.atan2.default", atan2());
    r.register("aten.clamp.default", clamp(Some("min"), Some("max")));
    r.register("aten.clamp.Tensor", clamp(Some("min"), Some("max")));
    r.register("aten.clamp_.default", clamp(Some("min"), Some("max")));
    r.register("aten.clamp_min.default", clamp(Some("min"), None));
    r.register("aten.clamp_max.default", clamp(None, Some("max")));
}
