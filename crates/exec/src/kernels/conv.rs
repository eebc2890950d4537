//! Convolution (1-d/2-d/3-d, grouped, dilated, strided, padded) and transposed convolution,
//! through one N-d implementation: im2col + GEMM (forward) and GEMM + col2im (transposed).

use crate::error::{invalid, shape_err, Result};
use crate::kernels::linalg::{batched_gemm, float_only, Gemm, Mat};
use crate::tensor::{numel, Tensor};
use crate::with_real;
use rayon::prelude::*;

/// Expand a per-dim parameter given with 1 or `n` values.
fn expand_param(
    op: &'static str,
    name: &str,
    v: &[i64],
    n: usize,
    default: i64,
) -> Result<Vec<i64>> {
    match v.len() {
        0 => Ok(vec![default; n]),
        1 => Ok(vec![v[0]; n]),
        l if l == n => Ok(v.to_vec()),
        _ => invalid(op, format!("{name} must have 1 or {n} values, got {v:?}")),
    }
}

/// For one kernel offset `k`, the (column position, image position) pairs with
/// `image = col * stride - pad + k * dilation` inside the image, over all column positions.
fn kernel_pairs(
    kk: &[usize],
    col_sp: &[usize],
    img_sp: &[usize],
    s: &[i64],
    p: &[i64],
    d: &[i64],
) -> Vec<(u32, u32)> {
    let nd = col_sp.len();
    // Per dim: image index for each column index (or -1 when outside).
    let maps: Vec<Vec<i64>> = (0..nd)
        .map(|i| {
            (0..col_sp[i] as i64)
                .map(|c| {
                    let x = c * s[i] - p[i] + kk[i] as i64 * d[i];
                    if x >= 0 && x < img_sp[i] as i64 {
                        x
                    } else {
                        -1
                    }
                })
                .collect()
        })
        .collect();
    let mut img_st = vec![1usize; nd];
    for i in (0..nd.saturating_sub(1)).rev() {
        img_st[i] = img_st[i + 1] * img_sp[i + 1];
    }
    let n = numel(col_sp);
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; nd];
    for ci in 0..n {
        let mut off = 0usize;
        let mut ok = true;
        for i in 0..nd {
            let x = maps[i][idx[i]];
            if x < 0 {
                ok = false;
                break;
            }
            off += x as usize * img_st[i];
        }
        if ok {
            out.push((ci as u32, off as u32));
        }
        for i in (0..nd).rev() {
            idx[i] += 1;
            if idx[i] < col_sp[i] {
                break;
            }
            idx[i] = 0;
        }
    }
    out
}

/// All kernel offsets in row-major order.
fn kernel_offsets(k: &[usize]) -> Vec<Vec<usize>> {
    let n = numel(k);
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; k.len()];
    for _ in 0..n {
        out.push(idx.clone());
        for i in (0..k.len()).rev() {
            idx[i] += 1;
            if idx[i] < k[i] {
                break;
            }
            idx[i] = 0;
        }
    }
    out
}

/// `aten.convolution(input, weight, bias, stride, padding, dilation, transposed,
/// output_padding, groups)`. Input `[N, C, *spatial]` (or unbatched `[C, *spatial]`); weight
/// `[O, C/groups, *k]` (transposed: `[C, O/groups, *k]`). Float and integer dtypes; integers
/// accumulate with wrap-around, as PyTorch's integer convolution does.
#[allow(clippy::too_many_arguments)]
pub fn convolution(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    transposed: bool,
    output_padding: &[i64],
    groups: i64,
) -> Result<Tensor> {
    const OP: &str = "convolution";
    let dt = input.dtype();
    if !dt.is_int() {
        float_only(OP, dt)?;
    }
    if weight.dtype() != dt || bias.is_some_and(|b| b.dtype() != dt) {
        return invalid(OP, "input, weight and bias must have the same dtype");
    }
    let nd = weight
        .ndim()
        .checked_sub(2)
        .filter(|&n| n >= 1)
        .ok_or(crate::ExecError::Invalid {
            op: OP,
            msg: "weight must be at least 3-D".into(),
        })?;
    let unbatched = input.ndim() == nd + 1;
    if !unbatched && input.ndim() != nd + 2 {
        return shape_err(
            OP,
            format!(
                "expected {}-D or {}-D input for {}-D weight, got {:?}",
                nd + 1,
                nd + 2,
                weight.ndim(),
                input.shape()
            ),
        );
    }
    let x = if unbatched {
        crate::kernels::shape::unsqueeze(input, 0)?
    } else {
        input.clone()
    };
    let s = expand_param(OP, "stride", stride, nd, 1)?;
    let p = expand_param(OP, "padding", padding, nd, 0)?;
    let d = expand_param(OP, "dilation", dilation, nd, 1)?;
    let op_ = expand_param(OP, "output_padding", output_padding, nd, 0)?;
    if s.iter().chain(&d).any(|&v| v <= 0) || p.iter().chain(&op_).any(|&v| v < 0) || groups <= 0 {
        return invalid(
            OP,
            "stride/dilation must be positive, padding non-negative, groups positive",
        );
    }
    let g = groups as usize;
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let in_sp = x.shape()[2..].to_vec();
    let k_sp = weight.shape()[2..].to_vec();
    let (w0, w1) = (weight.shape()[0], weight.shape()[1]);
    let (cin_g, cout_g) = if transposed {
        if w0 != c || c % g != 0 {
            return shape_err(
                OP,
                format!(
                    "weight {:?} does not match input channels {c}",
                    weight.shape()
                ),
            );
        }
        (c / g, w1)
    } else {
        if w1 * g != c || w0 % g != 0 {
            return shape_err(
                OP,
                format!(
                    "weight {:?} with groups {g} does not match input channels {c}",
                    weight.shape()
                ),
            );
        }
        (w1, w0 / g)
    };
    let cout = cout_g * g;
    let mut out_sp = Vec::with_capacity(nd);
    for i in 0..nd {
        let (si, ki) = (in_sp[i] as i64, k_sp[i] as i64);
        let o = if transposed {
            (si - 1) * s[i] - 2 * p[i] + d[i] * (ki - 1) + op_[i] + 1
        } else {
            (si + 2 * p[i] - d[i] * (ki - 1) - 1) / s[i] + 1
        };
        if o <= 0 && !(transposed && o == 0) {
            return shape_err(
                OP,
                format!(
                    "calculated output size is too small for input {in_sp:?} and kernel {k_sp:?}"
                ),
            );
        }
        out_sp.push(o.max(0) as usize);
    }
    if let Some(b) = bias {
        if b.numel() != cout {
            return shape_err(
                OP,
                format!("bias has {} elements, expected {cout}", b.numel()),
            );
        }
    }
    let kk = numel(&k_sp);
    let (l_in, l_out) = (numel(&in_sp), numel(&out_sp));
    let koffs = kernel_offsets(&k_sp);
    // Pairs map column positions to image positions; for the transposed conv the columns are the
    // input positions and the image is the output.
    let (col_sp, img_sp) = if transposed {
        (&in_sp, &out_sp)
    } else {
        (&out_sp, &in_sp)
    };
    // Depthwise-like 2-d convolutions run directly; 1×1 stride-1 unpadded ones read the input
    // as the GEMM operand. Neither needs the im2col pairs.
    // Integer convolutions take the general pairs path (`integer_convolution`).
    let float = dt.is_float();
    let direct2d = float && !transposed && cin_g == 1 && nd == 2;
    let pointwise =
        float && !transposed && kk == 1 && s.iter().all(|&v| v == 1) && p.iter().all(|&v| v == 0);
    // Other 2-d forward convolutions build their column matrix row by row (`im2col_2d`).
    let rows2d = float && !transposed && nd == 2;
    let geo = (nd == 2).then(|| Geo2d {
        img: [in_sp[0], in_sp[1]],
        out: [out_sp[0], out_sp[1]],
        k: [k_sp[0], k_sp[1]],
        s: [s[0] as usize, s[1] as usize],
        p: [p[0], p[1]],
        d: [d[0] as usize, d[1] as usize],
    });
    let pairs: Vec<Vec<(u32, u32)>> = if direct2d || pointwise || rows2d {
        Vec::new()
    } else {
        koffs
            .iter()
            .map(|k| kernel_pairs(k, col_sp, img_sp, &s, &p, &d))
            .collect()
    };
    let lc = numel(col_sp);
    let li = numel(img_sp);
    if li > u32::MAX as usize || lc > u32::MAX as usize {
        return invalid(OP, "spatial size too large");
    }
    let mut shape = vec![n, cout];
    shape.extend_from_slice(&out_sp);
    if !float {
        let geo = IntConv {
            groups: g,
            cin_g,
            cout_g,
            kk,
            lc,
            li,
            transposed,
        };
        let r = integer_convolution(&x, weight, bias, &geo, &pairs, shape)?.to_dtype(dt);
        return if unbatched {
            crate::kernels::shape::squeeze(&r, Some(&[0]))
        } else {
            Ok(r)
        };
    }
    with_real!(dt, F => {
        let xf = x.to_dtype(F::DTYPE);
        let wf = weight.to_dtype(F::DTYPE);
        let xs = xf.as_slice::<F>()?;
        let ws = wf.as_slice::<F>()?;
        let bf = bias.map(|b| b.to_dtype(F::DTYPE));
        let bs: Option<&[F]> = bf.as_ref().map(|b| b.as_slice::<F>()).transpose()?;
        let mut out = vec![F::zero(); n * cout * l_out];
        let per_image = |(ni, o): (usize, &mut [F])| {
            let xi = &xs[ni * c * l_in..(ni + 1) * c * l_in];
            let rows = if transposed { cout_g * kk } else { cin_g * kk };
            // im2col / col2im buffer, allocated on first use (zeros at padded positions stay).
            let mut col: Vec<F> = Vec::new();
            for gi in 0..g {
                if transposed {
                    // col[(co, k), i] = sum_ci W[ci, co, k] * x[ci, i]; W_g is [cin_g, rows].
                    let wg = &ws[gi * cin_g * rows..];
                    let xg = &xi[gi * cin_g * l_in..];
                    col.resize(rows * lc, F::zero());
                    run_gemm(rows, cin_g, lc, Mat { data: wg, rs: 1, cs: rows as isize, bs: 0 }, Mat { data: xg, rs: lc as isize, cs: 1, bs: 0 }, &mut col);
                    let og = &mut o[gi * cout_g * l_out..(gi + 1) * cout_g * l_out];
                    for co in 0..cout_g {
                        for (ki, pr) in pairs.iter().enumerate() {
                            let cr = &col[(co * kk + ki) * lc..];
                            let od = &mut og[co * l_out..];
                            for &(cp, ip) in pr {
                                od[ip as usize] += cr[cp as usize];
                            }
                        }
                    }
                } else if direct2d {
                    // Depthwise-like (one input channel per group): direct, no im2col.
                    let xg = &xi[gi * l_in..(gi + 1) * l_in];
                    let wg = &ws[gi * cout_g * kk..(gi + 1) * cout_g * kk];
                    let og = &mut o[gi * cout_g * l_out..(gi + 1) * cout_g * l_out];
                    let geo = geo.as_ref().expect("2-d geometry");
                    for co in 0..cout_g {
                        single_channel_2d(geo, xg, &wg[co * kk..(co + 1) * kk], &mut og[co * l_out..(co + 1) * l_out]);
                    }
                } else {
                    let xg = &xi[gi * cin_g * l_in..(gi + 1) * cin_g * l_in];
                    let cm: &[F] = if pointwise {
                        xg
                    } else if let (true, Some(geo)) = (rows2d, geo.as_ref()) {
                        col.resize(rows * lc, F::zero());
                        im2col_2d(geo, xg, cin_g, &mut col);
                        &col
                    } else {
                        col.resize(rows * lc, F::zero());
                        for ci in 0..cin_g {
                            let xc = &xg[ci * l_in..];
                            for (ki, pr) in pairs.iter().enumerate() {
                                let cr = &mut col[(ci * kk + ki) * lc..(ci * kk + ki + 1) * lc];
                                for &(cp, ip) in pr {
                                    cr[cp as usize] = xc[ip as usize];
                                }
                            }
                        }
                        &col
                    };
                    let wg = &ws[gi * cout_g * rows..(gi + 1) * cout_g * rows];
                    let og = &mut o[gi * cout_g * l_out..(gi + 1) * cout_g * l_out];
                    run_gemm(cout_g, rows, lc, Mat { data: wg, rs: rows as isize, cs: 1, bs: 0 }, Mat { data: cm, rs: lc as isize, cs: 1, bs: 0 }, og);
                }
            }
            if let Some(b) = bs {
                for (co, od) in o.chunks_mut(l_out.max(1)).enumerate().take(cout) {
                    for v in od.iter_mut() {
                        *v += b[co];
                    }
                }
            }
        };
        if out.is_empty() {
            // Nothing to compute.
        } else if n > 1 && n * cout * l_out * kk * cin_g >= 1 << 18 {
            out.par_chunks_mut(cout * l_out).enumerate().for_each(per_image);
        } else {
            out.chunks_mut(cout * l_out).enumerate().for_each(per_image);
        }
        let r = Tensor::from_parts(out, shape).to_dtype(dt);
        if unbatched { crate::kernels::shape::squeeze(&r, Some(&[0])) } else { Ok(r) }
    })
}

/// Channel and position counts of a convolution on the pairs path.
struct IntConv {
    groups: usize,
    cin_g: usize,
    cout_g: usize,
    /// Kernel positions.
    kk: usize,
    /// Column positions (forward: output; transposed: input).
    lc: usize,
    /// Image positions (forward: input; transposed: output).
    li: usize,
    transposed: bool,
}

/// An integer convolution in `i64` with wrapping arithmetic: the result modulo 2^bits is the
/// same as accumulating in the narrower type, so casting back gives PyTorch's wrap-around.
/// `pairs[k]` maps column positions to image positions for kernel offset `k`.
fn integer_convolution(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    geo: &IntConv,
    pairs: &[Vec<(u32, u32)>],
    shape: Vec<usize>,
) -> Result<Tensor> {
    use crate::dtype::DType;
    let IntConv {
        groups,
        cin_g,
        cout_g,
        kk,
        lc,
        li,
        transposed,
    } = *geo;
    let xv = x.to_dtype(DType::I64);
    let wv = weight.to_dtype(DType::I64);
    let (xs, ws) = (xv.as_slice::<i64>()?, wv.as_slice::<i64>()?);
    let n = x.shape()[0];
    let cout = cout_g * groups;
    let cin = cin_g * groups;
    let (l_in, l_out) = if transposed { (lc, li) } else { (li, lc) };
    let mut out = vec![0i64; n * cout * l_out];
    for ni in 0..n {
        for gi in 0..groups {
            for co in 0..cout_g {
                let oc = gi * cout_g + co;
                let od = &mut out[(ni * cout + oc) * l_out..(ni * cout + oc + 1) * l_out];
                for ci in 0..cin_g {
                    let ic = gi * cin_g + ci;
                    let xc = &xs[(ni * cin + ic) * l_in..(ni * cin + ic + 1) * l_in];
                    // Forward weight [cout, cin_g, k]; transposed [cin, cout_g, k].
                    let wk = if transposed {
                        &ws[(ic * cout_g + co) * kk..(ic * cout_g + co + 1) * kk]
                    } else {
                        &ws[(oc * cin_g + ci) * kk..(oc * cin_g + ci + 1) * kk]
                    };
                    for (pr, &w) in pairs.iter().zip(wk) {
                        for &(cp, ip) in pr {
                            let (o, i) = if transposed { (ip, cp) } else { (cp, ip) };
                            let v = &mut od[o as usize];
                            *v = v.wrapping_add(w.wrapping_mul(xc[i as usize]));
                        }
                    }
                }
            }
        }
    }
    if let Some(b) = bias {
        let bv = b.to_dtype(DType::I64);
        let bs = bv.as_slice::<i64>()?;
        for (row, v) in out.chunks_mut(l_out.max(1)).enumerate() {
            let bc = bs[row % cout];
            v.iter_mut().for_each(|o| *o = o.wrapping_add(bc));
        }
    }
    Ok(Tensor::from_parts(out, shape))
}

/// Geometry of a 2-d convolution: image, output and kernel sizes, stride, padding, dilation.
struct Geo2d {
    img: [usize; 2],
    out: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    p: [i64; 2],
    d: [usize; 2],
}

/// Output positions `lo..hi` along one dim whose input `o * s - p + k * d` lies in `0..size`.
fn valid_range(out: usize, size: usize, s: usize, p: i64, kd: usize) -> (usize, usize) {
    let off = kd as i64 - p; // input = o * s + off
    let lo = if off >= 0 {
        0
    } else {
        ((-off) as usize).div_ceil(s)
    };
    let last = size as i64 - 1 - off; // need o * s <= last
    let hi = if last < 0 {
        0
    } else {
        (last as usize / s + 1).min(out)
    };
    (lo.min(hi), hi)
}

/// The column matrix `[cin * kh * kw, oh * ow]` of a 2-d convolution of `cin` channels `x`:
/// row `(ci, ky, kx)` holds `x[ci, oy * s - p + ky * d, ox * s - p + kx * d]` at column
/// `(oy, ox)`, copied one output row at a time (a contiguous run at stride 1). Positions that
/// fall in the padding are not written: `col` must hold zeros there (it does when it was
/// zero-initialised, since they are the same positions on every call).
fn im2col_2d<F: Copy>(g: &Geo2d, x: &[F], cin: usize, col: &mut [F]) {
    let [ih, iw] = g.img;
    let [oh, ow] = g.out;
    let [kh, kw] = g.k;
    let lc = oh * ow;
    let xr: Vec<(usize, usize)> = (0..kw)
        .map(|kx| valid_range(ow, iw, g.s[1], g.p[1], kx * g.d[1]))
        .collect();
    for ci in 0..cin {
        let xc = &x[ci * ih * iw..(ci + 1) * ih * iw];
        for ky in 0..kh {
            let (y0, y1) = valid_range(oh, ih, g.s[0], g.p[0], ky * g.d[0]);
            for (kx, &(x0, x1)) in xr.iter().enumerate() {
                let r = (ci * kh + ky) * kw + kx;
                let row = &mut col[r * lc..(r + 1) * lc];
                if x0 >= x1 {
                    continue;
                }
                let ix0 = ((x0 * g.s[1]) as i64 - g.p[1] + (kx * g.d[1]) as i64) as usize;
                for oy in y0..y1 {
                    let iy = ((oy * g.s[0]) as i64 - g.p[0] + (ky * g.d[0]) as i64) as usize;
                    let src = &xc[iy * iw..(iy + 1) * iw];
                    let dst = &mut row[oy * ow + x0..oy * ow + x1];
                    if g.s[1] == 1 {
                        dst.copy_from_slice(&src[ix0..ix0 + (x1 - x0)]);
                    } else {
                        for (j, o) in dst.iter_mut().enumerate() {
                            *o = src[ix0 + j * g.s[1]];
                        }
                    }
                }
            }
        }
    }
}

/// One output channel of a 2-d convolution over one input channel (`out += w ⋆ x`), computed
/// directly: for each kernel tap a scaled, strided row add (contiguous when the stride is 1).
fn single_channel_2d<F: crate::dtype::Real>(g: &Geo2d, x: &[F], w: &[F], out: &mut [F]) {
    let [ih, iw] = g.img;
    let [oh, ow] = g.out;
    let [kh, kw] = g.k;
    let xr: Vec<(usize, usize)> = (0..kw)
        .map(|kx| valid_range(ow, iw, g.s[1], g.p[1], kx * g.d[1]))
        .collect();
    for ky in 0..kh {
        let (y0, y1) = valid_range(oh, ih, g.s[0], g.p[0], ky * g.d[0]);
        for oy in y0..y1 {
            let iy = (oy * g.s[0]) as i64 - g.p[0] + (ky * g.d[0]) as i64;
            let xrow = &x[iy as usize * iw..(iy as usize + 1) * iw];
            let orow = &mut out[oy * ow..(oy + 1) * ow];
            for (kx, &(x0, x1)) in xr.iter().enumerate() {
                if x0 >= x1 {
                    continue;
                }
                let wv = w[ky * kw + kx];
                let ix0 = ((x0 * g.s[1]) as i64 - g.p[1] + (kx * g.d[1]) as i64) as usize;
                if g.s[1] == 1 {
                    crate::kernels::linalg::axpy(
                        wv,
                        &xrow[ix0..ix0 + (x1 - x0)],
                        &mut orow[x0..x1],
                    );
                } else {
                    for (j, o) in orow[x0..x1].iter_mut().enumerate() {
                        *o += wv * xrow[ix0 + j * g.s[1]];
                    }
                }
            }
        }
    }
}

/// `c = a @ b` (overwriting `c`), `a` m×k, `b` k×n.
fn run_gemm<F: Gemm>(m: usize, k: usize, n: usize, a: Mat<F>, b: Mat<F>, c: &mut [F]) {
    batched_gemm(1, m, k, n, F::one(), a, b, F::zero(), &mut c[..m * n]);
}

/// `aten.conv1d` / `conv2d` / `conv3d` (the rank comes from the weight).
pub fn conv(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    groups: i64,
) -> Result<Tensor> {
    convolution(
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        false,
        &[],
        groups,
    )
}

/// `aten.conv_transpose1d/2d/3d(input, weight, bias, stride, padding, output_padding, groups,
/// dilation)`.
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    output_padding: &[i64],
    groups: i64,
    dilation: &[i64],
) -> Result<Tensor> {
    convolution(
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        true,
        output_padding,
        groups,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
    }

    #[test]
    fn conv1d_by_hand() {
        let x = f(&[1., 2., 3., 4.], &[1, 1, 4]);
        let w = f(&[1., 0., -1.], &[1, 1, 3]);
        let r = conv(&x, &w, None, &[1], &[0], &[1], 1).unwrap();
        assert_eq!(r.to_f64_vec(), vec![-2., -2.]);
        let r = conv(&x, &w, Some(&f(&[1.], &[1])), &[1], &[1], &[1], 1).unwrap();
        assert_eq!(r.to_f64_vec(), vec![-1., -1., -1., 4.]);
        let r = conv(&x, &w, None, &[2], &[1], &[1], 1).unwrap();
        assert_eq!(r.to_f64_vec(), vec![-2., -2.]);
        let r = conv(&x, &f(&[1., 1.], &[1, 1, 2]), None, &[1], &[0], &[2], 1).unwrap();
        assert_eq!(r.to_f64_vec(), vec![4., 6.]);
        // Transposed: each input scatters the kernel.
        let t = conv_transpose(
            &f(&[1., 2.], &[1, 1, 2]),
            &f(&[1., 10.], &[1, 1, 2]),
            None,
            &[1],
            &[0],
            &[0],
            1,
            &[1],
        )
        .unwrap();
        assert_eq!(t.to_f64_vec(), vec![1., 12., 20.]);
        let t = conv_transpose(
            &f(&[1., 2.], &[1, 1, 2]),
            &f(&[1., 10.], &[1, 1, 2]),
            None,
            &[2],
            &[0],
            &[1],
            1,
            &[1],
        )
        .unwrap();
        assert_eq!(t.to_f64_vec(), vec![1., 10., 2., 20., 0.]);
        assert!(conv(&x, &f(&[1.; 6], &[1, 1, 6]), None, &[1], &[0], &[1], 1).is_err());
    }

    /// Integer convolutions (the pairs path in i64) agree with the float GEMM paths on small
    /// integers, forward and transposed, grouped, strided, padded and dilated, with bias.
    #[test]
    fn integer_convolution_matches_float_paths() {
        use crate::dtype::DType;
        let xs: Vec<f32> = (0..2 * 4 * 5 * 6)
            .map(|i| ((i * 7) % 11) as f32 - 5.)
            .collect();
        let x = f(&xs, &[2, 4, 5, 6]);
        let w = f(
            &(0..6 * 2 * 3 * 2)
                .map(|i| ((i * 5) % 7) as f32 - 3.)
                .collect::<Vec<_>>(),
            &[6, 2, 3, 2],
        );
        let b = f(&[1., -2., 3., 0., 5., -1.], &[6]);
        let int = |t: &Tensor| t.to_dtype(DType::I64);
        for (stride, pad, dil) in [([1, 1], [0, 0], [1, 1]), ([2, 1], [1, 2], [1, 2])] {
            let want = conv(&x, &w, Some(&b), &stride, &pad, &dil, 2).unwrap();
            let got = conv(&int(&x), &int(&w), Some(&int(&b)), &stride, &pad, &dil, 2).unwrap();
            assert_eq!(got.dtype(), DType::I64);
            assert_eq!(got.shape(), want.shape());
            assert_eq!(
                got.to_f64_vec(),
                want.to_f64_vec(),
                "{stride:?} {pad:?} {dil:?}"
            );
            // Transposed: weight [C, O/groups, k].
            let wt = f(
                &w.to_f64_vec()[..4 * 3 * 3 * 2]
                    .iter()
                    .map(|&v| v as f32)
                    .collect::<Vec<_>>(),
                &[4, 3, 3, 2],
            );
            let want = conv_transpose(&x, &wt, None, &stride, &pad, &[0], 2, &dil).unwrap();
            let got =
                conv_transpose(&int(&x), &int(&wt), None, &stride, &pad, &[0], 2, &dil).unwrap();
            assert_eq!(got.to_f64_vec(), want.to_f64_vec(), "transposed {stride:?}");
        }
        // u8 wraps: 200 * 2 + 100 * 1 = 500 = 244 (mod 256).
        let xu = Tensor::from_vec(vec![200u8, 100], vec![1, 1, 2]).unwrap();
        let wu = Tensor::from_vec(vec![2u8, 1], vec![1, 1, 2]).unwrap();
        let r = conv(&xu, &wu, None, &[1], &[0], &[1], 1).unwrap();
        assert_eq!(r.dtype(), DType::U8);
        assert_eq!(r.to_i64_vec(), vec![244]);
        // i64 wraps instead of overflowing.
        let xl = Tensor::from_vec(vec![i64::MAX, 1], vec![1, 1, 2]).unwrap();
        let wl = Tensor::from_vec(vec![1i64, 1], vec![1, 1, 2]).unwrap();
        let r = conv(&xl, &wl, None, &[1], &[0], &[1], 1).unwrap();
        assert_eq!(r.to_i64_vec(), vec![i64::MIN]);
        // Bool is still refused.
        let xb = xu.to_dtype(DType::Bool);
        assert!(conv(&xb, &wu.to_dtype(DType::Bool), None, &[1], &[0], &[1], 1).is_err());
    }

    #[test]
    fn grouped_2d() {
        // Depthwise 1x1 conv with groups=2 scales each channel.
        let x = f(&[1., 2., 3., 4., 5., 6., 7., 8.], &[1, 2, 2, 2]);
        let w = f(&[2., 3.], &[2, 1, 1, 1]);
        let r = conv(&x, &w, None, &[1], &[0], &[1], 2).unwrap();
        assert_eq!(r.to_f64_vec(), vec![2., 4., 6., 8., 15., 18., 21., 24.]);
        let u = conv(
            &f(&[1., 2., 3., 4.], &[1, 2, 2]),
            &f(&[1.], &[1, 1, 1, 1]),
            None,
            &[1],
            &[0],
            &[1],
            1,
        )
        .unwrap();
        assert_eq!(u.shape(), &[1, 2, 2]);
    }
}
