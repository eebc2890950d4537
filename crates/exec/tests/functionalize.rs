//! In-place calls run with PyTorch's meaning: a write through a view changes the tensor it
//! views, and readers after the write see it. Expected values are worked out by hand from
//! PyTorch's semantics (`z = torch.zeros(4, 4); z[0:2][:, 0:2].fill_(v); z[2:4].fill_(5)`).

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::parse_program;

fn run(src: &str, inputs: Vec<Tensor>) -> Vec<Vec<f64>> {
    let p = parse_program(src).unwrap_or_else(|e| panic!("{e}"));
    let ins: Vec<Value> = inputs.into_iter().map(Value::Tensor).collect();
    Executor::new(&p)
        .run(&ins)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|v| v.as_tensor().expect("tensor output").to_f64_vec())
        .collect()
}

#[test]
fn a_write_through_two_slices_reaches_the_base() {
    let src = r#"input "v": f32[]
graph @main(%v: f32[] = user "v") -> (user, user) {
  %z: f32[4,4] = aten.zeros.default([4, 4], pin_memory=false)
  %s1: f32[2,4] = aten.slice.Tensor(%z, 0, 0, 2)
  %s2: f32[2,2] = aten.slice.Tensor(%s1, 1, 0, 2)
  %f1: f32[2,2] = aten.fill_.Tensor(%s2, %v)
  %s3: f32[2,4] = aten.slice.Tensor(%z, 0, 2, 4)
  %f2: f32[2,4] = aten.fill_.Scalar(%s3, 5.0)
  %o: f32[16] = aten.view.default(%z, [16])
  output (%o, %s1)
}"#;
    let v = Tensor::from_vec(vec![3.0f32], vec![]).unwrap();
    let out = run(src, vec![v]);
    #[rustfmt::skip]
    let want = vec![
        3., 3., 0., 0.,
        3., 3., 0., 0.,
        5., 5., 5., 5.,
        5., 5., 5., 5.,
    ];
    assert_eq!(out[0], want);
    // `s1` was taken before the writes: it views rows 0..2 of `z` as they are at the end.
    assert_eq!(out[1], vec![3., 3., 0., 0., 3., 3., 0., 0.]);
}

#[test]
fn views_taken_before_a_write_read_the_new_value() {
    // c = x.clone(); t = c.t(); c.add_(x); m = t * t; c.permute(0, 1).relu_()
    let src = r#"input "x": f32[2,3]
graph @main(%x: f32[2,3] = user "x") -> (user, user, user) {
  %c: f32[2,3] = aten.clone.default(%x)
  %t: f32[3,2] = aten.t.default(%c)
  %a: f32[2,3] = aten.add_.Tensor(%c, %x)
  %m: f32[3,2] = aten.mul.Tensor(%t, %t)
  %p: f32[2,3] = aten.permute.default(%c, [0, 1])
  %r: f32[2,3] = aten.relu_.default(%p)
  output (%m, %a, %c)
}"#;
    let x = Tensor::from_vec(vec![1.0f32, -2., 3., -4., 5., -6.], vec![2, 3]).unwrap();
    let out = run(src, vec![x]);
    // c = 2x = [[2, -4, 6], [-8, 10, -12]]; t = c.t() squared.
    assert_eq!(out[0], vec![4., 64., 16., 100., 36., 144.]);
    // `a` aliases `c`, which relu_ changed afterwards.
    assert_eq!(out[1], vec![2., 0., 6., 0., 10., 0.]);
    assert_eq!(out[2], vec![2., 0., 6., 0., 10., 0.]);
}
