//! Ops that reach the executor from exported programs outside `aten`'s usual overloads:
//! `tensor_split` (both overloads), `view_copy` and `prims.convert_element_type`. Expected
//! values are PyTorch's (`torch.tensor_split(torch.arange(7), ...)` and friends).

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::parse_program;

fn run(src: &str, input: Tensor) -> Vec<Tensor> {
    let p = parse_program(src).unwrap_or_else(|e| panic!("{e}"));
    Executor::new(&p)
        .run(&[Value::Tensor(input)])
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|v| v.as_tensor().expect("tensor output").clone())
        .collect()
}

fn arange7() -> Tensor {
    Tensor::from_vec((0..7i64).collect::<Vec<_>>(), vec![7]).unwrap()
}

fn sizes(ts: &[Tensor]) -> Vec<usize> {
    ts.iter().map(|t| t.shape()[0]).collect()
}

#[test]
fn tensor_split_sections_makes_the_first_chunks_larger() {
    let out = run(
        r#"input "x": i64[7]
graph @main(%x: i64[7] = user "x") -> (user, user, user) {
  %a: i64[3], %b: i64[2], %c: i64[2] = aten.tensor_split.sections(%x, 3)
  output (%a, %b, %c)
}"#,
        arange7(),
    );
    assert_eq!(sizes(&out), [3, 2, 2]);
    assert_eq!(out[1].to_vec::<i64>(), [3, 4]);
}

#[test]
fn tensor_split_indices_clamps_and_wraps() {
    // torch.tensor_split(arange(7), [1, -2, 10]) -> [0], [1..5), [5..7), []
    let out = run(
        r#"input "x": i64[7]
graph @main(%x: i64[7] = user "x") -> (user, user, user, user) {
  %a: i64[1], %b: i64[4], %c: i64[2], %d: i64[0] = aten.tensor_split.indices(%x, [1, -2, 10])
  output (%a, %b, %c, %d)
}"#,
        arange7(),
    );
    assert_eq!(sizes(&out), [1, 4, 2, 0]);
    assert_eq!(out[2].to_vec::<i64>(), [5, 6]);
}

#[test]
fn tensor_split_decreasing_indices_overlap() {
    // torch.tensor_split(arange(7), [5, 2]) -> x[0:5], x[5:2] (empty), x[2:]
    let out = run(
        r#"input "x": i64[7]
graph @main(%x: i64[7] = user "x") -> (user, user, user) {
  %a: i64[5], %b: i64[0], %c: i64[5] = aten.tensor_split.indices(%x, [5, 2])
  output (%a, %b, %c)
}"#,
        arange7(),
    );
    assert_eq!(sizes(&out), [5, 0, 5]);
    assert_eq!(out[2].to_vec::<i64>(), [2, 3, 4, 5, 6]);
}

#[test]
fn view_copy_and_convert_element_type() {
    let out = run(
        r#"input "x": i64[7]
graph @main(%x: i64[7] = user "x") -> (user) {
  %v: i64[7, 1] = aten.view_copy.default(%x, [7, 1])
  %f: f32[7, 1] = prims.convert_element_type.default(%v, f32)
  output (%f)
}"#,
        arange7(),
    );
    assert_eq!(out[0].shape(), [7, 1]);
    assert_eq!(out[0].to_vec::<f32>(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn view_dtype_reinterprets_bytes() {
    // torch.tensor([1.0, -2.0]).view(torch.int32) -> [1065353216, -1073741824]
    let x = Tensor::from_vec(vec![1.0f32, -2.0], vec![2]).unwrap();
    let out = run(
        r#"input "x": f32[2]
graph @main(%x: f32[2] = user "x") -> (user) {
  %y: i32[2] = aten.view.dtype(%x, i32)
  output (%y)
}"#,
        x.clone(),
    );
    assert_eq!(out[0].to_vec::<i32>(), [1065353216, -1073741824]);
    // torch.tensor([1.0, -2.0]).view(torch.int16): the last dim doubles, little-endian halves.
    let out = run(
        r#"input "x": f32[2]
graph @main(%x: f32[2] = user "x") -> (user) {
  %y: i16[4] = aten.view.dtype(%x, i16)
  output (%y)
}"#,
        x,
    );
    assert_eq!(out[0].to_vec::<i16>(), [0, 16256, 0, -16384]);
}
