//! JSON serialization: generated programs round-trip exactly; bad input fails cleanly.

use proptest::prelude::*;
use trtfx_ir::program::JsonError;
use trtfx_ir::testgen::{arb_program, sample_program, GenConfig};
use trtfx_ir::Program;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    /// `from_json(to_json(p)) == p`, and the reread program serializes to the same text.
    #[test]
    fn json_round_trip(p in arb_program(GenConfig::default())) {
        let s = p.to_json().expect("serializes");
        let q = Program::from_json(&s).expect("reads back");
        prop_assert_eq!(&q, &p);
        prop_assert_eq!(q.to_json().expect("serializes"), s);
    }

    /// Arbitrary bytes never panic the reader.
    #[test]
    fn garbage_never_panics(s in ".{0,200}") {
        let _ = Program::from_json(&s);
    }

    /// Truncating valid JSON anywhere gives an error, not a panic.
    #[test]
    fn truncated_json_is_an_error(cut in 0usize..10_000) {
        let s = sample_program().to_json().expect("serializes");
        let cut = cut % s.len();
        if let Some(prefix) = s.get(..cut) {
            prop_assert!(Program::from_json(prefix).is_err());
        }
    }
}

#[test]
fn sample_round_trips() {
    let p = sample_program();
    let q = Program::from_json(&p.to_json().unwrap()).unwrap();
    assert_eq!(p, q);
}

#[test]
fn wrong_format_version_is_a_clear_error() {
    let s = sample_program().to_json().unwrap();
    let bumped = s.replacen("\"format_version\":1", "\"format_version\":99", 1);
    assert_ne!(s, bumped, "the envelope layout changed");
    let err = Program::from_json(&bumped).unwrap_err();
    assert!(matches!(err, JsonError::Version(99)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("format version 99"), "{msg}");
    assert!(msg.contains("reads version 1"), "{msg}");
}

#[test]
fn missing_format_version_is_an_error() {
    let err = Program::from_json(r#"{"program": {}}"#).unwrap_err();
    assert!(matches!(err, JsonError::Json(_)), "{err:?}");
}

#[test]
fn garbage_json_is_an_error() {
    for s in [
        "",
        "not json",
        "{",
        "[]",
        "null",
        "{\"format_version\": \"1\"}",
        "{\"format_version\": 1}",
        "{\"format_version\": 1, \"program\": 42}",
        "{\"format_version\": 1, \"program\": {\"graphs\": []}}",
        "{\"format_version\": -1}",
    ] {
        let err = Program::from_json(s).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid program JSON")
                || matches!(err, JsonError::Version(_)),
            "{s}: {err}"
        );
    }
}

/// A weight whose payload cannot be held survives as opaque; one with neither bytes nor a
/// reason is refused.
#[test]
fn weight_without_data_is_an_error() {
    let s = sample_program().to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let mut v2 = v.clone();
    v2["program"]["weights"]["bias"]
        .as_object_mut()
        .unwrap()
        .remove("bytes");
    let err = Program::from_json(&v2.to_string()).unwrap_err();
    assert!(err.to_string().contains("weight without data"), "{err}");
}

proptest! {
    #![proptest_config(config())]

    /// Every float literal survives JSON bit for bit: infinities, NaN payloads, signed zero,
    /// subnormals, and the full precision of normal numbers.
    #[test]
    fn float_literals_round_trip(x in proptest::num::f64::ANY, y in proptest::num::f64::ANY) {
        use trtfx_ir::{Arg, F64};
        let a = Arg::List(vec![Arg::Float(F64(x)), Arg::Complex(F64(x), F64(y))]);
        let s = serde_json::to_string(&a).expect("serializes");
        let b: Arg = serde_json::from_str(&s).expect("reads back");
        prop_assert_eq!(a, b, "{}", s);
    }
}
