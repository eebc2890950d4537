//! `aten.grid_sampler_2d` / `grid_sampler_3d` (`torch.nn.functional.grid_sample`): sampling an
//! `[N, C, (D,) H, W]` input at the normalized positions of an `[N, (D_out,) H_out, W_out, r]`
//! grid, following PyTorch's CPU kernel: bilinear and nearest move the *coordinate* into range
//! for border and reflection padding (then zero out taps that are still outside); bicubic keeps
//! the coordinate and bounds each of its 4x4 taps instead.

use crate::dtype::DType;
use crate::error::{invalid, shape_err, Result};
use crate::kernels::linalg::float_only;
use crate::tensor::{numel, Tensor};

/// `interpolation_mode` of `grid_sampler_2d` (`torch.nn.functional.grid_sample`'s `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridInterp {
    /// 0: bilinear (trilinear in 3-D).
    Bilinear,
    /// 1: nearest, rounding half to even (`nearbyint`).
    Nearest,
    /// 2: bicubic (A = -0.75), 2-D only.
    Bicubic,
}

/// `padding_mode` of `grid_sampler_2d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridPadding {
    /// 0: taps outside the input read 0.
    Zeros,
    /// 1: coordinates are clipped to the input.
    Border,
    /// 2: coordinates are reflected at the borders, then clipped.
    Reflection,
}

impl GridInterp {
    /// The mode from its ATen integer.
    pub fn from_int(v: i64) -> Result<Self> {
        Ok(match v {
            0 => Self::Bilinear,
            1 => Self::Nearest,
            2 => Self::Bicubic,
            _ => return invalid("grid_sampler", format!("interpolation_mode {v}")),
        })
    }
}

impl GridPadding {
    /// The mode from its ATen integer.
    pub fn from_int(v: i64) -> Result<Self> {
        Ok(match v {
            0 => Self::Zeros,
            1 => Self::Border,
            2 => Self::Reflection,
            _ => return invalid("grid_sampler", format!("padding_mode {v}")),
        })
    }
}

/// PyTorch's `grid_sampler_unnormalize`: `[-1, 1]` to element coordinates.
fn unnormalize(g: f64, size: usize, align_corners: bool) -> f64 {
    let s = size as f64;
    if align_corners {
        (g + 1.0) / 2.0 * (s - 1.0)
    } else {
        ((g + 1.0) * s - 1.0) / 2.0
    }
}

/// `clip_coordinates`: into `[0, size - 1]`.
fn clip(x: f64, size: usize) -> f64 {
    x.max(0.0).min(size as f64 - 1.0)
}

/// `reflect_coordinates(x, twice_low, twice_high)`: mirrors `x` into `[low, high]`.
fn reflect(x: f64, twice_low: f64, twice_high: f64) -> f64 {
    if twice_low == twice_high {
        return 0.0;
    }
    let min = twice_low / 2.0;
    let span = (twice_high - twice_low) / 2.0;
    let x = (x - min).abs();
    let extra = x % span;
    let flips = (x / span).floor();
    if flips % 2.0 == 0.0 {
        extra + min
    } else {
        span - extra + min
    }
}

/// `compute_coordinates`: applies border or reflection padding to an element coordinate.
fn pad_coordinate(x: f64, size: usize, padding: GridPadding, align_corners: bool) -> f64 {
    match padding {
        GridPadding::Zeros => x,
        GridPadding::Border => clip(x, size),
        GridPadding::Reflection => {
            let s = size as f64;
            let r = if align_corners {
                reflect(x, 0.0, 2.0 * (s - 1.0))
            } else {
                reflect(x, -1.0, 2.0 * s - 1.0)
            };
            clip(r, size)
        }
    }
}

/// `get_cubic_upsample_coefficients` with A = -0.75, for fraction `t`.
fn cubic_coefficients(t: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let near = |x: f64| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let far = |x: f64| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
}

/// Index of integer coordinate `i` if it lies in `0..size`.
fn in_range(i: f64, size: usize) -> Option<usize> {
    (i >= 0.0 && i < size as f64).then_some(i as usize)
}

/// `aten.grid_sampler_2d` / `grid_sampler_3d(input, grid, interpolation_mode, padding_mode,
/// align_corners)`: output `[N, C, grid spatial dims...]` of the input's dtype.
pub fn grid_sampler(
    input: &Tensor,
    grid: &Tensor,
    interpolation_mode: i64,
    padding_mode: i64,
    align_corners: bool,
) -> Result<Tensor> {
    let op = "grid_sampler";
    let mode = GridInterp::from_int(interpolation_mode)?;
    let padding = GridPadding::from_int(padding_mode)?;
    float_only(op, input.dtype())?;
    if grid.dtype() != input.dtype() {
        return invalid(op, "input and grid must have the same dtype");
    }
    let r = input.ndim();
    if !matches!(r, 4 | 5) || grid.ndim() != r {
        return shape_err(op, "input and grid must both be 4-D or both 5-D");
    }
    let sp = r - 2;
    let (is, gs) = (input.shape(), grid.shape());
    if gs[0] != is[0] || gs[r - 1] != sp {
        return shape_err(
            op,
            format!("grid {gs:?} does not match input {is:?} (batch, {sp} coordinates)"),
        );
    }
    if is[2..].contains(&0) {
        return shape_err(op, "input spatial dims must be non-zero");
    }
    if mode == GridInterp::Bicubic && sp != 2 {
        return invalid(op, "bicubic interpolation needs a 4-D input");
    }
    let (n, c) = (is[0], is[1]);
    let in_sp = &is[2..];
    let out_sp = &gs[1..r - 1];
    let (in_vol, out_vol) = (numel(in_sp), numel(out_sp));
    let x = input.to_f64_vec();
    let g = grid.to_f64_vec();
    // Row-major strides of the spatial dims.
    let mut st = vec![1usize; sp];
    for d in (0..sp.saturating_sub(1)).rev() {
        st[d] = st[d + 1] * in_sp[d + 1];
    }
    let mut out = vec![0f64; n * c * out_vol];
    for b in 0..n {
        for p in 0..out_vol {
            let coords = &g[(b * out_vol + p) * sp..][..sp];
            // Per spatial dim (outermost first; the grid lists the innermost first) the
            // (index or None for a zero tap, weight) pairs.
            let per_dim: Vec<Vec<(Option<usize>, f64)>> = (0..sp)
                .map(|d| {
                    let size = in_sp[d];
                    let u = unnormalize(coords[sp - 1 - d], size, align_corners);
                    match mode {
                        GridInterp::Bilinear => {
                            let xs = pad_coordinate(u, size, padding, align_corners);
                            let lo = xs.floor();
                            let w = xs - lo;
                            vec![(in_range(lo, size), 1.0 - w), (in_range(lo + 1.0, size), w)]
                        }
                        GridInterp::Nearest => {
                            let xs = pad_coordinate(u, size, padding, align_corners);
                            vec![(in_range(xs.round_ties_even(), size), 1.0)]
                        }
                        GridInterp::Bicubic => {
                            let lo = u.floor();
                            let coef = cubic_coefficients(u - lo);
                            (0..4)
                                .map(|k| {
                                    let tap = lo - 1.0 + k as f64;
                                    let xb = pad_coordinate(tap, size, padding, align_corners);
                                    // PyTorch truncates the bounded coordinate to an index.
                                    (in_range(xb.trunc(), size), coef[k])
                                })
                                .collect()
                        }
                    }
                })
                .collect();
            let mut taps: Vec<(Option<usize>, f64)> = vec![(Some(0), 1.0)];
            for (dim, &stride) in per_dim.iter().zip(&st) {
                taps = taps
                    .iter()
                    .flat_map(|&(o, w)| {
                        dim.iter()
                            .map(move |&(i, wi)| (o.zip(i).map(|(o, i)| o + i * stride), w * wi))
                    })
                    .collect();
            }
            for ch in 0..c {
                let base = (b * c + ch) * in_vol;
                out[(b * c + ch) * out_vol + p] = taps
                    .iter()
                    .filter_map(|&(o, w)| o.map(|o| w * x[base + o]))
                    .sum();
            }
        }
    }
    let mut shape = vec![n, c];
    shape.extend_from_slice(out_sp);
    let t = Tensor::from_parts(out, shape);
    Ok(if input.dtype() == DType::F64 {
        t
    } else {
        t.to_dtype(input.dtype())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
    }

    #[test]
    fn modes_on_a_2x2_image() {
        let x = t(&[1., 2., 3., 4.], &[1, 1, 2, 2]);
        let at = |gx: f32, gy: f32, m: i64, p: i64, a: bool| {
            grid_sampler(&x, &t(&[gx, gy], &[1, 1, 1, 2]), m, p, a)
                .unwrap()
                .to_f64_vec()[0]
        };
        assert_eq!(at(0.0, 0.0, 0, 0, false), 2.5);
        assert_eq!(at(-1.0, -1.0, 0, 0, true), 1.0);
        assert_eq!(at(-1.0, -1.0, 0, 0, false), 0.25);
        assert_eq!(at(-1.0, -1.0, 0, 1, false), 1.0);
        assert_eq!(at(-1.0, -1.0, 0, 2, false), 1.0);
        assert_eq!(at(0.5, -1.0, 0, 0, true), 1.75);
        assert_eq!(at(0.5, -0.5, 1, 0, true), 2.0);
        assert_eq!(at(5.0, 5.0, 0, 1, true), 4.0);
        assert_eq!(at(-3.0, 3.0, 0, 2, true), 2.0);
        assert_eq!(at(1.0, 1.0, 2, 0, true), 4.0);
        assert!((at(0.0, 0.0, 2, 0, true) - 0.59375 * 0.59375 * 10.0).abs() < 1e-6);
        assert!((at(0.0, 0.0, 2, 1, true) - 2.5).abs() < 1e-6);
    }

    #[test]
    fn shapes_and_refusals() {
        let x = t(&[0.0; 24], &[1, 2, 3, 4]);
        let y = grid_sampler(&x, &t(&[0.0; 10], &[1, 1, 5, 2]), 0, 0, false).unwrap();
        assert_eq!(y.shape(), &[1, 2, 1, 5]);
        let g = t(&[0.0; 10], &[1, 1, 5, 2]);
        assert!(grid_sampler(&x, &g, 3, 0, false).is_err());
        assert!(grid_sampler(&x, &g, 0, 3, false).is_err());
        assert!(grid_sampler(&x, &t(&[0.0; 15], &[1, 1, 5, 3]), 0, 0, false).is_err());
        let x3 = t(&[0.0; 8], &[1, 1, 2, 2, 2]);
        let g3 = t(&[0.0; 3], &[1, 1, 1, 1, 3]);
        assert_eq!(
            grid_sampler(&x3, &g3, 0, 0, true).unwrap().shape(),
            &[1, 1, 1, 1, 1]
        );
        assert!(grid_sampler(&x3, &g3, 2, 0, true).is_err());
    }
}
