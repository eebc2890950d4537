//! Table-driven converter tests: one small program per case, converted with the standard
//! registry. Every recorded network is snapshotted (one file per family), emulated on random
//! inputs against the CPU executor (f32 rtol/atol 5e-3, ints and bools exact), and, with the
//! `tensorrt` feature and the library present, built into a TensorRT-RTX plan.

use std::fmt::Write as _;

use trtfx_backend_trt::convert::ConverterRegistry;
use trtfx_backend_trt::emulator::emulate;
use trtfx_backend_trt::engine::convert_graph;
use trtfx_backend_trt::RecordedNetwork;
use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::{parse_program, DType, Program, Weight};

/// One case: name, inputs `(name, type, int range)`, weights `(name, type)`, body, #outputs.
struct Case {
    name: &'static str,
    inputs: &'static [(&'static str, &'static str)],
    weights: &'static [(&'static str, &'static str)],
    body: &'static str,
    outputs: &'static [&'static str],
}

macro_rules! case {
    ($name:expr, [$(($i:expr, $t:expr)),*], [$(($w:expr, $wt:expr)),*], $body:expr, [$($o:expr),*]) => {
        Case { name: $name, inputs: &[$(($i, $t)),*], weights: &[$(($w, $wt)),*], body: $body, outputs: &[$($o),*] }
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
    for l in c.body.lines().filter(|l| !l.trim().is_empty()) {
        writeln!(s, "    {}", l.trim()).unwrap();
    }
    let outs: Vec<String> = c.outputs.iter().map(|o| format!("%{o}")).collect();
    writeln!(s, "    output ({})\n  }}\n}}", outs.join(", ")).unwrap();
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

/// Converts, snapshots, emulates and (when possible) builds every case of a family.
fn run_family(family: &str, cases: &[Case]) {
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
        let want = Executor::new(&p)
            .run(&ins.iter().cloned().map(Value::Tensor).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("{}: executor: {e}", c.name));
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
        if let Err(e) = build_plan(lib, net, &Default::default()) {
            failures.push(format!("{name}: TensorRT build: {e}"));
        }
    }
}

#[cfg(not(feature = "tensorrt"))]
fn build_all(_: &[(&str, RecordedNetwork)], _: &mut Vec<String>) {
    eprintln!("TensorRT build skipped: built without the `tensorrt` feature");
}

#[test]
fn elementwise() {
    run_family(
        "elementwise",
        &[
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
        ],
    );
}

#[test]
fn unary() {
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
    run_family("unary", &cases);
}

#[test]
fn reductions_and_norms() {
    run_family(
        "reduce_norm",
        &[
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
        ],
    );
}

#[test]
fn linalg_and_shapes() {
    run_family(
        "linalg_shape",
        &[
            case!("conv2d", [("x", "f32[1,3,5,5]")], [("w", "f32[4,3,3,3]"), ("b", "f32[4]")], "%r: f32[1,4,5,5] = aten.convolution.default(%x, %w, %b, [1, 1], [1, 1], [1, 1], false, [0, 0], 1)", ["r"]),
            case!("conv1d_grouped", [("x", "f32[2,4,7]")], [("w", "f32[4,2,3]")], "%r: f32[2,4,3] = aten.conv1d.default(%x, %w, None, [2], [0], [1], 2)", ["r"]),
            case!("conv2d_dyn", [("x", "f32[s0,3,4,4]")], [("w", "f32[2,3,1,1]")], "%r: f32[s0,2,4,4] = aten.conv2d.default(%x, %w)", ["r"]),
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
        ],
    );
}

#[test]
fn validators_give_reasons() {
    let reg = ConverterRegistry::standard();
    let cases = [
        case!("transposed", [("x", "f32[1,3,5,5]")], [("w", "f32[3,4,3,3]")], "%r: f32[1,4,7,7] = aten.convolution.default(%x, %w, None, [1, 1], [0, 0], [1, 1], true, [0, 0], 1)", ["r"]),
        case!("f64", [("x", "f64[3]")], [], "%r: f64[3] = aten.relu.default(%x)", ["r"]),
        case!("i64_matmul", [("x", "i64[2,2]"), ("y", "i64[2,2]")], [], "%r: i64[2,2] = aten.mm.default(%x, %y)", ["r"]),
        case!("unknown", [("x", "f32[3]")], [], "%r: f32[3] = aten.digamma.default(%x)", ["r"]),
        case!("indices_used", [("x", "f32[1,1,4,4]")], [], "%r: f32[1,1,2,2], %i: i64[1,1,2,2] = aten.max_pool2d_with_indices.default(%x, [2, 2])", ["r", "i"]),
    ];
    let mut out = String::new();
    for c in &cases {
        let p = program(c);
        let g = p.main_graph();
        for n in g.nodes() {
            if g.node(n).op.target().is_some() {
                writeln!(out, "{}: {:?}", c.name, reg.check(g, n)).unwrap();
            }
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
