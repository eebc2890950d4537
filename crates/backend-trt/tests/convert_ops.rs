//! Table-driven converter tests: one small program per case, converted with the standard
//! registry. Every recorded network is snapshotted (one file per family), emulated on random
//! inputs against the CPU executor (f32 rtol/atol 5e-3, ints and bools exact), and, with the
//! `tensorrt` feature and the library present, built into a TensorRT-RTX plan.
//! `every_converter_has_a_case` checks that every converter of the standard registry (each
//! alias overload included) is called by some case, so a new converter needs a new case.

use std::fmt::Write as _;

use trtfx_backend_trt::convert::ConverterRegistry;
use trtfx_backend_trt::emulator::emulate;
use trtfx_backend_trt::engine::convert_graph;
use trtfx_backend_trt::RecordedNetwork;
use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::{parse_program, DType, Program, Weight};

/// One case: name, inputs `(name, type, int range)`, weights `(name, type)`, body, #outputs,
/// and the text of further graphs (subgraphs that `higher_order.cond` calls; usually empty).
struct Case {
    name: &'static str,
    inputs: &'static [(&'static str, &'static str)],
    weights: &'static [(&'static str, &'static str)],
    body: &'static str,
    outputs: &'static [&'static str],
    graphs: &'static str,
}

macro_rules! case {
    ($name:expr, [$(($i:expr, $t:expr)),*], [$(($w:expr, $wt:expr)),*], $body:expr, [$($o:expr),*]) => {
        Case { name: $name, inputs: &[$(($i, $t)),*], weights: &[$(($w, $wt)),*], body: $body, outputs: &[$($o),*], graphs: "" }
    };
    ($name:expr, [$(($i:expr, $t:expr)),*], [$(($w:expr, $wt:expr)),*], $body:expr, [$($o:expr),*], $graphs:expr) => {
        Case { name: $name, inputs: &[$(($i, $t)),*], weights: &[$(($w, $wt)),*], body: $body, outputs: &[$($o),*], graphs: $graphs }
    };
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1_000_000) as f64 / 1_000_000.0
    }
}

/// `f32[2,3]` → dtype and dims (`s0` dims are taken as 3 for data).
fn parse_ty(t: &str) -> (DType, Vec<i64>, Vec<String>) {
    let (d, rest) = t.split_once('[').unwrap();
    let dims: Vec<String> = rest
        .trim_end_matches(']')
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().to_string())
        .collect();
    let shape = dims.iter().map(|s| s.parse().unwrap_or(3)).collect();
    (d.parse().unwrap(), shape, dims)
}

fn program(c: &Case) -> Program {
    program_with_body(c, c.body, c.graphs)
}

fn program_with_body(c: &Case, body: &str, graphs: &str) -> Program {
    let mut s = String::from("program {\n");
    let mut syms = std::collections::BTreeSet::new();
    for (_, t) in c.inputs {
        for d in parse_ty(t).2 {
            if d.parse::<i64>().is_err() {
                syms.insert(d);
            }
        }
    }
    for sym in &syms {
        writeln!(s, "  sym {sym}: size in 1..=8 hint 3").unwrap();
    }
    // Data-dependent sizes (`u0` of `nonzero`) appear only in the body's result types.
    let mut unbacked = std::collections::BTreeSet::new();
    for w in body.split(|ch: char| !ch.is_ascii_alphanumeric() && ch != '_') {
        if w.len() > 1 && w.starts_with('u') && w[1..].bytes().all(|b| b.is_ascii_digit()) {
            unbacked.insert(w.to_string());
        }
    }
    for sym in &unbacked {
        writeln!(s, "  sym {sym}: unbacked in 0..").unwrap();
    }
    for (n, t) in c.inputs {
        let (d, _, dims) = parse_ty(t);
        let dims: Vec<String> = dims
            .iter()
            .map(|x| {
                if x.parse::<i64>().is_ok() {
                    x.clone()
                } else {
                    format!("{x}(min=1, opt=3, max=8)")
                }
            })
            .collect();
        writeln!(s, "  input \"{n}\": {d}[{}]", dims.join(", ")).unwrap();
    }
    for (n, t) in c.weights {
        writeln!(s, "  weight \"{n}\": {t}").unwrap();
    }
    let mut params: Vec<String> = c
        .inputs
        .iter()
        .map(|(n, t)| format!("%{n}: {t} = user \"{n}\""))
        .collect();
    params.extend(
        c.weights
            .iter()
            .map(|(n, t)| format!("%{n}: {t} = param \"{n}\"")),
    );
    let kinds = vec!["user"; c.outputs.len()].join(", ");
    writeln!(s, "  graph @main({}) -> ({kinds}) {{", params.join(", ")).unwrap();
    for l in body.lines().filter(|l| !l.trim().is_empty()) {
        writeln!(s, "    {}", l.trim()).unwrap();
    }
    let outs: Vec<String> = c.outputs.iter().map(|o| format!("%{o}")).collect();
    writeln!(s, "    output ({})\n  }}", outs.join(", ")).unwrap();
    for l in graphs.lines().filter(|l| !l.trim().is_empty()) {
        writeln!(s, "  {}", l.trim()).unwrap();
    }
    writeln!(s, "}}").unwrap();
    let mut p = parse_program(&s).unwrap_or_else(|e| panic!("{}: {e}\n{s}", c.name));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (n, t) in c.weights {
        let (d, shape, _) = parse_ty(t);
        let numel: i64 = shape.iter().product();
        let v: Vec<f32> = (0..numel)
            .map(|_| (rng.next() * 2.0 - 1.0) as f32)
            .collect();
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        p.weights
            .insert(n.to_string(), Weight::from_bytes(d, shape, bytes));
    }
    p
}

fn random_input(t: &str, seed: u64) -> Tensor {
    let (d, shape, _) = parse_ty(t);
    let shape: Vec<usize> = shape.iter().map(|&x| x as usize).collect();
    let n: usize = shape.iter().product();
    let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
    match d {
        DType::F32 => Tensor::from_vec(
            (0..n)
                .map(|_| (rng.next() * 4.0 - 2.0) as f32)
                .collect::<Vec<_>>(),
            shape,
        ),
        // Small non-negative ints: valid indices for the gather cases.
        DType::I64 => Tensor::from_vec(
            (0..n)
                .map(|_| (rng.next() * 3.0) as i64)
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::I32 => Tensor::from_vec(
            (0..n)
                .map(|_| (rng.next() * 7.0) as i32 - 3)
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::Bool => {
            Tensor::from_vec((0..n).map(|_| rng.next() < 0.5).collect::<Vec<_>>(), shape)
        }
        d => panic!("no random {d}"),
    }
    .unwrap()
}

fn close(name: &str, want: &Tensor, got: &Tensor) -> Result<(), String> {
    if want.shape() != got.shape() {
        return Err(format!(
            "{name}: shape {:?} vs {:?}",
            want.shape(),
            got.shape()
        ));
    }
    if want.dtype() != got.dtype() {
        return Err(format!(
            "{name}: dtype {:?} vs {:?}",
            want.dtype(),
            got.dtype()
        ));
    }
    let (w, g) = (want.to_f64_vec(), got.to_f64_vec());
    let float = matches!(
        format!("{:?}", want.dtype()).as_str(),
        "F32" | "F16" | "BF16" | "F64"
    );
    for (i, (a, b)) in w.iter().zip(&g).enumerate() {
        let ok = if float {
            (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 5e-3 + 5e-3 * a.abs()
        } else {
            a == b
        };
        if !ok {
            return Err(format!("{name}: element {i}: want {a}, got {b}"));
        }
    }
    Ok(())
}

/// What the emulated network is compared with.
#[derive(Clone, Copy, PartialEq)]
enum Reference {
    /// The executor on the case's program.
    Exec,
    /// The executor on the program with every op that has no converter replaced by its
    /// op-table decomposition (what the converter emits layers for), and also the executor
    /// on the original program when it runs those ops itself.
    ExecDecomposed,
}

/// `p` with every call whose op has no converter but a decomposition decomposed.
fn decomposed(name: &str, p: &Program, reg: &ConverterRegistry) -> Program {
    let mut d = p.clone();
    let main = d.main;
    let n = trtfx_ir::ops::decomp::decompose_graph(
        &mut d.graphs[main],
        trtfx_ir::aten::registry(),
        &|op| !reg.has_converter(op),
        8,
    )
    .unwrap();
    assert!(n > 0, "{name}: nothing to decompose");
    d
}

/// Converts, snapshots, emulates and (when possible) builds every case of a family.
fn run_family(family: &str, cases: &[Case]) {
    run_family_against(family, cases, Reference::Exec)
}

/// [`run_family`] with the reference `reference`.
fn run_family_against(family: &str, cases: &[Case], reference: Reference) {
    let reg = ConverterRegistry::standard();
    let mut snap = String::new();
    let mut failures = vec![];
    let mut nets: Vec<(&str, RecordedNetwork)> = vec![];
    for c in cases {
        let p = program(c);
        let net = match convert_graph(&p, p.main, &reg) {
            Ok(n) => n,
            Err(e) => {
                failures.push(format!("{}: convert: {e}", c.name));
                continue;
            }
        };
        writeln!(snap, "== {}\n{net}", c.name).unwrap();
        let ins: Vec<Tensor> = c
            .inputs
            .iter()
            .enumerate()
            .map(|(i, (_, t))| random_input(t, i as u64 + 1))
            .collect();
        let values: Vec<Value> = ins.iter().cloned().map(Value::Tensor).collect();
        let want = match reference {
            Reference::Exec => Executor::new(&p)
                .run(&values)
                .unwrap_or_else(|e| panic!("{}: executor: {e}", c.name)),
            Reference::ExecDecomposed => {
                let d = decomposed(c.name, &p, &reg);
                let want = Executor::new(&d)
                    .run(&values)
                    .unwrap_or_else(|e| panic!("{}: executor (decomposed): {e}", c.name));
                // Once the executor runs the op itself (by kernel or decomposition), the
                // network must match that too.
                if let Ok(direct) = Executor::new(&p).run(&values) {
                    for (i, (w, g)) in want.iter().zip(&direct).enumerate() {
                        let (w, g) = (w.as_tensor().unwrap(), g.as_tensor().unwrap());
                        if let Err(e) = close(&format!("{} exec output {i}", c.name), w, g) {
                            failures.push(e);
                        }
                    }
                }
                want
            }
        };
        let named: Vec<(&str, Tensor)> = c
            .inputs
            .iter()
            .zip(ins)
            .map(|((n, _), t)| (*n, t))
            .collect();
        match emulate(&net, &named) {
            Ok(got) => {
                for (i, (w, (_, g))) in want.iter().zip(&got).enumerate() {
                    let w = w.as_tensor().expect("tensor output");
                    if let Err(e) = close(&format!("{} output {i}", c.name), w, g) {
                        failures.push(e);
                    }
                }
            }
            Err(e) => failures.push(format!("{}: emulate: {e}", c.name)),
        }
        nets.push((c.name, net));
    }
    build_all(&nets, &mut failures);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    insta::assert_snapshot!(family, snap);
}

#[cfg(feature = "tensorrt")]
fn build_all(nets: &[(&str, RecordedNetwork)], failures: &mut Vec<String>) {
    use trtfx_backend_trt::tensorrt::{build_plan, TrtLibrary};
    let lib = match TrtLibrary::load() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("TensorRT build skipped: {e}");
            return;
        }
    };
    for (name, net) in nets {
        match build_plan(lib, net, &Default::default()) {
            Ok(_) => {}
            // TensorRT-RTX takes the NonZero layer into the network but has no kernel for it
            // (NVIDIA/TensorRT-RTX#36); TensorRT 10/11 build it. Anything else is a failure.
            Err(e) if has_non_zero(net) && e.to_string().contains("NonZero] has no runners") => {}
            Err(e) => failures.push(format!("{name}: TensorRT build: {e}")),
        }
    }
}

/// Whether `net` holds a NonZero layer.
#[cfg(feature = "tensorrt")]
fn has_non_zero(net: &RecordedNetwork) -> bool {
    net.layers.iter().any(|l| l.op.kind() == "non_zero")
}

#[cfg(not(feature = "tensorrt"))]
fn build_all(_: &[(&str, RecordedNetwork)], _: &mut Vec<String>) {
    eprintln!("TensorRT build skipped: built without the `tensorrt` feature");
}

fn elementwise_cases() -> Vec<Case> {
    vec![
            case!("add", [("x", "f32[2,3]"), ("y", "f32[3]")], [], "%r: f32[2,3] = aten.add.Tensor(%x, %y, alpha=2)", ["r"]),
            case!("sub_scalar", [("x", "f32[2,3]")], [], "%r: f32[2,3] = aten.sub.Tensor(%x, 1.5)", ["r"]),
            case!("mul_int_float", [("x", "i32[2,3]"), ("y", "f32[2,3]")], [], "%r: f32[2,3] = aten.mul.Tensor(%x, %y)", ["r"]),
            case!("div_true_int", [("x", "i32[4]"), ("y", "i32[4]")], [], "%r: f32[4] = aten.div.Scalar(%x, 2)", ["r"]),
            case!("div_floor_int", [("x", "i32[6]")], [], "%r: i32[6] = aten.div.Tensor_mode(%x, 2, rounding_mode=\"floor\")", ["r"]),
            case!("div_trunc_int", [("x", "i32[6]")], [], "%r: i32[6] = aten.div.Tensor_mode(%x, 2, rounding_mode=\"trunc\")", ["r"]),
            case!("div_floor_f", [("x", "f32[6]"), ("y", "f32[6]")], [], "%r: f32[6] = aten.div.Tensor_mode(%x, %y, rounding_mode=\"floor\")", ["r"]),
            case!("div_trunc_f", [("x", "f32[6]")], [], "%r: f32[6] = aten.div.Tensor_mode(%x, 0.7, rounding_mode=\"trunc\")", ["r"]),
            case!("pow", [("x", "f32[5]")], [], "%r: f32[5] = aten.pow.Tensor_Scalar(%x, 2)", ["r"]),
            case!("maximum", [("x", "f32[2,3]"), ("y", "f32[2,3]")], [], "%r: f32[2,3] = aten.maximum.default(%x, %y)", ["r"]),
            case!("minimum", [("x", "f32[2,3]"), ("y", "f32[1,3]")], [], "%r: f32[2,3] = aten.minimum.default(%x, %y)", ["r"]),
            case!("remainder_int", [("x", "i32[6]")], [], "%r: i32[6] = aten.remainder.Scalar(%x, 3)", ["r"]),
            case!("remainder_f", [("x", "f32[6]")], [], "%r: f32[6] = aten.remainder.Scalar(%x, 0.75)", ["r"]),
            case!("fmod_int", [("x", "i32[6]")], [], "%r: i32[6] = aten.fmod.Scalar(%x, 2)", ["r"]),
            case!("fmod_f", [("x", "f32[6]")], [], "%r: f32[6] = aten.fmod.Scalar(%x, 0.75)", ["r"]),
            case!("rsub", [("x", "f32[3]")], [], "%r: f32[3] = aten.rsub.Scalar(%x, 1)", ["r"]),
            case!("eq", [("x", "i32[6]")], [], "%r: bool[6] = aten.eq.Scalar(%x, 1)", ["r"]),
            case!("ne", [("x", "i32[6]"), ("y", "i32[6]")], [], "%r: bool[6] = aten.ne.Tensor(%x, %y)", ["r"]),
            case!("lt", [("x", "f32[6]")], [], "%r: bool[6] = aten.lt.Scalar(%x, 0)", ["r"]),
            case!("le", [("x", "i32[6]")], [], "%r: bool[6] = aten.le.Scalar(%x, 0)", ["r"]),
            case!("gt", [("x", "f32[6]"), ("y", "f32[6]")], [], "%r: bool[6] = aten.gt.Tensor(%x, %y)", ["r"]),
            case!("ge", [("x", "i32[6]"), ("y", "f32[6]")], [], "%r: bool[6] = aten.ge.Tensor(%x, %y)", ["r"]),
            case!("logical", [("a", "bool[6]"), ("b", "bool[6]")], [], "%c: bool[6] = aten.logical_and.default(%a, %b)\n%d: bool[6] = aten.logical_or.default(%a, %b)\n%e: bool[6] = aten.logical_not.default(%c)", ["d", "e"]),
            case!("where", [("c", "bool[2,3]"), ("x", "f32[2,3]"), ("y", "f32[3]")], [], "%r: f32[2,3] = aten.where.self(%c, %x, %y)", ["r"]),
            case!("masked_fill", [("x", "f32[2,3]"), ("m", "bool[2,3]")], [], "%r: f32[2,3] = aten.masked_fill.Scalar(%x, %m, -1.0)", ["r"]),
            case!("dynamic_add", [("x", "f32[s0,3]"), ("y", "f32[3]")], [], "%r: f32[s0,3] = aten.add.Tensor(%x, %y)", ["r"]),
    ]
}

#[test]
fn elementwise() {
    run_family("elementwise", &elementwise_cases());
}

fn unary_cases() -> Vec<Case> {
    let mut cases = vec![];
    for (op, input) in [
        ("exp", "f32[6]"),
        ("log", "f32[6]"),
        ("sqrt", "f32[6]"),
        ("rsqrt", "f32[6]"),
        ("abs", "f32[6]"),
        ("neg", "i32[6]"),
        ("sin", "f32[6]"),
        ("cos", "f32[6]"),
        ("erf", "f32[6]"),
        ("floor", "f32[6]"),
        ("ceil", "f32[6]"),
        ("reciprocal", "f32[6]"),
        ("relu", "f32[6]"),
        ("sigmoid", "f32[6]"),
        ("tanh", "f32[6]"),
        ("gelu", "f32[6]"),
        ("silu", "f32[6]"),
        ("hardswish", "f32[6]"),
        ("hardsigmoid", "f32[6]"),
        ("leaky_relu", "f32[6]"),
    ] {
        let out = if op == "neg" { "i32[6]" } else { "f32[6]" };
        let body: &'static str =
            Box::leak(format!("%r: {out} = aten.{op}.default(%x)").into_boxed_str());
        let inputs: &'static [(&str, &str)] = Box::leak(vec![("x", input)].into_boxed_slice());
        cases.push(Case {
            name: Box::leak(op.to_string().into_boxed_str()),
            inputs,
            weights: &[],
            body,
            outputs: &["r"],
            graphs: "",
        });
    }
    cases.push(case!(
        "gelu_tanh",
        [("x", "f32[6]")],
        [],
        "%r: f32[6] = aten.gelu.default(%x, approximate=\"tanh\")",
        ["r"]
    ));
    cases.push(case!(
        "clamp",
        [("x", "f32[6]")],
        [],
        "%r: f32[6] = aten.clamp.default(%x, -0.5, 0.5)",
        ["r"]
    ));
    cases.push(case!(
        "clamp_int",
        [("x", "i32[6]")],
        [],
        "%r: i32[6] = aten.clamp.default(%x, -1)",
        ["r"]
    ));
    cases.push(case!(
        "hardtanh",
        [("x", "f32[6]")],
        [],
        "%r: f32[6] = aten.hardtanh.default(%x, -0.5, 1.0)",
        ["r"]
    ));
    cases.push(case!(
        "cast",
        [("x", "f32[6]")],
        [],
        "%r: i32[6] = aten._to_copy.default(%x, dtype=i32)",
        ["r"]
    ));
    cases.push(case!(
        "clone",
        [("x", "f32[6]")],
        [],
        "%c: f32[6] = aten.clone.default(%x)\n%r: f32[6] = aten.relu.default(%c)",
        ["r"]
    ));
    cases
}

#[test]
fn unary() {
    run_family("unary", &unary_cases());
}

fn reduce_norm_cases() -> Vec<Case> {
    vec![
            case!("sum", [("x", "f32[2,3,4]")], [], "%r: f32[2,4] = aten.sum.dim_IntList(%x, [1])", ["r"]),
            case!("sum_keep_int", [("x", "i32[2,3]")], [], "%r: i64[2,1] = aten.sum.dim_IntList(%x, [-1], true)", ["r"]),
            case!("mean", [("x", "f32[2,3,4,4]")], [], "%r: f32[2,3,1,1] = aten.mean.dim(%x, [-1, -2], true)", ["r"]),
            case!("amax", [("x", "f32[2,3]")], [], "%r: f32[2] = aten.amax.default(%x, [1])", ["r"]),
            case!("amin", [("x", "f32[2,3]")], [], "%r: f32[3] = aten.amin.default(%x, [0])", ["r"]),
            case!("prod", [("x", "f32[2,3]")], [], "%r: f32[2] = aten.prod.dim_int(%x, 1)", ["r"]),
            case!("any", [("x", "bool[2,3]")], [], "%r: bool[2] = aten.any.dim(%x, 1)", ["r"]),
            case!("var", [("x", "f32[2,5]")], [], "%r: f32[2] = aten.var.correction(%x, [1], correction=1)", ["r"]),
            case!("softmax", [("x", "f32[2,5]")], [], "%r: f32[2,5] = aten._softmax.default(%x, -1, false)", ["r"]),
            case!("log_softmax", [("x", "f32[2,5]")], [], "%r: f32[2,5] = aten._log_softmax.default(%x, 1, false)", ["r"]),
            case!("layer_norm", [("x", "f32[2,3,4]")], [("w", "f32[4]"), ("b", "f32[4]")], "%r: f32[2,3,4], %m: f32[2,3,1], %s: f32[2,3,1] = aten.native_layer_norm.default(%x, [4], %w, %b, 1e-05)", ["r"]),
            case!("group_norm", [("x", "f32[2,4,3,3]")], [("w", "f32[4]"), ("b", "f32[4]")], "%r: f32[2,4,3,3] = aten.group_norm.default(%x, 2, %w, %b, 1e-05)", ["r"]),
            case!("batch_norm", [("x", "f32[2,3,4,4]")], [("w", "f32[3]"), ("b", "f32[3]"), ("m", "f32[3]"), ("v", "f32[3]")], "%av: f32[3] = aten.abs.default(%v)\n%r: f32[2,3,4,4], %sm: f32[0], %sv: f32[0] = aten._native_batch_norm_legit_no_training.default(%x, %w, %b, %m, %av, 0.1, 1e-05)", ["r"]),
            case!("max_pool", [("x", "f32[1,2,6,6]")], [], "%r: f32[1,2,3,3] = aten.max_pool2d.default(%x, [3, 3], [2, 2], [1, 1])", ["r"]),
            case!("avg_pool_ceil", [("x", "f32[1,2,6,6]")], [], "%r: f32[1,2,3,3] = aten.avg_pool2d.default(%x, [3, 3], [2, 2], [0, 0], true)", ["r"]),
            case!("adaptive_avg", [("x", "f32[1,2,4,4]")], [], "%r: f32[1,2,2,2] = aten.adaptive_avg_pool2d.default(%x, [2, 2])", ["r"]),
            case!("upsample_nearest", [("x", "f32[1,2,3,3]")], [], "%r: f32[1,2,6,6] = aten.upsample_nearest2d.vec(%x, None, [2.0, 2.0])", ["r"]),
            case!("upsample_bilinear", [("x", "f32[1,2,4,4]")], [], "%r: f32[1,2,6,6] = aten.upsample_bilinear2d.vec(%x, [6, 6], false, None)", ["r"]),
            case!("topk", [("x", "f32[2,6]")], [], "%v: f32[2,3], %i: i64[2,3] = aten.topk.default(%x, 3)", ["v", "i"]),
            case!("argmax", [("x", "f32[2,6]")], [], "%r: i64[2] = aten.argmax.default(%x, 1)", ["r"]),
            case!("cumsum", [("x", "i64[2,4]")], [], "%r: i64[2,4] = aten.cumsum.default(%x, 1)", ["r"]),
    ]
}

/// Group norm over its parameter space: one group (statistics over the channels too, not
/// instance norm), several groups, one group per channel, ranks 3 to 5, with and without the
/// affine parameters (the weights are random in [-1, 1], so the affine step shows).
fn group_norm_cases() -> Vec<Case> {
    vec![
        case!("one_group", [("x", "f32[2,4,3,3]")], [("w", "f32[4]"), ("b", "f32[4]")], "%r: f32[2,4,3,3] = aten.group_norm.default(%x, 1, %w, %b, 1e-05)", ["r"]),
        case!("one_group_native", [("x", "f32[2,4,3,3]")], [("w", "f32[4]"), ("b", "f32[4]")], "%r: f32[2,4,3,3], %m: f32[2,1], %s: f32[2,1] = aten.native_group_norm.default(%x, %w, %b, 2, 4, 9, 1, 1e-05)", ["r"]),
        case!("one_group_no_affine", [("x", "f32[2,3,5]")], [], "%r: f32[2,3,5] = aten.group_norm.default(%x, 1, None, None, 1e-05)", ["r"]),
        case!("one_group_rank5", [("x", "f32[1,4,2,3,2]")], [("w", "f32[4]"), ("b", "f32[4]")], "%r: f32[1,4,2,3,2] = aten.group_norm.default(%x, 1, %w, %b, 1e-03)", ["r"]),
        case!("one_group_dynamic_batch", [("x", "f32[s0,4,3,3]")], [("w", "f32[4]"), ("b", "f32[4]")], "%r: f32[s0,4,3,3] = aten.group_norm.default(%x, 1, %w, %b, 1e-05)", ["r"]),
        case!("two_groups_native", [("x", "f32[2,6,4,4]")], [("w", "f32[6]"), ("b", "f32[6]")], "%r: f32[2,6,4,4], %m: f32[2,2], %s: f32[2,2] = aten.native_group_norm.default(%x, %w, %b, 2, 6, 16, 2, 1e-05)", ["r"]),
        case!("three_groups_rank3", [("x", "f32[2,6,5]")], [("w", "f32[6]"), ("b", "f32[6]")], "%r: f32[2,6,5] = aten.group_norm.default(%x, 3, %w, %b, 1e-05)", ["r"]),
        case!("group_per_channel", [("x", "f32[2,4,3,3]")], [("w", "f32[4]"), ("b", "f32[4]")], "%r: f32[2,4,3,3] = aten.group_norm.default(%x, 4, %w, %b, 1e-05)", ["r"]),
        case!("two_groups_weight_only", [("x", "f32[1,4,2,2,2]")], [("w", "f32[4]")], "%r: f32[1,4,2,2,2] = aten.group_norm.default(%x, 2, %w, None, 1e-05)", ["r"]),
    ]
}

#[test]
fn group_norms() {
    run_family("group_norm", &group_norm_cases());
}

/// `aten.index.Tensor` over its parameter space: one or several index tensors, `None`
/// entries before, between and after them (adjacent indexed dims keep their place,
/// separated ones move to the front), broadcasting index shapes, 0-d indices, int32 and
/// int64 indices with negative values, non-float data and dynamic dims. Random i64 inputs
/// are in [0, 3), i32 ones in [-3, 3], so every i32-indexed dim has at least 4 entries.
fn index_cases() -> Vec<Case> {
    vec![
        case!(
            "one_index_i32_negative",
            [("x", "f32[3,5]"), ("i", "i32[2,2]")],
            [],
            "%r: f32[3,2,2] = aten.index.Tensor(%x, [None, %i])",
            ["r"]
        ),
        case!(
            "one_index_i64_negative",
            [("x", "f32[4,3]"), ("i", "i64[3]")],
            [],
            "%n: i64[3] = aten.neg.default(%i)\n%r: f32[3,3] = aten.index.Tensor(%x, [%n])",
            ["r"]
        ),
        case!(
            "one_index_0d",
            [("x", "f32[4,3]"), ("i", "i64[]")],
            [],
            "%r: f32[4] = aten.index.Tensor(%x, [None, %i])",
            ["r"]
        ),
        case!(
            "two_leading",
            [("x", "f32[4,5,6]"), ("i", "i64[2,3]"), ("j", "i64[2,3]")],
            [],
            "%r: f32[2,3,6] = aten.index.Tensor(%x, [%i, %j])",
            ["r"]
        ),
        case!(
            "two_broadcast",
            [("x", "f32[4,5,6]"), ("i", "i64[2,1]"), ("j", "i64[3]")],
            [],
            "%r: f32[2,3,6] = aten.index.Tensor(%x, [%i, %j])",
            ["r"]
        ),
        case!(
            "two_after_none",
            [("x", "f32[3,4,5,2]"), ("i", "i64[2]"), ("j", "i64[2]")],
            [],
            "%r: f32[3,2,2] = aten.index.Tensor(%x, [None, %i, %j])",
            ["r"]
        ),
        case!(
            "two_separated",
            [("x", "f32[4,3,5]"), ("i", "i64[2]"), ("j", "i64[2]")],
            [],
            "%r: f32[2,3] = aten.index.Tensor(%x, [%i, None, %j])",
            ["r"]
        ),
        case!(
            "two_separated_after_none",
            [("x", "f32[2,4,3,5]"), ("i", "i64[2]"), ("j", "i64[2]")],
            [],
            "%r: f32[2,2,3] = aten.index.Tensor(%x, [None, %i, None, %j])",
            ["r"]
        ),
        case!(
            "two_middle_broadcast",
            [("x", "f32[2,3,4,5,6]"), ("i", "i64[2,1]"), ("j", "i64[3]")],
            [],
            "%r: f32[2,2,3,5,6] = aten.index.Tensor(%x, [None, %i, %j])",
            ["r"]
        ),
        case!(
            "two_separated_broadcast",
            [("x", "f32[2,3,4,5,6]"), ("i", "i64[2,1]"), ("j", "i64[3]")],
            [],
            "%r: f32[2,3,2,4,6] = aten.index.Tensor(%x, [None, %i, None, %j])",
            ["r"]
        ),
        case!(
            "three",
            [
                ("x", "f32[4,4,4,2]"),
                ("i", "i64[2,2]"),
                ("j", "i64[2,2]"),
                ("k", "i64[2,2]")
            ],
            [],
            "%r: f32[2,2,2] = aten.index.Tensor(%x, [%i, %j, %k])",
            ["r"]
        ),
        case!(
            "two_i32_negative",
            [("x", "f32[4,5]"), ("i", "i32[3]"), ("j", "i32[3]")],
            [],
            "%r: f32[3] = aten.index.Tensor(%x, [%i, %j])",
            ["r"]
        ),
        case!(
            "mixed_i32_i64",
            [("x", "f32[4,5,2]"), ("i", "i32[3]"), ("j", "i64[3]")],
            [],
            "%n: i64[3] = aten.neg.default(%j)\n%r: f32[3,2] = aten.index.Tensor(%x, [%i, %n])",
            ["r"]
        ),
        case!(
            "two_0d",
            [("x", "f32[4,5,6]"), ("i", "i64[]"), ("j", "i64[]")],
            [],
            "%r: f32[6] = aten.index.Tensor(%x, [%i, %j])",
            ["r"]
        ),
        // The attention-mask lookup of the transformers models: `mask[batch[:, None, None, None], kv[None, None, None, :]]`.
        case!(
            "mask_lookup_bool",
            [
                ("x", "bool[2,8]"),
                ("i", "i64[2,1,1,1]"),
                ("j", "i64[1,1,1,8]")
            ],
            [],
            "%r: bool[2,1,1,8] = aten.index.Tensor(%x, [%i, %j])",
            ["r"]
        ),
        case!(
            "int_data",
            [("x", "i64[4,5]"), ("i", "i64[3]"), ("j", "i64[3]")],
            [],
            "%r: i64[3] = aten.index.Tensor(%x, [%i, %j])",
            ["r"]
        ),
        case!(
            "dynamic_data",
            [("x", "f32[s0,5,2]"), ("i", "i64[2]"), ("j", "i64[2]")],
            [],
            "%n: i64[2] = aten.neg.default(%i)\n%r: f32[2,2] = aten.index.Tensor(%x, [%n, %j])",
            ["r"]
        ),
        case!(
            "dynamic_index",
            [("x", "f32[4,5]"), ("i", "i64[s0]"), ("j", "i64[1]")],
            [],
            "%r: f32[s0] = aten.index.Tensor(%x, [%i, %j])",
            ["r"]
        ),
    ]
}

#[test]
fn index_tensor() {
    run_family("index", &index_cases());
}

/// The decompositions that keep the zoo's models in one engine (`decomp/engine.rs`),
/// converted through their expansion and compared with the executor on the expansion and
/// on the op itself where it has a kernel.
fn engine_decomposition_cases() -> Vec<Case> {
    vec![
        case!("swapaxes", [("x", "f32[2,3,4]")], [], "%r: f32[4,3,2] = aten.swapaxes.default(%x, 0, 2)", ["r"]),
        case!("swapdims_negative", [("x", "f32[2,3,4]")], [], "%r: f32[2,4,3] = aten.swapdims.default(%x, -1, 1)", ["r"]),
        case!("numpy_T", [("x", "f32[2,3,4]")], [], "%r: f32[4,3,2] = aten.numpy_T.default(%x)", ["r"]),
        case!("numpy_T_rank1", [("x", "i64[3]")], [], "%r: i64[3] = aten.numpy_T.default(%x)", ["r"]),
        case!("expand_as", [("x", "f32[3,1]"), ("o", "f32[2,3,4]")], [], "%r: f32[2,3,4] = aten.expand_as.default(%x, %o)", ["r"]),
        case!("expand_as_dynamic", [("x", "f32[1,4]"), ("o", "f32[s0,4]")], [], "%r: f32[s0,4] = aten.expand_as.default(%x, %o)", ["r"]),
        case!("min_other", [("a", "f32[2,3]"), ("b", "f32[3]")], [], "%r: f32[2,3] = aten.min.other(%a, %b)", ["r"]),
        case!("max_other_int", [("a", "i32[2,3]"), ("b", "i32[2,3]")], [], "%r: i32[2,3] = aten.max.other(%a, %b)", ["r"]),
        case!("baddbmm", [("s", "f32[2,3,5]"), ("a", "f32[2,3,4]"), ("b", "f32[2,4,5]")], [], "%r: f32[2,3,5] = aten.baddbmm.default(%s, %a, %b, beta=0.5, alpha=2.0)", ["r"]),
        case!("baddbmm_broadcast_self", [("s", "f32[5]"), ("a", "f32[2,3,4]"), ("b", "f32[2,4,5]")], [], "%r: f32[2,3,5] = aten.baddbmm.default(%s, %a, %b)", ["r"]),
        case!("baddbmm_beta0", [("s", "f32[2,3,5]"), ("a", "f32[2,3,4]"), ("b", "f32[2,4,5]")], [], "%r: f32[2,3,5] = aten.baddbmm.default(%s, %a, %b, beta=0, alpha=-1.5)", ["r"]),
        case!("vector_norm_2_keep", [("x", "f32[2,3,4]")], [], "%r: f32[2,3,1] = aten.linalg_vector_norm.default(%x, 2, [-1], true)", ["r"]),
        case!("vector_norm_all", [("x", "f32[2,3,4]")], [], "%r: f32[] = aten.linalg_vector_norm.default(%x)", ["r"]),
        case!("vector_norm_1", [("x", "f32[2,3,4]")], [], "%r: f32[2,4] = aten.linalg_vector_norm.default(%x, 1, [1])", ["r"]),
        case!("vector_norm_inf", [("x", "f32[2,3,4]")], [], "%r: f32[3] = aten.linalg_vector_norm.default(%x, inf, [0, 2])", ["r"]),
        case!("vector_norm_neg_inf", [("x", "f32[2,3]")], [], "%r: f32[2] = aten.linalg_vector_norm.default(%x, -inf, [1])", ["r"]),
        case!("vector_norm_0", [("x", "f32[2,3]")], [], "%z: f32[2,3] = aten.relu.default(%x)\n%r: f32[2] = aten.linalg_vector_norm.default(%z, 0, [1])", ["r"]),
        case!("vector_norm_3", [("x", "f32[2,3]")], [], "%r: f32[3] = aten.linalg_vector_norm.default(%x, 3.0, [0])", ["r"]),
        case!("roll_one_dim", [("x", "f32[3,4]")], [], "%r: f32[3,4] = aten.roll.default(%x, [1], [1])", ["r"]),
        case!("roll_two_dims", [("x", "f32[3,4,2]")], [], "%r: f32[3,4,2] = aten.roll.default(%x, [-1, 5], [0, -2])", ["r"]),
        case!("roll_flat", [("x", "i64[3,4]")], [], "%r: i64[3,4] = aten.roll.default(%x, [5])", ["r"]),
        case!("roll_full_turn", [("x", "f32[3,4]")], [], "%r: f32[3,4] = aten.roll.default(%x, [4], [1])", ["r"]),
        case!("roll_dynamic_other_dim", [("x", "f32[s0,4]")], [], "%r: f32[s0,4] = aten.roll.default(%x, [-3], [1])", ["r"]),
        case!("copy_broadcast", [("d", "f32[2,3]"), ("s", "f32[3]")], [], "%r: f32[2,3] = aten.copy.default(%d, %s)", ["r"]),
        case!("copy_cast", [("d", "f32[2,3]"), ("s", "i32[2,3]")], [], "%r: f32[2,3] = aten.copy.default(%d, %s)", ["r"]),
        case!("copy_0d_source", [("d", "f32[2,2]"), ("s", "f32[]")], [], "%r: f32[2,2] = aten.copy.default(%d, %s)", ["r"]),
        case!("slice_scatter_middle", [("x", "f32[8,8]"), ("s", "f32[2,8]")], [], "%r: f32[8,8] = aten.slice_scatter.default(%x, %s, 0, -4, -2)", ["r"]),
        case!("slice_scatter_tail", [("x", "f32[2,8]"), ("s", "f32[2,2]")], [], "%r: f32[2,8] = aten.slice_scatter.default(%x, %s, 1, -2, 9223372036854775807)", ["r"]),
        case!("slice_scatter_head", [("x", "i64[4,8]"), ("s", "i64[4,4]")], [], "%r: i64[4,8] = aten.slice_scatter.default(%x, %s, -1, 0, -4)", ["r"]),
        case!("slice_scatter_whole", [("x", "f32[2,3]"), ("s", "f32[2,3]")], [], "%r: f32[2,3] = aten.slice_scatter.default(%x, %s)", ["r"]),
        case!("slice_scatter_dynamic_other_dim", [("x", "f32[s0,6]"), ("s", "f32[s0,2]")], [], "%r: f32[s0,6] = aten.slice_scatter.default(%x, %s, 1, 1, 3)", ["r"]),
        case!("as_strided_restride", [("x", "f32[1,4,1,1]")], [], "%r: f32[1,4,1,1] = aten.as_strided.default(%x, [1, 4, 1, 1], [4, 1, 4, 4])", ["r"]),
        case!("as_strided_transpose", [("x", "f32[2,3]")], [], "%r: f32[3,2] = aten.as_strided.default(%x, [3, 2], [1, 3])", ["r"]),
        case!("as_strided_windows", [("x", "f32[6]")], [], "%r: f32[3,3] = aten.as_strided.default(%x, [3, 3], [1, 1])", ["r"]),
        case!("as_strided_offset_zero_stride", [("x", "f32[2,4]")], [], "%r: f32[2,3] = aten.as_strided.default(%x, [2, 3], [0, 2], 1)", ["r"]),
        case!("batch_norm_no_stats", [("x", "f32[1,6,9]")], [], "%r: f32[1,6,9], %m: f32[6], %s: f32[6] = aten._native_batch_norm_legit.no_stats(%x, None, None, true, 0.0, 1e-05)", ["r", "m", "s"]),
        case!("batch_norm_no_stats_affine_rank2", [("x", "f32[4,3]")], [("w", "f32[3]"), ("b", "f32[3]")], "%r: f32[4,3], %m: f32[3], %s: f32[3] = aten._native_batch_norm_legit.no_stats(%x, %w, %b, true, 0.1, 1e-03)", ["r"]),
    ]
}

/// The functional view copies, `narrow`, the NaN-aware pointwise composites and the small
/// matrix products that reach TensorRT through their op-table decompositions.
fn views_and_composites_cases() -> Vec<Case> {
    vec![
        case!("narrow", [("x", "f32[3,4]")], [], "%r: f32[2,4] = aten.narrow.default(%x, 0, 1, 2)", ["r"]),
        case!("narrow_negative_start", [("x", "f32[3,4]")], [], "%r: f32[3,2] = aten.narrow.default(%x, -1, -3, 2)", ["r"]),
        case!("permute_copy", [("x", "f32[2,3,4]")], [], "%r: f32[4,2,3] = aten.permute_copy.default(%x, [2, 0, 1])", ["r"]),
        case!("t_copy", [("x", "i32[2,3]")], [], "%r: i32[3,2] = aten.t_copy.default(%x)", ["r"]),
        case!("transpose_copy", [("x", "f32[2,3,4]")], [], "%r: f32[2,4,3] = aten.transpose_copy.int(%x, 1, 2)", ["r"]),
        case!("unsqueeze_squeeze_copy", [("x", "f32[2,3]")], [], "%u: f32[2,1,3] = aten.unsqueeze_copy.default(%x, 1)\n%r: f32[2,3] = aten.squeeze_copy.dim(%u, 1)", ["u", "r"]),
        case!("select_slice_copy", [("x", "f32[4,5]")], [], "%a: f32[5] = aten.select_copy.int(%x, 0, -1)\n%b: f32[4,2] = aten.slice_copy.Tensor(%x, 1, 1, 5, 2)", ["a", "b"]),
        case!("unbind_copy", [("x", "f32[2,3]")], [], "%a: f32[3], %b: f32[3] = aten.unbind_copy.int(%x)", ["a", "b"]),
        case!("split_with_sizes_copy", [("x", "f32[2,7]")], [], "%a: f32[2,3], %b: f32[2,4] = aten.split_with_sizes_copy.default(%x, [3, 4], 1)", ["a", "b"]),
        case!("unsafe_split", [("x", "f32[2,7]")], [], "%a: f32[2,4], %b: f32[2,3] = aten.unsafe_split.Tensor(%x, 4, 1)", ["a", "b"]),
        case!("unsafe_chunk", [("x", "f32[2,7]")], [], "%a: f32[2,4], %b: f32[2,3] = aten.unsafe_chunk.default(%x, 2, 1)", ["a", "b"]),
        case!("broadcast_to", [("x", "f32[3,1]")], [], "%r: f32[2,3,4] = aten.broadcast_to.default(%x, [2, 3, 4])", ["r"]),
        case!("dot_mv", [("x", "f32[4]"), ("y", "f32[4]"), ("m", "f32[3,4]")], [], "%d: f32[] = aten.dot.default(%x, %y)\n%v: f32[3] = aten.mv.default(%m, %x)", ["d", "v"]),
        case!("exp2", [("x", "f32[6]"), ("i", "i32[6]")], [], "%a: f32[6] = aten.exp2.default(%x)\n%b: f32[6] = aten.exp2.default(%i)", ["a", "b"]),
        // 1/0 gives infinities and inf - inf NaNs, which the NaN-aware ops must see through.
        case!("isfinite_fmax_fmin", [("x", "f32[6]"), ("i", "i32[6]")], [], "%z: f32[6] = aten.div.Tensor(%x, 0.0)\n%n: f32[6] = aten.sub.Tensor(%z, %z)\n%a: bool[6] = aten.isfinite.default(%z)\n%b: bool[6] = aten.isfinite.default(%x)\n%c: bool[6] = aten.isfinite.default(%n)\n%d: bool[6] = aten.isfinite.default(%i)\n%e: f32[6] = aten.fmax.default(%n, %x)\n%f: f32[6] = aten.fmin.default(%x, %n)\n%g: f32[6] = aten.fmax.default(%x, %i)", ["a", "b", "c", "d", "e", "f", "g"]),
        case!("clamp_tensor", [("x", "f32[2,3]"), ("lo", "f32[3]"), ("hi", "f32[2,1]")], [], "%a: f32[2,3] = aten.clamp_min.Tensor(%x, %lo)\n%b: f32[2,3] = aten.clamp_max.Tensor(%x, %hi)", ["a", "b"]),
        case!("round_decimals", [("x", "f32[6]")], [], "%a: f32[6] = aten.round.decimals(%x, decimals=2)\n%y: f32[6] = aten.mul.Tensor(%x, 100.0)\n%b: f32[6] = aten.round.decimals(%y, decimals=-1)", ["a", "b"]),
    ]
}

/// Bool `add`/`mul`, full `max`/`min`, 0-D arg reductions, 1-D and 3-D resizes and transposed
/// convolutions: direct converters, compared with the executor.
fn bool_reduce_resize_deconv_cases() -> Vec<Case> {
    vec![
        case!("bool_add_mul", [("a", "bool[6]"), ("b", "bool[6]")], [], "%s: bool[6] = aten.add.Tensor(%a, %b)\n%p: bool[6] = aten.mul.Tensor(%a, %b)\n%q: bool[6] = aten.mul.Tensor(%a, true)", ["s", "p", "q"]),
        case!("max_min_all", [("x", "f32[2,3]"), ("a", "bool[4]")], [], "%m: f32[] = aten.max.default(%x)\n%n: f32[] = aten.min.default(%x)\n%b: bool[] = aten.max.default(%a)\n%c: bool[] = aten.min.default(%a)", ["m", "n", "b", "c"]),
        case!("arg_reductions_0d", [("x", "f32[]")], [], "%a: i64[] = aten.argmax.default(%x)\n%b: i64[] = aten.argmin.default(%x, 0, true)\n%v: f32[], %i: i64[] = aten.max.dim(%x, 0)\n%w: f32[], %j: i64[] = aten.min.dim(%x, -1, true)", ["a", "b", "v", "i", "w", "j"]),
        case!("upsample_nearest1d", [("x", "f32[1,2,4]")], [], "%r: f32[1,2,8] = aten.upsample_nearest1d.vec(%x, [8], None)\n%s: f32[1,2,6] = aten.upsample_nearest1d.default(%x, [6])", ["r", "s"]),
        case!("upsample_nearest3d", [("x", "f32[1,1,2,3,2]")], [], "%r: f32[1,1,4,6,4] = aten.upsample_nearest3d.vec(%x, [4, 6, 4], None)\n%s: f32[1,1,3,3,3] = aten.upsample_nearest3d.default(%x, [3, 3, 3])", ["r", "s"]),
        case!("upsample_linear1d", [("x", "f32[1,2,4]")], [], "%r: f32[1,2,7] = aten.upsample_linear1d.vec(%x, [7], false, None)\n%s: f32[1,2,7] = aten.upsample_linear1d.default(%x, [7], true)", ["r", "s"]),
        case!("upsample_trilinear3d", [("x", "f32[1,1,2,3,2]")], [], "%r: f32[1,1,4,5,3] = aten.upsample_trilinear3d.vec(%x, [4, 5, 3], false, None)\n%s: f32[1,1,3,3,3] = aten.upsample_trilinear3d.default(%x, [3, 3, 3], true)", ["r", "s"]),
        case!("convolution_transposed", [("x", "f32[1,4,5,5]")], [("w", "f32[4,2,3,3]"), ("b", "f32[2]")], "%r: f32[1,2,10,10] = aten.convolution.default(%x, %w, %b, [2, 2], [1, 1], [1, 1], true, [1, 1], 1)", ["r"]),
        case!("conv_transpose2d_groups", [("x", "f32[1,4,4,4]")], [("w", "f32[4,1,3,3]")], "%r: f32[1,2,6,6] = aten.conv_transpose2d.input(%x, %w, None, [1, 1], [0, 0], [0, 0], 2)", ["r"]),
        case!("conv_transpose1d_dilated", [("x", "f32[1,4,6]")], [("w", "f32[4,3,2]"), ("b", "f32[3]")], "%r: f32[1,3,6] = aten.conv_transpose1d.default(%x, %w, %b, [1], [1], [0], 1, [2])", ["r"]),
    ]
}

#[test]
fn views_and_composites() {
    run_family_against(
        "views_and_composites",
        &views_and_composites_cases(),
        Reference::ExecDecomposed,
    );
}

#[test]
fn bool_reduce_resize_deconv() {
    run_family(
        "bool_reduce_resize_deconv",
        &bool_reduce_resize_deconv_cases(),
    );
}

#[test]
fn engine_decompositions() {
    run_family_against(
        "engine_decomposition",
        &engine_decomposition_cases(),
        Reference::ExecDecomposed,
    );
}

/// `batch_norm`, whose converter takes evaluation mode and whose decomposition takes batch
/// statistics (training mode without running statistics, as weight standardisation uses it):
/// compared with the executor's own kernel.
fn batch_norm_cases() -> Vec<Case> {
    vec![
        case!("batch_norm_eval", [("x", "f32[2,3,4,4]")], [("w", "f32[3]"), ("b", "f32[3]"), ("m", "f32[3]"), ("v", "f32[3]")], "%av: f32[3] = aten.abs.default(%v)\n%r: f32[2,3,4,4] = aten.batch_norm.default(%x, %w, %b, %m, %av, false, 0.1, 1e-05, false)", ["r"]),
        case!("batch_norm_batch_stats", [("x", "f32[2,3,4,4]")], [("w", "f32[3]"), ("b", "f32[3]")], "%r: f32[2,3,4,4] = aten.batch_norm.default(%x, %w, %b, None, None, true, 0.1, 1e-05, false)", ["r"]),
        case!("batch_norm_batch_stats_weight_standardisation", [("x", "f32[1,6,9]")], [], "%r: f32[1,6,9] = aten.batch_norm.default(%x, None, None, None, None, true, 0.0, 1e-05, false)", ["r"]),
    ]
}

#[test]
fn batch_norms() {
    run_family("batch_norm", &batch_norm_cases());
}

#[test]
fn reductions_and_norms() {
    run_family("reduce_norm", &reduce_norm_cases());
}

fn linalg_shape_cases() -> Vec<Case> {
    vec![
            case!("conv2d", [("x", "f32[1,3,5,5]")], [("w", "f32[4,3,3,3]"), ("b", "f32[4]")], "%r: f32[1,4,5,5] = aten.convolution.default(%x, %w, %b, [1, 1], [1, 1], [1, 1], false, [0, 0], 1)", ["r"]),
            case!("conv1d_grouped", [("x", "f32[2,4,7]")], [("w", "f32[4,2,3]")], "%r: f32[2,4,3] = aten.conv1d.default(%x, %w, None, [2], [0], [1], 2)", ["r"]),
            case!("conv2d_dyn", [("x", "f32[s0,3,4,4]")], [("w", "f32[2,3,1,1]")], "%r: f32[s0,2,4,4] = aten.conv2d.default(%x, %w)", ["r"]),
            // 3-D convolutions are unrolled into 2-D ones over the depth axis.
            case!("conv3d_s1_p1", [("x", "f32[1,2,4,4,4]")], [("w", "f32[3,2,3,3,3]"), ("b", "f32[3]")], "%r: f32[1,3,4,4,4] = aten.conv3d.default(%x, %w, %b, [1, 1, 1], [1, 1, 1])", ["r"]),
            case!("conv3d_s2_dilated", [("x", "f32[1,2,7,6,6]")], [("w", "f32[2,2,3,3,3]"), ("b", "f32[2]")], "%r: f32[1,2,3,2,4] = aten.conv3d.default(%x, %w, %b, [2, 2, 1], [1, 0, 1], [2, 1, 2])", ["r"]),
            case!("conv3d_groups2_bias", [("x", "f32[2,4,3,5,5]")], [("w", "f32[4,2,2,3,3]"), ("b", "f32[4]")], "%r: f32[2,4,2,5,5] = aten.conv3d.default(%x, %w, %b, [1, 1, 1], [0, 1, 1], [1, 1, 1], 2)", ["r"]),
            // Output slices 0 and 4 only read depth padding: zeros (no bias).
            case!("conv3d_no_bias", [("x", "f32[1,3,3,4,4]")], [("w", "f32[2,3,1,3,3]")], "%r: f32[1,2,5,2,2] = aten.convolution.default(%x, %w, None, [1, 1, 1], [1, 0, 0], [1, 1, 1], false, [0, 0, 0], 1)", ["r"]),
            // Dynamic batch, and padding-only slices 0 and 2 that are the broadcast bias.
            case!("conv3d_dyn_pad_bias", [("x", "f32[s0,2,1,3,3]")], [("w", "f32[2,2,1,3,3]"), ("b", "f32[2]")], "%r: f32[s0,2,3,3,3] = aten.conv3d.default(%x, %w, %b, [1, 1, 1], [1, 1, 1])", ["r"]),
            case!("linear", [("x", "f32[2,3,4]")], [("w", "f32[5,4]"), ("b", "f32[5]")], "%r: f32[2,3,5] = aten.linear.default(%x, %w, %b)", ["r"]),
            case!("addmm", [("x", "f32[2,4]"), ("y", "f32[4,3]"), ("b", "f32[3]")], [], "%r: f32[2,3] = aten.addmm.default(%b, %x, %y, beta=0.5)", ["r"]),
            case!("bmm", [("x", "f32[2,3,4]"), ("y", "f32[2,4,2]")], [], "%r: f32[2,3,2] = aten.bmm.default(%x, %y)", ["r"]),
            case!("matmul_vec", [("x", "f32[2,3,4]"), ("y", "f32[4]")], [], "%r: f32[2,3] = aten.matmul.default(%x, %y)", ["r"]),
            case!("view", [("x", "f32[2,3,4]")], [], "%r: f32[6,4] = aten.view.default(%x, [6, 4])", ["r"]),
            case!("view_dyn", [("x", "f32[s0,3,4]")], [], "%r: f32[s0,12] = aten.view.default(%x, [-1, 12])", ["r"]),
            case!("permute", [("x", "f32[2,3,4]")], [], "%r: f32[4,2,3] = aten.permute.default(%x, [2, 0, 1])", ["r"]),
            case!("transpose", [("x", "f32[2,3,4]")], [], "%r: f32[2,4,3] = aten.transpose.int(%x, -1, 1)", ["r"]),
            case!("expand", [("x", "f32[3,1]")], [], "%r: f32[2,3,4] = aten.expand.default(%x, [2, 3, 4])", ["r"]),
            case!("squeeze_unsqueeze", [("x", "f32[2,1,3]")], [], "%s: f32[2,3] = aten.squeeze.dims(%x, [1])\n%r: f32[2,3,1] = aten.unsqueeze.default(%s, 2)", ["r"]),
            case!("flatten", [("x", "f32[2,3,4]")], [], "%r: f32[2,12] = aten.flatten.using_ints(%x, 1)", ["r"]),
            case!("cat", [("x", "f32[2,3]"), ("y", "f32[2,2]")], [], "%r: f32[2,5] = aten.cat.default([%x, %y], 1)", ["r"]),
            case!("stack", [("x", "f32[2,3]"), ("y", "f32[2,3]")], [], "%r: f32[2,2,3] = aten.stack.default([%x, %y], 1)", ["r"]),
            case!("slice", [("x", "f32[4,6]")], [], "%r: f32[4,2] = aten.slice.Tensor(%x, 1, 1, -1, 2)", ["r"]),
            case!("select", [("x", "f32[4,6]")], [], "%r: f32[4] = aten.select.int(%x, 1, -2)", ["r"]),
            case!("index_select", [("x", "f32[4,3]"), ("i", "i64[5]")], [], "%r: f32[5,3] = aten.index_select.default(%x, 0, %i)", ["r"]),
            case!("gather", [("x", "f32[3,4]"), ("i", "i64[3,2]")], [], "%r: f32[3,2] = aten.gather.default(%x, 1, %i)", ["r"]),
            case!("embedding", [("i", "i64[2,3]")], [("w", "f32[5,4]")], "%r: f32[2,3,4] = aten.embedding.default(%w, %i)", ["r"]),
            case!("split", [("x", "f32[2,7]")], [], "%a: f32[2,3], %b: f32[2,4] = aten.split_with_sizes.default(%x, [3, 4], 1)", ["a", "b"]),
            case!("chunk", [("x", "f32[6,2]")], [], "%a: f32[3,2], %b: f32[3,2] = aten.chunk.default(%x, 2)", ["a", "b"]),
            case!("flip", [("x", "f32[2,3]")], [], "%r: f32[2,3] = aten.flip.default(%x, [1])", ["r"]),
            case!("pad", [("x", "f32[1,2,3]")], [], "%r: f32[1,2,6] = aten.constant_pad_nd.default(%x, [1, 2], 0.5)", ["r"]),
            case!("arange", [("x", "f32[4]")], [], "%a: i64[4] = aten.arange.start_step(0, 8, 2, dtype=i64)\n%c: f32[4] = aten._to_copy.default(%a, dtype=f32)\n%r: f32[4] = aten.add.Tensor(%x, %c)", ["r"]),
            case!("full", [("x", "f32[2,3]")], [], "%f: f32[2,3] = aten.full.default([2, 3], 1.5)\n%r: f32[2,3] = aten.mul.Tensor(%x, %f)", ["r"]),
            case!("sym_size_full", [("x", "f32[s0,3]")], [], "%n: symint(s0) = aten.sym_size.int(%x, 0)\n%f: f32[s0,3] = aten.full.default([%n, 3], 2.0)\n%r: f32[s0,3] = aten.mul.Tensor(%x, %f)", ["r"]),
            case!("sdpa_causal", [("q", "f32[1,2,4,8]"), ("k", "f32[1,2,4,8]"), ("v", "f32[1,2,4,8]")], [], "%r: f32[1,2,4,8] = aten.scaled_dot_product_attention.default(%q, %k, %v, is_causal=true)", ["r"]),
    ]
}

#[test]
fn linalg_and_shapes() {
    run_family("linalg_shape", &linalg_shape_cases());
}

#[test]
fn validators_give_reasons() {
    let reg = ConverterRegistry::standard();
    let cases = [
case!(
            "conv3d_dynamic_depth",
            [("x", "f32[1,2,s0,4,4]")],
            [("w", "f32[3,2,3,3,3]")],
            "%r: f32[1,3,s0,4,4] = aten.conv3d.default(%x, %w, None, [1, 1, 1], [1, 1, 1])",
            ["r"]
        ),
        case!(
            "conv3d_too_many_taps",
            [("x", "f32[1,1,5000,1,1]")],
            [("w", "f32[1,1,1,1,1]")],
            "%r: f32[1,1,5000,1,1] = aten.conv3d.default(%x, %w)",
            ["r"]
        ),
        case!("transposed_3d", [("x", "f32[1,2,3,3,3]")], [("w", "f32[2,2,2,2,2]")], "%r: f32[1,2,4,4,4] = aten.conv_transpose3d.input(%x, %w)", ["r"]),
        case!("transposed_strided_dilated", [("x", "f32[1,3,5,5]")], [("w", "f32[3,4,3,3]")], "%r: f32[1,4,13,13] = aten.convolution.default(%x, %w, None, [2, 2], [0, 0], [2, 2], true, [0, 0], 1)", ["r"]),
        case!("transposed_output_padding", [("x", "f32[1,3,5,5]")], [("w", "f32[3,4,3,3]")], "%r: f32[1,4,12,12] = aten.convolution.default(%x, %w, None, [2, 2], [0, 0], [1, 1], true, [1, 1], 1)", ["r"]),
        case!("f64", [("x", "f64[3]")], [], "%r: f64[3] = aten.relu.default(%x)", ["r"]),
        case!("i64_matmul", [("x", "i64[2,2]"), ("y", "i64[2,2]")], [], "%r: i64[2,2] = aten.mm.default(%x, %y)", ["r"]),
        case!("unknown", [("x", "f32[3]")], [], "%r: f32[3] = aten.digamma.default(%x)", ["r"]),
        // Decompositions: a refused node of the expansion is named, and so is a
        // decomposition that does not apply.
        case!("and_int", [("a", "i32[3]"), ("b", "i32[3]")], [], "%r: i32[3] = aten.__and__.Tensor(%a, %b)", ["r"]),
        case!("mT_rank1", [("x", "f32[3]")], [], "%r: f32[3] = aten.mT.default(%x)", ["r"]),
        case!("index_bool_mask", [("x", "f32[3,4]"), ("m", "bool[3]")], [], "%r: f32[2,4] = aten.index.Tensor(%x, [%m])", ["r"]),
        case!("index_too_many", [("x", "f32[3]"), ("i", "i64[2]")], [], "%r: f32[2] = aten.index.Tensor(%x, [%i, %i])", ["r"]),
        case!("indices_used", [("x", "f32[1,1,4,4]")], [], "%r: f32[1,1,2,2], %i: i64[1,1,2,2] = aten.max_pool2d_with_indices.default(%x, [2, 2])", ["r", "i"]),
        // Parity converters' refusals: a kernel that is only known at run time, a training
        // dropout, integer bitwise ops, a dynamic diagonal, too few repeats, an einsum
        // diagonal, reflection padding as wide as the dim.
        case!("conv_kernel_from_input", [("x", "f32[1,3,5,5]"), ("w", "f32[4,3,3,3]")], [], "%k: f32[4,3,3,3] = aten.relu.default(%w)\n%r: f32[1,4,3,3] = aten.convolution.default(%x, %k, None, [1, 1], [0, 0], [1, 1], false, [0, 0], 1)", ["r"]),
        case!("native_dropout_train", [("x", "f32[3]")], [], "%y: f32[3], %m: bool[3] = aten.native_dropout.default(%x, 0.5, true)", ["y"]),
        case!("bitwise_scalar_int", [("x", "i32[3]")], [], "%r: i32[3] = aten.bitwise_and.Scalar(%x, 3)", ["r"]),
        case!("diagonal_dynamic", [("x", "f32[s0,3]")], [], "%r: f32[3] = aten.diagonal.default(%x)", ["r"]),
        case!("repeat_too_few", [("x", "f32[2,3]")], [], "%r: f32[2,3] = aten.repeat.default(%x, [2])", ["r"]),
        case!("einsum_diagonal", [("x", "f32[3,3]")], [], "%r: f32[3] = aten.einsum.default(\"ii->i\", [%x])", ["r"]),
        case!("reflection_pad_too_wide", [("x", "f32[1,3]")], [], "%r: f32[1,9] = aten.reflection_pad1d.default(%x, [3, 3])", ["r"]),
        // `cond` refusals: an unsupported node in a branch (named), branch outputs of
        // different types, a predicate that is not a bool scalar, a branch with a side effect.
        case!("cond_unsupported_branch", [("p", "bool[]"), ("x", "f32[3]")], [], "%r: f32[3] = higher_order.cond(%p, @t, @f, [%x])", ["r"],
            "graph @t(%x: f32[3]) {\n %d: f32[3] = aten.digamma.default(%x)\n output (%d)\n }
            graph @f(%x: f32[3]) {\n %n: f32[3] = aten.neg.default(%x)\n output (%n)\n }"),
        case!("cond_output_types", [("p", "bool[]"), ("x", "f32[3]")], [], "%r: f32[3] = higher_order.cond(%p, @t, @f, [%x])", ["r"],
            "graph @t(%x: f32[3]) {\n %n: f32[3] = aten.neg.default(%x)\n output (%n)\n }
            graph @f(%x: f32[3]) {\n %i: i32[3] = aten.to.dtype(%x, i32)\n output (%i)\n }"),
        case!("cond_pred_not_scalar", [("p", "bool[3]"), ("x", "f32[3]")], [], "%r: f32[3] = higher_order.cond(%p, @t, @f, [%x])", ["r"],
            "graph @t(%x: f32[3]) {\n %n: f32[3] = aten.neg.default(%x)\n output (%n)\n }
            graph @f(%x: f32[3]) {\n output (%x)\n }"),
        case!("cond_pred_not_bool", [("p", "f32[]"), ("x", "f32[3]")], [], "%r: f32[3] = higher_order.cond(%p, @t, @f, [%x])", ["r"],
            "graph @t(%x: f32[3]) {\n %n: f32[3] = aten.neg.default(%x)\n output (%n)\n }
            graph @f(%x: f32[3]) {\n output (%x)\n }"),
        case!("cond_impure_branch", [("p", "bool[]"), ("x", "f32[3]")], [], "%r: f32[3] = higher_order.cond(%p, @t, @f, [%x])", ["r"],
            "graph @t(%x: f32[3]) {\n %u: f32[3] = aten.rand_like.default(%x)\n output (%u)\n }
            graph @f(%x: f32[3]) {\n output (%x)\n }"),
        case!("cond_mutating_branch", [("p", "bool[]"), ("x", "f32[3]")], [], "%r: f32[3] = higher_order.cond(%p, @t, @f, [%x])", ["r"],
            "graph @t(%x: f32[3]) {\n output (%x)\n }
            graph @f(%x: f32[3]) {\n %u: f32[3] = aten.relu_.default(%x)\n output (%u)\n }"),
    ];
    let mut out = String::new();
    for c in &cases {
        let p = program(c);
        let g = p.main_graph();
        for n in g.nodes() {
            if g.node(n).op.target().is_some() {
                writeln!(out, "{}: {:?}", c.name, reg.check_in(&p, g, n)).unwrap();
            }
        }
    }
    // Without its program a graph's `cond` cannot be checked (its branches are out of
    // reach), so the program-less capability refuses even a convertible one.
    let c = &hop_cases()[0];
    let p = program(c);
    let g = p.main_graph();
    for n in g.nodes() {
        if g.node(n).op.target() == Some("higher_order.cond") {
            writeln!(out, "{} without its program: {:?}", c.name, reg.check(g, n)).unwrap();
            writeln!(
                out,
                "{} with its program: {:?}",
                c.name,
                reg.check_in(&p, g, n)
            )
            .unwrap();
        }
    }
    insta::assert_snapshot!("validator_reasons", out);
}

#[test]
fn custom_op_converter_leaves_fallback() {
    use trtfx_backend_trt::convert::{OpConverter, Slot};
    use trtfx_backend_trt::network::ElementWiseOp;
    let c = case!(
        "scale_shift",
        [("x", "f32[2,3]")],
        [],
        "%r: f32[2,3] = trtfx_test.scale_shift.default(%x, 0.5, shift=3)",
        ["r"]
    );
    let p = program(&c);
    let mut reg = ConverterRegistry::standard();
    let g = p.main_graph();
    let node = g
        .nodes()
        .find(|&n| g.node(n).op.target().is_some())
        .unwrap();
    assert_eq!(
        reg.check(g, node),
        Err("no converter for `trtfx_test.scale_shift.default`".into())
    );
    let schema = trtfx_ir::aten::parse_schema(
        "trtfx_test::scale_shift(Tensor x, float scale, *, int shift=0) -> Tensor",
    )
    .unwrap()
    .schema;
    reg.register(
        "trtfx_test.scale_shift.default",
        OpConverter::new(
            |a| a.f64("scale").map(|_| ()),
            |ctx, a| {
                let x = ctx.input(a, "x")?;
                let s = ctx.scalar(a.f64("scale")?, trtfx_backend_trt::TrtDataType::Float, 2)?;
                let b = ctx.scalar(a.f64("shift")?, trtfx_backend_trt::TrtDataType::Float, 2)?;
                let y = ctx.elementwise(x, s, ElementWiseOp::Prod)?;
                Ok(vec![Slot::Tensor(ctx.elementwise(
                    y,
                    b,
                    ElementWiseOp::Sum,
                )?)])
            },
        )
        .with_schema(schema),
    );
    assert_eq!(reg.check(g, node), Ok(()));
    let net = convert_graph(&p, p.main, &reg).unwrap();
    let x = random_input("f32[2,3]", 1);
    let got = emulate(&net, &[("x", x.clone())]).unwrap();
    let want: Vec<f64> = x.to_f64_vec().iter().map(|v| v * 0.5 + 3.0).collect();
    for (a, b) in want.iter().zip(got[0].1.to_f64_vec()) {
        assert!((a - b).abs() < 1e-5);
    }
}

#[test]
fn converter_count() {
    let n = ConverterRegistry::standard().len();
    eprintln!("standard converters: {n}");
    assert!(n > 200);
}

/// Builds one case per `(name, op, input, domain)`: `domain` rewrites the random input into
/// the op's valid domain first (`pos`: `|x| + 0.1`, `unit`: `x * 0.45`, `any`: as is).
fn unary_family(ops: &[(&str, &str, &str, &str)]) -> Vec<Case> {
    ops.iter()
        .map(|&(name, op, ty, domain)| {
            let pre = match domain {
                "pos" => {
                    format!("%a: {ty} = aten.abs.default(%x)\n%d: {ty} = aten.add.Tensor(%a, 0.1)")
                }
                "unit" => format!("%d: {ty} = aten.mul.Tensor(%x, 0.45)"),
                _ => format!("%d: {ty} = aten.clone.default(%x)"),
            };
            let body = format!("{pre}\n%r: {ty} = {op}(%d)");
            Case {
                name: Box::leak(name.to_string().into_boxed_str()),
                inputs: Box::leak(vec![("x", leak(ty))].into_boxed_slice()),
                weights: &[],
                body: leak(&body),
                outputs: &["r"],
                graphs: "",
            }
        })
        .collect()
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// The remaining binary, comparison, logical, selection and clamp overloads (aliases of the
/// converters in [`elementwise_cases`] included: each overload normalises its own schema).
fn more_elementwise_cases() -> Vec<Case> {
    // `%n`: a nonzero divisor, negative to exercise floor vs trunc semantics.
    const NZ_F: &str = "%a: f32[6] = aten.abs.default(%y)\n%b: f32[6] = aten.add.Tensor(%a, 0.5)\n%n: f32[6] = aten.neg.default(%b)";
    const NZ_I: &str = "%a: i32[6] = aten.abs.default(%y)\n%b: i32[6] = aten.add.Tensor(%a, 1)\n%n: i32[6] = aten.neg.default(%b)";
    vec![
        case!("add_scalar", [("x", "f32[2,3]")], [], "%r: f32[2,3] = aten.add.Scalar(%x, 2.5, alpha=2)", ["r"]),
        case!("add_inplace", [("x", "f32[2,3]"), ("y", "f32[3]")], [], "%r: f32[2,3] = aten.add_.Tensor(%x, %y)", ["r"]),
        case!("sub_scalar_int", [("x", "i32[6]")], [], "%r: i32[6] = aten.sub.Scalar(%x, 2)", ["r"]),
        case!("rsub_tensor", [("x", "f32[2,3]"), ("y", "f32[2,3]")], [], "%r: f32[2,3] = aten.rsub.Tensor(%x, %y, alpha=2)", ["r"]),
        case!("mul_scalar_int", [("x", "i32[6]")], [], "%r: i32[6] = aten.mul.Scalar(%x, 3)", ["r"]),
        case!("mul_inplace", [("x", "f32[2,3]"), ("y", "f32[2,3]")], [], "%r: f32[2,3] = aten.mul_.Tensor(%x, %y)", ["r"]),
        case!("div_tensor", [("x", "f32[6]"), ("y", "f32[6]")], [], leak(&format!("{NZ_F}\n%r: f32[6] = aten.div.Tensor(%x, %n)")), ["r"]),
        case!("div_scalar_mode_floor", [("x", "i32[6]")], [], "%r: i32[6] = aten.div.Scalar_mode(%x, -2, rounding_mode=\"floor\")", ["r"]),
        case!("div_scalar_mode_trunc", [("x", "f32[6]")], [], "%r: f32[6] = aten.div.Scalar_mode(%x, -0.7, rounding_mode=\"trunc\")", ["r"]),
        case!("floor_divide_int", [("x", "i32[6]"), ("y", "i32[6]")], [], leak(&format!("{NZ_I}\n%r: i32[6] = aten.floor_divide.default(%x, %n)")), ["r"]),
        case!("floor_divide_f", [("x", "f32[6]"), ("y", "f32[6]")], [], leak(&format!("{NZ_F}\n%r: f32[6] = aten.floor_divide.default(%x, %n)")), ["r"]),
        case!("pow_tensor_tensor", [("y", "f32[6]"), ("e", "f32[6]")], [], "%a: f32[6] = aten.abs.default(%y)\n%b: f32[6] = aten.add.Tensor(%a, 0.5)\n%r: f32[6] = aten.pow.Tensor_Tensor(%b, %e)", ["r"]),
        case!("pow_scalar", [("x", "f32[6]")], [], "%r: f32[6] = aten.pow.Scalar(2.0, %x)", ["r"]),
        case!("remainder_tensor_f", [("x", "f32[6]"), ("y", "f32[6]")], [], leak(&format!("{NZ_F}\n%r: f32[6] = aten.remainder.Tensor(%x, %n)")), ["r"]),
        case!("remainder_tensor_int", [("x", "i32[6]"), ("y", "i32[6]")], [], leak(&format!("{NZ_I}\n%r: i32[6] = aten.remainder.Tensor(%x, %n)")), ["r"]),
        case!("fmod_tensor_int", [("x", "i32[6]"), ("y", "i32[6]")], [], leak(&format!("{NZ_I}\n%r: i32[6] = aten.fmod.Tensor(%x, %n)")), ["r"]),
        case!("fmod_tensor_f", [("x", "f32[6]"), ("y", "f32[6]")], [], leak(&format!("{NZ_F}\n%r: f32[6] = aten.fmod.Tensor(%x, %n)")), ["r"]),
        case!("eq_tensor", [("x", "i32[6]"), ("y", "i32[6]")], [], "%r: bool[6] = aten.eq.Tensor(%x, %y)", ["r"]),
        case!("ne_scalar", [("x", "f32[6]")], [], "%f: f32[6] = aten.floor.default(%x)\n%r: bool[6] = aten.ne.Scalar(%f, 1)", ["r"]),
        case!("lt_tensor", [("x", "i32[6]"), ("y", "f32[6]")], [], "%r: bool[6] = aten.lt.Tensor(%x, %y)", ["r"]),
        case!("le_tensor", [("x", "f32[2,3]"), ("y", "f32[3]")], [], "%r: bool[2,3] = aten.le.Tensor(%x, %y)", ["r"]),
        case!("gt_scalar", [("x", "i32[6]")], [], "%r: bool[6] = aten.gt.Scalar(%x, 0.5)", ["r"]),
        case!("ge_scalar", [("x", "f32[6]")], [], "%r: bool[6] = aten.ge.Scalar(%x, -0.25)", ["r"]),
        case!("logical_xor", [("a", "bool[6]"), ("b", "bool[6]")], [], "%r: bool[6] = aten.logical_xor.default(%a, %b)", ["r"]),
        case!("bitwise_bool", [("a", "bool[6]"), ("b", "bool[6]")], [], "%c: bool[6] = aten.bitwise_and.Tensor(%a, %b)\n%d: bool[6] = aten.bitwise_or.Tensor(%a, %b)\n%e: bool[6] = aten.bitwise_not.default(%a)\n%f: bool[6] = aten.bitwise_xor.Tensor(%a, %b)", ["c", "d", "e", "f"]),
        case!("where_scalar", [("c", "bool[2,3]")], [], "%r: f32[2,3] = aten.where.Scalar(%c, 1.5, -2.0)", ["r"]),
        case!("where_scalar_other", [("c", "bool[2,3]"), ("x", "f32[2,3]")], [], "%r: f32[2,3] = aten.where.ScalarOther(%c, %x, 0.5)", ["r"]),
        case!("where_scalar_self", [("c", "bool[2,3]"), ("x", "f32[3]")], [], "%r: f32[2,3] = aten.where.ScalarSelf(%c, 0.5, %x)", ["r"]),
        case!("masked_fill_tensor", [("x", "f32[2,3]"), ("m", "bool[2,3]"), ("v", "f32[]")], [], "%r: f32[2,3] = aten.masked_fill.Tensor(%x, %m, %v)", ["r"]),
        case!("clamp_tensor", [("x", "f32[2,3]"), ("lo", "f32[3]"), ("hi", "f32[2,1]")], [], "%h: f32[2,1] = aten.add.Tensor(%hi, 2.0)\n%r: f32[2,3] = aten.clamp.Tensor(%x, %lo, %h)", ["r"]),
        case!("clamp_inplace", [("x", "f32[6]")], [], "%r: f32[6] = aten.clamp_.default(%x, -1.0, 0.25)", ["r"]),
        case!("clamp_min", [("x", "f32[6]")], [], "%r: f32[6] = aten.clamp_min.default(%x, -0.5)", ["r"]),
        case!("clamp_max_int", [("x", "i32[6]")], [], "%r: i32[6] = aten.clamp_max.default(%x, 1)", ["r"]),
    ]
}

#[test]
fn more_elementwise() {
    run_family("more_elementwise", &more_elementwise_cases());
}

/// The remaining unary math ops and activations, inputs mapped into each op's domain.
fn more_unary_cases() -> Vec<Case> {
    let mut v = unary_family(&[
        ("sign_f", "aten.sign.default", "f32[6]", "any"),
        ("sign_int", "aten.sign.default", "i32[6]", "any"),
        ("tan", "aten.tan.default", "f32[6]", "unit"),
        ("asin", "aten.asin.default", "f32[6]", "unit"),
        ("acos", "aten.acos.default", "f32[6]", "unit"),
        ("atan", "aten.atan.default", "f32[6]", "any"),
        ("sinh", "aten.sinh.default", "f32[6]", "any"),
        ("cosh", "aten.cosh.default", "f32[6]", "any"),
        ("round", "aten.round.default", "f32[6]", "any"),
        ("trunc", "aten.trunc.default", "f32[6]", "any"),
        ("log2", "aten.log2.default", "f32[6]", "pos"),
        ("log10", "aten.log10.default", "f32[6]", "pos"),
        ("log1p", "aten.log1p.default", "f32[6]", "pos"),
        ("expm1", "aten.expm1.default", "f32[6]", "any"),
        ("square", "aten.square.default", "f32[6]", "any"),
        ("square_int", "aten.square.default", "i32[6]", "any"),
        ("relu_inplace", "aten.relu_.default", "f32[6]", "any"),
        ("silu_inplace", "aten.silu_.default", "f32[6]", "any"),
        (
            "hardswish_inplace",
            "aten.hardswish_.default",
            "f32[6]",
            "any",
        ),
        (
            "hardsigmoid_inplace",
            "aten.hardsigmoid_.default",
            "f32[6]",
            "any",
        ),
        ("elu", "aten.elu.default", "f32[6]", "any"),
        ("softplus", "aten.softplus.default", "f32[6]", "any"),
        ("relu6", "aten.relu6.default", "f32[6]", "any"),
    ]);
    v.extend([
        case!("round_half", [("x", "f32[6]")], [], "%h: f32[6] = aten.mul.Tensor(%x, 2.0)\n%f: f32[6] = aten.floor.default(%h)\n%d: f32[6] = aten.div.Tensor(%f, 2.0)\n%r: f32[6] = aten.round.default(%d)", ["r"]),
        case!("elu_alpha", [("x", "f32[6]")], [], "%r: f32[6] = aten.elu.default(%x, 0.5)", ["r"]),
        case!("softplus_params", [("x", "f32[6]")], [], "%r: f32[6] = aten.softplus.default(%x, 2.0, 1.0)", ["r"]),
        case!("hardtanh_inplace", [("x", "f32[6]")], [], "%r: f32[6] = aten.hardtanh_.default(%x, -0.5, 0.75)", ["r"]),
        // inf where x <= 0, finite elsewhere.
        case!("isinf", [("x", "f32[6]")], [], "%p: bool[6] = aten.gt.Scalar(%x, 0)\n%m: f32[6] = aten.where.ScalarOther(%p, %x, 0.0)\n%i: f32[6] = aten.reciprocal.default(%m)\n%n: f32[6] = aten.neg.default(%i)\n%r: bool[6] = aten.isinf.default(%n)", ["r"]),
    ]);
    v
}

#[test]
fn more_unary() {
    run_family("more_unary", &more_unary_cases());
}

/// The remaining reductions, norms, pools, resizes and sorts.
fn more_reduce_norm_cases() -> Vec<Case> {
    vec![
        case!("sum_all", [("x", "f32[2,3]")], [], "%r: f32[] = aten.sum.default(%x)", ["r"]),
        case!("mean_all", [("x", "f32[2,3,4]")], [], "%r: f32[] = aten.mean.default(%x)", ["r"]),
        case!("prod_all", [("x", "f32[2,3]")], [], "%r: f32[] = aten.prod.default(%x)", ["r"]),
        case!("any_all", [("x", "bool[2,3]")], [], "%r: bool[] = aten.any.default(%x)", ["r"]),
        case!("any_dims", [("x", "bool[2,3,2]")], [], "%r: bool[2,1,1] = aten.any.dims(%x, [1, 2], true)", ["r"]),
        case!("all_all", [("x", "bool[2,3]")], [], "%n: bool[2,3] = aten.logical_not.default(%x)\n%o: bool[2,3] = aten.logical_or.default(%x, %n)\n%r: bool[] = aten.all.default(%x)\n%s: bool[] = aten.all.default(%o)", ["r", "s"]),
        case!("all_dim", [("x", "bool[4,2]")], [], "%r: bool[2] = aten.all.dim(%x, 0)", ["r"]),
        case!("all_dims", [("x", "bool[2,3,2]")], [], "%r: bool[3] = aten.all.dims(%x, [0, -1])", ["r"]),
        case!("var_dim", [("x", "f32[2,5]")], [], "%r: f32[2,1] = aten.var.dim(%x, [1], false, true)", ["r"]),
        case!("softmax_int", [("x", "f32[2,5]")], [], "%r: f32[2,5] = aten.softmax.int(%x, 0)", ["r"]),
        case!("log_softmax_int", [("x", "f32[2,5]")], [], "%r: f32[2,5] = aten.log_softmax.int(%x, -1)", ["r"]),
        case!("layer_norm_aten", [("x", "f32[2,3,4]")], [("w", "f32[3,4]"), ("b", "f32[3,4]")], "%r: f32[2,3,4] = aten.layer_norm.default(%x, [3, 4], %w, %b, 1e-05)", ["r"]),
        case!("layer_norm_plain", [("x", "f32[2,3,4]")], [], "%r: f32[2,3,4] = aten.layer_norm.default(%x, [4])", ["r"]),
        case!("native_group_norm", [("x", "f32[2,4,3,3]")], [("w", "f32[4]"), ("b", "f32[4]")], "%r: f32[2,4,3,3], %m: f32[2,2], %s: f32[2,2] = aten.native_group_norm.default(%x, %w, %b, 2, 4, 9, 2, 1e-05)", ["r"]),
        case!("batch_norm_aten", [("x", "f32[2,3,4,4]")], [("w", "f32[3]"), ("b", "f32[3]"), ("m", "f32[3]"), ("v", "f32[3]")], "%av: f32[3] = aten.abs.default(%v)\n%r: f32[2,3,4,4] = aten.batch_norm.default(%x, %w, %b, %m, %av, false, 0.1, 1e-05, true)", ["r"]),
        case!("max_pool_indices", [("x", "f32[1,2,6,6]")], [], "%r: f32[1,2,3,3], %i: i64[1,2,3,3] = aten.max_pool2d_with_indices.default(%x, [2, 2])", ["r"]),
        case!("adaptive_avg_private", [("x", "f32[1,2,6,6]")], [], "%r: f32[1,2,3,3] = aten._adaptive_avg_pool2d.default(%x, [3, 3])", ["r"]),
        case!("upsample_nearest_size", [("x", "f32[1,2,3,3]")], [], "%r: f32[1,2,6,9] = aten.upsample_nearest2d.default(%x, [6, 9])", ["r"]),
        case!("upsample_bilinear_size", [("x", "f32[1,2,4,4]")], [], "%r: f32[1,2,8,6] = aten.upsample_bilinear2d.default(%x, [8, 6], false)", ["r"]),
        case!("upsample_bilinear_corners", [("x", "f32[1,2,4,4]")], [], "%r: f32[1,2,7,5] = aten.upsample_bilinear2d.default(%x, [7, 5], true)", ["r"]),
        case!("sort", [("x", "f32[2,6]")], [], "%v: f32[2,6], %i: i64[2,6] = aten.sort.default(%x)", ["v", "i"]),
        case!("sort_desc", [("x", "f32[4,3]")], [], "%v: f32[4,3], %i: i64[4,3] = aten.sort.default(%x, 0, true)", ["v", "i"]),
        case!("argmin", [("x", "f32[2,6]")], [], "%r: i64[2,1] = aten.argmin.default(%x, 1, true)", ["r"]),
        case!("argmax_all", [("x", "f32[2,6]")], [], "%r: i64[] = aten.argmax.default(%x)", ["r"]),
        case!("max_dim", [("x", "f32[2,6]")], [], "%v: f32[2], %i: i64[2] = aten.max.dim(%x, 1)", ["v", "i"]),
        case!("min_dim", [("x", "f32[3,4]")], [], "%v: f32[1,4], %i: i64[1,4] = aten.min.dim(%x, 0, true)", ["v", "i"]),
    ]
}

#[test]
fn more_reductions_and_norms() {
    run_family("more_reduce_norm", &more_reduce_norm_cases());
}

/// The remaining matmul, convolution, view, indexing, split and pad overloads.
fn more_linalg_shape_cases() -> Vec<Case> {
    vec![
        case!(
            "mm",
            [("x", "f32[2,4]"), ("y", "f32[4,3]")],
            [],
            "%r: f32[2,3] = aten.mm.default(%x, %y)",
            ["r"]
        ),
        case!(
            "reshape",
            [("x", "f32[2,3,4]")],
            [],
            "%r: f32[3,8] = aten.reshape.default(%x, [3, -1])",
            ["r"]
        ),
        case!(
            "unsafe_view",
            [("x", "f32[2,3,4]")],
            [],
            "%r: f32[24] = aten._unsafe_view.default(%x, [24])",
            ["r"]
        ),
        case!(
            "view_copy",
            [("x", "f32[2,3,4]")],
            [],
            "%r: f32[2,2,6] = aten.view_copy.default(%x, [2, 2, 6])",
            ["r"]
        ),
        case!(
            "squeeze_all",
            [("x", "f32[2,1,3,1]")],
            [],
            "%r: f32[2,3] = aten.squeeze.default(%x)",
            ["r"]
        ),
        case!(
            "squeeze_dim",
            [("x", "f32[2,1,3]")],
            [],
            "%r: f32[2,3] = aten.squeeze.dim(%x, -2)",
            ["r"]
        ),
        case!(
            "unflatten",
            [("x", "f32[2,12]")],
            [],
            "%r: f32[2,3,4] = aten.unflatten.int(%x, 1, [3, -1])",
            ["r"]
        ),
        case!(
            "t",
            [("x", "f32[2,3]")],
            [],
            "%r: f32[3,2] = aten.t.default(%x)",
            ["r"]
        ),
        case!(
            "index_tensor",
            [("x", "f32[3,4]"), ("i", "i64[2,2]")],
            [],
            "%r: f32[3,2,2] = aten.index.Tensor(%x, [None, %i])",
            ["r"]
        ),
        case!(
            "index_tensor_first",
            [("x", "f32[3,4]"), ("i", "i64[5]")],
            [],
            "%r: f32[5,4] = aten.index.Tensor(%x, [%i])",
            ["r"]
        ),
        case!(
            "split_tensor",
            [("x", "f32[2,7]")],
            [],
            "%a: f32[2,3], %b: f32[2,3], %c: f32[2,1] = aten.split.Tensor(%x, 3, 1)",
            ["a", "b", "c"]
        ),
        case!(
            "tensor_split",
            [("x", "f32[2,7]")],
            [],
            "%a: f32[2,3], %b: f32[2,2], %c: f32[2,2] = aten.tensor_split.sections(%x, 3, 1)",
            ["a", "b", "c"]
        ),
        case!(
            "unbind",
            [("x", "f32[3,2]")],
            [],
            "%a: f32[2], %b: f32[2], %c: f32[2] = aten.unbind.int(%x)",
            ["a", "b", "c"]
        ),
        case!(
            "unbind_last",
            [("x", "f32[3,2]")],
            [],
            "%a: f32[3], %b: f32[3] = aten.unbind.int(%x, -1)",
            ["a", "b"]
        ),
        case!(
            "pad_reflect",
            [("x", "f32[1,2,4,5]")],
            [],
            "%r: f32[1,2,7,8] = aten.pad.default(%x, [2, 1, 1, 2], \"reflect\")",
            ["r"]
        ),
        case!(
            "pad_reflect_dyn",
            [("x", "f32[s0,3,4]")],
            [],
            "%r: f32[s0,3,7] = aten.pad.default(%x, [3, 0], \"reflect\")",
            ["r"]
        ),
        case!(
            "pad_replicate",
            [("x", "i32[2,3,3]")],
            [],
            "%r: i32[2,5,6] = aten.pad.default(%x, [1, 2, 2, 0], \"replicate\")",
            ["r"]
        ),
        case!(
            "pad_circular",
            [("x", "f32[1,2,4]")],
            [],
            "%r: f32[1,2,9] = aten.pad.default(%x, [4, 1], \"circular\")",
            ["r"]
        ),
        case!(
            "pad_constant",
            [("x", "f32[1,2,3]")],
            [],
            "%r: f32[1,4,4] = aten.pad.default(%x, [0, 1, 1, 1], \"constant\", -0.5)",
            ["r"]
        ),
    ]
}

#[test]
fn more_linalg_and_shapes() {
    run_family("more_linalg_shape", &more_linalg_shape_cases());
}

/// Casts, identities, creation ops, symbolic-int arithmetic and export-time assertions.
fn misc_cases() -> Vec<Case> {
    vec![
        case!("to_dtype", [("x", "f32[6]")], [], "%r: i32[6] = aten.to.dtype(%x, i32)", ["r"]),
        case!("to_dtype_layout", [("x", "i32[6]")], [], "%r: f32[6] = aten.to.dtype_layout(%x, dtype=f32)", ["r"]),
        case!("to_device", [("x", "f32[6]")], [], "%r: bool[6] = aten.to.device(%x, device(\"cpu\"), bool)", ["r"]),
        case!("type_as", [("x", "i32[6]"), ("y", "f32[2]")], [], "%r: f32[6] = aten.type_as.default(%x, %y)", ["r"]),
        case!("convert_element_type", [("x", "bool[6]")], [], "%r: i32[6] = prims.convert_element_type.default(%x, i32)", ["r"]),
        case!("identities", [("x", "f32[2,3]")], [], "%a: f32[2,3] = aten.alias.default(%x)\n%b: f32[2,3] = aten.detach.default(%a)\n%c: f32[2,3] = aten.contiguous.default(%b)\n%d: f32[2,3] = aten.lift_fresh_copy.default(%c)\n%e: f32[2,3] = aten.dropout.default(%d, 0.5, false)\n%r: f32[2,3] = aten.dropout_.default(%e, 0.0, true)", ["r"]),
        case!("detach_inplace", [("x", "f32[2,3]")], [], "%a: f32[2,3] = aten.relu.default(%x)\n%r: f32[2,3] = aten.detach_.default(%a)", ["r"]),
        case!("arange_end", [("x", "f32[5]")], [], "%a: f32[5] = aten.arange.default(5, dtype=f32)\n%r: f32[5] = aten.mul.Tensor(%x, %a)", ["r"]),
        case!("arange_start", [("x", "i64[4]")], [], "%a: i64[4] = aten.arange.start(1, 5, dtype=i64)\n%r: i64[4] = aten.add.Tensor(%x, %a)", ["r"]),
        case!("fill_like", [("x", "f32[2,3]")], [], "%a: f32[2,3] = aten.full_like.default(%x, 2.0)\n%b: f32[2,3] = aten.ones_like.default(%x)\n%c: f32[2,3] = aten.zeros_like.default(%x)\n%d: f32[2,3] = aten.add.Tensor(%a, %b)\n%e: f32[2,3] = aten.add.Tensor(%d, %c)\n%r: f32[2,3] = aten.mul.Tensor(%x, %e)", ["r"]),
        case!("new_fill", [("x", "f32[2,3]")], [], "%a: f32[3] = aten.new_full.default(%x, [3], 1.5)\n%b: f32[2,3] = aten.new_ones.default(%x, [2, 3])\n%c: f32[2,1] = aten.new_zeros.default(%x, [2, 1])\n%d: f32[2,3] = aten.add.Tensor(%a, %b)\n%e: f32[2,3] = aten.add.Tensor(%d, %c)\n%r: f32[2,3] = aten.mul.Tensor(%x, %e)", ["r"]),
        case!("fill_int", [("x", "i32[2,3]")], [], "%a: i32[2,3] = aten.ones.default([2, 3], dtype=i32)\n%b: i32[3] = aten.zeros.default([3], dtype=i32)\n%c: i32[2,3] = aten.add.Tensor(%a, %b)\n%r: i32[2,3] = aten.add.Tensor(%x, %c)", ["r"]),
        case!("scalar_tensor", [("x", "f32[2,3]")], [], "%s: f32[] = aten.scalar_tensor.default(2.5)\n%r: f32[2,3] = aten.mul.Tensor(%x, %s)", ["r"]),
        // `empty` has no defined contents; only its shape and type reach the output.
        case!("empty", [("x", "f32[2,3]")], [], "%a: f32[2,3] = aten.empty.memory_format([2, 3])\n%b: f32[2,3] = aten.empty_like.default(%x)\n%z: f32[2,3] = aten.mul.Tensor(%a, 0.0)\n%w: f32[2,3] = aten.mul.Tensor(%b, 0.0)\n%c: f32[2,3] = aten.add.Tensor(%z, %w)\n%r: f32[2,3] = aten.add.Tensor(%x, %c)", ["r"]),
        case!("sym_arith", [("x", "f32[s0,3]")], [], "%n: symint(s0) = aten.sym_size.int(%x, 0)
            %m: symint(2*s0) = _operator.mul(%n, 2)
            %a: symint(2*s0 + 1) = _operator.add(%m, 1)
            %s: symint(s0 + 1) = _operator.sub(%a, %n)
            %f: symint(s0) = _operator.floordiv(%m, 2)
            %g: symint(-s0) = _operator.neg(%f)
            %k: symint(s0) = _operator.add(%g, %m)
            %h: symint(mod(s0, 2)) = _operator.mod(%n, 2)
            %o: f32[s0 + 1] = aten.full.default([%s], 1.0)
            %p: f32[s0,3] = aten.full.default([%k, 3], 2.0)
            %q: f32[s0,3] = aten.mul.Tensor(%x, %p)
            %t: f32[mod(s0, 2)] = aten.full.default([%h], 3.0)", ["o", "q", "t"]),
        case!("sym_numel", [("x", "f32[s0,3]")], [], "%n: symint(3*s0) = aten.sym_numel.default(%x)\n%r: f32[3*s0] = aten.view.default(%x, [%n])", ["r"]),
        case!("asserts", [("x", "f32[s0,3]")], [], "%n: symint(s0) = aten.sym_size.int(%x, 0)
            aten.sym_constrain_range.default(%n, min=1, max=8)
            aten.sym_constrain_range_for_size.default(%n)
            aten._assert_scalar.default(true, \"s0 in range\")
            aten._assert_tensor_metadata.default(%x, dtype=f32)
            %r: f32[s0,3] = aten.relu.default(%x)", ["r"]),
    ]
}

#[test]
fn misc() {
    run_family("misc", &misc_cases());
}

/// Branch graphs shared by the `cond` cases: two outputs each, one of them a tensor the
/// branch computes and one it passes through or derives, so the selects see both kinds.
const COND_BRANCHES: &str = "
    graph @true_graph_0(%x: f32[2,3], %y: f32[3]) {
      %a: f32[2,3] = aten.add.Tensor(%x, %y)
      %r: f32[2,3] = aten.relu.default(%a)
      output (%r, %x)
    }
    graph @false_graph_0(%x: f32[2,3], %y: f32[3]) {
      %m: f32[2,3] = aten.mul.Tensor(%x, %y)
      %s: f32[2,3] = aten.sin.default(%x)
      output (%m, %s)
    }";

/// `higher_order.cond` (converted eagerly: both branches, then a select per output). The
/// predicate is computed so that each value is taken by one case (inputs lie in [-2, 2],
/// so `sum(x) > -100` is always true and `< -100` always false), and is a 0-d input with a
/// dynamic batch in another; nested `cond` and int outputs are covered too.
fn hop_cases() -> Vec<Case> {
    vec![
        case!(
            "cond_true",
            [("x", "f32[2,3]"), ("y", "f32[3]")],
            [],
            "%s: f32[] = aten.sum.default(%x)
            %p: bool[] = aten.gt.Scalar(%s, -100.0)
            %r: f32[2,3], %q: f32[2,3] = higher_order.cond(%p, @true_graph_0, @false_graph_0, [%x, %y])",
            ["r", "q"],
            COND_BRANCHES
        ),
        case!(
            "cond_false",
            [("x", "f32[2,3]"), ("y", "f32[3]")],
            [],
            "%s: f32[] = aten.sum.default(%x)
            %p: bool[] = aten.lt.Scalar(%s, -100.0)
            %r: f32[2,3], %q: f32[2,3] = higher_order.cond(%p, @true_graph_0, @false_graph_0, [%x, %y])",
            ["r", "q"],
            COND_BRANCHES
        ),
        case!(
            "cond_input_pred_dyn",
            [("p", "bool[]"), ("x", "i32[s0,4]")],
            [],
            "%r: i32[s0,4] = higher_order.cond(%p, @t, @f, [%x])",
            ["r"],
            "graph @t(%x: i32[s0,4]) {
              %a: i32[s0,4] = aten.add.Tensor(%x, 3)
              output (%a)
            }
            graph @f(%x: i32[s0,4]) {
              %n: i32[s0,4] = aten.neg.default(%x)
              output (%n)
            }"
        ),
        case!(
            "cond_nested",
            [("x", "f32[2,3]")],
            [("w", "f32[3,3]")],
            "%s: f32[] = aten.sum.default(%x)
            %p: bool[] = aten.lt.Scalar(%s, 100.0)
            %r: f32[2,3] = higher_order.cond(%p, @outer_t, @outer_f, [%x, %w])",
            ["r"],
            "graph @outer_t(%x: f32[2,3], %w: f32[3,3]) {
              %m: f32[2,3] = aten.mm.default(%x, %w)
              %s: f32[] = aten.sum.default(%m)
              %p: bool[] = aten.gt.Scalar(%s, 100.0)
              %r: f32[2,3] = higher_order.cond(%p, @inner_t, @inner_f, [%m])
              output (%r)
            }
            graph @outer_f(%x: f32[2,3], %w: f32[3,3]) {
              output (%x)
            }
            graph @inner_t(%m: f32[2,3]) {
              %e: f32[2,3] = aten.exp.default(%m)
              output (%e)
            }
            graph @inner_f(%m: f32[2,3]) {
              %t: f32[2,3] = aten.tanh.default(%m)
              output (%t)
            }"
        ),
    ]
}

/// Ops with no converter of their own that convert through their op-table decomposition:
/// the network holds the layers of the decomposition's ops.
fn decomposition_cases() -> Vec<Case> {
    vec![
        case!(
            "and_mask",
            [("a", "bool[2,3]"), ("b", "bool[3]")],
            [],
            "%r: bool[2,3] = aten.__and__.Tensor(%a, %b)",
            ["r"]
        ),
        case!(
            "diff",
            [("x", "f32[3,5]")],
            [],
            "%r: f32[3,4] = aten.diff.default(%x)",
            ["r"]
        ),
        case!(
            "diff_n2_dim0",
            [("x", "f32[4,3]")],
            [],
            "%r: f32[2,3] = aten.diff.default(%x, 2, 0)",
            ["r"]
        ),
        case!(
            "diff_prepend",
            [("x", "i32[2,4]"), ("p", "i32[2,1]")],
            [],
            "%r: i32[2,4] = aten.diff.default(%x, 1, -1, %p)",
            ["r"]
        ),
        case!(
            "diff_dyn",
            [("x", "f32[s0,4]")],
            [],
            "%r: f32[s0,3] = aten.diff.default(%x, dim=1)",
            ["r"]
        ),
        case!(
            "addcmul",
            [("s", "f32[2,3]"), ("a", "f32[2,3]"), ("b", "f32[3]")],
            [],
            "%r: f32[2,3] = aten.addcmul.default(%s, %a, %b, value=0.5)",
            ["r"]
        ),
        case!(
            "addcmul_unit",
            [("s", "f32[4]"), ("a", "f32[4]"), ("b", "f32[4]")],
            [],
            "%r: f32[4] = aten.addcmul.default(%s, %a, %b)",
            ["r"]
        ),
        case!(
            "logaddexp",
            [("x", "f32[2,3]"), ("y", "f32[2,3]")],
            [],
            "%r: f32[2,3] = aten.logaddexp.default(%x, %y)",
            ["r"]
        ),
        case!(
            "log_sigmoid",
            [("x", "f32[2,5]")],
            [],
            "%r: f32[2,5] = aten.log_sigmoid.default(%x)",
            ["r"]
        ),
        case!(
            "mT",
            [("x", "f32[2,3,4]")],
            [],
            "%r: f32[2,4,3] = aten.mT.default(%x)",
            ["r"]
        ),
        case!(
            "mT_dyn",
            [("x", "f32[s0,3]")],
            [],
            "%r: f32[3,s0] = aten.mT.default(%x)",
            ["r"]
        ),
        case!(
            "addcdiv",
            [("s", "f32[2,3]"), ("a", "f32[2,3]"), ("b", "f32[3]")],
            [],
            "%r: f32[2,3] = aten.addcdiv.default(%s, %a, %b, value=2.0)",
            ["r"]
        ),
        case!(
            // TensorRT has bitwise ops on bool only (integer ones are refused, and fall back).
            "or_xor_bools",
            [("a", "bool[4]"), ("b", "bool[4]")],
            [],
            "%o: bool[4] = aten.__or__.Tensor(%a, %b)\n  %r: bool[4] = aten.__xor__.Tensor(%o, %b)",
            ["r"]
        ),
        case!(
            "reshape_as",
            [("x", "f32[2,6]"), ("y", "f32[3,4]")],
            [],
            "%r: f32[3,4] = aten.reshape_as.default(%x, %y)",
            ["r"]
        ),
        case!(
            "atleast_3d",
            [("x", "f32[5]")],
            [],
            "%r: f32[1,5,1] = aten.atleast_3d.default(%x)",
            ["r"]
        ),
        case!(
            "conv2d_same_even_kernel",
            [("x", "f32[1,2,5,5]")],
            [("w", "f32[3,2,2,3]")],
            "%r: f32[1,3,5,5] = aten.conv2d.padding(%x, %w, None, [1, 1], \"same\")",
            ["r"]
        ),
    ]
}

#[test]
fn decompositions() {
    run_family_against(
        "decomposition",
        &decomposition_cases(),
        Reference::ExecDecomposed,
    );
}

#[test]
fn hop() {
    run_family("hop", &hop_cases());
}

/// The partitioner's view of `cond`: with its program (`ConverterRegistry::capability`) the
/// registry accepts a convertible `cond`, so the whole `cond_true` case becomes one TensorRT
/// segment; the outlined segment (whose `cond` still refers to the branch graphs) converts
/// and emulates like the executor runs the original. The program-less capability, which
/// cannot see the branches, leaves the `cond` to the fallback instead.
#[test]
fn partition_capability_accepts_cond() {
    use trtfx_passes::partition::{outline, plan, PartitionOptions, Placement};
    let reg = ConverterRegistry::standard();
    let c = &hop_cases()[0];
    let mut p = program(c);
    let opts = PartitionOptions {
        min_block_size: 1,
        ..PartitionOptions::default()
    };
    let alone = plan(p.main_graph(), &reg, &opts).unwrap();
    assert_eq!(alone.reasons.len(), 1, "{:?}", alone.reasons);
    let pl = plan(p.main_graph(), &reg.capability(&p), &opts).unwrap();
    assert!(pl.reasons.is_empty(), "{:?}", pl.reasons);
    assert_eq!(pl.segments.len(), 1);
    assert_eq!(pl.segments[0].placement, Placement::Backend);
    let ins: Vec<Tensor> = c
        .inputs
        .iter()
        .enumerate()
        .map(|(i, (_, t))| random_input(t, i as u64 + 1))
        .collect();
    let want = Executor::new(&p)
        .run(&ins.iter().cloned().map(Value::Tensor).collect::<Vec<_>>())
        .unwrap();
    let main = p.main;
    let gids = outline(&mut p, main, &pl, "trt").unwrap();
    let net = convert_graph(&p, gids[0], &reg).unwrap();
    let named: Vec<(&str, Tensor)> = c.inputs.iter().map(|(n, _)| *n).zip(ins).collect();
    let got = emulate(&net, &named).unwrap();
    assert_eq!(got.len(), want.len());
    for (i, (w, (_, g))) in want.iter().zip(&got).enumerate() {
        close(&format!("output {i}"), w.as_tensor().unwrap(), g).unwrap();
    }
}

/// Nodes that convert through their decomposition are TensorRT nodes to the partitioner: a
/// graph of them and converted ops is one segment.
#[test]
fn partition_takes_decomposed_nodes() {
    use trtfx_passes::partition::{plan, PartitionOptions};
    let reg = ConverterRegistry::standard();
    let c = case!(
        "mask_diff",
        [("x", "f32[2,5]"), ("m", "bool[2,4]")],
        [],
        "%d: f32[2,4] = aten.diff.default(%x)\n%p: bool[2,4] = aten.gt.Scalar(%d, 0)\n%a: bool[2,4] = aten.__and__.Tensor(%p, %m)",
        ["a"]
    );
    let p = program(&c);
    let opts = PartitionOptions {
        min_block_size: 1,
        ..PartitionOptions::default()
    };
    let pl = plan(p.main_graph(), &reg.capability(&p), &opts).unwrap();
    assert!(pl.reasons.is_empty(), "{:?}", pl.reasons);
    assert_eq!(pl.segments.len(), 1);
}

/// Converters without a numeric case in these tables, with the reason (a converter whose
/// validator refuses every node would be listed here too).
const NO_NUMERIC_CASE: &[(&str, &str)] = &[
    (
        "aten.conv_transpose3d.input",
        "3-D transposed convolution is refused (validators_give_reasons: transposed_3d)",
    ),
    (
        "aten.index_put.default",
        "cases in tests/convert_scatter.rs (index values must be in range and distinct)",
    ),
    (
        "aten.index_put.hacked_twin",
        "cases in tests/convert_scatter.rs (index values must be in range and distinct)",
    ),
    (
        "aten.scatter.src",
        "cases in tests/convert_scatter.rs (index values must be in range and distinct)",
    ),
    (
        "aten.scatter.value",
        "cases in tests/convert_scatter.rs (index values must be in range and distinct)",
    ),
];

/// Every converter of the standard registry has at least one numeric case in the tables above
/// (aliases sharing a converter included): fails naming the ops without one.
#[test]
fn every_converter_has_a_case() {
    let reg = ConverterRegistry::standard();
    let mut used = std::collections::BTreeSet::new();
    for c in all_cases() {
        let p = program(&c);
        let g = p.main_graph();
        for n in g.nodes() {
            if let Some(t) = g.node(n).op.target() {
                used.insert(t.to_string());
            }
        }
    }
    let missing: Vec<&str> = reg
        .ops()
        .filter(|op| !used.contains(*op) && !NO_NUMERIC_CASE.iter().any(|(o, _)| o == op))
        .collect();
    for (op, why) in NO_NUMERIC_CASE {
        eprintln!("no numeric case: {op}: {why}");
    }
    eprintln!(
        "standard converters: {}, with numeric cases: {}",
        reg.len(),
        reg.len() - missing.len() - NO_NUMERIC_CASE.len()
    );
    assert!(
        missing.is_empty(),
        "{} converters without a numeric case (add a case or an entry in NO_NUMERIC_CASE):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// Torch-TensorRT parity (issue 23): the core overloads it converts that had no converter
/// here, each over its parameter space. `repeat`: leading new dims, ints, a dynamic dim;
/// `diagonal`: offsets of both signs, dims in either order, a dynamic other dim; pooling in
/// 1-D (as 2-D over a unit width) and 3-D with stride, padding, ceil mode and the unused
/// indices of `max_poolNd_with_indices`; reflection / replication padding in 1-3 dims with
/// uneven pads and a dynamic batch; a convolution kernel computed from weights (NFNet's
/// weight standardisation), folded at build time. i32 inputs are in [-3, 3], so `atan2`
/// sees zeros and the origin.
fn parity_cases() -> Vec<Case> {
    vec![
        case!("asinh", [("x", "f32[6]")], [], "%r: f32[6] = aten.asinh.default(%x)", ["r"]),
        case!("acosh", [("x", "f32[6]")], [], "%a: f32[6] = aten.mul.Tensor(%x, %x)\n%b: f32[6] = aten.add.Tensor(%a, 1.0)\n%r: f32[6] = aten.acosh.default(%b)", ["r"]),
        case!("atanh", [("x", "f32[6]")], [], "%t: f32[6] = aten.tanh.default(%x)\n%m: f32[6] = aten.mul.Tensor(%t, 0.9)\n%r: f32[6] = aten.atanh.default(%m)", ["r"]),
        case!("isnan", [("x", "f32[8]")], [], "%l: f32[8] = aten.log.default(%x)\n%r: bool[8] = aten.isnan.default(%l)", ["r"]),
        case!("isnan_int_bool", [("x", "i32[4]"), ("b", "bool[4]")], [], "%r: bool[4] = aten.isnan.default(%x)\n%s: bool[4] = aten.isnan.default(%b)", ["r", "s"]),
        case!("bitwise_scalar", [("a", "bool[6]")], [], "%r: bool[6] = aten.bitwise_and.Scalar(%a, true)\n%s: bool[6] = aten.bitwise_or.Scalar(%a, false)\n%t: bool[6] = aten.bitwise_xor.Scalar(%a, true)", ["r", "s", "t"]),
        case!("bitwise_scalar_tensor", [("a", "bool[2,3]")], [], "%r: bool[2,3] = aten.bitwise_and.Scalar_Tensor(false, %a)\n%s: bool[2,3] = aten.bitwise_or.Scalar_Tensor(true, %a)\n%t: bool[2,3] = aten.bitwise_xor.Scalar_Tensor(true, %a)", ["r", "s", "t"]),
        case!("atan2", [("y", "f32[2,3]"), ("x", "f32[3]")], [], "%r: f32[2,3] = aten.atan2.default(%y, %x)", ["r"]),
        case!("atan2_int_zeros", [("y", "i32[16]"), ("x", "i32[16]")], [], "%r: f32[16] = aten.atan2.default(%y, %x)", ["r"]),
        case!("native_dropout_eval", [("x", "f32[2,3]")], [], "%y: f32[2,3], %m: bool[2,3] = aten.native_dropout.default(%x, 0.5, false)", ["y", "m"]),
        case!("native_dropout_p0_dynamic", [("x", "f32[s0,3]")], [], "%y: f32[s0,3], %m: bool[s0,3] = aten.native_dropout.default(%x, 0.0, true)\n%r: f32[s0,3] = aten.relu.default(%y)", ["r", "m"]),
        case!("repeat", [("x", "f32[2,3]")], [], "%r: f32[4,9] = aten.repeat.default(%x, [2, 3])", ["r"]),
        case!("repeat_new_dims", [("x", "f32[2,3]")], [], "%r: f32[2,2,9] = aten.repeat.default(%x, [2, 1, 3])", ["r"]),
        case!("repeat_int_ones", [("x", "i64[3]")], [], "%r: i64[1,3] = aten.repeat.default(%x, [1, 1])", ["r"]),
        case!("repeat_dynamic", [("x", "f32[s0,3]")], [], "%r: f32[s0,6] = aten.repeat.default(%x, [1, 2])", ["r"]),
        case!("diagonal", [("x", "f32[3,4]")], [], "%r: f32[3] = aten.diagonal.default(%x)", ["r"]),
        case!("diagonal_offset", [("x", "f32[3,4]")], [], "%r: f32[3] = aten.diagonal.default(%x, 1)\n%s: f32[2] = aten.diagonal.default(%x, -1)", ["r", "s"]),
        case!("diagonal_dims_swapped", [("x", "f32[3,2,4]")], [], "%r: f32[2,3] = aten.diagonal.default(%x, 0, 2, 0)", ["r"]),
        case!("diagonal_dynamic_batch", [("x", "f32[s0,3,3]")], [], "%r: f32[s0,2] = aten.diagonal.default(%x, -1, 1, 2)", ["r"]),
        case!("max_pool1d", [("x", "f32[1,2,8]")], [], "%r: f32[1,2,4] = aten.max_pool1d.default(%x, [3], [2], [1])", ["r"]),
        case!("max_pool1d_indices", [("x", "f32[2,2,7]")], [], "%r: f32[2,2,3], %i: i64[2,2,3] = aten.max_pool1d_with_indices.default(%x, [2])", ["r"]),
        case!("avg_pool1d", [("x", "f32[2,3,7]")], [], "%r: f32[2,3,2] = aten.avg_pool1d.default(%x, [3])", ["r"]),
        case!("avg_pool1d_pad_ceil", [("x", "f32[1,2,6]")], [], "%r: f32[1,2,4] = aten.avg_pool1d.default(%x, [3], [2], [1], true, false)", ["r"]),
        case!("avg_pool3d", [("x", "f32[1,2,4,4,4]")], [], "%r: f32[1,2,2,2,2] = aten.avg_pool3d.default(%x, [2, 2, 2])", ["r"]),
        case!("avg_pool3d_pad", [("x", "f32[1,2,4,5,4]")], [], "%r: f32[1,2,2,3,2] = aten.avg_pool3d.default(%x, [3, 3, 3], [2, 2, 2], [1, 1, 1], false, false)", ["r"]),
        case!("avg_pool3d_include_pad", [("x", "f32[1,1,4,4,4]")], [], "%r: f32[1,1,3,3,3] = aten.avg_pool3d.default(%x, [2, 2, 2], [2, 2, 2], [1, 1, 1])", ["r"]),
        case!("max_pool3d", [("x", "f32[1,1,4,4,4]")], [], "%r: f32[1,1,2,2,2] = aten.max_pool3d.default(%x, [2, 2, 2], [2, 2, 2])", ["r"]),
        case!("max_pool3d_indices_unused", [("x", "f32[1,2,5,5,5]")], [], "%r: f32[1,2,3,3,3], %i: i64[1,2,3,3,3] = aten.max_pool3d_with_indices.default(%x, [3, 3, 3], [2, 2, 2], [1, 1, 1])", ["r"]),
        case!("adaptive_avg_pool1d", [("x", "f32[1,2,8]")], [], "%r: f32[1,2,4] = aten.adaptive_avg_pool1d.default(%x, [4])", ["r"]),
        case!("adaptive_avg_pool1d_global", [("x", "f32[2,3,5]")], [], "%r: f32[2,3,1] = aten.adaptive_avg_pool1d.default(%x, [1])", ["r"]),
        case!("adaptive_avg_pool3d", [("x", "f32[1,2,4,4,2]")], [], "%r: f32[1,2,2,2,1] = aten._adaptive_avg_pool3d.default(%x, [2, 2, 1])", ["r"]),
        case!("adaptive_avg_pool3d_global", [("x", "f32[1,2,3,2,2]")], [], "%r: f32[1,2,1,1,1] = aten.adaptive_avg_pool3d.default(%x, [1, 1, 1])", ["r"]),
        case!("reflection_pad1d", [("x", "f32[2,5]")], [], "%r: f32[2,8] = aten.reflection_pad1d.default(%x, [2, 1])", ["r"]),
        case!("reflection_pad2d", [("x", "f32[1,2,4,4]")], [], "%r: f32[1,2,7,7] = aten.reflection_pad2d.default(%x, [1, 2, 2, 1])", ["r"]),
        case!("reflection_pad2d_dynamic", [("x", "f32[s0,2,4,4]")], [], "%r: f32[s0,2,6,6] = aten.reflection_pad2d.default(%x, [1, 1, 1, 1])", ["r"]),
        case!("reflection_pad3d", [("x", "f32[1,1,3,3,3]")], [], "%r: f32[1,1,5,5,5] = aten.reflection_pad3d.default(%x, [1, 1, 1, 1, 1, 1])", ["r"]),
        case!("replication_pad1d", [("x", "f32[1,2,4]")], [], "%r: f32[1,2,8] = aten.replication_pad1d.default(%x, [3, 1])", ["r"]),
        case!("replication_pad2d", [("x", "f32[1,2,3,3]")], [], "%r: f32[1,2,7,5] = aten.replication_pad2d.default(%x, [2, 0, 1, 3])", ["r"]),
        case!("replication_pad3d", [("x", "i64[1,1,2,3,2]")], [], "%r: i64[1,1,4,5,4] = aten.replication_pad3d.default(%x, [1, 1, 0, 2, 2, 0])", ["r"]),
        case!("conv_standardized_kernel", [("x", "f32[1,3,6,6]")], [("w", "f32[4,3,3,3]"), ("g", "f32[4,1,1,1]"), ("b", "f32[4]")],
            "%v: f32[1,4,27] = aten.view.default(%w, [1, 4, -1])\n%gs: f32[4,1,1,1] = aten.mul.Tensor(%g, 0.5)\n%gv: f32[4] = aten.view.default(%gs, [-1])\n%n: f32[1,4,27], %m: f32[4], %s: f32[4] = aten._native_batch_norm_legit.no_stats(%v, %gv, None, true, 0.0, 1e-05)\n%k: f32[4,3,3,3] = aten.view.default(%n, [4, 3, 3, 3])\n%r: f32[1,4,6,6] = aten.convolution.default(%x, %k, %b, [1, 1], [1, 1], [1, 1], false, [0, 0], 1)", ["r"]),
    ]
}

#[test]
fn parity() {
    run_family("parity", &parity_cases());
}

/// `einsum` through its decomposition (permutes, sums and one matmul per pair of operands):
/// the equations of MaxViT's attention (spaces, batch labels), plain products, an outer
/// product, a sum and a transpose of one operand, `...` broadcast dims, an implicit output,
/// three operands, a label summed out of one operand only, and a dynamic batch.
fn einsum_cases() -> Vec<Case> {
    vec![
        case!("einsum_maxvit_scores", [("q", "f32[1,2,2,3,4]"), ("k", "f32[1,2,2,5,4]")], [], "%r: f32[1,2,2,3,5] = aten.einsum.default(\"B G H I D, B G H J D -> B G H I J\", [%q, %k])", ["r"]),
        case!("einsum_maxvit_values", [("a", "f32[1,2,2,3,5]"), ("v", "f32[1,2,2,5,4]")], [], "%r: f32[1,2,2,3,4] = aten.einsum.default(\"B G H I J, B G H J D -> B G H I D\", [%a, %v])", ["r"]),
        case!("einsum_mm", [("a", "f32[2,3]"), ("b", "f32[3,4]")], [], "%r: f32[2,4] = aten.einsum.default(\"ij,jk->ik\", [%a, %b])", ["r"]),
        case!("einsum_outer", [("a", "f32[3]"), ("b", "f32[4]")], [], "%r: f32[3,4] = aten.einsum.default(\"i,j->ij\", [%a, %b])", ["r"]),
        case!("einsum_sum_transpose", [("a", "f32[2,3,4]")], [], "%r: f32[4,2] = aten.einsum.default(\"ijk->ki\", [%a])", ["r"]),
        case!("einsum_ellipsis", [("a", "f32[2,3,4]"), ("b", "f32[4,5]")], [], "%r: f32[2,3,5] = aten.einsum.default(\"...ij,jk->...ik\", [%a, %b])", ["r"]),
        case!("einsum_implicit", [("a", "f32[3,2]"), ("b", "f32[4,3]")], [], "%r: f32[2,4] = aten.einsum.default(\"ji,kj\", [%a, %b])", ["r"]),
        case!("einsum_three", [("a", "f32[2,3]"), ("b", "f32[3,4]"), ("c", "f32[4,5]")], [], "%r: f32[2,5] = aten.einsum.default(\"ab,bc,cd->ad\", [%a, %b, %c])", ["r"]),
        case!("einsum_bilinear", [("a", "f32[2,3]"), ("w", "f32[4,3,5]"), ("b", "f32[2,5]")], [], "%r: f32[2,4] = aten.einsum.default(\"bn,anm,bm->ba\", [%a, %w, %b])", ["r"]),
        case!("einsum_sum_one_side", [("a", "f32[2,3,6]"), ("b", "f32[3,4]")], [], "%r: f32[2,4] = aten.einsum.default(\"ijx,jk->ik\", [%a, %b])", ["r"]),
        case!("einsum_dynamic_batch", [("a", "f32[s0,2,3]"), ("b", "f32[s0,3,4]")], [], "%r: f32[s0,2,4] = aten.einsum.default(\"bij,bjk->bik\", [%a, %b])", ["r"]),
    ]
}

#[test]
fn einsum() {
    run_family("einsum", &einsum_cases());
}

/// `grid_sampler_2d` over its whole parameter space: every interpolation mode (bilinear,
/// nearest, bicubic) with every padding mode (zeros, border, reflection), with and without
/// aligned corners, on grids in [-2, 2) (so half the samples fall outside the input), plus
/// `grid_sampler` (which dispatches on the rank), a dynamic batch, `grid_sampler_3d`
/// (trilinear and nearest), and an output larger than the input.
fn grid_sample_cases() -> Vec<Case> {
    let mut v = vec![];
    for (m, mode) in ["bilinear", "nearest", "bicubic"].iter().enumerate() {
        for (p, pad) in ["zeros", "border", "reflection"].iter().enumerate() {
            for align in [false, true] {
                let name = format!(
                    "grid_sampler_{mode}_{pad}_{}",
                    if align { "aligned" } else { "unaligned" }
                );
                let body = format!(
                    "%r: f32[2,3,3,6] = aten.grid_sampler_2d.default(%x, %g, {m}, {p}, {align})"
                );
                v.push(Case {
                    name: Box::leak(name.into_boxed_str()),
                    inputs: &[("x", "f32[2,3,4,5]"), ("g", "f32[2,3,6,2]")],
                    weights: &[],
                    body: Box::leak(body.into_boxed_str()),
                    outputs: &["r"],
                    graphs: "",
                });
            }
        }
    }
    v.push(case!(
        "grid_sampler_dispatch",
        [("x", "f32[1,2,3,3]"), ("g", "f32[1,4,2,2]")],
        [],
        "%r: f32[1,2,4,2] = aten.grid_sampler.default(%x, %g, 0, 2, false)",
        ["r"]
    ));
    v.push(case!(
        "grid_sampler_dynamic_batch",
        [("x", "f32[s0,2,4,4]"), ("g", "f32[s0,2,3,2]")],
        [],
        "%r: f32[s0,2,2,3] = aten.grid_sampler_2d.default(%x, %g, 2, 1, true)",
        ["r"]
    ));
    v.push(case!(
        "grid_sampler_3d_trilinear_zeros",
        [("x", "f32[1,2,3,4,3]"), ("g", "f32[1,2,3,2,3]")],
        [],
        "%r: f32[1,2,2,3,2] = aten.grid_sampler_3d.default(%x, %g, 0, 0, false)",
        ["r"]
    ));
    v.push(case!(
        "grid_sampler_3d_nearest_reflection",
        [("x", "f32[1,2,3,4,3]"), ("g", "f32[1,2,3,2,3]")],
        [],
        "%r: f32[1,2,2,3,2] = aten.grid_sampler_3d.default(%x, %g, 1, 2, true)",
        ["r"]
    ));
    v.push(case!(
        "grid_sampler_3d_trilinear_border_dispatch",
        [("x", "f32[2,1,2,3,4]"), ("g", "f32[2,1,2,5,3]")],
        [],
        "%r: f32[2,1,1,2,5] = aten.grid_sampler.default(%x, %g, 0, 1, true)",
        ["r"]
    ));
    v.push(case!(
        "grid_sampler_upsample",
        [("x", "f32[1,1,2,3]"), ("g", "f32[1,7,9,2]")],
        [],
        "%r: f32[1,1,7,9] = aten.grid_sampler_2d.default(%x, %g, 0, 1, false)",
        ["r"]
    ));
    v
}

#[test]
fn grid_sample() {
    run_family("grid_sample", &grid_sample_cases());
}

/// `_cdist_forward` / `cdist` and `_pdist_forward` / `pdist`, which convert through their
/// decompositions (differences and a vector norm): p = 2, 1, inf, 0 and a fractional p,
/// broadcast batch dims, a dynamic batch.
fn distance_cases() -> Vec<Case> {
    vec![
        case!("cdist_p2_batched", [("a", "f32[2,3,4]"), ("b", "f32[1,5,4]")], [], "%r: f32[2,3,5] = aten._cdist_forward.default(%a, %b, 2.0, None)", ["r"]),
        case!("cdist_p1", [("a", "f32[3,4]"), ("b", "f32[2,4]")], [], "%r: f32[3,2] = aten._cdist_forward.default(%a, %b, 1.0, None)", ["r"]),
        case!("cdist_inf_and_0", [("a", "f32[3,2]"), ("b", "f32[4,2]")], [], "%r: f32[3,4] = aten._cdist_forward.default(%a, %b, inf, None)\n%s: f32[3,4] = aten._cdist_forward.default(%a, %b, 0.0, None)", ["r", "s"]),
        case!("cdist_public_dynamic", [("a", "f32[s0,3,2]"), ("b", "f32[s0,4,2]")], [], "%r: f32[s0,3,4] = aten.cdist.default(%a, %b, 2.0)", ["r"]),
        case!("pdist_p2", [("x", "f32[4,3]")], [], "%r: f32[6] = aten._pdist_forward.default(%x, 2.0)", ["r"]),
        case!("pdist_p1_5_public", [("x", "f32[3,5]")], [], "%r: f32[3] = aten.pdist.default(%x, 1.5)", ["r"]),
    ]
}

#[test]
fn distance() {
    run_family("distance", &distance_cases());
}

/// Data-dependent selections (issue 23): `nonzero` on every input type the converter takes
/// (f32 after a ReLU so that zeros occur, bf16, i32 and i64 with zeros, bool), of rank 0 to 3,
/// a dynamic dim, an empty input, its count read back as a size (`arange(u0)`), the export's
/// runtime assertions on that count; `nonzero_static` cut and padded; and the ops converting
/// through decompositions onto it: `argwhere`, `nonzero_numpy`, `masked_select` (broadcast
/// mask, 0-d operands).
fn select_cases() -> Vec<Case> {
    vec![
        case!("nonzero_bool_2d", [("m", "bool[3,4]")], [], "%r: i64[u0,2] = aten.nonzero.default(%m)", ["r"]),
        case!("nonzero_f32_3d", [("x", "f32[2,3,2]")], [], "%y: f32[2,3,2] = aten.relu.default(%x)\n%r: i64[u0,3] = aten.nonzero.default(%y)", ["r"]),
        case!("nonzero_i64_1d", [("x", "i64[7]")], [], "%r: i64[u0,1] = aten.nonzero.default(%x)", ["r"]),
        case!("nonzero_i32_and_bf16", [("x", "i32[2,5]"), ("y", "f32[6]")], [], "%r: i64[u0,2] = aten.nonzero.default(%x)\n%z: f32[6] = aten.relu.default(%y)\n%b: bf16[6] = aten._to_copy.default(%z, dtype=bf16)\n%s: i64[u1,1] = aten.nonzero.default(%b)", ["r", "s"]),
        case!("nonzero_0d", [("m", "bool[]"), ("x", "i32[]")], [], "%r: i64[u0,0] = aten.nonzero.default(%m)\n%s: i64[u1,0] = aten.nonzero.default(%x)", ["r", "s"]),
        case!("nonzero_empty", [("x", "f32[2,0]")], [], "%r: i64[0,2] = aten.nonzero.default(%x)", ["r"]),
        case!("nonzero_dynamic", [("x", "f32[s0,3]")], [], "%y: f32[s0,3] = aten.relu.default(%x)\n%r: i64[u0,2] = aten.nonzero.default(%y)", ["r"]),
        case!("nonzero_count_as_size", [("m", "bool[4,3]")], [], "%nz: i64[u0,2] = aten.nonzero.default(%m)
            %n: symint(u0) = aten.sym_size.int(%nz, 0)
            %eq: symbool = _operator.eq(%n, %n)
            aten._assert_scalar.default(%eq, \"u0 == u0\")
            %ne: symbool = _operator.ne(%n, 13)
            aten._assert_scalar.default(%ne, \"u0 != 13\")
            %lt: symbool = _operator.lt(%n, 13)
            aten._assert_scalar.default(%lt, \"u0 < 13\")
            %le: symbool = _operator.le(%n, 12)
            aten._assert_scalar.default(%le, \"u0 <= 12\")
            %gt: symbool = _operator.gt(%n, -1)
            aten._assert_scalar.default(%gt, \"u0 > -1\")
            %ge: symbool = _operator.ge(%n, 0)
            aten._assert_scalar.default(%ge, \"u0 >= 0\")
            %a: i64[u0] = aten.arange.default(%n, dtype=i64)
            %c: i64[u0] = aten.select.int(%nz, 1, 1)
            %r: i64[u0] = aten.add.Tensor(%a, %c)", ["r"]),
        case!("nonzero_static_pad_and_cut", [("x", "i64[3,2]")], [], "%r: i64[9,2] = aten.nonzero_static.default(%x, size=9, fill_value=-1)\n%s: i64[2,2] = aten.nonzero_static.default(%x, size=2)", ["r", "s"]),
        case!("nonzero_static_0d", [("m", "bool[]")], [], "%r: i64[3,0] = aten.nonzero_static.default(%m, size=3, fill_value=5)", ["r"]),
        case!("argwhere", [("m", "bool[2,3]")], [], "%r: i64[u0,2] = aten.argwhere.default(%m)", ["r"]),
        case!("nonzero_numpy", [("x", "i32[2,4]"), ("m", "bool[]")], [], "%a: i64[u0], %b: i64[u0] = aten.nonzero_numpy.default(%x)\n%c: i64[u1] = aten.nonzero_numpy.default(%m)", ["a", "b", "c"]),
        case!("masked_select_broadcast", [("x", "f32[2,3]"), ("m", "bool[3]")], [], "%r: f32[u0] = aten.masked_select.default(%x, %m)", ["r"]),
        case!("masked_select_0d", [("x", "i32[]"), ("m", "bool[]"), ("y", "f32[2,2]")], [], "%r: i32[u0] = aten.masked_select.default(%x, %m)\n%s: f32[u1] = aten.masked_select.default(%y, %m)", ["r", "s"]),
        case!("masked_select_dynamic", [("x", "f32[s0,2]"), ("m", "bool[s0,2]")], [], "%r: f32[u0] = aten.masked_select.default(%x, %m)", ["r"]),
    ]
}

#[test]
fn select() {
    run_family("select", &select_cases());
}

/// Embedding bags (issue 23), converting through their decomposition (comparisons with the
/// offsets, a gather, a one-hot matrix product, a masked max): sum with a padding row, mean
/// with an empty bag, max, per-sample weights on the fast sum path (empty `offset2bag`), the
/// public `padding_idx` overload with `include_last_offset` (padding -1 wraps to the last row),
/// int32 indices and offsets, and a dynamic number of indices. Offsets are computed in the
/// program (`arange`, clamped for an empty bag) since they must start at 0 and not decrease.
fn embedding_bag_cases() -> Vec<Case> {
    vec![
        case!("embedding_bag_sum_padding", [("w", "f32[5,3]"), ("i", "i64[6]")], [], "%o: i64[3] = aten.arange.start_step(0, 6, 2, dtype=i64)
            %out: f32[3,3], %o2b: i64[6], %bs: i64[3], %mi: i64[3] = aten._embedding_bag_forward_only.default(%w, %i, %o, false, 0, false, None, false, 1)", ["out", "o2b", "bs", "mi"]),
        case!("embedding_bag_mean_empty_bag", [("w", "f32[5,3]"), ("i", "i64[6]")], [], "%a: i64[3] = aten.arange.start_step(0, 6, 2, dtype=i64)
            %o: i64[3] = aten.clamp.default(%a, None, 2)
            %out: f32[3,3], %o2b: i64[6], %bs: i64[3], %mi: i64[3] = aten._embedding_bag_forward_only.default(%w, %i, %o, false, 1, false, None, false, 2)", ["out", "o2b", "bs", "mi"]),
        case!("embedding_bag_max", [("w", "f32[5,3]"), ("i", "i64[6]")], [], "%a: i64[3] = aten.arange.start_step(0, 6, 2, dtype=i64)
            %o: i64[3] = aten.clamp.default(%a, None, 2)
            %out: f32[3,3], %o2b: i64[6], %bs: i64[3], %mi: i64[3,3] = aten._embedding_bag.default(%w, %i, %o, false, 2, false, None, false, -1)", ["out", "o2b", "bs", "mi"]),
        case!("embedding_bag_per_sample_weights", [("w", "f32[5,3]"), ("i", "i64[6]"), ("p", "f32[6]")], [], "%o: i64[2] = aten.arange.start_step(0, 6, 3, dtype=i64)
            %out: f32[2,3], %o2b: i64[0], %bs: i64[2], %mi: i64[2] = aten._embedding_bag_forward_only.default(%w, %i, %o, false, 0, false, %p, false, -1)", ["out", "o2b", "bs", "mi"]),
        case!("embedding_bag_public_last_offset", [("w", "f32[5,3]"), ("i", "i64[6]")], [], "%a: i64[4] = aten.arange.start_step(0, 8, 2, dtype=i64)
            %o: i64[4] = aten.clamp.default(%a, None, 6)
            %out: f32[3,3], %o2b: i64[6], %bs: i64[4], %mi: i64[3] = aten.embedding_bag.padding_idx(%w, %i, %o, false, 1, false, None, true, -1)", ["out", "o2b", "bs", "mi"]),
        case!("embedding_bag_int32", [("w", "f32[5,3]"), ("i", "i32[6]")], [], "%o: i32[3] = aten.arange.start_step(0, 6, 2, dtype=i32)
            %j: i32[6] = aten.clamp.default(%i, 0, 4)
            %out: f32[3,3], %o2b: i32[6], %bs: i32[3], %mi: i32[3,3] = aten._embedding_bag_forward_only.default(%w, %j, %o, false, 2, false, None, false, -1)", ["out", "o2b", "bs", "mi"]),
        case!("embedding_bag_dynamic_indices", [("w", "f32[5,3]"), ("i", "i64[s0]")], [], "%o: i64[2] = aten.arange.start_step(0, 4, 2, dtype=i64)
            %out: f32[2,3], %o2b: i64[s0], %bs: i64[2], %mi: i64[2] = aten.embedding_bag.padding_idx(%w, %i, %o, false, 1, false, None, false, None)", ["out", "o2b", "bs", "mi"]),
    ]
}

#[test]
fn embedding_bag() {
    run_family("embedding_bag", &embedding_bag_cases());
}

/// The cases of every family.
fn all_cases() -> Vec<Case> {
    let mut v = elementwise_cases();
    v.extend(unary_cases());
    v.extend(reduce_norm_cases());
    v.extend(linalg_shape_cases());
    v.extend(more_elementwise_cases());
    v.extend(more_unary_cases());
    v.extend(more_reduce_norm_cases());
    v.extend(more_linalg_shape_cases());
    v.extend(misc_cases());
    v.extend(hop_cases());
    v.extend(decomposition_cases());
    v.extend(group_norm_cases());
    v.extend(index_cases());
    v.extend(engine_decomposition_cases());
    v.extend(batch_norm_cases());
    v.extend(parity_cases());
    v.extend(einsum_cases());
    v.extend(grid_sample_cases());
    v.extend(distance_cases());
    v.extend(views_and_composites_cases());
    v.extend(bool_reduce_resize_deconv_cases());
    v.extend(select_cases());
    v.extend(embedding_bag_cases());
    v
}
