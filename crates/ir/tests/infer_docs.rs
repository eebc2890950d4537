//! The registry's data is complete and `docs/ops.md` is up to date.
//! Regenerate with `TRTFX_REGEN_DOCS=1 cargo test -p trtfx-ir --test infer_docs`.

use trtfx_ir::aten::{ops_markdown, registry, unparsed_schemas};

#[test]
fn every_schema_parses() {
    let bad = unparsed_schemas();
    assert!(
        bad.is_empty(),
        "{} unparsed: {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    assert!(registry().len() > 3000);
}

#[test]
fn required_ops_have_inference() {
    let reg = registry();
    let required = [
        "aten.conv1d.default",
        "aten.conv2d.default",
        "aten.conv3d.default",
        "aten.convolution.default",
        "aten.linear.default",
        "aten.addmm.default",
        "aten.mm.default",
        "aten.bmm.default",
        "aten.matmul.default",
        "aten.batch_norm.default",
        "aten._native_batch_norm_legit_no_training.default",
        "aten._native_batch_norm_legit_functional.default",
        "aten.layer_norm.default",
        "aten.native_layer_norm.default",
        "aten.group_norm.default",
        "aten.native_group_norm.default",
        "aten.scaled_dot_product_attention.default",
        "aten.embedding.default",
        "aten.softmax.int",
        "aten._softmax.default",
        "aten.log_softmax.int",
        "aten.gelu.default",
        "aten.silu.default",
        "aten.hardswish.default",
        "aten.relu.default",
        "aten.sigmoid.default",
        "aten.tanh.default",
        "aten.dropout.default",
        "aten.adaptive_avg_pool2d.default",
        "aten.avg_pool2d.default",
        "aten.max_pool2d.default",
        "aten.max_pool2d_with_indices.default",
        "aten.upsample_nearest2d.vec",
        "aten.upsample_bilinear2d.vec",
        "aten.view.default",
        "aten._unsafe_view.default",
        "aten.reshape.default",
        "aten.permute.default",
        "aten.transpose.int",
        "aten.t.default",
        "aten.expand.default",
        "aten.squeeze.dim",
        "aten.squeeze.dims",
        "aten.unsqueeze.default",
        "aten.flatten.using_ints",
        "aten.cat.default",
        "aten.stack.default",
        "aten.split.Tensor",
        "aten.split_with_sizes.default",
        "aten.chunk.default",
        "aten.unbind.int",
        "aten.slice.Tensor",
        "aten.select.int",
        "aten.index.Tensor",
        "aten.index_select.default",
        "aten.gather.default",
        "aten.scatter.src",
        "aten.where.self",
        "aten.masked_fill.Scalar",
        "aten.arange.start",
        "aten.arange.start_step",
        "aten.full.default",
        "aten.zeros.default",
        "aten.ones.default",
        "aten.empty.memory_format",
        "aten.full_like.default",
        "aten.zeros_like.default",
        "aten.ones_like.default",
        "aten.cumsum.default",
        "aten.argmax.default",
        "aten.argmin.default",
        "aten.topk.default",
        "aten.sort.default",
        "aten.max.dim",
        "aten.min.dim",
        "aten.eq.Tensor",
        "aten.sum.dim_IntList",
        "aten.mean.dim",
        "aten.amax.default",
        "aten.amin.default",
        "aten.prod.default",
        "aten.var.correction",
        "aten.std.correction",
        "aten.any.dim",
        "aten.all.default",
        "aten.to.dtype",
        "aten.to.dtype_layout",
        "aten._to_copy.default",
        "aten.clone.default",
        "aten.alias.default",
        "aten.detach.default",
        "aten.lift_fresh_copy.default",
        "aten.contiguous.default",
        "aten.sym_size.int",
        "aten.sym_numel.default",
        "aten.sym_stride.int",
        "_operator.add",
        "_operator.floordiv",
        "aten._assert_scalar.default",
        "aten.sym_constrain_range_for_size.default",
        "aten._assert_tensor_metadata.default",
        "aten.item.default",
        "aten._local_scalar_dense.default",
        "aten.nonzero.default",
        "aten._unique2.default",
        "aten.add.Tensor",
        "aten.div.Tensor_mode",
        "aten.floor_divide.default",
    ];
    let missing: Vec<_> = required
        .iter()
        .filter(|n| reg.get(n).is_none_or(|d| d.infer.is_none()))
        .collect();
    assert!(missing.is_empty(), "missing inference: {missing:?}");
}

#[test]
fn props_from_schemas() {
    let reg = registry();
    let p = |n: &str| reg.get(n).unwrap().props;
    assert!(p("aten.view.default").view && p("aten.view.default").pure);
    assert!(p("aten.add.Tensor").elementwise && !p("aten.add.Tensor").view);
    assert!(p("aten.add_.Tensor").mutates && !p("aten.add_.Tensor").pure);
    assert!(!p("aten._assert_scalar.default").pure);
    assert!(!p("aten.rand.default").pure);
    assert!(p("aten.relu.default").elementwise);
}

#[test]
fn ops_md_is_up_to_date() {
    let text = ops_markdown(registry());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ops.md");
    if std::env::var_os("TRTFX_REGEN_DOCS").is_some() {
        std::fs::write(path, &text).unwrap();
        return;
    }
    let cur = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        cur == text,
        "docs/ops.md is stale: run `TRTFX_REGEN_DOCS=1 cargo test -p trtfx-ir --test infer_docs`"
    );
}
