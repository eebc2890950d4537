//! Inference of the export-dialect composites and data ops: through their decompositions
//! (losses, norms, `gradient`, `im2col`) or their own rules (`resize_`, histograms,
//! `segment_reduce`, `frexp`, `repeat_interleave`). Expected shapes are PyTorch 2.11's (the
//! types `torch.export` records for the same calls).

mod infer_common;
use infer_common::*;
use trtfx_ir::Arg;

fn check(op: &str, inputs: &[&str], args: Vec<Arg>, kwargs: Vec<(&str, Arg)>, want: &str) {
    assert_eq!(show(op, inputs, args, kwargs), want, "{op}");
}

#[test]
fn losses_infer_through_their_decompositions() {
    let i = Arg::Int;
    check(
        "aten.nll_loss_nd.default",
        &["f32[2,3,4]", "i64[2,4]"],
        vec![v(0), v(1), Arg::None, i(0)],
        vec![],
        "f32[2,4]",
    );
    check(
        "aten.nll_loss_nd.default",
        &["f32[3]", "i64[]"],
        vec![v(0), v(1)],
        vec![],
        "f32[]",
    );
    check(
        "aten.huber_loss.default",
        &["f32[5]", "f32[5]"],
        vec![v(0), v(1), i(0), f(2.0)],
        vec![],
        "f32[5]",
    );
    check(
        "aten.multi_margin_loss.default",
        &["f32[4]", "i64[]"],
        vec![v(0), v(1), i(1), i(1), Arg::None, i(0)],
        vec![],
        "f32[]",
    );
    check(
        "aten.multilabel_margin_loss.default",
        &["f32[2,4]", "i64[2,4]"],
        vec![v(0), v(1), i(0)],
        vec![],
        "f32[2]",
    );
    // A class-index target of the wrong rank is an error, not a panic.
    assert!(show(
        "aten.nll_loss_nd.default",
        &["f32[2,3]", "i64[2,3]"],
        vec![v(0), v(1)],
        vec![]
    )
    .starts_with("error"));
}

#[test]
fn cosine_similarity_of_scalars_is_a_scalar() {
    check(
        "aten.cosine_similarity.default",
        &["f32[]", "f32[]"],
        vec![v(0), v(1), Arg::Int(0)],
        vec![],
        "f32[]",
    );
}

#[test]
fn data_op_rules() {
    let i = Arg::Int;
    check(
        "aten.resize_.default",
        &["f32[]"],
        vec![v(0), ints(&[1, 1, 1])],
        vec![],
        "f32[1,1,1]",
    );
    check(
        "aten.resize_as.default",
        &["i8[4]", "f32[2,2]"],
        vec![v(0), v(1)],
        vec![],
        "i8[2,2]",
    );
    check(
        "aten.histc.default",
        &["f32[7]"],
        vec![v(0)],
        vec![],
        "f32[100]",
    );
    check(
        "aten.histogram.bin_ct",
        &["f32[7]"],
        vec![v(0), i(4)],
        vec![],
        "(f32[4], f32[5])",
    );
    check(
        "aten.histogramdd.default",
        &["f32[5,2]"],
        vec![v(0), ints(&[2, 3])],
        vec![],
        "(f32[2,3], f32[3], f32[4])",
    );
    check(
        "aten.segment_reduce.default",
        &["f32[5,3]", "i64[6]"],
        vec![v(0), Arg::Str("sum".into())],
        vec![("offsets", v(1))],
        "f32[5,3]",
    );
    check(
        "aten.frexp.Tensor",
        &["f32[2]"],
        vec![v(0)],
        vec![],
        "(f32[2], i32[2])",
    );
    check(
        "aten.repeat_interleave.self_Tensor",
        &["f32[4,1]", "i64[4]"],
        vec![v(0), v(1), i(0)],
        vec![("output_size", i(6))],
        "f32[6,1]",
    );
    check(
        "aten.gradient.scalarint",
        &["f32[3,4]"],
        vec![v(0)],
        vec![],
        "(f32[3,4], f32[3,4])",
    );
    check(
        "aten.im2col.default",
        &["f32[2,3,5,5]"],
        vec![
            v(0),
            ints(&[2, 2]),
            ints(&[1, 1]),
            ints(&[0, 0]),
            ints(&[1, 1]),
        ],
        vec![],
        "f32[2,12,16]",
    );
}
