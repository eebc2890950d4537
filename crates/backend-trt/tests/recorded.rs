//! RecordedNetwork: snapshots, shape inference, replay and serde.

mod common;

use trtfx_backend_trt::layers::DECLARATIONS;
use trtfx_backend_trt::network::*;
use trtfx_backend_trt::{OptimizationProfile, RecordedNetwork};

#[test]
fn snapshot_conv_relu_matmul_softmax() {
    let net = common::conv_relu_matmul_softmax();
    insta::assert_snapshot!("conv_relu_matmul_softmax", net.to_string());
}

#[test]
fn snapshot_many_layers() {
    let net = common::many_layers();
    insta::assert_snapshot!("many_layers", net.to_string());
}

#[test]
fn replay_into_recording_reproduces_it() {
    for net in [common::conv_relu_matmul_softmax(), common::many_layers()] {
        let mut copy = RecordedNetwork::new();
        let map = net.replay_into(&mut copy).unwrap();
        assert_eq!(map.len(), net.tensors.len());
        assert_eq!(copy.to_string(), net.to_string());
        assert_eq!(copy, net);
    }
}

#[test]
fn serde_round_trip() {
    let net = common::many_layers();
    let json = serde_json::to_string(&net).unwrap();
    let back: RecordedNetwork = serde_json::from_str(&json).unwrap();
    assert_eq!(back.to_string(), net.to_string());
}

#[test]
fn shape_inference_follows_tensorrt() {
    let mut n = RecordedNetwork::new();
    let x = n.add_input("x", TrtDataType::Half, &[-1, 3, 4]).unwrap();
    // Reshape with placeholders: 0 copies, -1 inferred even with a dynamic batch.
    let r = n.add_shuffle(x, &ShuffleParams::reshape(&[0, -1])).unwrap();
    assert_eq!(n.tensor_desc(r).unwrap().dims, vec![-1, 12]);
    let r = n
        .add_shuffle(x, &ShuffleParams::reshape(&[-1, 2, 2]))
        .unwrap();
    assert_eq!(n.tensor_desc(r).unwrap().dims, vec![-1, 2, 2]);
    // Broadcasting needs equal ranks.
    let y = n.add_input("y", TrtDataType::Half, &[3, 1]).unwrap();
    let e = n.add_elementwise(x, y, ElementWiseOp::Sum).unwrap_err();
    assert!(e.to_string().contains("same rank"), "{e}");
    // Strong typing: no implicit promotion.
    let z = n.add_input("z", TrtDataType::Float, &[1, 3, 1]).unwrap();
    let e = n.add_elementwise(x, z, ElementWiseOp::Sum).unwrap_err();
    assert!(e.to_string().contains("types differ"), "{e}");
    let zc = n.add_cast(z, TrtDataType::Half).unwrap();
    let s = n.add_elementwise(x, zc, ElementWiseOp::Less).unwrap();
    assert_eq!(
        n.tensor_desc(s).unwrap(),
        TensorDesc::new(TrtDataType::Bool, vec![-1, 3, 4])
    );
    // Matrix multiply: vector operand drops its dim.
    let v = n.add_input("v", TrtDataType::Half, &[-1, 4]).unwrap();
    let mv = n
        .add_matrix_multiply(x, MatrixOp::None, v, MatrixOp::Vector)
        .unwrap();
    assert_eq!(n.tensor_desc(mv).unwrap().dims, vec![-1, 3]);
    // Integer matmul does not exist in TensorRT.
    let i = n.add_input("i", TrtDataType::Int32, &[2, 2]).unwrap();
    assert!(n
        .add_matrix_multiply(i, MatrixOp::None, i, MatrixOp::None)
        .is_err());
    // Pooling ceil mode.
    let img = n
        .add_input("img", TrtDataType::Float, &[1, 1, 5, 5])
        .unwrap();
    let mut pp = PoolingParams::new(PoolingType::Max, &[2, 2]);
    pp.padding_mode = PaddingMode::ExplicitRoundUp;
    let p = n.add_pooling_nd(img, &pp).unwrap();
    assert_eq!(n.tensor_desc(p).unwrap().dims, vec![1, 1, 3, 3]);
    // Shape values flow into reshape through a shape tensor.
    let sh = n.add_shape(img).unwrap();
    let hw = n
        .add_slice(sh, &SliceParams::new(&[2], &[2], &[1]))
        .unwrap();
    let r = n
        .add_shuffle(
            img,
            &ShuffleParams {
                reshape: Some(ShapeArg::Tensor(hw)),
                zero_is_placeholder: true,
                ..ShuffleParams::default()
            },
        )
        .unwrap();
    assert_eq!(n.tensor_desc(r).unwrap().dims, vec![5, 5]);
    // Strict-bounds slices are checked.
    assert!(n
        .add_slice(
            img,
            &SliceParams::new(&[0, 0, 4, 0], &[1, 1, 2, 5], &[1, 1, 1, 1])
        )
        .is_err());
}

#[test]
fn profiles_are_validated() {
    let mut n = RecordedNetwork::new();
    n.add_input("x", TrtDataType::Float, &[-1, 3]).unwrap();
    let mut p = OptimizationProfile::new();
    p.set_dimensions("x", &[1, 3], &[8, 3], &[4, 3]);
    let e = n.add_optimization_profile(&p).unwrap_err();
    assert!(e.to_string().contains("min <= opt <= max"), "{e}");
    let mut p = OptimizationProfile::new();
    p.set_dimensions("x", &[1, 2], &[1, 3], &[1, 3]);
    assert!(n.add_optimization_profile(&p).is_err());
    assert!(n
        .add_optimization_profile(&OptimizationProfile::new())
        .unwrap_err()
        .to_string()
        .contains("no min/opt/max"));
}

#[test]
fn declarations_describe_every_recorded_layer() {
    let mut kinds: Vec<&str> = DECLARATIONS.iter().map(|d| d.kind).collect();
    kinds.sort_unstable();
    let n = kinds.len();
    kinds.dedup();
    assert_eq!(kinds.len(), n, "a layer kind is declared twice");
    let net = common::many_layers();
    for layer in &net.layers {
        let d = DECLARATIONS
            .iter()
            .find(|d| d.kind == layer.op.kind())
            .unwrap_or_else(|| panic!("{} is not declared", layer.op.kind()));
        assert_eq!(d.outputs, layer.outputs.len(), "{}", d.kind);
        assert_eq!(layer.op.num_outputs(), layer.outputs.len(), "{}", d.kind);
        // Every input tensor of a layer was created before it.
        let first_out = layer.outputs[0];
        assert!(
            layer.op.inputs().iter().all(|t| *t < first_out),
            "{}",
            d.kind
        );
    }
    let conv = DECLARATIONS
        .iter()
        .find(|d| d.kind == "convolution")
        .unwrap();
    assert_eq!(conv.method, "add_convolution_nd");
    assert_eq!(conv.inputs, ["input"]);
    assert_eq!(conv.attrs, ["params", "kernel", "bias"]);
    let topk = DECLARATIONS.iter().find(|d| d.kind == "topk").unwrap();
    assert_eq!(topk.outputs, 2);
}

#[test]
fn declared_type_rules_reject_what_tensorrt_rejects() {
    let mut n = RecordedNetwork::new();
    let i = n.add_input("i", TrtDataType::Int32, &[1, 2, 4, 4]).unwrap();
    let f = n.add_input("f", TrtDataType::Float, &[1, 2, 4, 4]).unwrap();
    let b = n.add_input("b", TrtDataType::Bool, &[1, 2, 4, 4]).unwrap();
    let conv = ConvolutionParams::new(2, &[1, 1]);
    let refusals = [
        n.add_convolution_nd(i, &conv, Weights::from_f32(&[1.0; 4]), None)
            .unwrap_err(),
        n.add_matrix_multiply(i, MatrixOp::None, i, MatrixOp::None)
            .unwrap_err(),
        n.add_softmax(i, 1).unwrap_err(),
        n.add_unary(i, UnaryOp::Exp).unwrap_err(),
        n.add_unary(f, UnaryOp::Not).unwrap_err(),
        n.add_activation(i, Activation::Sigmoid).unwrap_err(),
        n.add_reduce(b, ReduceOp::Sum, 1, false).unwrap_err(),
        n.add_select(f, f, f).unwrap_err(),
        n.add_gather(f, f, 0, GatherMode::Default).unwrap_err(),
        n.add_elementwise(b, b, ElementWiseOp::Sum).unwrap_err(),
        n.add_elementwise(f, f, ElementWiseOp::And).unwrap_err(),
        n.add_pooling_nd(i, &PoolingParams::new(PoolingType::Max, &[2, 2]))
            .unwrap_err(),
    ];
    for e in refusals {
        let msg = e.to_string();
        assert!(
            msg.contains("but TensorRT's") && msg.contains("takes"),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }
    // The same layers on accepted types record.
    assert!(n.add_activation(i, Activation::Relu).is_ok());
    assert!(n.add_unary(i, UnaryOp::Abs).is_ok());
    assert!(n.add_unary(b, UnaryOp::Not).is_ok());
    assert!(n.add_elementwise(b, b, ElementWiseOp::Xor).is_ok());
    // Nothing was recorded for a refused layer.
    assert_eq!(n.num_layers(), 4);
}
