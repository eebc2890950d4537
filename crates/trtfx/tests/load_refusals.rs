//! Every reader refuses malformed programs at load time with one `FILE: what: why` line (the
//! classes found by fuzzing `ir-opt`, issue 19): JSON programs with out-of-range node or value
//! ids, looping or dangling `next` links, stale use lists; `.fxir` text that is truncated or has
//! an empty range; artifacts that are truncated or whose members lie about their size.
//! Each case is made from a fixture by one mutation, the way the fuzzer made its samples.

mod common;

use serde_json::Value as J;
use std::path::Path;

fn fixture_json(name: &str) -> J {
    let p = trtfx::load_program(&common::fixtures().join(name)).unwrap();
    serde_json::from_str(&p.to_json().unwrap()).unwrap()
}

/// Loads `text` written to `dir/file` and returns the error with the directory taken out.
fn refusal(dir: &Path, file: &str, bytes: &[u8]) -> String {
    let path = dir.join(file);
    std::fs::write(&path, bytes).unwrap();
    let msg = match trtfx::load_program(&path) {
        Ok(_) => "loaded (no error)".to_string(),
        Err(e) => e.to_string(),
    };
    msg.replace(&format!("{}/", dir.display()), "")
}

fn nodes(v: &mut J, graph: usize) -> &mut Vec<J> {
    v["program"]["graphs"]["elems"][graph]["nodes"]["elems"]
        .as_array_mut()
        .unwrap()
}

#[test]
fn json_program_refusals() {
    let dir = common::scratch("load-refusals", "json");
    let base = fixture_json("customop.pt2");
    type Edit = dyn Fn(&mut J);
    let cases: Vec<(&str, Box<Edit>)> = vec![
        ("unchanged (control)", Box::new(|_| {})),
        (
            "next link out of range",
            Box::new(|v| nodes(v, 0)[3]["next"] = 1_000_000_000.into()),
        ),
        (
            "next link loops back",
            Box::new(|v| nodes(v, 0)[5]["next"] = 0.into()),
        ),
        (
            "next link loops to itself",
            Box::new(|v| nodes(v, 0)[2]["next"] = 2.into()),
        ),
        (
            "node list skips a live node",
            Box::new(|v| {
                let after = nodes(v, 0)[3]["next"].clone();
                nodes(v, 0)[2]["next"] = after;
            }),
        ),
        (
            "result id out of range",
            Box::new(|v| nodes(v, 0)[1]["results"][0] = 4_294_967_295u64.into()),
        ),
        (
            "argument id out of range",
            Box::new(|v| {
                let n = nodes(v, 0);
                let last = n.len() - 1;
                n[last]["args"][0]["Value"] = 77_777.into();
            }),
        ),
        (
            "first node out of range",
            Box::new(|v| v["program"]["graphs"]["elems"][0]["first"] = 999.into()),
        ),
        (
            "stale use list",
            Box::new(|v| {
                v["program"]["graphs"]["elems"][0]["values"]["elems"][0]["uses"] =
                    serde_json::json!([])
            }),
        ),
        (
            "main graph out of range",
            Box::new(|v| v["program"]["main"] = 7.into()),
        ),
        (
            "empty symbol range",
            Box::new(|v| {
                let syms = v["program"]["symbols"].as_object_mut().unwrap();
                let (_, s) = syms.iter_mut().next().expect("mlp has a dynamic batch");
                s["min"] = 10.into();
                s["max"] = 2.into();
            }),
        ),
        (
            "truncated weight bytes",
            Box::new(|v| {
                let ws = v["program"]["weights"].as_object_mut().unwrap();
                let (_, w) = ws.iter_mut().next().unwrap();
                w["bytes"].as_array_mut().unwrap().truncate(7);
            }),
        ),
        (
            "format version",
            Box::new(|v| v["format_version"] = 2.into()),
        ),
    ];
    let mut out = String::new();
    for (what, edit) in cases {
        let mut v = base.clone();
        edit(&mut v);
        let msg = refusal(&dir, "case.json", v.to_string().as_bytes());
        assert!(!msg.contains('\n'), "{what}: {msg}");
        let named = usize::from(what != "unchanged (control)");
        assert_eq!(msg.matches("case.json").count(), named, "{what}: {msg}");
        out.push_str(&format!("{what}:\n  {msg}\n"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn fxir_refusals() {
    let dir = common::scratch("load-refusals", "fxir");
    let p = trtfx::load_program(&common::fixtures().join("customop.pt2")).unwrap();
    let text = trtfx::ir::print_program(&p);
    let first_sym = text.find("sym ").expect("customop has a dynamic batch");
    let sym_line = &text[first_sym..first_sym + text[first_sym..].find('\n').unwrap()];
    let cases: Vec<(&str, String)> = vec![
        ("empty file", String::new()),
        ("comments only", "# RUN: lift-par\n# RUN: cse".into()),
        ("truncated mid-graph", text[..text.len() / 2].to_string()),
        (
            "input dim with max < min",
            text.replacen("max=64)", "max=-2147483648)", 1),
        ),
        (
            "symbol range with min > max",
            text.replacen(sym_line, &sym_line.replacen("1..=64", "10..=2", 1), 1),
        ),
        ("undeclared symbol", text.replacen(sym_line, "", 1)),
    ];
    let mut out = String::new();
    for (what, t) in cases {
        let msg = refusal(&dir, "case.fxir", t.as_bytes());
        let first = msg.lines().next().unwrap_or("");
        assert!(
            first.starts_with("case.fxir:") && first.len() > "case.fxir: ".len(),
            "{what}: {msg}"
        );
        assert_eq!(msg.matches("case.fxir").count(), 1, "{what}: {msg}");
        out.push_str(&format!("{what}:\n  {}\n", msg.replace('\n', "\n  ")));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn artifact_refusals() {
    let dir = common::scratch("load-refusals", "trtfx");
    let p = trtfx::load_program(&common::fixtures().join("mlp.pt2")).unwrap();
    let settings = trtfx::CompileSettings::default();
    let c = trtfx::compile(&p, &settings).unwrap();
    let good = dir.join("good.trtfx");
    c.save(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let load = |b: &[u8]| match trtfx::CompiledProgram::from_bytes(b, Path::new("case.trtfx")) {
        Ok(_) => "loaded (no error)".to_string(),
        Err(e) => e.to_string(),
    };
    let limited =
        |b: &[u8], l: trtfx::ir::Limits| match trtfx::CompiledProgram::from_bytes_with_limits(
            b,
            Path::new("case.trtfx"),
            &l,
        ) {
            Ok(_) => "loaded (no error)".to_string(),
            Err(e) => e.to_string(),
        };
    let mut out = String::new();
    let small = trtfx::ir::Limits {
        max_metadata_bytes: 64,
        ..Default::default()
    };
    let net = "networks/main_seg0_trt.json";
    let edit_net = |f: &dyn Fn(&mut J)| {
        rezip(&bytes, net, |b| {
            let mut v: J = serde_json::from_slice(b).unwrap();
            f(&mut v);
            serde_json::to_vec(&v).unwrap()
        })
    };
    let later_input = edit_net(&|v| {
        let layers = v["layers"].as_array_mut().unwrap();
        let shuffle = layers
            .iter_mut()
            .find(|l| l["op"].get("Shuffle").is_some())
            .unwrap();
        shuffle["op"]["Shuffle"]["input"] = J::from(10_000);
    });
    let wrong_type = edit_net(&|v| v["tensors"][0]["dims"] = serde_json::json!([64, 33]));
    let extra_tensor = edit_net(&|v| {
        let t = v["tensors"][0].clone();
        v["tensors"].as_array_mut().unwrap().push(t);
    });
    // A safetensors member whose first tensor claims 4 more bytes than its dtype and shape hold.
    let long_weight = rezip(&bytes, "weights.safetensors", |b| {
        let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
        let mut h: J = serde_json::from_slice(&b[8..8 + n]).unwrap();
        let first = h
            .as_object_mut()
            .unwrap()
            .values_mut()
            .find(|v| v["data_offsets"][0] == 0)
            .unwrap();
        first["data_offsets"][1] = J::from(first["data_offsets"][1].as_u64().unwrap() + 4);
        let hb = serde_json::to_vec(&h).unwrap();
        let mut out = (hb.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&hb);
        out.extend_from_slice(&b[8 + n..]);
        out
    });
    let truncated_weights = rezip(&bytes, "weights.safetensors", |b| {
        b[..b.len() - 16].to_vec()
    });
    let bad_binding = rezip(&bytes, "manifest.json", |b| {
        let mut v: J = serde_json::from_slice(b).unwrap();
        v["segments"][0]["network"]["input_bindings"][2] = J::from("y");
        serde_json::to_vec(&v).unwrap()
    });
    for (what, msg) in [
        ("unchanged (control)", load(&bytes)),
        ("truncated to half", load(&bytes[..bytes.len() / 2])),
        ("empty", load(&[])),
        ("manifest over the metadata limit", limited(&bytes, small)),
        (
            "network: a layer reads an unknown tensor",
            load(&later_input),
        ),
        (
            "network: a tensor's recorded type is not its layer's",
            load(&wrong_type),
        ),
        ("network: a tensor no layer produces", load(&extra_tensor)),
        (
            "weights: offsets disagree with the shape",
            load(&long_weight),
        ),
        ("weights: member truncated", load(&truncated_weights)),
        (
            "manifest: input binding to no network input",
            load(&bad_binding),
        ),
    ] {
        assert!(!msg.contains('\n'), "{what}: {msg}");
        assert!(msg.matches("case.trtfx").count() <= 1, "path twice: {msg}");
        out.push_str(&format!("{what}:\n  {}\n", redact_size(&msg)));
    }
    insta::assert_snapshot!(out);
}

/// `bytes` (a zip) with member `name` replaced by `edit` of its contents.
fn rezip(bytes: &[u8], name: &str, edit: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut zout = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        let member = f.name().to_string();
        if member == name {
            data = edit(&data);
        }
        zout.start_file(member, zip::write::SimpleFileOptions::default())
            .unwrap();
        zout.write_all(&data).unwrap();
    }
    zout.finish().unwrap().into_inner()
}

/// The manifest's size depends on whether the build made TensorRT plans (their metadata is in
/// it), so the snapshot shows `inflates to <N> bytes` instead of the number.
fn redact_size(msg: &str) -> String {
    let Some((head, rest)) = msg.split_once("inflates to ") else {
        return msg.to_string();
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return msg.to_string();
    }
    format!("{head}inflates to <N>{}", &rest[digits..])
}
