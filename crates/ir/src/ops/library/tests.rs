use super::*;
use crate::ops::decomp::decompose_graph;
use crate::text::{parse_program, print_program};

/// `out = x * scale + shift`, as `docs/custom-ops.md` writes it.
const SCALE_SHIFT: &str = r#"
program {
  sym s0: size
  graph @scale_shift "trtfx_test::scale_shift(Tensor x, float scale, *, int shift=0) -> Tensor"(
      %x: f32[s0], %scale: float, %shift: int) {
    %mul: f32[s0] = aten.mul.Tensor(%x, %scale)
    %add: f32[s0] = aten.add.Tensor(%mul, %shift)
    output (%add)
  }
}
"#;

/// A program calling the op on a 4-D tensor with a keyword argument.
const CALLER: &str = r#"
program {
  sym s0: size in 1..=64
  input "x": f32[s0(min=1, opt=2, max=64), 8, 4, 4]
  graph @main(%x: f32[s0,8,4,4] = user "x") -> (user) {
    %y: f32[s0,8,4,4] = trtfx_test.scale_shift.default(%x, 0.5, shift=3) {recorded_types}
    %r: f32[s0,8,4,4] = aten.relu.default(%y)
    output (%r)
  }
}
"#;

fn libs(texts: &[&str]) -> Result<OpLibraries, LibraryError> {
    let mut l = OpLibraries::new();
    for (i, t) in texts.iter().enumerate() {
        l.add(OpLibrary::parse(t, &format!("lib{i}.fxir"))?)?;
    }
    Ok(l)
}

fn err_of(texts: &[&str]) -> String {
    match libs(texts).and_then(|l| l.registry().map(|_| ())) {
        Ok(()) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn parses_the_canonical_form_and_prints_it_back() {
    let lib = OpLibrary::parse(SCALE_SHIFT, "s.fxir").expect("parses");
    assert_eq!(lib.ops().len(), 1);
    let op = &lib.ops()[0];
    assert_eq!(op.name, "trtfx_test.scale_shift.default");
    assert_eq!(op.schema.args.len(), 3);
    assert!(op.schema.args[2].kwarg_only);
    let again = OpLibrary::parse(&lib.to_text(), "again.fxir").expect("reparses");
    assert_eq!(again.to_text(), lib.to_text());
}

#[test]
fn inference_follows_the_body_for_any_rank() {
    let reg = libs(&[SCALE_SHIFT]).unwrap().registry().unwrap();
    let mut p = parse_program(CALLER).unwrap();
    // The body is written for rank 1; the call is rank 4 and keeps its recorded type.
    let report = crate::aten::check_program(&p, &reg);
    assert!(report.ok(), "{report}");
    // Inference alone (not the recorded type) gives f32[s0,8,4,4].
    let g = p.main_graph();
    let y = g.node(g.nodes().nth(1).unwrap()).results[0];
    let main = p.main;
    p.graphs[main].set_ty(y, Type::None);
    crate::aten::infer_program(&mut p, &reg).unwrap();
    let g = p.main_graph();
    assert_eq!(g.ty(y).to_string(), "f32[s0,8,4,4]");
}

#[test]
fn the_body_is_the_decomposition_with_the_call_literals_inlined() {
    let reg = libs(&[SCALE_SHIFT]).unwrap().registry().unwrap();
    let mut p = parse_program(CALLER).unwrap();
    let main = p.main;
    let n = decompose_graph(
        &mut p.graphs[main],
        &reg,
        &|t| t.starts_with("trtfx_test."),
        4,
    )
    .unwrap();
    assert_eq!(n, 1);
    insta::assert_snapshot!(print_program(&p));
}

#[test]
fn defaults_fill_omitted_arguments() {
    let reg = libs(&[SCALE_SHIFT]).unwrap().registry().unwrap();
    let mut p = parse_program(&CALLER.replace(", shift=3", "")).unwrap();
    let main = p.main;
    decompose_graph(&mut p.graphs[main], &reg, &|_| true, 4).unwrap();
    let text = print_program(&p);
    assert!(text.contains("aten.add.Tensor(%y_mul_1, 0)"), "{text}");
}

#[test]
fn a_body_may_call_another_library_op() {
    let twice = r#"
graph @t "mylib::twice(Tensor x) -> Tensor"(%x: f32[4]) {
  %a: f32[4] = trtfx_test.scale_shift.default(%x, 2.0)
  output (%a)
}
"#;
    let reg = libs(&[SCALE_SHIFT, twice]).unwrap().registry().unwrap();
    let mut p = parse_program(
        r#"graph @main(%x: f32[2,3] = user "x") -> (user) {
  %y: f32[2,3] = mylib.twice.default(%x)
  output (%y)
}"#,
    )
    .unwrap();
    assert!(crate::aten::check_program(&p, &reg).ok());
    let main = p.main;
    assert_eq!(
        decompose_graph(&mut p.graphs[main], &reg, &|_| true, 4).unwrap(),
        2
    );
    let text = print_program(&p);
    assert!(text.contains("aten.mul.Tensor(%x, 2.0)"), "{text}");
    assert!(
        !text.contains("= mylib.") && !text.contains("= trtfx_test."),
        "{text}"
    );
}

#[test]
fn recursion_is_refused_directly_and_through_a_cycle() {
    let direct = r#"
graph @f "mylib::f(Tensor x) -> Tensor"(%x: f32[4]) {
  %a: f32[4] = mylib.f.default(%x)
  output (%a)
}
"#;
    assert_eq!(
        err_of(&[direct]),
        "lib0.fxir: op library: recursive body: the body of `mylib.f.default` calls \
         `mylib.f.default` itself (a body is inlined, so it cannot call its own operator)"
    );
    let cycle = r#"
graph @f "mylib::f(Tensor x) -> Tensor"(%x: f32[4]) {
  %a: f32[4] = mylib.g.default(%x)
  output (%a)
}
graph @g "mylib::g(Tensor x) -> Tensor"(%x: f32[4]) {
  %a: f32[4] = aten.neg.default(%x)
  %b: f32[4] = mylib.f.default(%a)
  output (%b)
}
"#;
    assert_eq!(
        err_of(&[cycle]),
        "lib0.fxir: op library: recursive body: `mylib.f.default` calls `mylib.g.default` \
         calls `mylib.f.default` (a body is inlined, so operators cannot call each other in a \
         cycle)"
    );
}

#[test]
fn malformed_libraries_are_one_line_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "graph @f(%x: f32[4]) {\n  output (%x)\n}",
            "lib0.fxir: op library: graph @f: its name must be the operator's schema \
             (`ns::op(Tensor x, float scale) -> Tensor`): ",
        ),
        (
            "graph @f \"mylib::f(Tensor x, float s) -> Tensor\"(%x: f32[4]) {\n  output (%x)\n}",
            "lib0.fxir: op library: the body of `mylib.f.default` has 1 placeholder(s), its \
             schema 2 argument(s)",
        ),
        (
            "graph @f \"mylib::f(Tensor x, float s) -> Tensor\"(%x: f32[4], %s: f32[4]) {\n  output (%x)\n}",
            "lib0.fxir: op library: the body of `mylib.f.default`: placeholder %s is f32[4], \
             but schema argument `s` is a float",
        ),
        (
            "graph @f \"mylib::f(Tensor x) -> (Tensor, Tensor)\"(%x: f32[4]) {\n  output (%x)\n}",
            "lib0.fxir: op library: the body of `mylib.f.default` returns 1 value(s), its schema 2",
        ),
        (
            "graph @f \"aten::relu(Tensor self) -> Tensor\"(%x: f32[4]) {\n  output (%x)\n}",
            "lib0.fxir: op library: `aten.relu.default` is a standard operator",
        ),
        (
            "graph @f \"mylib::f(Tensor x) -> Tensor\"(%x: f32[4]) {\n  %w: f32[4] = get_attr \"w\"\n  output (%w)\n}",
            "lib0.fxir: op library: the body of `mylib.f.default` reads weight `w`",
        ),
        (
            "graph @f \"mylib::f(Tensor x) -> Tensor\"(%x: f32[4]) {\n  %a: f32[4] = mylib.nope.default(%x)\n  output (%a)\n}",
            "lib0.fxir: op library: the body of `mylib.f.default` calls `mylib.nope.default`, \
             which is neither a standard operator nor defined by a loaded library",
        ),
        ("graph @f \"mylib::f(", "lib0.fxir: op library: not valid .fxir: "),
    ];
    for (text, want) in cases {
        let got = err_of(&[text]);
        assert!(got.starts_with(want), "{text}\n got: {got}\nwant: {want}");
        assert!(!got.contains('\n'), "{got}");
    }
}

#[test]
fn a_second_different_definition_is_refused_and_an_identical_one_merged() {
    let mut l = libs(&[SCALE_SHIFT]).unwrap();
    l.add(OpLibrary::parse(SCALE_SHIFT, "copy.fxir").unwrap())
        .expect("the same definition twice is fine");
    assert_eq!(l.len(), 1);
    let other = SCALE_SHIFT.replace("aten.add.Tensor", "aten.sub.Tensor");
    let e = l
        .add(OpLibrary::parse(&other, "other.fxir").unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "other.fxir: op library: `trtfx_test.scale_shift.default` is already defined, \
         differently, by lib0.fxir"
    );
}

#[test]
fn calls_that_do_not_fit_the_library_schema_are_refused() {
    let l = libs(&[SCALE_SHIFT]).unwrap();
    let ok = parse_program(CALLER).unwrap();
    l.check_program(&ok).expect("the fixture's call fits");
    let cases: &[(&str, &str, &str)] = &[
        (
            ", shift=3",
            ", offset=3",
            "unknown keyword argument `offset`",
        ),
        (
            "0.5, shift=3",
            "%x, shift=3",
            "argument `scale` is a float in the library, the program passes f32[s0,8,4,4]",
        ),
        ("(%x, 0.5, shift=3)", "(%x)", "scale"),
        ("(%x, 0.5, shift=3)", "(%x, 0.5, 3, 4)", "positional"),
    ];
    for (from, to, want) in cases {
        let p = parse_program(&CALLER.replace(from, to)).unwrap();
        let e = l.check_program(&p).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "lib0.fxir: op library: schema mismatch: node `y` of @main calls \
                 `trtfx_test.scale_shift.default` in a way the schema \
                 `trtfx_test::scale_shift(Tensor x, float scale, *, int shift=0) -> Tensor` \
                 of op library lib0.fxir does not allow: "
            ),
            "{e}"
        );
        assert!(e.contains(want), "{to}: {e}");
    }
}

#[test]
fn used_by_keeps_the_libraries_a_program_calls() {
    let other = r#"graph @g "other::g(Tensor x) -> Tensor"(%x: f32[4]) {
  output (%x)
}"#;
    let l = libs(&[SCALE_SHIFT, other]).unwrap();
    let p = parse_program(CALLER).unwrap();
    let used = l.used_by(&p);
    assert_eq!(used.len(), 1);
    assert_eq!(used.iter().next().unwrap().origin(), "lib0.fxir");
}
