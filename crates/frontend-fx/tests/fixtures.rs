//! Fixture-wide checks over the committed real-model fixtures (`tests/fixtures/*.pt2`, both
//! dialects) and the shared spec fixtures (`shared/docs/pt2-fixtures`):
//!
//! - every archive imports; its printed program is snapshot-tested and parses back to an equal
//!   program;
//! - every imported tensor value has the dtype and shape PyTorch recorded in `tensor_values`,
//!   read here independently of the importer with `serde_json::Value`;
//! - every weight reads back bit-exactly, compared with bytes rebuilt here independently
//!   (`zip` crate, payload configs as `serde_json::Value`, `as_strided` by hand).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value as J;
use trtfx_frontend_fx::import_pt2;
use trtfx_ir::{Arg, DType, Graph, GraphId, Op, Program, Type, WeightData};

/// The committed real-model fixtures, sorted.
fn repo_fixtures() -> Vec<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pt2"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 16,
        "expected the committed fixtures, found {v:?}"
    );
    v
}

/// Every fixture: committed ones, then the shared ones (when that folder exists).
fn all_fixtures() -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> =
        repo_fixtures().into_iter().map(|p| (stem(&p), p)).collect();
    for p in common::fixtures() {
        v.push((format!("shared_{}", stem(&p)), p));
    }
    v
}

/// `mobilenet_v3_small.core.pt2` → `mobilenet_v3_small_core`.
fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().replace('.', "_")
}

// ---------------------------------------------------------------------------------------------
// Independent archive reader
// ---------------------------------------------------------------------------------------------

/// All members of a zip by name.
fn read_zip(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        out.insert(e.name().to_string(), b);
    }
    out
}

/// The archive prefix: `X` of the member `X/archive_format`.
fn prefix_of(members: &BTreeMap<String, Vec<u8>>) -> String {
    members
        .keys()
        .find_map(|k| {
            let (p, r) = k.split_once('/')?;
            (r == "archive_format").then(|| p.to_string())
        })
        .expect("archive_format member")
}

fn model_json(members: &BTreeMap<String, Vec<u8>>) -> J {
    let pre = prefix_of(members);
    serde_json::from_slice(&members[&format!("{pre}/models/model.json")]).unwrap()
}

/// The schema's ScalarType numbering (spec §3.3) → (IR dtype, element size).
fn schema_dtype(code: i64) -> (DType, usize) {
    match code {
        1 => (DType::U8, 1),
        2 => (DType::I8, 1),
        3 => (DType::I16, 2),
        4 => (DType::I32, 4),
        5 => (DType::I64, 8),
        6 => (DType::F16, 2),
        7 => (DType::F32, 4),
        8 => (DType::F64, 8),
        9 => (DType::C32, 4),
        10 => (DType::C64, 8),
        11 => (DType::C128, 16),
        12 => (DType::Bool, 1),
        13 => (DType::BF16, 2),
        28 => (DType::U16, 2),
        29 => (DType::F8E4M3FN, 1),
        30 => (DType::F8E5M2, 1),
        31 => (DType::F8E4M3FNUZ, 1),
        32 => (DType::F8E5M2FNUZ, 1),
        c => panic!("unexpected ScalarType code {c}"),
    }
}

fn as_int(v: &J) -> i64 {
    v["as_int"]
        .as_i64()
        .unwrap_or_else(|| panic!("expected as_int: {v}"))
}

// ---------------------------------------------------------------------------------------------
// 1. Import, print snapshot, print → parse round trip
// ---------------------------------------------------------------------------------------------

/// Printed programs longer than this are snapshotted as a summary plus their first lines.
const FULL_SNAPSHOT_LINES: usize = 400;

fn summary(p: &Program, text: &str) -> String {
    let mut s = String::new();
    let lines: Vec<&str> = text.lines().collect();
    s += &format!("printed lines: {}\n", lines.len());
    s += &format!("graphs: {}\n", p.graphs.len());
    s += &format!("symbols: {}\n", p.symbols.len());
    let wbytes: usize = p.weights.values().map(|w| w.nbytes()).sum();
    s += &format!("weights: {} ({wbytes} bytes)\n", p.weights.len());
    s += &format!("input specs: {}\n", p.input_specs.len());
    s += &format!("signature outputs: {}\n", p.signature.outputs.len());
    let mut ops: BTreeMap<String, usize> = BTreeMap::new();
    let mut nodes = 0;
    for g in p.graphs.values() {
        for n in g.nodes() {
            nodes += 1;
            let op = &g.node(n).op;
            *ops.entry(op.target().unwrap_or(op.opcode()).to_string())
                .or_default() += 1;
        }
    }
    s += &format!("nodes (with placeholders and outputs): {nodes}\n");
    s += "op histogram:\n";
    for (k, v) in &ops {
        s += &format!("  {v:4} {k}\n");
    }
    // The weight and placeholder lists are long: show the start of the main graph's body.
    let body = lines
        .iter()
        .position(|l| l.trim_start().starts_with(") -> ("))
        .map_or(0, |i| i + 1);
    s += "\nfirst 60 lines of the main graph body:\n";
    for l in lines.iter().skip(body).take(60) {
        s += l;
        s += "\n";
    }
    s
}

/// Reports where two programs differ (the first differing graph or field).
fn first_difference(a: &Program, b: &Program) -> String {
    if a.graphs.len() != b.graphs.len() {
        return format!("graph count {} vs {}", a.graphs.len(), b.graphs.len());
    }
    for ((ia, ga), (ib, gb)) in a.graphs.iter().zip(b.graphs.iter()) {
        if ga != gb {
            let show = |p: &Program, g: GraphId, n: trtfx_ir::NodeId| {
                let gr = &p.graphs[g];
                format!(
                    "{} {:?} {:?}",
                    trtfx_ir::text::print_node(p, g, n),
                    gr.node(n).name,
                    gr.node(n).meta
                )
            };
            for (x, y) in ga.nodes().zip(gb.nodes()) {
                let (sx, sy) = (show(a, ia, x), show(b, ib, y));
                if sx != sy {
                    return format!("graph `{}`: node {sx}\n vs {sy}", ga.name);
                }
            }
            return format!("graph `{}` differs: {ga:?}\n vs {gb:?}", ga.name);
        }
    }
    for (what, x, y) in [
        (
            "symbols",
            format!("{:?}", a.symbols),
            format!("{:?}", b.symbols),
        ),
        (
            "signature",
            format!("{:?}", a.signature),
            format!("{:?}", b.signature),
        ),
        (
            "input_specs",
            format!("{:?}", a.input_specs),
            format!("{:?}", b.input_specs),
        ),
        ("meta", format!("{:?}", a.meta), format!("{:?}", b.meta)),
        ("main", format!("{:?}", a.main), format!("{:?}", b.main)),
    ] {
        if x != y {
            return format!("{what}: {x}\n vs {y}");
        }
    }
    "weights".into()
}

#[test]
fn every_fixture_imports_prints_and_round_trips() {
    let mut checked = 0;
    for (name, path) in all_fixtures() {
        // (`shared_sub` has a pickled parameter: an opaque weight, which prints and parses.)
        let p = import_pt2(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = trtfx_ir::print_program(&p);
        // Opaque-weight reasons name the archive by absolute path; snapshots must not depend
        // on where the repository is checked out.
        let shown = text.replace(env!("CARGO_MANIFEST_DIR"), "<crate>");
        if text.lines().count() > FULL_SNAPSHOT_LINES {
            insta::assert_snapshot!(
                format!("summary_{name}"),
                summary(&p, &text).replace(env!("CARGO_MANIFEST_DIR"), "<crate>")
            );
        } else {
            insta::assert_snapshot!(format!("print_{name}"), shown);
        }

        let mut q = trtfx_ir::parse_program(&text)
            .unwrap_or_else(|e| panic!("{name}: printed program does not parse: {e}"));
        // Weights are metadata only in the text: same names, order, dtypes and shapes.
        assert_eq!(
            q.weights.keys().collect::<Vec<_>>(),
            p.weights.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (k, w) in &p.weights {
            let u = &q.weights[k];
            assert_eq!((u.dtype, &u.shape), (w.dtype, &w.shape), "{name}: {k}");
            assert!(matches!(u.data, WeightData::Opaque(_)), "{name}: {k}");
        }
        q.weights = p.weights.clone();
        assert!(p == q, "{name}: {}", first_difference(&p, &q));
        // Printing is deterministic and a fixed point.
        assert_eq!(trtfx_ir::print_program(&q), text, "{name}");
        checked += 1;
    }
    eprintln!("{checked} fixtures imported, printed and round-tripped");
}

// ---------------------------------------------------------------------------------------------
// 2. Recorded dtypes and shapes
// ---------------------------------------------------------------------------------------------

/// Symbol → hint, from every `as_expr` that is a bare `Symbol('name', ...)` with an int hint.
fn symbol_hints(g: &J, out: &mut HashMap<String, i64>) {
    let mut visit = |s: &J| {
        let Some(e) = s.get("as_expr") else { return };
        let expr = e["expr_str"].as_str().unwrap();
        let Some(rest) = expr.strip_prefix("Symbol('") else {
            return;
        };
        let name = &rest[..rest.find('\'').unwrap()];
        if let Some(h) = e["hint"].get("as_int").and_then(J::as_i64) {
            let old = out.insert(name.to_string(), h);
            assert!(old.is_none_or(|o| o == h), "{name}: hints {old:?} and {h}");
        }
    };
    for tm in g["tensor_values"].as_object().unwrap().values() {
        for s in tm["sizes"].as_array().unwrap() {
            visit(s);
        }
    }
    for s in g["sym_int_values"].as_object().unwrap().values() {
        visit(s);
    }
    for n in g["nodes"].as_array().unwrap() {
        for a in n["inputs"].as_array().unwrap() {
            if let Some(sub) = a["arg"].get("as_graph") {
                symbol_hints(&sub["graph"], out);
            }
        }
    }
}

/// Every graph argument of a node, in argument order (args, then kwargs, nested lists too).
fn graph_args(g: &Graph, n: trtfx_ir::NodeId) -> Vec<GraphId> {
    fn walk(a: &Arg, out: &mut Vec<GraphId>) {
        match a {
            Arg::Graph(id) => out.push(*id),
            Arg::List(v) => v.iter().for_each(|x| walk(x, out)),
            Arg::Dict(v) => v.iter().for_each(|(_, x)| walk(x, out)),
            _ => {}
        }
    }
    let nd = g.node(n);
    let mut out = vec![];
    nd.args.iter().for_each(|a| walk(a, &mut out));
    nd.kwargs.iter().for_each(|(_, a)| walk(a, &mut out));
    out
}

#[derive(Default)]
struct Counts {
    graphs: usize,
    tensors: usize,
    symbolic_dims: usize,
    sym_ints: usize,
}

/// Compares one JSON graph with the IR graph it was imported into, then recurses into the
/// subgraphs, pairing JSON nodes with IR call nodes by position.
fn check_graph(
    p: &Program,
    gid: GraphId,
    jg: &J,
    hints: &HashMap<String, i64>,
    what: &str,
    c: &mut Counts,
) {
    let g = &p.graphs[gid];
    c.graphs += 1;
    let by_name: HashMap<&str, trtfx_ir::ValueId> = g
        .value_ids()
        .map(|v| (g.value(v).name.as_str(), v))
        .collect();
    let env = |s: &str| hints.get(s).copied();
    for (vname, tm) in jg["tensor_values"].as_object().unwrap() {
        let item = format!("{what}: graph `{}` value `{vname}`", g.name);
        let Some(&v) = by_name.get(vname.as_str()) else {
            panic!("{item}: recorded but not imported")
        };
        let ty = g.ty(v);
        let Type::Tensor(t) = ty else {
            // Effect tokens are recorded as tensors.
            assert_eq!(ty, &Type::Token, "{item}");
            continue;
        };
        let (dt, _) = schema_dtype(tm["dtype"].as_i64().unwrap());
        assert_eq!(t.dtype, dt, "{item}");
        let sizes = tm["sizes"].as_array().unwrap();
        assert_eq!(t.shape.len(), sizes.len(), "{item}: rank");
        for (i, (d, s)) in t.shape.iter().zip(sizes).enumerate() {
            if let Some(k) = s.get("as_int") {
                assert_eq!(d.as_const(), Some(k.as_i64().unwrap()), "{item} dim {i}");
            } else {
                let e = &s["as_expr"];
                let expr = e["expr_str"].as_str().unwrap();
                assert!(!d.is_const(), "{item} dim {i}: `{expr}` imported as {d:?}");
                c.symbolic_dims += 1;
                // Every symbol the IR dim uses appears in the recorded expression (unless the
                // importer had to introduce an opaque symbol).
                for sym in d.symbols() {
                    assert!(
                        sym.starts_with("_opaque") || expr.contains(&format!("'{sym}'")),
                        "{item} dim {i}: symbol {sym} not in `{expr}`"
                    );
                }
                if let Some(h) = e["hint"].get("as_int").and_then(J::as_i64) {
                    if let Some(val) = d.eval(&env) {
                        assert_eq!(val, h, "{item} dim {i}: `{expr}`");
                    }
                }
            }
        }
        c.tensors += 1;
    }
    for (vname, s) in jg["sym_int_values"].as_object().unwrap() {
        let item = format!("{what}: graph `{}` symint `{vname}`", g.name);
        let Some(&v) = by_name.get(vname.as_str()) else {
            continue; // a sym_int table entry may be an input only referenced by name
        };
        let Type::SymInt(d) = g.ty(v) else {
            panic!("{item}: imported as {:?}", g.ty(v))
        };
        if let (Some(k), Some(d)) = (s.get("as_int"), d) {
            assert_eq!(d.as_const(), k.as_i64(), "{item}");
        }
        c.sym_ints += 1;
    }
    // Subgraphs: the k-th call node is the k-th JSON node.
    let calls: Vec<_> = g
        .nodes()
        .filter(|&n| !matches!(g.node(n).op, Op::Placeholder | Op::Output))
        .collect();
    let jnodes = jg["nodes"].as_array().unwrap();
    assert_eq!(
        calls.len(),
        jnodes.len(),
        "{what}: graph `{}` node count",
        g.name
    );
    for (&n, jn) in calls.iter().zip(jnodes) {
        let subs: Vec<&J> = jn["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["arg"].get("as_graph"))
            .collect();
        let ids = graph_args(g, n);
        assert_eq!(ids.len(), subs.len(), "{what}: node {}", g.node(n).name);
        for (id, sub) in ids.into_iter().zip(subs) {
            check_graph(p, id, &sub["graph"], hints, what, c);
        }
    }
}

#[test]
fn imported_types_equal_recorded_tensor_values() {
    for (name, path) in all_fixtures() {
        let p = import_pt2(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let model = model_json(&read_zip(&path));
        let jg = &model["graph_module"]["graph"];
        let mut hints = HashMap::new();
        symbol_hints(jg, &mut hints);
        let mut c = Counts::default();
        check_graph(&p, p.main, jg, &hints, &name, &mut c);
        assert!(c.tensors > 0, "{name}");
        // Symbol ranges equal range_constraints.
        for (sym, rc) in model["range_constraints"].as_object().unwrap() {
            let s = &p.symbols[sym.as_str()];
            assert_eq!(s.min, rc["min_val"].as_i64(), "{name}: {sym} min");
            assert_eq!(s.max, rc["max_val"].as_i64(), "{name}: {sym} max");
            if let Some(h) = hints.get(sym) {
                assert_eq!(s.hint, Some(*h), "{name}: {sym} hint");
            }
        }
        // Every graph of the program was reached (subgraphs are deduplicated, so at most).
        assert!(c.graphs >= p.graphs.len(), "{name}");
        eprintln!(
            "{name}: {} graph visits, {} tensor values ({} symbolic dims), {} symints",
            c.graphs, c.tensors, c.symbolic_dims, c.sym_ints
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Weights, bit-exact
// ---------------------------------------------------------------------------------------------

/// Rebuilds one payload by hand: flat storage of `tensor_meta.dtype`, then
/// `as_strided(sizes, strides, storage_offset)` into contiguous bytes.
fn rebuild(storage: &[u8], tm: &J, what: &str) -> (DType, Vec<i64>, Vec<u8>) {
    let (dt, es) = schema_dtype(tm["dtype"].as_i64().unwrap());
    let sizes: Vec<i64> = tm["sizes"].as_array().unwrap().iter().map(as_int).collect();
    let strides: Vec<i64> = tm["strides"]
        .as_array()
        .unwrap()
        .iter()
        .map(as_int)
        .collect();
    let off = as_int(&tm["storage_offset"]);
    assert_eq!(sizes.len(), strides.len(), "{what}");
    let numel: i64 = sizes.iter().product();
    let mut out = Vec::with_capacity(numel.max(0) as usize * es);
    if numel > 0 {
        let mut idx = vec![0i64; sizes.len()];
        loop {
            let e = off + idx.iter().zip(&strides).map(|(i, s)| i * s).sum::<i64>();
            let b = e as usize * es;
            out.extend_from_slice(&storage[b..b + es]);
            // Odometer increment, last dim fastest.
            let mut k = sizes.len();
            loop {
                if k == 0 {
                    return (dt, sizes, out);
                }
                k -= 1;
                idx[k] += 1;
                if idx[k] < sizes[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
    }
    (dt, sizes, out)
}

#[test]
fn weights_read_back_bit_exactly() {
    let mut total = 0usize;
    let mut total_bytes = 0usize;
    for (name, path) in all_fixtures() {
        let p = import_pt2(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let members = read_zip(&path);
        let pre = prefix_of(&members);
        let little = members
            .get(&format!("{pre}/byteorder"))
            .is_none_or(|b| b == b"little");
        assert!(little, "{name}: big-endian fixture");
        let mut seen = 0;
        for (dir, cfg) in [
            ("weights", "model_weights_config.json"),
            ("constants", "model_constants_config.json"),
        ] {
            let Some(cfg) = members.get(&format!("{pre}/data/{dir}/{cfg}")) else {
                continue;
            };
            let cfg: J = serde_json::from_slice(cfg).unwrap();
            for (fqn, e) in cfg["config"].as_object().unwrap() {
                let what = format!("{name}: {dir} `{fqn}`");
                if e["tensor_meta"].is_null() {
                    continue; // script object
                }
                let Some(w) = p.weights.get(fqn.as_str()) else {
                    // Constants the graph does not use are not imported.
                    continue;
                };
                seen += 1;
                if e["use_pickle"].as_bool().unwrap() {
                    assert!(matches!(w.data, WeightData::Opaque(_)), "{what}");
                    continue;
                }
                let member = format!("{pre}/data/{dir}/{}", e["path_name"].as_str().unwrap());
                let (dt, shape, bytes) = rebuild(&members[&member], &e["tensor_meta"], &what);
                assert_eq!((w.dtype, &w.shape), (dt, &shape), "{what}");
                let got = w.bytes().unwrap_or_else(|err| panic!("{what}: {err}"));
                assert!(*got == *bytes, "{what}: bytes differ");
                total += 1;
                total_bytes += bytes.len();
            }
        }
        assert_eq!(
            seen,
            p.weights.len(),
            "{name}: weights not found in the configs"
        );
    }
    eprintln!("{total} weights ({total_bytes} bytes) compared");
    assert!(total > 0);
}
