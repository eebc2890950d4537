//! Export-dialect composites (losses, activations, norms, data ops) that run through their
//! op-table decomposition, and the kernels added with them. Expected values come from PyTorch
//! 2.11 (the expression is in each comment) or are worked out by hand where stated.

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::{has_kernel, Tensor};
use trtfx_ir::parse_program;

fn run(src: &str, inputs: Vec<Tensor>) -> Vec<Tensor> {
    try_run(src, inputs).unwrap_or_else(|e| panic!("{e}"))
}

fn try_run(src: &str, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, String> {
    let p = parse_program(src).map_err(|e| e.to_string())?;
    let ins: Vec<Value> = inputs.into_iter().map(Value::Tensor).collect();
    Ok(Executor::new(&p)
        .run(&ins)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|v| v.as_tensor().expect("tensor output").clone())
        .collect())
}

fn f32s(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

fn i64s(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

fn assert_close(got: &Tensor, want: &[f64]) {
    let g = got.to_f64_vec();
    assert_eq!(g.len(), want.len(), "{g:?} vs {want:?}");
    for (a, b) in g.iter().zip(want) {
        let ok = (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-5 * b.abs().max(1.0);
        assert!(ok, "{g:?} vs {want:?}");
    }
}

/// A program with the given inputs (name, type) computing `body` (its last value is output).
fn program(inputs: &[(&str, &str)], body: &str, outs: &[&str]) -> String {
    let decl: String = inputs
        .iter()
        .map(|(n, t)| format!("input \"{n}\": {t}\n"))
        .collect();
    let params: Vec<String> = inputs
        .iter()
        .map(|(n, t)| format!("%{n}: {t} = user \"{n}\""))
        .collect();
    let users = vec!["user"; outs.len()].join(", ");
    let outs: Vec<String> = outs.iter().map(|o| format!("%{o}")).collect();
    format!(
        "{decl}graph @main({}) -> ({users}) {{\n{body}\n  output ({})\n}}",
        params.join(", "),
        outs.join(", ")
    )
}

#[test]
fn cross_entropy_weights_ignore_index_and_label_smoothing() {
    assert!(!has_kernel("aten.cross_entropy_loss.default"));
    let src = program(
        &[
            ("x", "f32[2, 3]"),
            ("y", "i64[2]"),
            ("z", "i64[2]"),
            ("z2", "i64[2]"),
            ("w", "f32[3]"),
        ],
        r#"  %a: f32[] = aten.cross_entropy_loss.default(%x, %y, %w, 1, -100, 0.2)
  %b: f32[] = aten.cross_entropy_loss.default(%x, %z)
  %c: f32[] = aten.cross_entropy_loss.default(%x, %z2, None, 2, -100, 0.3)"#,
        &["a", "b", "c"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[1., 2., 3., 1., 0., -1.], &[2, 3]),
            i64s(&[2, 0], &[2]),
            i64s(&[2, -100], &[2]),
            i64s(&[1, -100], &[2]),
            f32s(&[1., 2., 3.], &[3]),
        ],
    );
    // F.cross_entropy(x, [2, 0], weight=[1, 2, 3], label_smoothing=0.2)
    assert_close(&out[0], &[0.6076059341430664]);
    // F.cross_entropy(x, [2, -100]): the ignored row counts neither loss nor weight.
    assert_close(&out[1], &[0.40760594606399536]);
    // F.cross_entropy(x, [1, -100], reduction='sum', label_smoothing=0.3)
    assert_close(&out[2], &[1.4076058864593506]);
}

#[test]
fn cross_entropy_with_class_probabilities() {
    let src = program(
        &[("x", "f32[2, 3]"), ("p", "f32[2, 3]"), ("w", "f32[3]")],
        r#"  %a: f32[] = aten.cross_entropy_loss.default(%x, %p, %w)
  %b: f32[2] = aten.cross_entropy_loss.default(%x, %p, None, 0, -100, 0.1)"#,
        &["a", "b"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[1., 2., 3., 1., 0., -1.], &[2, 3]),
            f32s(&[0.2, 0.3, 0.5, 1., 0., 0.], &[2, 3]),
            f32s(&[1., 2., 3.], &[3]),
        ],
    );
    // F.cross_entropy(x, p, weight=w); F.cross_entropy(x, p, reduction='none', label_smoothing=0.1)
    assert_close(&out[0], &[1.172549843788147]);
    assert_close(&out[1], &[1.137605905532837, 0.5076059699058533]);
}

#[test]
fn nll_loss_reductions_weights_and_ignore_index() {
    let src = program(
        &[
            ("x", "f32[2, 3]"),
            ("y", "i64[2]"),
            ("z", "i64[2]"),
            ("w", "f32[3]"),
        ],
        r#"  %a: f32[2] = aten.nll_loss_nd.default(%x, %y, %w, 0)
  %b: f32[] = aten.nll_loss_nd.default(%x, %y, %w, 1)
  %c: f32[] = aten.nll_loss_nd.default(%x, %z, None, 2)"#,
        &["a", "b", "c"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[-1., -2., -3., -0.5, -1.5, -2.5], &[2, 3]),
            i64s(&[0, 2], &[2]),
            i64s(&[1, -100], &[2]),
            f32s(&[1., 2., 3.], &[3]),
        ],
    );
    // F.nll_loss(x, [0, 2], weight=w, reduction='none') = [1, 7.5]; mean = 8.5 / (1 + 3)
    assert_close(&out[0], &[1.0, 7.5]);
    assert_close(&out[1], &[2.125]);
    // F.nll_loss(x, [1, -100], reduction='sum') = 2
    assert_close(&out[2], &[2.0]);
}

#[test]
fn nll_loss_out_of_range_target_is_an_error() {
    let src = program(
        &[("x", "f32[2, 3]"), ("y", "i64[2]")],
        "  %a: f32[] = aten.nll_loss_nd.default(%x, %y)",
        &["a"],
    );
    let x = f32s(&[-1., -2., -3., -0.5, -1.5, -2.5], &[2, 3]);
    assert!(try_run(&src, vec![x, i64s(&[0, 3], &[2])]).is_err());
}

#[test]
fn binary_cross_entropy_and_with_logits() {
    let src = program(
        &[
            ("x", "f32[3]"),
            ("y", "f32[3]"),
            ("w", "f32[3]"),
            ("l", "f32[3]"),
        ],
        r#"  %a: f32[] = aten.binary_cross_entropy.default(%x, %y, %w)
  %pw: f32[3] = aten.full_like.default(%w, 2)
  %b: f32[] = aten.binary_cross_entropy_with_logits.default(%l, %y, None, %pw, 2)"#,
        &["a", "b"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[0.2, 0.9, 0.5], &[3]),
            f32s(&[0., 1., 1.], &[3]),
            f32s(&[1., 2., 3.], &[3]),
            f32s(&[-1., 2., 30.], &[3]),
        ],
    );
    // F.binary_cross_entropy(x, y, weight=w)
    assert_close(&out[0], &[0.8377687335014343]);
    // F.binary_cross_entropy_with_logits(l, y, pos_weight=[2, 2, 2], reduction='sum'): the
    // logit 30 stays finite.
    assert_close(&out[1], &[0.5671178102493286]);
}

#[test]
fn pointwise_losses() {
    let src = program(
        &[
            ("a", "f32[2]"),
            ("b", "f32[2]"),
            ("h", "f32[3]"),
            ("t", "f32[3]"),
        ],
        r#"  %kl: f32[] = aten.kl_div.default(%a, %b, 2)
  %kll: f32[2] = aten.kl_div.default(%a, %b, 0, log_target=true)
  %hu: f32[2] = aten.huber_loss.default(%a, %b, 0, 2.0)
  %l1: f32[] = aten.l1_loss.default(%a, %b, 2)
  %hi: f32[3] = aten.hinge_embedding_loss.default(%h, %t, 1.5, 0)"#,
        &["kl", "kll", "hu", "l1", "hi"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[-1., -2.], &[2]),
            f32s(&[0., 0.5], &[2]),
            f32s(&[0.3, 2., -1.], &[3]),
            f32s(&[1., -1., -1.], &[3]),
        ],
    );
    // F.kl_div([-1, -2], [0, 0.5], reduction='sum'): 0 log 0 counts 0.
    assert_close(&out[0], &[0.6534264087677002]);
    // log_target: e^t (t - x) = [e^0 (0 + 1), e^0.5 (0.5 + 2)] (by hand)
    assert_close(&out[1], &[1.0, 0.5f64.exp() * 2.5]);
    // Huber, delta 2: |d| = [1, 2.5] → [0.5, 2 (2.5 - 1)] (by hand)
    assert_close(&out[2], &[0.5, 3.0]);
    assert_close(&out[3], &[3.5]);
    // F.hinge_embedding_loss([0.3, 2, -1], [1, -1, -1], margin=1.5, reduction='none')
    assert_close(&out[4], &[0.3, 0.0, 2.5]);
}

#[test]
fn margin_losses() {
    let src = program(
        &[
            ("x", "f32[2, 4]"),
            ("y", "i64[2]"),
            ("w", "f32[4]"),
            ("m", "i64[2, 4]"),
        ],
        r#"  %mm: f32[2] = aten.multi_margin_loss.default(%x, %y, 2, 1.0, %w, 0)
  %ml: f32[2] = aten.multilabel_margin_loss.default(%x, %m, 0)
  %mls: f32[] = aten.multilabel_margin_loss.default(%x, %m, 2)"#,
        &["mm", "ml", "mls"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[0.1, 0.2, 0.4, 0.8, 0.5, 0.1, 0.2, 0.3], &[2, 4]),
            i64s(&[3, 0], &[2]),
            f32s(&[1., 2., 3., 4.], &[4]),
            i64s(&[3, 0, -1, 1, 1, 2, 3, 0], &[2, 4]),
        ],
    );
    // F.multi_margin_loss(x, [3, 0], p=2, weight=w, reduction='none')
    assert_close(&out[0], &[0.6100000143051147, 0.3725000023841858]);
    // F.multilabel_margin_loss(x, m, reduction='none'): targets stop at the first -1 (the
    // 1 after it is not a target); every class is a target of the second row.
    assert_close(&out[1], &[0.8500000238418579, 0.0]);
    assert_close(&out[2], &[0.8500000238418579]);
}

#[test]
fn activations() {
    for op in [
        "aten.celu.default",
        "aten.prelu.default",
        "aten.hardshrink.default",
    ] {
        assert!(!has_kernel(op), "{op}");
    }
    let src = program(
        &[
            ("x", "f32[2]"),
            ("p", "f32[1, 2, 2]"),
            ("w", "f32[2]"),
            ("h", "f32[4]"),
        ],
        r#"  %c: f32[2] = aten.celu.default(%x, 2.0)
  %pr: f32[1,2,2] = aten.prelu.default(%p, %w)
  %hs: f32[4] = aten.hardshrink.default(%h)"#,
        &["c", "pr", "hs"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[-1., 0.5], &[2]),
            f32s(&[-1., 2., -3., 4.], &[1, 2, 2]),
            f32s(&[0.1, 0.5], &[2]),
            f32s(&[0.5, -0.4, 0.6, f32::NAN], &[4]),
        ],
    );
    // F.celu([-1, 0.5], alpha=2) = [2 (e^-0.5 - 1), 0.5]
    assert_close(&out[0], &[-0.7869386672973633, 0.5]);
    // F.prelu: channel 0 scales by 0.1, channel 1 by 0.5
    assert_close(&out[1], &[-0.1, 2.0, -1.5, 4.0]);
    // |x| <= 0.5 becomes 0; NaN stays NaN
    assert_close(&out[2], &[0.0, 0.0, 0.6, f64::NAN]);
}

#[test]
fn similarities_norms_and_nan_reductions() {
    let src = program(
        &[
            ("a", "f32[2, 2]"),
            ("b", "f32[1, 2]"),
            ("v", "f32[2]"),
            ("n", "f32[2, 3]"),
            ("r", "f32[2, 2]"),
        ],
        r#"  %cs: f32[2] = aten.cosine_similarity.default(%a, %b)
  %zero: f32[2] = aten.zeros_like.default(%v)
  %d: f32[] = aten.dist.default(%v, %zero, 3)
  %nm: f32[2] = aten.nanmean.default(%n, [1])
  %ns: f32[] = aten.nansum.default(%n)
  %rn: f32[2,2] = aten.renorm.default(%r, 2, 0, 1.0)"#,
        &["cs", "d", "nm", "ns", "rn"],
    );
    let nan = f32::NAN;
    let out = run(
        &src,
        vec![
            f32s(&[1., 0., 1., 1.], &[2, 2]),
            f32s(&[1., 1.], &[1, 2]),
            f32s(&[1., 2.], &[2]),
            f32s(&[1., nan, 3., nan, nan, 2.], &[2, 3]),
            f32s(&[3., 4., 0.3, 0.4], &[2, 2]),
        ],
    );
    // F.cosine_similarity([[1, 0], [1, 1]], [[1, 1]]) = [1/√2, 1]
    assert_close(&out[0], &[std::f64::consts::FRAC_1_SQRT_2, 1.0]);
    // torch.dist([1, 2], 0, p=3) = 9^(1/3)
    assert_close(&out[1], &[9f64.cbrt()]);
    // NaNs are absent: [(1 + 3) / 2, 2 / 1]; the sum skips them too
    assert_close(&out[2], &[2.0, 2.0]);
    assert_close(&out[3], &[6.0]);
    // torch.renorm: row 0 has norm 5 > 1 and is scaled by 1 / (5 + 1e-7); row 1 is kept
    assert_close(&out[4], &[0.6, 0.8, 0.3, 0.4]);
}

#[test]
fn instance_norm_and_batch_norm_with_update() {
    let src = program(
        &[
            ("x", "f32[1, 2, 4]"),
            ("w", "f32[2]"),
            ("b", "f32[2]"),
            ("q", "f32[2, 1]"),
            ("rm", "f32[1]"),
            ("rv", "f32[1]"),
        ],
        r#"  %n: f32[1,2,4] = aten.instance_norm.default(%x, %w, %b, None, None, true, 0.1, 1e-5, false)
  %y: f32[2,1], %m: f32[1], %is: f32[1], %res: u8[0], %nrm: f32[1], %nrv: f32[1] = aten._batch_norm_with_update_functional.default(%q, None, None, %rm, %rv, 0.5, 1e-5)"#,
        &["n", "y", "m", "nrm", "nrv"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[1., 2., 3., 4., 0., 0., 1., 1.], &[1, 2, 4]),
            f32s(&[1., 2.], &[2]),
            f32s(&[0., 1.], &[2]),
            f32s(&[1., 3.], &[2, 1]),
            f32s(&[0.5], &[1]),
            f32s(&[2.], &[1]),
        ],
    );
    // F.instance_norm(x, weight=[1, 2], bias=[0, 1])
    assert_close(
        &out[0],
        &[
            -1.3416353464126587,
            -0.44721174240112305,
            0.4472118616104126,
            1.3416354656219482,
            -0.9999599456787109,
            -0.9999599456787109,
            2.999959945678711,
            2.999959945678711,
        ],
    );
    // aten._batch_norm_with_update_functional([[1], [3]], rm=[0.5], rv=[2], momentum=0.5):
    // out [-1, 1], mean 2, running mean 1.25, running var 0.5 * 2 + 0.5 * 2 (unbiased 2)
    assert_close(&out[1], &[-0.999995, 0.999995]);
    assert_close(&out[2], &[2.0]);
    assert_close(&out[3], &[1.25]);
    assert_close(&out[4], &[2.0]);
}

#[test]
fn backward_ops() {
    let src = program(
        &[("g", "f32[3]"), ("o", "f32[3]"), ("x", "f32[1, 1, 2, 2]")],
        r#"  %s: f32[3] = aten._softmax_backward_data.default(%g, %o, 0, f32)
  %p: f32[1,1,1,1], %i: i64[1,1,1,1] = aten.max_pool2d_with_indices.default(%x, [2, 2], [2, 2], [0, 0], [1, 1], false)
  %one: f32[1,1,1,1] = aten.ones_like.default(%p)
  %gi: f32[1,1,2,2] = aten.max_pool2d_with_indices_backward.default(%one, %x, [2, 2], [2, 2], [0, 0], [1, 1], false, %i)"#,
        &["s", "gi"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[1., 2., 3.], &[3]),
            f32s(&[0.090_030_57, 0.244_728_48, 0.665_240_94], &[3]),
            f32s(&[1., 5., 2., 3.], &[1, 1, 2, 2]),
        ],
    );
    // torch.ops.aten._softmax_backward_data(g, softmax([0, 1, 2]), 0, torch.float32)
    assert_close(
        &out[0],
        &[-0.1418170928955078, -0.1407703459262848, 0.282587468624115],
    );
    // The gradient lands on the window's maximum (5, flat index 1).
    assert_close(&out[1], &[0., 1., 0., 0.]);
}

#[test]
fn logcumsumexp_kernel_handles_infinities() {
    let src = program(
        &[("x", "f32[4]")],
        "  %r: f32[4] = aten.logcumsumexp.default(%x, 0)",
        &["r"],
    );
    let out = run(&src, vec![f32s(&[0., 0., f32::NEG_INFINITY, 1000.], &[4])]);
    // torch.logcumsumexp([0, 0, -inf, 1000], 0): no overflow at 1000
    assert_close(
        &out[0],
        &[0.0, std::f64::consts::LN_2, std::f64::consts::LN_2, 1000.0],
    );
}

#[test]
fn shape_data_ops() {
    let src = program(
        &[
            ("x", "f32[2, 2]"),
            ("r", "i64[2]"),
            ("g", "f32[5]"),
            ("k", "i8[3]"),
            ("u", "f32[1, 1, 3, 3]"),
        ],
        r#"  %ri: f32[8] = aten.repeat_interleave.self_int(%x, 2, None)
  %rd: f32[2,4] = aten.repeat_interleave.self_int(%x, 2, 1)
  %rt: f32[3,2] = aten.repeat_interleave.self_Tensor(%x, %r, 0, output_size=3)
  %rs: f32[3] = aten.resize.default(%x, [3])
  %gr: f32[5] = aten.gradient.scalarint(%g, spacing=2.0, edge_order=2)
  %gk: f32[3] = aten.gradient.scalarint(%k)
  %uf: f32[1,4,4] = aten.im2col.default(%u, [2, 2], [1, 1], [1, 1], [2, 2])"#,
        &["ri", "rd", "rt", "rs", "gr", "gk", "uf"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[1., 2., 3., 4.], &[2, 2]),
            i64s(&[1, 2], &[2]),
            f32s(&[1., 4., 9., 16., 25.], &[5]),
            Tensor::from_vec(vec![1i8, 4, 9], vec![3]).unwrap(),
            f32s(&(0..9).map(|v| v as f32).collect::<Vec<_>>(), &[1, 1, 3, 3]),
        ],
    );
    // Without dim the flattened tensor; with dim 1 each column twice.
    assert_close(&out[0], &[1., 1., 2., 2., 3., 3., 4., 4.]);
    assert_close(&out[1], &[1., 1., 2., 2., 3., 3., 4., 4.]);
    // Row 0 once, row 1 twice.
    assert_close(&out[2], &[1., 2., 3., 4., 3., 4.]);
    // resize keeps the first elements
    assert_close(&out[3], &[1., 2., 3.]);
    // torch.gradient([1, 4, 9, 16, 25], spacing=2., edge_order=2) = [1, 2, 3, 4, 5]
    assert_close(&out[4], &[1., 2., 3., 4., 5.]);
    // torch.gradient(int8 [1, 4, 9]) = [3, 4, 5] (floats)
    assert_eq!(out[5].dtype(), trtfx_exec::DType::F32);
    assert_close(&out[5], &[3., 4., 5.]);
    // F.unfold(arange(9).reshape(1, 1, 3, 3), kernel_size=2, padding=1, stride=2)
    assert_close(
        &out[6],
        &[
            0., 0., 0., 4., 0., 0., 3., 5., 0., 1., 0., 7., 0., 2., 6., 8.,
        ],
    );
}

#[test]
fn resize_refuses_to_grow() {
    let src = program(
        &[("x", "f32[2]")],
        "  %r: f32[3] = aten.resize.default(%x, [3])",
        &["r"],
    );
    let e = try_run(&src, vec![f32s(&[1., 2.], &[2])]).unwrap_err();
    assert!(e.contains("uninitialised"), "{e}");
}

#[test]
fn scatter_reduce_legacy_overloads() {
    let src = program(
        &[("x", "f32[3]"), ("i", "i64[2]"), ("s", "f32[2]")],
        r#"  %a: f32[3] = aten.scatter.reduce(%x, 0, %i, %s, reduce="add")
  %m: f32[3] = aten.scatter.reduce(%x, 0, %i, %s, reduce="multiply")
  %v: f32[3] = aten.scatter.value_reduce(%x, 0, %i, 3, reduce="multiply")"#,
        &["a", "m", "v"],
    );
    let out = run(
        &src,
        vec![
            f32s(&[1., 2., 3.], &[3]),
            i64s(&[2, 2], &[2]),
            f32s(&[10., 20.], &[2]),
        ],
    );
    // Both sources land on index 2 (by hand).
    assert_close(&out[0], &[1., 2., 33.]);
    assert_close(&out[1], &[1., 2., 600.]);
    assert_close(&out[2], &[1., 2., 27.]);
}

#[test]
fn creation_and_special_kernels() {
    let src = program(
        &[
            ("s", "f32[]"),
            ("a", "f32[3]"),
            ("b", "f32[3]"),
            ("d", "f32[5]"),
            ("l", "i64[3]"),
        ],
        r#"  %ls: i64[5] = aten.linspace.Tensor_Scalar(%s, 3.9, 5, dtype=i64)
  %lg: i64[4] = aten.logspace.default(0.5, 2.7, 4, 2.0, dtype=i64)
  %ig: f32[3] = aten.igamma.default(%a, %b)
  %igc: f32[3] = aten.igammac.default(%a, %b)
  %na: f32[3] = aten.nextafter.default(%a, %b)
  %m: f32[3], %e: i32[3] = aten.frexp.Tensor(%b)
  %sr: f32[3] = aten.segment_reduce.default(%d, "max", lengths=%l, initial=0)
  %hc: f32[4] = aten.histc.default(%d, 4, 0, 8)"#,
        &["ls", "lg", "ig", "igc", "na", "m", "e", "sr", "hc"],
    );
    let out = run(
        &src,
        vec![
            Tensor::from_vec(vec![-2.5f32], vec![]).unwrap(),
            f32s(&[3., 0.5, 10.], &[3]),
            f32s(&[2., 0.3, 12.], &[3]),
            f32s(&[1., 5., 2., 7., 3.], &[5]),
            i64s(&[2, 0, 3], &[3]),
        ],
    );
    // torch.linspace(-2.5, 3.9, 5, dtype=torch.int64): the bounds truncate first
    assert_eq!(out[0].to_i64_vec(), [-2, 0, 0, 1, 3]);
    // torch.logspace(0.5, 2.7, 4, base=2., dtype=torch.int64)
    assert_eq!(out[1].to_i64_vec(), [1, 1, 2, 4]);
    // torch.igamma / torch.igammac at (3, 2), (0.5, 0.3), (10, 12)
    assert_close(
        &out[2],
        &[0.32332366704940796, 0.5614220499992371, 0.7576079964637756],
    );
    assert_close(
        &out[3],
        &[0.676676332950592, 0.43857795000076294, 0.24239207804203033],
    );
    // torch.nextafter in f32: one f32 step towards the other value
    assert_close(
        &out[4],
        &[
            f64::from(3f32.next_down()),
            f64::from(0.5f32.next_down()),
            f64::from(10f32.next_up()),
        ],
    );
    // torch.frexp([2, 0.3, 12]) = mantissas [0.5, 0.6, 0.75], exponents [2, -1, 4]
    assert_close(&out[5], &[0.5, f64::from(0.3f32) * 2.0, 0.75]);
    assert_eq!(out[6].to_i64_vec(), [2, -1, 4]);
    // torch.segment_reduce(d, 'max', lengths=[2, 0, 3], initial=0) = [5, 0, 7]
    assert_close(&out[7], &[5., 0., 7.]);
    // torch.histc([1, 5, 2, 7, 3], bins=4, min=0, max=8) = [1, 2, 1, 1]
    assert_close(&out[8], &[1., 2., 1., 1.]);
}
