//! `cdist` / `_cdist_forward` and `pdist` / `_pdist_forward` run through their op-table
//! decompositions. Expected values are worked out by hand (the rows (0, 0), (3, 4), (6, 8) are
//! 5 and 10 apart in the 2-norm, 7 and 14 in the 1-norm, 4 and 8 in the inf-norm; (6, 8) and
//! (3, 0) are sqrt(9 + 64) apart).

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

fn assert_close(got: &Tensor, shape: &[usize], want: &[f64]) {
    assert_eq!(got.shape(), shape);
    let g = got.to_f64_vec();
    for (a, b) in g.iter().zip(want) {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{g:?} vs {want:?}"
        );
    }
}

fn rows() -> Tensor {
    Tensor::from_vec(vec![0f32, 0., 3., 4., 6., 8.], vec![3, 2]).unwrap()
}

#[test]
fn cdist_every_norm_and_batch_broadcast() {
    assert!(!has_kernel("aten._cdist_forward.default"));
    let src = r#"input "a": f32[3, 2]
input "b": f32[2, 2]
graph @main(%a: f32[3,2] = user "a", %b: f32[2,2] = user "b") -> (user, user, user, user, user) {
  %d2: f32[3,2] = aten._cdist_forward.default(%a, %b, 2.0, None)
  %d1: f32[3,2] = aten._cdist_forward.default(%a, %b, 1.0, None)
  %di: f32[3,2] = aten._cdist_forward.default(%a, %b, inf, None)
  %d0: f32[3,2] = aten._cdist_forward.default(%a, %b, 0.0, None)
  %dp: f32[3,2] = aten.cdist.default(%a, %b)
  output (%d2, %d1, %di, %d0, %dp)
}"#;
    // b's rows: (0, 0) and (3, 0).
    let b = Tensor::from_vec(vec![0f32, 0., 3., 0.], vec![2, 2]).unwrap();
    let out = run(src, vec![rows(), b]);
    assert_close(&out[0], &[3, 2], &[0., 3., 5., 4., 10., 73f64.sqrt()]);
    assert_close(&out[1], &[3, 2], &[0., 3., 7., 4., 14., 11.]);
    assert_close(&out[2], &[3, 2], &[0., 3., 4., 4., 8., 8.]);
    assert_close(&out[3], &[3, 2], &[0., 1., 2., 1., 2., 2.]);
    assert_close(&out[4], &[3, 2], &[0., 3., 5., 4., 10., 73f64.sqrt()]);
    // Batch dims broadcast: [2] against [1].
    let src = r#"input "a": f32[2, 1, 2]
input "b": f32[1, 2, 2]
graph @main(%a: f32[2,1,2] = user "a", %b: f32[1,2,2] = user "b") -> (user) {
  %d: f32[2,1,2] = aten._cdist_forward.default(%a, %b, 2.0, None)
  output (%d)
}"#;
    let a = Tensor::from_vec(vec![0f32, 0., 3., 4.], vec![2, 1, 2]).unwrap();
    let b = Tensor::from_vec(vec![0f32, 0., 3., 0.], vec![1, 2, 2]).unwrap();
    assert_close(&run(src, vec![a, b])[0], &[2, 1, 2], &[0., 3., 5., 4.]);
}

#[test]
fn pdist_pairs_in_row_major_order() {
    assert!(!has_kernel("aten._pdist_forward.default"));
    let src = r#"input "x": f32[3, 2]
graph @main(%x: f32[3,2] = user "x") -> (user, user, user) {
  %d2: f32[3] = aten._pdist_forward.default(%x, 2.0)
  %d1: f32[3] = aten._pdist_forward.default(%x, 1.0)
  %dp: f32[3] = aten.pdist.default(%x)
  output (%d2, %d1, %dp)
}"#;
    let out = run(src, vec![rows()]);
    // Pairs (0, 1), (0, 2), (1, 2).
    assert_close(&out[0], &[3], &[5., 10., 5.]);
    assert_close(&out[1], &[3], &[7., 14., 7.]);
    assert_close(&out[2], &[3], &[5., 10., 5.]);
    // One row: no pairs.
    let src = r#"input "x": f32[1, 2]
graph @main(%x: f32[1,2] = user "x") -> (user) {
  %d: f32[0] = aten._pdist_forward.default(%x, 2.0)
  output (%d)
}"#;
    let one = Tensor::from_vec(vec![1f32, 2.], vec![1, 2]).unwrap();
    assert_close(&run(src, vec![one])[0], &[0], &[]);
}
