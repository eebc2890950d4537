//! Raw-level tests: container, schema, payloads and error kinds.

mod common;

use common::*;
use trtfx_frontend_fx::archive::{parse_exported_program, ByteOrder, Pt2Archive};
use trtfx_frontend_fx::schema::{Argument, Graph, ScalarType, SymBool, SymFloat, SymInt};
use trtfx_frontend_fx::sympy::parse_sym_expr;
use trtfx_frontend_fx::ImportError;

fn parse(ar: &Pt2Archive, json: &[u8]) -> Result<usize, ImportError> {
    let mut warnings = vec![];
    let ep = parse_exported_program(json, ar.display_name(), "models/model.json", &mut warnings)?;
    let mut count = 0;
    check_graph(&ep.graph_module.graph, &mut count);
    Ok(count)
}

/// Every expression of a graph (and its subgraphs) parses; returns via `count` how many.
fn check_graph(g: &Graph<'_>, count: &mut usize) {
    let mut exprs = vec![];
    for tm in g.tensor_values.values() {
        for s in tm
            .sizes
            .iter()
            .chain(&tm.strides)
            .chain([&tm.storage_offset])
        {
            if let SymInt::Expr(e) = s {
                exprs.push(e.expr_str.as_str().to_string());
            }
        }
    }
    for v in g.sym_int_values.values() {
        if let SymInt::Expr(e) = v {
            exprs.push(e.expr_str.to_string());
        }
    }
    for v in g.sym_bool_values.values() {
        if let SymBool::Expr(e) = v {
            exprs.push(e.expr_str.to_string());
        }
    }
    for v in g.sym_float_values.values() {
        if let SymFloat::Expr(e) = v {
            exprs.push(e.expr_str.to_string());
        }
    }
    for e in exprs {
        parse_sym_expr(&e).unwrap_or_else(|err| panic!("{e}: {err}"));
        *count += 1;
    }
    for n in &g.nodes {
        for a in &n.inputs {
            if let Argument::Graph(sub) = &a.arg {
                check_graph(&sub.graph, count);
            }
        }
    }
}

#[test]
fn every_fixture_parses_at_raw_level() {
    let files = fixtures();
    for f in &files {
        let ar = Pt2Archive::open(f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ar.archive_version(), "0");
        assert_eq!(ar.byte_order(), ByteOrder::Little);
        assert_eq!(ar.model_names(), ["model"]);
        let stem = f.file_stem().unwrap().to_str().unwrap();
        assert_eq!(ar.prefix(), stem, "prefix of {}", f.display());
        let json = ar.read_model_json("model").unwrap();
        parse(&ar, &json).unwrap_or_else(|e| panic!("{e}"));
        for e in ar.weights().values().chain(ar.constants().values()) {
            match ar.read_tensor(e) {
                Ok(t) => {
                    let v = e.view.as_ref().unwrap();
                    let n: i64 = v.sizes.iter().product();
                    assert_eq!(
                        t.bytes.len() as i64,
                        n * v.dtype.size_bytes().unwrap() as i64
                    );
                }
                Err(ImportError::PickledPayload { .. }) => assert!(e.use_pickle),
                Err(err) => panic!("{err}"),
            }
        }
        assert!(ar.warnings().is_empty(), "{:?}", ar.warnings());
    }
    eprintln!("{} fixtures parsed", files.len());
}

#[test]
fn prefix_keeps_inner_dots() {
    let Some(f) = fixture("my.model.v2.pt2") else {
        return;
    };
    assert_eq!(Pt2Archive::open(f).unwrap().prefix(), "my.model.v2");
}

#[test]
fn sub_views_share_one_storage() {
    let Some(f) = fixture("sub.pt2") else { return };
    let ar = Pt2Archive::open(f).unwrap();
    let storage = ar.read_member(&ar.weights()["a"].member).unwrap();
    let floats: Vec<f32> = storage
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(floats.len(), 12);
    let a = ar.read_tensor_by_fqn("a").unwrap();
    assert_eq!(a.dtype, ScalarType::Float);
    assert_eq!(a.shape, [4]);
    let av: Vec<f32> = a
        .bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(av, floats[2..6]);
    let b = ar.read_tensor_by_fqn("b").unwrap();
    assert_eq!(b.shape, [4, 3]);
    let bv: Vec<f32> = b
        .bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    for i in 0..4 {
        for j in 0..3 {
            assert_eq!(bv[i * 3 + j], floats[i + 4 * j]);
        }
    }
    let e = ar.read_tensor_by_fqn("e").unwrap();
    assert_eq!(e.shape, [0, 3]);
    assert!(e.bytes.is_empty());
    let err = ar.read_tensor_by_fqn("w").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ImportError::PickledPayload { .. }));
    assert!(
        msg.contains("`w`") && msg.contains("sub/data/weights/weight_0") && msg.contains("sub.pt2"),
        "{msg}"
    );
}

#[test]
fn small_tied_weights_and_constants() {
    let Some(f) = fixture("small.pt2") else {
        return;
    };
    let ar = Pt2Archive::open(f).unwrap();
    assert_eq!(
        ar.weights()["tied"].member,
        ar.weights()["lin.weight"].member
    );
    assert_eq!(
        ar.read_tensor_by_fqn("tied").unwrap(),
        ar.read_tensor_by_fqn("lin.weight").unwrap()
    );
    let c = ar.read_tensor_by_fqn("const").unwrap();
    assert_eq!(c.dtype, ScalarType::Double);
    assert_eq!(c.bytes.len(), 32);
    assert!(ar.constants().contains_key("nonpersist"));
    let m = ar.member("data/weights/weight_1").unwrap();
    assert!(m.stored);
    assert_eq!(
        m.data_offset % 64,
        0,
        "torch aligns stored data to 64 bytes"
    );
}

#[test]
fn deflated_rezip_reads_the_same() {
    let Some(f) = fixture("small.pt2") else {
        return;
    };
    let orig = Pt2Archive::open(&f).unwrap();
    let mut members = vec![];
    let mut z = zip::ZipArchive::new(std::fs::File::open(&f).unwrap()).unwrap();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut b = vec![];
        std::io::Read::read_to_end(&mut e, &mut b).unwrap();
        members.push((e.name().to_string(), b));
    }
    let refs: Vec<(&str, Vec<u8>)> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    let bytes = make_zip(&refs, true);
    let ar = Pt2Archive::from_bytes(bytes, "rezipped.pt2").unwrap();
    assert!(!ar.member("models/model.json").unwrap().stored);
    for fqn in orig.weights().keys() {
        assert_eq!(
            orig.read_tensor_by_fqn(fqn).unwrap(),
            ar.read_tensor_by_fqn(fqn).unwrap()
        );
    }
    let json = ar.read_model_json("model").unwrap();
    assert!(parse(&ar, &json).unwrap() > 0);
}

#[test]
fn minimal_synthetic_archive() {
    let bytes = make_pt2(&minimal_model());
    let ar = Pt2Archive::from_bytes(bytes, "mem.pt2").unwrap();
    assert_eq!(ar.prefix(), "m");
    let t = ar.read_tensor_by_fqn("w").unwrap();
    assert_eq!(t.shape, [4]);
    let json = ar.read_model_json("model").unwrap();
    let mut w = vec![];
    let ep = parse_exported_program(&json, "mem.pt2", "m/models/model.json", &mut w).unwrap();
    assert_eq!(ep.graph_module.graph.nodes.len(), 1);
    // Strings without escapes are borrowed from the buffer.
    assert!(matches!(
        ep.graph_module.graph.nodes[0].target.0,
        std::borrow::Cow::Borrowed(_)
    ));
}

/// Asserts that an error's message is one line, and returns the error.
fn one_line(e: ImportError) -> ImportError {
    let msg = e.to_string();
    assert!(
        !msg.contains('\n') && !msg.contains('\r'),
        "multi-line error: {msg:?}"
    );
    e
}

fn open_err(bytes: Vec<u8>) -> ImportError {
    one_line(Pt2Archive::from_bytes(bytes, "broken.pt2").unwrap_err())
}

fn parse_err(model: serde_json::Value) -> ImportError {
    parse_err_bytes(model.to_string().into_bytes())
}

fn parse_err_bytes(model: Vec<u8>) -> ImportError {
    let ar = Pt2Archive::from_bytes(make_pt2_with(model, &[]), "broken.pt2").unwrap();
    let json = ar.read_model_json("model").unwrap();
    let mut w = vec![];
    one_line(
        parse_exported_program(&json, "broken.pt2", "m/models/model.json", &mut w).unwrap_err(),
    )
}

/// Imports a synthetic archive (standard registry) and returns its error.
fn import_err(model: &serde_json::Value) -> ImportError {
    one_line(trtfx_frontend_fx::import_pt2_bytes(make_pt2(model), "broken.pt2").unwrap_err())
}

#[test]
fn error_truncated_zip() {
    let bytes = make_pt2(&minimal_model());
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        let e = open_err(bytes[..cut].to_vec());
        assert!(matches!(e, ImportError::Zip { .. }), "{e}");
        assert!(e.to_string().starts_with("broken.pt2: "), "{e}");
    }
    if let Some(f) = fixture("small.pt2") {
        let b = std::fs::read(f).unwrap();
        for cut in [30, 100, b.len() / 2] {
            // The embedded sample-inputs zip can be found instead of the outer directory.
            let e = open_err(b[..b.len() - cut].to_vec());
            assert!(
                matches!(e, ImportError::Zip { .. } | ImportError::NotPt2 { .. }),
                "{e}"
            );
        }
    }
}

#[test]
fn error_missing_model_json() {
    let e = open_err(make_pt2_with(b"{}".to_vec(), &["models/model.json"]));
    let msg = e.to_string();
    assert!(matches!(e, ImportError::Corrupt { .. }), "{msg}");
    assert!(
        msg.contains("m/models/*.json") && msg.contains("failed part-way"),
        "{msg}"
    );
}

#[test]
fn error_not_pt2_and_legacy_layouts() {
    let e = open_err(make_zip(&[("a/b.txt", b"x".to_vec())], false));
    assert!(matches!(e, ImportError::NotPt2 { .. }), "{e}");
    let e = open_err(make_zip(&[("a/archive_format", b"zip".to_vec())], false));
    assert!(e.to_string().contains("does not say `pt2`"), "{e}");
    let e = open_err(make_zip(
        &[
            ("serialized_exported_program.json", b"{}".to_vec()),
            ("serialized_state_dict.pt", vec![]),
            ("version", b"8.2".to_vec()),
        ],
        false,
    ));
    assert!(
        e.to_string()
            .contains("unsupported: legacy archive (torch <= 2.7)"),
        "{e}"
    );
    // 2.8: weights as one torch.save blob, no config.
    let model = minimal_model().to_string().into_bytes();
    let e = open_err(make_zip(
        &[
            ("m/archive_format", b"pt2".to_vec()),
            ("m/models/model.json", model),
            ("m/data/weights/model.pt", vec![1, 2, 3]),
        ],
        false,
    ));
    let msg = e.to_string();
    assert!(matches!(e, ImportError::UnsupportedLayout { .. }), "{msg}");
    assert!(
        msg.contains("m/data/weights/model.pt") && msg.contains("2.8"),
        "{msg}"
    );
}

#[test]
fn error_bad_byteorder_and_missing_payload_member() {
    let e = open_err(make_zip(
        &[
            ("m/archive_format", b"pt2".to_vec()),
            ("m/byteorder", b"middle".to_vec()),
            ("m/models/model.json", b"{}".to_vec()),
        ],
        false,
    ));
    assert!(matches!(e, ImportError::Corrupt { .. }), "{e}");
    let e = open_err(make_pt2_with(
        minimal_model().to_string().into_bytes(),
        &["weight_0"],
    ));
    let msg = e.to_string();
    assert!(
        msg.contains("m/data/weights/weight_0") && msg.contains("`w`"),
        "{msg}"
    );
}

#[test]
fn error_schema_major_9() {
    let mut m = minimal_model();
    m["schema_version"]["major"] = 9.into();
    let e = parse_err(m.clone());
    assert!(
        matches!(e, ImportError::SchemaVersion { major: 9, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("9.17"), "{e}");
    // Even when the rest of a 9.x file does not match the 8.x schema.
    m["graph_module"] = serde_json::json!(42);
    assert!(matches!(parse_err(m), ImportError::SchemaVersion { .. }));
    // A newer minor is a warning only.
    let mut m = minimal_model();
    m["schema_version"]["minor"] = 99.into();
    let mut w = vec![];
    let s = m.to_string();
    parse_exported_program(s.as_bytes(), "x.pt2", "models/model.json", &mut w).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn error_unknown_scalar_type() {
    let mut m = minimal_model();
    m["graph_module"]["graph"]["tensor_values"]["x"]["dtype"] = 99.into();
    let e = parse_err(m);
    let msg = e.to_string();
    assert!(matches!(e, ImportError::Json { .. }), "{msg}");
    assert!(
        msg.contains("unknown ScalarType code 99")
            && msg.contains("broken.pt2")
            && msg.contains("model.json"),
        "{msg}"
    );
    // c10's numbering is not the schema's: 15 (c10 bfloat16) is unknown here.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["tensor_values"]["x"]["dtype"] = 15.into();
    assert!(parse_err(m)
        .to_string()
        .contains("unknown ScalarType code 15"));
}

#[test]
fn error_unknown_argument_variant_and_union_shape() {
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"][0]["arg"] = serde_json::json!({"as_foo": 1});
    let msg = parse_err(m).to_string();
    assert!(msg.contains("unknown variant `as_foo`"), "{msg}");
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"][0]["arg"] =
        serde_json::json!({"as_int": 1, "as_float": 2.0});
    assert!(matches!(parse_err(m), ImportError::Json { .. }));
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"][0]["arg"] = serde_json::json!({});
    assert!(matches!(parse_err(m), ImportError::Json { .. }));
}

#[test]
fn error_bad_json() {
    let e = parse_err_bytes(b"{\"graph_module\": ".to_vec());
    assert!(matches!(e, ImportError::Json { .. }), "{e}");
}

#[test]
fn lenient_fields() {
    // Missing `kind`, `name`, `is_hop_single_tensor_return`, `guards_code`, `metadata`,
    // unknown extra keys, non-finite float strings and integer JSON in float fields.
    let mut m = minimal_model();
    let node = &mut m["graph_module"]["graph"]["nodes"][0];
    let obj = node.as_object_mut().unwrap();
    obj.remove("name");
    obj.remove("is_hop_single_tensor_return");
    obj.remove("metadata");
    obj.insert("future_field".into(), serde_json::json!({"x": [1, 2]}));
    let inp = node["inputs"][0].as_object_mut().unwrap();
    inp.remove("kind");
    node["inputs"].as_array_mut().unwrap().extend([
        serde_json::json!({"name": "a", "arg": {"as_float": "-Infinity"}}),
        serde_json::json!({"name": "b", "arg": {"as_floats": ["NaN", "Infinity", 3]}}),
        serde_json::json!({"name": "c", "arg": {"as_complex": {"real": 1, "imag": "NaN"}}}),
    ]);
    m.as_object_mut().unwrap().remove("guards_code");
    let s = m.to_string();
    let mut w = vec![];
    let ep = parse_exported_program(s.as_bytes(), "x", "y", &mut w).unwrap();
    let n = &ep.graph_module.graph.nodes[0];
    assert!(n.name.is_none() && n.inputs[0].kind.is_none());
    match &n.inputs[1].arg {
        Argument::Float(f) => assert_eq!(f.0, f64::NEG_INFINITY),
        a => panic!("{a:?}"),
    }
    match &n.inputs[2].arg {
        Argument::Floats(f) => {
            assert!(f[0].0.is_nan() && f[1].0 == f64::INFINITY && f[2].0 == 3.0)
        }
        a => panic!("{a:?}"),
    }
    assert_eq!(ep.torch_version.as_str(), "2.11.0");
    assert!(ep.guards_code.is_empty());
}

#[test]
fn malformed_expression_error_names_the_item() {
    let err = parse_sym_expr("Mul(Integer(2), Symbol('s0')").unwrap_err();
    let e = ImportError::SymExpr {
        archive: "a.pt2".into(),
        item: "value `x` size 0".into(),
        source: err,
    };
    let msg = e.to_string();
    assert!(
        msg.starts_with("a.pt2: value `x` size 0: malformed symbolic expression at byte"),
        "{msg}"
    );
}

#[test]
fn error_unknown_enum_codes() {
    // Layout.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["tensor_values"]["x"]["layout"] = 42.into();
    let msg = parse_err(m).to_string();
    assert!(msg.contains("unknown Layout code 42"), "{msg}");
    // ArgumentKind.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"][0]["kind"] = 3.into();
    let msg = parse_err(m).to_string();
    assert!(msg.contains("unknown ArgumentKind code 3"), "{msg}");
    // MemoryFormat, as an argument.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"]
        .as_array_mut()
        .unwrap()
        .push(
            serde_json::json!({"name": "memory_format", "arg": {"as_memory_format": 7}, "kind": 2}),
        );
    let msg = parse_err(m).to_string();
    assert!(msg.contains("unknown MemoryFormat code 7"), "{msg}");
    // ScalarType as an argument, and a negative code.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "dtype", "arg": {"as_scalar_type": -1}, "kind": 2}));
    let msg = parse_err(m).to_string();
    assert!(msg.contains("unknown ScalarType code -1"), "{msg}");
    // A code that is not an integer.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["tensor_values"]["x"]["dtype"] = "float32".into();
    assert!(matches!(parse_err(m), ImportError::Json { .. }));
}

#[test]
fn error_malformed_expressions_through_import() {
    for bad in [
        "",
        "Mul(Integer(2), Symbol('s0')",
        "Symbol('s0', positive=True) Symbol('s1')",
        "Integer(",
        "Symbol(s0)",
        "Mul(Integer(2),\nSymbol('s0'))\u{1b}",
        "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((s0",
    ] {
        let mut m = minimal_model();
        m["graph_module"]["graph"]["tensor_values"]["x"]["sizes"][0]["as_expr"]["expr_str"] =
            bad.into();
        let e = import_err(&m);
        let msg = e.to_string();
        assert!(matches!(e, ImportError::SymExpr { .. }), "{bad:?}: {msg}");
        eprintln!("{msg}");
        assert!(
            msg.starts_with("broken.pt2: ") && msg.contains("malformed symbolic expression"),
            "{msg}"
        );
    }
    // In a sym_int value and in a sym_bool value too.
    let mut m = minimal_model();
    let g = &mut m["graph_module"]["graph"];
    g["sym_bool_values"]["b"] =
        serde_json::json!({"as_expr": {"expr_str": "Eq(s0,", "hint": null}});
    g["nodes"][0]["inputs"].as_array_mut().unwrap().push(
        serde_json::json!({"name": "flag", "arg": {"as_sym_bool": {"as_name": "b"}}, "kind": 2}),
    );
    g["inputs"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"as_sym_bool": {"as_name": "b"}}));
    m["graph_module"]["signature"]["input_specs"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"user_input": {"arg": {"as_sym_bool": {"as_name": "b"}}}}));
    let msg = import_err(&m).to_string();
    assert!(msg.contains("`b`") && msg.contains("malformed"), "{msg}");
}

#[test]
fn error_truncated_payload_and_bad_views() {
    // The view needs more bytes than the storage member has.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["inputs"]
        .as_array_mut()
        .unwrap()
        .insert(0, serde_json::json!({"as_tensor": {"name": "p_w"}}));
    m["graph_module"]["signature"]["input_specs"]
        .as_array_mut()
        .unwrap()
        .insert(
            0,
            serde_json::json!({"parameter": {"arg": {"name": "p_w"}, "parameter_name": "w"}}),
        );
    m["graph_module"]["graph"]["tensor_values"]["p_w"] = serde_json::json!({"dtype": 7,
        "sizes": [{"as_int": 4}], "requires_grad": true, "device": {"type": "cpu", "index": null},
        "strides": [{"as_int": 1}], "storage_offset": {"as_int": 0}, "layout": 7});
    // Sanity: the archive imports and the weight reads.
    let p = trtfx_frontend_fx::import_pt2_bytes(make_pt2(&m), "ok.pt2").unwrap();
    assert_eq!(p.weights["w"].bytes().unwrap().len(), 16);

    // Replace the 16-byte storage with 10 bytes.
    let model = m.to_string().into_bytes();
    let full = make_pt2_with(model.clone(), &[]);
    let ar = Pt2Archive::from_bytes(full, "x.pt2").unwrap();
    let mut members = vec![];
    for name in [
        "data/weights/model_weights_config.json",
        "data/constants/model_constants_config.json",
        "models/model.json",
        "archive_format",
    ] {
        let mem = ar.member(name).unwrap();
        members.push((
            format!("m/{name}"),
            ar.read_member(mem).unwrap().into_owned(),
        ));
    }
    members.push(("m/data/weights/weight_0".into(), vec![0u8; 10]));
    let refs: Vec<(&str, Vec<u8>)> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    let bytes = make_zip(&refs, false);
    // Payloads are read lazily, but their sizes are checked against the directory when the
    // archive opens: a truncated weight is refused then, with one line naming it (issue 19).
    let e = one_line(Pt2Archive::from_bytes(bytes.clone(), "short.pt2").unwrap_err());
    let msg = e.to_string();
    assert!(msg.contains("short.pt2") && msg.contains("`w`"), "{msg}");
    assert!(
        msg.contains("truncated") && msg.contains("weight_0"),
        "{msg}"
    );
    let msg = trtfx_frontend_fx::import_pt2_bytes(bytes, "short.pt2")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("need 16 bytes") && msg.contains("holds 10"),
        "{msg}"
    );
}

#[test]
fn every_error_variant_is_one_line() {
    // Errors produced by the other tests are checked through `open_err`/`parse_err`; here the
    // import-level ones.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"][0]["arg"]["as_tensor"]["name"] = "nope".into();
    import_err(&m);
    let mut m = minimal_model();
    m["graph_module"]["signature"]["input_specs"] = serde_json::json!([]);
    import_err(&m);
    let mut m = minimal_model();
    m["graph_module"]["graph"]["tensor_values"]
        .as_object_mut()
        .unwrap()
        .remove("relu");
    let msg = import_err(&m).to_string();
    assert!(msg.contains("`relu`"), "{msg}");
    // A value defined twice.
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["outputs"][0]["as_tensor"]["name"] = "x".into();
    m["graph_module"]["graph"]["outputs"][0]["as_tensor"]["name"] = "x".into();
    let msg = import_err(&m).to_string();
    assert!(msg.contains("defined twice"), "{msg}");
}

#[test]
fn stored_members_are_borrowed_and_crc_checked() {
    let bytes = make_pt2(&minimal_model());
    let ar = Pt2Archive::from_bytes(bytes.clone(), "mem.pt2").unwrap();
    let info = ar.member("models/model.json").unwrap().clone();
    assert!(info.stored);
    // A stored member of an in-memory archive is not copied.
    assert!(matches!(
        ar.read_model_json("model").unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));

    // One flipped byte in the stored JSON: the borrowed path sees the CRC mismatch and hands
    // over to the zip reader, which reports it; in memory and through a mapped file alike.
    let mut bad = bytes.clone();
    bad[info.data_offset as usize + 3] ^= 0x20;
    let ar = Pt2Archive::from_bytes(bad.clone(), "broken.pt2").unwrap();
    let e = one_line(ar.read_model_json("model").unwrap_err());
    assert!(matches!(e, ImportError::Zip { .. }), "{e}");
    assert!(e.to_string().contains("models/model.json"), "{e}");

    let dir = std::env::temp_dir().join(format!("trtfx-crc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (good_path, bad_path) = (dir.join("good.pt2"), dir.join("bad.pt2"));
    std::fs::write(&good_path, &bytes).unwrap();
    std::fs::write(&bad_path, &bad).unwrap();
    let ar = Pt2Archive::open(&good_path).unwrap();
    assert!(matches!(
        ar.read_model_json("model").unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));
    assert_eq!(ar.read_tensor_by_fqn("w").unwrap().shape, [4]);
    let ar = Pt2Archive::open(&bad_path).unwrap();
    let e = one_line(ar.read_model_json("model").unwrap_err());
    assert!(matches!(e, ImportError::Zip { .. }), "{e}");
    let e = one_line(trtfx_frontend_fx::import_pt2(&bad_path).unwrap_err());
    assert!(
        e.to_string().starts_with(&bad_path.display().to_string()),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
