//! Type promotion corner cases (checked against `torch.result_type`) and symbolic broadcasting.

mod infer_common;
use infer_common::*;
use trtfx_ir::aten::{broadcast_shapes, result_type, NoRanges, Operand, ScalarKind};
use trtfx_ir::{Arg, DType, Dim};

fn tensor(d: DType, rank: usize) -> Operand {
    Operand::tensor(d, rank)
}

#[test]
fn result_type_corner_cases() {
    use DType::{Bool, BF16, F16, F32, F64, I32, I64, I8, U8};
    use ScalarKind::{Complex, Float, Int};
    let cases: Vec<(&str, Vec<Operand>)> = vec![
        (
            "int tensor + float scalar",
            vec![tensor(I64, 1), Operand::Scalar(Float)],
        ),
        (
            "bool tensor + int tensor",
            vec![tensor(Bool, 1), tensor(I32, 2)],
        ),
        (
            "bool tensor + int scalar",
            vec![tensor(Bool, 1), Operand::Scalar(Int)],
        ),
        (
            "f16 tensor + f32 0-dim",
            vec![tensor(F16, 2), tensor(F32, 0)],
        ),
        (
            "i32 tensor + i64 0-dim",
            vec![tensor(I32, 1), tensor(I64, 0)],
        ),
        (
            "i32 tensor + f64 0-dim",
            vec![tensor(I32, 1), tensor(F64, 0)],
        ),
        (
            "i32 0-dim + f32 scalar",
            vec![tensor(I32, 0), Operand::Scalar(Float)],
        ),
        ("u8 tensor + i8 tensor", vec![tensor(U8, 1), tensor(I8, 1)]),
        (
            "f16 tensor + complex scalar",
            vec![tensor(F16, 1), Operand::Scalar(Complex)],
        ),
        (
            "f64 0-dim + int scalar",
            vec![tensor(F64, 0), Operand::Scalar(Int)],
        ),
        ("bf16 + f16", vec![tensor(BF16, 1), tensor(F16, 1)]),
        (
            "int scalar + float scalar",
            vec![Operand::Scalar(Int), Operand::Scalar(Float)],
        ),
        (
            "bool 0-dim + bool tensor",
            vec![tensor(Bool, 0), tensor(Bool, 3)],
        ),
    ];
    let mut out = String::new();
    for (name, ops) in cases {
        let r = result_type(&ops)
            .map(|d| d.to_string())
            .unwrap_or_else(|e| e);
        out.push_str(&format!("{name:32} -> {r}\n"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn elementwise_op_dtypes() {
    let cases = [
        ("aten.add.Tensor", vec!["i64[3]"], vec![v(0), f(1.5)]),
        (
            "aten.add.Tensor",
            vec!["bool[3]", "i32[3]"],
            vec![v(0), v(1)],
        ),
        (
            "aten.add.Tensor",
            vec!["bool[3]", "bool[3]"],
            vec![v(0), v(1)],
        ),
        (
            "aten.mul.Tensor",
            vec!["f16[2,3]", "f32[]"],
            vec![v(0), v(1)],
        ),
        ("aten.add.Tensor", vec!["i32[3]", "i64[]"], vec![v(0), v(1)]),
        (
            "aten.floor_divide.default",
            vec!["i64[3]", "i64[3]"],
            vec![v(0), v(1)],
        ),
        (
            "aten.div.Tensor_mode",
            vec!["i64[3]", "i64[3]"],
            vec![v(0), v(1), Arg::Str("floor".into())],
        ),
        (
            "aten.div.Tensor",
            vec!["i64[3]", "i64[3]"],
            vec![v(0), v(1)],
        ),
        ("aten.div.Scalar", vec!["i32[3]"], vec![v(0), Arg::Int(2)]),
        (
            "aten.remainder.Scalar",
            vec!["i32[3]"],
            vec![v(0), Arg::Int(2)],
        ),
        ("aten.eq.Tensor", vec!["f32[3]", "f32[3]"], vec![v(0), v(1)]),
        ("aten.lt.Scalar", vec!["i64[3]"], vec![v(0), f(0.5)]),
        ("aten.sigmoid.default", vec!["i64[3]"], vec![v(0)]),
        ("aten.abs.default", vec!["c64[3]"], vec![v(0)]),
        ("aten.square.default", vec!["bool[3]"], vec![v(0)]),
        ("aten.square.default", vec!["u8[3]"], vec![v(0)]),
        ("aten.pow.Tensor_Scalar", vec!["i64[3]"], vec![v(0), f(0.5)]),
        ("aten.pow.Scalar", vec!["i64[3]"], vec![Arg::Int(2), v(0)]),
        ("aten.rsub.Scalar", vec!["i64[3]"], vec![v(0), f(1.5)]),
        (
            "aten.where.self",
            vec!["bool[3]", "f16[3]", "f32[]"],
            vec![v(0), v(1), v(2)],
        ),
        ("aten.clamp.default", vec!["i64[3]"], vec![v(0), f(0.5)]),
        (
            "aten.bitwise_and.Tensor",
            vec!["bool[3]", "u8[3]"],
            vec![v(0), v(1)],
        ),
        (
            "aten.logical_and.default",
            vec!["f32[3]", "i32[3]"],
            vec![v(0), v(1)],
        ),
        (
            "aten.add.Tensor",
            vec!["f32[s0,1,3]", "f32[4,3]"],
            vec![v(0), v(1)],
        ),
    ];
    let mut out = String::new();
    for (op, inputs, args) in cases {
        out.push_str(&format!(
            "{op}({}) -> {}\n",
            inputs.join(", "),
            show(op, &inputs, args, vec![])
        ));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn symbolic_broadcasting() {
    let s = |v: &[&str]| v.iter().map(|x| dim(x)).collect::<Vec<Dim>>();
    let b = |a: &[&str], c: &[&str]| {
        broadcast_shapes(&[&s(a), &s(c)], &NoRanges).map(|sh| {
            sh.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    assert_eq!(b(&["s0", "1", "3"], &["4", "3"]).unwrap(), "s0,4,3");
    assert_eq!(b(&["s0", "1"], &["1", "s1"]).unwrap(), "s0,s1");
    assert_eq!(b(&["s0"], &["s0"]).unwrap(), "s0");
    assert_eq!(b(&["s0"], &["5"]).unwrap(), "5");
    assert!(b(&["s0"], &["s1"])
        .unwrap_err()
        .contains("neither is provably 1"));
    assert!(b(&["2"], &["3"]).is_err());

    // With ranges: a symbol fixed to 1 broadcasts.
    struct R;
    impl trtfx_ir::aten::SymRanges for R {
        fn range(&self, s: &str) -> (Option<i64>, Option<i64>) {
            if s == "one" {
                (Some(1), Some(1))
            } else {
                (Some(2), None)
            }
        }
    }
    let r = broadcast_shapes(&[&s(&["one", "3"]), &s(&["s1", "3"])], &R).unwrap();
    assert_eq!(r[0], Dim::sym("s1"));
}
