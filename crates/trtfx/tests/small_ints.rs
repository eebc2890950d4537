//! `CompileSettings::small_int` (default `Int32`): u8/i8/i16 programs run on TensorRT, which
//! has no arithmetic on those types, in i32 with wrap-around repaired after every operator
//! that can leave the narrow range. The compiled artifact (one whole-program TensorRT segment,
//! run on the layer emulator) must give exactly what the executor computes in the narrow
//! types, on inputs chosen to overflow, also after a save/load round trip; with `Native`
//! the same program cannot be compiled whole and the refusal names the narrow type.

use trtfx::exec::interp::{Executor, Value};
use trtfx::exec::Tensor;
use trtfx::{compile, CompileSettings, CompiledProgram, SegmentBackend, SmallIntPolicy};

/// Overflowing u8 products and sums, an i8 negation (of -128 too), an i16 sum of a widened
/// u8 and an i8, a u8 comparison on wrapped values, a view, a select of two u8 tensors, and a
/// u8 literal fill: every output in its narrow type.
const PROGRAM: &str = r#"program {
  input "x": u8[6]
  input "y": i8[6]
  graph @main(%x: u8[6] = user "x", %y: i8[6] = user "y") -> (user, user, user, user, user, user) {
    %sq: u8[6] = aten.mul.Tensor(%x, %x)
    %s: u8[6] = aten.add.Scalar(%sq, 100)
    %n: i8[6] = aten.neg.default(%y)
    %d: i8[6] = aten.sub.Tensor(%n, %y)
    %w: i16[6] = aten.add.Tensor(%x, %y)
    %lt: bool[6] = aten.lt.Tensor(%s, %x)
    %v: u8[2,3] = aten.view.default(%s, [2, 3])
    %m: u8[6] = aten.where.self(%lt, %sq, %x)
    %f: u8[6] = aten.full_like.default(%x, 250)
    %fm: u8[6] = aten.add.Tensor(%m, %f)
    output (%v, %d, %w, %lt, %fm, %n)
  }
}
"#;

fn inputs() -> Vec<Tensor> {
    vec![
        Tensor::from_vec(vec![0u8, 1, 15, 16, 200, 255], vec![6]).unwrap(),
        Tensor::from_vec(vec![-128i8, -1, 0, 1, 100, 127], vec![6]).unwrap(),
    ]
}

fn settings(small_int: SmallIntPolicy) -> CompileSettings {
    CompileSettings {
        min_block_size: 1,
        require_full_compilation: true,
        build_plans: false,
        small_int,
        ..Default::default()
    }
}

fn check_outputs(c: &CompiledProgram, want: &[Tensor], what: &str) {
    let run = c
        .run(&inputs())
        .unwrap_or_else(|e| panic!("{what}: run: {e}"));
    assert_eq!(run.outputs.len(), want.len(), "{what}");
    for (i, (got, w)) in run.outputs.iter().zip(want).enumerate() {
        assert_eq!(got.dtype(), w.dtype(), "{what} out_{i}: dtype");
        assert_eq!(got.shape(), w.shape(), "{what} out_{i}: shape");
        assert_eq!(got.to_i64_vec(), w.to_i64_vec(), "{what} out_{i}");
    }
    assert!(
        !run.trt_calls.is_empty(),
        "{what}: TensorRT segment not called"
    );
}

#[test]
fn narrow_integer_programs_compile_whole_and_wrap_exactly() {
    let program = trtfx::ir::parse_program(PROGRAM).expect("parse");
    let want: Vec<Tensor> = Executor::new(&program)
        .run(&inputs().into_iter().map(Value::Tensor).collect::<Vec<_>>())
        .expect("exec")
        .into_iter()
        .map(|v| v.as_tensor().expect("tensor").clone())
        .collect();
    // The executor's narrow arithmetic, spelled out for the values that wrap.
    assert_eq!(want[0].to_i64_vec(), vec![100, 101, 69, 100, 164, 101]);
    assert_eq!(want[5].to_i64_vec(), vec![-128, 1, 0, -1, -100, -127]);

    let c = compile(&program, &settings(SmallIntPolicy::Int32)).expect("compile");
    assert_eq!(c.segments.len(), 1, "{}", c.report());
    assert_eq!(c.segments[0].backend, SegmentBackend::Trt);
    check_outputs(&c, &want, "compiled");
    let bytes = c.to_bytes().expect("save");
    let loaded =
        CompiledProgram::from_bytes(&bytes, std::path::Path::new("small.trtfx")).expect("load");
    check_outputs(&loaded, &want, "loaded");

    let e = compile(&program, &settings(SmallIntPolicy::Native))
        .expect_err("native narrow types cannot be compiled whole")
        .to_string();
    assert!(
        e.contains("u8 tensors are not supported by TensorRT"),
        "{e}"
    );
}

/// An operator whose narrow computation wraps inside itself (a loss over u8) is left on the
/// executor with that reason, rather than computed wide and wrapped once.
#[test]
fn composites_over_narrow_values_stay_on_the_executor() {
    let src = r#"program {
  input "a": u8[3]
  input "b": u8[3]
  graph @main(%a: u8[3] = user "a", %b: u8[3] = user "b") -> (user) {
    %d: f32[] = aten.pairwise_distance.default(%a, %b)
    output (%d)
  }
}
"#;
    let program = trtfx::ir::parse_program(src).expect("parse");
    let e = compile(&program, &settings(SmallIntPolicy::Int32))
        .expect_err("pairwise_distance over u8 must not be widened")
        .to_string();
    assert!(e.contains("wraps around inside itself"), "{e}");
}
