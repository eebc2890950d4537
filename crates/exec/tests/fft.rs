//! Complex tensors and the FFT family on the executor. `torch.fft.*` (the export dialect) runs
//! through its decomposition into `_fft_c2c` / `_fft_r2c` / `_fft_c2r`, which have kernels.
//! Every expected value is PyTorch 2.11's (CPU), printed to 6 decimals by a short script:
//! `torch.fft.irfft(torch.tensor([1., 2., -1., 0.5, 3.]))` and so on, one per test below.

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::kernels::fft::{complex_from_pairs, complex_values};
use trtfx_exec::{has_kernel, DType, Tensor};
use trtfx_ir::parse_program;

fn try_run(src: &str, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, String> {
    let p = parse_program(src).unwrap_or_else(|e| panic!("{e}"));
    let ins: Vec<Value> = inputs.into_iter().map(Value::Tensor).collect();
    Ok(Executor::new(&p)
        .run(&ins)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|v| v.as_tensor().expect("tensor output").clone())
        .collect())
}

fn run(src: &str, inputs: Vec<Tensor>) -> Vec<Tensor> {
    try_run(src, inputs).unwrap_or_else(|e| panic!("{e}"))
}

/// `torch.tensor([1., 2., -1., 0.5, 3.])`
fn x5() -> Tensor {
    Tensor::from_vec(vec![1f32, 2., -1., 0.5, 3.], vec![5]).unwrap()
}

/// `torch.tensor([[1., 2., 3.], [4., -5., 6.]])`
fn m23() -> Tensor {
    Tensor::from_vec(vec![1f32, 2., 3., 4., -5., 6.], vec![2, 3]).unwrap()
}

/// The 2x3 complex64 tensor `view_as_complex([[[1, .5], [2, -1], [0, 3]], [[-1, 1], [.5, 0], [2, 2]]])`.
fn c23() -> Tensor {
    complex_from_pairs(
        &[
            (1., 0.5),
            (2., -1.),
            (0., 3.),
            (-1., 1.),
            (0.5, 0.),
            (2., 2.),
        ],
        vec![2, 3],
        DType::C64,
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 2e-6 * b.abs().max(1.0)
}

fn assert_real(got: &Tensor, dtype: DType, shape: &[usize], want: &[f64]) {
    assert_eq!(got.dtype(), dtype);
    assert_eq!(got.shape(), shape);
    let g = got.to_f64_vec();
    assert!(
        g.len() == want.len() && g.iter().zip(want).all(|(&a, &b)| close(a, b)),
        "{g:?} vs {want:?}"
    );
}

fn assert_complex(got: &Tensor, dtype: DType, shape: &[usize], want: &[(f64, f64)]) {
    assert_eq!(got.dtype(), dtype);
    assert_eq!(got.shape(), shape);
    let g = complex_values(got).unwrap();
    assert!(
        g.len() == want.len()
            && g.iter()
                .zip(want)
                .all(|(a, b)| close(a.0, b.0) && close(a.1, b.1)),
        "{g:?} vs {want:?}"
    );
}

/// One op on one input: `%y: OUT = OP(%x, ARGS)`.
fn one_op(input_ty: &str, out_ty: &str, call: &str) -> String {
    format!(
        r#"input "x": {input_ty}
graph @main(%x: {input_ty} = user "x") -> (user) {{
  %y: {out_ty} = {call}
  output (%y)
}}"#
    )
}

#[test]
fn the_transforms_of_the_export_dialect_run_through_their_decompositions() {
    for op in ["fft_irfft", "fft_hfft2", "fft_fftn", "fft_ihfft2"] {
        assert!(!has_kernel(&format!("aten.{op}.default")), "{op}");
    }
    for op in ["_fft_c2c", "_fft_r2c", "_fft_c2r"] {
        assert!(has_kernel(&format!("aten.{op}.default")), "{op}");
    }
}

#[test]
fn irfft_default_size_and_norm_modes() {
    // n = 2 * (5 - 1) = 8, norm "backward" (1/n on the inverse).
    let y = run(
        &one_op("f32[5]", "f32[8]", "aten.fft_irfft.default(%x)"),
        vec![x5()],
    );
    let want = [
        0.875, 0.015165, 0.75, -0.515165, -0.375, -0.515165, 0.75, 0.015165,
    ];
    assert_real(&y[0], DType::F32, &[8], &want);
    // Odd n = 7 slices the input to n/2 + 1 = 4 entries; "ortho" scales by 1/sqrt(7).
    let y = run(
        &one_op(
            "f32[5]",
            "f32[7]",
            r#"aten.fft_irfft.default(%x, 7, -1, "ortho")"#,
        ),
        vec![x5()],
    );
    let want = [
        1.511858, 1.148268, 0.95827, -1.539591, -1.539591, 0.95827, 1.148268,
    ];
    assert_real(&y[0], DType::F32, &[7], &want);
    // n = 12 pads the input with zeros to 7 entries; "forward" leaves the inverse unscaled.
    let y = run(
        &one_op(
            "f32[5]",
            "f32[12]",
            r#"aten.fft_irfft.default(%x, 12, 0, "forward")"#,
        ),
        vec![x5()],
    );
    let want = [
        10.0, 0.464102, 0.0, 9.0, -2.0, -6.464102, 0.0, -6.464102, -2.0, 9.0, 0.0, 0.464102,
    ];
    assert_real(&y[0], DType::F32, &[12], &want);
}

#[test]
fn irfft_of_integers_computes_in_the_default_float() {
    let x = Tensor::from_vec(vec![3i64, -1, 2, 0], vec![4]).unwrap();
    let y = run(
        &one_op("i64[4]", "f32[6]", "aten.fft_irfft.default(%x)"),
        vec![x],
    );
    let want = [0.833333, 0.0, 0.333333, 1.5, 0.333333, 0.0];
    assert_real(&y[0], DType::F32, &[6], &want);
}

#[test]
fn hfft_conjugates_and_normalizes_forward() {
    let y = run(
        &one_op("f32[5]", "f32[8]", "aten.fft_hfft.default(%x)"),
        vec![x5()],
    );
    let want = [7.0, 0.12132, 6.0, -4.12132, -3.0, -4.12132, 6.0, 0.12132];
    assert_real(&y[0], DType::F32, &[8], &want);
    let y = run(
        &one_op(
            "f32[5]",
            "f32[6]",
            r#"aten.fft_hfft.default(%x, 6, -1, "ortho")"#,
        ),
        vec![x5()],
    );
    let want = [1.428869, 1.428869, 0.204124, -2.245366, 0.204124, 1.428869];
    assert_real(&y[0], DType::F32, &[6], &want);
}

#[test]
fn multi_dim_hermitian_transforms() {
    let hfft = [8.0, -4.0, 20.0, -4.0, 8.0, 0.0, -20.0, 0.0];
    let y = run(
        &one_op("f32[2,3]", "f32[2,4]", "aten.fft_hfft2.default(%x, [2, 4])"),
        vec![m23()],
    );
    assert_real(&y[0], DType::F32, &[2, 4], &hfft);
    let y = run(
        &one_op("f32[2,3]", "f32[2,4]", "aten.fft_hfftn.default(%x)"),
        vec![m23()],
    );
    assert_real(&y[0], DType::F32, &[2, 4], &hfft);
    let y = run(
        &one_op("f32[2,3]", "f32[2,4]", "aten.fft_irfft2.default(%x)"),
        vec![m23()],
    );
    let want = [1.0, -0.5, 2.5, -0.5, 1.0, 0.0, -2.5, 0.0];
    assert_real(&y[0], DType::F32, &[2, 4], &want);
    // s = [3, 5]: dim 0 padded from 2 to 3, the last dim kept at 5/2 + 1 = 3 entries.
    let y = run(
        &one_op(
            "f32[2,3]",
            "f32[3,5]",
            "aten.fft_irfftn.default(%x, [3, 5], [0, 1])",
        ),
        vec![m23()],
    );
    let want = [
        1.133333, -0.761094, 1.027761, 1.027761, -0.761094, 0.533333, 0.260607, 0.446192,
        -1.550346, -0.02312, 0.533333, -0.02312, -1.550346, 0.446192, 0.260607,
    ];
    assert_real(&y[0], DType::F32, &[3, 5], &want);
}

#[test]
fn forward_transforms_with_complex_results() {
    let y = run(
        &one_op("f32[5]", "c64[5]", "aten.fft_fft.default(%x)"),
        vec![x5()],
    );
    let want = [
        (5.5, 0.0),
        (2.949594, 1.832734),
        (-3.199594, -0.8388),
        (-3.199594, 0.8388),
        (2.949594, -1.832734),
    ];
    assert_complex(&y[0], DType::C64, &[5], &want);
    let y = run(
        &one_op(
            "f32[5]",
            "c64[3]",
            r#"aten.fft_rfft.default(%x, None, -1, "ortho")"#,
        ),
        vec![x5()],
    );
    let want = [
        (2.459675, 0.0),
        (1.319098, 0.819624),
        (-1.430902, -0.375123),
    ];
    assert_complex(&y[0], DType::C64, &[3], &want);
    let y = run(
        &one_op("f32[5]", "c64[5]", "aten.fft_ifft.default(%x)"),
        vec![x5()],
    );
    let want = [
        (1.1, 0.0),
        (0.589919, -0.366547),
        (-0.639919, 0.16776),
        (-0.639919, -0.16776),
        (0.589919, 0.366547),
    ];
    assert_complex(&y[0], DType::C64, &[5], &want);
    let y = run(
        &one_op("f32[5]", "c64[3]", "aten.fft_ihfft.default(%x)"),
        vec![x5()],
    );
    assert_complex(&y[0], DType::C64, &[3], &want[..3]);
}

#[test]
fn multi_dim_transforms_with_complex_results() {
    let y = run(
        &one_op("f32[2,3]", "c64[2,3]", "aten.fft_fftn.default(%x)"),
        vec![m23()],
    );
    let fftn = [
        (11.0, 0.0),
        (2.0, 10.392304),
        (2.0, -10.392304),
        (1.0, 0.0),
        (-5.0, -8.660254),
        (-5.0, 8.660254),
    ];
    assert_complex(&y[0], DType::C64, &[2, 3], &fftn);
    let y = run(
        &one_op("f32[2,3]", "c64[2,2]", "aten.fft_rfft2.default(%x)"),
        vec![m23()],
    );
    let want = [fftn[0], fftn[1], fftn[3], fftn[4]];
    assert_complex(&y[0], DType::C64, &[2, 2], &want);
    let y = run(
        &one_op("f32[2,3]", "c64[2,2]", "aten.fft_ihfft2.default(%x)"),
        vec![m23()],
    );
    let want = [
        (1.833333, 0.0),
        (0.333333, -1.732051),
        (0.166667, 0.0),
        (-0.833333, 1.443376),
    ];
    assert_complex(&y[0], DType::C64, &[2, 2], &want);
}

#[test]
fn complex_inputs_and_double_precision() {
    let c = complex_from_pairs(&[(1., 2.), (0., -1.), (3., 0.5)], vec![3], DType::C64).unwrap();
    // n = 4 pads the complex input with a zero.
    let y = run(
        &one_op("c64[3]", "c64[4]", "aten.fft_ifft.default(%x, 4)"),
        vec![c.clone()],
    );
    let want = [(1.0, 0.375), (-0.25, 0.375), (1.0, 0.875), (-0.75, 0.375)];
    assert_complex(&y[0], DType::C64, &[4], &want);
    let y = run(
        &one_op("c64[1,3]", "c64[1,3]", "aten.fft_fft2.default(%x)"),
        vec![c.with_shape(vec![1, 3]).unwrap()],
    );
    let want = [(4.0, 1.5), (-1.799038, 4.848076), (0.799038, -0.348076)];
    assert_complex(&y[0], DType::C64, &[1, 3], &want);
    // float64 input gives complex128, computed in double precision.
    let y = run(
        &one_op("f64[5]", "c128[3]", "aten.fft_rfft.default(%x)"),
        vec![x5().to_dtype(DType::F64)],
    );
    let g = complex_values(&y[0]).unwrap();
    assert_eq!(y[0].dtype(), DType::C128);
    let want = [
        (5.5, 0.0),
        (2.949593469062211, 1.8327343947338632),
        (-3.19959346906221, -0.838799522150257),
    ];
    for (a, b) in g.iter().zip(&want) {
        assert!(
            (a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12,
            "{g:?}"
        );
    }
}

#[test]
fn the_primitives_follow_aten() {
    // _fft_c2c(c, [0], normalization=2 (1/n), forward=True)
    let c = complex_from_pairs(&[(1., 2.), (0., -1.), (3., 0.5)], vec![3], DType::C64).unwrap();
    let y = run(
        &one_op(
            "c64[3]",
            "c64[3]",
            "aten._fft_c2c.default(%x, [0], 2, true)",
        ),
        vec![c],
    );
    let want = [
        (1.333333, 0.5),
        (-0.599679, 1.616025),
        (0.266346, -0.116025),
    ];
    assert_complex(&y[0], DType::C64, &[3], &want);
    // _fft_r2c over both dims, one-sided, normalization 1 (1/sqrt(6)).
    let y = run(
        &one_op(
            "f32[2,3]",
            "c64[2,2]",
            "aten._fft_r2c.default(%x, [0, 1], 1, true)",
        ),
        vec![m23()],
    );
    let want = [
        (4.490731, 0.0),
        (0.816497, 4.24264),
        (0.408248, 0.0),
        (-2.041242, -3.535534),
    ];
    assert_complex(&y[0], DType::C64, &[2, 2], &want);
    // Two-sided r2c is the full transform.
    let y = run(
        &one_op(
            "f32[2,3]",
            "c64[2,3]",
            "aten._fft_r2c.default(%x, [0, 1], 0, false)",
        ),
        vec![m23()],
    );
    let want = [
        (11.0, 0.0),
        (2.0, 10.392304),
        (2.0, -10.392304),
        (1.0, 0.0),
        (-5.0, -8.660254),
        (-5.0, 8.660254),
    ];
    assert_complex(&y[0], DType::C64, &[2, 3], &want);
    // _fft_c2r over [0, 1], n = 4: the Nyquist entry's imaginary part (3 at [0, 2]) and the
    // zero-frequency one (0.5) are ignored, as in PyTorch.
    let y = run(
        &one_op(
            "c64[2,3]",
            "f32[2,4]",
            "aten._fft_c2r.default(%x, [0, 1], 1, 4)",
        ),
        vec![c23()],
    );
    // PyTorch prints -1.414214 and 0.707107 for entries 3 and 7: -sqrt(2) and 1/sqrt(2).
    use std::f64::consts::{FRAC_1_SQRT_2, SQRT_2};
    let want = [
        2.474874,
        0.0,
        -1.06066,
        -SQRT_2,
        1.06066,
        2.12132,
        -1.06066,
        FRAC_1_SQRT_2,
    ];
    assert_real(&y[0], DType::F32, &[2, 4], &want);
    // Along a dim that is not the innermost, odd n = 3.
    let y = run(
        &one_op(
            "c64[2,3]",
            "f32[3,3]",
            "aten._fft_c2r.default(%x, [0], 0, 3)",
        ),
        vec![c23()],
    );
    let want = [
        -1.0, 3.0, 4.0, 0.267949, 1.5, -5.464102, 3.732051, 1.5, 1.464102,
    ];
    assert_real(&y[0], DType::F32, &[3, 3], &want);
    // n = 5 reads 3 entries of the last dim: all of them.
    let y = run(
        &one_op(
            "c64[2,3]",
            "f32[2,5]",
            "aten._fft_c2r.default(%x, [1], 2, 5)",
        ),
        vec![c23()],
    );
    let want = [
        1.0, 0.122294, 0.929168, -1.823596, 0.772133, 0.8, -1.255638, 0.646255, -0.875435,
        -0.315182,
    ];
    assert_real(&y[0], DType::F32, &[2, 5], &want);
}

#[test]
fn complex_layout_ops_and_views() {
    // view_as_real of a sliced, conjugated complex tensor: [re, im] pairs.
    let src = r#"input "x": c64[2,3]
graph @main(%x: c64[2,3] = user "x") -> (user, user, user) {
  %s: c64[2,2] = aten.slice.Tensor(%x, 1, 1, 3)
  %c: c64[2,2] = aten._conj.default(%s)
  %r: f32[2,2,2] = aten.view_as_real.default(%c)
  %re: f32[2,3] = aten.real.default(%x)
  %im: f32[2,3] = aten.imag.default(%x)
  output (%r, %re, %im)
}"#;
    let y = run(src, vec![c23()]);
    let want = [2., 1., 0., -3., 0.5, 0., 2., -2.];
    assert_real(&y[0], DType::F32, &[2, 2, 2], &want);
    assert_real(&y[1], DType::F32, &[2, 3], &[1., 2., 0., -1., 0.5, 2.]);
    assert_real(&y[2], DType::F32, &[2, 3], &[0.5, -1., 3., 1., 0., 2.]);
    let src = r#"input "x": f32[3,2]
graph @main(%x: f32[3,2] = user "x") -> (user) {
  %c: c64[3] = aten.view_as_complex.default(%x)
  output (%c)
}"#;
    let x = Tensor::from_vec(vec![1f32, 2., 0., -1., 3., 0.5], vec![3, 2]).unwrap();
    let y = run(src, vec![x]);
    assert_complex(&y[0], DType::C64, &[3], &[(1., 2.), (0., -1.), (3., 0.5)]);
}

#[test]
fn kernels_without_complex_support_refuse_complex_tensors() {
    // `add` is generic over the element type; on complex values it would add the real parts
    // alone, so the interpreter refuses the call and names the op.
    let src = r#"input "x": c64[2,3]
graph @main(%x: c64[2,3] = user "x") -> (user) {
  %y: c64[2,3] = aten.add.Tensor(%x, %x)
  output (%y)
}"#;
    let e = try_run(src, vec![c23()]).unwrap_err();
    assert!(
        e.contains("aten.add.Tensor") && e.contains("complex tensors are not supported"),
        "{e}"
    );
    // So does a kernel asked to make a complex tensor.
    let src = r#"input "x": f32[2]
graph @main(%x: f32[2] = user "x") -> (user) {
  %y: c64[2] = aten.zeros_like.default(%x, dtype=c64)
  output (%y)
}"#;
    let x = Tensor::from_vec(vec![1f32, 2.], vec![2]).unwrap();
    let e = try_run(src, vec![x]).unwrap_err();
    assert!(e.contains("complex tensors are not supported"), "{e}");
}

#[test]
fn malformed_fft_calls_are_errors() {
    // c2r needs a complex input, and at least one output point.
    let e = try_run(
        &one_op("f32[5]", "f32[8]", "aten._fft_c2r.default(%x, [0], 0, 8)"),
        vec![x5()],
    )
    .unwrap_err();
    assert!(e.contains("expected a complex tensor"), "{e}");
    let c = complex_from_pairs(&[(1., 0.)], vec![1], DType::C64).unwrap();
    let e = try_run(
        &one_op("c64[1]", "f32[1]", "aten._fft_c2r.default(%x, [0], 0, 0)"),
        vec![c.clone()],
    )
    .unwrap_err();
    assert!(e.contains("Invalid number of data points (0)"), "{e}");
    let e = try_run(
        &one_op(
            "c64[1]",
            "c64[1]",
            "aten._fft_c2c.default(%x, [0], 3, true)",
        ),
        vec![c],
    )
    .unwrap_err();
    assert!(e.contains("normalization must be 0, 1 or 2"), "{e}");
}

#[test]
fn casts_to_and_from_complex_follow_pytorch() {
    // torch.tensor([1.5+2j, 0-0.5j, 0j]).to(float32) keeps the real parts (with a warning),
    // .to(bool) is "either part nonzero", .to(int64) truncates the real part.
    let c = complex_from_pairs(&[(1.5, 2.), (0., -0.5), (0., 0.)], vec![3], DType::C64).unwrap();
    assert_eq!(c.to_dtype(DType::F32).to_f64_vec(), [1.5, 0., 0.]);
    assert_eq!(c.to_dtype(DType::Bool).to_bool_vec(), [true, true, false]);
    assert_eq!(c.to_dtype(DType::I64).to_i64_vec(), [1, 0, 0]);
    let wide = c.to_dtype(DType::C128);
    assert_eq!(wide.dtype(), DType::C128);
    assert_eq!(
        complex_values(&wide).unwrap(),
        [(1.5, 2.), (0., -0.5), (0., 0.)]
    );
    // torch.tensor([3, -2]).to(complex64) is [3+0j, -2+0j]; bools become 1 and 0.
    let i = Tensor::from_vec(vec![3i64, -2], vec![2]).unwrap();
    assert_eq!(
        complex_values(&i.to_dtype(DType::C64)).unwrap(),
        [(3., 0.), (-2., 0.)]
    );
    let b = Tensor::from_vec(vec![true, false], vec![2]).unwrap();
    assert_eq!(
        complex_values(&b.to_dtype(DType::C128)).unwrap(),
        [(1., 0.), (0., 0.)]
    );
    // Bytes round-trip as (re, im) pairs of little-endian floats.
    let back = Tensor::from_le_bytes(&c.to_le_bytes(), DType::C64, vec![3]).unwrap();
    assert_eq!(back, c);
}

/// `aten.stft` (the export dialect keeps it; core ATen decomposes it in PyTorch) runs through
/// its decomposition: frames by `unfold`, the window padded to `n_fft` and centred, `_fft_r2c`
/// or `_fft_c2c`, frequencies before frames. Values from PyTorch 2.11:
/// `torch.stft(x, 4, hop_length=2, center=False, return_complex=False)` with
/// `x = [1, 2, -1, .5, 3, -2, .25, 1.5]`; the same `x` with `n_fft=4, hop_length=3,
/// win_length=2, window=[.5, 1], normalized=True, return_complex=True`; and `x.reshape(2, 4)`
/// with `n_fft=2, hop_length=1, onesided=False, return_complex=True`.
#[test]
fn stft_runs_through_its_decomposition() {
    assert!(!has_kernel("aten.stft.default"));
    let x = || Tensor::from_vec(vec![1f32, 2., -1., 0.5, 3., -2., 0.25, 1.5], vec![8]).unwrap();
    let y = run(
        &one_op(
            "f32[8]",
            "f32[3,3,2]",
            "aten.stft.default(%x, 4, 2, None, None, false, None, false)",
        ),
        vec![x()],
    );
    let want = [
        2.5, 0.0, 0.5, 0.0, 2.75, 0.0, 2.0, -1.5, -4.0, -2.5, 2.75, 3.5, -2.5, 0.0, 3.5, 0.0, 3.75,
        0.0,
    ];
    assert_real(&y[0], DType::F32, &[3, 3, 2], &want);

    let src = r#"input "x": f32[8]
input "w": f32[2]
graph @main(%x: f32[8] = user "x", %w: f32[2] = user "w") -> (user) {
  %y: c64[3,2] = aten.stft.default(%x, 4, 3, 2, %w, true, None, true)
  output (%y)
}"#;
    let w = Tensor::from_vec(vec![0.5f32, 1.0], vec![2]).unwrap();
    let y = run(src, vec![x(), w]);
    let want = [
        (0.0, 0.0),
        (-0.25, 0.0),
        (0.5, -0.5),
        (1.0, -0.75),
        (-1.0, 0.0),
        (-1.75, 0.0),
    ];
    assert_complex(&y[0], DType::C64, &[3, 2], &want);

    let y = run(
        &one_op(
            "f32[2,4]",
            "c64[2,2,3]",
            "aten.stft.default(%x, 2, 1, None, None, false, false, true)",
        ),
        vec![Tensor::from_vec(vec![1f32, 2., -1., 0.5, 3., -2., 0.25, 1.5], vec![2, 4]).unwrap()],
    );
    let want = [
        (3.0, 0.0),
        (1.0, 0.0),
        (-0.5, 0.0),
        (-1.0, 0.0),
        (3.0, 0.0),
        (-1.5, 0.0),
        (1.0, 0.0),
        (-1.75, 0.0),
        (1.75, 0.0),
        (5.0, 0.0),
        (-2.25, 0.0),
        (-1.25, 0.0),
    ];
    assert_complex(&y[0], DType::C64, &[2, 2, 3], &want);

    // Real input without `return_complex` is PyTorch's error, not a panic.
    let e = try_run(
        &one_op(
            "f32[8]",
            "f32[3,3,2]",
            "aten.stft.default(%x, 4, 2, None, None, false, None, None)",
        ),
        vec![x()],
    )
    .unwrap_err();
    assert!(e.contains("return_complex"), "{e}");
}
