//! Data movement built from shuffles, strided slices and gathers: `repeat` (tiling),
//! `diagonal`, and `native_dropout` in evaluation mode.

use trtfx_ir::{Dim, TensorType};

use super::{CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{GatherMode, ShapeArg, SliceMode, SliceParams, TensorId, TrtDataType};

fn one(t: TensorId) -> CResult<Vec<Slot>> {
    Ok(vec![Slot::Tensor(t)])
}

/// TensorRT's largest tensor rank.
const MAX_RANK: usize = 8;

/// The repeat counts of `repeat`, checked: at least the input's rank, none negative, and
/// the interleaved shape within TensorRT's rank (one unit dim is inserted before each
/// repeated dim).
fn repeats(a: &NodeArgs<'_>) -> Result<Vec<i64>, String> {
    let x = a.tensor("self")?;
    let r = a.ints("repeats")?;
    if r.len() < x.rank() {
        return Err(format!(
            "{}: {} repeats for {x} (fewer than its rank)",
            a.op,
            r.len()
        ));
    }
    if r.iter().any(|&k| k < 0) {
        return Err(format!("{}: negative repeats {r:?}", a.op));
    }
    if r.contains(&0) {
        return Err(format!("{}: repeats {r:?} give an empty tensor", a.op));
    }
    let tiled = r.iter().filter(|&&k| k > 1).count();
    if r.len() + tiled > MAX_RANK {
        return Err(format!(
            "{}: tiling {r:?} needs rank {} (TensorRT's limit is {MAX_RANK})",
            a.op,
            r.len() + tiled
        ));
    }
    Ok(r)
}

/// `repeat` as a broadcast: `x` (padded to the repeats' rank with leading unit dims) gets a
/// unit dim before every repeated dim, a stride-0 slice broadcasts those to the repeat counts,
/// and a reshape merges each (count, extent) pair into one dim: the tiles come out in
/// PyTorch's order (the whole input repeated, not each element).
fn repeat(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let reps = repeats(a)?;
    let xt = a.tensor("self")?;
    let out = a.result_tensor(0)?;
    let x = ctx.input(a, "self")?;
    if reps.iter().all(|&k| k == 1) && reps.len() == xt.rank() {
        return one(ctx.net.add_identity(x)?);
    }
    let m = reps.len();
    let mut dims: Vec<Dim> = vec![Dim::constant(1); m - xt.rank()];
    dims.extend(xt.shape.iter().cloned());
    // [1, d0, 1, d1, ...] (unit dims only before repeated dims) and its broadcast.
    let (mut unit, mut tiled, mut stride) = (vec![], vec![], vec![]);
    for (d, &k) in dims.iter().zip(&reps) {
        if k > 1 {
            unit.push(Dim::constant(1));
            tiled.push(Dim::constant(k));
            stride.push(0);
        }
        unit.push(d.clone());
        tiled.push(d.clone());
        stride.push(1);
    }
    let u = ctx.reshape(x, &unit)?;
    let size = ctx.shape_arg(&tiled, false)?;
    let b = ctx.net.add_slice(
        u,
        &SliceParams {
            start: ShapeArg::Static(vec![0; unit.len()]),
            size,
            stride: ShapeArg::Static(stride),
            mode: SliceMode::StrictBounds,
            fill_value: None,
        },
    )?;
    one(ctx.reshape(b, &out.shape)?)
}

/// `diagonal` arguments: the two (normalised, distinct) dims, their static extents, the
/// offset and the diagonal's length (non-zero).
struct Diag {
    d1: usize,
    d2: usize,
    n2: i64,
    offset: i64,
    len: i64,
}

fn diag_args(a: &NodeArgs<'_>) -> Result<Diag, String> {
    let x: &TensorType = a.tensor("self")?;
    let r = x.rank() as i64;
    let norm = |d: i64| -> Result<usize, String> {
        let v = if d < 0 { d + r } else { d };
        if !(0..r).contains(&v) {
            return Err(format!("{}: dim {d} out of range for {x}", a.op));
        }
        Ok(v as usize)
    };
    let (d1, d2) = (norm(a.int("dim1")?)?, norm(a.int("dim2")?)?);
    if d1 == d2 {
        return Err(format!("{}: dim1 and dim2 are both {d1}", a.op));
    }
    let ext = |d: usize| {
        x.shape[d].as_const().ok_or_else(|| {
            format!(
                "{}: the diagonal's dims must be static ({x}, dim {d} is dynamic)",
                a.op
            )
        })
    };
    let (n1, n2) = (ext(d1)?, ext(d2)?);
    let offset = a.int("offset")?;
    let len = if offset >= 0 {
        n1.min(n2 - offset)
    } else {
        (n1 + offset).min(n2)
    };
    if len <= 0 {
        return Err(format!(
            "{}: offset {offset} leaves an empty diagonal of {x}",
            a.op
        ));
    }
    Ok(Diag {
        d1,
        d2,
        n2,
        offset,
        len,
    })
}

/// `diagonal` as a gather: the two dims moved last (`dim1` then `dim2`) and merged, then the
/// flat positions `row * n2 + col` of the diagonal gathered; the diagonal ends up last, as
/// in PyTorch.
fn diagonal(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let d = diag_args(a)?;
    let xt = a.tensor("self")?;
    let x = ctx.input(a, "self")?;
    let r = xt.rank();
    let rest: Vec<usize> = (0..r).filter(|&i| i != d.d1 && i != d.d2).collect();
    let perm: Vec<i32> = rest
        .iter()
        .chain([&d.d1, &d.d2])
        .map(|&i| i as i32)
        .collect();
    let xp = ctx.transpose(x, &perm)?;
    let mut flat: Vec<Dim> = rest.iter().map(|&i| xt.shape[i].clone()).collect();
    let n1 = xt.shape[d.d1].as_const().ok_or("dynamic diagonal dim")?;
    flat.push(Dim::constant(n1 * d.n2));
    let xf = ctx.reshape(xp, &flat)?;
    let idx: Vec<i64> = (0..d.len)
        .map(|i| {
            let (row, col) = if d.offset >= 0 {
                (i, i + d.offset)
            } else {
                (i - d.offset, i)
            };
            row * d.n2 + col
        })
        .collect();
    let idx = ctx.const_i64(&idx)?;
    one(ctx
        .net
        .add_gather(xf, idx, rest.len() as u32, GatherMode::Default)?)
}

/// `native_dropout` in evaluation mode (or with `p = 0`): the input and an all-true mask.
fn native_dropout_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    // `train=None` means training, as in ATen.
    let train = a
        .arg("train")?
        .is_none_or(|t| !matches!(t, trtfx_ir::Arg::Bool(false)));
    if train && a.f64("p")? != 0.0 {
        return Err(format!(
            "{}: training-mode dropout (random) is not converted",
            a.op
        ));
    }
    Ok(())
}

fn native_dropout(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let x = ctx.input(a, "input")?;
    let y = ctx.net.add_identity(x)?;
    if !a.result_used(1) {
        return Ok(vec![Slot::Tensor(y), Slot::None]);
    }
    // All true, in the input's shape (also a dynamic one): `b | !b` for `b = bool(x)`.
    let b = ctx.cast(x, TrtDataType::Bool)?;
    let nb = ctx.unary(b, crate::network::UnaryOp::Not)?;
    let mask = ctx.elementwise(b, nb, crate::network::ElementWiseOp::Or)?;
    Ok(vec![Slot::Tensor(y), Slot::Tensor(mask)])
}

pub(super) fn register(r: &mut ConverterRegistry) {
    r.register(
        "aten.repeat.default",
        OpConverter::new(|a| repeats(a).map(|_| ()), repeat),
    );
    r.register(
        "aten.diagonal.default",
        OpConverter::new(|a| diag_args(a).map(|_| ()), diagonal),
    );
    r.register(
        "aten.native_dropout.default",
        OpConverter::new(native_dropout_validate, native_dropout),
    );
}
