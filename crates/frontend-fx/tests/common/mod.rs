//! Shared helpers: fixture lookup and small synthetic archives.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

/// The shared fixture folder sits beside the repository on every machine.
pub fn fixtures_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/docs/pt2-fixtures");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipping: fixture folder {} is absent", d.display());
        None
    }
}

/// All `*.pt2` fixtures, sorted; empty (with a message) when the folder is absent.
pub fn fixtures() -> Vec<PathBuf> {
    let Some(d) = fixtures_dir() else {
        return vec![];
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pt2"))
        .collect();
    v.sort();
    v
}

/// One fixture by file name, or `None` (with a message) if absent.
pub fn fixture(name: &str) -> Option<PathBuf> {
    let p = fixtures_dir()?.join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipping: fixture {} is absent", p.display());
        None
    }
}

/// A minimal valid program: `relu(x)` with one parameter-free input of dynamic batch `s0`.
pub fn minimal_model() -> serde_json::Value {
    let s0 = json!({"as_expr": {"expr_str": "Symbol('s0', positive=True, integer=True)", "hint": {"as_int": 2}}});
    let tm = json!({"dtype": 7, "sizes": [s0, {"as_int": 3}], "requires_grad": false,
        "device": {"type": "cpu", "index": null}, "strides": [{"as_int": 3}, {"as_int": 1}],
        "storage_offset": {"as_int": 0}, "layout": 7});
    json!({
        "graph_module": {
            "graph": {
                "inputs": [{"as_tensor": {"name": "x"}}],
                "outputs": [{"as_tensor": {"name": "relu"}}],
                "nodes": [{
                    "target": "torch.ops.aten.relu.default",
                    "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "x"}}, "kind": 1}],
                    "outputs": [{"as_tensor": {"name": "relu"}}],
                    "metadata": {"stack_trace": "File \"x.py\", line 1"},
                    "is_hop_single_tensor_return": null,
                    "name": "relu"
                }],
                "tensor_values": {"x": tm.clone(), "relu": tm},
                "sym_int_values": {},
                "sym_bool_values": {},
                "custom_obj_values": {},
                "sym_float_values": {},
                "is_single_tensor_return": false
            },
            "signature": {
                "input_specs": [{"user_input": {"arg": {"as_tensor": {"name": "x"}}}}],
                "output_specs": [{"user_output": {"arg": {"as_tensor": {"name": "relu"}}}}]
            },
            "module_call_graph": [],
            "metadata": {},
            "treespec_namedtuple_fields": {}
        },
        "opset_version": {"aten": 10},
        "range_constraints": {"s0": {"min_val": 1, "max_val": 64}},
        "schema_version": {"major": 8, "minor": 17},
        "verifiers": ["TRAINING"],
        "torch_version": "2.11.0",
        "guards_code": []
    })
}

/// Writes a zip from `(name, bytes)` members; `deflate` picks the compression method.
pub fn make_zip(members: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A complete small archive around `model` (a model.json value), with one f32 weight
/// `w` = [1, 2, 3, 4] and empty constants.
pub fn make_pt2(model: &serde_json::Value) -> Vec<u8> {
    make_pt2_with(model.to_string().into_bytes(), &[])
}

/// Like [`make_pt2`] with raw model bytes; `drop` lists records to leave out.
pub fn make_pt2_with(model: Vec<u8>, drop: &[&str]) -> Vec<u8> {
    let w: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let wcfg = json!({"config": {"w": {"path_name": "weight_0", "is_param": true, "use_pickle": false,
        "tensor_meta": {"dtype": 7, "sizes": [{"as_int": 4}], "requires_grad": true,
            "device": {"type": "cpu", "index": null}, "strides": [{"as_int": 1}],
            "storage_offset": {"as_int": 0}, "layout": 7}}}});
    let ccfg = json!({"config": {}});
    let all: Vec<(&str, Vec<u8>)> = vec![
        ("m/data/weights/weight_0", w),
        (
            "m/data/weights/model_weights_config.json",
            wcfg.to_string().into_bytes(),
        ),
        (
            "m/data/constants/model_constants_config.json",
            ccfg.to_string().into_bytes(),
        ),
        ("m/models/model.json", model),
        ("m/archive_format", b"pt2".to_vec()),
        ("m/archive_version", b"0".to_vec()),
        ("m/byteorder", b"little".to_vec()),
    ];
    let kept: Vec<(&str, Vec<u8>)> = all
        .into_iter()
        .filter(|(n, _)| !drop.iter().any(|d| n.ends_with(d)))
        .collect();
    make_zip(&kept, false)
}
