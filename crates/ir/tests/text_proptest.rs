//! The parser never panics: arbitrary strings, and valid printed programs truncated or with
//! bytes flipped. Case counts are modest; `PROPTEST_CASES` raises them locally.

mod text_common;

use proptest::prelude::*;
use trtfx_ir::text::{parse_bytes, parse_program, print_program};

fn printed() -> Vec<String> {
    text_common::all()
        .iter()
        .map(|(_, p)| print_program(p))
        .collect()
}

/// Tokens of the format, so random strings get past the lexer often enough to exercise the
/// parser.
fn tokenish() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("program".to_string()),
        Just("graph".to_string()),
        Just("sym".to_string()),
        Just("s0".to_string()),
        Just("size".to_string()),
        Just("%x".to_string()),
        Just("@g".to_string()),
        Just("f32".to_string()),
        Just("list".to_string()),
        Just("floordiv".to_string()),
        Just("output".to_string()),
        Just("aten.add.Tensor".to_string()),
        Just("\"s\"".to_string()),
        Just("-".to_string()),
        Just("9223372036854775808".to_string()),
        Just("1.5e300".to_string()),
        Just("nan(".to_string()),
        "[(){}<>\\[\\],:=*+?.#\n ]",
        "[a-z0-9_%@\"\\\\.]{1,4}",
    ];
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.join(" "))
}

/// 64 cases unless `PROPTEST_CASES` says otherwise (`with_cases` alone would ignore it).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_strings_never_panic(s in ".*") {
        let _ = parse_program(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_bytes(&b);
    }

    #[test]
    fn token_soup_never_panics(s in tokenish()) {
        let _ = parse_program(&s);
    }

    #[test]
    fn truncated_programs_never_panic(which in 0usize..4, cut in any::<prop::sample::Index>()) {
        let texts = printed();
        let text = &texts[which % texts.len()];
        let bytes = text.as_bytes();
        let at = cut.index(bytes.len() + 1);
        let _ = parse_bytes(&bytes[..at]);
    }

    #[test]
    fn mutated_programs_never_panic(
        which in 0usize..4,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let texts = printed();
        let mut bytes = texts[which % texts.len()].clone().into_bytes();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        if let Ok(p) = parse_bytes(&bytes) {
            // Whatever parsed must print and parse again to the same program.
            let again = print_program(&p);
            let q = parse_program(&again).expect("reparse of printed program");
            prop_assert!(q == p);
        }
    }
}
