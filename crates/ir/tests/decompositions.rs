//! Op-table decompositions: inference through them and the IR they expand to. The expected
//! types are PyTorch's (checked by hand against `torch.diff`, `torch.atleast_3d`, ...).

mod infer_common;
use infer_common::*;
use trtfx_ir::ops::decomp::decompose_graph;
use trtfx_ir::{aten, parse_program, print_program, Arg};

/// `(op, input types, args, kwargs, expected result type)`.
type Case = (
    &'static str,
    Vec<&'static str>,
    Vec<Arg>,
    Vec<(&'static str, Arg)>,
    &'static str,
);

#[test]
fn inference_through_decompositions() {
    let cases: Vec<Case> = vec![
        // torch.nn.functional.conv2d(x, w, padding="same") keeps the spatial size, also for an
        // even kernel (the odd padding element goes at the end).
        (
            "aten.conv2d.padding",
            vec!["f32[1,2,5,5]", "f32[3,2,4,3]"],
            vec![v(0), v(1)],
            vec![("padding", Arg::Str("same".into()))],
            "f32[1,3,5,5]",
        ),
        (
            "aten.conv1d.padding",
            vec!["f32[2,4,9]", "f32[6,2,3]", "f32[6]"],
            vec![v(0), v(1), v(2)],
            vec![
                ("padding", Arg::Str("valid".into())),
                ("dilation", Arg::List(vec![Arg::Int(2)])),
                ("groups", Arg::Int(2)),
            ],
            "f32[2,6,5]",
        ),
        // MaxViT's attention einsum (torch.einsum's result shape: batch labels, then the
        // output order), an implicit output (labels used once, sorted) and `...` dims.
        (
            "aten.einsum.default",
            vec!["f32[1,2,2,3,4]", "f32[1,2,2,5,4]"],
            vec![
                Arg::Str("B G H I D, B G H J D -> B G H I J".into()),
                Arg::List(vec![v(0), v(1)]),
            ],
            vec![],
            "f32[1,2,2,3,5]",
        ),
        (
            "aten.einsum.default",
            vec!["f32[3,2]", "f32[4,3]"],
            vec![Arg::Str("ji,kj".into()), Arg::List(vec![v(0), v(1)])],
            vec![],
            "f32[2,4]",
        ),
        (
            "aten.einsum.default",
            vec!["f32[s0,2,3,4]", "f32[4,5]"],
            vec![
                Arg::Str("...ij,jk->...ik".into()),
                Arg::List(vec![v(0), v(1)]),
            ],
            vec![],
            "f32[s0,2,3,5]",
        ),
        (
            "aten.__and__.Tensor",
            vec!["bool[2,3]", "bool[3]"],
            vec![v(0), v(1)],
            vec![],
            "bool[2,3]",
        ),
        (
            "aten.__or__.Scalar",
            vec!["i64[4]"],
            vec![v(0), Arg::Int(3)],
            vec![],
            "i64[4]",
        ),
        (
            "aten.diff.default",
            vec!["f32[5,4]"],
            vec![v(0)],
            vec![],
            "f32[5,3]",
        ),
        (
            "aten.diff.default",
            vec!["f32[5,4]"],
            vec![v(0), Arg::Int(2), Arg::Int(0)],
            vec![],
            "f32[3,4]",
        ),
        (
            "aten.diff.default",
            vec!["i64[s0]", "i64[1]"],
            vec![v(0)],
            vec![("prepend", v(1))],
            "i64[s0]",
        ),
        (
            "aten.diff.default",
            vec!["bool[6]"],
            vec![v(0)],
            vec![],
            "bool[5]",
        ),
        (
            "aten.addcmul.default",
            vec!["f32[3]", "f32[2,1]", "f32[3]"],
            vec![v(0), v(1), v(2)],
            vec![("value", f(0.5))],
            "f32[2,3]",
        ),
        (
            "aten.addcdiv.default",
            vec!["f32[3]", "f32[3]", "f32[3]"],
            vec![v(0), v(1), v(2)],
            vec![],
            "f32[3]",
        ),
        (
            "aten.logaddexp.default",
            vec!["f32[2,3]", "f32[3]"],
            vec![v(0), v(1)],
            vec![],
            "f32[2,3]",
        ),
        (
            "aten.log_sigmoid.default",
            vec!["f32[s0,3]"],
            vec![v(0)],
            vec![],
            "f32[s0,3]",
        ),
        (
            "aten.mT.default",
            vec!["f32[s0,2,5]"],
            vec![v(0)],
            vec![],
            "f32[s0,5,2]",
        ),
        (
            "aten.reshape_as.default",
            vec!["f32[s0,6]", "f32[s0,2,3]"],
            vec![v(0), v(1)],
            vec![],
            "f32[s0,2,3]",
        ),
        (
            "aten.atleast_3d.default",
            vec!["f32[4]"],
            vec![v(0)],
            vec![],
            "f32[1,4,1]",
        ),
        (
            "aten.atleast_2d.default",
            vec!["f32[]"],
            vec![v(0)],
            vec![],
            "f32[1,1]",
        ),
        (
            "aten.atleast_1d.default",
            vec!["f32[2,2]"],
            vec![v(0)],
            vec![],
            "f32[2,2]",
        ),
        // torch.meshgrid(a[3], b[2], indexing="xy") gives two [2, 3] grids; "ij" [3, 2].
        (
            "aten.meshgrid.indexing",
            vec!["f32[3]", "i64[2]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![("indexing", Arg::Str("xy".into()))],
            "(f32[2,3], i64[2,3])",
        ),
        (
            "aten.meshgrid.indexing",
            vec!["f32[3]", "f32[]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![("indexing", Arg::Str("ij".into()))],
            "(f32[3,1], f32[3,1])",
        ),
        (
            "aten.broadcast_tensors.default",
            vec!["f32[2,1]", "i32[3]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![],
            "(f32[2,3], i32[2,3])",
        ),
        // block_diag promotes: an i64 [2, 2] block and a f32 [3] row make f32[3, 5].
        (
            "aten.block_diag.default",
            vec!["i64[2,2]", "f32[3]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![],
            "f32[3,5]",
        ),
        (
            "aten.cartesian_prod.default",
            vec!["u8[3]", "u8[4]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![],
            "u8[12,2]",
        ),
        // _chunk_cat pads dim 1 of [2, 5] to 6 and of [2, 3] to 3 for 3 chunks: [2, 3, 2 + 1].
        (
            "aten._chunk_cat.default",
            vec!["f32[2,5]", "f32[2,3]"],
            vec![Arg::List(vec![v(0), v(1)]), Arg::Int(1), Arg::Int(3)],
            vec![],
            "f32[2,3,3]",
        ),
        (
            "aten.column_stack.default",
            vec!["f32[3]", "f32[3,2]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![],
            "f32[3,3]",
        ),
        (
            "aten.dstack.default",
            vec!["i8[2]", "i8[2]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![],
            "i8[1,2,2]",
        ),
        (
            "aten.hsplit.int",
            vec!["f32[2,6]"],
            vec![v(0), Arg::Int(3)],
            vec![],
            "(f32[2,2], f32[2,2], f32[2,2])",
        ),
        (
            "aten.diag.default",
            vec!["bool[3]"],
            vec![v(0), Arg::Int(-1)],
            vec![],
            "bool[4,4]",
        ),
        (
            "aten.diag.default",
            vec!["f32[3,5]"],
            vec![v(0), Arg::Int(1)],
            vec![],
            "f32[3]",
        ),
        (
            "aten.diag_embed.default",
            vec!["f32[2,3]"],
            vec![v(0), Arg::Int(1), Arg::Int(0), Arg::Int(2)],
            vec![],
            "f32[4,2,4]",
        ),
        (
            "aten.diagflat.default",
            vec!["i32[2,2]"],
            vec![v(0)],
            vec![],
            "i32[4,4]",
        ),
        (
            "aten.kron.default",
            vec!["f32[2,3]", "f32[4]"],
            vec![v(0), v(1)],
            vec![],
            "f32[2,12]",
        ),
        (
            "aten.inner.default",
            vec!["f32[2,3]", "f32[4,3]"],
            vec![v(0), v(1)],
            vec![],
            "f32[2,4]",
        ),
        (
            "aten.pairwise_distance.default",
            vec!["f32[4,5]", "f32[5]"],
            vec![v(0), v(1)],
            vec![],
            "f32[4]",
        ),
        (
            "aten.cosine_embedding_loss.default",
            vec!["f32[4,5]", "f32[4,5]", "f32[4]"],
            vec![v(0), v(1), v(2)],
            vec![],
            "f32[]",
        ),
        (
            "aten.aminmax.default",
            vec!["i16[3,4]"],
            vec![v(0)],
            vec![("dim", Arg::Int(1))],
            "(i16[3], i16[3])",
        ),
        // Integer angles and degree conversions are float.
        (
            "aten.angle.default",
            vec!["i32[3]"],
            vec![v(0)],
            vec![],
            "f32[3]",
        ),
        (
            "aten.deg2rad.default",
            vec!["i64[3]"],
            vec![v(0)],
            vec![],
            "f32[3]",
        ),
        (
            "aten.count_nonzero.default",
            vec!["u8[3,4]"],
            vec![v(0)],
            vec![("dim", Arg::Int(0))],
            "i64[4]",
        ),
        (
            "aten.isclose.default",
            vec!["i32[3]", "i32[3]"],
            vec![v(0), v(1)],
            vec![],
            "bool[3]",
        ),
        (
            "aten.mvlgamma.default",
            vec!["f32[3]"],
            vec![v(0), Arg::Int(3)],
            vec![],
            "f32[3]",
        ),
        (
            "aten.linalg_cross.default",
            vec!["f32[2,3]", "f32[3]"],
            vec![v(0), v(1)],
            vec![],
            "f32[2,3]",
        ),
        // ldexp(bool, int) is a float: ints promote to the default float dtype.
        (
            "aten.ldexp.Tensor",
            vec!["bool[2]", "i64[2]"],
            vec![v(0), v(1)],
            vec![],
            "f32[2]",
        ),
        (
            "aten.float_power.Tensor_Scalar",
            vec!["i32[2]"],
            vec![v(0), Arg::Int(2)],
            vec![],
            "f64[2]",
        ),
        // torch.bucketize(x, boundaries) has x's shape; out_int32 gives int32.
        (
            "aten.bucketize.Tensor",
            vec!["i32[2,3]", "i32[4]"],
            vec![v(0), v(1)],
            vec![("right", Arg::Bool(true))],
            "i64[2,3]",
        ),
        (
            "aten.bucketize.Tensor",
            vec!["f32[]", "f32[5]"],
            vec![v(0), v(1)],
            vec![("out_int32", Arg::Bool(true))],
            "i32[]",
        ),
        (
            "aten.bucketize.Scalar",
            vec!["f32[5]"],
            vec![f(0.5), v(0)],
            vec![],
            "i64[]",
        ),
    ];
    let mut failures = Vec::new();
    for (op, inputs, args, kwargs, want) in cases {
        let got = show(op, &inputs, args, kwargs);
        if got != want {
            failures.push(format!(
                "{op}({}): got {got}, want {want}",
                inputs.join(", ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    let got = show(
        "aten.diff.default",
        &["f32[5]"],
        vec![v(0), Arg::Int(1), Arg::Int(3)],
        vec![],
    );
    assert_eq!(
        got,
        "error: decomposing `aten.diff.default`: dim 3 is out of range for rank 1"
    );
    let got = show("aten.mT.default", &["f32[5]"], vec![v(0)], vec![]);
    assert!(
        got.starts_with("error: ") && got.contains("rank 2"),
        "{got}"
    );
}

#[test]
fn diff_expands_to_slices_and_sub() {
    let src = "program {
  graph @main(%x: f32[5, 4]) {
    %d: f32[3, 4] = aten.diff.default(%x, 2, 0)
    output (%d)
  }
}
";
    let mut p = parse_program(src).expect("parses");
    let main = p.main;
    let reg = aten::registry();
    let g = p.graphs.get_mut(main).expect("main graph");
    let n = decompose_graph(g, reg, &|_| true, 8).expect("decomposes");
    assert_eq!(n, 1);
    insta::assert_snapshot!(print_program(&p));
}
