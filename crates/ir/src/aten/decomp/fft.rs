//! `torch.fft` (the export dialect's `aten.fft_*`) in terms of ATen's FFT primitives
//! `_fft_c2c`, `_fft_r2c` and `_fft_c2r`, exactly as ATen's `SpectralOps.cpp` writes them (so
//! the result agrees with the core-ATen export): the input is promoted (integers and bools to
//! the default float, then to complex where the transform needs it), resized to the requested
//! signal sizes by slicing or zero padding, and the `norm` string becomes ATen's int
//! `normalization` (0 none, 1 `1/sqrt(n)`, 2 `1/n`) according to the direction.
//!
//! Transformed dims must have static sizes: the default sizes (`2 * (n - 1)` for the
//! Hermitian transforms) are computed here.

use super::{one, Add};
use crate::dtype::DType;
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{int, ints, val};
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.stft.default", stft);
    // One-dimensional transforms.
    add("aten.fft_fft.default", |c| one_dim(c, Kind::Fft));
    add("aten.fft_ifft.default", |c| one_dim(c, Kind::Ifft));
    add("aten.fft_rfft.default", |c| one_dim(c, Kind::Rfft));
    add("aten.fft_irfft.default", |c| one_dim(c, Kind::Irfft));
    add("aten.fft_hfft.default", |c| one_dim(c, Kind::Hfft));
    add("aten.fft_ihfft.default", |c| one_dim(c, Kind::Ihfft));
    // `*2` are `*n` with their own defaults (`dim=[-2, -1]`).
    for (name, kind) in [
        ("aten.fft_fft2.default", Kind::Fft),
        ("aten.fft_fftn.default", Kind::Fft),
        ("aten.fft_ifft2.default", Kind::Ifft),
        ("aten.fft_ifftn.default", Kind::Ifft),
        ("aten.fft_rfft2.default", Kind::Rfft),
        ("aten.fft_rfftn.default", Kind::Rfft),
        ("aten.fft_irfft2.default", Kind::Irfft),
        ("aten.fft_irfftn.default", Kind::Irfft),
        ("aten.fft_hfft2.default", Kind::Hfft),
        ("aten.fft_hfftn.default", Kind::Hfft),
        ("aten.fft_ihfft2.default", Kind::Ihfft),
        ("aten.fft_ihfftn.default", Kind::Ihfft),
    ] {
        let f: fn(&mut DecompCx<'_>) -> Result<Vec<Arg>, String> = match kind {
            Kind::Fft => |c| n_dim(c, Kind::Fft),
            Kind::Ifft => |c| n_dim(c, Kind::Ifft),
            Kind::Rfft => |c| n_dim(c, Kind::Rfft),
            Kind::Irfft => |c| n_dim(c, Kind::Irfft),
            Kind::Hfft => |c| n_dim(c, Kind::Hfft),
            Kind::Ihfft => |c| n_dim(c, Kind::Ihfft),
        };
        add(name, f);
    }
}

/// An optional bool argument (`None` as `None`).
fn opt_bool(c: &DecompCx<'_>, name: &str) -> Result<Option<bool>, String> {
    match c.arg(name)? {
        Arg::None => Ok(None),
        Arg::Bool(b) => Ok(Some(b)),
        a => Err(format!(
            "argument `{name}` must be a bool or None, got {a:?}"
        )),
    }
}

/// `stft(self, n_fft, hop_length=None, win_length=None, window=None, normalized=False,
/// onesided=None, return_complex=None)` as ATen's `SpectralOps.cpp` computes it (centre
/// padding is the caller's: `torch.stft` pads before calling the op): frames of `n_fft`
/// samples every `hop_length` (`unfold`), times the window (zero padded to `n_fft`, centred;
/// a rectangular one when only `win_length < n_fft` is given), a forward FFT over each frame
/// (`_fft_r2c`, one-sided by default, `1/sqrt(n_fft)` when `normalized`), frequencies before
/// frames, and the batch dim of a 1-D input dropped; `view_as_real` unless `return_complex`.
fn stft(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let input = c.tensor("self")?;
    let n_fft = c.int("n_fft")?;
    let hop = c.opt_int("hop_length")?.unwrap_or(n_fft >> 2);
    let win_length = c.opt_int("win_length")?.unwrap_or(n_fft);
    let window = c.opt_tensor("window")?;
    let normalized = c.bool("normalized")?;
    let it = c.tensor_type(input)?.clone();
    let complex_input = it.dtype.is_complex()
        || window.map_or(Ok(false), |w| {
            c.tensor_type(w).map(|t| t.dtype.is_complex())
        })?;
    let return_complex = match opt_bool(c, "return_complex")? {
        Some(r) => r,
        None if complex_input => true,
        None => {
            return Err(
                "stft requires the return_complex parameter be given for real inputs, \
                        and will further require that return_complex=True in a future PyTorch \
                        release."
                    .into(),
            )
        }
    };
    let onesided = opt_bool(c, "onesided")?.unwrap_or(!complex_input);
    if complex_input && onesided {
        return Err("Cannot have onesided output if window or input is complex".into());
    }
    let rank = it.rank();
    if rank != 1 && rank != 2 {
        return Err(format!("stft: expected a 1D or 2D tensor, but got {rank}D"));
    }
    let x = if rank == 1 {
        c.call("aten.unsqueeze.default", vec![val(input), int(0)])?
    } else {
        input
    };
    let len = size(c, x, 1)?;
    if n_fft <= 0 || n_fft > len {
        return Err(format!(
            "stft: expected 0 < n_fft < {len}, but got n_fft={n_fft}"
        ));
    }
    if hop <= 0 {
        return Err(format!(
            "stft: expected hop_length > 0, but got hop_length={hop}"
        ));
    }
    if win_length <= 0 || win_length > n_fft {
        return Err(format!(
            "stft: expected 0 < win_length <= n_fft, but got win_length={win_length}"
        ));
    }
    if let Some(w) = window {
        let wt = c.tensor_type(w)?;
        if wt.rank() != 1 || wt.shape[0].as_const() != Some(win_length) {
            return Err(format!(
                "stft: expected a 1D window tensor of size equal to win_length={win_length}, \
                 but got window with size {wt}"
            ));
        }
    }
    let left = (n_fft - win_length) / 2;
    let window = match window {
        Some(w) if win_length < n_fft => Some(c.call(
            "aten.constant_pad_nd.default",
            vec![val(w), ints(&[left, n_fft - win_length - left])],
        )?),
        None if win_length < n_fft => {
            let ones = c.call_kw(
                "aten.ones.default",
                vec![ints(&[win_length])],
                vec![("dtype".into(), Arg::DType(it.dtype))],
            )?[0];
            Some(c.call(
                "aten.constant_pad_nd.default",
                vec![val(ones), ints(&[left, n_fft - win_length - left])],
            )?)
        }
        w => w,
    };
    let mut frames = c.call(
        "aten.unfold.default",
        vec![val(x), int(-1), int(n_fft), int(hop)],
    )?;
    if let Some(w) = window {
        frames = c.call("aten.mul.Tensor", vec![val(frames), val(w)])?;
    }
    let norm = if normalized { 1 } else { 0 };
    let spectrum = if complex_input {
        c2c(c, frames, &[2], norm, true)?
    } else {
        r2c(c, frames, &[2], norm, onesided)?
    };
    let mut out = c.call(
        "aten.permute.default",
        vec![val(spectrum), ints(&[0, 2, 1])],
    )?;
    if rank == 1 {
        out = c.call("aten.squeeze.dims", vec![val(out), ints(&[0])])?;
    }
    if !return_complex {
        out = c.call("aten.view_as_real.default", vec![val(out)])?;
    }
    one(out)
}

/// The six transforms of `torch.fft`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fft,
    Ifft,
    Rfft,
    Irfft,
    Hfft,
    Ihfft,
}

impl Kind {
    /// The direction `norm_from_string` is asked for.
    fn forward(self) -> bool {
        matches!(self, Kind::Fft | Kind::Rfft | Kind::Hfft)
    }
}

/// ATen's `norm_from_string`: the `normalization` int for `norm` in direction `forward`.
fn norm_mode(norm: &Arg, forward: bool) -> Result<i64, String> {
    let (none, by_root_n, by_n) = (0, 1, 2);
    match norm {
        Arg::None => Ok(if forward { none } else { by_n }),
        Arg::Str(s) if s == "backward" => Ok(if forward { none } else { by_n }),
        Arg::Str(s) if s == "forward" => Ok(if forward { by_n } else { none }),
        Arg::Str(s) if s == "ortho" => Ok(by_root_n),
        Arg::Str(s) => Err(format!("Invalid normalization mode: \"{s}\"")),
        a => Err(format!(
            "argument `norm` must be a string or None, got {a:?}"
        )),
    }
}

/// ATen's `promote_tensor_fft` on the CPU: complex stays, integers and bools become the
/// default float (f32), only f32 and f64 are transformed; with `complex` the result is the
/// matching complex type (a `_to_copy` when the dtype changes).
fn promote(c: &mut DecompCx<'_>, x: ValueId, complex: bool) -> Result<ValueId, String> {
    let cur = c.tensor_type(x)?.dtype;
    if cur.is_complex() {
        if cur == DType::C32 {
            return Err("Unsupported dtype ComplexHalf on the CPU".into());
        }
        return Ok(x);
    }
    let mut to = if cur.is_float() { cur } else { DType::F32 };
    if !matches!(to, DType::F32 | DType::F64) {
        return Err(format!("Unsupported dtype {to} on the CPU"));
    }
    if complex {
        to = if to == DType::F64 {
            DType::C128
        } else {
            DType::C64
        };
    }
    if to == cur {
        return Ok(x);
    }
    Ok(c.call_kw(
        "aten._to_copy.default",
        vec![val(x)],
        vec![("dtype".into(), Arg::DType(to))],
    )?[0])
}

/// The static size of dim `d` of `x`.
fn size(c: &DecompCx<'_>, x: ValueId, d: usize) -> Result<i64, String> {
    let s = &c.tensor_type(x)?.shape;
    s.get(d)
        .and_then(|s| s.as_const())
        .ok_or_else(|| format!("FFT over dim {d}, which has no static size"))
}

/// `maybe_wrap_dim(dim, rank, wrap_scalar=false)`.
fn wrap(d: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    if d < -r || d >= r {
        return Err(format!(
            "Dimension out of range (expected to be in range of [{}, {}], but got {d})",
            -r,
            r - 1
        ));
    }
    Ok(if d < 0 { d + r } else { d } as usize)
}

/// ATen's `resize_fft_input`: each of `dims` sliced or zero padded (at the end) to its entry
/// of `sizes` (-1 keeps the size).
fn resize(
    c: &mut DecompCx<'_>,
    mut x: ValueId,
    dims: &[usize],
    sizes: &[i64],
) -> Result<ValueId, String> {
    let rank = c.rank(x)?;
    let mut pad = vec![0i64; 2 * rank];
    let mut must_pad = false;
    for (&d, &n) in dims.iter().zip(sizes) {
        if n == -1 {
            continue;
        }
        let cur = size(c, x, d)?;
        if cur < n {
            must_pad = true;
            pad[2 * rank - 2 * d - 1] = n - cur;
        }
        if cur > n {
            x = c.call(
                "aten.slice.Tensor",
                vec![val(x), int(d as i64), int(0), int(n)],
            )?;
        }
    }
    if must_pad {
        x = c.call("aten.constant_pad_nd.default", vec![val(x), ints(&pad)])?;
    }
    Ok(x)
}

fn conj(c: &mut DecompCx<'_>, x: ValueId) -> Result<ValueId, String> {
    c.call("aten._conj.default", vec![val(x)])
}

fn c2c(
    c: &mut DecompCx<'_>,
    x: ValueId,
    dims: &[usize],
    norm: i64,
    forward: bool,
) -> Result<ValueId, String> {
    let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    c.call(
        "aten._fft_c2c.default",
        vec![val(x), ints(&dims), int(norm), Arg::Bool(forward)],
    )
}

fn r2c(
    c: &mut DecompCx<'_>,
    x: ValueId,
    dims: &[usize],
    norm: i64,
    onesided: bool,
) -> Result<ValueId, String> {
    let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    c.call(
        "aten._fft_r2c.default",
        vec![val(x), ints(&dims), int(norm), Arg::Bool(onesided)],
    )
}

fn c2r(
    c: &mut DecompCx<'_>,
    x: ValueId,
    dims: &[usize],
    norm: i64,
    last_dim_size: i64,
) -> Result<ValueId, String> {
    let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    c.call(
        "aten._fft_c2r.default",
        vec![val(x), ints(&dims), int(norm), int(last_dim_size)],
    )
}

fn check_points(n: i64) -> Result<(), String> {
    if n < 1 {
        return Err(format!("Invalid number of data points ({n}) specified"));
    }
    Ok(())
}

/// `fft`, `ifft`, `rfft`, `irfft`, `hfft`, `ihfft`: `(self, n=None, dim=-1, norm=None)`.
fn one_dim(c: &mut DecompCx<'_>, kind: Kind) -> Result<Vec<Arg>, String> {
    let input = c.tensor("self")?;
    let n_opt = c.opt_int("n")?;
    let norm = norm_mode(&c.arg("norm")?, kind.forward())?;
    let is_complex = c.tensor_type(input)?.dtype.is_complex();
    let dim = wrap(c.int("dim")?, c.rank(input)?)?;
    match kind {
        Kind::Irfft | Kind::Hfft => {
            // ATen's `fft_c2r`.
            let mut x = promote(c, input, true)?;
            let n = match n_opt {
                Some(n) => n,
                None => 2 * (size(c, x, dim)? - 1),
            };
            check_points(n)?;
            if n_opt.is_some() {
                x = resize(c, x, &[dim], &[n / 2 + 1])?;
            }
            if kind == Kind::Hfft {
                x = conj(c, x)?;
            }
            one(c2r(c, x, &[dim], norm, n)?)
        }
        Kind::Fft | Kind::Ifft if is_complex => {
            // ATen's `fft_c2c`.
            let mut x = input;
            let n = n_opt.map_or_else(|| size(c, x, dim), Ok)?;
            check_points(n)?;
            if n_opt.is_some() {
                x = resize(c, x, &[dim], &[n])?;
            }
            one(c2c(c, x, &[dim], norm, kind == Kind::Fft)?)
        }
        _ => {
            // ATen's `fft_r2c`: fft/ifft of real input (two-sided), rfft and ihfft.
            if is_complex {
                return Err(format!(
                    "{} expects a real input tensor",
                    if kind == Kind::Rfft { "rfft" } else { "ihfft" }
                ));
            }
            let mut x = promote(c, input, false)?;
            let n = n_opt.map_or_else(|| size(c, x, dim), Ok)?;
            check_points(n)?;
            if n_opt.is_some() {
                x = resize(c, x, &[dim], &[n])?;
            }
            let onesided = matches!(kind, Kind::Rfft | Kind::Ihfft);
            let y = r2c(c, x, &[dim], norm, onesided)?;
            // The inverse of real input is the conjugate of the normalized forward transform.
            one(if kind.forward() { y } else { conj(c, y)? })
        }
    }
}

/// ATen's `canonicalize_fft_shape_and_dim_args`: the transformed dims and their signal sizes
/// from the optional `s` and `dim`.
fn shape_and_dims(
    c: &DecompCx<'_>,
    x: ValueId,
    s: Option<Vec<i64>>,
    dim: Option<Vec<i64>>,
) -> Result<(Vec<i64>, Vec<usize>), String> {
    let rank = c.rank(x)?;
    let mut dims = Vec::new();
    if let Some(dim) = &dim {
        for &d in dim {
            let w = wrap(d, rank)?;
            if dims.contains(&w) {
                return Err("FFT dims must be unique".into());
            }
            dims.push(w);
        }
    }
    let shape = match (s, &dim) {
        (Some(s), _) => {
            if dim.as_ref().is_some_and(|d| d.len() != s.len()) {
                return Err("When given, dim and shape arguments must have the same length".into());
            }
            if s.len() > rank {
                return Err(format!(
                    "Got shape with {} values but input tensor only has {rank} dimensions.",
                    s.len()
                ));
            }
            if dim.is_none() {
                dims = (rank - s.len()..rank).collect();
            }
            s.iter()
                .zip(&dims)
                .map(|(&n, &d)| if n == -1 { size(c, x, d) } else { Ok(n) })
                .collect::<Result<Vec<_>, _>>()?
        }
        (None, None) => {
            dims = (0..rank).collect();
            dims.iter()
                .map(|&d| size(c, x, d))
                .collect::<Result<_, _>>()?
        }
        (None, Some(_)) => dims
            .iter()
            .map(|&d| size(c, x, d))
            .collect::<Result<_, _>>()?,
    };
    for &n in &shape {
        check_points(n)?;
    }
    Ok((shape, dims))
}

/// An optional int list argument (`SymInt[1]?`, `int[1]?`).
fn opt_ints(c: &DecompCx<'_>, name: &str) -> Result<Option<Vec<i64>>, String> {
    match c.arg(name)? {
        Arg::None => Ok(None),
        _ => c.ints(name).map(Some),
    }
}

/// The `*2` and `*n` transforms: `(self, s=None, dim=..., norm=None)`.
fn n_dim(c: &mut DecompCx<'_>, kind: Kind) -> Result<Vec<Arg>, String> {
    let input = c.tensor("self")?;
    let s = opt_ints(c, "s")?;
    let dim = opt_ints(c, "dim")?;
    let norm = norm_mode(&c.arg("norm")?, kind.forward())?;
    let is_complex = c.tensor_type(input)?.dtype.is_complex();
    let (mut shape, dims) = shape_and_dims(c, input, s.clone(), dim)?;
    let Some(&last) = dims.last() else {
        return Err("must transform at least one axis".into());
    };
    match kind {
        Kind::Irfft | Kind::Hfft => {
            // `canonicalize_fft_c2r_shape_and_dim_args`: the output size of the last dim.
            let last_dim_size = match s.as_ref().and_then(|s| s.last()) {
                Some(&n) if n != -1 => n,
                _ => 2 * (size(c, input, last)? - 1),
            };
            check_points(last_dim_size)?;
            if let Some(l) = shape.last_mut() {
                *l = last_dim_size / 2 + 1;
            }
            let x = promote(c, input, true)?;
            let x = resize(c, x, &dims, &shape)?;
            if kind == Kind::Irfft {
                return one(c2r(c, x, &dims, norm, last_dim_size)?);
            }
            let (rest, _) = dims.split_at(dims.len() - 1);
            let tmp = if rest.is_empty() {
                x
            } else {
                c2c(c, x, rest, norm, true)?
            };
            let tmp = conj(c, tmp)?;
            one(c2r(c, tmp, &[last], norm, last_dim_size)?)
        }
        Kind::Fft | Kind::Ifft => {
            let x = promote(c, input, true)?;
            let x = resize(c, x, &dims, &shape)?;
            one(c2c(c, x, &dims, norm, kind == Kind::Fft)?)
        }
        Kind::Rfft | Kind::Ihfft => {
            if is_complex {
                return Err("expects a real-valued input tensor".into());
            }
            let x = promote(c, input, false)?;
            let x = resize(c, x, &dims, &shape)?;
            if kind == Kind::Rfft {
                return one(r2c(c, x, &dims, norm, true)?);
            }
            // ihfftn: a one-sided forward transform of the last dim, conjugated, then the
            // forward complex transform of the others, all normalized as an inverse.
            let tmp = r2c(c, x, &[last], norm, true)?;
            let tmp = conj(c, tmp)?;
            let (rest, _) = dims.split_at(dims.len() - 1);
            if rest.is_empty() {
                return one(tmp);
            }
            one(c2c(c, tmp, rest, norm, true)?)
        }
    }
}
