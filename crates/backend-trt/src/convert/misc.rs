//! Casts, identities, creation ops, assertions and symbolic-int arithmetic.

use trtfx_ir::{Arg, Dim, Type};

use super::ctx::weights_of;
use super::{trt_dtype, CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{FillArg, FillOp, FillParams, ShapeArg, SliceMode, SliceParams, TensorId};

fn one(t: TensorId) -> CResult<Vec<Slot>> {
    Ok(vec![Slot::Tensor(t)])
}

fn ok(_: &NodeArgs<'_>) -> Result<(), String> {
    Ok(())
}

/// Broadcasts a `[1, ..]` tensor to the IR dims `dims` (a stride-0 slice).
fn broadcast_to(ctx: &mut ConvertCtx<'_>, t: TensorId, dims: &[Dim]) -> CResult<TensorId> {
    let r = dims.len();
    if dims.iter().all(|d| d.as_const() == Some(1)) {
        return Ok(t);
    }
    let size = ctx.shape_arg(dims, false)?;
    Ok(ctx.net.add_slice(
        t,
        &SliceParams {
            start: ShapeArg::Static(vec![0; r]),
            size,
            stride: ShapeArg::Static(vec![0; r]),
            mode: SliceMode::StrictBounds,
            fill_value: None,
        },
    )?)
}

/// `full`-like: the fill value (argument `value`, or a constant) broadcast to the result.
fn full(value: Option<&'static str>, constant: f64) -> OpConverter {
    OpConverter::new(
        move |a| {
            a.result_tensor(0)?;
            if let Some(v) = value {
                match a.req(v)? {
                    Arg::Int(_) | Arg::Float(_) | Arg::Bool(_) => {}
                    Arg::Value(x) => match a.graph.ty(*x) {
                        Type::SymInt(Some(_)) | Type::Int => {}
                        t => return Err(format!("{}: fill value of type {t}", a.op)),
                    },
                    x => return Err(format!("{}: fill value {x}", a.op)),
                }
            }
            Ok(())
        },
        move |ctx, a| {
            let out = a.result_tensor(0)?;
            let dt = trt_dtype(out.dtype)?;
            let r = out.rank();
            let slot = match value {
                Some(v) => ctx.arg_slot(a.req(v)?)?,
                None => Slot::Float(constant),
            };
            let lit = match slot {
                Slot::Int(i) => Some(i as f64),
                Slot::Float(f) => Some(f),
                Slot::Bool(b) => Some(f64::from(u8::from(b))),
                _ => None,
            };
            if let (Some(v), Some(dims)) = (lit, out.static_shape()) {
                let n: i64 = dims.iter().product();
                if n <= 1 << 16 {
                    let w = weights_of(&vec![v; n as usize], dt)?;
                    return one(ctx.constant(&dims, w)?);
                }
            }
            let s = ctx.operand(&slot, dt, r)?;
            one(broadcast_to(ctx, s, &out.shape)?)
        },
    )
}

/// `start` and `step` of an `arange` overload: `arange(end)` counts from 0 and
/// `arange(start, end)` by 1 (they have no such arguments; `arange.start_step`'s `step`
/// defaults to 1 in its schema).
fn arange_start_step(a: &NodeArgs<'_>) -> Result<(f64, f64), String> {
    let start = if a.has("start") { a.f64("start")? } else { 0.0 };
    let step = if a.has("step") { a.f64("step")? } else { 1.0 };
    Ok((start, step))
}

fn arange() -> OpConverter {
    OpConverter::new(
        |a| {
            let out = a.result_tensor(0)?;
            if out.rank() != 1 {
                return Err(format!("{}: result {out}", a.op));
            }
            arange_start_step(a)?;
            Ok(())
        },
        |ctx, a| {
            let out = a.result_tensor(0)?;
            let dt = trt_dtype(out.dtype)?;
            let (start, step) = arange_start_step(a)?;
            if let Some(n) = out.shape[0].as_const() {
                let v: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
                return one(ctx.constant(&[n], weights_of(&v, dt)?)?);
            }
            let dims = ShapeArg::Tensor(ctx.shape_tensor(&out.shape)?);
            one(ctx.net.add_fill(&FillParams {
                dims,
                op: FillOp::Linspace,
                dtype: dt,
                alpha: FillArg::Scalar(start),
                beta: FillArg::PerDim(vec![step]),
            })?)
        },
    )
}

/// A symbolic-int node: its value is the expression recorded in its result type.
fn sym_value() -> OpConverter {
    OpConverter::new(
        |a| match a.result_type(0)? {
            Type::SymInt(Some(_)) | Type::Int => Ok(()),
            t => Err(format!("{}: result {t} has no known expression", a.op)),
        },
        |_, a| {
            Ok(vec![match a.result_type(0)? {
                Type::SymInt(Some(d)) => match d.as_const() {
                    Some(c) => Slot::Int(c),
                    None => Slot::Sym(d.clone()),
                },
                _ => return Err("integer result without a value".into()),
            }])
        },
    )
}

pub(super) fn register(r: &mut ConverterRegistry) {
    // Casts: the target type is the result type.
    for name in [
        "aten._to_copy.default",
        "aten.to.dtype",
        "aten.to.dtype_layout",
        "aten.to.device",
        "aten.type_as.default",
        "prims.convert_element_type.default",
    ] {
        r.register(
            name,
            OpConverter::new(ok, |ctx, a| {
                // `prims.convert_element_type` names its tensor `a`, the ATen casts `self`.
                let name = if a.has("a") { "a" } else { "self" };
                let x = ctx.input(a, name)?;
                let dt = trt_dtype(a.result_tensor(0)?.dtype)?;
                one(ctx.cast(x, dt)?)
            }),
        );
    }
    // Identities: values are immutable in the network, so copies and views are free.
    for name in [
        "aten.clone.default",
        "aten.alias.default",
        "aten.detach.default",
        // In place, but it only drops autograd history: the values stay as they are.
        "aten.detach_.default",
        "aten.contiguous.default",
        "aten.lift_fresh_copy.default",
    ] {
        r.register(
            name,
            OpConverter::new(ok, |ctx, a| one(ctx.input(a, "self")?)),
        );
    }
    for name in ["aten.dropout.default", "aten.dropout_.default"] {
        r.register(
            name,
            OpConverter::new(
                |a| {
                    if a.bool("train")? && a.f64("p")? != 0.0 {
                        return Err(format!("{}: training-mode dropout", a.op));
                    }
                    super::elementwise::inplace_ok(a)
                },
                |ctx, a| {
                    // `dropout` names its tensor `input`, `dropout_` names it `self`.
                    let name = if a.has("input") { "input" } else { "self" };
                    one(ctx.input(a, name)?)
                },
            ),
        );
    }
    // Checks done at export time; nothing to compute.
    for name in [
        "aten._assert_tensor_metadata.default",
        "aten._assert_scalar.default",
        "aten.sym_constrain_range_for_size.default",
        "aten.sym_constrain_range.default",
    ] {
        r.register(name, OpConverter::new(ok, |_, _| Ok(vec![])));
    }
    for name in [
        "aten.sym_size.int",
        "aten.sym_numel.default",
        "_operator.add",
        "_operator.sub",
        "_operator.mul",
        "_operator.floordiv",
        "_operator.mod",
        "_operator.neg",
    ] {
        r.register(name, sym_value());
    }
    for name in [
        "aten.arange.default",
        "aten.arange.start",
        "aten.arange.start_step",
    ] {
        r.register(name, arange());
    }
    r.register("aten.full.default", full(Some("fill_value"), 0.0));
    r.register("aten.full_like.default", full(Some("fill_value"), 0.0));
    r.register("aten.new_full.default", full(Some("fill_value"), 0.0));
    r.register("aten.scalar_tensor.default", full(Some("s"), 0.0));
    for name in [
        "aten.zeros.default",
        "aten.zeros_like.default",
        "aten.new_zeros.default",
        "aten.empty.memory_format",
        "aten.empty_like.default",
    ] {
        r.register(name, full(None, 0.0));
    }
    for name in [
        "aten.ones.default",
        "aten.ones_like.default",
        "aten.new_ones.default",
    ] {
        r.register(name, full(None, 1.0));
    }
}
