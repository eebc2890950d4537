//! Layer emulator: one or more tests per layer kind, each comparing the emulation of a small
//! recorded network with an independent reference (an exec kernel with the same semantics, or a
//! naive loop written here).

use trtfx_backend_trt::emulator::emulate;
use trtfx_backend_trt::network::*;
use trtfx_backend_trt::RecordedNetwork;
use trtfx_exec::kernels as k;
use trtfx_exec::{DType, Scalar, Tensor};

use TrtDataType::{Bool, Float, Int32, Int64};

type BinF = fn(f32, f32) -> f32;
type UnF = fn(f32) -> f32;
type ActF = Box<dyn Fn(f32) -> f32>;
/// (start, size, stride, mode).
type SliceCase = (Vec<i64>, Vec<usize>, Vec<i64>, SliceMode);

/// Tiny deterministic RNG (xorshift64*), so tests need no extra dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-1, 1).
    fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.f()).collect()
    }
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

fn tf(v: Vec<f32>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape.to_vec()).unwrap()
}

fn ti64(v: Vec<i64>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape.to_vec()).unwrap()
}

fn ti32(v: Vec<i32>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape.to_vec()).unwrap()
}

fn random(rng: &mut Rng, shape: &[usize]) -> Tensor {
    tf(rng.vec(numel(shape)), shape)
}

fn dims(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// Marks `y` as output "y", emulates with `inputs` and returns it.
fn run(mut net: RecordedNetwork, y: TensorId, inputs: Vec<(&str, Tensor)>) -> Tensor {
    net.mark_output(y, "y").unwrap();
    let mut outs = emulate(&net, &inputs).unwrap();
    assert_eq!(outs.len(), 1);
    outs.remove(0).1
}

/// Network with one f32 input `x` of `shape`; returns (net, x).
fn net_with(shape: &[usize]) -> (RecordedNetwork, TensorId) {
    let mut n = RecordedNetwork::new();
    let x = n.add_input("x", Float, &dims(shape)).unwrap();
    (n, x)
}

fn assert_close(got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.shape(), want.shape(), "shape");
    assert_eq!(got.dtype(), want.dtype(), "dtype");
    let (g, w) = (got.to_f64_vec(), want.to_f64_vec());
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let ok = a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * (1.0 + b.abs());
        assert!(ok, "element {i}: got {a}, want {b}");
    }
}

fn assert_close_vec(got: &Tensor, want: &[f32], shape: &[usize]) {
    assert_close(got, &tf(want.to_vec(), shape), 1e-5);
}

fn coords(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let n = numel(shape);
    for mut i in 0..n {
        let mut c = vec![0; shape.len()];
        for d in (0..shape.len()).rev() {
            c[d] = i % shape[d];
            i /= shape[d];
        }
        out.push(c);
    }
    out
}

fn lin(c: &[usize], shape: &[usize]) -> usize {
    c.iter().zip(shape).fold(0, |acc, (&x, &e)| acc * e + x)
}

// ------------------------------------------------------------------------------------------

#[test]
fn constant_all_types() {
    let mut n = RecordedNetwork::new();
    let a = n
        .add_constant(&[2, 2], Weights::from_f32(&[1.0, -2.5, 3.0, 4.0]))
        .unwrap();
    let b = n
        .add_constant(&[3], Weights::from_i64(&[7, -8, 9]))
        .unwrap();
    let c = n.add_constant(&[], Weights::from_i32(&[5])).unwrap();
    let d = n
        .add_constant(&[2], Weights::from_bool(&[true, false]))
        .unwrap();
    for (t, name) in [(a, "a"), (b, "b"), (c, "c"), (d, "d")] {
        n.mark_output(t, name).unwrap();
    }
    let outs = emulate::<&str>(&n, &[]).unwrap();
    assert_eq!(outs[0].1, tf(vec![1.0, -2.5, 3.0, 4.0], &[2, 2]));
    assert_eq!(outs[1].1, ti64(vec![7, -8, 9], &[3]));
    assert_eq!(outs[2].1, Tensor::scalar(5i32));
    assert_eq!(outs[3].1, Tensor::from_slice(&[true, false]));
}

/// An empty integer constant against a one-element one: the recorder's value tracking
/// broadcasts to an empty result (it indexed the empty side before), and the emulator agrees.
#[test]
fn elementwise_of_an_empty_and_a_scalar_constant() {
    let mut n = RecordedNetwork::new();
    let e = n.add_constant(&[0], Weights::from_i32(&[])).unwrap();
    let s = n.add_constant(&[1], Weights::from_i32(&[256])).unwrap();
    for (i, op) in [ElementWiseOp::Sum, ElementWiseOp::FloorDiv]
        .into_iter()
        .enumerate()
    {
        let (a, b) = if i == 0 { (e, s) } else { (s, e) };
        let r = n.add_elementwise(a, b, op).unwrap();
        n.mark_output(r, &format!("r{i}")).unwrap();
    }
    let outs = emulate::<&str>(&n, &[]).unwrap();
    assert!(outs.iter().all(|(_, t)| t.numel() == 0 && t.shape() == [0]));
}

/// Naive grouped, strided, dilated 2-D convolution with asymmetric padding (TensorRT's rule).
#[allow(clippy::too_many_arguments)]
fn naive_conv2d(
    x: &[f32],
    xs: [usize; 4],
    w: &[f32],
    k: usize,
    kk: [usize; 2],
    b: &[f32],
    stride: [usize; 2],
    pre: [usize; 2],
    post: [usize; 2],
    dil: [usize; 2],
    groups: usize,
) -> (Vec<f32>, Vec<usize>) {
    let [n, c, h, wd] = xs;
    let oh = (h + pre[0] + post[0] - dil[0] * (kk[0] - 1) - 1) / stride[0] + 1;
    let ow = (wd + pre[1] + post[1] - dil[1] * (kk[1] - 1) - 1) / stride[1] + 1;
    let (cg, kg) = (c / groups, k / groups);
    let mut out = vec![0f32; n * k * oh * ow];
    for ni in 0..n {
        for ko in 0..k {
            let g = ko / kg;
            for y in 0..oh {
                for xo in 0..ow {
                    let mut s = b[ko] as f64;
                    for ci in 0..cg {
                        for i in 0..kk[0] {
                            for j in 0..kk[1] {
                                let yy = (y * stride[0] + i * dil[0]) as i64 - pre[0] as i64;
                                let xx = (xo * stride[1] + j * dil[1]) as i64 - pre[1] as i64;
                                if yy < 0 || xx < 0 || yy >= h as i64 || xx >= wd as i64 {
                                    continue;
                                }
                                let cin = g * cg + ci;
                                let xv = x[((ni * c + cin) * h + yy as usize) * wd + xx as usize];
                                let wv = w[((ko * cg + ci) * kk[0] + i) * kk[1] + j];
                                s += xv as f64 * wv as f64;
                            }
                        }
                    }
                    out[((ni * k + ko) * oh + y) * ow + xo] = s as f32;
                }
            }
        }
    }
    (out, vec![n, k, oh, ow])
}

#[test]
fn convolution_2d_groups_stride_padding_dilation() {
    let mut rng = Rng::new(1);
    let xs = [2, 4, 7, 6];
    let x = rng.vec(numel(&xs));
    let (kout, groups) = (6, 2);
    let w = rng.vec(kout * 2 * 3 * 2);
    let b = rng.vec(kout);
    let (mut net, xi) = net_with(&xs);
    let mut p = ConvolutionParams::new(kout as i64, &[3, 2]);
    p.stride = vec![2, 1];
    p.pre_padding = vec![1, 0];
    p.post_padding = vec![0, 2];
    p.dilation = vec![1, 2];
    p.groups = groups as i64;
    let y = net
        .add_convolution_nd(xi, &p, Weights::from_f32(&w), Some(Weights::from_f32(&b)))
        .unwrap();
    let got = run(net, y, vec![("x", tf(x.clone(), &xs))]);
    let (want, shape) = naive_conv2d(
        &x,
        xs,
        &w,
        kout,
        [3, 2],
        &b,
        [2, 1],
        [1, 0],
        [0, 2],
        [1, 2],
        groups,
    );
    assert_close(&got, &tf(want, &shape), 1e-5);
}

#[test]
fn convolution_3d_matches_exec_conv() {
    let mut rng = Rng::new(2);
    let xs = [1, 2, 4, 5, 3];
    let x = random(&mut rng, &xs);
    let w = rng.vec(3 * 2 * 2 * 3 * 2);
    let (mut net, xi) = net_with(&xs);
    let mut p = ConvolutionParams::new(3, &[2, 3, 2]);
    p.pre_padding = vec![1, 1, 1];
    p.post_padding = vec![1, 1, 1];
    p.stride = vec![1, 2, 1];
    let y = net
        .add_convolution_nd(xi, &p, Weights::from_f32(&w), None)
        .unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    let wt = tf(w, &[3, 2, 2, 3, 2]);
    let want = k::conv::conv(&x, &wt, None, &[1, 2, 1], &[1, 1, 1], &[1, 1, 1], 1).unwrap();
    assert_close(&got, &want, 1e-5);
}

#[test]
fn deconvolution_matches_exec_conv_transpose() {
    let mut rng = Rng::new(3);
    let xs = [2, 4, 3, 4];
    let x = random(&mut rng, &xs);
    let (kout, groups) = (4usize, 2i64);
    // [C, K/groups, kh, kw]
    let w = rng.vec(4 * 2 * 3 * 3);
    let b = rng.vec(kout);
    let (mut net, xi) = net_with(&xs);
    let mut p = ConvolutionParams::new(kout as i64, &[3, 3]);
    p.stride = vec![2, 2];
    p.pre_padding = vec![1, 1];
    p.post_padding = vec![1, 1];
    p.groups = groups;
    let y = net
        .add_deconvolution_nd(xi, &p, Weights::from_f32(&w), Some(Weights::from_f32(&b)))
        .unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    let want = k::conv::conv_transpose(
        &x,
        &tf(w, &[4, 2, 3, 3]),
        Some(&tf(b, &[4])),
        &[2, 2],
        &[1, 1],
        &[0, 0],
        groups,
        &[1, 1],
    )
    .unwrap();
    assert_close(&got, &want, 1e-5);
}

/// Naive batched matmul of `a` [.., m, kk] by `b` [.., kk, n] with equal-rank broadcasting.
fn naive_bmm(a: &Tensor, b: &Tensor) -> Tensor {
    let (sa, sb) = (a.shape(), b.shape());
    let r = sa.len();
    let (m, kk, n) = (sa[r - 2], sa[r - 1], sb[r - 1]);
    let batch: Vec<usize> = (0..r - 2).map(|d| sa[d].max(sb[d])).collect();
    let (av, bv) = (a.to_f64_vec(), b.to_f64_vec());
    let mut out = Vec::new();
    for c in coords(&batch) {
        let ca: Vec<usize> = c
            .iter()
            .zip(sa)
            .map(|(&x, &e)| if e == 1 { 0 } else { x })
            .collect();
        let cb: Vec<usize> = c
            .iter()
            .zip(sb)
            .map(|(&x, &e)| if e == 1 { 0 } else { x })
            .collect();
        let (oa, ob) = (
            lin(&ca, &sa[..r - 2]) * m * kk,
            lin(&cb, &sb[..r - 2]) * kk * n,
        );
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..kk)
                    .map(|l| av[oa + i * kk + l] * bv[ob + l * n + j])
                    .sum();
                out.push(s as f32);
            }
        }
    }
    let mut shape = batch;
    shape.extend([m, n]);
    tf(out, &shape)
}

#[test]
fn matrix_multiply_transpose_and_batch_broadcast() {
    let mut rng = Rng::new(4);
    let (sa, sb) = ([2, 1, 3, 4], [1, 3, 5, 4]);
    let (a, b) = (random(&mut rng, &sa), random(&mut rng, &sb));
    let mut net = RecordedNetwork::new();
    let ai = net.add_input("a", Float, &dims(&sa)).unwrap();
    let bi = net.add_input("b", Float, &dims(&sb)).unwrap();
    let y = net
        .add_matrix_multiply(ai, MatrixOp::None, bi, MatrixOp::Transpose)
        .unwrap();
    let got = run(net, y, vec![("a", a.clone()), ("b", b.clone())]);
    let bt = k::shape::transpose(&b, -1, -2).unwrap();
    assert_close(&got, &naive_bmm(&a, &bt), 1e-5);
}

#[test]
fn matrix_multiply_vector_operands() {
    let mut rng = Rng::new(5);
    let v = random(&mut rng, &[2, 4]);
    let m = random(&mut rng, &[2, 4, 3]);
    // vector x matrix: [2, 4] . [2, 4, 3] -> [2, 3]
    let mut net = RecordedNetwork::new();
    let vi = net.add_input("v", Float, &[2, 4]).unwrap();
    let mi = net.add_input("m", Float, &[2, 4, 3]).unwrap();
    let y = net
        .add_matrix_multiply(vi, MatrixOp::Vector, mi, MatrixOp::None)
        .unwrap();
    let got = run(net, y, vec![("v", v.clone()), ("m", m.clone())]);
    let want = naive_bmm(&v.with_shape(vec![2, 1, 4]).unwrap(), &m);
    assert_close(&got, &want.with_shape(vec![2, 3]).unwrap(), 1e-5);
    // transposed matrix x vector: [2, 3, 4]^T . [2, 3] -> [2, 4]
    let mut net = RecordedNetwork::new();
    let mi = net.add_input("m", Float, &[2, 4, 3]).unwrap();
    let vi = net.add_input("v", Float, &[2, 3]).unwrap();
    let y = net
        .add_matrix_multiply(mi, MatrixOp::None, vi, MatrixOp::Vector)
        .unwrap();
    let w = random(&mut rng, &[2, 3]);
    let got = run(net, y, vec![("m", m.clone()), ("v", w.clone())]);
    let want = naive_bmm(&m, &w.with_shape(vec![2, 3, 1]).unwrap());
    assert_close(&got, &want.with_shape(vec![2, 4]).unwrap(), 1e-5);
}

#[test]
fn elementwise_float_ops_broadcast() {
    use ElementWiseOp as E;
    let mut rng = Rng::new(6);
    let (sa, sb) = ([2, 1, 3], [1, 4, 3]);
    // Positive bases keep pow real.
    let a: Vec<f32> = rng.vec(6).iter().map(|x| x + 1.5).collect();
    let b: Vec<f32> = rng.vec(12).iter().map(|x| x * 2.0 + 0.1).collect();
    let cases: Vec<(E, BinF)> = vec![
        (E::Sum, |p, q| p + q),
        (E::Prod, |p, q| p * q),
        (E::Max, f32::max),
        (E::Min, f32::min),
        (E::Sub, |p, q| p - q),
        (E::Div, |p, q| p / q),
        (E::Pow, f32::powf),
        (E::FloorDiv, |p, q| (p / q).floor()),
    ];
    let out_shape = [2, 4, 3];
    for (op, f) in cases {
        let mut net = RecordedNetwork::new();
        let ai = net.add_input("a", Float, &dims(&sa)).unwrap();
        let bi = net.add_input("b", Float, &dims(&sb)).unwrap();
        let y = net.add_elementwise(ai, bi, op).unwrap();
        let got = run(
            net,
            y,
            vec![("a", tf(a.clone(), &sa)), ("b", tf(b.clone(), &sb))],
        );
        let want: Vec<f32> = coords(&out_shape)
            .iter()
            .map(|c| f(a[c[0] * 3 + c[2]], b[c[1] * 3 + c[2]]))
            .collect();
        assert_close_vec(&got, &want, &out_shape);
    }
    // Comparisons give bool.
    for op in [E::Equal, E::Greater, E::Less] {
        let mut net = RecordedNetwork::new();
        let ai = net.add_input("a", Float, &[4]).unwrap();
        let bi = net.add_input("b", Float, &[4]).unwrap();
        let y = net.add_elementwise(ai, bi, op).unwrap();
        let got = run(
            net,
            y,
            vec![
                ("a", tf(vec![1.0, 2.0, 3.0, f32::NAN], &[4])),
                ("b", tf(vec![1.0, 3.0, 2.0, 0.0], &[4])),
            ],
        );
        let want = match op {
            E::Equal => [true, false, false, false],
            E::Greater => [false, false, true, false],
            _ => [false, true, false, false],
        };
        assert_eq!(got, Tensor::from_slice(&want));
    }
}

#[test]
fn elementwise_integer_division_truncates_and_floor_div_floors() {
    use ElementWiseOp as E;
    let a = vec![7i64, -7, 7, -7, 0, 5];
    let b = vec![2i64, 2, -2, -2, 3, 1];
    let cases: Vec<(E, Vec<i64>)> = vec![
        (E::Div, vec![3, -3, -3, 3, 0, 5]),
        (E::FloorDiv, vec![3, -4, -4, 3, 0, 5]),
        (E::Sum, vec![9, -5, 5, -9, 3, 6]),
        (E::Sub, vec![5, -9, 9, -5, -3, 4]),
        (E::Prod, vec![14, -14, -14, 14, 0, 5]),
        (E::Max, vec![7, 2, 7, -2, 3, 5]),
        (E::Min, vec![2, -7, -2, -7, 0, 1]),
        (E::Pow, vec![49, 49, 0, 0, 0, 5]),
    ];
    for dt in [Int32, Int64] {
        for (op, want) in &cases {
            let mut net = RecordedNetwork::new();
            let ai = net.add_input("a", dt, &[6]).unwrap();
            let bi = net.add_input("b", dt, &[6]).unwrap();
            let y = net.add_elementwise(ai, bi, *op).unwrap();
            let (ta, tb, tw) = if dt == Int32 {
                let c = |v: &Vec<i64>| ti32(v.iter().map(|&x| x as i32).collect(), &[6]);
                (c(&a), c(&b), c(want))
            } else {
                (
                    ti64(a.clone(), &[6]),
                    ti64(b.clone(), &[6]),
                    ti64(want.clone(), &[6]),
                )
            };
            let got = run(net, y, vec![("a", ta), ("b", tb)]);
            assert_eq!(got, tw, "{op:?} on {dt}");
        }
    }
    // Int32 wraps.
    let mut net = RecordedNetwork::new();
    let ai = net.add_input("a", Int32, &[1]).unwrap();
    let y = net.add_elementwise(ai, ai, E::Sum).unwrap();
    let got = run(net, y, vec![("a", ti32(vec![i32::MAX], &[1]))]);
    assert_eq!(got, ti32(vec![-2], &[1]));
}

#[test]
fn elementwise_bool_logic() {
    use ElementWiseOp as E;
    let a = [true, true, false, false];
    let b = [true, false, true, false];
    for (op, want) in [
        (E::And, [true, false, false, false]),
        (E::Or, [true, true, true, false]),
        (E::Xor, [false, true, true, false]),
    ] {
        let mut net = RecordedNetwork::new();
        let ai = net.add_input("a", Bool, &[4]).unwrap();
        let bi = net.add_input("b", Bool, &[4]).unwrap();
        let y = net.add_elementwise(ai, bi, op).unwrap();
        let got = run(
            net,
            y,
            vec![("a", Tensor::from_slice(&a)), ("b", Tensor::from_slice(&b))],
        );
        assert_eq!(got, Tensor::from_slice(&want));
    }
}

#[test]
fn unary_float_ops() {
    use UnaryOp as U;
    let mut rng = Rng::new(7);
    let x: Vec<f32> = rng.vec(10).iter().map(|v| v * 0.9).collect();
    let pos: Vec<f32> = x.iter().map(|v| v.abs() + 1.1).collect();
    let cases: Vec<(U, UnF, bool)> = vec![
        (U::Exp, f32::exp, false),
        (U::Log, f32::ln, true),
        (U::Sqrt, f32::sqrt, true),
        (U::Recip, |v| 1.0 / v, true),
        (U::Abs, f32::abs, false),
        (U::Neg, |v| -v, false),
        (U::Sin, f32::sin, false),
        (U::Cos, f32::cos, false),
        (U::Tan, f32::tan, false),
        (U::Sinh, f32::sinh, false),
        (U::Cosh, f32::cosh, false),
        (U::Asin, f32::asin, false),
        (U::Acos, f32::acos, false),
        (U::Atan, f32::atan, false),
        (U::Asinh, f32::asinh, false),
        (U::Acosh, f32::acosh, true),
        (U::Atanh, f32::atanh, false),
        (U::Ceil, f32::ceil, false),
        (U::Floor, f32::floor, false),
        (U::Sign, f32::signum, true),
    ];
    for (op, f, positive) in cases {
        let input = if positive { &pos } else { &x };
        let (mut net, xi) = net_with(&[2, 5]);
        let y = net.add_unary(xi, op).unwrap();
        let got = run(net, y, vec![("x", tf(input.clone(), &[2, 5]))]);
        let want: Vec<f32> = input.iter().map(|&v| f(v)).collect();
        assert_close_vec(&got, &want, &[2, 5]);
    }
    // erf against the exec kernel's gelu identity: gelu(x) = x/2 (1 + erf(x / sqrt 2)).
    let (mut net, xi) = net_with(&[10]);
    let y = net.add_unary(xi, U::Erf).unwrap();
    let xs = tf(x.clone(), &[10]);
    let got = run(net, y, vec![("x", xs.clone())]);
    let scaled = tf(
        x.iter().map(|v| v * std::f32::consts::SQRT_2).collect(),
        &[10],
    );
    let g = k::elementwise::gelu(&scaled, "none").unwrap().to_f64_vec();
    let want: Vec<f32> = g
        .iter()
        .zip(scaled.to_f64_vec())
        .map(|(g, s)| (2.0 * g / s - 1.0) as f32)
        .collect();
    assert_close(&got, &tf(want, &[10]), 1e-4);
    // Round is half to even; sign of zero stays zero.
    let (mut net, xi) = net_with(&[6]);
    let y = net.add_unary(xi, U::Round).unwrap();
    let got = run(
        net,
        y,
        vec![("x", tf(vec![0.5, 1.5, 2.5, -0.5, -1.5, 2.6], &[6]))],
    );
    assert_eq!(got, tf(vec![0.0, 2.0, 2.0, -0.0, -2.0, 3.0], &[6]));
}

#[test]
fn unary_int_bool_and_tests() {
    use UnaryOp as U;
    for (op, want) in [
        (U::Abs, vec![3i64, 0, 5]),
        (U::Neg, vec![3, 0, -5]),
        (U::Sign, vec![-1, 0, 1]),
    ] {
        let mut net = RecordedNetwork::new();
        let xi = net.add_input("x", Int64, &[3]).unwrap();
        let y = net.add_unary(xi, op).unwrap();
        let got = run(net, y, vec![("x", ti64(vec![-3, 0, 5], &[3]))]);
        assert_eq!(got, ti64(want, &[3]));
    }
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Bool, &[2]).unwrap();
    let y = net.add_unary(xi, U::Not).unwrap();
    let got = run(net, y, vec![("x", Tensor::from_slice(&[true, false]))]);
    assert_eq!(got, Tensor::from_slice(&[false, true]));
    let input = tf(vec![1.0, f32::INFINITY, f32::NAN, f32::NEG_INFINITY], &[4]);
    for (op, want) in [
        (U::IsInf, [false, true, false, true]),
        (U::IsNan, [false, false, true, false]),
    ] {
        let (mut net, xi) = net_with(&[4]);
        let y = net.add_unary(xi, op).unwrap();
        let got = run(net, y, vec![("x", input.clone())]);
        assert_eq!(got, Tensor::from_slice(&want));
    }
}

#[test]
fn activations_follow_tensorrt_formulas() {
    use Activation as A;
    let mut rng = Rng::new(8);
    let x: Vec<f32> = rng.vec(24).iter().map(|v| v * 3.0).collect();
    let cases: Vec<(A, ActF)> = vec![
        (A::Relu, Box::new(|v: f32| v.max(0.0))),
        (A::Sigmoid, Box::new(|v: f32| 1.0 / (1.0 + (-v).exp()))),
        (A::Tanh, Box::new(f32::tanh)),
        (
            A::LeakyRelu { alpha: 0.1 },
            Box::new(|v: f32| if v >= 0.0 { v } else { 0.1 * v }),
        ),
        (
            A::Elu { alpha: 1.5 },
            Box::new(|v: f32| if v >= 0.0 { v } else { 1.5 * (v.exp() - 1.0) }),
        ),
        (
            A::Selu {
                alpha: 1.6732632,
                beta: 1.050701,
            },
            Box::new(|v: f32| {
                if v > 0.0 {
                    1.050701 * v
                } else {
                    1.050701 * 1.6732632 * (v.exp() - 1.0)
                }
            }),
        ),
        (A::Softsign, Box::new(|v: f32| v / (1.0 + v.abs()))),
        (
            A::Softplus {
                alpha: 0.5,
                beta: 2.0,
            },
            Box::new(|v: f32| 0.5 * ((2.0 * v).exp() + 1.0).ln()),
        ),
        (
            A::Clip {
                alpha: -0.5,
                beta: 1.0,
            },
            Box::new(|v: f32| v.clamp(-0.5, 1.0)),
        ),
        (
            A::HardSigmoid {
                alpha: 0.2,
                beta: 0.5,
            },
            Box::new(|v: f32| (0.2 * v + 0.5).clamp(0.0, 1.0)),
        ),
        (
            A::ScaledTanh {
                alpha: 2.0,
                beta: 0.5,
            },
            Box::new(|v: f32| 2.0 * (0.5 * v).tanh()),
        ),
        (
            A::ThresholdedRelu { alpha: 0.3 },
            Box::new(|v: f32| if v > 0.3 { v } else { 0.0 }),
        ),
    ];
    for (act, f) in cases {
        let (mut net, xi) = net_with(&[4, 6]);
        let y = net.add_activation(xi, act).unwrap();
        let got = run(net, y, vec![("x", tf(x.clone(), &[4, 6]))]);
        let want: Vec<f32> = x.iter().map(|&v| f(v)).collect();
        assert_close_vec(&got, &want, &[4, 6]);
    }
    for (act, approx) in [(A::GeluErf, "none"), (A::GeluTanh, "tanh")] {
        let (mut net, xi) = net_with(&[4, 6]);
        let y = net.add_activation(xi, act).unwrap();
        let xs = tf(x.clone(), &[4, 6]);
        let got = run(net, y, vec![("x", xs.clone())]);
        assert_close(&got, &k::elementwise::gelu(&xs, approx).unwrap(), 1e-5);
    }
    // Integer relu.
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Int32, &[3]).unwrap();
    let y = net.add_activation(xi, A::Relu).unwrap();
    let got = run(net, y, vec![("x", ti32(vec![-4, 0, 9], &[3]))]);
    assert_eq!(got, ti32(vec![0, 0, 9], &[3]));
}

#[test]
fn reduce_axes_bitmask_and_keep_dims() {
    let mut rng = Rng::new(9);
    let shape = [2, 3, 4];
    let x = random(&mut rng, &shape);
    for keep in [true, false] {
        for (op, axes) in [
            (ReduceOp::Sum, 0b101u32),
            (ReduceOp::Avg, 0b110),
            (ReduceOp::Max, 0b010),
            (ReduceOp::Min, 0b001),
            (ReduceOp::Prod, 0b100),
        ] {
            let dl: Vec<i64> = (0..3).filter(|d| axes & (1 << d) != 0).collect();
            let (mut net, xi) = net_with(&shape);
            let y = net.add_reduce(xi, op, axes, keep).unwrap();
            let got = run(net, y, vec![("x", x.clone())]);
            let want = match op {
                ReduceOp::Sum => k::reduce::sum(&x, Some(&dl), keep, None),
                ReduceOp::Avg => k::reduce::mean(&x, Some(&dl), keep, None),
                ReduceOp::Max => k::reduce::amax(&x, &dl, keep),
                ReduceOp::Min => k::reduce::amin(&x, &dl, keep),
                ReduceOp::Prod => k::reduce::prod(&x, Some(&dl), keep, None),
            }
            .unwrap();
            assert_close(&got, &want, 1e-5);
        }
    }
    // Integer sum and truncating average.
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Int64, &[2, 3]).unwrap();
    let s = net.add_reduce(xi, ReduceOp::Sum, 0b10, false).unwrap();
    let a = net.add_reduce(xi, ReduceOp::Avg, 0b10, false).unwrap();
    net.mark_output(s, "s").unwrap();
    net.mark_output(a, "a").unwrap();
    let outs = emulate(&net, &[("x", ti64(vec![1, 2, 4, -1, -2, -4], &[2, 3]))]).unwrap();
    assert_eq!(outs[0].1, ti64(vec![7, -7], &[2]));
    assert_eq!(outs[1].1, ti64(vec![2, -2], &[2]));
}

#[test]
fn softmax_over_each_axis() {
    let mut rng = Rng::new(10);
    let shape = [2, 3, 4];
    let x = tf(rng.vec(24).iter().map(|v| v * 5.0).collect(), &shape);
    for axis in 0..3u32 {
        let (mut net, xi) = net_with(&shape);
        let y = net.add_softmax(xi, axis).unwrap();
        let got = run(net, y, vec![("x", x.clone())]);
        let want = k::reduce::softmax(&x, axis as i64, false).unwrap();
        assert_close(&got, &want, 1e-5);
    }
}

#[test]
fn shuffle_transpose_reshape_transpose() {
    let mut rng = Rng::new(11);
    let shape = [2, 3, 4, 5];
    let x = random(&mut rng, &shape);
    let (mut net, xi) = net_with(&shape);
    let p = ShuffleParams {
        first_transpose: Some(vec![0, 2, 1, 3]),
        reshape: Some(ShapeArg::Static(vec![0, -1, 5])),
        second_transpose: Some(vec![2, 0, 1]),
        zero_is_placeholder: true,
    };
    let y = net.add_shuffle(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    let t = k::shape::permute(&x, &[0, 2, 1, 3]).unwrap();
    let t = k::shape::reshape(&t, &[2, 12, 5]).unwrap();
    let want = k::shape::permute(&t, &[2, 0, 1]).unwrap();
    assert_eq!(got, want);
}

#[test]
fn shuffle_reshape_from_shape_tensor() {
    let mut rng = Rng::new(12);
    let x = random(&mut rng, &[2, 6]);
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Float, &[2, 6]).unwrap();
    let si = net.add_input("s", Int64, &[3]).unwrap();
    let p = ShuffleParams {
        reshape: Some(ShapeArg::Tensor(si)),
        zero_is_placeholder: true,
        ..ShuffleParams::default()
    };
    let y = net.add_shuffle(xi, &p).unwrap();
    let got = run(
        net,
        y,
        vec![("x", x.clone()), ("s", ti64(vec![0, -1, 2], &[3]))],
    );
    assert_eq!(got, x.with_shape(vec![2, 3, 2]).unwrap());
    // A shape tensor computed in the network: shape(x) then reshape y to it.
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Float, &[2, 6]).unwrap();
    let zi = net.add_input("z", Float, &[12]).unwrap();
    let s = net.add_shape(xi).unwrap();
    let p = ShuffleParams {
        reshape: Some(ShapeArg::Tensor(s)),
        zero_is_placeholder: false,
        ..ShuffleParams::default()
    };
    let y = net.add_shuffle(zi, &p).unwrap();
    let z = random(&mut rng, &[12]);
    let got = run(net, y, vec![("x", x), ("z", z.clone())]);
    assert_eq!(got, z.with_shape(vec![2, 6]).unwrap());
}

/// Naive slice with TensorRT sample modes.
fn naive_slice(
    x: &[f32],
    shape: &[usize],
    start: &[i64],
    size: &[usize],
    stride: &[i64],
    mode: SliceMode,
    fill: f32,
) -> Vec<f32> {
    coords(size)
        .iter()
        .map(|c| {
            let mut src = Vec::new();
            for d in 0..shape.len() {
                let e = shape[d] as i64;
                let mut p = start[d] + c[d] as i64 * stride[d];
                if p < 0 || p >= e {
                    match mode {
                        SliceMode::Fill => return fill,
                        SliceMode::Clamp => p = p.clamp(0, e - 1),
                        SliceMode::Wrap => p = p.rem_euclid(e),
                        SliceMode::Reflect => {
                            // Mirror repeatedly about the edge elements.
                            while p < 0 || p >= e {
                                p = if p < 0 { -p } else { 2 * (e - 1) - p };
                            }
                        }
                        SliceMode::StrictBounds => panic!("out of bounds"),
                    }
                }
                src.push(p as usize);
            }
            x[lin(&src, shape)]
        })
        .collect()
}

#[test]
fn slice_static_and_modes() {
    let mut rng = Rng::new(13);
    let shape = [4, 5];
    let xv = rng.vec(20);
    let x = tf(xv.clone(), &shape);
    // Default mode, negative stride.
    let cases: Vec<SliceCase> = vec![
        (vec![1, 4], vec![2, 3], vec![2, -2], SliceMode::StrictBounds),
        (vec![-2, 3], vec![6, 4], vec![1, 1], SliceMode::Wrap),
        (vec![-2, 3], vec![6, 4], vec![1, 1], SliceMode::Clamp),
        (vec![-2, 3], vec![6, 4], vec![1, 1], SliceMode::Fill),
        (vec![-3, -2], vec![9, 8], vec![1, 1], SliceMode::Reflect),
    ];
    for (start, size, stride, mode) in cases {
        let (mut net, xi) = net_with(&shape);
        let mut p = SliceParams::new(&start, &dims(&size), &stride);
        p.mode = mode;
        let y = net.add_slice(xi, &p).unwrap();
        let got = run(net, y, vec![("x", x.clone())]);
        let want = naive_slice(&xv, &shape, &start, &size, &stride, mode, 0.0);
        assert_close_vec(&got, &want, &size);
    }
    // Fill value tensor and start/size/stride from tensors.
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Float, &dims(&shape)).unwrap();
    let st = net.add_input("start", Int64, &[2]).unwrap();
    let fv = net.add_constant(&[], Weights::from_f32(&[7.5])).unwrap();
    let sz = net.add_constant(&[2], Weights::from_i64(&[3, 3])).unwrap();
    let sd = net.add_constant(&[2], Weights::from_i32(&[2, 1])).unwrap();
    let p = SliceParams {
        start: ShapeArg::Tensor(st),
        size: ShapeArg::Tensor(sz),
        stride: ShapeArg::Tensor(sd),
        mode: SliceMode::Fill,
        fill_value: Some(fv),
    };
    let y = net.add_slice(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x), ("start", ti64(vec![1, 3], &[2]))]);
    let want = naive_slice(&xv, &shape, &[1, 3], &[3, 3], &[2, 1], SliceMode::Fill, 7.5);
    assert_close_vec(&got, &want, &[3, 3]);
}

#[test]
fn concatenation_matches_exec_cat() {
    let mut rng = Rng::new(14);
    let (a, b, c) = (
        random(&mut rng, &[2, 1, 3]),
        random(&mut rng, &[2, 4, 3]),
        random(&mut rng, &[2, 2, 3]),
    );
    let mut net = RecordedNetwork::new();
    let ai = net.add_input("a", Float, &[2, 1, 3]).unwrap();
    let bi = net.add_input("b", Float, &[2, 4, 3]).unwrap();
    let ci = net.add_input("c", Float, &[2, 2, 3]).unwrap();
    let y = net.add_concatenation(&[ai, bi, ci], 1).unwrap();
    let got = run(
        net,
        y,
        vec![("a", a.clone()), ("b", b.clone()), ("c", c.clone())],
    );
    assert_eq!(got, k::shape::cat(&[&a, &b, &c], 1).unwrap());
    // Integer concat on axis 0.
    let mut net = RecordedNetwork::new();
    let ai = net.add_input("a", Int64, &[2]).unwrap();
    let bi = net.add_constant(&[1], Weights::from_i64(&[9])).unwrap();
    let y = net.add_concatenation(&[ai, bi], 0).unwrap();
    let got = run(net, y, vec![("a", ti64(vec![1, 2], &[2]))]);
    assert_eq!(got, ti64(vec![1, 2, 9], &[3]));
}

#[test]
fn gather_default_mode() {
    let mut rng = Rng::new(15);
    let data = random(&mut rng, &[3, 5, 2]);
    // 1-D indices: index_select.
    let idx = vec![4i64, 0, 2, 2];
    let mut net = RecordedNetwork::new();
    let di = net.add_input("d", Float, &[3, 5, 2]).unwrap();
    let ii = net.add_input("i", Int64, &[4]).unwrap();
    let y = net.add_gather(di, ii, 1, GatherMode::Default).unwrap();
    let got = run(
        net,
        y,
        vec![("d", data.clone()), ("i", ti64(idx.clone(), &[4]))],
    );
    let want = k::index::index_select(&data, 1, &ti64(idx, &[4])).unwrap();
    assert_eq!(got, want);
    // 2-D Int32 indices with a negative one, axis 0; 0-D index drops the axis.
    let mut net = RecordedNetwork::new();
    let di = net.add_input("d", Float, &[3, 5, 2]).unwrap();
    let ii = net.add_input("i", Int32, &[2, 2]).unwrap();
    let s = net.add_constant(&[], Weights::from_i32(&[1])).unwrap();
    let y = net.add_gather(di, ii, 0, GatherMode::Default).unwrap();
    let z = net.add_gather(di, s, 2, GatherMode::Default).unwrap();
    net.mark_output(z, "z").unwrap();
    net.mark_output(y, "y").unwrap();
    let outs = emulate(
        &net,
        &[("d", data.clone()), ("i", ti32(vec![2, -1, 0, 1], &[2, 2]))],
    )
    .unwrap();
    let dv = data.to_f64_vec();
    let want: Vec<f32> = coords(&[2, 2, 5, 2])
        .iter()
        .map(|c| {
            let row = [2usize, 2, 0, 1][c[0] * 2 + c[1]];
            dv[lin(&[row, c[2], c[3]], &[3, 5, 2])] as f32
        })
        .collect();
    assert_close_vec(&outs[1].1, &want, &[2, 2, 5, 2]);
    assert_eq!(outs[0].1, k::shape::select(&data, 2, 1).unwrap());
}

#[test]
fn gather_element_and_nd_modes() {
    let mut rng = Rng::new(16);
    let data = random(&mut rng, &[3, 4]);
    let idx: Vec<i64> = (0..6).map(|_| rng.int(0, 4)).collect();
    let mut net = RecordedNetwork::new();
    let di = net.add_input("d", Float, &[3, 4]).unwrap();
    let ii = net.add_input("i", Int64, &[3, 2]).unwrap();
    let y = net.add_gather(di, ii, 1, GatherMode::Element).unwrap();
    let got = run(
        net,
        y,
        vec![("d", data.clone()), ("i", ti64(idx.clone(), &[3, 2]))],
    );
    assert_eq!(
        got,
        k::index::gather(&data, 1, &ti64(idx, &[3, 2])).unwrap()
    );
    // ND: index pairs into [3, 4, 2] pick rows of 2.
    let data = random(&mut rng, &[3, 4, 2]);
    let pairs = vec![2i64, 3, 0, 1, 1, 0];
    let mut net = RecordedNetwork::new();
    let di = net.add_input("d", Float, &[3, 4, 2]).unwrap();
    let ii = net.add_input("i", Int64, &[3, 2]).unwrap();
    let y = net.add_gather(di, ii, 0, GatherMode::Nd).unwrap();
    let got = run(
        net,
        y,
        vec![("d", data.clone()), ("i", ti64(pairs.clone(), &[3, 2]))],
    );
    let dv = data.to_f64_vec();
    let want: Vec<f32> = (0..3)
        .flat_map(|t| {
            let (a, b) = (pairs[2 * t] as usize, pairs[2 * t + 1] as usize);
            (0..2).map(move |j| (a, b, j))
        })
        .map(|(a, b, j)| dv[(a * 4 + b) * 2 + j] as f32)
        .collect();
    assert_close_vec(&got, &want, &[3, 2]);
}

#[test]
fn select_broadcasts_like_where() {
    let mut rng = Rng::new(17);
    let cond: Vec<bool> = (0..4).map(|_| rng.int(0, 2) == 1).collect();
    let c = Tensor::from_vec(cond, vec![4, 1]).unwrap();
    let (a, b) = (random(&mut rng, &[4, 3]), random(&mut rng, &[1, 3]));
    let mut net = RecordedNetwork::new();
    let ci = net.add_input("c", Bool, &[4, 1]).unwrap();
    let ai = net.add_input("a", Float, &[4, 3]).unwrap();
    let bi = net.add_input("b", Float, &[1, 3]).unwrap();
    let y = net.add_select(ci, ai, bi).unwrap();
    let got = run(
        net,
        y,
        vec![("c", c.clone()), ("a", a.clone()), ("b", b.clone())],
    );
    assert_eq!(got, k::elementwise::where_(&c, &a, &b).unwrap());
}

#[test]
fn cast_truncates_toward_zero_and_saturates() {
    let x = tf(vec![-2.7, 2.7, 0.5, -0.5, f32::NAN, 1e20, -1e20, 5.6], &[8]);
    let (mut net, xi) = net_with(&[8]);
    let i32o = net.add_cast(xi, Int32).unwrap();
    let i64o = net.add_cast(xi, Int64).unwrap();
    let bo = net.add_cast(xi, Bool).unwrap();
    let ho = net.add_cast(xi, TrtDataType::Half).unwrap();
    let back = net.add_cast(i32o, Float).unwrap();
    for (t, n) in [
        (i32o, "i32"),
        (i64o, "i64"),
        (bo, "b"),
        (ho, "h"),
        (back, "back"),
    ] {
        net.mark_output(t, n).unwrap();
    }
    let outs = emulate(&net, &[("x", x.clone())]).unwrap();
    assert_eq!(
        outs[0].1,
        ti32(vec![-2, 2, 0, 0, 0, i32::MAX, i32::MIN, 5], &[8])
    );
    assert_eq!(
        outs[1].1,
        ti64(vec![-2, 2, 0, 0, 0, i64::MAX, i64::MIN, 5], &[8])
    );
    assert_eq!(
        outs[2].1,
        Tensor::from_slice(&[true, true, true, true, true, true, true, true])
    );
    assert_eq!(outs[3].1.dtype(), DType::F16);
    assert_close(
        &outs[3].1.to_dtype(DType::F32),
        &x.to_dtype(DType::F16).to_dtype(DType::F32),
        0.0,
    );
    assert_eq!(
        outs[4].1,
        tf(
            vec![
                -2.0,
                2.0,
                0.0,
                0.0,
                0.0,
                i32::MAX as f32,
                i32::MIN as f32,
                5.0
            ],
            &[8]
        )
    );
    // Int64 → Int32 wraps; bool → int gives 0/1.
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Int64, &[2]).unwrap();
    let bi = net.add_input("b", Bool, &[2]).unwrap();
    let y = net.add_cast(xi, Int32).unwrap();
    let z = net.add_cast(bi, Int64).unwrap();
    net.mark_output(y, "y").unwrap();
    net.mark_output(z, "z").unwrap();
    let outs = emulate(
        &net,
        &[
            ("x", ti64(vec![1 << 32 | 5, -1], &[2])),
            ("b", Tensor::from_slice(&[true, false])),
        ],
    )
    .unwrap();
    assert_eq!(outs[0].1, ti32(vec![5, -1], &[2]));
    assert_eq!(outs[1].1, ti64(vec![1, 0], &[2]));
}

#[test]
fn shape_and_identity() {
    let mut rng = Rng::new(18);
    let x = random(&mut rng, &[3, 1, 4]);
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Float, &[-1, 1, 4]).unwrap();
    let mut prof = trtfx_backend_trt::OptimizationProfile::new();
    prof.set_dimensions("x", &[1, 1, 4], &[2, 1, 4], &[8, 1, 4]);
    net.add_optimization_profile(&prof).unwrap();
    let s = net.add_shape(xi).unwrap();
    let i = net.add_identity(xi).unwrap();
    net.mark_output(s, "s").unwrap();
    net.mark_output(i, "i").unwrap();
    let outs = emulate(&net, &[("x", x.clone())]).unwrap();
    assert_eq!(outs[0].1, ti64(vec![3, 1, 4], &[3]));
    assert_eq!(outs[1].1, x);
}

#[test]
fn pooling_matches_exec_kernels() {
    let mut rng = Rng::new(19);
    let shape = [2, 3, 7, 6];
    let x = random(&mut rng, &shape);
    // Max, stride 2, symmetric padding 1.
    let (mut net, xi) = net_with(&shape);
    let mut p = PoolingParams::new(PoolingType::Max, &[3, 3]);
    p.stride = vec![2, 2];
    p.pre_padding = vec![1, 1];
    p.post_padding = vec![1, 1];
    let y = net.add_pooling_nd(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    let want = k::pool::max_pool(&x, 2, &[3, 3], &[2, 2], &[1, 1], &[1, 1], false).unwrap();
    assert_close(&got, &want, 1e-6);
    // Average, counting or excluding padding.
    for exclude in [true, false] {
        let (mut net, xi) = net_with(&shape);
        let mut p = PoolingParams::new(PoolingType::Average, &[2, 3]);
        p.stride = vec![1, 2];
        p.pre_padding = vec![1, 1];
        p.post_padding = vec![1, 1];
        p.average_count_excludes_padding = exclude;
        let y = net.add_pooling_nd(xi, &p).unwrap();
        let got = run(net, y, vec![("x", x.clone())]);
        let want =
            k::pool::avg_pool(&x, 2, &[2, 3], &[1, 2], &[1, 1], false, !exclude, None).unwrap();
        assert_close(&got, &want, 1e-5);
    }
    // Ceil mode (explicit round up) on a 3-D window.
    let shape3 = [1, 2, 5, 5, 4];
    let x3 = random(&mut rng, &shape3);
    let (mut net, xi) = net_with(&shape3);
    let mut p = PoolingParams::new(PoolingType::Max, &[2, 2, 2]);
    p.padding_mode = PaddingMode::ExplicitRoundUp;
    let y = net.add_pooling_nd(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x3.clone())]);
    let want =
        k::pool::max_pool(&x3, 3, &[2, 2, 2], &[2, 2, 2], &[0, 0, 0], &[1, 1, 1], true).unwrap();
    assert_close(&got, &want, 1e-6);
}

#[test]
fn pooling_same_padding_and_blend() {
    // 1x1x1x5 input, window 2, stride 2, SAME_UPPER: out 3, total pad 1 at the end.
    let x = tf(vec![1.0, 5.0, 2.0, 4.0, 3.0], &[1, 1, 1, 5]);
    let mut p = PoolingParams::new(PoolingType::Average, &[1, 2]);
    p.stride = vec![1, 2];
    p.padding_mode = PaddingMode::SameUpper;
    let (mut net, xi) = net_with(&[1, 1, 1, 5]);
    let y = net.add_pooling_nd(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    assert_close_vec(&got, &[3.0, 3.0, 3.0], &[1, 1, 1, 3]);
    // SAME_LOWER pads at the start: windows [pad,1], [5,2], [4,3].
    p.padding_mode = PaddingMode::SameLower;
    p.kind = PoolingType::MaxAverageBlend;
    p.blend_factor = 0.25;
    let (mut net, xi) = net_with(&[1, 1, 1, 5]);
    let y = net.add_pooling_nd(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x)]);
    let blend = |mx: f32, avg: f32| 0.75 * mx + 0.25 * avg;
    assert_close_vec(
        &got,
        &[blend(1.0, 1.0), blend(5.0, 3.5), blend(4.0, 3.5)],
        &[1, 1, 1, 3],
    );
}

#[test]
fn normalization_layer_group_instance() {
    let mut rng = Rng::new(20);
    let shape = [2, 4, 3, 5];
    let x = random(&mut rng, &shape);
    let eps = 1e-5f32;
    // Layer norm over the last two dims, scale/bias [1, 1, 3, 5].
    let (gamma, beta) = (random(&mut rng, &[3, 5]), random(&mut rng, &[3, 5]));
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Float, &dims(&shape)).unwrap();
    let gi = net
        .add_constant(&[1, 1, 3, 5], Weights::from_f32(&gamma.to_vec::<f32>()))
        .unwrap();
    let bi = net
        .add_constant(&[1, 1, 3, 5], Weights::from_f32(&beta.to_vec::<f32>()))
        .unwrap();
    let y = net.add_normalization(xi, gi, bi, 0b1100, eps, 1).unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    let want = k::norm::layer_norm(&x, &[3, 5], Some(&gamma), Some(&beta), eps as f64).unwrap();
    assert_close(&got, &want, 1e-5);
    // Group norm (2 groups) and instance norm (1 group, per-channel stats), scale/bias per
    // channel [1, C, 1, 1].
    let (gamma, beta) = (random(&mut rng, &[4]), random(&mut rng, &[4]));
    for (groups, ref_groups) in [(2i64, 2i64), (1, 4)] {
        let mut net = RecordedNetwork::new();
        let xi = net.add_input("x", Float, &dims(&shape)).unwrap();
        let gi = net
            .add_constant(&[1, 4, 1, 1], Weights::from_f32(&gamma.to_vec::<f32>()))
            .unwrap();
        let bi = net
            .add_constant(&[1, 4, 1, 1], Weights::from_f32(&beta.to_vec::<f32>()))
            .unwrap();
        let y = net
            .add_normalization(xi, gi, bi, 0b1100, eps, groups)
            .unwrap();
        let got = run(net, y, vec![("x", x.clone())]);
        let want =
            k::norm::group_norm(&x, ref_groups, Some(&gamma), Some(&beta), eps as f64).unwrap();
        assert_close(&got, &want, 1e-5);
    }
}

#[test]
fn topk_values_and_indices() {
    let mut rng = Rng::new(21);
    let x = random(&mut rng, &[3, 7, 2]);
    for (op, largest) in [(TopKOp::Max, true), (TopKOp::Min, false)] {
        for idt in [Int32, Int64] {
            let mut net = RecordedNetwork::new();
            let xi = net.add_input("x", Float, &[3, 7, 2]).unwrap();
            let (v, i) = net.add_topk(xi, op, 3, 0b10, idt).unwrap();
            net.mark_output(v, "v").unwrap();
            net.mark_output(i, "i").unwrap();
            let outs = emulate(&net, &[("x", x.clone())]).unwrap();
            let (wv, wi) = k::reduce::topk(&x, 3, 1, largest).unwrap();
            assert_eq!(outs[0].1, wv);
            assert_eq!(outs[1].1.to_i64_vec(), wi.to_i64_vec());
            assert_eq!(
                outs[1].1.dtype(),
                if idt == Int32 { DType::I32 } else { DType::I64 }
            );
        }
    }
    // Ties: lower index first.
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", Int64, &[5]).unwrap();
    let (v, i) = net.add_topk(xi, TopKOp::Max, 3, 1, Int64).unwrap();
    net.mark_output(v, "v").unwrap();
    net.mark_output(i, "i").unwrap();
    let outs = emulate(&net, &[("x", ti64(vec![1, 3, 2, 3, 0], &[5]))]).unwrap();
    assert_eq!(outs[0].1, ti64(vec![3, 3, 2], &[3]));
    assert_eq!(outs[1].1, ti64(vec![1, 3, 2], &[3]));
}

fn resize_params(
    out: ResizeOutput,
    mode: ResizeMode,
    ct: ResizeCoordinateTransformation,
) -> ResizeParams {
    ResizeParams {
        output: out,
        mode,
        coordinate_transformation: ct,
        nearest_rounding: ResizeRoundMode::Floor,
        cubic_coeff: -0.75,
        exclude_outside: false,
    }
}

#[test]
fn resize_nearest_and_linear() {
    use ResizeCoordinateTransformation as C;
    let mut rng = Rng::new(22);
    let x = random(&mut rng, &[1, 2, 3, 4]);
    // Nearest, asymmetric + floor = PyTorch "nearest".
    let (mut net, xi) = net_with(&[1, 2, 3, 4]);
    let p = resize_params(
        ResizeOutput::Dims(vec![1, 2, 7, 6]),
        ResizeMode::Nearest,
        C::Asymmetric,
    );
    let y = net.add_resize(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    let want = k::upsample::upsample_nearest(&x, &[7, 6], None).unwrap();
    assert_close(&got, &want, 1e-6);
    // Linear, half pixel = PyTorch bilinear (align_corners=False); align corners.
    for (ct, align) in [(C::HalfPixel, false), (C::AlignCorners, true)] {
        let (mut net, xi) = net_with(&[1, 2, 3, 4]);
        let p = resize_params(ResizeOutput::Dims(vec![1, 2, 5, 9]), ResizeMode::Linear, ct);
        let y = net.add_resize(xi, &p).unwrap();
        let got = run(net, y, vec![("x", x.clone())]);
        let want = k::upsample::upsample_linear(&x, &[5, 9], align, None).unwrap();
        assert_close(&got, &want, 1e-5);
    }
    // Scales: floor(in * scale) extents and the given scale maps coordinates.
    let (mut net, xi) = net_with(&[1, 2, 3, 4]);
    let p = resize_params(
        ResizeOutput::Scales(vec![1.0, 1.0, 2.0, 2.0]),
        ResizeMode::Linear,
        C::HalfPixel,
    );
    let y = net.add_resize(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    let want = k::upsample::upsample_linear(&x, &[6, 8], false, Some(&[2.0, 2.0])).unwrap();
    assert_close(&got, &want, 1e-5);
}

#[test]
fn resize_nearest_rounding_modes_and_cubic() {
    use ResizeCoordinateTransformation as C;
    // 1-D: in [0, 10, 20, 30] -> 3 outputs with half-pixel; src = (o + 0.5) * 4/3 - 0.5.
    let x = tf(vec![0.0, 10.0, 20.0, 30.0], &[1, 4]);
    for (round, want) in [
        (ResizeRoundMode::Floor, [0.0, 10.0, 20.0]), // 0.167, 1.5, 2.83
        (ResizeRoundMode::Ceil, [10.0, 20.0, 30.0]),
        (ResizeRoundMode::HalfUp, [0.0, 20.0, 30.0]),
        (ResizeRoundMode::HalfDown, [0.0, 10.0, 30.0]),
    ] {
        let (mut net, xi) = net_with(&[1, 4]);
        let mut p = resize_params(
            ResizeOutput::Dims(vec![1, 3]),
            ResizeMode::Nearest,
            C::HalfPixel,
        );
        p.nearest_rounding = round;
        let y = net.add_resize(xi, &p).unwrap();
        let got = run(net, y, vec![("x", x.clone())]);
        assert_close_vec(&got, &want, &[1, 3]);
    }
    // Cubic with A = -0.75, half pixel, edge clamping = PyTorch bicubic (align_corners=False).
    let mut rng = Rng::new(23);
    let x = random(&mut rng, &[1, 1, 4, 5]);
    let (mut net, xi) = net_with(&[1, 1, 4, 5]);
    let p = resize_params(
        ResizeOutput::Dims(vec![1, 1, 7, 8]),
        ResizeMode::Cubic,
        C::HalfPixel,
    );
    let y = net.add_resize(xi, &p).unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    let want = k::upsample::upsample_bicubic2d(&x, &[7, 8], false, None).unwrap();
    assert_close(&got, &want, 1e-5);
}

#[test]
fn fill_linspace() {
    let mut net = RecordedNetwork::new();
    let a = net
        .add_fill(&FillParams {
            dims: ShapeArg::Static(vec![5]),
            op: FillOp::Linspace,
            dtype: Int64,
            alpha: FillArg::Scalar(3.0),
            beta: FillArg::Scalar(-2.0),
        })
        .unwrap();
    let b = net
        .add_fill(&FillParams {
            dims: ShapeArg::Static(vec![2, 3]),
            op: FillOp::Linspace,
            dtype: Float,
            alpha: FillArg::Scalar(1.0),
            beta: FillArg::PerDim(vec![100.0, 0.5]),
        })
        .unwrap();
    let n = net.add_input("n", Int64, &[1]).unwrap();
    let s = net.add_constant(&[], Weights::from_i32(&[10])).unwrap();
    let d = net.add_constant(&[1], Weights::from_i32(&[2])).unwrap();
    let c = net
        .add_fill(&FillParams {
            dims: ShapeArg::Tensor(n),
            op: FillOp::Linspace,
            dtype: Int32,
            alpha: FillArg::Tensor(s),
            beta: FillArg::Tensor(d),
        })
        .unwrap();
    for (t, name) in [(a, "a"), (b, "b"), (c, "c")] {
        net.mark_output(t, name).unwrap();
    }
    let outs = emulate(&net, &[("n", ti64(vec![4], &[1]))]).unwrap();
    assert_eq!(outs[0].1, ti64(vec![3, 1, -1, -3, -5], &[5]));
    assert_close_vec(&outs[1].1, &[1.0, 1.5, 2.0, 101.0, 101.5, 102.0], &[2, 3]);
    assert_eq!(outs[2].1, ti32(vec![10, 12, 14, 16], &[4]));
    // Also matches exec arange for a 1-D int range.
    let want = k::create::arange(Scalar::Int(3), Scalar::Int(-6), Scalar::Int(-2), None).unwrap();
    assert_eq!(outs[0].1, want);
}

#[test]
fn scatter_element_and_nd() {
    let mut rng = Rng::new(24);
    let data = random(&mut rng, &[3, 5]);
    // Distinct indices per row so the result is defined.
    let idx = ti64(vec![4, 0, 1, 3, 2, 0], &[3, 2]);
    let upd = random(&mut rng, &[3, 2]);
    let mut net = RecordedNetwork::new();
    let di = net.add_input("d", Float, &[3, 5]).unwrap();
    let ii = net.add_input("i", Int64, &[3, 2]).unwrap();
    let ui = net.add_input("u", Float, &[3, 2]).unwrap();
    let y = net
        .add_scatter(di, ii, ui, ScatterMode::Element, 1)
        .unwrap();
    let got = run(
        net,
        y,
        vec![("d", data.clone()), ("i", idx.clone()), ("u", upd.clone())],
    );
    assert_eq!(got, k::index::scatter(&data, 1, &idx, &upd).unwrap());
    // ND: replace rows 2 and 0 of a [3, 4] tensor.
    let data = random(&mut rng, &[3, 4]);
    let upd = random(&mut rng, &[2, 4]);
    let mut net = RecordedNetwork::new();
    let di = net.add_input("d", Float, &[3, 4]).unwrap();
    let ii = net
        .add_constant(&[2, 1], Weights::from_i32(&[2, 0]))
        .unwrap();
    let ui = net.add_input("u", Float, &[2, 4]).unwrap();
    let y = net.add_scatter(di, ii, ui, ScatterMode::Nd, 0).unwrap();
    let got = run(net, y, vec![("d", data.clone()), ("u", upd.clone())]);
    let (dv, uv) = (data.to_vec::<f32>(), upd.to_vec::<f32>());
    let mut want = dv.clone();
    want[8..12].copy_from_slice(&uv[0..4]);
    want[0..4].copy_from_slice(&uv[4..8]);
    assert_close_vec(&got, &want, &[3, 4]);
}

#[test]
fn one_hot_matches_exec() {
    let idx = ti64(vec![0, 3, 1, 2, 3, 0], &[2, 3]);
    let mut net = RecordedNetwork::new();
    let ii = net.add_input("i", Int64, &[2, 3]).unwrap();
    let vi = net
        .add_constant(&[2], Weights::from_f32(&[-1.0, 2.0]))
        .unwrap();
    let di = net.add_constant(&[], Weights::from_i32(&[4])).unwrap();
    let y = net.add_one_hot(ii, vi, di, -1).unwrap();
    let z = net.add_one_hot(ii, vi, di, 0).unwrap();
    net.mark_output(y, "y").unwrap();
    net.mark_output(z, "z").unwrap();
    let outs = emulate(&net, &[("i", idx.clone())]).unwrap();
    let oh = k::index::one_hot(&idx, 4).unwrap();
    let want: Vec<f32> = oh
        .to_i64_vec()
        .iter()
        .map(|&v| if v == 1 { 2.0 } else { -1.0 })
        .collect();
    let want = tf(want, &[2, 3, 4]);
    assert_eq!(outs[0].1, want);
    assert_eq!(outs[1].1, k::shape::permute(&want, &[2, 0, 1]).unwrap());
    // Negative indices count from the end; out of range gives all "off".
    let mut net = RecordedNetwork::new();
    let ii = net.add_input("i", Int32, &[2]).unwrap();
    let vi = net.add_constant(&[2], Weights::from_i64(&[0, 1])).unwrap();
    let di = net.add_constant(&[], Weights::from_i32(&[3])).unwrap();
    let y = net.add_one_hot(ii, vi, di, 1).unwrap();
    let got = run(net, y, vec![("i", ti32(vec![-1, 7], &[2]))]);
    assert_eq!(got, ti64(vec![0, 0, 1, 0, 0, 0], &[2, 3]));
}

#[test]
fn cumulative_sum_variants() {
    let mut rng = Rng::new(25);
    let x = random(&mut rng, &[3, 4]);
    let (mut net, xi) = net_with(&[3, 4]);
    let y = net
        .add_cumulative(xi, 1, CumulativeOp::Sum, false, false)
        .unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    assert_close(&got, &k::reduce::cumsum(&x, 1, None).unwrap(), 1e-5);
    // Exclusive and reverse on ints, axis 0.
    let v = vec![1i64, 2, 3, 4, 5, 6];
    for (excl, rev, want) in [
        (true, false, vec![0, 0, 1, 2, 4, 6]),
        (false, true, vec![9, 12, 8, 10, 5, 6]),
        (true, true, vec![8, 10, 5, 6, 0, 0]),
    ] {
        let mut net = RecordedNetwork::new();
        let xi = net.add_input("x", Int64, &[3, 2]).unwrap();
        let y = net
            .add_cumulative(xi, 0, CumulativeOp::Sum, excl, rev)
            .unwrap();
        let got = run(net, y, vec![("x", ti64(v.clone(), &[3, 2]))]);
        assert_eq!(got, ti64(want, &[3, 2]), "exclusive={excl} reverse={rev}");
    }
}

#[test]
fn half_precision_rounds_after_each_layer() {
    let mut rng = Rng::new(26);
    let x = random(&mut rng, &[2, 3]).to_dtype(DType::F16);
    let mut net = RecordedNetwork::new();
    let xi = net.add_input("x", TrtDataType::Half, &[2, 3]).unwrap();
    let y = net.add_elementwise(xi, xi, ElementWiseOp::Prod).unwrap();
    let got = run(net, y, vec![("x", x.clone())]);
    assert_eq!(got.dtype(), DType::F16);
    let want = k::elementwise::mul(&x, &x).unwrap();
    assert_close(&got, &want, 1e-3);
}
