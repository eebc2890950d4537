//! Grid sampling: `aten.grid_sampler_2d`, `aten.grid_sampler_3d` and `aten.grid_sampler`
//! (which dispatches on the rank) onto TensorRT's `IGridSampleLayer`, which takes rank 4 and
//! rank 5 inputs (NvInfer.h) with the three PyTorch padding modes as sample modes.

use trtfx_ir::DType;

use super::{ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{ResizeMode, SliceMode};

/// ATen's `interpolation_mode` (0 bilinear, 1 nearest, 2 bicubic) as TensorRT's.
fn interpolation(v: i64) -> Result<ResizeMode, String> {
    Ok(match v {
        0 => ResizeMode::Linear,
        1 => ResizeMode::Nearest,
        2 => ResizeMode::Cubic,
        _ => return Err(format!("interpolation_mode {v} is not 0, 1 or 2")),
    })
}

/// ATen's `padding_mode` (0 zeros, 1 border, 2 reflection) as TensorRT's sample mode.
fn padding(v: i64) -> Result<SliceMode, String> {
    Ok(match v {
        0 => SliceMode::Fill,
        1 => SliceMode::Clamp,
        2 => SliceMode::Reflect,
        _ => return Err(format!("padding_mode {v} is not 0, 1 or 2")),
    })
}

/// Takes 4-D and 5-D float inputs with a grid of the input's dtype and rank, and literal
/// modes and `align_corners`. Refused: integer or f64 tensors, mixed dtypes, bicubic
/// sampling of volumes (PyTorch has none), and modes given as runtime values.
fn validate(a: &NodeArgs<'_>) -> Result<(), String> {
    let op = a.op;
    let (x, g) = (a.tensor("input")?, a.tensor("grid")?);
    if !matches!(x.dtype, DType::F32 | DType::F16 | DType::BF16) {
        return Err(format!(
            "{op}: {} input (TensorRT's grid sample takes f32, f16 and bf16)",
            x.dtype
        ));
    }
    if g.dtype != x.dtype {
        return Err(format!(
            "{op}: grid {} and input {} differ in dtype (TensorRT needs one type)",
            g.dtype, x.dtype
        ));
    }
    if !matches!(x.rank(), 4 | 5) || g.rank() != x.rank() {
        return Err(format!(
            "{op}: input {x} and grid {g} must both be 4-D or both 5-D"
        ));
    }
    let m = a
        .int("interpolation_mode")
        .map_err(|e| format!("{op}: interpolation_mode must be a literal: {e}"))?;
    let p = a
        .int("padding_mode")
        .map_err(|e| format!("{op}: padding_mode must be a literal: {e}"))?;
    if interpolation(m).map_err(|e| format!("{op}: {e}"))? == ResizeMode::Cubic && x.rank() != 4 {
        return Err(format!("{op}: bicubic sampling of a 5-D input"));
    }
    padding(p).map_err(|e| format!("{op}: {e}"))?;
    a.bool("align_corners")
        .map_err(|e| format!("{op}: align_corners must be a literal: {e}"))?;
    Ok(())
}

fn grid_sampler() -> OpConverter {
    OpConverter::new(validate, |ctx, a| {
        let x = ctx.input(a, "input")?;
        let g = ctx.input(a, "grid")?;
        let mode = interpolation(a.int("interpolation_mode")?)?;
        let sample = padding(a.int("padding_mode")?)?;
        let align = a.bool("align_corners")?;
        let y = ctx.net.add_grid_sample(x, g, mode, align, sample)?;
        Ok(vec![Slot::Tensor(y)])
    })
}

pub(super) fn register(r: &mut ConverterRegistry) {
    r.register("aten.grid_sampler_2d.default", grid_sampler());
    r.register("aten.grid_sampler_3d.default", grid_sampler());
    r.register("aten.grid_sampler.default", grid_sampler());
}
