//! Data-dependent selections: `aten.nonzero` and `aten.nonzero_static` onto TensorRT's
//! `INonZeroLayer`, and the symbolic comparisons (`_operator.ge`, ...) that only feed the
//! export's runtime assertions on the sizes these ops produce.
//!
//! `INonZeroLayer` gives the coordinates as a `[rank, n]` matrix (NvInfer.h: "each column
//! denotes a m-D position", columns in lexicographic order, the order of PyTorch's rows);
//! PyTorch wants `[n, rank]` int64 rows, so the converter asks for Int64 indices and
//! transposes. The count `n` is a data-dependent (unbacked) size `u` in the IR: the network
//! carries it as a `-1` extent, and the conversion reads `u` back from the result's shape
//! wherever a later layer needs it (see `ConvertCtx::add_result_sym_sources`, which every
//! converted result feeds). `nonzero_static` has a static shape and needs no NonZero layer
//! (see [`nonzero_static`]).
//!
//! TensorRT-RTX (1.7 included) has no implementation of `INonZeroLayer`: it accepts the layer
//! but `buildSerializedNetwork` fails with "NonZero has no runners that implement it", a gap
//! NVIDIA tracks as NVIDIA/TensorRT-RTX#36. TensorRT 10/11 build it (Torch-TensorRT converts
//! `nonzero` onto it). A segment holding `nonzero` therefore has no TensorRT-RTX plan and runs
//! on the layer emulator (the build report says why).
//!
//! The layer takes f32, f16, i32 and bool (NvInfer.h); bf16 is cast to f32 (exactly) and
//! i64 compared with 0 (a cast to i32 could wrap a nonzero value to 0). A 0-d input (whose
//! result is `[n, 0]` with `n` 0 or 1) is reshaped to `[1]` and its `[n, 1]` rows sliced to
//! `[n, 0]`.

use trtfx_ir::{DType, TensorType, Type};

use super::{CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{ElementWiseOp, ShapeArg, SliceParams, TensorId, TrtDataType, UnaryOp};

/// TensorRT's dims limit (`Dims64::MAX_DIMS`).
const MAX_RANK: usize = 8;

/// Inputs `INonZeroLayer` can take directly or after one exact cast or comparison.
fn validate_input(op: &str, x: &TensorType) -> Result<(), String> {
    if !matches!(
        x.dtype,
        DType::F32 | DType::F16 | DType::BF16 | DType::I32 | DType::I64 | DType::Bool
    ) {
        return Err(format!(
            "{op}: {} input (TensorRT's NonZero takes f32, f16, i32 and bool; bf16 and i64 \
             are converted exactly)",
            x.dtype
        ));
    }
    if x.rank() > MAX_RANK {
        return Err(format!("{op}: rank {} exceeds TensorRT's 8 dims", x.rank()));
    }
    Ok(())
}

/// `x` as a tensor `INonZeroLayer` accepts with the same nonzero elements.
fn nonzero_operand(ctx: &mut ConvertCtx<'_>, x: TensorId) -> CResult<TensorId> {
    let d = ctx.desc(x)?;
    Ok(match d.dtype {
        TrtDataType::Float | TrtDataType::Half | TrtDataType::Int32 | TrtDataType::Bool => x,
        TrtDataType::Bf16 => ctx.cast(x, TrtDataType::Float)?,
        dt => {
            let zero = ctx.scalar(0.0, dt, d.rank())?;
            let is_zero = ctx.elementwise(x, zero, ElementWiseOp::Equal)?;
            ctx.unary(is_zero, UnaryOp::Not)?
        }
    })
}

/// The `[n, rank]` Int64 coordinates of the nonzero elements of `x` (PyTorch's `nonzero`).
pub(super) fn nonzero_rows(ctx: &mut ConvertCtx<'_>, x: TensorId) -> CResult<TensorId> {
    let rank = ctx.rank(x)?;
    let m = nonzero_operand(ctx, x)?;
    if rank == 0 {
        let flat = ctx.reshape_static(m, &[1])?;
        let cols = ctx.net.add_non_zero(flat, TrtDataType::Int64)?;
        let rows = ctx.transpose(cols, &[1, 0])?;
        // `[n, 1]` to `[n, 0]`: a 0-d tensor has no coordinates to list.
        let n = ctx.dim_of(rows, 0)?;
        let zero = ctx.const_i64(&[0])?;
        let size = ctx.net.add_concatenation(&[n, zero], 0)?;
        return Ok(ctx.net.add_slice(
            rows,
            &SliceParams {
                size: ShapeArg::Tensor(size),
                ..SliceParams::new(&[0, 0], &[0, 0], &[1, 1])
            },
        )?);
    }
    let cols = ctx.net.add_non_zero(m, TrtDataType::Int64)?;
    ctx.transpose(cols, &[1, 0])
}

fn nonzero() -> OpConverter {
    OpConverter::new(
        |a| validate_input(a.op, a.tensor("self")?),
        |ctx, a| {
            let x = ctx.input(a, "self")?;
            Ok(vec![Slot::Tensor(nonzero_rows(ctx, x)?)])
        },
    )
}

/// Most elements the one-hot selection of `nonzero_static` may hold (`size` x numel).
const MAX_STATIC_SELECTION: i64 = 1 << 24;

/// `nonzero_static(self, size, fill_value)`: the first `size` nonzero rows, padded with
/// `fill_value` rows when there are fewer. Its shape is static, so it needs no NonZero layer
/// (which TensorRT-RTX lacks): element `i`'s rank among the nonzero elements is the
/// exclusive cumulative count of the nonzero mask, row `k` sums the (constant) coordinates of
/// every element whose rank is `k`, and rows past the count take `fill_value`. Needs a static
/// input shape; the selection holds `size` x numel elements.
fn nonzero_static() -> OpConverter {
    OpConverter::new(
        |a| {
            let x = a.tensor("self")?;
            validate_input(a.op, x)?;
            let size = a
                .int("size")
                .map_err(|e| format!("{}: size must be a literal: {e}", a.op))?;
            if size < 0 {
                return Err(format!("{}: size {size} is negative", a.op));
            }
            a.int("fill_value")
                .map_err(|e| format!("{}: fill_value must be a literal: {e}", a.op))?;
            let numel = static_numel(x)
                .ok_or_else(|| format!("{}: input {x} has a dynamic shape", a.op))?;
            if size.saturating_mul(numel.max(1)) > MAX_STATIC_SELECTION {
                return Err(format!(
                    "{}: size {size} x {numel} elements exceeds the {MAX_STATIC_SELECTION} \
                     elements of the one-hot selection",
                    a.op
                ));
            }
            Ok(())
        },
        |ctx, a| {
            let x = ctx.input(a, "self")?;
            let shape = ctx.desc(x)?.dims;
            let (size, fill) = (a.int("size")?, a.int("fill_value")?);
            Ok(vec![Slot::Tensor(static_rows(ctx, x, &shape, size, fill)?)])
        },
    )
}

/// The element count of a statically shaped tensor.
fn static_numel(x: &TensorType) -> Option<i64> {
    x.shape.iter().map(|d| d.as_const()).product()
}

/// An Int64 tensor of `dims` with no elements (one of them is 0), sliced from a constant.
fn empty_i64(ctx: &mut ConvertCtx<'_>, dims: &[i64]) -> CResult<TensorId> {
    let one: Vec<i64> = vec![1; dims.len()];
    let z = ctx.constant(&one, crate::network::Weights::from_i64(&[0]))?;
    // Zero strides: every (absent) element would read the one element.
    let zero = vec![0; dims.len()];
    Ok(ctx
        .net
        .add_slice(z, &SliceParams::new(&zero, dims, &zero))?)
}

/// `nonzero_static` of `x` (static `shape`) without a NonZero layer (see [`nonzero_static`]).
fn static_rows(
    ctx: &mut ConvertCtx<'_>,
    x: TensorId,
    shape: &[i64],
    size: i64,
    fill: i64,
) -> CResult<TensorId> {
    let r = shape.len();
    let n: i64 = shape.iter().product();
    if size == 0 || r == 0 || n == 0 {
        if r == 0 || size == 0 {
            return empty_i64(ctx, &[size, r as i64]);
        }
        // No elements, so every row is padding.
        let f = ctx.constant(&[1, 1], crate::network::Weights::from_i64(&[fill]))?;
        // A zero stride repeats the one element.
        return Ok(ctx
            .net
            .add_slice(f, &SliceParams::new(&[0, 0], &[size, r as i64], &[0, 0]))?);
    }
    let m = nonzero_operand(ctx, x)?;
    let m = if ctx.desc(m)?.dtype == TrtDataType::Bool {
        m
    } else {
        let dt = ctx.desc(m)?.dtype;
        let zero = ctx.scalar(0.0, dt, r)?;
        let is_zero = ctx.elementwise(m, zero, ElementWiseOp::Equal)?;
        ctx.unary(is_zero, UnaryOp::Not)?
    };
    let m = ctx.reshape_static(m, &[1, n])?;
    let count_of = ctx.cast(m, TrtDataType::Int32)?;
    // rank[i]: how many nonzero elements come before element i.
    let rank =
        ctx.net
            .add_cumulative(count_of, 1, crate::network::CumulativeOp::Sum, true, false)?;
    let k: Vec<f64> = (0..size).map(|k| k as f64).collect();
    let k = ctx.constant(&[size, 1], super::ctx::weights_of(&k, TrtDataType::Int32)?)?;
    let at = ctx.elementwise(rank, k, ElementWiseOp::Equal)?;
    let sel = ctx.elementwise(at, m, ElementWiseOp::And)?;
    let sel = ctx.reshape_static(sel, &[size, n, 1])?;
    let mut coords = Vec::with_capacity((n as usize) * r);
    for flat in 0..n {
        let mut rest = flat;
        let mut c = vec![0i64; r];
        for d in (0..r).rev() {
            c[d] = rest % shape[d];
            rest /= shape[d];
        }
        coords.extend(c);
    }
    let coords = ctx.constant(
        &[1, n, r as i64],
        crate::network::Weights::from_i64(&coords),
    )?;
    let zero = ctx.scalar(0.0, TrtDataType::Int64, 3)?;
    let picked = ctx.select(sel, coords, zero)?;
    let rows = ctx
        .net
        .add_reduce(picked, crate::network::ReduceOp::Sum, 1 << 1, false)?;
    let count = ctx
        .net
        .add_reduce(count_of, crate::network::ReduceOp::Sum, 1 << 1, true)?;
    let has = ctx.elementwise(k, count, ElementWiseOp::Less)?;
    let fill = ctx.scalar(fill as f64, TrtDataType::Int64, 2)?;
    ctx.select(has, rows, fill)
}

/// A comparison of symbolic ints: a build-time bool when both sides are known, else nothing,
/// which is only allowed when every use is a runtime assertion (`aten._assert_scalar`, itself
/// dropped: the export checked it, and TensorRT has no assertion on shape values we emit).
fn sym_compare(cmp: fn(i64, i64) -> bool) -> OpConverter {
    OpConverter::new(
        |a| {
            if build_time(a)?.is_some() {
                return Ok(());
            }
            let only_asserts =
                a.results().iter().all(|&v| {
                    a.graph.value(v).uses().iter().all(|&u| {
                        a.graph.node(u).op.target() == Some("aten._assert_scalar.default")
                    })
                });
            if only_asserts {
                Ok(())
            } else {
                Err(format!(
                    "{}: a comparison of sizes known only at run time, used by more than \
                     runtime assertions",
                    a.op
                ))
            }
        },
        move |_, a| {
            Ok(vec![match build_time(a)? {
                Some((x, y)) => Slot::Bool(cmp(x, y)),
                None => Slot::None,
            }])
        },
    )
}

/// Both operands of a symbolic comparison, when they are build-time ints.
fn build_time(a: &NodeArgs<'_>) -> Result<Option<(i64, i64)>, String> {
    let side = |name: &str| -> Result<Option<i64>, String> {
        Ok(match a.req(name)? {
            trtfx_ir::Arg::Int(i) => Some(*i),
            trtfx_ir::Arg::Value(v) => match a.graph.ty(*v) {
                Type::SymInt(Some(d)) => d.as_const(),
                _ => None,
            },
            _ => None,
        })
    };
    Ok(side("a")?.zip(side("b")?))
}

pub(super) fn register(r: &mut ConverterRegistry) {
    r.register("aten.nonzero.default", nonzero());
    r.register("aten.nonzero_static.default", nonzero_static());
    r.register("_operator.eq", sym_compare(|x, y| x == y));
    r.register("_operator.ne", sym_compare(|x, y| x != y));
    r.register("_operator.lt", sym_compare(|x, y| x < y));
    r.register("_operator.le", sym_compare(|x, y| x <= y));
    r.register("_operator.gt", sym_compare(|x, y| x > y));
    r.register("_operator.ge", sym_compare(|x, y| x >= y));
}
