//! Ops with no CPU kernel of their own run through their op-table decomposition. Expected
//! values are PyTorch's, computed by hand (`torch.diff(torch.tensor([1., 4, 9, 16, 25]), n=2,
//! prepend=torch.tensor([0.]))` is `[2, 2, 2, 2]`, and so on).

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::{has_kernel, Tensor};
use trtfx_ir::parse_program;

fn run(src: &str, inputs: Vec<Tensor>) -> Vec<Tensor> {
    let p = parse_program(src).unwrap_or_else(|e| panic!("{e}"));
    let ins: Vec<Value> = inputs.into_iter().map(Value::Tensor).collect();
    Executor::new(&p)
        .run(&ins)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|v| v.as_tensor().expect("tensor output").clone())
        .collect()
}

fn f32s(v: &[f32]) -> Tensor {
    Tensor::from_vec(v.to_vec(), vec![v.len()]).unwrap()
}

fn assert_close(got: &Tensor, want: &[f64]) {
    let g = got.to_f64_vec();
    assert_eq!(g.len(), want.len(), "{g:?} vs {want:?}");
    for (a, b) in g.iter().zip(want) {
        let ok = a == b || (a - b).abs() <= 1e-6 * b.abs().max(1.0);
        assert!(ok, "{g:?} vs {want:?}");
    }
}

#[test]
fn and_tensor_runs_as_bitwise_and() {
    assert!(!has_kernel("aten.__and__.Tensor"));
    let src = r#"input "a": bool[4]
input "b": bool[4]
input "x": i64[2]
input "y": i64[2]
graph @main(%a: bool[4] = user "a", %b: bool[4] = user "b", %x: i64[2] = user "x", %y: i64[2] = user "y") -> (user, user) {
  %m: bool[4] = aten.__and__.Tensor(%a, %b)
  %n: i64[2] = aten.__and__.Tensor(%x, %y)
  output (%m, %n)
}"#;
    let out = run(
        src,
        vec![
            Tensor::from_vec(vec![true, true, false, false], vec![4]).unwrap(),
            Tensor::from_vec(vec![true, false, true, false], vec![4]).unwrap(),
            Tensor::from_vec(vec![12i64, 10], vec![2]).unwrap(),
            Tensor::from_vec(vec![10i64, 6], vec![2]).unwrap(),
        ],
    );
    assert_eq!(out[0].to_vec::<bool>(), [true, false, false, false]);
    // 0b1100 & 0b1010 = 0b1000, 0b1010 & 0b0110 = 0b0010
    assert_eq!(out[1].to_vec::<i64>(), [8, 2]);
}

#[test]
fn diff_second_order_with_prepend() {
    assert!(!has_kernel("aten.diff.default"));
    let src = r#"input "x": f32[5]
input "p": f32[1]
graph @main(%x: f32[5] = user "x", %p: f32[1] = user "p") -> (user) {
  %d: f32[4] = aten.diff.default(%x, 2, -1, %p)
  output (%d)
}"#;
    let out = run(src, vec![f32s(&[1., 4., 9., 16., 25.]), f32s(&[0.])]);
    // [0, 1, 4, 9, 16, 25] -> [1, 3, 5, 7, 9] -> [2, 2, 2, 2]
    assert_eq!(out[0].shape(), [4]);
    assert_close(&out[0], &[2., 2., 2., 2.]);
}

#[test]
fn diff_default_along_the_last_dim_of_a_matrix() {
    let src = r#"input "x": f32[2, 3]
graph @main(%x: f32[2, 3] = user "x") -> (user) {
  %d: f32[2, 2] = aten.diff.default(%x)
  output (%d)
}"#;
    let x = Tensor::from_vec(vec![1f32, 3., 6., 2., 2., 5.], vec![2, 3]).unwrap();
    let out = run(src, vec![x]);
    assert_eq!(out[0].shape(), [2, 2]);
    assert_close(&out[0], &[2., 3., 0., 3.]);
}

#[test]
fn addcmul_scales_the_product() {
    assert!(!has_kernel("aten.addcmul.default"));
    let src = r#"input "s": f32[3]
input "a": f32[3]
input "b": f32[3]
graph @main(%s: f32[3] = user "s", %a: f32[3] = user "a", %b: f32[3] = user "b") -> (user, user) {
  %r: f32[3] = aten.addcmul.default(%s, %a, %b, value=2)
  %u: f32[3] = aten.addcmul.default(%s, %a, %b)
  output (%r, %u)
}"#;
    let out = run(
        src,
        vec![
            f32s(&[1., 2., 3.]),
            f32s(&[2., 3., 4.]),
            f32s(&[0.5, 2., -1.]),
        ],
    );
    // self + 2 * a * b = [1 + 2, 2 + 12, 3 - 8]; value defaults to 1: [2, 8, -1]
    assert_close(&out[0], &[3., 14., -5.]);
    assert_close(&out[1], &[2., 8., -1.]);
}

#[test]
fn logaddexp_including_infinities() {
    assert!(!has_kernel("aten.logaddexp.default"));
    let src = r#"input "a": f32[5]
input "b": f32[5]
graph @main(%a: f32[5] = user "a", %b: f32[5] = user "b") -> (user) {
  %r: f32[5] = aten.logaddexp.default(%a, %b)
  output (%r)
}"#;
    let inf = f32::INFINITY;
    let out = run(
        src,
        vec![
            f32s(&[0., 1., -inf, inf, -inf]),
            f32s(&[0., 2., -inf, inf, 1.]),
        ],
    );
    // log(e^0 + e^0) = ln 2; log(e + e^2) = 2 + ln(1 + e^-1); both -inf stays -inf (not
    // NaN); both +inf is +inf; log(0 + e^1) = 1.
    assert_close(
        &out[0],
        &[
            std::f64::consts::LN_2,
            2.0 + (1.0 + (-1f64).exp()).ln(),
            f64::NEG_INFINITY,
            f64::INFINITY,
            1.0,
        ],
    );
}

/// A random op has no kernel on purpose, and the error says why.
#[test]
fn random_ops_are_refused_with_the_reason() {
    let src = r#"input "a": f32[2]
graph @main(%a: f32[2] = user "a") -> (user) {
  %r: f32[2] = aten.rand_like.default(%a)
  output (%r)
}"#;
    let p = parse_program(src).unwrap();
    let err = Executor::new(&p)
        .run(&[Value::Tensor(f32s(&[1., 2.]))])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("aten.rand_like.default") && err.contains("cannot match PyTorch's generator"),
        "{err}"
    );
}

#[test]
fn a_kernel_error_inside_a_decomposition_names_the_node() {
    // __and__ on floats decomposes to bitwise_and, which rejects floats (as PyTorch does).
    let src = r#"input "a": f32[2]
graph @main(%a: f32[2] = user "a") -> (user) {
  %m: f32[2] = aten.__and__.Tensor(%a, %a)
  output (%m)
}"#;
    let p = parse_program(src).unwrap();
    let err = Executor::new(&p)
        .run(&[Value::Tensor(f32s(&[1., 2.]))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("bitwise_and"), "{err}");
}

#[test]
fn log_sigmoid_is_stable_at_both_ends() {
    assert!(!has_kernel("aten.log_sigmoid.default"));
    let out = run(
        r#"input "x": f32[5]
graph @main(%x: f32[5] = user "x") -> (user) {
  %r: f32[5] = aten.log_sigmoid.default(%x)
  output (%r)
}"#,
        vec![f32s(&[-100.0, -1.0, 0.0, 1.0, 100.0])],
    );
    // torch.nn.functional.logsigmoid(torch.tensor([-100., -1., 0., 1., 100.]))
    assert_close(
        &out[0],
        &[
            -100.0,
            -1.313_261_687_5,
            -std::f64::consts::LN_2,
            -0.313_261_687_5,
            -0.0,
        ],
    );
}

#[test]
fn conv_padding_same_and_valid_run_as_convolution() {
    // x = arange(5.).reshape(1,1,5); w = ones(1,1,2)
    // F.conv1d(x, w, padding="same") -> [[[1, 3, 5, 7, 4]]] (the odd pad element is at the end)
    // F.conv1d(x, w, padding="valid") -> [[[1, 3, 5, 7]]]
    let src = r#"input "x": f32[1,1,5]
input "w": f32[1,1,2]
graph @main(%x: f32[1,1,5] = user "x", %w: f32[1,1,2] = user "w") -> (user, user) {
  %s: f32[1,1,5] = aten.conv1d.padding(%x, %w, None, [1], "same")
  %v: f32[1,1,4] = aten.conv1d.padding(%x, %w, None, [1], "valid")
  output (%s, %v)
}"#;
    let x = Tensor::from_vec(vec![0.0f32, 1.0, 2.0, 3.0, 4.0], vec![1, 1, 5]).unwrap();
    let w = Tensor::from_vec(vec![1.0f32, 1.0], vec![1, 1, 2]).unwrap();
    let out = run(src, vec![x, w]);
    assert_close(&out[0], &[1.0, 3.0, 5.0, 7.0, 4.0]);
    assert_close(&out[1], &[1.0, 3.0, 5.0, 7.0]);
}

#[test]
fn conv_padding_same_with_stride_is_an_error() {
    let src = r#"input "x": f32[1,1,6]
input "w": f32[1,1,3]
graph @main(%x: f32[1,1,6] = user "x", %w: f32[1,1,3] = user "w") -> (user) {
  %s: f32[1,1,3] = aten.conv1d.padding(%x, %w, None, [2], "same")
  output (%s)
}"#;
    let p = parse_program(src).unwrap();
    let x = Tensor::from_vec(vec![0.0f32; 6], vec![1, 1, 6]).unwrap();
    let w = Tensor::from_vec(vec![0.0f32; 3], vec![1, 1, 3]).unwrap();
    let e = Executor::new(&p)
        .run(&[Value::Tensor(x), Value::Tensor(w)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("padding='same' needs stride 1"), "{e}");
}

#[test]
fn numpy_style_aliases_run_as_their_targets() {
    // torch.divide(a, b, rounding_mode="floor") -> [-4., 2.]; torch.subtract(a, b, alpha=2)
    // -> [-11., 1.]; torch.true_divide(a, b) -> [-3.5, 2.5]
    let src = r#"input "a": f32[2]
input "b": f32[2]
graph @main(%a: f32[2] = user "a", %b: f32[2] = user "b") -> (user, user, user) {
  %d: f32[2] = aten.divide.Tensor_mode(%a, %b, rounding_mode="floor")
  %s: f32[2] = aten.subtract.Tensor(%a, %b, alpha=2)
  %t: f32[2] = aten.true_divide.Tensor(%a, %b)
  output (%d, %s, %t)
}"#;
    let out = run(src, vec![f32s(&[-7.0, 5.0]), f32s(&[2.0, 2.0])]);
    assert_close(&out[0], &[-4.0, 2.0]);
    assert_close(&out[1], &[-11.0, 1.0]);
    assert_close(&out[2], &[-3.5, 2.5]);
}

#[test]
fn special_unary_kernels() {
    // torch.lgamma(torch.tensor([0.5, 3., -0.5])) -> [0.5723649, 0.6931472, 1.2655121]
    // torch.erfc(torch.tensor([0., 1., 3.])) -> [1., 0.1572992, 2.2090497e-05]
    // torch.acosh(torch.tensor([1., 2.])) -> [0., 1.3169579]
    let src = r#"input "x": f32[3]
input "y": f32[3]
input "z": f32[2]
graph @main(%x: f32[3] = user "x", %y: f32[3] = user "y", %z: f32[2] = user "z") -> (user, user, user) {
  %l: f32[3] = aten.lgamma.default(%x)
  %e: f32[3] = aten.erfc.default(%y)
  %a: f32[2] = aten.acosh.default(%z)
  output (%l, %e, %a)
}"#;
    let out = run(
        src,
        vec![
            f32s(&[0.5, 3.0, -0.5]),
            f32s(&[0.0, 1.0, 3.0]),
            f32s(&[1.0, 2.0]),
        ],
    );
    // lgamma(3) = ln 2.
    assert_close(&out[0], &[0.572_364_9, std::f64::consts::LN_2, 1.265_512_1]);
    assert_close(&out[1], &[1.0, 0.157_299_2, 2.209_049_7e-5]);
    assert_close(&out[2], &[0.0, 1.316_957_9]);
}

#[test]
fn layout_composites_by_hand() {
    let src = r#"input "a": f32[3]
input "b": i64[2]
input "m": i64[2,2]
graph @main(%a: f32[3] = user "a", %b: i64[2] = user "b", %m: i64[2,2] = user "m") -> (user, user, user, user, user) {
  %gx: f32[2,3], %gy: i64[2,3] = aten.meshgrid.indexing([%a, %b], indexing="xy")
  %bd: f32[3,5] = aten.block_diag.default([%m, %a])
  %de: i64[2,2,2] = aten.diag_embed.default(%m)
  %hs0: i64[2,1], %hs1: i64[2,1] = aten.hsplit.int(%m, 2)
  output (%gx, %gy, %bd, %de, %hs1)
}"#;
    let out = run(
        src,
        vec![
            f32s(&[1., 2., 3.]),
            Tensor::from_vec(vec![7i64, 8], vec![2]).unwrap(),
            Tensor::from_vec(vec![1i64, 2, 3, 4], vec![2, 2]).unwrap(),
        ],
    );
    // torch.meshgrid(a, b, indexing="xy"): a varies along columns, b along rows.
    assert_close(&out[0], &[1., 2., 3., 1., 2., 3.]);
    assert_eq!(out[1].to_vec::<i64>(), [7, 7, 7, 8, 8, 8]);
    // torch.block_diag(m, a) = [[1,2,0,0,0],[3,4,0,0,0],[0,0,1,2,3]] in float.
    assert_close(
        &out[2],
        &[1., 2., 0., 0., 0., 3., 4., 0., 0., 0., 0., 0., 1., 2., 3.],
    );
    // torch.diag_embed(m): each row of m on the diagonal of a 2x2 matrix.
    assert_eq!(out[3].to_vec::<i64>(), [1, 0, 0, 2, 3, 0, 0, 4]);
    assert_eq!(out[4].to_vec::<i64>(), [2, 4]);
}

#[test]
fn math_composites_by_hand() {
    let src = r#"input "x": f32[3]
input "y": f32[3]
graph @main(%x: f32[3] = user "x", %y: f32[3] = user "y") -> (user, user, user, user, user, user) {
  %h: f32[3] = aten.heaviside.default(%x, %y)
  %l: f32[3] = aten.lerp.Scalar(%x, %y, 0.75)
  %c: bool[3] = aten.isclose.default(%x, %y, 0.0, 0.5)
  %r: f32[3,3] = aten.addr.default(%x, %x, %y, beta=0, alpha=2)
  %k: f32[3] = aten.linalg_cross.default(%x, %y)
  %t: f32[] = aten.trapezoid.dx(%y, dx=2)
  output (%h, %l, %c, %r, %k, %t)
}"#;
    let out = run(src, vec![f32s(&[-1., 0., 2.]), f32s(&[4., 5., 6.])]);
    // heaviside: x < 0 -> 0, x == 0 -> values, x > 0 -> 1.
    assert_close(&out[0], &[0., 5., 1.]);
    // lerp(x, y, 0.75) = x + 0.75 (y - x).
    assert_close(&out[1], &[2.75, 3.75, 5.]);
    // |x - y| <= 0.5 nowhere.
    assert_eq!(out[2].to_vec::<bool>(), [false, false, false]);
    // beta = 0 ignores self: 2 * outer(x, y).
    assert_close(&out[3], &[-8., -10., -12., 0., 0., 0., 16., 20., 24.]);
    // (-1, 0, 2) x (4, 5, 6) = (0*6 - 2*5, 2*4 - (-1)*6, -1*5 - 0*4) = (-10, 14, -5).
    assert_close(&out[4], &[-10., 14., -5.]);
    // trapezoid([4, 5, 6], dx=2) = 2 * (4.5 + 5.5) = 20.
    assert_close(&out[5], &[20.]);
}

#[test]
fn mvlgamma_sums_lgammas() {
    let src = r#"input "x": f32[2]
graph @main(%x: f32[2] = user "x") -> (user) {
  %m: f32[2] = aten.mvlgamma.default(%x, 2)
  output (%m)
}"#;
    let out = run(src, vec![f32s(&[1.5, 3.0])]);
    // mvlgamma(x, 2) = lgamma(x) + lgamma(x - 1/2) + ln(pi)/2.
    // x = 1.5: ln Γ(1.5) + ln Γ(1) = ln(√π / 2); plus ln π / 2 gives ln(π / 2).
    // x = 3: ln 2 + ln Γ(2.5) + ln π / 2 = ln 2 + ln(3√π/4) + ln √π = ln(3π / 2).
    let pi = std::f64::consts::PI;
    assert_close(&out[0], &[(pi / 2.0).ln(), (1.5 * pi).ln()]);
}

/// `einsum` runs through its decomposition (permutes, sums, one matmul per operand pair).
/// Expected values from PyTorch 2.11: `torch.einsum(eq, ...)` on the same inputs.
#[test]
fn einsum_matches_torch() {
    assert!(!has_kernel("aten.einsum.default"));
    let src = r#"input "a": f32[2,3]
input "b": f32[3,4]
input "x": f32[2,3,4]
input "y": f32[4,2]
input "w": f32[2,3,4]
input "c": f32[2,4]
graph @main(%a: f32[2,3] = user "a", %b: f32[3,4] = user "b", %x: f32[2,3,4] = user "x", %y: f32[4,2] = user "y", %w: f32[2,3,4] = user "w", %c: f32[2,4] = user "c") -> (user, user, user, user, user) {
  %mm: f32[2,4] = aten.einsum.default("ij,jk->ik", [%a, %b])
  %st: f32[4,2] = aten.einsum.default("ijk->ki", [%x])
  %el: f32[2,3,2] = aten.einsum.default("...ij,jk->...ik", [%x, %y])
  %bl: f32[2,2] = aten.einsum.default("bn,anm,bm->ba", [%a, %w, %c])
  %im: f32[2,4] = aten.einsum.default("i j , j k", [%a, %b])
  output (%mm, %st, %el, %bl, %im)
}"#;
    let t = |v: Vec<f32>, s: Vec<usize>| Tensor::from_vec(v, s).unwrap();
    let ar = |n: usize, scale: f32, shift: f32| -> Vec<f32> {
        (0..n).map(|i| i as f32 * scale + shift).collect()
    };
    let out = run(
        src,
        vec![
            t(vec![1., 2., 3., 4., 5., 6.], vec![2, 3]),
            t(
                vec![1., 0., 2., 1., 0., 1., 1., 2., 3., 1., 0., 1.],
                vec![3, 4],
            ),
            t(ar(24, 1.0, 0.0), vec![2, 3, 4]),
            t(ar(8, 1.0, -3.0), vec![4, 2]),
            t(ar(24, 0.25, 0.0), vec![2, 3, 4]),
            t(vec![1., 1., 2., 0., 0., 1., 2., 1.], vec![2, 4]),
        ],
    );
    assert_close(&out[0], &[10., 5., 4., 8., 22., 11., 13., 20.]);
    assert_close(&out[1], &[12., 48., 15., 51., 18., 54., 21., 57.]);
    assert_eq!(out[2].shape(), [2, 3, 2]);
    assert_close(
        &out[2],
        &[10., 16., 10., 32., 10., 48., 10., 64., 10., 80., 10., 96.],
    );
    assert_close(&out[3], &[39.5, 111.5, 98.0, 278.0]);
    assert_close(&out[4], &[10., 5., 4., 8., 22., 11., 13., 20.]);
}
