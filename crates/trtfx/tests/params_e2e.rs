//! Parameter lifting end to end on `customop.pt2` (conv → custom op → relu → conv): import,
//! lift → unlift → lift, and every form runs in the executor with PyTorch's outputs. Then the
//! two classic failures on purpose: a signature that lost its parameter entries ("expected 3
//! inputs, got 1") and a deleted attribute ("does not contain attribute conv_weight") are
//! clear errors, not crashes or wrong bindings.

mod common;

use common::{assert_matches_goldens, fixtures, run};
use trtfx::ir::{InputKind, Op, Program};
use trtfx::passes::passes::params::{check_weight_bindings, lift, unlift, WeightKinds};

fn assert_matches_pytorch(p: &Program, what: &str, io: &trtfx::io::IoTensors) {
    check_weight_bindings(p).unwrap_or_else(|e| panic!("{what}: {}", e.join("\n")));
    assert_matches_goldens(p, what, io);
}

fn load() -> (Program, trtfx::io::IoTensors) {
    let p = trtfx::frontend::import_pt2(fixtures().join("customop.pt2")).expect("import");
    let io = trtfx::io::read_io(&fixtures().join("customop.io.safetensors")).expect("goldens");
    (p, io)
}

#[test]
fn lift_unlift_lift_matches_pytorch() {
    let (p, io) = load();
    assert_matches_pytorch(&p, "imported", &io);
    let n_weights = p
        .signature
        .inputs
        .iter()
        .filter(|k| k.weight_target().is_some())
        .count();
    assert_eq!(n_weights, 4, "two convolutions, weight and bias each");

    let kinds = WeightKinds::new();
    let mut l = p.clone();
    lift(&mut l, Some(&kinds)).unwrap();
    assert_matches_pytorch(&l, "lifted", &io);

    let mut u = l.clone();
    assert_eq!(unlift(&mut u, Some(&kinds)).unwrap(), 4);
    assert!(u
        .signature
        .inputs
        .iter()
        .all(|k| k.weight_target().is_none()));
    assert_matches_pytorch(&u, "unlifted", &io);

    let mut l2 = u.clone();
    assert_eq!(lift(&mut l2, Some(&kinds)).unwrap().0, 4);
    assert_eq!(l2, l, "lift ∘ unlift is the identity");
    assert_matches_pytorch(&l2, "lifted again", &io);

    // Through text and JSON: nothing is lost on save/load.
    let json = Program::from_json(&u.to_json().unwrap()).unwrap();
    assert_eq!(json, u);
    assert_matches_pytorch(&json, "unlifted, after JSON", &io);
}

#[test]
fn one_input_for_a_lifted_graph_is_fine_and_a_broken_signature_is_named() {
    let (p, io) = load();
    let mut l = p.clone();
    lift(&mut l, None).unwrap();
    // The user passes only `x`: weights are bound from the store by signature, so the graph's
    // five placeholders are not "expected 5 inputs, got 1".
    assert_eq!(l.main_graph().placeholders().len(), 5);
    assert_eq!(io.inputs.len(), 1);
    assert_matches_pytorch(&l, "lifted, one user input", &io);

    // Now break the signature on purpose: drop the parameter entries.
    let mut broken = l.clone();
    broken
        .signature
        .inputs
        .retain(|k| matches!(k, InputKind::User { .. }));
    let errs = check_weight_bindings(&broken).unwrap_err();
    assert_eq!(
        errs,
        ["main graph has 5 placeholders but the signature lists 1 input (expected 5 inputs, got 1)"]
    );
    let e = run(&broken, &io.inputs).unwrap_err();
    assert!(e.contains("5 placeholders"), "executor: {e}");
}

#[test]
fn deleted_attribute_is_named() {
    let (p, io) = load();
    let mut u = p.clone();
    unlift(&mut u, None).unwrap();
    let g = u.main_graph();
    let target = g
        .nodes()
        .find_map(|n| match &g.node(n).op {
            Op::GetAttr { target } => Some(target.clone()),
            _ => None,
        })
        .unwrap();
    u.weights.shift_remove(&target);
    let errs = check_weight_bindings(&u).unwrap_err();
    assert_eq!(
        errs,
        [format!("get_attr `{target}` in @main: no such weight")]
    );
    let e = run(&u, &io.inputs).unwrap_err();
    assert!(e.contains(&target), "executor names the weight: {e}");

    let mut l = p.clone();
    lift(&mut l, None).unwrap();
    l.weights.shift_remove(&target);
    let errs = check_weight_bindings(&l).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].ends_with(&format!(
            "`{target}`, but the weight store has no `{target}`"
        )),
        "{errs:?}"
    );
}
