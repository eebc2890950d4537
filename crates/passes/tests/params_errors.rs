//! The two classic weight-binding failures, reproduced on purpose, with the error trtfx gives
//! instead; plus the refusals of the passes, `param_report` and the registry entries.

use trtfx_ir::text::parse_program;
use trtfx_ir::{InputKind, Program};
use trtfx_passes::passes::params::{
    check_weight_bindings, infer_kind, lift, param_report, unlift, WeightKinds,
};
use trtfx_passes::{PassManager, PassRegistry};

/// conv → custom op → conv, weights lifted: 1 user input, 4 parameters.
const LIFTED: &str = r#"
input "x": f32[1,3,8,8]
weight "conv1.weight": f32[4,3,3,3]
weight "conv1.bias": f32[4]
weight "conv2.weight": f32[2,4,3,3]
weight "conv2.bias": f32[2]
graph @main(%p_conv1_weight: f32[4,3,3,3] = param "conv1.weight", %p_conv1_bias: f32[4] = param "conv1.bias", %p_conv2_weight: f32[2,4,3,3] = param "conv2.weight", %p_conv2_bias: f32[2] = param "conv2.bias", %x: f32[1,3,8,8] = user "x") -> (user) {
  %c1: f32[1,4,6,6] = aten.convolution.default(%x, %p_conv1_weight, %p_conv1_bias, [1, 1], [0, 0], [1, 1], false, [0, 0], 1)
  %s: f32[1,4,6,6] = trtfx_test.scale_shift.default(%c1, 2.0, shift=1.0) {recorded_types}
  %c2: f32[1,2,4,4] = aten.convolution.default(%s, %p_conv2_weight, %p_conv2_bias, [1, 1], [0, 0], [1, 1], false, [0, 0], 1)
  output (%c2)
}
"#;

fn lifted() -> Program {
    let p = parse_program(LIFTED).unwrap();
    check_weight_bindings(&p).unwrap();
    p
}

#[test]
fn signature_missing_parameter_entries_is_named() {
    // "Unexpected number of inputs (expected 3, got 1)": the placeholders were lifted but the
    // signature still lists only the user input.
    let mut p = lifted();
    p.signature
        .inputs
        .retain(|k| matches!(k, InputKind::User { .. }));
    let errs = check_weight_bindings(&p).unwrap_err();
    assert_eq!(
        errs,
        ["main graph has 5 placeholders but the signature lists 1 input (expected 5 inputs, got 1)"]
    );
    // The passes refuse to guess which placeholder is what.
    let e = lift(&mut p.clone(), None).unwrap_err();
    assert!(e.message.contains("expected 5 inputs, got 1"), "{e}");
    let e = unlift(&mut p, None).unwrap_err();
    assert!(e.message.contains("expected 5 inputs, got 1"), "{e}");
}

#[test]
fn three_placeholders_one_signature_input() {
    // The issue's exact shape: 3 placeholders (weight, bias, x), signature lists 1.
    let mut p = parse_program(
        r#"
input "x": f32[2]
weight "w": f32[2]
weight "b": f32[2]
graph @main(%w: f32[2] = param "w", %b: f32[2] = param "b", %x: f32[2] = user "x") -> (user) {
  %m: f32[2] = aten.mul.Tensor(%x, %w)
  %a: f32[2] = aten.add.Tensor(%m, %b)
  output (%a)
}
"#,
    )
    .unwrap();
    p.signature.inputs.drain(0..2);
    assert_eq!(
        check_weight_bindings(&p).unwrap_err(),
        ["main graph has 3 placeholders but the signature lists 1 input (expected 3 inputs, got 1)"]
    );
}

#[test]
fn deleted_parameter_is_named() {
    let mut p = lifted();
    p.weights.shift_remove("conv2.weight");
    assert_eq!(
        check_weight_bindings(&p).unwrap_err(),
        ["signature input 2 is parameter `conv2.weight`, but the weight store has no `conv2.weight`"]
    );
    let e = unlift(&mut p, None).unwrap_err();
    assert!(
        e.message
            .contains("signature input 2 is parameter `conv2.weight`, but the weight store has no `conv2.weight`"),
        "{e}"
    );
}

#[test]
fn deleted_attribute_is_named() {
    // "GraphModule does not contain attribute conv_weight": unlifted, then the weight is lost.
    let mut p = lifted();
    unlift(&mut p, None).unwrap();
    check_weight_bindings(&p).unwrap();
    p.weights.shift_remove("conv1.weight");
    assert_eq!(
        check_weight_bindings(&p).unwrap_err(),
        ["get_attr `conv1.weight` in @main: no such weight"]
    );
    let e = lift(&mut p, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("get_attr `conv1.weight` in @main: no such weight"),
        "{e}"
    );
    assert!(e.to_string().contains("p_conv1_weight"), "anchored: {e}");
}

#[test]
fn wrong_shape_and_double_binding_are_named() {
    let mut p = lifted();
    let w = p.weights["conv2.bias"].clone();
    p.weights.insert(
        "conv2.bias".into(),
        trtfx_ir::Weight::from_bytes(w.dtype, vec![3], vec![0u8; 12]),
    );
    p.signature.inputs[1] = InputKind::Parameter {
        target: "conv1.weight".into(),
    };
    let errs = check_weight_bindings(&p).unwrap_err();
    assert_eq!(
        errs,
        [
            "signature inputs 0 and 1 both bind weight `conv1.weight` (each weight is lifted once)",
            "signature input 1 (parameter `conv1.weight`): node `p_conv1_bias` has type f32[4] but the weight is f32[4,3,3,3]",
            "signature input 3 (parameter `conv2.bias`): node `p_conv2_bias` has type f32[2] but the weight is f32[3]",
        ]
    );
}

#[test]
fn kinds_from_table_then_names_then_parameter() {
    let t = WeightKinds::new();
    assert_eq!(
        infer_kind(Some(&t), "w", "w"),
        InputKind::Parameter { target: "w".into() }
    );
    assert_eq!(
        infer_kind(None, "bn.mean", "b_bn_mean"),
        InputKind::Buffer {
            target: "bn.mean".into(),
            persistent: true
        }
    );
    assert_eq!(
        infer_kind(None, "_tensor_constant3", "t"),
        InputKind::Constant {
            target: "_tensor_constant3".into()
        }
    );
    assert_eq!(
        infer_kind(None, "k", "c_k"),
        InputKind::Constant { target: "k".into() }
    );
    let nonpersistent = InputKind::Buffer {
        target: "bn.mean".into(),
        persistent: false,
    };
    t.record(&nonpersistent);
    assert_eq!(infer_kind(Some(&t), "bn.mean", "b_bn_mean"), nonpersistent);
}

#[test]
fn report_lists_inputs_and_weights() {
    let mut p = lifted();
    p.weights.insert(
        "unused".into(),
        trtfx_ir::Weight::from_bytes(trtfx_ir::DType::F16, vec![8], vec![0u8; 16]),
    );
    insta::assert_snapshot!(param_report(&p), @r"
    kind          name          dtype  shape             bytes
    parameter     conv1.weight  f32    [4,3,3,3]           432
    parameter     conv1.bias    f32    [4]                  16
    parameter     conv2.weight  f32    [2,4,3,3]           288
    parameter     conv2.bias    f32    [2]                   8
    user input    x             f32    [1,3,8,8]             -
    unreferenced  unused        f16    [8]                  16
    total: 1 user input, 4 parameters (744 bytes), 0 buffers (0 bytes), 0 constants (0 bytes), 1 unreferenced (16 bytes)
    weight store: 5 weights holding 760 bytes
    ");
    unlift(&mut p, None).unwrap();
    let r = param_report(&p);
    assert!(r.contains("get_attr      conv1.weight"), "{r}");
    assert!(r.contains("4 get_attrs (744 bytes)"), "{r}");
}

#[test]
fn registry_pipeline_restores_kinds() {
    let src = r#"
input "x": f32[2]
weight "w": f32[2]
weight "tmp": f32[2]
graph @main(%w: f32[2] = param "w", %tmp: f32[2] = buffer "tmp" nonpersistent, %x: f32[2] = user "x") -> (user) {
  %m: f32[2] = aten.mul.Tensor(%x, %w)
  %a: f32[2] = aten.add.Tensor(%m, %tmp)
  output (%a)
}
"#;
    let p0 = parse_program(src).unwrap();
    let reg = PassRegistry::with_builtins();
    let mut p = p0.clone();
    let mut pm = PassManager::parse(&reg, "unlift-params,dce,lift-params").unwrap();
    pm.run(&mut p).unwrap();
    assert_eq!(p, p0);
    // A separate pipeline from the same registry shares the table too.
    let mut p = p0.clone();
    PassManager::parse(&reg, "unlift-params")
        .unwrap()
        .run(&mut p)
        .unwrap();
    PassManager::parse(&reg, "lift-params")
        .unwrap()
        .run(&mut p)
        .unwrap();
    assert_eq!(p, p0);
}

#[test]
fn options_are_checked_and_printed() {
    let reg = PassRegistry::with_builtins();
    assert!(PassManager::parse(&reg, "lift-params{x=1}").is_err());
    let pm = PassManager::parse(&reg, "freeze-params{ops=[aten.convolution.default]}").unwrap();
    assert_eq!(
        pm.pipeline().to_string(),
        "freeze-params{ops=[aten.convolution.default]}"
    );
}
