//! Separable resampling as PyTorch's CPU `upsample_separable_Nd_kernel_impl` does it: the
//! antialiased ops (`_upsample_bilinear2d_aa`, `_upsample_bicubic2d_aa`, every float and uint8
//! dtype they take) and uint8 `upsample_bilinear2d` / `upsample_bicubic2d` without antialias.
//!
//! Each resized spatial axis gets, per output index, a range of input indices and normalized
//! filter weights; the last axis is resampled first, then the others from the innermost out,
//! each pass writing a temporary; an axis whose size does not change is skipped (and an
//! unchanged shape is a copy, whatever the scales say). Float inputs compute the weights and
//! the sums in their own type, as ATen's `scalar_t` does, so f32 results round like PyTorch's.
//! uint8 computes the weights in f64, converts them to int16 fixed point at a precision chosen
//! from the axis's largest weight, and sums in integers with a half-unit rounding offset and a
//! clamp to 0..=255 after every pass: these exact rules make the results bit-identical to
//! PyTorch's (the generic and the AVX2 paths agree on them).
//!
//! The float path without antialias stays in [`crate::kernels::upsample`] (PyTorch computes it
//! non-separably); here `antialias = false` is meant for uint8.

use crate::dtype::{DType, Real};
use crate::error::{dtype_err, invalid, shape_err, Result};
use crate::kernels::upsample::InterpMode;
use crate::tensor::{numel, Tensor};

/// The filter of a mode: its support in input pixels at scale 1 (`interp_size`) and its kernel.
#[derive(Clone, Copy, Debug)]
enum Filter {
    /// Bilinear: the triangle `1 - |x|` on `|x| < 1`.
    Triangle,
    /// Bicubic: Keys' cubic convolution with parameter `a` (-0.5 with antialias, as PIL;
    /// -0.75 without, as OpenCV and PyTorch's float bicubic).
    Cubic(f64),
}

impl Filter {
    fn interp_size(self) -> usize {
        match self {
            Filter::Triangle => 2,
            Filter::Cubic(_) => 4,
        }
    }

    /// The kernel at `x`, evaluated in the weights' type as ATen's `aa_filter<scalar_t>`.
    fn eval<W: Real>(self, x: W) -> W {
        let x = x.abs();
        let one = W::one();
        match self {
            Filter::Triangle => {
                if x < one {
                    one - x
                } else {
                    W::zero()
                }
            }
            Filter::Cubic(a) => {
                let a = W::lit(a);
                let n = |v: f64| W::lit(v);
                if x < one {
                    ((a + n(2.0)) * x - (a + n(3.0))) * x * x + one
                } else if x < n(2.0) {
                    ((a * x - n(5.0) * a) * x + n(8.0) * a) * x - n(4.0) * a
                } else {
                    W::zero()
                }
            }
        }
    }
}

/// The taps of one resized axis: output index `o` reads `len[o]` consecutive input indices from
/// `first[o]`, weighted by `weights[o * width ..][.. len[o]]`.
struct Axis<W> {
    first: Vec<usize>,
    len: Vec<usize>,
    weights: Vec<W>,
    width: usize,
    /// The largest normalized weight (it sets the uint8 fixed-point precision).
    wt_max: W,
}

/// `area_pixel_compute_scale`: input pixels per output pixel, in the weights' type.
fn pixel_scale<W: Real>(input: usize, output: usize, align_corners: bool, scale: Option<f64>) -> W {
    if align_corners {
        if output > 1 {
            W::lit((input - 1) as f64) / W::lit((output - 1) as f64)
        } else {
            W::zero()
        }
    } else {
        match scale {
            Some(s) if s > 0.0 => W::lit(1.0 / s),
            _ => W::lit(input as f64) / W::lit(output as f64),
        }
    }
}

/// The weights of one axis (`_compute_index_ranges_weights`). Mixed f64 steps follow ATen's
/// C++ promotions (`i + 0.5` and the `+ 0.5` of the bounds are double, the rest `scalar_t`).
fn axis_weights<W: Real>(
    input: usize,
    output: usize,
    align_corners: bool,
    scale: Option<f64>,
    filter: Filter,
    antialias: bool,
) -> Axis<W> {
    let scale: W = pixel_scale(input, output, align_corners, scale);
    let interp = filter.interp_size();
    let sc = scale.to_f64();
    let (support, width) = if antialias {
        let support = if sc >= 1.0 {
            W::lit(interp as f64 * 0.5 * sc)
        } else {
            W::lit(interp as f64 * 0.5)
        };
        (support, support.to_f64().ceil() as usize * 2 + 1)
    } else {
        (W::lit(interp as f64 * 0.5), interp)
    };
    let mut ax = Axis {
        first: Vec::with_capacity(output),
        len: Vec::with_capacity(output),
        weights: vec![W::zero(); output * width],
        width,
        wt_max: W::zero(),
    };
    let input_i = input as i64;
    for o in 0..output {
        let wt = &mut ax.weights[o * width..(o + 1) * width];
        let (xmin, xsize, wmax) = if antialias {
            aa_taps(o, input_i, scale, support, filter, wt)
        } else {
            plain_taps(o, input_i, scale, align_corners, filter, wt)
        };
        ax.first.push(xmin);
        ax.len.push(xsize);
        if wmax > ax.wt_max {
            ax.wt_max = wmax;
        }
    }
    ax
}

/// `_compute_indices_min_size_weights_aa`: PIL's bounds around the output pixel's center, the
/// filter stretched by the downscale factor, weights normalized to sum 1.
fn aa_taps<W: Real>(
    o: usize,
    input: i64,
    scale: W,
    support: W,
    filter: Filter,
    wt: &mut [W],
) -> (usize, usize, W) {
    let center = W::lit(scale.to_f64() * (o as f64 + 0.5));
    let invscale = if scale.to_f64() >= 1.0 {
        W::lit(1.0 / scale.to_f64())
    } else {
        W::one()
    };
    let xmin = (((center - support).to_f64() + 0.5) as i64).max(0);
    let xmax = (((center + support).to_f64() + 0.5) as i64).min(input);
    // Rounding can make the range one wider than the buffer (ATen clips it the same way); an
    // explicit scale that maps past the input gives an empty range (a zero output).
    let xsize = (xmax - xmin).clamp(0, wt.len() as i64) as usize;
    let mut total = W::zero();
    for (j, w) in wt.iter_mut().take(xsize).enumerate() {
        let x = ((W::lit((j as i64 + xmin) as f64) - center).to_f64() + 0.5) * invscale.to_f64();
        *w = filter.eval(W::lit(x));
        total += *w;
    }
    let mut wmax = W::zero();
    if total != W::zero() {
        for w in wt.iter_mut().take(xsize) {
            *w /= total;
            if *w > wmax {
                wmax = *w;
            }
        }
    }
    ((xmin as usize).min(input as usize), xsize, wmax)
}

/// `_compute_indices_min_size_weights` (antialias off, the uint8 path): the usual source index
/// and fraction, `interp_size` taps, and the weights of taps that fall outside the input folded
/// onto the border pixel (as the float path's clamped indices would read it).
fn plain_taps<W: Real>(
    o: usize,
    input: i64,
    scale: W,
    align_corners: bool,
    filter: Filter,
    wt: &mut [W],
) -> (usize, usize, W) {
    let interp = wt.len();
    let cubic = interp > 2;
    let real = if align_corners {
        scale * W::lit(o as f64)
    } else {
        let s = scale * (W::lit(o as f64) + W::lit(0.5)) - W::lit(0.5);
        if !cubic && s < W::zero() {
            W::zero()
        } else {
            s
        }
    };
    // `guard_index_and_lambda` floors through f32 (`floorf`), also for double.
    let index = ((real.to_f64() as f32).floor() as i64).min(input - 1);
    let lambda = (real - W::lit(index as f64)).max(W::zero()).min(W::one());
    let support = (interp as f64 * 0.5) as i64;
    let unbound_min = index - support + 1;
    let unbound_max = index + support + 1;
    let index_min = unbound_min.max(0);
    let index_size = (unbound_max.min(input) - index_min).clamp(0, interp as i64);
    let mut w_index: i64 = 0;
    let mut wmax = W::zero();
    for j in 0..interp {
        wt[j] = W::zero();
        let w = filter.eval(W::lit((j as i64 + 1 - support) as f64) - lambda);
        if unbound_min + j as i64 <= 0 {
            w_index = 0;
        } else if unbound_min + j as i64 >= input - 1 {
            w_index = index_size - 1;
        }
        if let Some(slot) = usize::try_from(w_index).ok().and_then(|k| wt.get_mut(k)) {
            *slot += w;
            if *slot > wmax {
                wmax = *slot;
            }
        }
        w_index += 1;
    }
    (
        (index_min as usize).min(input as usize - 1),
        index_size as usize,
        wmax,
    )
}

/// `_compute_index_ranges_int16_weights`: the largest precision (< 22 bits) at which the largest
/// weight, doubled, still fits int16; weights scaled to it, rounded half away from zero.
fn quantize(ax: Axis<f64>) -> (Axis<i16>, u32) {
    let mut precision = 0u32;
    while precision < 22 {
        let next = (0.5 + ax.wt_max * (1i64 << (precision + 1)) as f64) as i32;
        if next >= 1 << 15 {
            break;
        }
        precision += 1;
    }
    let unit = (1i64 << precision) as f64;
    let weights = ax
        .weights
        .iter()
        .map(|&w| {
            let v = w * unit;
            // C++'s int -> int16 conversion wraps; the precision keeps every weight in range.
            (if v < 0.0 {
                (v - 0.5) as i32
            } else {
                (v + 0.5) as i32
            }) as i16
        })
        .collect();
    (
        Axis {
            first: ax.first,
            len: ax.len,
            weights,
            width: ax.width,
            wt_max: 0,
        },
        precision,
    )
}

/// Resample the middle dim of `[outer, n, inner]` float data.
fn pass_float<F: Real>(x: &[F], outer: usize, n: usize, inner: usize, ax: &Axis<F>) -> Vec<F> {
    let m = ax.first.len();
    let mut out = vec![F::zero(); outer * m * inner];
    for o in 0..outer {
        for j in 0..m {
            let (first, len) = (ax.first[j], ax.len[j]);
            let w = &ax.weights[j * ax.width..j * ax.width + len];
            let dst = &mut out[(o * m + j) * inner..(o * m + j + 1) * inner];
            for (k, y) in dst.iter_mut().enumerate() {
                let at = |t: usize| x[(o * n + first + t) * inner + k];
                // ATen starts from the first product (not from zero) and adds in tap order.
                if let Some(&w0) = w.first() {
                    let mut acc = at(0) * w0;
                    for (t, &wt) in w.iter().enumerate().skip(1) {
                        acc += at(t) * wt;
                    }
                    *y = acc;
                }
            }
        }
    }
    out
}

/// Resample the middle dim of `[outer, n, inner]` uint8 data with int16 weights at `precision`
/// bits: integer sums from half a unit, shifted down and clamped (`basic_loop_*<uint8_t>`).
fn pass_u8(
    x: &[u8],
    outer: usize,
    n: usize,
    inner: usize,
    ax: &Axis<i16>,
    precision: u32,
) -> Vec<u8> {
    let m = ax.first.len();
    let half = 1i32 << (precision - 1);
    let mut out = vec![0u8; outer * m * inner];
    for o in 0..outer {
        for j in 0..m {
            let (first, len) = (ax.first[j], ax.len[j]);
            let w = &ax.weights[j * ax.width..j * ax.width + len];
            let dst = &mut out[(o * m + j) * inner..(o * m + j + 1) * inner];
            for (k, y) in dst.iter_mut().enumerate() {
                let mut acc = half;
                for (t, &wt) in w.iter().enumerate() {
                    let v = x[(o * n + first + t) * inner + k] as i32;
                    acc = acc.wrapping_add(v * wt as i32);
                }
                *y = (acc >> precision).clamp(0, 255) as u8;
            }
        }
    }
    out
}

/// The output size of a resampling op: `output_size` when given, else `floor(in * scale)` per
/// axis (`scales` must then all be given), as ATen's `compute_output_size` for `.vec`.
fn output_sizes(
    op: &'static str,
    in_sp: &[usize],
    output_size: Option<&[i64]>,
    scales: &[Option<f64>],
) -> Result<Vec<usize>> {
    let sizes: Vec<i64> = match output_size {
        Some(s) => s.to_vec(),
        None => in_sp
            .iter()
            .zip(scales)
            .map(|(&i, s)| match s {
                Some(s) => Ok((i as f64 * s) as i64),
                None => invalid(op, "either output_size or scale_factors must be given"),
            })
            .collect::<Result<_>>()?,
    };
    if sizes.iter().any(|&v| v <= 0) || in_sp.contains(&0) {
        return shape_err(
            op,
            format!(
                "input and output sizes must be positive, got input {in_sp:?} and output {sizes:?}"
            ),
        );
    }
    Ok(sizes.into_iter().map(|v| v as usize).collect())
}

/// Separable resampling of the trailing `scales.len()` dims of `x` (`[N, C, *spatial]`), as
/// PyTorch's CPU kernel for `_upsample_{bilinear,bicubic}2d_aa` (`antialias = true`, f32, f64
/// and uint8) and uint8 `upsample_{bilinear,bicubic}2d` (`antialias = false`).
///
/// `output_size` gives the output spatial size; without it every `scales` entry must be given
/// and the size is `floor(in * scale)`. `scales` (one per spatial dim, output/input) only steer
/// the coordinate mapping when `align_corners` is false, as in ATen. `mode` is
/// [`InterpMode::Linear`] or [`InterpMode::Cubic`]; errors name `op`.
pub fn separable_resample(
    op: &'static str,
    x: &Tensor,
    output_size: Option<&[i64]>,
    scales: &[Option<f64>],
    mode: InterpMode,
    align_corners: bool,
    antialias: bool,
) -> Result<Tensor> {
    let nd = scales.len();
    if output_size.is_some_and(|s| s.len() != nd) {
        return invalid(op, "output_size must have one value per spatial dim");
    }
    if nd == 0 || x.ndim() != nd + 2 {
        return shape_err(
            op,
            format!(
                "expected a {}-d input for {nd}-d resampling, got {:?}",
                nd + 2,
                x.shape()
            ),
        );
    }
    let filter = match (mode, antialias) {
        (InterpMode::Linear, _) => Filter::Triangle,
        (InterpMode::Cubic, true) => Filter::Cubic(-0.5),
        (InterpMode::Cubic, false) => Filter::Cubic(-0.75),
        _ => return invalid(op, "separable resampling is bilinear or bicubic"),
    };
    let sp0 = 2;
    let in_sp = x.shape()[sp0..].to_vec();
    let out_sp = output_sizes(op, &in_sp, output_size, scales)?;
    if numel(&x.shape()[..sp0]) == 0 {
        let mut shape = x.shape().to_vec();
        shape[sp0..].copy_from_slice(&out_sp);
        return Ok(Tensor::zeros(&shape, x.dtype()));
    }
    if out_sp == in_sp {
        return Ok(x.clone());
    }
    // The last dim first, then the others from the innermost out.
    let order: Vec<usize> = std::iter::once(nd - 1).chain((0..nd - 1).rev()).collect();
    let shape = x.shape().to_vec();
    match x.dtype() {
        DType::U8 => separable_passes(
            x.as_slice::<u8>()?.to_vec(),
            shape,
            sp0,
            &order,
            &in_sp,
            &out_sp,
            |data, i, (outer, size, inner)| {
                let ax = axis_weights::<f64>(
                    in_sp[i],
                    out_sp[i],
                    align_corners,
                    scales[i],
                    filter,
                    antialias,
                );
                let (ax, precision) = quantize(ax);
                if precision == 0 {
                    return invalid(op, "weights too large for int16 fixed point");
                }
                Ok(pass_u8(data, outer, size, inner, &ax, precision))
            },
        ),
        DType::F32 | DType::F64 => crate::with_real!(x.dtype(), F => {
            separable_passes(
                x.as_slice::<F>()?.to_vec(),
                shape,
                sp0,
                &order,
                &in_sp,
                &out_sp,
                |data, i, (outer, size, inner)| {
                    let ax = axis_weights::<F>(
                        in_sp[i],
                        out_sp[i],
                        align_corners,
                        scales[i],
                        filter,
                        antialias,
                    );
                    Ok(pass_float(data, outer, size, inner, &ax))
                },
            )
        }),
        dt => dtype_err(op, dt),
    }
}

/// Runs `pass` over each spatial axis `i` of `order` whose size changes (axis `sp0 + i` of
/// `shape`), with the data seen as `(outer, size, inner)`, and returns the resampled tensor.
fn separable_passes<T: crate::dtype::Element>(
    mut data: Vec<T>,
    mut shape: Vec<usize>,
    sp0: usize,
    order: &[usize],
    in_sp: &[usize],
    out_sp: &[usize],
    mut pass: impl FnMut(&[T], usize, (usize, usize, usize)) -> Result<Vec<T>>,
) -> Result<Tensor> {
    for &i in order {
        if in_sp[i] == out_sp[i] {
            continue;
        }
        let d = sp0 + i;
        let layout = (numel(&shape[..d]), shape[d], numel(&shape[d + 1..]));
        data = pass(&data, i, layout)?;
        shape[d] = out_sp[i];
    }
    Ok(Tensor::from_parts(data, shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn antialias_weights_by_hand() {
        // 4 -> 2 bilinear: scale 2, support 2; output 0 is centered at 1.0 and reads inputs
        // 0..3 at distances 0.25, 0.25, 0.75 (halved): triangle 0.75, 0.75, 0.25, over 1.75.
        let ax = axis_weights::<f64>(4, 2, false, None, Filter::Triangle, true);
        assert_eq!(ax.width, 5);
        assert_eq!((ax.first[0], ax.len[0]), (0, 3));
        let w = &ax.weights[..3];
        for (g, e) in w.iter().zip([3.0 / 7.0, 3.0 / 7.0, 1.0 / 7.0]) {
            assert!((g - e).abs() < 1e-15);
        }
        // Output 1 is centered at 3.0: inputs 1..4 (the range is cut at the input's end).
        assert_eq!((ax.first[1], ax.len[1]), (1, 3));
    }

    #[test]
    fn plain_weights_fold_onto_the_border() {
        // 2 -> 4 bicubic (a = -0.75), output 0: source -0.25, index -1, lambda 0.75; the taps
        // at -2, -1 and 0 all read pixel 0, so their weights add up into the first slot.
        let ax = axis_weights::<f64>(2, 4, false, None, Filter::Cubic(-0.75), false);
        assert_eq!((ax.first[0], ax.len[0]), (0, 2));
        let k = |x: f64| Filter::Cubic(-0.75).eval(x);
        let w = &ax.weights[..4];
        assert!((w[0] - (k(1.75) + k(0.75) + k(0.25))).abs() < 1e-15);
        assert!((w[1] - k(1.25)).abs() < 1e-15);
        assert_eq!(&w[2..], &[0.0, 0.0]);
    }

    #[test]
    fn int16_precision_and_rounding() {
        // The largest weight 0.75 fits int16 doubled up to 2^15 (0.75 * 2^16 does not):
        // precision 15; +-1.5 units round half away from zero.
        let unit = 1.0 / 32768.0;
        let ax = Axis {
            first: vec![0],
            len: vec![4],
            weights: vec![0.75, 0.25, 1.5 * unit, -1.5 * unit],
            width: 4,
            wt_max: 0.75,
        };
        let (q, p) = quantize(ax);
        assert_eq!(p, 15);
        assert_eq!(q.weights, [24576, 8192, 2, -2]);
    }
}
