//! Converters onto TensorRT's scatter layer (`aten.scatter.src`, `aten.scatter.value`,
//! `aten.index_put`): each case is converted as a whole graph, emulated, and compared with the
//! executor on the same inputs (exact: scatter moves values, it computes nothing). Index
//! values are distinct per case, since repeated targets leave the written value unspecified.

use trtfx_backend_trt::convert::ConverterRegistry;
use trtfx_backend_trt::emulator::emulate;
use trtfx_backend_trt::engine::convert_to_engine;
use trtfx_backend_trt::BuildSettings;
use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::{DType, Tensor};
use trtfx_ir::parse_program;

/// A program with user inputs `(name, type)` and one node `body` producing `%r`.
fn program(inputs: &[(&str, &str)], body: &str) -> trtfx_ir::Program {
    let mut s = String::from("program {\n");
    if inputs.iter().any(|(_, t)| t.contains("s0")) {
        s += "  sym s0: size in 1..=8\n";
    }
    for (n, t) in inputs {
        let (d, rest) = t.split_once('[').unwrap();
        let dims: Vec<String> = rest
            .trim_end_matches(']')
            .split(',')
            .filter(|x| !x.is_empty())
            .map(|x| match x.parse::<i64>() {
                Ok(_) => x.to_string(),
                Err(_) => format!("{x}(min=1, opt=3, max=8)"),
            })
            .collect();
        s += &format!("  input \"{n}\": {d}[{}]\n", dims.join(", "));
    }
    let params: Vec<String> = inputs
        .iter()
        .map(|(n, t)| format!("%{n}: {t} = user \"{n}\""))
        .collect();
    s += &format!(
        "  graph @main({}) -> (user) {{\n    {body}\n    output (%r)\n  }}\n}}\n",
        params.join(", ")
    );
    parse_program(&s).unwrap_or_else(|e| panic!("{e}\n{s}"))
}

fn floats(n: usize, seed: u64) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as u64 * 7919 + seed * 104_729) % 1000) as f32 / 100.0 - 5.0)
        .collect()
}

/// Runs both sides and asserts equal outputs; returns the converted network's text.
fn check(inputs: &[(&str, &str)], values: Vec<Tensor>, body: &str) -> String {
    let p = program(inputs, body);
    let want = Executor::new(&p)
        .run(
            &values
                .iter()
                .cloned()
                .map(Value::Tensor)
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let engine = convert_to_engine(
        &p,
        &ConverterRegistry::standard(),
        &BuildSettings::default(),
    )
    .unwrap_or_else(|e| panic!("{body}: {e}"));
    let named: Vec<(&str, Tensor)> = inputs.iter().map(|(n, _)| *n).zip(values).collect();
    let got = emulate(&engine.network, &named).unwrap();
    let w = want[0].as_tensor().unwrap();
    let g = &got[0].1;
    assert_eq!(g.shape(), w.shape(), "{body}");
    assert_eq!(g.dtype(), w.dtype(), "{body}");
    assert_eq!(g.to_f64_vec(), w.to_f64_vec(), "{body}");
    engine.network.to_string()
}

/// Index rows that are permutations (no duplicate targets, so the result is deterministic).
fn perm_index(rows: usize, cols: usize, extent: usize, along_rows: bool) -> Tensor {
    let v: Vec<i64> = (0..rows * cols)
        .map(|k| {
            let (r, c) = (k / cols, k % cols);
            let j = if along_rows { r } else { c };
            let other = if along_rows { c } else { r };
            ((j * 3 + other) % extent) as i64
        })
        .collect();
    Tensor::from_vec(v, vec![rows, cols]).unwrap()
}

#[test]
fn scatter_src_along_each_dim() {
    // dim 1: each row of the index writes distinct columns (j*3 + r mod 5 is a permutation).
    let net = check(
        &[("x", "f32[3,5]"), ("i", "i64[3,5]"), ("s", "f32[3,5]")],
        vec![
            Tensor::from_vec(floats(15, 1), vec![3, 5]).unwrap(),
            perm_index(3, 5, 5, false),
            Tensor::from_vec(floats(15, 2), vec![3, 5]).unwrap(),
        ],
        "%r: f32[3,5] = aten.scatter.src(%x, 1, %i, %s)",
    );
    assert!(
        net.contains("scatter(") && net.contains("mode=Element, axis=1"),
        "{net}"
    );
    // dim 0 with a smaller index than src: only src's leading corner is read.
    check(
        &[("x", "f32[4,3]"), ("i", "i64[2,3]"), ("s", "f32[3,4]")],
        vec![
            Tensor::from_vec(floats(12, 3), vec![4, 3]).unwrap(),
            Tensor::from_vec(vec![0i64, 1, 2, 3, 2, 1], vec![2, 3]).unwrap(),
            Tensor::from_vec(floats(12, 4), vec![3, 4]).unwrap(),
        ],
        "%r: f32[4,3] = aten.scatter.src(%x, 0, %i, %s)",
    );
    // Negative dim, integer data.
    check(
        &[("x", "i32[2,4]"), ("i", "i64[2,2]"), ("s", "i32[2,2]")],
        vec![
            Tensor::from_vec(vec![1i32, 2, 3, 4, 5, 6, 7, 8], vec![2, 4]).unwrap(),
            Tensor::from_vec(vec![3i64, 0, 1, 2], vec![2, 2]).unwrap(),
            Tensor::from_vec(vec![-1i32, -2, -3, -4], vec![2, 2]).unwrap(),
        ],
        "%r: i32[2,4] = aten.scatter.src(%x, -1, %i, %s)",
    );
}

#[test]
fn scatter_value() {
    for (ty, dt) in [("f32", DType::F32), ("i64", DType::I64)] {
        let x = Tensor::from_vec(floats(12, 5), vec![3, 4])
            .unwrap()
            .to_dtype(dt);
        check(
            &[("x", &format!("{ty}[3,4]")), ("i", "i64[3,2]")],
            vec![
                x,
                Tensor::from_vec(vec![0i64, 3, 1, 2, 2, 0], vec![3, 2]).unwrap(),
            ],
            &format!("%r: {ty}[3,4] = aten.scatter.value(%x, 1, %i, 2.5)"),
        );
    }
}

#[test]
fn dynamic_index_shapes_are_refused() {
    let p = program(
        &[("x", "f32[s0,4]"), ("i", "i64[s0,4]"), ("s", "f32[s0,4]")],
        "%r: f32[s0,4] = aten.scatter.src(%x, 1, %i, %s)",
    );
    let e = convert_to_engine(
        &p,
        &ConverterRegistry::standard(),
        &BuildSettings::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("must be static"), "{e}");
}

fn ti(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

fn tf(n: usize, seed: u64, shape: &[usize]) -> Tensor {
    Tensor::from_vec(floats(n, seed), shape.to_vec()).unwrap()
}

/// `index_put` over its parameter space: one index (negative entries), values broadcast from
/// a row and from a scalar, two adjacent indices in front, adjacent indices after an
/// unindexed dim (the selection stays in place), non-adjacent indices (the selection moves to
/// the front), broadcasting index tensors, integer data and a dynamic leading dim.
#[test]
fn index_put_over_its_parameter_space() {
    let net = check(
        &[("x", "f32[5,3]"), ("i", "i64[3]"), ("v", "f32[3,3]")],
        vec![tf(15, 1, &[5, 3]), ti(&[4, 0, -2], &[3]), tf(9, 2, &[3, 3])],
        "%r: f32[5,3] = aten.index_put.default(%x, [%i], %v)",
    );
    assert!(net.contains("mode=Nd"), "{net}");
    check(
        &[("x", "f32[5,3]"), ("i", "i64[2]"), ("v", "f32[3]")],
        vec![tf(15, 3, &[5, 3]), ti(&[1, 3], &[2]), tf(3, 4, &[3])],
        "%r: f32[5,3] = aten.index_put.default(%x, [%i], %v, false)",
    );
    check(
        &[("x", "f32[4,3]"), ("i", "i64[2]"), ("v", "f32[]")],
        vec![
            tf(12, 5, &[4, 3]),
            ti(&[2, 0], &[2]),
            Tensor::from_vec(vec![7.5f32], vec![]).unwrap(),
        ],
        "%r: f32[4,3] = aten.index_put.default(%x, [%i], %v)",
    );
    check(
        &[
            ("x", "f32[4,5,2]"),
            ("i", "i64[3]"),
            ("j", "i64[3]"),
            ("v", "f32[3,2]"),
        ],
        vec![
            tf(40, 6, &[4, 5, 2]),
            ti(&[0, 3, 3], &[3]),
            ti(&[4, 4, -5], &[3]),
            tf(6, 7, &[3, 2]),
        ],
        "%r: f32[4,5,2] = aten.index_put.default(%x, [%i, %j], %v)",
    );
    check(
        &[
            ("x", "f32[2,4,5]"),
            ("i", "i64[3]"),
            ("j", "i64[3]"),
            ("v", "f32[2,3]"),
        ],
        vec![
            tf(40, 8, &[2, 4, 5]),
            ti(&[1, 2, 3], &[3]),
            ti(&[0, 4, 2], &[3]),
            tf(6, 9, &[2, 3]),
        ],
        "%r: f32[2,4,5] = aten.index_put.default(%x, [None, %i, %j], %v)",
    );
    check(
        &[
            ("x", "f32[4,2,5]"),
            ("i", "i64[3]"),
            ("j", "i64[3]"),
            ("v", "f32[3,2]"),
        ],
        vec![
            tf(40, 10, &[4, 2, 5]),
            ti(&[3, 1, 0], &[3]),
            ti(&[2, 2, 4], &[3]),
            tf(6, 11, &[3, 2]),
        ],
        "%r: f32[4,2,5] = aten.index_put.default(%x, [%i, None, %j], %v)",
    );
    check(
        &[
            ("x", "f32[4,5]"),
            ("i", "i64[2,1]"),
            ("j", "i64[3]"),
            ("v", "f32[2,3]"),
        ],
        vec![
            tf(20, 12, &[4, 5]),
            ti(&[3, 0], &[2, 1]),
            ti(&[1, 4, 2], &[3]),
            tf(6, 13, &[2, 3]),
        ],
        "%r: f32[4,5] = aten.index_put.default(%x, [%i, %j], %v)",
    );
    check(
        &[("x", "i64[4,3]"), ("i", "i32[2]"), ("v", "i64[2,3]")],
        vec![
            ti(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], &[4, 3]),
            Tensor::from_vec(vec![-1i32, 1], vec![2]).unwrap(),
            ti(&[-1, -2, -3, -4, -5, -6], &[2, 3]),
        ],
        "%r: i64[4,3] = aten.index_put.default(%x, [%i], %v)",
    );
    check(
        &[("x", "f32[s0,3]"), ("i", "i64[2]"), ("v", "f32[2,3]")],
        vec![tf(15, 14, &[5, 3]), ti(&[4, -5], &[2]), tf(6, 15, &[2, 3])],
        "%r: f32[s0,3] = aten.index_put.default(%x, [%i], %v)",
    );
    // The overload whose index list holds no `None`.
    check(
        &[
            ("x", "f32[3,4]"),
            ("i", "i64[2]"),
            ("j", "i64[2]"),
            ("v", "f32[2]"),
        ],
        vec![
            tf(12, 16, &[3, 4]),
            ti(&[2, 0], &[2]),
            ti(&[1, 3], &[2]),
            tf(2, 17, &[2]),
        ],
        "%r: f32[3,4] = aten.index_put.hacked_twin(%x, [%i, %j], %v)",
    );
}

/// Whole-number floats, so sums in any order are exact.
fn whole(n: usize, seed: u64, shape: &[usize]) -> Tensor {
    let v: Vec<f32> = floats(n, seed).iter().map(|x| x.round()).collect();
    Tensor::from_vec(v, shape.to_vec()).unwrap()
}

/// `index_put(accumulate=True)` sums the updates of repeated indices (a one-hot sum, not the
/// overwriting scatter): one index with repeats and negatives, a broadcast row, two adjacent
/// indices, indices after an unindexed dim, a scalar value, and integer data.
#[test]
fn index_put_accumulate_sums_repeated_indices() {
    let net = check(
        &[("x", "f32[4,3]"), ("i", "i64[5]"), ("v", "f32[5,3]")],
        vec![
            whole(12, 1, &[4, 3]),
            ti(&[1, 3, 1, -3, 0], &[5]),
            whole(15, 2, &[5, 3]),
        ],
        "%r: f32[4,3] = aten.index_put.default(%x, [%i], %v, true)",
    );
    assert!(!net.contains("mode=Nd"), "no scatter for a sum: {net}");
    check(
        &[("x", "f32[4,3]"), ("i", "i64[3]"), ("v", "f32[3]")],
        vec![
            whole(12, 3, &[4, 3]),
            ti(&[2, 2, 2], &[3]),
            whole(3, 4, &[3]),
        ],
        "%r: f32[4,3] = aten.index_put.default(%x, [%i], %v, true)",
    );
    check(
        &[
            ("x", "f32[3,4,2]"),
            ("i", "i64[4]"),
            ("j", "i64[4]"),
            ("v", "f32[4,2]"),
        ],
        vec![
            whole(24, 5, &[3, 4, 2]),
            ti(&[0, 2, 0, -1], &[4]),
            ti(&[3, 1, 3, 1], &[4]),
            whole(8, 6, &[4, 2]),
        ],
        "%r: f32[3,4,2] = aten.index_put.default(%x, [%i, %j], %v, true)",
    );
    check(
        &[("x", "f32[2,5]"), ("i", "i64[3]"), ("v", "f32[]")],
        vec![
            whole(10, 7, &[2, 5]),
            ti(&[4, 4, 0], &[3]),
            Tensor::from_vec(vec![2.0f32], vec![]).unwrap(),
        ],
        "%r: f32[2,5] = aten.index_put.default(%x, [None, %i], %v, true)",
    );
    check(
        &[("x", "i64[4,2]"), ("i", "i64[3]"), ("v", "i64[3,2]")],
        vec![
            ti(&[1, 2, 3, 4, 5, 6, 7, 8], &[4, 2]),
            ti(&[3, 3, 0], &[3]),
            ti(&[10, 20, 30, 40, 50, 60], &[3, 2]),
        ],
        "%r: i64[4,2] = aten.index_put.default(%x, [%i], %v, true)",
    );
}

/// What the one-hot sum cannot take is refused with the reason: a dynamic shape, bool data.
#[test]
fn index_put_accumulate_refusals_name_the_reason() {
    let refusal = |inputs: &[(&str, &str)], body: &str| {
        let p = program(inputs, body);
        let g = p.main_graph();
        let reg = ConverterRegistry::standard();
        g.nodes()
            .filter(|&n| {
                g.node(n)
                    .op
                    .target()
                    .is_some_and(|t| t == "aten.index_put.default")
            })
            .find_map(|n| reg.check(g, n).err())
            .unwrap_or_else(|| panic!("must be refused: {body}"))
    };
    let e = refusal(
        &[("x", "f32[s0,3]"), ("i", "i64[2]"), ("v", "f32[2,3]")],
        "%r: f32[s0,3] = aten.index_put.default(%x, [%i], %v, true)",
    );
    assert!(e.contains("static shapes"), "{e}");
    let e = refusal(
        &[("x", "bool[4]"), ("i", "i64[2]"), ("v", "bool[2]")],
        "%r: bool[4] = aten.index_put.default(%x, [%i], %v, true)",
    );
    assert!(e.contains("bool"), "{e}");
}
