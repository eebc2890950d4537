//! The OpInfo conformance ratchet (issue 16): runs every case of
//! `tests/conformance/corpus.tar.gz` in both dialects through check, run, engine and
//! compile -> run, and fails when a case x dialect x stage listed in
//! `tests/conformance/ratchet.txt` no longer passes.
//!
//! When more cases pass, the test says so and how to update the ratchet (and the coverage
//! report): `cargo run --release -p ir-opt -- conform --write-ratchet tests/conformance/ratchet.txt
//! --write-coverage docs/coverage.md`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use trtfx::conform::{self, Dialect, RunOptions, Stage};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn conformance_ratchet() {
    let corpus = conform::Corpus::read(&root().join("tests/conformance/corpus.tar.gz"))
        .unwrap_or_else(|e| panic!("{e}"));
    let ratchet = conform::read_ratchet(&root().join("tests/conformance/ratchet.txt"))
        .unwrap_or_else(|e| panic!("{e}"));
    let stale = conform::ratchet_unknown(&corpus, &ratchet);
    assert!(
        stale.is_empty(),
        "the ratchet names cases the corpus does not have (regenerate the ratchet): {stale:?}"
    );
    let start = std::time::Instant::now();
    let results = conform::run(&corpus, &RunOptions::default());
    eprintln!(
        "conformance: {} case x dialect runs in {:.1} s",
        results.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(results.len(), 2 * corpus.cases.len());
    eprint!(
        "{}",
        conform::summary_text(&conform::summarize(&corpus, &results))
    );

    let passing = conform::passing(&corpus, &results);
    let new: BTreeSet<_> = passing.difference(&ratchet).collect();
    if !new.is_empty() {
        eprintln!(
            "{} case x dialect x stage now pass that the ratchet does not list (first: {:?}); \
             record them with\n  cargo run --release -p ir-opt -- conform \
             --write-ratchet tests/conformance/ratchet.txt --write-coverage docs/coverage.md",
            new.len(),
            new.iter().next()
        );
    }
    let regressions = conform::ratchet_regressions(&corpus, &results, &ratchet);
    let listing: Vec<String> = regressions
        .iter()
        .take(50)
        .map(|((id, d, st), why)| format!("  {id} {} {}: {why}", d.name(), st.name()))
        .collect();
    assert!(
        regressions.is_empty(),
        "{} previously passing case x dialect x stage fail now:\n{}\n(`ir-opt conform --filter \
         CASE` reproduces one; if a regression is intended, regenerate the ratchet with \
         `ir-opt conform --write-ratchet tests/conformance/ratchet.txt`)",
        regressions.len(),
        listing.join("\n")
    );
}

/// The suite tells passing from failing: the float32 `neg` cases pass every stage in both
/// dialects, and the same programs judged against another op's goldens (`abs`) fail `run` and
/// `compile-run` with a mismatch while `check` and `engine` still pass.
#[test]
fn conformance_detects_pass_and_failure() {
    let mut corpus = conform::Corpus::read(&root().join("tests/conformance/corpus.tar.gz"))
        .unwrap_or_else(|e| panic!("{e}"));
    let results: Vec<_> = (0..corpus.cases.len())
        .filter(|&i| corpus.cases[i].entry == "neg" && corpus.cases[i].dtype == "float32")
        .flat_map(|i| Dialect::ALL.map(|d| conform::run_case(&corpus, i, d)))
        .collect();
    assert!(!results.is_empty(), "the corpus has neg float32 cases");
    for r in &results {
        for st in Stage::ALL {
            assert!(
                r.passed(st),
                "{} {} {}: {:?}",
                corpus.cases[r.case].id,
                r.dialect.name(),
                st.name(),
                r.stages[st as usize]
            );
        }
    }
    // Wrong goldens: the `abs` case with the same sample index.
    let neg = corpus.cases[results[0].case].id.clone();
    let abs = neg.replacen("neg.", "abs.", 1);
    let wrong = corpus
        .member_bytes(&format!("{abs}/core.io.safetensors"))
        .unwrap_or_else(|| panic!("the corpus has {abs}"))
        .to_vec();
    corpus.replace_member(&format!("{neg}/core.io.safetensors"), wrong);
    let case = corpus.cases.iter().position(|c| c.id == neg).unwrap();
    let r = conform::run_case(&corpus, case, Dialect::Core);
    assert!(
        r.passed(Stage::Check) && r.passed(Stage::Engine),
        "{:?}",
        r.stages
    );
    for st in [Stage::Run, Stage::CompileRun] {
        let f = r.stages[st as usize]
            .as_ref()
            .unwrap_or_else(|| panic!("{neg} {} passes against abs goldens", st.name()));
        assert!(f.cause.ends_with("mismatch"), "{f:?}");
    }
}
