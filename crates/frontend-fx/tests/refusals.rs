//! Malformed or oversized archives are refused when opened or imported, with one clear line
//! naming the archive once: truncated payloads, undeclared symbols, empty symbol ranges, members
//! over the size limits and members that inflate past their declared size (zip bombs).

mod common;

use common::{make_pt2, make_zip, minimal_model};
use serde_json::json;
use std::sync::Arc;
use trtfx_frontend_fx::{import_archive, import_pt2_bytes, ImportOptions, Pt2Archive};
use trtfx_ir::Limits;

/// The import error of `bytes` under `limits`, as the user sees it.
fn refusal(bytes: Vec<u8>, limits: Limits) -> String {
    let ar = match Pt2Archive::from_bytes_with_limits(bytes, "case.pt2", limits) {
        Ok(ar) => ar,
        Err(e) => return e.to_string(),
    };
    match import_archive(Arc::new(ar), &ImportOptions::standard()) {
        Ok(_) => "imported (no error)".into(),
        Err(e) => e.to_string(),
    }
}

/// An archive around `model` whose only weight `w` is declared f32[4] but holds `bytes`.
fn pt2_with_weight_bytes(model: &serde_json::Value, bytes: usize) -> Vec<u8> {
    let wcfg = json!({"config": {"w": {"path_name": "weight_0", "is_param": true, "use_pickle": false,
        "tensor_meta": {"dtype": 7, "sizes": [{"as_int": 4}], "requires_grad": true,
            "device": {"type": "cpu", "index": null}, "strides": [{"as_int": 1}],
            "storage_offset": {"as_int": 0}, "layout": 7}}}});
    make_zip(
        &[
            ("m/data/weights/weight_0", vec![0u8; bytes]),
            (
                "m/data/weights/model_weights_config.json",
                wcfg.to_string().into_bytes(),
            ),
            (
                "m/data/constants/model_constants_config.json",
                b"{\"config\": {}}".to_vec(),
            ),
            ("m/models/model.json", model.to_string().into_bytes()),
            ("m/archive_format", b"pt2".to_vec()),
            ("m/byteorder", b"little".to_vec()),
        ],
        true,
    )
}

/// Rewrites the uncompressed size that the central directory records for `member`.
fn patch_declared_size(zip: &mut [u8], member: &str, size: u32) {
    let mut pos = 0;
    while pos + 46 <= zip.len() {
        if zip[pos..pos + 4] == *b"PK\x01\x02" {
            let name_len = u16::from_le_bytes([zip[pos + 28], zip[pos + 29]]) as usize;
            if &zip[pos + 46..pos + 46 + name_len] == member.as_bytes() {
                zip[pos + 24..pos + 28].copy_from_slice(&size.to_le_bytes());
                return;
            }
        }
        pos += 1;
    }
    panic!("no central directory entry for {member}");
}

/// A model that uses the weight `w` (f32[4]) as a parameter: `add(x, w)`.
fn model_with_weight() -> serde_json::Value {
    let tm = |sizes: serde_json::Value| {
        json!({"dtype": 7, "sizes": sizes, "requires_grad": false,
        "device": {"type": "cpu", "index": null}, "strides": [{"as_int": 1}],
        "storage_offset": {"as_int": 0}, "layout": 7})
    };
    let mut m = minimal_model();
    m["graph_module"]["graph"]["inputs"] =
        json!([{"as_tensor": {"name": "p_w"}}, {"as_tensor": {"name": "x"}}]);
    m["graph_module"]["graph"]["nodes"] = json!([{
        "target": "torch.ops.aten.add.Tensor",
        "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "x"}}, "kind": 1},
                   {"name": "other", "arg": {"as_tensor": {"name": "p_w"}}, "kind": 1}],
        "outputs": [{"as_tensor": {"name": "relu"}}],
        "metadata": {},
        "is_hop_single_tensor_return": null,
        "name": "add"
    }]);
    let four = json!([{"as_int": 4}]);
    m["graph_module"]["graph"]["tensor_values"] =
        json!({"x": tm(four.clone()), "p_w": tm(four.clone()), "relu": tm(four)});
    m["graph_module"]["signature"]["input_specs"] = json!([
        {"parameter": {"arg": {"name": "p_w"}, "parameter_name": "w"}},
        {"user_input": {"arg": {"as_tensor": {"name": "x"}}}}
    ]);
    m
}

#[test]
fn refusal_messages() {
    let small = |f: &dyn Fn(&mut Limits)| {
        let mut l = Limits::default();
        f(&mut l);
        l
    };
    let mut cases: Vec<(&str, String)> = Vec::new();

    cases.push((
        "well-formed archive with a weight (control)",
        refusal(
            pt2_with_weight_bytes(&model_with_weight(), 16),
            Limits::default(),
        ),
    ));
    cases.push((
        "truncated weight payload",
        refusal(
            pt2_with_weight_bytes(&model_with_weight(), 12),
            Limits::default(),
        ),
    ));
    let mut m = minimal_model();
    m["range_constraints"] = json!({});
    cases.push((
        "undeclared symbol",
        refusal(make_pt2(&m), Limits::default()),
    ));
    let mut m = minimal_model();
    m["range_constraints"] = json!({"s0": {"min_val": 10, "max_val": 2}});
    cases.push(("inverted range", refusal(make_pt2(&m), Limits::default())));
    let mut m = minimal_model();
    m["range_constraints"] = json!({"s0": {"min_val": 1, "max_val": -2147483648i64}});
    cases.push((
        "wrapped range bound",
        refusal(make_pt2(&m), Limits::default()),
    ));
    cases.push((
        "model.json over the metadata limit",
        refusal(
            make_pt2(&minimal_model()),
            small(&|l| l.max_metadata_bytes = 1000),
        ),
    ));
    cases.push((
        "weight member over the member limit",
        refusal(
            pt2_with_weight_bytes(&model_with_weight(), 4096),
            small(&|l| l.max_member_bytes = 1024),
        ),
    ));
    cases.push((
        "inflated total over the limit",
        refusal(
            make_pt2(&minimal_model()),
            small(&|l| l.max_total_bytes = 1500),
        ),
    ));
    cases.push((
        "tensor over the element limit",
        refusal(
            pt2_with_weight_bytes(&model_with_weight(), 16),
            small(&|l| l.max_elements = 3),
        ),
    ));
    // A zip bomb that lies: model.json inflates to 1 MiB but its directory entry says 512
    // bytes. Reading stops one byte past the declared size.
    let mut padded = minimal_model().to_string().into_bytes();
    padded.extend(std::iter::repeat_n(b' ', 1 << 20));
    let mut bomb = make_zip(
        &[
            ("m/models/model.json", padded),
            ("m/archive_format", b"pt2".to_vec()),
        ],
        true,
    );
    patch_declared_size(&mut bomb, "m/models/model.json", 512);
    cases.push((
        "member inflating past its declared size",
        refusal(bomb, Limits::default()),
    ));

    let mut out = String::new();
    for (what, msg) in &cases {
        // One line each, naming the archive once.
        assert!(!msg.contains('\n'), "{what}: {msg}");
        assert!(msg.matches("case.pt2").count() <= 1, "{what}: {msg}");
        out.push_str(&format!("{what}:\n  {msg}\n"));
    }
    insta::assert_snapshot!(out);
}

/// The default limits accept the shipped fixtures (they are generous for real models).
#[test]
fn fixtures_import_under_default_limits() {
    for f in common::fixtures() {
        let bytes = std::fs::read(&f).unwrap();
        if let Err(e) = import_pt2_bytes(bytes, &f.display().to_string()) {
            panic!("{}: {e}", f.display());
        }
    }
}
