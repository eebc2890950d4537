//! Shape and dtype inference checked against PyTorch: every fixture model, in both dialects
//! (`NAME.pt2`, export IR, and `NAME.core.pt2`, core ATen), must infer exactly the types the
//! export recorded.
//!
//! Two checks per fixture:
//! - `aten::check_program`: every node inferred from the *recorded* types of its inputs, compared
//!   with its recorded results (each disagreement points at its own node);
//! - `aten::infer_program` on a clone: the whole program re-inferred from the user inputs and
//!   weights only (inferred types flow into later nodes), every value compared with the recorded
//!   type. This catches what the first one cannot: an inferred type that agrees with the record
//!   in spelling only where the record is used as input.
//!
//! A corrupted archive (one recorded size changed) must be reported at exactly that value.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use trtfx::frontend::{import_archive, import_pt2, ImportOptions, Pt2Archive};
use trtfx::ir::aten::{self, check_program, infer_program, types_agree, CheckReport};
use trtfx::ir::graph::Op;
use trtfx::ir::Program;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The small odd-case archives of the shared docs (HOPs, custom ops, unbacked symbols), in the
/// `shared/` folder beside the repository; absent outside the project's machines.
fn shared_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/docs/pt2-fixtures")
}

fn import(path: &Path) -> Program {
    import_pt2(path).unwrap_or_else(|e| panic!("{}: import failed: {e}", path.display()))
}

/// Re-infers the whole program (a clone) and lists every value whose type differs from the
/// recorded one, or the inference error.
fn reinfer_mismatches(p: &Program) -> Vec<String> {
    let mut q = p.clone();
    if let Err(e) = infer_program(&mut q, aten::registry()) {
        return vec![format!("infer_program failed: {e}")];
    }
    let mut out = Vec::new();
    for (gid, g) in p.graphs.iter() {
        let gq = &q.graphs[gid];
        for n in g.nodes() {
            let node = g.node(n);
            let op = match &node.op {
                Op::Call { target } => target.clone(),
                other => other.opcode().to_string(),
            };
            for &r in &node.results {
                let (expected, got) = (g.ty(r), gq.ty(r));
                if !types_agree(expected, got) {
                    out.push(format!(
                        "{}: node `{}` ({op}): value `{}`: recorded {expected}, re-inferred {got}",
                        g.name,
                        node.name,
                        g.value(r).name
                    ));
                }
            }
        }
    }
    out
}

/// Runs both checks; returns the check report and a failure message, if any.
fn check_file(path: &Path) -> (CheckReport, Option<String>) {
    let p = import(path);
    let report = check_program(&p, aten::registry());
    let reinfer = reinfer_mismatches(&p);
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    println!(
        "{name}: {}",
        report.to_string().lines().next().unwrap_or("")
    );
    let mut msg = String::new();
    if !report.ok() || report.total == 0 {
        msg.push_str(&format!("{name}: check_program: {report}"));
    }
    if !reinfer.is_empty() {
        msg.push_str(&format!(
            "{name}: infer_program (whole program) disagrees with the record:\n  {}\n",
            reinfer.join("\n  ")
        ));
    }
    (report, (!msg.is_empty()).then_some(msg))
}

fn pt2_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pt2"))
        .collect();
    v.sort();
    v
}

fn check_fixture(name: &str) {
    let mut failures = Vec::new();
    for file in [format!("{name}.pt2"), format!("{name}.core.pt2")] {
        let (_, fail) = check_file(&fixtures_dir().join(file));
        failures.extend(fail);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { check_fixture(stringify!($name)); } )*
        const FIXTURES: &[&str] = &[$(stringify!($name)),*];
    };
}

fixture_tests!(
    cnn,
    mlp,
    transformer,
    customop,
    intmath,
    cond,
    mobilenet_v3_small,
    ops
);

/// Every `tests/fixtures/*.pt2` has a test above (a new fixture cannot be forgotten).
#[test]
fn every_fixture_is_checked() {
    for p in pt2_files(&fixtures_dir()) {
        let file = p.file_name().unwrap().to_string_lossy().to_string();
        let stem = file
            .strip_suffix(".core.pt2")
            .or_else(|| file.strip_suffix(".pt2"))
            .unwrap();
        assert!(
            FIXTURES.contains(&stem),
            "fixture `{file}` has no test in check_fixtures.rs"
        );
    }
}

/// The shared odd-case archives: HOPs and unregistered custom ops keep their recorded types by
/// design (counted as `recorded`, not checked); everything inferred must agree.
#[test]
fn shared_odd_case_archives() {
    let dir = shared_fixtures();
    let dir = dir.as_path();
    if !dir.is_dir() {
        eprintln!("{} absent: skipped", dir.display());
        return;
    }
    let mut failures = Vec::new();
    for path in pt2_files(dir) {
        let (_, fail) = check_file(&path);
        failures.extend(fail);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// A corrupted record is reported.

/// Rewrites a `.pt2` with `patch` applied to the text of its `models/model.json`; every member
/// is written back stored (uncompressed) and 64-byte aligned, as `torch.export.save` does.
fn patched_archive(src: &Path, patch: impl Fn(&str) -> String) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .with_alignment(64);
    let mut patched = 0;
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if name.ends_with("/models/model.json") {
            let text = String::from_utf8(bytes).unwrap();
            let new = patch(&text);
            assert_ne!(new, text, "the patch changed nothing");
            bytes = new.into_bytes();
            patched += 1;
        }
        zout.start_file(name, opts).unwrap();
        zout.write_all(&bytes).unwrap();
    }
    assert_eq!(patched, 1, "no models/model.json in {}", src.display());
    zout.finish().unwrap().into_inner()
}

/// Replaces, in the `tensor_values` entry of `value`, the first occurrence of `from` by `to`.
fn patch_tensor_value(json: &str, value: &str, from: &str, to: &str) -> String {
    let tv = json.find("\"tensor_values\"").expect("tensor_values");
    let key = format!("\"{value}\": {{");
    let start = tv + json[tv..].find(&key).expect("value entry");
    let end = start + json[start..].find("\"layout\"").expect("end of the entry");
    let at = start + json[start..end].find(from).expect("pattern in the entry");
    format!("{}{to}{}", &json[..at], &json[at + from.len()..])
}

/// Writes the patched archive to a temporary folder and imports it from there.
fn import_patched(src: &Path, tag: &str, patch: impl Fn(&str) -> String) -> Program {
    let bytes = patched_archive(src, patch);
    let dir = std::env::temp_dir().join(format!("trtfx-check-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{tag}.pt2"));
    std::fs::write(&path, bytes).unwrap();
    let ar = Arc::new(Pt2Archive::open(&path).unwrap());
    let p = import_archive(ar, &ImportOptions::standard())
        .unwrap()
        .program;
    let _ = std::fs::remove_file(&path);
    p
}

/// `customop`: the first conv2d output `conv2d` (f32[s77,8,8,8]) is recorded as
/// f32[s77,8,7,8]. Its only user is the custom op `scale_shift`, which has no inference (it
/// keeps its recorded type), so the corrupted value is the one and only disagreement.
#[test]
fn corrupted_conv_output_is_the_only_disagreement() {
    for (file, node) in [
        ("customop.pt2", "conv2d"),
        ("customop.core.pt2", "convolution"),
    ] {
        let src = fixtures_dir().join(file);
        let clean = check_program(&import(&src), aten::registry());
        assert!(clean.ok(), "{file}: {clean}");
        let p = import_patched(&src, file, |j| {
            patch_tensor_value(
                j,
                node,
                "{\"as_int\": 8}, {\"as_int\": 8}, {\"as_int\": 8}]",
                "{\"as_int\": 8}, {\"as_int\": 7}, {\"as_int\": 8}]",
            )
        });
        let report = check_program(&p, aten::registry());
        assert_eq!(report.total, clean.total, "{file}: {report}");
        assert_eq!(report.agree, clean.agree - 1, "{file}: {report}");
        assert!(report.errors.is_empty(), "{file}: {report}");
        let [d] = report.disagreements.as_slice() else {
            panic!("{file}: expected exactly one disagreement: {report}");
        };
        assert_eq!(
            (d.graph.as_str(), d.node.as_str(), d.value.as_str()),
            ("main", node, node),
            "{file}: {report}"
        );
        assert!(d.op.starts_with("aten.conv"), "{file}: {report}");
        assert_eq!(d.expected.to_string(), "f32[s77,8,7,8]", "{file}: {report}");
        assert_eq!(d.got.to_string(), "f32[s77,8,8,8]", "{file}: {report}");
        let shown = report.to_string();
        assert!(
            shown.contains(&format!("node `{node}`")) && shown.contains("f32[s77,8,7,8]"),
            "{shown}"
        );
    }
}

/// `cnn`: the first conv output `conv2d` (f32[s77,8,16,16]) recorded with 15 rows. The check
/// infers each node from the recorded types of its inputs, so the corrupted value is reported at
/// its node, and the only other report is its direct user (`batch_norm`, inferred from the
/// corrupted input); nothing further down cascades.
#[test]
fn corrupted_conv_output_in_a_chain_is_reported_at_its_node() {
    let src = fixtures_dir().join("cnn.pt2");
    let p = import_patched(&src, "cnn", |j| {
        patch_tensor_value(
            j,
            "conv2d",
            "{\"as_int\": 8}, {\"as_int\": 16}, {\"as_int\": 16}]",
            "{\"as_int\": 8}, {\"as_int\": 15}, {\"as_int\": 16}]",
        )
    });
    let report = check_program(&p, aten::registry());
    assert!(report.errors.is_empty(), "{report}");
    let by_node: BTreeMap<&str, (&str, String, String)> = report
        .disagreements
        .iter()
        .map(|d| {
            (
                d.node.as_str(),
                (d.value.as_str(), d.expected.to_string(), d.got.to_string()),
            )
        })
        .collect();
    assert_eq!(
        by_node.get("conv2d"),
        Some(&(
            "conv2d",
            "f32[s77,8,15,16]".to_string(),
            "f32[s77,8,16,16]".to_string()
        )),
        "{report}"
    );
    assert_eq!(by_node.len(), 2, "{report}");
    assert_eq!(
        by_node
            .get("batch_norm")
            .map(|d| (d.1.as_str(), d.2.as_str())),
        Some(("f32[s77,8,16,16]", "f32[s77,8,15,16]")),
        "{report}"
    );
}
