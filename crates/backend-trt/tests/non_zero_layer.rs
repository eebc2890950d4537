//! The `non_zero` layer (`INonZeroLayer`): its shape and type rule, and its emulation against
//! coordinates listed by hand from NvInfer.h's definition (a `[rank, n]` matrix, one column
//! per nonzero element in lexicographic order).

use trtfx_backend_trt::emulator::emulate;
use trtfx_backend_trt::network::*;
use trtfx_backend_trt::RecordedNetwork;
use trtfx_exec::Tensor;

/// Emulates `non_zero` of `x` with Int64 indices: the output's shape and elements.
fn non_zero(x: Tensor, dtype: TrtDataType) -> (Vec<usize>, Vec<i64>) {
    let mut n = RecordedNetwork::new();
    let dims: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
    let xi = n.add_input("x", dtype, &dims).unwrap();
    let y = n.add_non_zero(xi, TrtDataType::Int64).unwrap();
    n.mark_output(y, "y").unwrap();
    let out = emulate(&n, &[("x", x)]).unwrap().remove(0).1;
    (out.shape().to_vec(), out.to_i64_vec())
}

#[test]
fn shape_rule_and_refusals() {
    let mut n = RecordedNetwork::new();
    let x = n.add_input("x", TrtDataType::Float, &[2, 3, 4]).unwrap();
    let y = n.add_non_zero(x, TrtDataType::Int64).unwrap();
    // [rank, n] with a data-dependent n.
    assert_eq!(
        n.tensor_desc(y).unwrap(),
        TensorDesc::new(TrtDataType::Int64, vec![3, -1])
    );
    let y = n.add_non_zero(x, TrtDataType::Int32).unwrap();
    assert_eq!(n.tensor_desc(y).unwrap().dtype, TrtDataType::Int32);
    // A statically empty input has no nonzero elements.
    let e = n.add_input("e", TrtDataType::Bool, &[-1, 0]).unwrap();
    let y = n.add_non_zero(e, TrtDataType::Int64).unwrap();
    assert_eq!(n.tensor_desc(y).unwrap().dims, [2, 0]);
    // Dynamic input extents are fine.
    let d = n.add_input("d", TrtDataType::Int32, &[-1, 5]).unwrap();
    let y = n.add_non_zero(d, TrtDataType::Int64).unwrap();
    assert_eq!(n.tensor_desc(y).unwrap().dims, [2, -1]);
    // Refused: a 0-d input, float indices, and input types NvInfer.h does not list.
    let s = n.add_input("s", TrtDataType::Float, &[]).unwrap();
    let e = n.add_non_zero(s, TrtDataType::Int64).unwrap_err();
    assert!(e.to_string().contains("rank >= 1"), "{e}");
    let e = n.add_non_zero(x, TrtDataType::Float).unwrap_err();
    assert!(e.to_string().contains("i32 or i64"), "{e}");
    for dt in [TrtDataType::Int64, TrtDataType::Bf16] {
        let t = n.add_input(&format!("t{dt}"), dt, &[3]).unwrap();
        let e = n.add_non_zero(t, TrtDataType::Int64).unwrap_err();
        assert!(e.to_string().contains("TensorRT's non_zero takes"), "{e}");
    }
}

#[test]
fn coordinates_in_lexicographic_columns() {
    // [[0, 3, 0], [5, 0, 7]]: nonzero at (0,1), (1,0), (1,2): rows [0,1,1], cols [1,0,2].
    let x = Tensor::from_vec(vec![0i32, 3, 0, 5, 0, 7], vec![2, 3]).unwrap();
    let (shape, v) = non_zero(x, TrtDataType::Int32);
    assert_eq!(shape, [2, 3]);
    assert_eq!(v, [0, 1, 1, 1, 0, 2]);
    // 1-d bool.
    let m = Tensor::from_vec(vec![true, false, false, true, true], vec![5]).unwrap();
    let (shape, v) = non_zero(m, TrtDataType::Bool);
    assert_eq!(shape, [1, 3]);
    assert_eq!(v, [0, 3, 4]);
    // 3-d: [2, 1, 2] with nonzeros at (0,0,1) and (1,0,0).
    let x = Tensor::from_vec(vec![0f32, 2.5, -1.0, 0.0], vec![2, 1, 2]).unwrap();
    let (shape, v) = non_zero(x, TrtDataType::Float);
    assert_eq!(shape, [3, 2]);
    assert_eq!(v, [0, 1, 0, 0, 1, 0]);
}

#[test]
fn floats_nan_and_negative_zero() {
    // NaN is not equal to 0, so it counts; -0.0 equals 0, so it does not.
    let x = Tensor::from_vec(vec![-0.0f32, f32::NAN, 0.0, f32::INFINITY], vec![4]).unwrap();
    let (shape, v) = non_zero(x, TrtDataType::Float);
    assert_eq!(shape, [1, 2]);
    assert_eq!(v, [1, 3]);
    let x = Tensor::from_vec(
        vec![half::f16::from_f32(0.0), half::f16::from_f32(1e-4)],
        vec![2],
    )
    .unwrap();
    let (_, v) = non_zero(x, TrtDataType::Half);
    assert_eq!(v, [1]);
}

#[test]
fn none_and_empty() {
    let x = Tensor::from_vec(vec![0i32; 6], vec![3, 2]).unwrap();
    assert_eq!(non_zero(x, TrtDataType::Int32), (vec![2, 0], vec![]));
    let x = Tensor::from_vec(Vec::<f32>::new(), vec![4, 0, 2]).unwrap();
    assert_eq!(non_zero(x, TrtDataType::Float), (vec![3, 0], vec![]));
}

#[test]
fn int32_indices_and_printing() {
    let mut n = RecordedNetwork::new();
    let x = n.add_input("x", TrtDataType::Bool, &[2, 2]).unwrap();
    let y = n.add_non_zero(x, TrtDataType::Int32).unwrap();
    n.mark_output(y, "y").unwrap();
    let m = Tensor::from_vec(vec![false, true, true, true], vec![2, 2]).unwrap();
    let out = emulate(&n, &[("x", m)]).unwrap().remove(0).1;
    assert_eq!(out.dtype(), trtfx_exec::DType::I32);
    assert_eq!(out.to_i64_vec(), [0, 1, 1, 1, 0, 1]);
    assert!(
        n.to_string()
            .contains("%1: i32[2,?] = non_zero(%0, indices_dtype=Int32)"),
        "{n}"
    );
}
