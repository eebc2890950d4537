//! Whole-program TensorRT networks of the fixture models against PyTorch: every fixture
//! (`tests/fixtures/*.pt2`, both dialects) that the standard converters fully cover is
//! converted into one recorded network, which the layer emulator runs on the golden inputs
//! of `NAME.io.safetensors`; its outputs must match PyTorch's (f32 rtol/atol 1e-3, integers
//! and bools exactly). Weights reach the emulator as the network's constant layers. The
//! fixtures that are not fully convertible are listed (their unsupported nodes and reasons
//! are snapshotted by `trtfx-backend-trt`'s `convert_fixtures` test). Real TensorRT-RTX
//! builds of the same networks are in that test too.

mod common;

use std::collections::BTreeSet;

use common::fixtures;
use trtfx::backend::convert::ConverterRegistry;
use trtfx::backend::emulator::emulate;
use trtfx::backend::engine::{convert_graph_into, unsupported_nodes};
use trtfx::backend::RecordedNetwork;

/// f32 tolerances. The emulator computes layer by layer in f32 much like the executor, so
/// the whole-program error stays far below the per-converter 5e-3 bar.
const RTOL: f64 = 1e-3;
const ATOL: f64 = 1e-3;

/// Fixtures that are not fully convertible, and why (one word each; the reasons per node
/// are in `crates/backend-trt/tests/snapshots/convert_fixtures__fixtures.snap`).
const NOT_CONVERTIBLE: &[(&str, &str)] = &[
    ("customop.core.pt2", "custom op without converter"),
    ("customop.pt2", "custom op without converter"),
    ("intmath.core.pt2", "f64 tensors"),
    ("intmath.pt2", "f64 tensors"),
];

#[test]
fn convertible_fixtures_match_goldens() {
    let reg = ConverterRegistry::standard();
    let dir = fixtures();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f.ends_with(".pt2"))
        .collect();
    files.sort();
    let mut report = String::new();
    let mut failures = vec![];
    let mut not_convertible = BTreeSet::new();
    let mut convertible = 0;
    for file in &files {
        let name = file
            .trim_end_matches(".pt2")
            .trim_end_matches(".core")
            .to_string();
        let program = trtfx::frontend::import_pt2(dir.join(file))
            .unwrap_or_else(|e| panic!("import {file}: {e}"));
        let bad = unsupported_nodes(&program, program.main, &reg);
        if !bad.is_empty() {
            report += &format!("{file}: not convertible ({} node(s))\n", bad.len());
            not_convertible.insert(file.clone());
            continue;
        }
        convertible += 1;
        let io = trtfx::io::read_io(&dir.join(format!("{name}.io.safetensors")))
            .unwrap_or_else(|e| panic!("{file}: io: {e}"));
        let mut net = RecordedNetwork::new();
        let (input_names, output_names) =
            convert_graph_into(&program, program.main, &reg, &mut net)
                .unwrap_or_else(|e| panic!("{file}: convert: {e}"));
        assert_eq!(input_names.len(), io.inputs.len(), "{file}: input count");
        let inputs: Vec<(&str, trtfx::exec::Tensor)> = input_names
            .iter()
            .map(String::as_str)
            .zip(io.inputs.iter().cloned())
            .collect();
        let outs = match emulate(&net, &inputs) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{file}: emulate: {e}"));
                continue;
            }
        };
        assert_eq!(output_names.len(), io.outputs.len(), "{file}: output count");
        let mut max_abs: f64 = 0.0;
        let mut max_rel: f64 = 0.0;
        for (i, (oname, want)) in output_names.iter().zip(&io.outputs).enumerate() {
            let Some((_, got)) = outs.iter().find(|(n, _)| n == oname) else {
                failures.push(format!("{file}: output {oname} missing"));
                continue;
            };
            let c = trtfx::io::compare(i, got, want, RTOL, ATOL);
            max_abs = max_abs.max(c.max_abs);
            max_rel = max_rel.max(c.max_rel);
            if !c.ok {
                failures.push(format!(
                    "{file} out_{i}: {} (max_abs {:.3e})",
                    c.detail.unwrap_or_default(),
                    c.max_abs
                ));
            }
        }
        report += &format!(
            "{file}: {} layers, {} outputs, max abs error {max_abs:.3e} (max rel {max_rel:.3e})\n",
            net.num_layers(),
            io.outputs.len()
        );
    }
    eprintln!("{report}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let expected: BTreeSet<String> = NOT_CONVERTIBLE.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(
        not_convertible, expected,
        "the set of fixtures that are not fully convertible changed"
    );
    assert!(convertible >= 10, "only {convertible} convertible fixtures");
}
