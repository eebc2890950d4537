//! The emulator's own dense kernels: convolution, deconvolution and batched matrix multiply,
//! written from TensorRT's layer documentation (`IConvolutionLayer`, `IDeconvolutionLayer`,
//! `IMatrixMultiplyLayer`), sharing nothing with the executor's kernels.
//!
//! All three lower to one f32 GEMM (the `gemm` crate) over a packed operand: convolution packs
//! the input into columns (`[C/g * kvol, out]` per image and group, TensorRT's asymmetric
//! pre/post padding applied while packing, so no padded copy is made) and multiplies the kernel,
//! which is already `[K, C/g * kvol]` row-major, by it; deconvolution multiplies the transposed
//! kernel by the input and scatter-adds the columns into the output (col2im). Spatial ranks 2
//! and 3 share one loop nest (a 2-D layer is a 3-D one with depth 1). Matrix multiply passes the
//! operands' strides to the GEMM, so transposes and broadcast batch dims copy nothing.

/// Geometry of one convolution-like layer, normalized to three spatial dims.
#[derive(Debug, Clone)]
pub(super) struct ConvGeom {
    /// Leading (batch) volume: every dim before the channel.
    pub batch: usize,
    /// Input channels `C`.
    pub c: usize,
    /// Output maps `K`.
    pub k: usize,
    /// Groups.
    pub groups: usize,
    /// Input extents (depth, height, width).
    pub input: [usize; 3],
    /// Output extents.
    pub output: [usize; 3],
    /// Kernel extents.
    pub kernel: [usize; 3],
    /// Strides.
    pub stride: [usize; 3],
    /// Dilations.
    pub dilation: [usize; 3],
    /// Padding before each dim (negative crops).
    pub pre: [i64; 3],
}

impl ConvGeom {
    fn kvol(&self) -> usize {
        self.kernel.iter().product()
    }
    fn in_vol(&self) -> usize {
        self.input.iter().product()
    }
    fn out_vol(&self) -> usize {
        self.output.iter().product()
    }
}

/// `dst (m x n) = lhs (m x k) * rhs (k x n)`, each operand given by (row stride, column
/// stride). `dst` is written, not accumulated.
#[allow(clippy::too_many_arguments)]
pub(super) fn gemm_f32(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rs: usize, cs: usize, r: usize, c: usize| (r - 1) * rs + (c - 1) * cs;
    assert!(last(dst_rs, 1, m, n) < dst.len(), "gemm dst out of bounds");
    if k == 0 {
        for i in 0..m {
            dst[i * dst_rs..i * dst_rs + n].fill(0.0);
        }
        return;
    }
    assert!(
        last(lhs_rs, lhs_cs, m, k) < lhs.len(),
        "gemm lhs out of bounds"
    );
    assert!(
        last(rhs_rs, rhs_cs, k, n) < rhs.len(),
        "gemm rhs out of bounds"
    );
    // SAFETY: every element addressed through (m, n, k) and the strides lies inside the
    // slices (asserted above); `dst` is uniquely borrowed and does not alias the operands.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            false,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Convolution: `x` is `[batch, C, in...]`, `w` `[K, C/g, k...]`, `bias` `[K]`; returns
/// `[batch, K, out...]`.
pub(super) fn convolution(g: &ConvGeom, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (cg, kg, kvol) = (g.c / g.groups, g.k / g.groups, g.kvol());
    let (in_vol, out_vol) = (g.in_vol(), g.out_vol());
    let rows = cg * kvol;
    let mut out = vec![0f32; g.batch * g.k * out_vol];
    // A 1x1 kernel with unit stride and no padding reads the input as its own columns.
    let direct = kvol == 1 && g.stride == [1; 3] && g.pre == [0; 3] && g.input == g.output;
    let mut col = if direct {
        Vec::new()
    } else {
        vec![0f32; rows * out_vol]
    };
    for b in 0..g.batch {
        for grp in 0..g.groups {
            let xin = &x[(b * g.c + grp * cg) * in_vol..][..cg * in_vol];
            let cols: &[f32] = if direct {
                xin
            } else {
                im2col(g, xin, cg, &mut col);
                &col
            };
            let wg = &w[grp * kg * rows..][..kg * rows];
            let dst = &mut out[(b * g.k + grp * kg) * out_vol..][..kg * out_vol];
            gemm_f32(
                kg, out_vol, rows, dst, out_vol, wg, rows, 1, cols, out_vol, 1,
            );
        }
    }
    if let Some(bias) = bias {
        add_bias(&mut out, bias, out_vol);
    }
    out
}

/// Packs the `cg` channels of one image and group into `[cg * kvol, out_vol]` columns:
/// row `(c, kd, kh, kw)`, column `(od, oh, ow)` holds the input at
/// `o * stride - pre + k * dilation`, or 0 in the padding.
fn im2col(g: &ConvGeom, x: &[f32], cg: usize, col: &mut [f32]) {
    let [id, ih, iw] = g.input.map(|e| e as i64);
    let [od, oh, ow] = g.output;
    let [kd, kh, kw] = g.kernel;
    let [sd, sh, sw] = g.stride.map(|e| e as i64);
    let [dd, dh, dw] = g.dilation.map(|e| e as i64);
    let [pd, ph, pw] = g.pre;
    let out_vol = g.out_vol();
    let mut row = 0;
    for c in 0..cg {
        let xc = &x[c * g.in_vol()..][..g.in_vol()];
        for a in 0..kd as i64 {
            for p in 0..kh as i64 {
                for q in 0..kw as i64 {
                    let dst = &mut col[row * out_vol..][..out_vol];
                    let mut o = 0;
                    for z in 0..od as i64 {
                        let zi = z * sd - pd + a * dd;
                        for y in 0..oh as i64 {
                            let yi = y * sh - ph + p * dh;
                            let line = &mut dst[o..o + ow];
                            o += ow;
                            if zi < 0 || zi >= id || yi < 0 || yi >= ih {
                                line.fill(0.0);
                                continue;
                            }
                            let src = &xc[((zi * ih + yi) * iw) as usize..][..iw as usize];
                            let x0 = q * dw - pw;
                            if sw == 1 && x0 >= 0 && x0 + ow as i64 <= iw {
                                line.copy_from_slice(&src[x0 as usize..x0 as usize + ow]);
                                continue;
                            }
                            for (xo, v) in line.iter_mut().enumerate() {
                                let xi = xo as i64 * sw + x0;
                                *v = if xi < 0 || xi >= iw {
                                    0.0
                                } else {
                                    src[xi as usize]
                                };
                            }
                        }
                    }
                    row += 1;
                }
            }
        }
    }
}

/// Deconvolution (transposed convolution): `x` is `[batch, C, in...]`, `w` `[C, K/g, k...]`;
/// each input element scatters `w` into the output at `i * stride - pre + k * dilation`
/// (elements landing outside `[0, out)` are dropped: that is TensorRT's pre/post padding).
pub(super) fn deconvolution(g: &ConvGeom, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (cg, kg, kvol) = (g.c / g.groups, g.k / g.groups, g.kvol());
    let (in_vol, out_vol) = (g.in_vol(), g.out_vol());
    let rows = kg * kvol;
    let mut out = vec![0f32; g.batch * g.k * out_vol];
    let mut col = vec![0f32; rows * in_vol];
    for b in 0..g.batch {
        for grp in 0..g.groups {
            let xin = &x[(b * g.c + grp * cg) * in_vol..][..cg * in_vol];
            // col[(k, kpos), i] = sum_c w[c, k, kpos] * x[c, i]: lhs is w^T, [rows, cg].
            let wg = &w[grp * cg * rows..][..cg * rows];
            gemm_f32(
                rows, in_vol, cg, &mut col, in_vol, wg, 1, rows, xin, in_vol, 1,
            );
            let dst = &mut out[(b * g.k + grp * kg) * out_vol..][..kg * out_vol];
            col2im(g, &col, kg, dst);
        }
    }
    if let Some(bias) = bias {
        add_bias(&mut out, bias, out_vol);
    }
    out
}

/// Scatter-adds `[kg * kvol, in_vol]` columns into `[kg, out...]`.
fn col2im(g: &ConvGeom, col: &[f32], kg: usize, out: &mut [f32]) {
    let [id, ih, iw] = g.input;
    let [od, oh, ow] = g.output.map(|e| e as i64);
    let [kd, kh, kw] = g.kernel;
    let [sd, sh, sw] = g.stride.map(|e| e as i64);
    let [dd, dh, dw] = g.dilation.map(|e| e as i64);
    let [pd, ph, pw] = g.pre;
    let (in_vol, out_vol) = (g.in_vol(), g.out_vol());
    let mut row = 0;
    for k in 0..kg {
        let dst = &mut out[k * out_vol..][..out_vol];
        for a in 0..kd as i64 {
            for p in 0..kh as i64 {
                for q in 0..kw as i64 {
                    let src = &col[row * in_vol..][..in_vol];
                    row += 1;
                    let mut i = 0;
                    for z in 0..id as i64 {
                        let zo = z * sd - pd + a * dd;
                        for y in 0..ih as i64 {
                            let yo = y * sh - ph + p * dh;
                            let line = &src[i..i + iw];
                            i += iw;
                            if zo < 0 || zo >= od || yo < 0 || yo >= oh {
                                continue;
                            }
                            let base = ((zo * oh + yo) * ow) as usize;
                            let x0 = q * dw - pw;
                            for (xi, &v) in line.iter().enumerate() {
                                let xo = xi as i64 * sw + x0;
                                if xo >= 0 && xo < ow {
                                    dst[base + xo as usize] += v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn add_bias(out: &mut [f32], bias: &[f32], out_vol: usize) {
    if out_vol == 0 {
        return;
    }
    for (i, plane) in out.chunks_mut(out_vol).enumerate() {
        let b = bias[i % bias.len()];
        plane.iter_mut().for_each(|v| *v += b);
    }
}

/// One operand of a batched matrix multiply: its batch extents and strides (stride 0 where
/// the extent broadcasts), matrix extents and (row, column) strides in the stored data.
#[derive(Debug, Clone)]
pub(super) struct MatOperand<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Batch extents (all dims but the matrix or vector dims).
    pub batch: Vec<usize>,
    /// Rows of the (transposed, if asked) operand.
    pub rows: usize,
    /// Columns of the (transposed, if asked) operand.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub rs: usize,
    /// Distance between consecutive columns.
    pub cs: usize,
}

impl MatOperand<'_> {
    fn mat_len(&self) -> usize {
        self.data.len() / self.batch.iter().product::<usize>().max(1)
    }
}

/// `a x b` for every batch coordinate of `out_batch` (each operand's batch extents equal or 1);
/// returns `[out_batch..., a.rows, b.cols]` row-major.
pub(super) fn batched_matmul(
    a: &MatOperand<'_>,
    b: &MatOperand<'_>,
    out_batch: &[usize],
) -> Vec<f32> {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    let nb: usize = out_batch.iter().product();
    let mut out = vec![0f32; nb * m * n];
    let bstrides = |op: &MatOperand<'_>| -> Vec<usize> {
        let mut st = vec![0usize; op.batch.len()];
        let mut acc = op.mat_len();
        for d in (0..op.batch.len()).rev() {
            st[d] = if op.batch[d] == 1 { 0 } else { acc };
            acc *= op.batch[d];
        }
        st
    };
    let (sa, sb) = (bstrides(a), bstrides(b));
    let mut coord = vec![0usize; out_batch.len()];
    for bi in 0..nb {
        let oa: usize = coord.iter().zip(&sa).map(|(c, s)| c * s).sum();
        let ob: usize = coord.iter().zip(&sb).map(|(c, s)| c * s).sum();
        let dst = &mut out[bi * m * n..][..m * n];
        gemm_f32(
            m,
            n,
            k,
            dst,
            n,
            &a.data[oa..],
            a.rs,
            a.cs,
            &b.data[ob..],
            b.rs,
            b.cs,
        );
        for d in (0..coord.len()).rev() {
            coord[d] += 1;
            if coord[d] < out_batch[d] {
                break;
            }
            coord[d] = 0;
        }
    }
    out
}
