//! Per-operator inference, snapshot-tested. The expected shapes were checked against PyTorch's
//! meta tensors (`torch.empty(..., device="meta")`) for the static cases.

mod infer_common;
use infer_common::*;
use trtfx_ir::{Arg, DType};

type Case = (
    &'static str,
    Vec<&'static str>,
    Vec<Arg>,
    Vec<(&'static str, Arg)>,
);

fn run(cases: Vec<Case>) -> String {
    let mut out = String::new();
    for (op, inputs, args, kwargs) in cases {
        out.push_str(&format!(
            "{op}({}) -> {}\n",
            inputs.join(", "),
            show(op, &inputs, args, kwargs)
        ));
    }
    out
}

#[test]
fn nn_ops() {
    let none = Arg::None;
    let cases: Vec<Case> = vec![
        (
            "aten.convolution.default",
            vec!["f32[s0,3,32,32]", "f32[8,3,3,3]"],
            vec![
                v(0),
                v(1),
                none.clone(),
                ints(&[2, 2]),
                ints(&[1, 1]),
                ints(&[1, 1]),
                Arg::Bool(false),
                ints(&[0, 0]),
                Arg::Int(1),
            ],
            vec![],
        ),
        (
            "aten.convolution.default",
            vec!["f32[1,8,7,7]", "f32[8,4,3,3]"],
            vec![
                v(0),
                v(1),
                none.clone(),
                ints(&[2, 2]),
                ints(&[1, 1]),
                ints(&[1, 1]),
                Arg::Bool(true),
                ints(&[1, 1]),
                Arg::Int(2),
            ],
            vec![],
        ),
        (
            "aten.conv2d.default",
            vec!["f32[2,3,16,16]", "f32[4,3,5,5]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.conv2d.default",
            vec!["f32[3,16,16]", "f32[4,3,5,5]"],
            vec![v(0), v(1), none.clone(), ints(&[2])],
            vec![],
        ),
        (
            "aten.conv2d.padding",
            vec!["f32[2,3,16,16]", "f32[4,3,5,5]"],
            vec![
                v(0),
                v(1),
                none.clone(),
                ints(&[1]),
                Arg::Str("same".into()),
            ],
            vec![],
        ),
        (
            "aten.conv1d.default",
            vec!["f32[2,3,100]", "f32[4,3,5]"],
            vec![v(0), v(1), none.clone(), ints(&[3]), ints(&[2]), ints(&[2])],
            vec![],
        ),
        (
            "aten.conv3d.default",
            vec!["f32[1,2,8,8,8]", "f32[4,2,3,3,3]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.conv_transpose2d.input",
            vec!["f32[1,8,7,7]", "f32[8,4,3,3]"],
            vec![v(0), v(1), none.clone(), ints(&[2]), ints(&[1]), ints(&[1])],
            vec![],
        ),
        (
            "aten.linear.default",
            vec!["f32[s0,10,16]", "f32[32,16]", "f32[32]"],
            vec![v(0), v(1), v(2)],
            vec![],
        ),
        (
            "aten.addmm.default",
            vec!["f32[32]", "f32[s0,16]", "f32[16,32]"],
            vec![v(0), v(1), v(2)],
            vec![],
        ),
        (
            "aten.mm.default",
            vec!["f32[4,5]", "f32[6,7]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.bmm.default",
            vec!["f32[s0,4,5]", "f32[s0,5,7]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.matmul.default",
            vec!["f32[5]", "f32[5]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.matmul.default",
            vec!["f32[2,1,4,5]", "f32[3,5,6]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.matmul.default",
            vec!["f32[5]", "f32[3,5,6]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.matmul.default",
            vec!["f32[3,4,5]", "f32[5]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.batch_norm.default",
            vec!["f32[s0,3,8,8]", "f32[3]"],
            vec![
                v(0),
                v(1),
                v(1),
                v(1),
                v(1),
                Arg::Bool(false),
                f(0.1),
                f(1e-5),
                Arg::Bool(true),
            ],
            vec![],
        ),
        (
            "aten._native_batch_norm_legit_no_training.default",
            vec!["f16[2,3,8,8]", "f16[3]", "f32[3]"],
            vec![v(0), v(1), v(1), v(2), v(2), f(0.1), f(1e-5)],
            vec![],
        ),
        (
            "aten._native_batch_norm_legit_functional.default",
            vec!["f32[2,3,8,8]", "f32[3]"],
            vec![
                v(0),
                v(1),
                v(1),
                v(1),
                v(1),
                Arg::Bool(true),
                f(0.1),
                f(1e-5),
            ],
            vec![],
        ),
        (
            "aten.native_layer_norm.default",
            vec!["f32[2,5,6]", "f32[6]"],
            vec![v(0), ints(&[6]), v(1), v(1), f(1e-5)],
            vec![],
        ),
        (
            "aten.native_layer_norm.default",
            vec!["f16[2,5,6]"],
            vec![v(0), ints(&[5, 6]), none.clone(), none.clone(), f(1e-5)],
            vec![],
        ),
        (
            "aten.layer_norm.default",
            vec!["f32[s0,5,6]"],
            vec![v(0), ints(&[6])],
            vec![],
        ),
        (
            "aten.native_group_norm.default",
            vec!["f32[2,6,8,8]"],
            vec![
                v(0),
                none.clone(),
                none.clone(),
                Arg::Int(2),
                Arg::Int(6),
                Arg::Int(64),
                Arg::Int(3),
                f(1e-5),
            ],
            vec![],
        ),
        (
            "aten.group_norm.default",
            vec!["f32[2,6,8,8]"],
            vec![v(0), Arg::Int(3)],
            vec![],
        ),
        (
            "aten.scaled_dot_product_attention.default",
            vec!["f32[s0,8,s1,64]", "f32[s0,8,s2,64]", "f32[s0,8,s2,32]"],
            vec![v(0), v(1), v(2)],
            vec![("is_causal", Arg::Bool(true))],
        ),
        (
            "aten._scaled_dot_product_flash_attention_for_cpu.default",
            vec!["f32[2,4,5,8]", "f32[2,4,6,8]"],
            vec![v(0), v(1), v(1), f(0.0), Arg::Bool(false)],
            vec![],
        ),
        (
            "aten.embedding.default",
            vec!["f32[1000,64]", "i64[s0,s1]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.max_pool2d_with_indices.default",
            vec!["f32[1,1,7,7]"],
            vec![
                v(0),
                ints(&[3, 3]),
                ints(&[2, 2]),
                ints(&[0, 0]),
                ints(&[1, 1]),
                Arg::Bool(true),
            ],
            vec![],
        ),
        (
            "aten.max_pool2d_with_indices.default",
            vec!["f32[1,1,6,6]"],
            vec![
                v(0),
                ints(&[1, 1]),
                ints(&[2, 2]),
                ints(&[0, 0]),
                ints(&[1, 1]),
                Arg::Bool(true),
            ],
            vec![],
        ),
        (
            "aten.max_pool2d.default",
            vec!["f32[s0,64,112,112]"],
            vec![v(0), ints(&[3, 3]), ints(&[2, 2]), ints(&[1, 1])],
            vec![],
        ),
        (
            "aten.max_pool2d.default",
            vec!["f32[1,3,s1,s1]"],
            vec![v(0), ints(&[2, 2])],
            vec![],
        ),
        (
            "aten.avg_pool2d.default",
            vec!["f32[1,1,7,7]"],
            vec![
                v(0),
                ints(&[3, 3]),
                ints(&[2, 2]),
                ints(&[1, 1]),
                Arg::Bool(true),
            ],
            vec![],
        ),
        (
            "aten.adaptive_avg_pool2d.default",
            vec!["f32[s0,512,7,7]"],
            vec![v(0), ints(&[1, 1])],
            vec![],
        ),
        (
            "aten._adaptive_avg_pool2d.default",
            vec!["f32[2,512,7,7]"],
            vec![v(0), ints(&[3, 3])],
            vec![],
        ),
        (
            "aten.upsample_nearest2d.vec",
            vec!["f32[1,1,5,5]"],
            vec![v(0), none.clone(), Arg::List(vec![f(1.5), f(1.5)])],
            vec![],
        ),
        (
            "aten.upsample_nearest2d.vec",
            vec!["f32[s0,3,s1,s2]"],
            vec![v(0), none.clone(), Arg::List(vec![f(2.0), f(2.0)])],
            vec![],
        ),
        (
            "aten.upsample_bilinear2d.vec",
            vec!["f32[1,1,5,5]"],
            vec![v(0), ints(&[9, 10]), Arg::Bool(false), none.clone()],
            vec![],
        ),
        (
            "aten.upsample_nearest2d.default",
            vec!["f32[1,1,5,5]"],
            vec![v(0), ints(&[10, 10])],
            vec![],
        ),
        (
            "aten.pixel_shuffle.default",
            vec!["f32[1,16,4,4]"],
            vec![v(0), Arg::Int(2)],
            vec![],
        ),
        (
            "aten.native_dropout.default",
            vec!["f32[2,3]"],
            vec![v(0), f(0.5), Arg::Bool(true)],
            vec![],
        ),
        (
            "aten.dropout.default",
            vec!["f32[2,3]"],
            vec![v(0), f(0.5), Arg::Bool(false)],
            vec![],
        ),
        (
            "aten.gelu.default",
            vec!["bf16[s0,3]"],
            vec![v(0)],
            vec![("approximate", Arg::Str("tanh".into()))],
        ),
        (
            "aten.hardswish.default",
            vec!["f32[2,3]"],
            vec![v(0)],
            vec![],
        ),
        ("aten.silu.default", vec!["f16[2,3]"], vec![v(0)], vec![]),
    ];
    insta::assert_snapshot!(run(cases));
}

#[test]
fn shape_ops() {
    let none = Arg::None;
    let cases: Vec<Case> = vec![
        (
            "aten.view.default",
            vec!["f32[s0,3,4]"],
            vec![v(0), ints(&[-1, 12])],
            vec![],
        ),
        (
            "aten.view.default",
            vec!["f32[s0,3,4]", "symint(s0)"],
            vec![v(0), Arg::List(vec![v(1), Arg::Int(-1)])],
            vec![],
        ),
        (
            "aten.view.default",
            vec!["f32[6,4]"],
            vec![v(0), ints(&[5, -1])],
            vec![],
        ),
        (
            "aten.reshape.default",
            vec!["f32[2,s0,4]"],
            vec![v(0), ints(&[-1, 4])],
            vec![],
        ),
        (
            "aten._unsafe_view.default",
            vec!["f32[2,3,4]"],
            vec![v(0), ints(&[6, 4])],
            vec![],
        ),
        (
            "aten.permute.default",
            vec!["f32[s0,3,4]"],
            vec![v(0), ints(&[2, 0, -2])],
            vec![],
        ),
        (
            "aten.transpose.int",
            vec!["f32[s0,3,4]"],
            vec![v(0), Arg::Int(-1), Arg::Int(0)],
            vec![],
        ),
        ("aten.t.default", vec!["f32[3,4]"], vec![v(0)], vec![]),
        (
            "aten.expand.default",
            vec!["f32[s0,1,4]"],
            vec![v(0), ints(&[2, -1, 5, 4])],
            vec![],
        ),
        (
            "aten.squeeze.dim",
            vec!["f32[s0,1,4]"],
            vec![v(0), Arg::Int(1)],
            vec![],
        ),
        (
            "aten.squeeze.dims",
            vec!["f32[1,1,4]"],
            vec![v(0), ints(&[0, 2])],
            vec![],
        ),
        (
            "aten.squeeze.default",
            vec!["f32[1,s0,1]"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten.unsqueeze.default",
            vec!["f32[s0,4]"],
            vec![v(0), Arg::Int(-1)],
            vec![],
        ),
        (
            "aten.flatten.using_ints",
            vec!["f32[s0,3,4,5]"],
            vec![v(0), Arg::Int(1)],
            vec![],
        ),
        (
            "aten.cat.default",
            vec!["f32[s0,3]", "f32[s0,5]", "f32[0]"],
            vec![Arg::List(vec![v(0), v(1), v(2)]), Arg::Int(1)],
            vec![],
        ),
        (
            "aten.cat.default",
            vec!["f32[s0,3]", "f32[s1,3]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![],
        ),
        (
            "aten.cat.default",
            vec!["i32[2]", "f16[3]"],
            vec![Arg::List(vec![v(0), v(1)])],
            vec![],
        ),
        (
            "aten.stack.default",
            vec!["f32[s0,3]", "f32[s0,3]"],
            vec![Arg::List(vec![v(0), v(1)]), Arg::Int(-1)],
            vec![],
        ),
        (
            "aten.split.Tensor",
            vec!["f32[10,3]"],
            vec![v(0), Arg::Int(4)],
            vec![],
        ),
        (
            "aten.split_with_sizes.default",
            vec!["f32[s0,10]"],
            vec![v(0), ints(&[3, 7]), Arg::Int(1)],
            vec![],
        ),
        (
            "aten.chunk.default",
            vec!["f32[10,3]"],
            vec![v(0), Arg::Int(3)],
            vec![],
        ),
        (
            "aten.chunk.default",
            vec!["f32[2,4,s0]"],
            vec![v(0), Arg::Int(2), Arg::Int(1)],
            vec![],
        ),
        ("aten.unbind.int", vec!["f32[3,s0]"], vec![v(0)], vec![]),
        (
            "aten.slice.Tensor",
            vec!["f32[s0,10]"],
            vec![v(0), Arg::Int(1), Arg::Int(2), Arg::Int(i64::MAX)],
            vec![],
        ),
        (
            "aten.slice.Tensor",
            vec!["f32[s0,10]"],
            vec![v(0), Arg::Int(1), Arg::Int(-3), none.clone(), Arg::Int(2)],
            vec![],
        ),
        (
            "aten.slice.Tensor",
            vec!["f32[s0,10]"],
            vec![v(0), Arg::Int(0), Arg::Int(1)],
            vec![],
        ),
        (
            "aten.slice.Tensor",
            vec!["f32[10]"],
            vec![v(0), Arg::Int(0), Arg::Int(1), Arg::Int(8), Arg::Int(3)],
            vec![],
        ),
        (
            "aten.select.int",
            vec!["f32[s0,10,3]"],
            vec![v(0), Arg::Int(1), Arg::Int(-1)],
            vec![],
        ),
        (
            "aten.index.Tensor",
            vec!["f32[5,6,7]", "i64[2,3]", "i64[3]"],
            vec![v(0), Arg::List(vec![none.clone(), v(1), v(2)])],
            vec![],
        ),
        (
            "aten.index.Tensor",
            vec!["f32[5,6,7]", "i64[2]", "i64[2]"],
            vec![v(0), Arg::List(vec![v(1), none.clone(), v(2)])],
            vec![],
        ),
        (
            "aten.index.Tensor",
            vec!["f32[5,6]", "bool[5]"],
            vec![v(0), Arg::List(vec![v(1)])],
            vec![],
        ),
        (
            "aten.index_select.default",
            vec!["f32[5,6]", "i64[s1]"],
            vec![v(0), Arg::Int(1), v(1)],
            vec![],
        ),
        (
            "aten.gather.default",
            vec!["f32[5,6]", "i64[5,2]"],
            vec![v(0), Arg::Int(1), v(1)],
            vec![],
        ),
        (
            "aten.scatter.src",
            vec!["f32[5,6]", "i64[5,2]", "f32[5,2]"],
            vec![v(0), Arg::Int(1), v(1), v(2)],
            vec![],
        ),
        (
            "aten.masked_fill.Scalar",
            vec!["f32[s0,6]", "bool[s0,6]"],
            vec![v(0), v(1), f(0.0)],
            vec![],
        ),
        (
            "aten.constant_pad_nd.default",
            vec!["f32[1,3,8,8]"],
            vec![v(0), ints(&[1, 1, 2, 0])],
            vec![],
        ),
        (
            "aten.repeat.default",
            vec!["f32[s0,3]"],
            vec![v(0), ints(&[2, 1, 2])],
            vec![],
        ),
        (
            "aten.permute_copy.default",
            vec!["f32[2,3]"],
            vec![v(0), ints(&[1, 0])],
            vec![],
        ),
        ("aten.alias.default", vec!["f32[2,3]"], vec![v(0)], vec![]),
        (
            "aten.clone.default",
            vec!["f32[2,3]"],
            vec![v(0)],
            vec![(
                "memory_format",
                Arg::MemoryFormat("contiguous_format".into()),
            )],
        ),
    ];
    insta::assert_snapshot!(run(cases));
}

#[test]
fn reduce_factory_cast_ops() {
    let none = Arg::None;
    let cases: Vec<Case> = vec![
        (
            "aten.sum.dim_IntList",
            vec!["i32[2,s0,4]"],
            vec![v(0), ints(&[1])],
            vec![],
        ),
        (
            "aten.sum.dim_IntList",
            vec!["f32[2,s0,4]"],
            vec![v(0), ints(&[-1, 0]), Arg::Bool(true)],
            vec![],
        ),
        (
            "aten.sum.dim_IntList",
            vec!["f32[2,3]"],
            vec![v(0), ints(&[])],
            vec![],
        ),
        ("aten.sum.default", vec!["bool[2,3]"], vec![v(0)], vec![]),
        (
            "aten.mean.dim",
            vec!["f16[2,3]"],
            vec![v(0), ints(&[1]), Arg::Bool(true)],
            vec![],
        ),
        (
            "aten.mean.dim",
            vec!["i64[2,3]"],
            vec![v(0), ints(&[1])],
            vec![],
        ),
        (
            "aten.amax.default",
            vec!["f32[2,3]"],
            vec![v(0), ints(&[1])],
            vec![],
        ),
        ("aten.amin.default", vec!["f32[2,3]"], vec![v(0)], vec![]),
        ("aten.prod.default", vec!["i8[2,3]"], vec![v(0)], vec![]),
        (
            "aten.prod.dim_int",
            vec!["f32[2,3]"],
            vec![v(0), Arg::Int(0), Arg::Bool(true)],
            vec![],
        ),
        (
            "aten.var.correction",
            vec!["c64[2,3]"],
            vec![v(0), ints(&[1])],
            vec![],
        ),
        (
            "aten.std.correction",
            vec!["f32[2,3]"],
            vec![v(0), none.clone()],
            vec![("correction", Arg::Int(1)), ("keepdim", Arg::Bool(true))],
        ),
        (
            "aten.any.dim",
            vec!["u8[2,3]"],
            vec![v(0), Arg::Int(1)],
            vec![],
        ),
        ("aten.all.default", vec!["i32[2,3]"], vec![v(0)], vec![]),
        (
            "aten.argmax.default",
            vec!["f32[2,3]"],
            vec![v(0), Arg::Int(1), Arg::Bool(true)],
            vec![],
        ),
        ("aten.argmin.default", vec!["f32[2,3]"], vec![v(0)], vec![]),
        (
            "aten.max.dim",
            vec!["f32[s0,3]"],
            vec![v(0), Arg::Int(1)],
            vec![],
        ),
        (
            "aten.min.dim",
            vec!["f32[s0,3]"],
            vec![v(0), Arg::Int(0), Arg::Bool(true)],
            vec![],
        ),
        (
            "aten.topk.default",
            vec!["f32[2,10]"],
            vec![v(0), Arg::Int(3)],
            vec![],
        ),
        ("aten.sort.default", vec!["f32[2,10]"], vec![v(0)], vec![]),
        (
            "aten.cumsum.default",
            vec!["bool[2,3]"],
            vec![v(0), Arg::Int(1)],
            vec![],
        ),
        (
            "aten.softmax.int",
            vec!["f16[2,3]"],
            vec![v(0), Arg::Int(-1), Arg::DType(DType::F32)],
            vec![],
        ),
        (
            "aten._softmax.default",
            vec!["f16[2,3]"],
            vec![v(0), Arg::Int(1), Arg::Bool(true)],
            vec![],
        ),
        (
            "aten._log_softmax.default",
            vec!["f32[2,3]"],
            vec![v(0), Arg::Int(1), Arg::Bool(false)],
            vec![],
        ),
        ("aten.arange.default", vec![], vec![Arg::Int(10)], vec![]),
        (
            "aten.arange.start_step",
            vec![],
            vec![Arg::Int(0), Arg::Int(10), Arg::Int(3)],
            vec![],
        ),
        (
            "aten.arange.start_step",
            vec![],
            vec![Arg::Int(0), f(2.5), f(0.5)],
            vec![],
        ),
        (
            "aten.arange.start",
            vec!["symint(s0)"],
            vec![Arg::Int(2), v(0)],
            vec![("dtype", Arg::DType(DType::I32))],
        ),
        (
            "aten.arange.default",
            vec!["symint(s0)"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten.full.default",
            vec![],
            vec![ints(&[2, 3]), Arg::Int(1)],
            vec![],
        ),
        (
            "aten.full.default",
            vec![],
            vec![ints(&[2]), Arg::Bool(true)],
            vec![],
        ),
        (
            "aten.full.default",
            vec!["symint(s0)"],
            vec![Arg::List(vec![v(0), Arg::Int(2)]), f(1.5)],
            vec![],
        ),
        (
            "aten.zeros.default",
            vec![],
            vec![ints(&[2, 3])],
            vec![("dtype", Arg::DType(DType::I64))],
        ),
        ("aten.ones.default", vec![], vec![ints(&[4])], vec![]),
        (
            "aten.empty.memory_format",
            vec![],
            vec![ints(&[4])],
            vec![("dtype", Arg::DType(DType::F16))],
        ),
        (
            "aten.full_like.default",
            vec!["i32[2,3]"],
            vec![v(0), f(1.5)],
            vec![],
        ),
        (
            "aten.zeros_like.default",
            vec!["i32[2,3]"],
            vec![v(0)],
            vec![("dtype", Arg::DType(DType::F32))],
        ),
        (
            "aten.ones_like.default",
            vec!["f16[s0]"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten.scalar_tensor.default",
            vec![],
            vec![Arg::Int(1)],
            vec![],
        ),
        (
            "aten._to_copy.default",
            vec!["f32[2,3]"],
            vec![v(0)],
            vec![("dtype", Arg::DType(DType::F16))],
        ),
        (
            "aten.to.dtype",
            vec!["f32[2,3]"],
            vec![v(0), Arg::DType(DType::I64)],
            vec![],
        ),
        (
            "aten.to.dtype_layout",
            vec!["f32[2,3]"],
            vec![v(0)],
            vec![("dtype", Arg::DType(DType::BF16))],
        ),
        (
            "prims.convert_element_type.default",
            vec!["f32[2,3]"],
            vec![v(0), Arg::DType(DType::F64)],
            vec![],
        ),
        (
            "aten.add_.Tensor",
            vec!["f32[2,3]", "f32[3]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.add.out",
            vec!["f32[2,3]", "f32[3]", "f32[2,3]"],
            vec![v(0), v(1)],
            vec![("out", v(2))],
        ),
    ];
    insta::assert_snapshot!(run(cases));
}

#[test]
fn symbolic_scalars_and_data_dependent() {
    let cases: Vec<Case> = vec![
        (
            "aten.sym_size.int",
            vec!["f32[s0,3]"],
            vec![v(0), Arg::Int(0)],
            vec![],
        ),
        (
            "aten.sym_numel.default",
            vec!["f32[s0,3]"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten.sym_stride.int",
            vec!["f32[s0,3,s1]"],
            vec![v(0), Arg::Int(0)],
            vec![],
        ),
        (
            "_operator.add",
            vec!["symint(s0)"],
            vec![v(0), Arg::Int(1)],
            vec![],
        ),
        (
            "_operator.mul",
            vec!["symint(s0)", "symint(s1)"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "_operator.floordiv",
            vec!["symint(4*s0)"],
            vec![v(0), Arg::Int(2)],
            vec![],
        ),
        (
            "_operator.mod",
            vec!["symint(s0)"],
            vec![v(0), Arg::Int(2)],
            vec![],
        ),
        ("_operator.neg", vec!["symint(s0)"], vec![v(0)], vec![]),
        (
            "_operator.sub",
            vec!["symint(s0)", "symint(s0)"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "_operator.truediv",
            vec!["symint(s0)"],
            vec![v(0), Arg::Int(2)],
            vec![],
        ),
        (
            "_operator.eq",
            vec!["symint(s0)"],
            vec![v(0), Arg::Int(2)],
            vec![],
        ),
        (
            "_operator.add",
            vec!["symfloat"],
            vec![v(0), Arg::Int(2)],
            vec![],
        ),
        ("math.floor", vec!["symfloat"], vec![v(0)], vec![]),
        (
            "torch.sym_max",
            vec!["symint(s0)"],
            vec![v(0), Arg::Int(2)],
            vec![],
        ),
        (
            "aten._assert_scalar.default",
            vec!["symbool"],
            vec![v(0), Arg::Str("msg".into())],
            vec![],
        ),
        (
            "aten.sym_constrain_range_for_size.default",
            vec!["symint(u0)"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten._assert_tensor_metadata.default",
            vec!["f32[2]"],
            vec![v(0)],
            vec![("dtype", Arg::DType(DType::F32))],
        ),
        ("aten.item.default", vec!["i64[]"], vec![v(0)], vec![]),
        (
            "aten._local_scalar_dense.default",
            vec!["f32[]"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten.nonzero.default",
            vec!["f32[s0,3]"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten._unique2.default",
            vec!["i64[10]"],
            vec![v(0), Arg::Bool(true), Arg::Bool(true), Arg::Bool(false)],
            vec![],
        ),
    ];
    insta::assert_snapshot!(run(cases));
}

/// Search, order statistics and data-dependent selections. The expected types are the ones
/// `torch.export` records for these calls (the OpInfo conformance corpus), e.g. `bincount`
/// keeps its input's dtype and unrequested `unique` outputs are empty tensors of it.
#[test]
fn search_and_order_ops() {
    let yes = Arg::Bool(true);
    let no = Arg::Bool(false);
    let cases: Vec<Case> = vec![
        (
            "aten.searchsorted.Tensor",
            vec!["f32[4]", "f32[2,3]"],
            vec![v(0), v(1)],
            vec![],
        ),
        (
            "aten.searchsorted.Tensor",
            vec!["i16[2,4]", "i16[2,3]"],
            vec![v(0), v(1)],
            vec![
                ("out_int32", yes.clone()),
                ("side", Arg::Str("right".into())),
            ],
        ),
        (
            "aten.searchsorted.Scalar",
            vec!["f32[4]"],
            vec![v(0), f(2.5)],
            vec![],
        ),
        (
            "aten.nanmedian.default",
            vec!["i16[3,4]"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten.nanmedian.dim",
            vec!["f32[3,4]"],
            vec![v(0), Arg::Int(1), yes.clone()],
            vec![],
        ),
        (
            "aten.median.dim",
            vec!["f32[]"],
            vec![v(0), Arg::Int(0), yes.clone()],
            vec![],
        ),
        ("aten.nonzero.default", vec!["f32[0,2]"], vec![v(0)], vec![]),
        ("aten.argwhere.default", vec!["u8[3,0]"], vec![v(0)], vec![]),
        (
            "aten.nonzero_numpy.default",
            vec!["f32[2,3]"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten.nonzero_numpy.default",
            vec!["f32[]"],
            vec![v(0)],
            vec![],
        ),
        (
            "aten.combinations.default",
            vec!["f32[5]"],
            vec![v(0), Arg::Int(2)],
            vec![],
        ),
        ("aten.bincount.default", vec!["i16[5]"], vec![v(0)], vec![]),
        (
            "aten._unique2.default",
            vec!["f32[]"],
            vec![v(0), no.clone()],
            vec![],
        ),
        (
            "aten.unique_consecutive.default",
            vec!["u8[6]"],
            vec![v(0), no.clone(), yes.clone()],
            vec![],
        ),
        (
            "aten.put.default",
            vec!["f32[2,3]", "i64[2]", "f32[2]"],
            vec![v(0), v(1), v(2), yes.clone()],
            vec![],
        ),
        (
            "aten.max_unpool2d.default",
            vec!["f32[1,2,2,2]", "i64[1,2,2,2]"],
            vec![v(0), v(1), ints(&[4, 5])],
            vec![],
        ),
        (
            "aten.max_unpool3d.default",
            vec!["f32[2,1,2,2]", "i64[2,1,2,2]"],
            vec![
                v(0),
                v(1),
                ints(&[2, 4, 4]),
                ints(&[2, 2, 2]),
                ints(&[0, 0, 0]),
            ],
            vec![],
        ),
    ];
    insta::assert_snapshot!(run(cases));
}

/// Embedding bags: the four results with the shapes and dtypes of PyTorch 2.11's meta
/// function (`FakeTensorMode`, CPU, weights without grad), written next to each case.
#[test]
fn embedding_bag_ops() {
    let no = Arg::Bool(false);
    let yes = Arg::Bool(true);
    let call = |op: &str, inputs: &[&'static str], mode: i64, psw: bool, last: bool, pad: Arg| {
        let mut args = vec![v(0), v(1), v(2), no.clone(), Arg::Int(mode), no.clone()];
        args.push(if psw { v(3) } else { Arg::None });
        args.push(if last { yes.clone() } else { no.clone() });
        args.push(pad);
        show(op, inputs, args, vec![])
    };
    let fo = "aten._embedding_bag_forward_only.default";
    let eb = "aten._embedding_bag.default";
    let pi = "aten.embedding_bag.padding_idx";
    let ins: &[&str] = &["f32[5,2]", "i64[5]", "i64[4]"];
    // _embedding_bag_forward_only(w[5,2], i[5], o[4], ..., include_last_offset=True, -1):
    // sum (3,2),(0,),(4,),(3,); mean (3,2),(5,),(4,),(3,); max (3,2),(5,),(4,),(3,2).
    assert_eq!(
        call(fo, ins, 0, false, true, Arg::Int(-1)),
        "(f32[3,2], i64[0], i64[4], i64[3])"
    );
    assert_eq!(
        call(fo, ins, 1, false, true, Arg::Int(-1)),
        "(f32[3,2], i64[5], i64[4], i64[3])"
    );
    assert_eq!(
        call(fo, ins, 2, false, true, Arg::Int(-1)),
        "(f32[3,2], i64[5], i64[4], i64[3,2])"
    );
    // _embedding_bag: bag_size has B entries: (3,2),(5,),(3,),(3,2).
    assert_eq!(
        call(eb, ins, 2, false, true, Arg::Int(-1)),
        "(f32[3,2], i64[5], i64[3], i64[3,2])"
    );
    // embedding_bag.padding_idx(..., -1): -1 wraps to row 4, so no fast path:
    // (3,2),(5,),(4,),(3,); padding_idx None: (3,2),(0,),(4,),(3,).
    assert_eq!(
        call(pi, ins, 0, false, true, Arg::Int(-1)),
        "(f32[3,2], i64[5], i64[4], i64[3])"
    );
    assert_eq!(
        call(pi, ins, 0, false, true, Arg::None),
        "(f32[3,2], i64[0], i64[4], i64[3])"
    );
    // bf16 weights take no fast path: (4,2) bf16, (5,), (4,), (4,).
    assert_eq!(
        call(
            fo,
            &["bf16[5,2]", "i64[5]", "i64[4]"],
            0,
            false,
            false,
            Arg::Int(-1)
        ),
        "(bf16[4,2], i64[5], i64[4], i64[4])"
    );
    // int32 offsets give int32 aux results: (4,2) f32, (5,), (4,), (4,2) int32.
    assert_eq!(
        call(
            fo,
            &["f32[5,2]", "i32[5]", "i32[4]"],
            2,
            false,
            false,
            Arg::Int(-1)
        ),
        "(f32[4,2], i32[5], i32[4], i32[4,2])"
    );
    // embedding_bag.default (max): (4,2),(5,),(4,),(4,2).
    assert_eq!(
        show(
            "aten.embedding_bag.default",
            ins,
            vec![v(0), v(1), v(2), no.clone(), Arg::Int(2)],
            vec![]
        ),
        "(f32[4,2], i64[5], i64[4], i64[4,2])"
    );
    // Per-sample weights (sum, fast path) and symbolic sizes.
    assert_eq!(
        call(
            fo,
            &["f32[5,2]", "i64[s0]", "i64[s1]", "f32[s0]"],
            0,
            true,
            true,
            Arg::Int(-1)
        ),
        "(f32[s1 - 1,2], i64[0], i64[s1], i64[s1 - 1])"
    );
    // PyTorch's checks.
    for (got, want) in [
        (
            call(
                fo,
                &["f32[5,2]", "i64[5]", "i64[4]", "f32[5]"],
                1,
                true,
                false,
                Arg::Int(-1),
            ),
            "per_sample_weights only supported with mode='sum'",
        ),
        (
            call(
                fo,
                &["i64[5,2]", "i64[5]", "i64[4]"],
                0,
                false,
                false,
                Arg::Int(-1),
            ),
            "weight must be a float matrix",
        ),
        (
            call(
                fo,
                &["f32[5,2]", "f32[5]", "i64[4]"],
                0,
                false,
                false,
                Arg::Int(-1),
            ),
            "indices must be a 1-d int32/int64",
        ),
        (
            call(
                fo,
                &["f32[5,2]", "i64[5]", "i64[0]"],
                0,
                false,
                true,
                Arg::Int(-1),
            ),
            "numBags should be at least 1",
        ),
        (
            call(fo, ins, 3, false, false, Arg::Int(-1)),
            "mode 3 is not",
        ),
        (
            call(pi, ins, 0, false, false, Arg::Int(5)),
            "padding_idx 5 is out of range",
        ),
    ] {
        assert!(got.starts_with("error:") && got.contains(want), "{got}");
    }
}
