//! Property tests of the verifier on generated programs: valid programs pass, and each kind of
//! mutation is rejected with a diagnostic naming the mutated node (or the removed symbol).

use proptest::prelude::*;
use trtfx_ir::testgen::{
    apply_mutation, arb_graph_mutation, arb_program, build_program, sample_program, test_registry,
    GenConfig, MutationKind,
};
use trtfx_ir::verify::{render, verify_program, verify_types_with};

fn config() -> ProptestConfig {
    // PROPTEST_CASES in the environment overrides this (proptest reads it for the default).
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    /// Generated programs are well formed, with and without schema checks, and re-inference
    /// agrees with the stored types.
    #[test]
    fn generated_programs_verify(p in arb_program(GenConfig::default())) {
        let reg = test_registry();
        if let Err(d) = verify_program(&p, None) {
            prop_assert!(false, "{}\n{}", render(&d), trtfx_ir::print_program(&p));
        }
        if let Err(d) = verify_types_with(&p, &reg) {
            prop_assert!(false, "{}\n{}", render(&d), trtfx_ir::print_program(&p));
        }
    }

    /// Every mutation is caught, at the node it was applied to.
    #[test]
    fn mutations_are_rejected_at_the_node(m in arb_graph_mutation(GenConfig::default())) {
        let reg = test_registry();
        let diags = match verify_program(&m.program, Some(&reg)) {
            Ok(()) => {
                prop_assert!(false, "{:?} not detected", m.kind);
                unreachable!()
            }
            Err(d) => d,
        };
        let text = render(&diags);
        match m.kind {
            MutationKind::UndeclaredSymbol => {
                let s = m.symbol.clone().expect("symbol mutation names its symbol");
                prop_assert!(!m.symbol_users.is_empty());
                for (g, n) in &m.symbol_users {
                    prop_assert!(
                        diags.iter().any(|d| &d.graph == g
                            && d.node.as_ref() == Some(n)
                            && d.symbol.as_ref() == Some(&s)),
                        "no diagnostic for {}/{} using {}:\n{}", g, n, s, text
                    );
                }
            }
            kind => {
                let want = m.node.clone().expect("node mutations name their node");
                let hit = diags.iter().find(|d| d.graph == m.graph && d.node.as_ref() == Some(&want));
                prop_assert!(hit.is_some(), "{:?}: nothing at {}:\n{}", kind, want, text);
                let phrase = match kind {
                    MutationKind::DanglingRemoved => "removed node",
                    MutationKind::DanglingNonexistent => "nonexistent value",
                    MutationKind::Cycle => "not defined before use",
                    MutationKind::ExtraPositional => "too many positional arguments",
                    MutationKind::UndeclaredSymbol => unreachable!(),
                };
                prop_assert!(
                    diags.iter().any(|d| d.node.as_ref() == Some(&want) && d.message.contains(phrase)),
                    "{:?}: no {:?} diagnostic at {}:\n{}", kind, phrase, want, text
                );
            }
        }
        // Display always names the graph, and the node when there is one.
        for d in &diags {
            let s = d.to_string();
            if let Some(n) = &d.node {
                prop_assert!(s.contains(&format!("at node {n:?}")), "{}", s);
            }
        }
    }
}

/// Every mutation kind applies to the fixed sample and to the all-zero generated program, so
/// the property above cannot pass by filtering everything out.
#[test]
fn every_mutation_kind_applies() {
    let reg = test_registry();
    for p in [sample_program(), build_program(&GenConfig::default(), &[])] {
        assert!(verify_program(&p, Some(&reg)).is_ok());
        for kind in MutationKind::ALL {
            let m = apply_mutation(&p, kind, 3, &reg).unwrap_or_else(|| panic!("{kind:?}"));
            assert!(verify_program(&m.program, Some(&reg)).is_err(), "{kind:?}");
        }
    }
}

/// Large generated programs also verify (deeper choice streams than the proptest default).
#[test]
fn long_streams_verify() {
    let cfg = GenConfig {
        max_ops: 60,
        ..GenConfig::default()
    };
    let reg = test_registry();
    for seed in 0u32..40 {
        let choices: Vec<u32> = (0..600u32)
            .map(|i| {
                i.wrapping_mul(2654435761)
                    .wrapping_add(seed.wrapping_mul(40503))
                    >> 7
            })
            .collect();
        let p = build_program(&cfg, &choices);
        if let Err(d) = verify_types_with(&p, &reg) {
            panic!("{}\n{}", render(&d), trtfx_ir::print_program(&p));
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Printing and parsing a generated program gives it back (weights supplied separately,
    /// since the text carries only their metadata), and the result still verifies.
    #[test]
    fn text_round_trip(p in arb_program(GenConfig::default())) {
        let text = trtfx_ir::print_program(&p);
        let q = match trtfx_ir::parse_program_with_weights(&text, p.weights.clone()) {
            Ok(q) => q,
            Err(e) => {
                prop_assert!(false, "{}\n{}", e, text);
                unreachable!()
            }
        };
        prop_assert!(q == p, "reparsed program differs:\n{}\n---\n{}", text, trtfx_ir::print_program(&q));
        prop_assert!(verify_program(&q, None).is_ok());
    }
}

proptest! {
    #![proptest_config(config())]

    /// The generated calls also match the real ATen schemas of the standard registry, and its
    /// inference rules reproduce the generated types: this cross-checks the test registry's
    /// hand-written schemas, the schema checker and the generator's type rules.
    #[test]
    fn generated_programs_match_aten_registry(p in arb_program(GenConfig::default())) {
        let reg = trtfx_ir::aten::registry();
        if let Err(d) = verify_types_with(&p, reg) {
            prop_assert!(false, "{}\n{}", render(&d), trtfx_ir::print_program(&p));
        }
    }
}
