//! Weights stored once and refit (issue 21): an artifact refers to the program's weights by
//! name instead of copying them into its networks; `CompiledProgram::refit` replaces them
//! without rebuilding plans and the refitted artifact matches PyTorch with the new weights
//! (goldens from `tests/fixtures/refit/gen.py`); bad weight files are refused with one line
//! naming the weight and the mismatch (snapshots).

mod common;

use std::io::Read;

use indexmap::IndexMap;
use trtfx::ir::{DType, Weight};
use trtfx::refit::{read_weights, PlanRefit, RefitOptions};
use trtfx::{compile, CompileSettings, CompiledProgram, Precision};

fn refit_dir() -> std::path::PathBuf {
    common::fixtures().join("refit")
}

fn compiled(name: &str, settings: &CompileSettings) -> CompiledProgram {
    let p = trtfx::load_program(&common::fixtures().join(format!("{name}.pt2"))).expect("load");
    let c = compile(&p, settings).expect("compile");
    // Through the artifact bytes: what `ir-opt refit` reads and writes.
    let bytes = c.to_bytes().expect("save");
    CompiledProgram::from_bytes(&bytes, std::path::Path::new(name)).expect("load artifact")
}

fn new_weights(name: &str) -> IndexMap<String, Weight> {
    read_weights(&refit_dir().join(format!("{name}.new.safetensors"))).expect("new weights")
}

fn new_io(name: &str) -> trtfx::io::IoTensors {
    trtfx::io::read_io(&refit_dir().join(format!("{name}.new.io.safetensors"))).expect("io")
}

fn old_io(name: &str) -> trtfx::io::IoTensors {
    trtfx::io::read_io(&common::fixtures().join(format!("{name}.io.safetensors"))).expect("io")
}

/// Members of the artifact zip with their sizes.
fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().to_string(), b)
        })
        .collect()
}

#[test]
fn refitted_artifact_matches_pytorch_with_the_new_weights() {
    for name in ["cnn", "mlp"] {
        let mut c = compiled(name, &CompileSettings::default());
        // Before: the original goldens.
        common::assert_compiled_matches(&c, &old_io(name), name, 1e-3, 1e-4);
        let report = c
            .refit(&new_weights(name), &RefitOptions::default())
            .expect("refit");
        assert_eq!(report.updated.len(), c.state_weights().len(), "{name}");
        // A plan is dropped only when it holds its weights (built without `strip-weights`,
        // the default, as TensorRT-RTX strips only with a CUDA device); the recorded
        // network (what runs here) is reconverted with the new weights either way.
        assert!(
            report.segments.iter().all(|(_, s)| match s {
                PlanRefit::Dropped { reason } => reason.contains("not weight-stripped"),
                _ => true,
            }),
            "{name}: {report:?}"
        );
        // Saved and loaded again, the refitted artifact matches PyTorch with the new weights.
        let bytes = c.to_bytes().expect("save");
        let c = CompiledProgram::from_bytes(&bytes, std::path::Path::new(name)).expect("load");
        let io = new_io(name);
        common::assert_compiled_matches(&c, &io, &format!("{name} refitted"), 1e-3, 1e-4);
        // And not the old ones (the new weights matter).
        let run = c.run(&io.inputs).unwrap();
        let same = trtfx::io::compare(0, &run.outputs[0], &old_io(name).outputs[0], 1e-3, 1e-4);
        assert!(!same.ok, "{name}: refitted outputs equal the old goldens");
    }
}

#[test]
fn fp16_refit_recomputes_the_reduced_copies() {
    let settings = CompileSettings {
        precision: Precision::Fp16,
        ..Default::default()
    };
    let mut c = compiled("cnn", &settings);
    let report = c
        .refit(&new_weights("cnn"), &RefitOptions::default())
        .expect("refit");
    assert!(
        report.recomputed.iter().any(|w| w == "conv1.weight_f16"),
        "{:?}",
        report.recomputed
    );
    let io = new_io("cnn");
    let run = c.run(&io.inputs).expect("run");
    // docs/precision.md: fp16 within 1e-2 of the output's range.
    let want = &io.outputs[0];
    let range = want.to_f64_vec().iter().fold(0f64, |m, v| m.max(v.abs()));
    let c0 = trtfx::io::compare(0, &run.outputs[0], want, 0.0, 1e-2 * range);
    assert!(
        c0.ok,
        "fp16 refit: max abs {:.3e} (range {range:.3e})",
        c0.max_abs
    );
}

#[test]
fn each_weight_is_stored_once() {
    let c = compiled("cnn", &CompileSettings::default());
    let bytes = c.to_bytes().unwrap();
    let m = members(&bytes);
    let manifest: trtfx::Manifest =
        serde_json::from_slice(&m.iter().find(|(n, _)| n == "manifest.json").unwrap().1).unwrap();
    assert_eq!(manifest.format_version, trtfx::FORMAT_VERSION);
    let net = manifest.segments[0]
        .network
        .as_ref()
        .expect("a trt segment");
    // Every conv / batchnorm / linear weight of the fixture is a ref, and the payload member
    // holds only the converters' own small constants.
    let refs: std::collections::BTreeSet<&str> =
        net.weight_refs.values().map(String::as_str).collect();
    for w in [
        "conv1.weight",
        "conv2.weight",
        "fc.weight",
        "bn2.running_var",
    ] {
        assert!(refs.contains(w), "{w} not referenced: {refs:?}");
    }
    let payload = &m.iter().find(|(n, _)| *n == net.weights).unwrap().1;
    let store = &m
        .iter()
        .find(|(n, _)| n == "weights.safetensors")
        .unwrap()
        .1;
    let st = safetensors::SafeTensors::deserialize(payload).unwrap();
    for (key, view) in st.tensors() {
        assert!(!net.weight_refs.contains_key(&key), "{key} stored twice");
        assert!(
            view.data().len() <= 64,
            "{key}: {} bytes inline",
            view.data().len()
        );
    }
    assert!(
        payload.len() < store.len() / 4,
        "payloads {} bytes vs weights {} bytes",
        payload.len(),
        store.len()
    );
}

#[test]
fn artifacts_without_refs_still_load() {
    // What earlier builds wrote (format 1: every payload in the network member).
    let mut c = compiled("cnn", &CompileSettings::default());
    for s in &mut c.segments {
        if let Some(t) = &mut s.trt {
            t.weight_refs.clear();
        }
    }
    let bytes = c.to_bytes().unwrap();
    let manifest: trtfx::Manifest = serde_json::from_slice(
        &members(&bytes)
            .into_iter()
            .find(|(n, _)| n == "manifest.json")
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(manifest.format_version, 1);
    let c = CompiledProgram::from_bytes(&bytes, std::path::Path::new("v1")).expect("load v1");
    common::assert_compiled_matches(&c, &old_io("cnn"), "cnn v1", 1e-3, 1e-4);
}

#[test]
fn partial_refit_keeps_the_other_weights() {
    let mut c = compiled("mlp", &CompileSettings::default());
    let all = new_weights("mlp");
    let one: IndexMap<String, Weight> = all
        .iter()
        .filter(|(k, _)| *k == "fc2.bias")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let err = c.refit(&one, &RefitOptions::default()).unwrap_err();
    insta::assert_snapshot!("missing_weight", err);
    let before = c.program.weights["fc1.weight"].clone();
    let report = c
        .refit(&one, &RefitOptions { partial: true })
        .expect("partial");
    assert_eq!(report.updated, vec!["fc2.bias".to_string()]);
    assert_eq!(c.program.weights["fc1.weight"], before);
    assert_eq!(c.program.weights["fc2.bias"], all["fc2.bias"]);
}

#[test]
fn bad_weights_are_refused_with_one_line() {
    let c = compiled("cnn", &CompileSettings::default());
    let good = new_weights("cnn");
    let with = |name: &str, w: Weight| {
        let mut m = good.clone();
        m.insert(name.to_string(), w);
        m
    };
    let conv = &good["conv1.weight"];
    let bytes = conv.bytes().unwrap();
    let cases: Vec<(&str, IndexMap<String, Weight>)> = vec![
        (
            "wrong_shape",
            with(
                "conv1.weight",
                Weight::from_bytes(DType::F32, vec![8, 27], bytes.to_vec()),
            ),
        ),
        (
            "wrong_dtype",
            with(
                "conv1.weight",
                Weight::from_bytes(
                    DType::F16,
                    vec![8, 3, 3, 3],
                    bytes[..bytes.len() / 2].to_vec(),
                ),
            ),
        ),
        (
            "unknown_name",
            with(
                "conv3.weight",
                Weight::from_bytes(DType::F32, vec![8, 3, 3, 3], bytes.to_vec()),
            ),
        ),
    ];
    for (what, weights) in cases {
        let mut c2 = c.clone();
        let err = c2.refit(&weights, &RefitOptions::default()).unwrap_err();
        assert!(!err.contains('\n'), "{what}: {err}");
        insta::assert_snapshot!(what, err);
        // Nothing changed.
        assert_eq!(c2.program.weights, c.program.weights, "{what}");
    }
    // A compiler-made copy is not a weight to give.
    let mut c16 = compiled(
        "cnn",
        &CompileSettings {
            precision: Precision::Fp16,
            ..Default::default()
        },
    );
    let copy = c16.program.weights["conv1.weight_f16"].clone();
    let err = c16
        .refit(&with("conv1.weight_f16", copy), &RefitOptions::default())
        .unwrap_err();
    insta::assert_snapshot!("derived_copy", err);
}
