//! Properties of `rewrite` on random programs: the output verifies (structure and types, the
//! pass manager's check after the pass), its DAG cost never exceeds the input's, and the CPU
//! executor computes the same results before and after: integers and bools exactly, floats
//! within a tight relative tolerance (reassociated f32 products may move the last bits).
//!
//! Two generators: `trtfx_ir::testgen`'s random well-typed programs (a general op mix with
//! subgraphs, multi-result ops and symbols), and a rule-rich one below that builds chains of
//! exactly the patterns the rules match (and the refusals next to them) on f32 and i64 inputs.
//! Case counts are modest; `PROPTEST_CASES` overrides them.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use trtfx_exec::interp::{exec_dtype, Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::testgen::{arb_program, GenConfig};
use trtfx_ir::{Arg, DimSpec, InputSpec, NodeBuilder, Program, ValueId, F64};
use trtfx_passes::{PassManager, PassRegistry};
use trtfx_rewrite::cost::graph_cost;

thread_local! {
    /// Programs the pass changed (to check that the generators exercise the rules).
    static CHANGED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn registry() -> PassRegistry {
    let mut r = PassRegistry::with_builtins();
    trtfx_rewrite::register(&mut r);
    r
}

fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        ..Config::default()
    }
}

/// SplitMix64 for input values.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
}

/// Inputs for the program's input specs (each symbol one small size in range).
fn make_inputs(p: &Program, seed: u64) -> Option<Vec<Value>> {
    let mut rng = Rng(seed);
    let mut sizes = std::collections::HashMap::new();
    let mut out = Vec::new();
    for spec in &p.input_specs {
        match spec {
            InputSpec::Tensor { dtype, dims, .. } => {
                let mut shape = Vec::new();
                for d in dims {
                    let s = match d {
                        DimSpec::Static(s) => *s,
                        DimSpec::Dynamic { sym, min, max, .. } => {
                            let hi = (*max).min(*min + 3);
                            match sym {
                                Some(s) => *sizes
                                    .entry(s.to_string())
                                    .or_insert_with(|| rng.range(*min, hi)),
                                None => rng.range(*min, hi),
                            }
                        }
                    };
                    shape.push(usize::try_from(s).ok()?);
                }
                let n: usize = shape.iter().product();
                let vals: Vec<f64> = (0..n).map(|_| rng.range(-256, 255) as f64 / 64.0).collect();
                out.push(Value::Tensor(
                    Tensor::from_f64s(&vals, shape, exec_dtype(*dtype)?).ok()?,
                ));
            }
            InputSpec::Scalar { range, .. } => {
                let (lo, hi) = range.unwrap_or((Some(0), Some(8)));
                let lo = lo.unwrap_or(0);
                out.push(Value::Int(rng.range(lo, hi.unwrap_or(lo + 8).min(lo + 8))));
            }
        }
    }
    Some(out)
}

fn close(a: f64, b: f64, rtol: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    a == b || (a - b).abs() <= rtol * a.abs().max(b.abs())
}

fn compare(before: &[Value], after: &[Value]) -> Result<(), String> {
    if before.len() != after.len() {
        return Err("output count differs".into());
    }
    for (i, (a, b)) in before.iter().zip(after).enumerate() {
        match (a, b) {
            (Value::Tensor(x), Value::Tensor(y)) => {
                if x.dtype() != y.dtype() || x.shape() != y.shape() {
                    return Err(format!("output {i}: dtype or shape differs"));
                }
                if x.dtype().is_float() {
                    let (xv, yv) = (x.to_f64_vec(), y.to_f64_vec());
                    if let Some(k) = (0..xv.len()).find(|&k| !close(xv[k], yv[k], 1e-5)) {
                        return Err(format!("output {i}[{k}]: {} vs {}", xv[k], yv[k]));
                    }
                } else if x.to_i64_vec() != y.to_i64_vec() {
                    return Err(format!("output {i}: integers differ"));
                }
            }
            (x, y) if format!("{x:?}") == format!("{y:?}") => {}
            (x, y) => return Err(format!("output {i}: {x:?} vs {y:?}")),
        }
    }
    Ok(())
}

/// Runs `rewrite` on `p` and checks the three properties. `Ok(false)` when the executor could
/// not run `p` at all (skipped).
fn check(reg: &PassRegistry, p: &Program, seed: u64) -> Result<bool, TestCaseError> {
    let Some(inputs) = make_inputs(p, seed) else {
        return Ok(false);
    };
    let Ok(before) = Executor::new(p).run(&inputs) else {
        return Ok(false);
    };
    let mut q = p.clone();
    // The manager verifies structure and types after the pass.
    let mut pm = PassManager::parse(reg, "rewrite")
        .unwrap()
        .verify_types(true);
    pm.run(&mut q).map_err(|e| {
        TestCaseError::fail(format!(
            "rewrite failed: {e}\n{}",
            trtfx_ir::print_program(p)
        ))
    })?;
    for (gid, g) in q.graphs.iter() {
        let (c0, c1) = (graph_cost(p, gid, &p.graphs[gid]), graph_cost(&q, gid, g));
        prop_assert!(
            c1 <= c0,
            "cost went up {c0} -> {c1}\nbefore:\n{}\nafter:\n{}",
            trtfx_ir::print_program(p),
            trtfx_ir::print_program(&q)
        );
    }
    let after = Executor::new(&q).run(&inputs).map_err(|e| {
        TestCaseError::fail(format!(
            "rewritten program does not run: {e}\n{}",
            trtfx_ir::print_program(&q)
        ))
    })?;
    if trtfx_ir::print_program(p) != trtfx_ir::print_program(&q) {
        CHANGED.with(|c| c.set(c.get() + 1));
    }
    compare(&before, &after).map_err(|e| {
        TestCaseError::fail(format!(
            "results changed: {e}\nbefore:\n{}\nafter:\n{}",
            trtfx_ir::print_program(p),
            trtfx_ir::print_program(&q)
        ))
    })?;
    Ok(true)
}

#[test]
fn testgen_programs() {
    let reg = registry();
    let mut runner = TestRunner::new(config(64));
    let ran = std::cell::Cell::new(0);
    runner
        .run(
            &(arb_program(GenConfig::default()), any::<u64>()),
            |(p, seed)| {
                if check(&reg, &p, seed)? {
                    ran.set(ran.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap();
    let changed = CHANGED.with(|c| c.get());
    eprintln!(
        "testgen_programs: {} run, {changed} changed by rewrite",
        ran.get()
    );
    assert!(ran.get() > 0, "no random program could be run");
}

/// A rule-rich random program: two chains (f32 and i64) over `[2,3,4]` inputs; each step reads
/// a choice and appends one pattern the rules know (or a refusal).
fn rule_program(choices: &[u8]) -> Program {
    let src = r#"
input "x": f32[2,3,4]
input "i": i64[2,3,4]
graph @main(%x: f32[2,3,4] = user "x", %i: i64[2,3,4] = user "i") -> (user, user) {
  output (%x, %i)
}
"#;
    let mut p = trtfx_ir::parse_program(src).expect("template parses");
    let reg = trtfx_ir::aten::registry();
    let g = &mut p.graphs[p.main];
    let out = g.output_node().unwrap();
    let ins = g.input_values();
    let mut stacks: [Vec<ValueId>; 2] = [vec![ins[0]], vec![ins[1]]];
    let mut k = 0usize;
    let mut push = |g: &mut trtfx_ir::Graph, target: &str, args: Vec<Arg>| -> Option<ValueId> {
        let f = reg.get(target)?.infer.clone()?;
        let ty = {
            let type_of = |v: ValueId| g.ty(v).clone();
            let ia = trtfx_ir::InferArgs {
                args: &args,
                kwargs: &[],
                type_of: &type_of,
            };
            f(&ia).ok()?.into_iter().next()?
        };
        k += 1;
        let n = g.insert_before(
            out,
            NodeBuilder::call(target)
                .args(args)
                .result(format!("v{k}"), ty),
        );
        Some(g.node(n).results[0])
    };
    let fl = |x: f64| Arg::Float(F64(x));
    for (step, &c) in choices.iter().enumerate() {
        let which = step % 2;
        let st = &stacks[which];
        let x = *st.last().unwrap();
        let y = st[(c as usize / 16) % st.len()];
        let is_f = which == 0;
        let rank = g.ty(x).as_tensor().unwrap().rank();
        let shape = g.ty(x).as_tensor().unwrap().static_shape().unwrap();
        let vx = Arg::Value(x);
        let mut r = match c % 14 {
            0 => push(g, "aten.neg.default", vec![vx]),
            1 => push(g, "aten.mul.Tensor", vec![vx, Arg::Int(1)]),
            2 if is_f => push(g, "aten.sub.Tensor", vec![vx, fl(0.0)]),
            2 => push(g, "aten.add.Tensor", vec![vx, Arg::Int(0)]),
            3 => {
                let mut perm: Vec<i64> = (0..rank as i64).collect();
                perm.rotate_left(1 + c as usize % rank.max(1));
                push(
                    g,
                    "aten.permute.default",
                    vec![vx, Arg::List(perm.into_iter().map(Arg::Int).collect())],
                )
            }
            4 => {
                let n: i64 = shape.iter().product();
                let a = push(
                    g,
                    "aten.view.default",
                    vec![vx, Arg::List(vec![Arg::Int(n)])],
                );
                a.and_then(|a| {
                    push(
                        g,
                        "aten.reshape.default",
                        vec![
                            Arg::Value(a),
                            Arg::List(shape.iter().map(|&d| Arg::Int(d)).collect()),
                        ],
                    )
                })
            }
            5 => {
                // A lossless widening and back (collapses), or a lossy narrowing (refused).
                let (wide, narrow) = if is_f {
                    (trtfx_ir::DType::F64, trtfx_ir::DType::F16)
                } else {
                    (trtfx_ir::DType::I64, trtfx_ir::DType::I32)
                };
                let back = g.ty(x).as_tensor().unwrap().dtype;
                let mid = if c % 28 < 14 { wide } else { narrow };
                let a = push(
                    g,
                    "prims.convert_element_type.default",
                    vec![vx, Arg::DType(mid)],
                );
                a.and_then(|a| {
                    push(
                        g,
                        "prims.convert_element_type.default",
                        vec![Arg::Value(a), Arg::DType(back)],
                    )
                })
            }
            6 if g.ty(x) == g.ty(y) => push(g, "aten.add.Tensor", vec![vx, Arg::Value(y)]),
            7 => {
                let a = push(
                    g,
                    "aten.cat.default",
                    vec![Arg::List(vec![vx.clone(), vx]), Arg::Int(0)],
                );
                a.and_then(|a| {
                    push(
                        g,
                        "aten.slice.Tensor",
                        vec![
                            Arg::Value(a),
                            Arg::Int(0),
                            Arg::Int(shape[0]),
                            Arg::Int(2 * shape[0]),
                        ],
                    )
                })
            }
            8 => {
                let (a, b) = if is_f {
                    (fl(2.0), fl(0.5))
                } else {
                    (Arg::Int(3), Arg::Int(-2))
                };
                let m = push(g, "aten.mul.Tensor", vec![vx, a]);
                m.and_then(|m| push(g, "aten.mul.Tensor", vec![Arg::Value(m), b]))
            }
            9 => push(g, "aten.transpose.int", vec![vx, Arg::Int(0), Arg::Int(1)]),
            10 => push(g, "aten.sub.Tensor", vec![vx.clone(), vx]),
            11 if !is_f => {
                let m = push(g, "aten.add.Tensor", vec![vx, Arg::Int(5)]);
                m.and_then(|m| push(g, "aten.add.Tensor", vec![Arg::Value(m), Arg::Int(-7)]))
            }
            12 => {
                let mut sizes: Vec<Arg> = shape.iter().map(|&d| Arg::Int(d)).collect();
                sizes.insert(0, Arg::Int(1));
                let e = push(g, "aten.expand.default", vec![vx, Arg::List(sizes.clone())]);
                sizes[0] = Arg::Int(2);
                sizes[1] = Arg::Int(-1);
                let e = e.and_then(|e| {
                    push(
                        g,
                        "aten.expand.default",
                        vec![Arg::Value(e), Arg::List(sizes)],
                    )
                });
                e.and_then(|e| {
                    push(
                        g,
                        "aten.sum.dim_IntList",
                        vec![Arg::Value(e), Arg::List(vec![Arg::Int(0)])],
                    )
                })
            }
            _ => push(g, "aten.relu.default", vec![vx]),
        };
        if r.is_none() {
            r = push(g, "aten.relu.default", vec![Arg::Value(x)]);
        }
        stacks[which].push(r.expect("relu always types"));
    }
    let outs = vec![
        Arg::Value(*stacks[0].last().unwrap()),
        Arg::Value(*stacks[1].last().unwrap()),
    ];
    g.set_args(out, outs, vec![]);
    p
}

#[test]
fn rule_rich_programs() {
    let reg = registry();
    let mut runner = TestRunner::new(config(96));
    runner
        .run(
            &(proptest::collection::vec(any::<u8>(), 1..24), any::<u64>()),
            |(choices, seed)| {
                let p = rule_program(&choices);
                trtfx_ir::verify_types_with(&p, trtfx_ir::aten::registry()).map_err(|d| {
                    TestCaseError::fail(format!(
                        "generated program does not verify: {}",
                        trtfx_ir::verify::render(&d)
                    ))
                })?;
                prop_assert!(
                    check(&reg, &p, seed)?,
                    "the executor must run generated programs"
                );
                Ok(())
            },
        )
        .unwrap();
    let changed = CHANGED.with(|c| c.get());
    eprintln!("rule_rich_programs: {changed} changed by rewrite");
    assert!(
        changed > 0,
        "the rule-rich generator never triggered a rewrite"
    );
}
