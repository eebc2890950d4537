//! Layer emulator: whole networks end to end against exec-kernel references, and error cases.

mod common;

use trtfx_backend_trt::emulator::{emulate, EmulatorError};
use trtfx_backend_trt::network::*;
use trtfx_backend_trt::{OptimizationProfile, RecordedNetwork};
use trtfx_exec::kernels as k;
use trtfx_exec::{DType, Tensor};

fn random(seed: u64, shape: &[usize]) -> Tensor {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect();
    Tensor::from_vec(v, shape.to_vec()).unwrap()
}

fn weights_tensor(w: &Weights, shape: &[usize]) -> Tensor {
    Tensor::from_le_bytes(&w.bytes, DType::F32, shape.to_vec()).unwrap()
}

fn assert_close(got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.shape(), want.shape());
    assert_eq!(got.dtype(), want.dtype());
    for (a, b) in got.to_f64_vec().iter().zip(want.to_f64_vec()) {
        assert!((a - b).abs() <= tol * (1.0 + b.abs()), "got {a}, want {b}");
    }
}

/// The shared conv → relu → reshape → matmul → softmax network, at two batch sizes of its
/// profile, against the same chain of exec kernels.
#[test]
fn conv_relu_reshape_matmul_softmax_end_to_end() {
    let net = common::conv_relu_matmul_softmax();
    let w = weights_tensor(&common::weights(4 * 3 * 9, 1), &[4, 3, 3, 3]);
    let b = weights_tensor(&common::weights(4, 2), &[4]);
    let m = weights_tensor(&common::weights(2560, 3), &[256, 10]);
    for (batch, seed) in [(1usize, 1u64), (5, 2)] {
        let x = random(seed, &[batch, 3, 8, 8]);
        let outs = emulate(&net, &[("x", x.clone())]).unwrap();
        assert_eq!(outs.len(), 1);
        assert_eq!(outs[0].0, "probs");
        let c = k::conv::conv(&x, &w, Some(&b), &[1, 1], &[1, 1], &[1, 1], 1).unwrap();
        let r = k::elementwise::relu(&c).unwrap();
        let f = k::shape::reshape(&r, &[batch as i64, -1]).unwrap();
        let mm = k::linalg::matmul(&f, &m).unwrap();
        let want = k::reduce::softmax(&mm, 1, false).unwrap();
        assert_close(&outs[0].1, &want, 1e-5);
    }
}

/// A network built here: conv (asymmetric padding) → gelu → reshape via shape arithmetic →
/// transposed matmul with bias → softmax over the last dim.
#[test]
fn hand_built_network_end_to_end() {
    let mut n = RecordedNetwork::new();
    let x = n
        .add_input("x", TrtDataType::Float, &[-1, 2, 5, 5])
        .unwrap();
    let mut cp = ConvolutionParams::new(3, &[2, 2]);
    cp.pre_padding = vec![0, 1];
    cp.post_padding = vec![1, 0];
    let kw = random(7, &[3, 2, 2, 2]);
    let c = n
        .add_convolution_nd(x, &cp, Weights::from_f32(&kw.to_vec::<f32>()), None)
        .unwrap();
    let g = n.add_activation(c, Activation::GeluErf).unwrap();
    // new shape = concat(shape(g)[0:1], [-1]) computed in the network.
    let s = n.add_shape(g).unwrap();
    let b0 = n.add_slice(s, &SliceParams::new(&[0], &[1], &[1])).unwrap();
    let m1 = n.add_constant(&[1], Weights::from_i64(&[-1])).unwrap();
    let ns = n.add_concatenation(&[b0, m1], 0).unwrap();
    let flat = n
        .add_shuffle(
            g,
            &ShuffleParams {
                reshape: Some(ShapeArg::Tensor(ns)),
                zero_is_placeholder: true,
                ..ShuffleParams::default()
            },
        )
        .unwrap();
    let wm = random(8, &[4, 75]);
    let wc = n
        .add_constant(&[4, 75], Weights::from_f32(&wm.to_vec::<f32>()))
        .unwrap();
    let mm = n
        .add_matrix_multiply(flat, MatrixOp::None, wc, MatrixOp::Transpose)
        .unwrap();
    let bias = random(9, &[1, 4]);
    let bc = n
        .add_constant(&[1, 4], Weights::from_f32(&bias.to_vec::<f32>()))
        .unwrap();
    let sum = n.add_elementwise(mm, bc, ElementWiseOp::Sum).unwrap();
    let sm = n.add_softmax(sum, 1).unwrap();
    n.mark_output(sm, "y").unwrap();
    n.mark_output(s, "shape").unwrap();
    let mut p = OptimizationProfile::new();
    p.set_dimensions("x", &[1, 2, 5, 5], &[2, 2, 5, 5], &[4, 2, 5, 5]);
    n.add_optimization_profile(&p).unwrap();

    let xv = random(10, &[3, 2, 5, 5]);
    let outs = emulate(&n, &[("x", xv.clone())]).unwrap();
    let padded = k::shape::constant_pad_nd(&xv, &[1, 0, 0, 1], 0.0f64.into()).unwrap();
    let c = k::conv::conv(&padded, &kw, None, &[1, 1], &[0, 0], &[1, 1], 1).unwrap();
    let gl = k::elementwise::gelu(&c, "none").unwrap();
    let f = k::shape::reshape(&gl, &[3, -1]).unwrap();
    let lin = k::linalg::linear(&f, &wm, Some(&bias.with_shape(vec![4]).unwrap())).unwrap();
    let want = k::reduce::softmax(&lin, 1, false).unwrap();
    assert_close(&outs[0].1, &want, 1e-5);
    assert_eq!(outs[1].1, Tensor::from_slice(&[3i64, 3, 5, 5]));
}

/// Every layer of the shared many-layer network runs, and the outputs have the recorded types.
#[test]
fn many_layers_network_runs() {
    let net = common::many_layers();
    let x = random(11, &[3, 4, 6, 6]);
    let idx = Tensor::from_slice(&[3i32, 0, -2]);
    let outs = emulate(&net, &[("x", x.clone()), ("idx", idx)]).unwrap();
    assert_eq!(outs.len(), net.outputs.len());
    for ((name, t), o) in outs.iter().zip(&net.outputs) {
        assert_eq!(name, &o.name);
        let desc = &net.tensors[o.tensor.index()];
        assert_eq!(t.ndim(), desc.rank(), "{name}");
    }
    // Spot checks: flat = reshape(x, [3, -1]); arange = 0, 2, .., 8.
    let flat = &outs.iter().find(|(n, _)| n == "flat").unwrap().1;
    assert_eq!(flat, &x.with_shape(vec![3, 144]).unwrap());
    let ar = &outs.iter().find(|(n, _)| n == "arange").unwrap().1;
    assert_eq!(ar, &Tensor::from_slice(&[0i64, 2, 4, 6, 8]));
}

fn simple_net() -> RecordedNetwork {
    let mut n = RecordedNetwork::new();
    let x = n.add_input("x", TrtDataType::Float, &[-1, 3]).unwrap();
    let y = n.add_activation(x, Activation::Relu).unwrap();
    n.mark_output(y, "y").unwrap();
    let mut p = OptimizationProfile::new();
    p.set_dimensions("x", &[1, 3], &[2, 3], &[4, 3]);
    n.add_optimization_profile(&p).unwrap();
    n
}

#[test]
fn error_missing_input() {
    let err = emulate::<&str>(&simple_net(), &[]).unwrap_err();
    assert_eq!(err, EmulatorError::MissingInput { name: "x".into() });
    assert_eq!(err.to_string(), "missing network input \"x\"");
}

#[test]
fn error_unknown_and_duplicate_input() {
    let x = random(1, &[2, 3]);
    let err = emulate(&simple_net(), &[("x", x.clone()), ("z", x.clone())]).unwrap_err();
    assert_eq!(err, EmulatorError::UnknownInput { name: "z".into() });
    let err = emulate(&simple_net(), &[("x", x.clone()), ("x", x)]).unwrap_err();
    assert_eq!(err, EmulatorError::DuplicateInput { name: "x".into() });
}

#[test]
fn error_wrong_shape() {
    // Wrong fixed extent.
    let err = emulate(&simple_net(), &[("x", random(1, &[2, 4]))]).unwrap_err();
    assert!(
        matches!(&err, EmulatorError::InputShape { name, .. } if name == "x"),
        "{err}"
    );
    // Wrong rank.
    let err = emulate(&simple_net(), &[("x", random(1, &[6]))]).unwrap_err();
    assert!(matches!(err, EmulatorError::InputShape { .. }), "{err}");
    // Dynamic extent outside the profile (max 4).
    let err = emulate(&simple_net(), &[("x", random(1, &[5, 3]))]).unwrap_err();
    assert!(err.to_string().contains("optimization profile"), "{err}");
    // Inside it: fine.
    emulate(&simple_net(), &[("x", random(1, &[4, 3]))]).unwrap();
}

#[test]
fn error_wrong_dtype() {
    let x = random(1, &[2, 3]).to_dtype(DType::F16);
    let err = emulate(&simple_net(), &[("x", x)]).unwrap_err();
    assert_eq!(
        err,
        EmulatorError::InputDType {
            name: "x".into(),
            expected: TrtDataType::Float,
            got: DType::F16,
        }
    );
}

#[test]
fn error_names_layer_index_and_kind() {
    // A strict-bounds slice whose start comes from a tensor reads out of bounds at run time.
    let mut n = RecordedNetwork::new();
    let x = n.add_input("x", TrtDataType::Float, &[4]).unwrap();
    let s = n.add_input("s", TrtDataType::Int64, &[1]).unwrap();
    let p = SliceParams {
        start: ShapeArg::Tensor(s),
        ..SliceParams::new(&[0], &[2], &[1])
    };
    let y = n.add_slice(x, &p).unwrap();
    n.mark_output(y, "y").unwrap();
    let err = emulate(
        &n,
        &[("x", random(1, &[4])), ("s", Tensor::from_slice(&[3i64]))],
    )
    .unwrap_err();
    match &err {
        EmulatorError::Layer { index, kind, .. } => {
            assert_eq!((*index, *kind), (2, "slice"));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().starts_with("layer 2 (slice): "), "{err}");
    // Integer division by zero and gather out of range are errors, not panics.
    let mut n = RecordedNetwork::new();
    let a = n.add_input("a", TrtDataType::Int32, &[2]).unwrap();
    let y = n.add_elementwise(a, a, ElementWiseOp::Div).unwrap();
    n.mark_output(y, "y").unwrap();
    let err = emulate(&n, &[("a", Tensor::from_slice(&[1i32, 0]))]).unwrap_err();
    assert!(err.to_string().contains("division by zero"), "{err}");
    let mut n = RecordedNetwork::new();
    let d = n.add_input("d", TrtDataType::Float, &[3]).unwrap();
    let i = n.add_input("i", TrtDataType::Int64, &[1]).unwrap();
    let y = n.add_gather(d, i, 0, GatherMode::Default).unwrap();
    n.mark_output(y, "y").unwrap();
    let err = emulate(
        &n,
        &[("d", random(2, &[3])), ("i", Tensor::from_slice(&[3i64]))],
    )
    .unwrap_err();
    assert!(
        matches!(err, EmulatorError::Layer { kind: "gather", .. }),
        "{err}"
    );
    // A reshape whose shape tensor has the wrong volume.
    let mut n = RecordedNetwork::new();
    let x = n.add_input("x", TrtDataType::Float, &[2, 3]).unwrap();
    let s = n.add_input("s", TrtDataType::Int64, &[2]).unwrap();
    let y = n
        .add_shuffle(
            x,
            &ShuffleParams {
                reshape: Some(ShapeArg::Tensor(s)),
                zero_is_placeholder: true,
                ..ShuffleParams::default()
            },
        )
        .unwrap();
    n.mark_output(y, "y").unwrap();
    let err = emulate(
        &n,
        &[
            ("x", random(3, &[2, 3])),
            ("s", Tensor::from_slice(&[4i64, 2])),
        ],
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            EmulatorError::Layer {
                kind: "shuffle",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn random_fill_is_refused() {
    let mut n = RecordedNetwork::new();
    let y = n
        .add_fill(&FillParams {
            dims: ShapeArg::Static(vec![3]),
            op: FillOp::RandomUniform,
            dtype: TrtDataType::Float,
            alpha: FillArg::Scalar(0.0),
            beta: FillArg::Scalar(1.0),
        })
        .unwrap();
    n.mark_output(y, "y").unwrap();
    let err = emulate::<&str>(&n, &[]).unwrap_err();
    assert!(
        matches!(
            err,
            EmulatorError::Layer {
                index: 0,
                kind: "fill",
                ..
            }
        ),
        "{err}"
    );
}
