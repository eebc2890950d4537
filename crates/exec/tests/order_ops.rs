//! Search, order statistics and data-dependent selections on the executor, through the op
//! table (kernels, and the `bucketize` / `argwhere` decompositions). Expected values are
//! PyTorch 2.11's for the same calls (noted next to each).

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::{DType, Tensor};
use trtfx_ir::parse_program;

fn run(src: &str, inputs: Vec<Tensor>) -> Vec<Tensor> {
    let p = parse_program(src).unwrap_or_else(|e| panic!("{e}"));
    let ins: Vec<Value> = inputs.into_iter().map(Value::Tensor).collect();
    let mut out = Vec::new();
    for v in Executor::new(&p)
        .run(&ins)
        .unwrap_or_else(|e| panic!("{e}"))
    {
        match v {
            Value::Tensor(t) => out.push(t),
            Value::List(items) => out.extend(
                items
                    .into_iter()
                    .map(|i| i.as_tensor().expect("tensor list element").clone()),
            ),
            other => panic!("unexpected output {other:?}"),
        }
    }
    out
}

fn t<T: trtfx_exec::Element>(v: Vec<T>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape.to_vec()).unwrap()
}

#[test]
fn median_and_nanmedian_values_and_indices() {
    // torch.tensor([[3., 1, 2], [2, 2, 5]]).median(1) -> ([2, 2], [2, 1]);
    // torch.tensor([[nan, 1, 2, 0]]).nanmedian(1) -> ([1], [1]); .median() -> 2.
    let src = r#"input "x": f32[2,3]
input "y": f32[1,4]
graph @main(%x: f32[2,3] = user "x", %y: f32[1,4] = user "y") -> (user, user, user, user, user) {
  %v: f32[2], %i: i64[2] = aten.median.dim(%x, 1)
  %nv: f32[1], %ni: i64[1] = aten.nanmedian.dim(%y, 1)
  %m: f32[] = aten.median.default(%x)
  output (%v, %i, %nv, %ni, %m)
}"#;
    let out = run(
        src,
        vec![
            t(vec![3f32, 1., 2., 2., 2., 5.], &[2, 3]),
            t(vec![f32::NAN, 1., 2., 0.], &[1, 4]),
        ],
    );
    assert_eq!(out[0].to_f64_vec(), [2.0, 2.0]);
    assert_eq!(out[1].to_i64_vec(), [2, 1]);
    assert_eq!(out[2].to_f64_vec(), [1.0]);
    assert_eq!(out[3].to_i64_vec(), [1]);
    assert_eq!(out[4].to_f64_vec(), [2.0]);
}

#[test]
fn bucketize_runs_as_searchsorted() {
    // torch.bucketize(tensor([[1, 5], [2, 7]], int32), tensor([1, 3, 5], int32)) ->
    // [[0, 2], [1, 3]] (int64); right=True gives [[1, 3], [1, 3]].
    let src = r#"input "x": i32[2,2]
input "b": i32[3]
graph @main(%x: i32[2,2] = user "x", %b: i32[3] = user "b") -> (user, user) {
  %l: i64[2,2] = aten.bucketize.Tensor(%x, %b)
  %r: i32[2,2] = aten.bucketize.Tensor(%x, %b, out_int32=true, right=true)
  output (%l, %r)
}"#;
    let out = run(
        src,
        vec![t(vec![1i32, 5, 2, 7], &[2, 2]), t(vec![1i32, 3, 5], &[3])],
    );
    assert_eq!(out[0].dtype(), DType::I64);
    assert_eq!(out[0].to_i64_vec(), [0, 2, 1, 3]);
    assert_eq!(out[1].dtype(), DType::I32);
    assert_eq!(out[1].to_i64_vec(), [1, 3, 1, 3]);
}

#[test]
fn nonzero_family() {
    // torch.argwhere(tensor([[0, 1], [1, 1]])) -> [[0, 1], [1, 0], [1, 1]];
    // torch.nonzero(..., as_tuple=True) -> ([0, 1, 1], [1, 0, 1]);
    // torch.nonzero_static(tensor([0, 3, 0, 4]), size=3) -> [[1], [3], [-1]].
    let src = r#"sym u0: unbacked in 0..
input "x": i64[2,2]
input "y": i64[4]
graph @main(%x: i64[2,2] = user "x", %y: i64[4] = user "y") -> (user, user, user, user) {
  %a: i64[u0,2] = aten.argwhere.default(%x)
  %r: i64[u0], %c: i64[u0] = aten.nonzero_numpy.default(%x)
  %s: i64[3,1] = aten.nonzero_static.default(%y, size=3)
  output (%a, %r, %c, %s)
}"#;
    let out = run(
        src,
        vec![
            t(vec![0i64, 1, 1, 1], &[2, 2]),
            t(vec![0i64, 3, 0, 4], &[4]),
        ],
    );
    assert_eq!(out[0].shape(), [3, 2]);
    assert_eq!(out[0].to_i64_vec(), [0, 1, 1, 0, 1, 1]);
    assert_eq!(out[1].to_i64_vec(), [0, 1, 1]);
    assert_eq!(out[2].to_i64_vec(), [1, 0, 1]);
    assert_eq!(out[3].to_i64_vec(), [1, 3, -1]);
}

#[test]
fn counting_and_unique() {
    // torch.bincount(tensor([1, 1, 3]), tensor([.5, 1., 2.]), minlength=6) ->
    // [0, 1.5, 0, 2, 0, 0] (f32); torch.unique_consecutive(tensor([1, 1, 2, 2, 3, 1, 1, 2]),
    // return_inverse=True, return_counts=True) -> ([1, 2, 3, 1, 2], [0, 0, 1, 1, 2, 3, 3, 4],
    // [2, 2, 1, 2, 1]).
    let src = r#"sym u0: unbacked in 0..
sym u1: unbacked in 0..
input "x": i64[3]
input "w": f32[3]
input "y": i64[8]
graph @main(%x: i64[3] = user "x", %w: f32[3] = user "w", %y: i64[8] = user "y") -> (user, user, user, user) {
  %b: f32[u0] = aten.bincount.default(%x, %w, 6)
  %u: i64[u1], %inv: i64[8], %cnt: i64[u1] = aten.unique_consecutive.default(%y, true, true)
  output (%b, %u, %inv, %cnt)
}"#;
    let out = run(
        src,
        vec![
            t(vec![1i64, 1, 3], &[3]),
            t(vec![0.5f32, 1., 2.], &[3]),
            t(vec![1i64, 1, 2, 2, 3, 1, 1, 2], &[8]),
        ],
    );
    assert_eq!(out[0].dtype(), DType::F32);
    assert_eq!(out[0].to_f64_vec(), [0.0, 1.5, 0.0, 2.0, 0.0, 0.0]);
    assert_eq!(out[1].to_i64_vec(), [1, 2, 3, 1, 2]);
    assert_eq!(out[2].to_i64_vec(), [0, 0, 1, 1, 2, 3, 3, 4]);
    assert_eq!(out[3].to_i64_vec(), [2, 2, 1, 2, 1]);
}

#[test]
fn scatter_like_writes() {
    // tensor([[1., 2], [3, 4]]).put(tensor([0, -1, 0]), tensor([10., 20, 30]), accumulate=True)
    // -> [[41, 2], [3, 24]]; zeros(2, 3).masked_scatter(tensor([True, False, True]),
    // arange(1., 7).reshape(2, 3)) -> [[1, 0, 2], [3, 0, 4]]; max_unpool2d of [[1, 2], [3, 4]]
    // at indices [[0, 3], [9, 15]] to 4x4 puts them on those flat positions.
    let src = r#"input "p": f32[2,2]
input "i": i64[3]
input "s": f32[3]
input "z": f32[2,3]
input "m": bool[3]
input "src": f32[2,3]
input "x": f32[1,1,2,2]
input "ix": i64[1,1,2,2]
graph @main(%p: f32[2,2] = user "p", %i: i64[3] = user "i", %s: f32[3] = user "s", %z: f32[2,3] = user "z", %m: bool[3] = user "m", %src: f32[2,3] = user "src", %x: f32[1,1,2,2] = user "x", %ix: i64[1,1,2,2] = user "ix") -> (user, user, user) {
  %a: f32[2,2] = aten.put.default(%p, %i, %s, true)
  %b: f32[2,3] = aten.masked_scatter.default(%z, %m, %src)
  %c: f32[1,1,4,4] = aten.max_unpool2d.default(%x, %ix, [4, 4])
  output (%a, %b, %c)
}"#;
    let out = run(
        src,
        vec![
            t(vec![1f32, 2., 3., 4.], &[2, 2]),
            t(vec![0i64, -1, 0], &[3]),
            t(vec![10f32, 20., 30.], &[3]),
            t(vec![0f32; 6], &[2, 3]),
            t(vec![true, false, true], &[3]),
            t(vec![1f32, 2., 3., 4., 5., 6.], &[2, 3]),
            t(vec![1f32, 2., 3., 4.], &[1, 1, 2, 2]),
            t(vec![0i64, 3, 9, 15], &[1, 1, 2, 2]),
        ],
    );
    assert_eq!(out[0].to_f64_vec(), [41.0, 2.0, 3.0, 24.0]);
    assert_eq!(out[1].to_f64_vec(), [1.0, 0.0, 2.0, 3.0, 0.0, 4.0]);
    let mut want = vec![0.0; 16];
    for (p, v) in [(0, 1.0), (3, 2.0), (9, 3.0), (15, 4.0)] {
        want[p] = v;
    }
    assert_eq!(out[2].to_f64_vec(), want);
}

#[test]
fn bad_arguments_are_errors() {
    // An index past the end of `put`'s target is an error naming the node, not a panic.
    let src = r#"input "p": f32[2]
input "i": i64[1]
input "s": f32[1]
graph @main(%p: f32[2] = user "p", %i: i64[1] = user "i", %s: f32[1] = user "s") -> (user) {
  %a: f32[2] = aten.put.default(%p, %i, %s)
  output (%a)
}"#;
    let p = parse_program(src).unwrap();
    let ins = vec![
        Value::Tensor(t(vec![1f32, 2.], &[2])),
        Value::Tensor(t(vec![5i64], &[1])),
        Value::Tensor(t(vec![1f32], &[1])),
    ];
    let e = Executor::new(&p).run(&ins).unwrap_err().to_string();
    assert!(e.contains("node `a`"), "{e}");
    assert!(e.contains("index 5"), "{e}");
}
