//! Embedding bags on the executor, which runs them through their op-table decomposition
//! (comparisons with the offsets, a gather, a one-hot matrix product or a masked max).
//! Expected values are PyTorch 2.11's for the same calls (CPU, noted next to each), with the
//! auxiliary results' shapes from its meta function, as the export records them.

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::{DType, Tensor};
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

fn t<T: trtfx_exec::Element>(v: Vec<T>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape.to_vec()).unwrap()
}

/// `w = [[1, 5], [3, 5], [3, -1], [0, 0], [7, 7]]`, `indices = [4, 4, 1, 2, 0, 3]`,
/// `offsets = [0, 2, 4]`: bag 0 holds rows 4, 4 (all padding when `padding_idx = 4`).
fn inputs() -> Vec<Tensor> {
    vec![
        t(vec![1f32, 5., 3., 5., 3., -1., 0., 0., 7., 7.], &[5, 2]),
        t(vec![4i64, 4, 1, 2, 0, 3], &[6]),
        t(vec![0i64, 2, 4], &[3]),
    ]
}

fn program(call: &str, types: &str) -> String {
    format!(
        r#"input "w": f32[5,2]
input "i": i64[6]
input "o": i64[3]
graph @main(%w: f32[5,2] = user "w", %i: i64[6] = user "i", %o: i64[3] = user "o") -> (user, user, user, user) {{
  {types} = {call}
  output (%out, %o2b, %bs, %mi)
}}"#
    )
}

fn i64s(t: &Tensor) -> Vec<i64> {
    t.to_i64_vec()
}

/// Mode, `max_indices` type, output, `bag_size`, `max_indices`.
type ModeCase = (i64, &'static str, Vec<f64>, Vec<i64>, Vec<i64>);

#[test]
fn sum_mean_max_with_a_padding_row() {
    // torch.ops.aten._embedding_bag_forward_only(w, i, o, False, mode, False, None, False, 4):
    // sum  -> [[0, 0], [6, 4], [1, 5]], offset2bag [0, 0, 1, 1, 2, 2], bag_size [0, 0, 0],
    //         max_indices [0, 0, 0];
    // mean -> [[0, 0], [3, 2], [0.5, 2.5]], bag_size [0, 2, 2], max_indices [0, 2, 2];
    // max  -> [[0, 0], [3, 5], [1, 5]], bag_size [0, 2, 2], max_indices [[0, 0], [1, 1], [0, 0]].
    let want: [ModeCase; 3] = [
        (
            0,
            "i64[3]",
            vec![0., 0., 6., 4., 1., 5.],
            vec![0, 0, 0],
            vec![0, 0, 0],
        ),
        (
            1,
            "i64[3]",
            vec![0., 0., 3., 2., 0.5, 2.5],
            vec![0, 2, 2],
            vec![0, 2, 2],
        ),
        (
            2,
            "i64[3,2]",
            vec![0., 0., 3., 5., 1., 5.],
            vec![0, 2, 2],
            vec![0, 0, 1, 1, 0, 0],
        ),
    ];
    for (mode, mi, out, bs, mis) in want {
        let src = program(
            &format!(
                "aten._embedding_bag_forward_only.default(%w, %i, %o, false, {mode}, false, None, false, 4)"
            ),
            &format!("%out: f32[3,2], %o2b: i64[6], %bs: i64[3], %mi: {mi}"),
        );
        let r = run(&src, inputs());
        assert_eq!(r[0].to_f64_vec(), out, "mode {mode}");
        assert_eq!(i64s(&r[1]), [0, 0, 1, 1, 2, 2], "mode {mode}");
        assert_eq!(i64s(&r[2]), bs, "mode {mode}");
        assert_eq!(i64s(&r[3]), mis, "mode {mode}");
    }
}

#[test]
fn per_sample_weights_and_the_sum_fast_path() {
    // psw = [1, 2, 3, 4, 5, 6]; padding_idx 4 -> [[0, 0], [21, 11], [5, 25]];
    // padding_idx -1 -> [[21, 21], [21, 11], [5, 25]] and an empty offset2bag (fast path).
    let mut ins = inputs();
    ins.push(t(vec![1f32, 2., 3., 4., 5., 6.], &[6]));
    let src = |p: i64, o2b: usize| {
        format!(
            r#"input "w": f32[5,2]
input "i": i64[6]
input "o": i64[3]
input "p": f32[6]
graph @main(%w: f32[5,2] = user "w", %i: i64[6] = user "i", %o: i64[3] = user "o", %p: f32[6] = user "p") -> (user, user, user) {{
  %out: f32[3,2], %o2b: i64[{o2b}], %bs: i64[3], %mi: i64[3] = aten._embedding_bag_forward_only.default(%w, %i, %o, false, 0, false, %p, false, {p})
  output (%out, %o2b, %bs)
}}"#
        )
    };
    let r = run(&src(4, 6), ins.clone());
    assert_eq!(r[0].to_f64_vec(), [0., 0., 21., 11., 5., 25.]);
    let r = run(&src(-1, 0), ins);
    assert_eq!(r[0].to_f64_vec(), [21., 21., 21., 11., 5., 25.]);
    assert_eq!(r[1].shape(), [0]);
    assert_eq!(i64s(&r[2]), [0, 0, 0]);
}

#[test]
fn int32_indices_take_the_offsets_dtype() {
    // int32 indices and offsets, max, no padding: [[7, 7], [3, 5], [1, 5]], every aux int32:
    // offset2bag [0, 0, 1, 1, 2, 2], bag_size [2, 2, 2], max_indices [[4, 4], [1, 1], [0, 0]].
    let src = r#"input "w": f32[5,2]
input "i": i32[6]
input "o": i32[3]
graph @main(%w: f32[5,2] = user "w", %i: i32[6] = user "i", %o: i32[3] = user "o") -> (user, user, user, user) {
  %out: f32[3,2], %o2b: i32[6], %bs: i32[3], %mi: i32[3,2] = aten._embedding_bag_forward_only.default(%w, %i, %o, false, 2, false, None, false, -1)
  output (%out, %o2b, %bs, %mi)
}"#;
    let ins = vec![
        inputs().remove(0),
        t(vec![4i32, 4, 1, 2, 0, 3], &[6]),
        t(vec![0i32, 2, 4], &[3]),
    ];
    let r = run(src, ins);
    assert_eq!(r[0].to_f64_vec(), [7., 7., 3., 5., 1., 5.]);
    for x in &r[1..] {
        assert_eq!(x.dtype(), DType::I32);
    }
    assert_eq!(i64s(&r[1]), [0, 0, 1, 1, 2, 2]);
    assert_eq!(i64s(&r[2]), [2, 2, 2]);
    assert_eq!(i64s(&r[3]), [4, 4, 1, 1, 0, 0]);
}

/// `w = arange(10).reshape(5, 2)`, `indices = [4, 1, 4, 2, 3]`, `offsets = [0, 2, 2, 5]`
/// with `include_last_offset`: bags [4, 1], [] and [4, 2, 3].
fn last_offset_program(call: &str, types: &str) -> (String, Vec<Tensor>) {
    let src = format!(
        r#"input "w": f32[5,2]
input "i": i64[5]
input "o": i64[4]
graph @main(%w: f32[5,2] = user "w", %i: i64[5] = user "i", %o: i64[4] = user "o") -> (user, user, user, user) {{
  {types} = {call}
  output (%out, %o2b, %bs, %mi)
}}"#
    );
    let ins = vec![
        t((0..10).map(|x| x as f32).collect(), &[5, 2]),
        t(vec![4i64, 1, 4, 2, 3], &[5]),
        t(vec![0i64, 2, 2, 5], &[4]),
    ];
    (src, ins)
}

#[test]
fn include_last_offset_and_an_empty_bag() {
    // _embedding_bag_forward_only(..., mode=2, include_last_offset=True, padding_idx=-1):
    // [[8, 9], [0, 0], [8, 9]], offset2bag [0, 0, 2, 2, 2], max_indices [[4, 4], [0, 0], [4, 4]];
    // eager bag_size is [2, 0, 3], the meta function (and so the export) gives it 4 entries:
    // the fourth is 0 here.
    let (src, ins) = last_offset_program(
        "aten._embedding_bag_forward_only.default(%w, %i, %o, false, 2, false, None, true, -1)",
        "%out: f32[3,2], %o2b: i64[5], %bs: i64[4], %mi: i64[3,2]",
    );
    let r = run(&src, ins);
    assert_eq!(r[0].to_f64_vec(), [8., 9., 0., 0., 8., 9.]);
    assert_eq!(i64s(&r[1]), [0, 0, 2, 2, 2]);
    assert_eq!(i64s(&r[2]), [2, 0, 3, 0]);
    assert_eq!(i64s(&r[3]), [4, 4, 0, 0, 4, 4]);
    // _embedding_bag(..., mode=1, include_last_offset=True): [[5, 6], [0, 0], [6, 7]],
    // bag_size [2, 0, 3] (B entries), max_indices [2, 0, 3].
    let (src, ins) = last_offset_program(
        "aten._embedding_bag.default(%w, %i, %o, false, 1, false, None, true, -1)",
        "%out: f32[3,2], %o2b: i64[5], %bs: i64[3], %mi: i64[3]",
    );
    let r = run(&src, ins);
    assert_eq!(r[0].to_f64_vec(), [5., 6., 0., 0., 6., 7.]);
    assert_eq!(i64s(&r[2]), [2, 0, 3]);
    assert_eq!(i64s(&r[3]), [2, 0, 3]);
}

#[test]
fn public_overloads() {
    // embedding_bag.padding_idx(..., mode=0, include_last_offset=True, padding_idx=-1): -1
    // wraps to row 4, so [[2, 3], [0, 0], [10, 12]] with offset2bag [0, 0, 2, 2, 2].
    let (src, ins) = last_offset_program(
        "aten.embedding_bag.padding_idx(%w, %i, %o, false, 0, false, None, true, -1)",
        "%out: f32[3,2], %o2b: i64[5], %bs: i64[4], %mi: i64[3]",
    );
    let r = run(&src, ins);
    assert_eq!(r[0].to_f64_vec(), [2., 3., 0., 0., 10., 12.]);
    assert_eq!(i64s(&r[1]), [0, 0, 2, 2, 2]);
    assert_eq!(i64s(&r[2]), [0, 0, 0, 0]);
    // padding_idx None: no padding row, the fast sum path: [[10, 12], [0, 0], [18, 21]].
    let (src, ins) = last_offset_program(
        "aten.embedding_bag.padding_idx(%w, %i, %o, false, 0, false, None, true, None)",
        "%out: f32[3,2], %o2b: i64[0], %bs: i64[4], %mi: i64[3]",
    );
    let r = run(&src, ins);
    assert_eq!(r[0].to_f64_vec(), [10., 12., 0., 0., 18., 21.]);
    // embedding_bag.default (offsets [0, 2, 2], max): [[8, 9], [0, 0], [8, 9]].
    let src = r#"input "w": f32[5,2]
input "i": i64[5]
input "o": i64[3]
graph @main(%w: f32[5,2] = user "w", %i: i64[5] = user "i", %o: i64[3] = user "o") -> (user, user) {
  %out: f32[3,2], %o2b: i64[5], %bs: i64[3], %mi: i64[3,2] = aten.embedding_bag.default(%w, %i, %o, false, 2)
  output (%out, %mi)
}"#;
    let r = run(
        src,
        vec![
            t((0..10).map(|x| x as f32).collect(), &[5, 2]),
            t(vec![4i64, 1, 4, 2, 3], &[5]),
            t(vec![0i64, 2, 2], &[3]),
        ],
    );
    assert_eq!(r[0].to_f64_vec(), [8., 9., 0., 0., 8., 9.]);
    assert_eq!(i64s(&r[1]), [4, 4, 0, 0, 4, 4]);
}

#[test]
fn bad_calls_are_errors() {
    // per_sample_weights outside sum mode, and an index past the weight's rows.
    let mut ins = inputs();
    ins.push(t(vec![1f32; 6], &[6]));
    let src = r#"input "w": f32[5,2]
input "i": i64[6]
input "o": i64[3]
input "p": f32[6]
graph @main(%w: f32[5,2] = user "w", %i: i64[6] = user "i", %o: i64[3] = user "o", %p: f32[6] = user "p") -> (user) {
  %out: f32[3,2], %o2b: i64[6], %bs: i64[3], %mi: i64[3] = aten._embedding_bag_forward_only.default(%w, %i, %o, false, 1, false, %p, false, -1)
  output (%out)
}"#;
    let p = parse_program(src).unwrap();
    let vals: Vec<Value> = ins.into_iter().map(Value::Tensor).collect();
    let e = Executor::new(&p).run(&vals).unwrap_err().to_string();
    assert!(
        e.contains("per_sample_weights only supported with mode='sum'"),
        "{e}"
    );
    let mut ins = inputs();
    ins[1] = t(vec![4i64, 4, 1, 9, 0, 3], &[6]);
    let src = program(
        "aten._embedding_bag_forward_only.default(%w, %i, %o, false, 0, false, None, false, -1)",
        "%out: f32[3,2], %o2b: i64[0], %bs: i64[3], %mi: i64[3]",
    );
    let p = parse_program(&src).unwrap();
    let vals: Vec<Value> = ins.into_iter().map(Value::Tensor).collect();
    assert!(Executor::new(&p).run(&vals).is_err());
}
