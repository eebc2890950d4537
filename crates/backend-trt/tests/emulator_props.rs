//! Property tests: the layer emulator (its own kernels) against the executor (ATen semantics,
//! its own kernels) on random shapes, parameters and data types, layer by layer.
//!
//! The two share no kernel code, so agreement is evidence for both. TensorRT semantics that
//! ATen lacks are bridged in the reference, never in the emulator: asymmetric convolution
//! padding is an explicit zero pad of the executor's input, deconvolution pre/post padding a crop
//! of its output, `MatrixOp::Transpose` a transpose and a vector operand a reshape.
//!
//! Tolerance (elementwise, `|emulator - exec| <= atol + rtol * |exec|`): f32 `atol = 1e-5 *
//! terms, rtol = 1e-5` where `terms` is the length of the dot product; f16 `rtol = 2e-3` and
//! bf16 `rtol = 1.6e-2` (two ulps: both round an f32 result, but may order the sums
//! differently), with `atol = rtol * terms * 1e-1`. Integer results must be equal.
//!
//! Case counts are modest (32 per property); `PROPTEST_CASES` changes them.

use proptest::prelude::*;
use trtfx_backend_trt::emulator::emulate;
use trtfx_backend_trt::network::*;
use trtfx_backend_trt::RecordedNetwork;
use trtfx_exec::kernels as k;
use trtfx_exec::{DType, Scalar, Tensor};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        ..ProptestConfig::default()
    }
}

/// Deterministic values in [-1, 1) from a seed (xorshift), so shrinking only touches shapes.
fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn float_type() -> impl Strategy<Value = (TrtDataType, DType)> {
    prop_oneof![
        Just((TrtDataType::Float, DType::F32)),
        Just((TrtDataType::Half, DType::F16)),
        Just((TrtDataType::Bf16, DType::BF16)),
    ]
}

/// Relative tolerance of one element type (see the module docs).
fn rtol(dt: DType) -> f64 {
    match dt {
        DType::F16 => 2e-3,
        DType::BF16 => 1.6e-2,
        _ => 1e-5,
    }
}

fn tensor(seed: u64, shape: &[usize], dt: DType) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec(values(seed, n), shape.to_vec())
        .unwrap()
        .to_dtype(dt)
}

fn dims(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

fn run1(mut net: RecordedNetwork, y: TensorId, inputs: Vec<(&str, Tensor)>) -> Tensor {
    net.mark_output(y, "y").unwrap();
    emulate(&net, &inputs).unwrap().remove(0).1
}

/// Asserts `got` matches `want` within the module's tolerance for `terms`-long sums.
fn check_close(got: &Tensor, want: &Tensor, terms: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.shape(), want.shape());
    prop_assert_eq!(got.dtype(), want.dtype());
    let r = rtol(want.dtype());
    let atol = if want.dtype() == DType::F32 {
        1e-5 * terms.max(1) as f64
    } else {
        r * terms.max(1) as f64 * 0.1
    };
    for (i, (g, w)) in got
        .to_f64_vec()
        .into_iter()
        .zip(want.to_f64_vec())
        .enumerate()
    {
        prop_assert!(
            (g - w).abs() <= atol + r * w.abs(),
            "element {i}: emulator {g}, exec {w} (atol {atol}, rtol {r})"
        );
    }
    Ok(())
}

/// Zero-pads the last `pre.len()` dims (the reference's bridge for asymmetric padding).
fn zero_pad(x: &Tensor, pre: &[usize], post: &[usize]) -> Tensor {
    let shape = x.shape().to_vec();
    let r = shape.len();
    let n = pre.len();
    let mut out_shape = shape.clone();
    for i in 0..n {
        out_shape[r - n + i] += pre[i] + post[i];
    }
    let src = x.to_dtype(DType::F32).to_vec::<f32>();
    let mut out = vec![0f32; out_shape.iter().product()];
    let mut coord = vec![0usize; r];
    for v in src {
        let mut off = 0;
        for d in 0..r {
            let p = if d >= r - n { pre[d - (r - n)] } else { 0 };
            off = off * out_shape[d] + coord[d] + p;
        }
        out[off] = v;
        for d in (0..r).rev() {
            coord[d] += 1;
            if coord[d] < shape[d] {
                break;
            }
            coord[d] = 0;
        }
    }
    Tensor::from_vec(out, out_shape)
        .unwrap()
        .to_dtype(x.dtype())
}

/// Crops `pre`/`post` from the last `pre.len()` dims.
fn crop(x: &Tensor, pre: &[usize], post: &[usize]) -> Tensor {
    let mut t = x.clone();
    let r = x.shape().len();
    for i in 0..pre.len() {
        let d = r - pre.len() + i;
        let e = t.shape()[d];
        t = k::shape::slice(
            &t,
            d as i64,
            Some(pre[i] as i64),
            Some((e - post[i]) as i64),
            1,
        )
        .unwrap();
    }
    t
}

#[derive(Debug, Clone)]
struct ConvCase {
    batch: usize,
    groups: usize,
    cg: usize,
    kg: usize,
    spatial: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    dilation: Vec<usize>,
    pre: Vec<usize>,
    post: Vec<usize>,
    bias: bool,
    seed: u64,
}

fn conv_case() -> impl Strategy<Value = ConvCase> {
    (2usize..=3)
        .prop_flat_map(|n| {
            (
                (1usize..=2, 1usize..=3, 1usize..=3, 1usize..=4),
                (
                    prop::collection::vec(1usize..=3, n),
                    prop::collection::vec(1usize..=3, n),
                    prop::collection::vec(1usize..=2, n),
                ),
                (
                    prop::collection::vec(0usize..=2, n),
                    prop::collection::vec(0usize..=2, n),
                    prop::collection::vec(0usize..=6, n),
                ),
                any::<bool>(),
                any::<u64>(),
            )
        })
        .prop_map(
            |(
                (batch, groups, cg, kg),
                (kernel, stride, dilation),
                (pre, post, extra),
                bias,
                seed,
            )| {
                // Input extent: at least the dilated kernel, so every output is non-empty.
                let spatial = kernel
                    .iter()
                    .zip(&dilation)
                    .zip(&extra)
                    .map(|((&k, &d), &e)| d * (k - 1) + 1 + e)
                    .collect();
                ConvCase {
                    batch,
                    groups,
                    cg,
                    kg,
                    spatial,
                    kernel,
                    stride,
                    dilation,
                    pre,
                    post,
                    bias,
                    seed,
                }
            },
        )
}

fn i64s(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&x| x as i64).collect()
}

fn conv_params(c: &ConvCase) -> ConvolutionParams {
    let mut p = ConvolutionParams::new((c.groups * c.kg) as i64, &i64s(&c.kernel));
    p.stride = i64s(&c.stride);
    p.dilation = i64s(&c.dilation);
    p.pre_padding = i64s(&c.pre);
    p.post_padding = i64s(&c.post);
    p.groups = c.groups as i64;
    p
}

fn weights_of(t: &Tensor) -> Weights {
    let v: Vec<f32> = t.to_dtype(DType::F32).to_vec();
    Weights::from_f32(&v)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn convolution_matches_exec(c in conv_case(), (trt, dt) in float_type()) {
        let (ci, ko) = (c.groups * c.cg, c.groups * c.kg);
        let mut xs = vec![c.batch, ci];
        xs.extend(&c.spatial);
        let x = tensor(c.seed, &xs, dt);
        let mut ws = vec![ko, c.cg];
        ws.extend(&c.kernel);
        // Weights in the layer's type: TensorRT takes f32 weights for any float network; the
        // values are those of the exec weight tensor of type `dt`.
        let w = tensor(c.seed ^ 1, &ws, dt);
        let b = tensor(c.seed ^ 2, &[ko], dt);
        let mut net = RecordedNetwork::new();
        let xi = net.add_input("x", trt, &dims(&xs)).unwrap();
        let y = net
            .add_convolution_nd(xi, &conv_params(&c), weights_of(&w), c.bias.then(|| weights_of(&b)))
            .unwrap();
        let got = run1(net, y, vec![("x", x.clone())]);
        let padded = zero_pad(&x, &c.pre, &c.post);
        let n = c.kernel.len();
        let want = k::conv::conv(
            &padded,
            &w,
            c.bias.then_some(&b),
            &i64s(&c.stride),
            &vec![0; n],
            &i64s(&c.dilation),
            c.groups as i64,
        )
        .unwrap();
        check_close(&got, &want, c.cg * c.kernel.iter().product::<usize>())?;
    }

    #[test]
    fn deconvolution_matches_exec(c in conv_case(), (trt, dt) in float_type()) {
        let (ci, ko) = (c.groups * c.cg, c.groups * c.kg);
        let mut xs = vec![c.batch, ci];
        // Small inputs: a deconvolution's output grows with the stride.
        xs.extend(c.spatial.iter().map(|&e| e.min(4)));
        let x = tensor(c.seed, &xs, dt);
        let mut ws = vec![ci, c.kg];
        ws.extend(&c.kernel);
        let w = tensor(c.seed ^ 1, &ws, dt);
        let b = tensor(c.seed ^ 2, &[ko], dt);
        // Pre/post crops must leave a non-empty output.
        let n = c.kernel.len();
        let full: Vec<usize> = (0..n)
            .map(|i| (xs[2 + i] - 1) * c.stride[i] + c.dilation[i] * (c.kernel[i] - 1) + 1)
            .collect();
        prop_assume!((0..n).all(|i| c.pre[i] + c.post[i] < full[i]));
        let mut net = RecordedNetwork::new();
        let xi = net.add_input("x", trt, &dims(&xs)).unwrap();
        let y = net
            .add_deconvolution_nd(xi, &conv_params(&c), weights_of(&w), c.bias.then(|| weights_of(&b)))
            .unwrap();
        let got = run1(net, y, vec![("x", x.clone())]);
        let want = k::conv::conv_transpose(
            &x,
            &w,
            c.bias.then_some(&b),
            &i64s(&c.stride),
            &vec![0; n],
            &vec![0; n],
            c.groups as i64,
            &i64s(&c.dilation),
        )
        .unwrap();
        let want = crop(&want, &c.pre, &c.post);
        check_close(&got, &want, c.cg * c.kernel.iter().product::<usize>())?;
    }

    #[test]
    fn matrix_multiply_matches_exec(
        batch in prop::collection::vec((1usize..=3, 0u8..3), 0..=2),
        (m, kk, n) in (1usize..=7, 1usize..=9, 1usize..=7),
        op_a in prop_oneof![Just(MatrixOp::None), Just(MatrixOp::Transpose), Just(MatrixOp::Vector)],
        op_b in prop_oneof![Just(MatrixOp::None), Just(MatrixOp::Transpose), Just(MatrixOp::Vector)],
        (trt, dt) in float_type(),
        seed in any::<u64>(),
    ) {
        // Batch extents: equal, or 1 on one side (TensorRT broadcasting of equal ranks).
        let ba: Vec<usize> = batch.iter().map(|&(e, w)| if w == 1 { 1 } else { e }).collect();
        let bb: Vec<usize> = batch.iter().map(|&(e, w)| if w == 2 { 1 } else { e }).collect();
        let stored = |b: &[usize], op: MatrixOp, r: usize, c: usize| -> Vec<usize> {
            let mut s = b.to_vec();
            match op {
                MatrixOp::None => s.extend([r, c]),
                MatrixOp::Transpose => s.extend([c, r]),
                MatrixOp::Vector => s.push(if r == 1 { c } else { r }),
            }
            s
        };
        let (ma, nb) = (if op_a == MatrixOp::Vector { 1 } else { m }, if op_b == MatrixOp::Vector { 1 } else { n });
        let sa = stored(&ba, op_a, ma, kk);
        let sb = stored(&bb, op_b, kk, nb);
        let (a, b) = (tensor(seed, &sa, dt), tensor(seed ^ 7, &sb, dt));
        let mut net = RecordedNetwork::new();
        let ai = net.add_input("a", trt, &dims(&sa)).unwrap();
        let bi = net.add_input("b", trt, &dims(&sb)).unwrap();
        let y = net.add_matrix_multiply(ai, op_a, bi, op_b).unwrap();
        let got = run1(net, y, vec![("a", a.clone()), ("b", b.clone())]);
        // Reference: bring both to batch + matrix, multiply, drop the vector dims.
        let as_matrix = |t: &Tensor, op: MatrixOp, b: &[usize], r: usize, c: usize| -> Tensor {
            match op {
                MatrixOp::None => t.clone(),
                MatrixOp::Transpose => k::shape::transpose(t, -1, -2).unwrap(),
                MatrixOp::Vector => {
                    let mut s = b.to_vec();
                    s.extend([r, c]);
                    k::shape::reshape(t, &i64s(&s)).unwrap()
                }
            }
        };
        let am = as_matrix(&a, op_a, &ba, ma, kk);
        let bm = as_matrix(&b, op_b, &bb, kk, nb);
        let full = k::linalg::matmul(&am, &bm).unwrap();
        let mut shape: Vec<usize> = ba.iter().zip(&bb).map(|(x, y)| *x.max(y)).collect();
        if op_a != MatrixOp::Vector {
            shape.push(ma);
        }
        if op_b != MatrixOp::Vector {
            shape.push(nb);
        }
        let want = k::shape::reshape(&full, &i64s(&shape)).unwrap();
        check_close(&got, &want, kk)?;
    }

    #[test]
    fn elementwise_matches_exec(
        shape in prop::collection::vec((1usize..=4, 0u8..3), 1..=4),
        op in prop_oneof![
            Just(ElementWiseOp::Sum), Just(ElementWiseOp::Sub), Just(ElementWiseOp::Prod),
            Just(ElementWiseOp::Div), Just(ElementWiseOp::Max), Just(ElementWiseOp::Min),
        ],
        ty in prop_oneof![
            Just((TrtDataType::Float, DType::F32)), Just((TrtDataType::Half, DType::F16)),
            Just((TrtDataType::Bf16, DType::BF16)), Just((TrtDataType::Int32, DType::I32)),
            Just((TrtDataType::Int64, DType::I64)),
        ],
        seed in any::<u64>(),
    ) {
        let (trt, dt) = ty;
        // Integer division: TensorRT truncates, ATen's div is true division.
        prop_assume!(op != ElementWiseOp::Div || dt.is_float());
        let sa: Vec<usize> = shape.iter().map(|&(e, w)| if w == 1 { 1 } else { e }).collect();
        let sb: Vec<usize> = shape.iter().map(|&(e, w)| if w == 2 { 1 } else { e }).collect();
        let make = |s: u64, sh: &[usize]| -> Tensor {
            if dt.is_float() {
                tensor(s, sh, dt)
            } else {
                let v: Vec<i64> = values(s, sh.iter().product()).iter().map(|x| (x * 50.0) as i64).collect();
                Tensor::from_vec(v, sh.to_vec()).unwrap().to_dtype(dt)
            }
        };
        let a = make(seed, &sa);
        // Divisors away from zero.
        let b = if op == ElementWiseOp::Div {
            let v: Vec<f32> = values(seed ^ 3, sb.iter().product()).iter().map(|x| x.signum() * (0.5 + x.abs())).collect();
            Tensor::from_vec(v, sb.clone()).unwrap().to_dtype(dt)
        } else {
            make(seed ^ 3, &sb)
        };
        let mut net = RecordedNetwork::new();
        let ai = net.add_input("a", trt, &dims(&sa)).unwrap();
        let bi = net.add_input("b", trt, &dims(&sb)).unwrap();
        let y = net.add_elementwise(ai, bi, op).unwrap();
        let got = run1(net, y, vec![("a", a.clone()), ("b", b.clone())]);
        let one = Scalar::Int(1);
        let want = match op {
            ElementWiseOp::Sum => k::elementwise::add(&a, &b, one),
            ElementWiseOp::Sub => k::elementwise::sub(&a, &b, one),
            ElementWiseOp::Prod => k::elementwise::mul(&a, &b),
            ElementWiseOp::Div => k::elementwise::div(&a, &b),
            ElementWiseOp::Max => k::elementwise::maximum(&a, &b),
            _ => k::elementwise::minimum(&a, &b),
        }
        .unwrap();
        if dt.is_float() {
            check_close(&got, &want, 1)?;
        } else {
            prop_assert_eq!(got.to_i64_vec(), want.to_i64_vec());
        }
    }

    #[test]
    fn reduce_matches_exec(
        shape in prop::collection::vec(1usize..=5, 1..=4),
        axes_bits in 1u32..16,
        keep in any::<bool>(),
        op in prop_oneof![Just(ReduceOp::Sum), Just(ReduceOp::Avg), Just(ReduceOp::Max), Just(ReduceOp::Min)],
        (trt, dt) in float_type(),
        seed in any::<u64>(),
    ) {
        let r = shape.len();
        let axes = axes_bits & ((1 << r) - 1);
        prop_assume!(axes != 0);
        let x = tensor(seed, &shape, dt);
        let mut net = RecordedNetwork::new();
        let xi = net.add_input("x", trt, &dims(&shape)).unwrap();
        let y = net.add_reduce(xi, op, axes, keep).unwrap();
        let got = run1(net, y, vec![("x", x.clone())]);
        let dl: Vec<i64> = (0..r as i64).filter(|d| axes & (1 << d) != 0).collect();
        let want = match op {
            ReduceOp::Sum => k::reduce::sum(&x, Some(&dl), keep, None),
            ReduceOp::Avg => k::reduce::mean(&x, Some(&dl), keep, None),
            ReduceOp::Max => k::reduce::amax(&x, &dl, keep),
            _ => k::reduce::amin(&x, &dl, keep),
        }
        .unwrap();
        let terms: usize = dl.iter().map(|&d| shape[d as usize]).product();
        check_close(&got, &want, terms)?;
    }
}
