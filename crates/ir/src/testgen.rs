//! Random well-typed programs for property tests, and mutations that break them.
//!
//! Programs are built deterministically from a *choice stream* (a `Vec<u32>`): every decision
//! the builder makes reads the next choice, and a missing choice reads as 0, which always picks
//! the simplest option. proptest generates and shrinks the stream, so a failing case shrinks to
//! a short stream, that is to a small program, without a hand-written shrinker.
//!
//! Generated programs have: symbols with ranges; user inputs with symbolic and static dims and
//! their input specs; parameters and buffers with real little-endian bytes; a `get_attr`
//! constant; calls of a small op set with correct result types (unary, binary, reductions with
//! `keepdim`, `permute`, multi-output `max.dim`, `sym_size.int`, literal-heavy `full`/`clamp`/
//! `div.Tensor_mode`, `cat` producing expression dims); a `higher_order.cond` with two branch
//! subgraphs (`Arg::Graph`) and `call_graph` calls of outlined subgraphs. [`test_registry`]
//! describes every generated op so schema checks run on them.

use crate::dim::{Dim, SymName};
use crate::dtype::DType;
use crate::graph::{Arg, Graph, NodeBuilder, NodeId, Op, ValueId, F64};
use crate::ops::{BaseType, InferArgs, OpDef, OpProps, OpRegistry, Schema, SchemaArg, SchemaType};
use crate::program::{DimSpec, InputKind, InputSpec, OutputKind, Program, SymKind, Symbol, Weight};
use crate::types::{Shape, TensorType, Type};
use cranelift_entity::EntityRef;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// Size limits of generated programs.
#[derive(Clone, Copy, Debug)]
pub struct GenConfig {
    /// Most op steps in the main graph (at least 2 are always generated).
    pub max_ops: usize,
    /// Most user tensor inputs (at least 1).
    pub max_inputs: usize,
    /// Most parameters.
    pub max_params: usize,
    /// Whether `higher_order.cond` and `call_graph` (subgraphs) may appear.
    pub subgraphs: bool,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            max_ops: 12,
            max_inputs: 3,
            max_params: 2,
            subgraphs: true,
        }
    }
}

/// Random well-typed programs that pass [`crate::verify::verify_program`] (with or without
/// [`test_registry`]).
pub fn arb_program(cfg: GenConfig) -> impl Strategy<Value = Program> {
    // Enough choices for every decision of a full-size program; shorter streams read zeros.
    proptest::collection::vec(any::<u32>(), 0..cfg.max_ops * 16 + 80)
        .prop_map(move |choices| build_program(&cfg, &choices))
}

/// Reads choices; past the end every choice is 0 (the simplest option).
struct Chooser<'a> {
    data: &'a [u32],
    i: usize,
}

impl Chooser<'_> {
    fn next(&mut self) -> u32 {
        let v = self.data.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        v
    }

    /// A number in `0..n` (0 when `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        let v = self.next() as usize;
        if n == 0 {
            0
        } else {
            v % n
        }
    }

    fn flag(&mut self) -> bool {
        self.below(2) == 1
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Float literals that stress printing and serialization: signed zero, infinities, tiny and
/// huge magnitudes, non-terminating binary fractions.
const FLOATS: [f64; 10] = [
    0.5,
    -0.0,
    1.0,
    -1.5,
    0.1,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-30,
    -3.4e38,
    2.5e300,
];

/// Unique names per program (FX names are unique per graph; unique per program is stricter and
/// keeps generated subgraph bodies readable).
#[derive(Default)]
struct Names(HashMap<String, usize>);

impl Names {
    fn fresh(&mut self, base: &str) -> String {
        let k = self.0.entry(base.to_string()).or_insert(0);
        let name = if *k == 0 {
            base.to_string()
        } else {
            format!("{base}_{k}")
        };
        *k += 1;
        name
    }
}

struct Builder<'a> {
    c: Chooser<'a>,
    names: Names,
    p: Program,
    /// Float tensors usable as op inputs.
    pool: Vec<(ValueId, TensorType)>,
    /// Other values (indices, predicates): only returned.
    extra: Vec<ValueId>,
    /// SymInt values with the dims they equal.
    symints: Vec<(ValueId, Dim)>,
}

fn tensor(t: &TensorType) -> Type {
    Type::Tensor(t.clone())
}

fn call1(g: &mut Graph, target: &str, args: Vec<Arg>, name: String, ty: Type) -> ValueId {
    let n = g.append(
        NodeBuilder::call(target)
            .args(args)
            .result(name.clone(), ty)
            .name(name),
    );
    g.node(n).results[0]
}

/// Builds the program a choice stream describes (deterministic; see the module docs).
pub fn build_program(cfg: &GenConfig, choices: &[u32]) -> Program {
    let mut b = Builder {
        c: Chooser {
            data: choices,
            i: 0,
        },
        names: Names::default(),
        p: Program::new(),
        pool: Vec::new(),
        extra: Vec::new(),
        symints: Vec::new(),
    };
    let mut g = Graph::new("main");

    // Symbols: s0 always (so symbolic dims are common), s1 sometimes.
    let mut syms: Vec<SymName> = Vec::new();
    let n_syms = 1 + b.c.below(2);
    for i in 0..n_syms {
        let min = b.c.pick(&[1i64, 2]);
        let max = b.c.pick(&[64i64, 8, 1024]);
        let name: SymName = Arc::from(format!("s{i}"));
        b.p.declare_symbol(
            name.clone(),
            Symbol {
                kind: SymKind::Size,
                min: Some(min),
                max: Some(max),
                hint: Some(min + 1),
            },
        );
        syms.push(name);
    }

    // Parameters and buffers come first, as torch.export orders them.
    let n_params = b.c.below(cfg.max_params + 1);
    for k in 0..n_params {
        let rank = 1 + b.c.below(2);
        let shape: Vec<i64> = (0..rank).map(|_| 1 + b.c.below(4) as i64).collect();
        let target = format!("layer{k}.weight");
        add_weight_placeholder(
            &mut b,
            &mut g,
            InputKind::Parameter {
                target: target.clone(),
            },
            &target,
            DType::F32,
            shape,
        );
    }
    if b.c.below(3) == 1 {
        let shape = vec![1 + b.c.below(4) as i64];
        let persistent = b.c.flag();
        add_weight_placeholder(
            &mut b,
            &mut g,
            InputKind::Buffer {
                target: "running_mean".into(),
                persistent,
            },
            "running_mean",
            DType::F32,
            shape,
        );
    }

    // User tensor inputs; the first has s0 as its leading dim.
    let n_inputs = 1 + b.c.below(cfg.max_inputs.max(1));
    for k in 0..n_inputs {
        let rank = 1 + b.c.below(3);
        let dtype = b.c.pick(&[DType::F32, DType::F32, DType::F16, DType::BF16]);
        let mut shape = Shape::new();
        let mut dims = Vec::new();
        for ax in 0..rank {
            let choice = if k == 0 && ax == 0 { 1 } else { b.c.below(3) };
            if choice == 0 || syms.len() < choice {
                let c = 1 + b.c.below(5) as i64;
                shape.push(Dim::constant(c));
                dims.push(DimSpec::Static(c));
            } else {
                let s = syms[choice - 1].clone();
                let sym = &b.p.symbols[&s];
                dims.push(DimSpec::Dynamic {
                    sym: Some(s.clone()),
                    min: sym.min.unwrap_or(1),
                    opt: sym.hint.unwrap_or(1),
                    max: sym.max.unwrap_or(1 << 20),
                });
                shape.push(Dim::sym(s));
            }
        }
        let name = b.names.fresh(&format!("x{k}"));
        let t = TensorType::new(dtype, shape);
        let n = g.append(NodeBuilder::new(Op::Placeholder).result(name.clone(), tensor(&t)));
        b.pool.push((g.node(n).results[0], t));
        b.p.signature
            .inputs
            .push(InputKind::User { name: name.clone() });
        b.p.input_specs
            .push(InputSpec::Tensor { name, dtype, dims });
    }

    // Sometimes a dynamic int input: a placeholder of type symint(s) with a scalar spec.
    if b.c.below(3) == 2 {
        let s: SymName = Arc::from("n0");
        b.p.declare_symbol(
            s.clone(),
            Symbol {
                kind: SymKind::Int,
                min: Some(0),
                max: Some(100),
                hint: Some(5),
            },
        );
        let name = b.names.fresh("n");
        let ty = Type::SymInt(Some(Dim::sym(s.clone())));
        let n = g.append(NodeBuilder::new(Op::Placeholder).result(name.clone(), ty));
        b.symints.push((g.node(n).results[0], Dim::sym(s)));
        b.p.signature
            .inputs
            .push(InputKind::User { name: name.clone() });
        b.p.input_specs.push(InputSpec::Scalar {
            name,
            dtype: DType::I64,
            range: Some((Some(0), Some(100))),
        });
    }

    // A lifted constant read with get_attr (not in the signature, as for a constant attribute).
    if b.c.below(3) == 1 {
        let shape = vec![1 + b.c.below(3) as i64];
        let w = weight_with_bytes(DType::F32, shape.clone());
        b.p.weights.insert("_tensor_constant0".into(), w);
        let name = b.names.fresh("_tensor_constant0");
        let t = TensorType::new(DType::F32, crate::types::static_shape(&shape));
        let n = g.append(
            NodeBuilder::new(Op::GetAttr {
                target: "_tensor_constant0".into(),
            })
            .result(name, tensor(&t)),
        );
        b.pool.push((g.node(n).results[0], t));
    }

    let n_ops = 2 + b.c.below(cfg.max_ops.saturating_sub(1).max(1));
    let mut last = b.pool.last().map(|x| x.0);
    for _ in 0..n_ops {
        last = Some(gen_op(&mut b, &mut g, cfg).unwrap_or_else(|| unary(&mut b, &mut g)));
    }

    // Outputs: the last result, plus a few others.
    let mut outs = vec![last.expect("there is always an input")];
    for _ in 0..b.c.below(3) {
        let k = b.c.below(b.pool.len() + b.extra.len());
        let v = if k < b.pool.len() {
            b.pool[k].0
        } else {
            b.extra[k - b.pool.len()]
        };
        outs.push(v);
    }
    for _ in &outs {
        b.p.signature.outputs.push(OutputKind::User);
    }
    g.append(
        NodeBuilder::new(Op::Output)
            .args(outs.into_iter().map(Arg::Value).collect())
            .name("output"),
    );
    let main = b.p.main;
    b.p.graphs[main] = g;
    b.p
}

fn weight_with_bytes(dtype: DType, shape: Vec<i64>) -> Weight {
    let numel: i64 = shape.iter().product();
    let bytes: Vec<u8> = (0..numel)
        .flat_map(|i| (i as f32 * 0.5 - 1.0).to_le_bytes())
        .collect();
    debug_assert_eq!(dtype, DType::F32);
    Weight::from_bytes(dtype, shape, bytes)
}

fn add_weight_placeholder(
    b: &mut Builder<'_>,
    g: &mut Graph,
    kind: InputKind,
    target: &str,
    dtype: DType,
    shape: Vec<i64>,
) {
    b.p.weights
        .insert(target.to_string(), weight_with_bytes(dtype, shape.clone()));
    let name = b.names.fresh(&format!("p_{}", target.replace('.', "_")));
    let t = TensorType::new(dtype, crate::types::static_shape(&shape));
    let n = g.append(NodeBuilder::new(Op::Placeholder).result(name, tensor(&t)));
    b.pool.push((g.node(n).results[0], t));
    b.p.signature.inputs.push(kind);
}

fn pick_tensor(b: &mut Builder<'_>) -> (ValueId, TensorType) {
    let k = b.c.below(b.pool.len());
    b.pool[k].clone()
}

/// Another pool tensor of exactly type `t`, or `v` itself.
fn partner(b: &mut Builder<'_>, v: ValueId, t: &TensorType) -> ValueId {
    let same: Vec<ValueId> = b
        .pool
        .iter()
        .filter(|(_, u)| u == t)
        .map(|(x, _)| *x)
        .collect();
    if same.is_empty() {
        v
    } else {
        b.c.pick(&same)
    }
}

fn push(b: &mut Builder<'_>, v: ValueId, t: TensorType) -> ValueId {
    b.pool.push((v, t));
    v
}

fn unary(b: &mut Builder<'_>, g: &mut Graph) -> ValueId {
    let (x, t) = pick_tensor(b);
    let (target, base) = if b.c.flag() {
        ("aten.neg.default", "neg")
    } else {
        ("aten.relu.default", "relu")
    };
    let name = b.names.fresh(base);
    let v = call1(g, target, vec![Arg::Value(x)], name, tensor(&t));
    push(b, v, t)
}

/// Normalizes a possibly negative axis the way ATen does.
fn axis(b: &mut Builder<'_>, rank: usize) -> (usize, i64) {
    let d = b.c.below(rank);
    let written = if b.c.flag() {
        d as i64 - rank as i64
    } else {
        d as i64
    };
    (d, written)
}

fn reduced(t: &TensorType, d: usize, keepdim: bool, dtype: DType) -> TensorType {
    let mut shape = t.shape.clone();
    if keepdim {
        shape[d] = Dim::constant(1);
    } else {
        shape.remove(d);
    }
    TensorType::new(dtype, shape)
}

/// One op step; `None` when the chosen op does not apply (the caller emits a unary op).
fn gen_op(b: &mut Builder<'_>, g: &mut Graph, cfg: &GenConfig) -> Option<ValueId> {
    let kinds = if cfg.subgraphs { 14 } else { 12 };
    match b.c.below(kinds) {
        0 | 1 => Some(unary(b, g)),
        2 | 3 => {
            let (x, t) = pick_tensor(b);
            let y = partner(b, x, &t);
            let add = b.c.flag();
            let (target, base) = if add {
                ("aten.add.Tensor", "add")
            } else {
                ("aten.mul.Tensor", "mul")
            };
            let mut nb = NodeBuilder::call(target).args(vec![Arg::Value(x), Arg::Value(y)]);
            if add && b.c.flag() {
                nb = nb.kwarg("alpha", b.c.pick(&[Arg::Int(2), Arg::Float(F64(-0.5))]));
            }
            let name = b.names.fresh(base);
            let n = g.append(nb.result(name.clone(), tensor(&t)).name(name));
            Some(push(b, g.node(n).results[0], t))
        }
        4 => {
            let (x, t) = pick_tensor(b);
            if t.rank() == 0 {
                return None;
            }
            let (d, written) = axis(b, t.rank());
            let keepdim = b.c.flag();
            let mut args = vec![Arg::Value(x), Arg::List(vec![Arg::Int(written)])];
            // keepdim=False may be omitted, as export does for defaults.
            if keepdim || b.c.flag() {
                args.push(Arg::Bool(keepdim));
            }
            let mut nb = NodeBuilder::call("aten.sum.dim_IntList").args(args);
            match b.c.below(3) {
                1 => nb = nb.kwarg("dtype", Arg::DType(t.dtype)),
                2 => nb = nb.kwarg("dtype", Arg::None),
                _ => {}
            }
            let rt = reduced(&t, d, keepdim, t.dtype);
            let name = b.names.fresh("sum");
            let n = g.append(nb.result(name.clone(), tensor(&rt)).name(name));
            Some(push(b, g.node(n).results[0], rt))
        }
        5 => {
            let (x, t) = pick_tensor(b);
            // A random permutation by repeated picking.
            let mut rest: Vec<usize> = (0..t.rank()).collect();
            let mut perm = Vec::new();
            while !rest.is_empty() {
                let k = b.c.below(rest.len());
                perm.push(rest.remove(k));
            }
            let shape: Shape = perm.iter().map(|&i| t.shape[i].clone()).collect();
            let rt = TensorType::new(t.dtype, shape);
            let name = b.names.fresh("permute");
            let list = Arg::List(perm.iter().map(|&i| Arg::Int(i as i64)).collect());
            let v = call1(
                g,
                "aten.permute.default",
                vec![Arg::Value(x), list],
                name,
                tensor(&rt),
            );
            Some(push(b, v, rt))
        }
        6 => {
            let (x, t) = pick_tensor(b);
            if t.rank() == 0 {
                return None;
            }
            let (d, written) = axis(b, t.rank());
            let keepdim = b.c.flag();
            let vt = reduced(&t, d, keepdim, t.dtype);
            let it = reduced(&t, d, keepdim, DType::I64);
            let name = b.names.fresh("max");
            let n = g.append(
                NodeBuilder::call("aten.max.dim")
                    .args(vec![Arg::Value(x), Arg::Int(written), Arg::Bool(keepdim)])
                    .result(format!("{name}_values"), tensor(&vt))
                    .result(format!("{name}_indices"), tensor(&it))
                    .name(name),
            );
            let r = g.node(n).results.clone();
            b.extra.push(r[1]);
            Some(push(b, r[0], vt))
        }
        7 => {
            let (x, t) = pick_tensor(b);
            if t.rank() == 0 {
                return None;
            }
            let (d, written) = axis(b, t.rank());
            let name = b.names.fresh("sym_size_int");
            let dim = t.shape[d].clone();
            let v = call1(
                g,
                "aten.sym_size.int",
                vec![Arg::Value(x), Arg::Int(written)],
                name,
                Type::SymInt(Some(dim.clone())),
            );
            b.symints.push((v, dim));
            b.extra.push(v);
            // The generated op's result is not a pool tensor; follow with a unary op so the step
            // still ends in a tensor.
            None
        }
        8 => {
            // full(size, fill, *, dtype, layout, device, pin_memory): literals of every kind.
            let mut size = Vec::new();
            let mut shape = Shape::new();
            for _ in 0..1 + b.c.below(2) {
                if !b.symints.is_empty() && b.c.flag() {
                    let (v, d) = b.c.pick(&b.symints.clone());
                    size.push(Arg::Value(v));
                    shape.push(d);
                } else {
                    let k = 1 + b.c.below(4) as i64;
                    size.push(Arg::Int(k));
                    shape.push(Dim::constant(k));
                }
            }
            let fill = Arg::Float(F64(b.c.pick(&FLOATS)));
            let rt = TensorType::new(DType::F32, shape);
            let mut nb = NodeBuilder::call("aten.full.default")
                .args(vec![Arg::List(size), fill])
                .kwarg("dtype", Arg::DType(DType::F32));
            if b.c.flag() {
                nb = nb
                    .kwarg("layout", Arg::Layout("strided".into()))
                    .kwarg(
                        "device",
                        Arg::Device(b.c.pick(&["cpu".into(), "cuda:0".into()])),
                    )
                    .kwarg("pin_memory", b.c.pick(&[Arg::Bool(false), Arg::None]));
            }
            let name = b.names.fresh("full");
            let n = g.append(nb.result(name.clone(), tensor(&rt)).name(name));
            Some(push(b, g.node(n).results[0], rt))
        }
        9 => {
            let (x, t) = pick_tensor(b);
            let bound = |b: &mut Builder<'_>| match b.c.below(3) {
                0 => Arg::None,
                1 => Arg::Int(b.c.below(5) as i64 - 2),
                _ => Arg::Float(F64(b.c.pick(&FLOATS))),
            };
            let lo = bound(b);
            let hi = bound(b);
            let mut args = vec![Arg::Value(x), lo];
            if hi != Arg::None {
                args.push(hi);
            }
            let name = b.names.fresh("clamp");
            let v = call1(g, "aten.clamp.default", args, name, tensor(&t));
            Some(push(b, v, t))
        }
        10 => {
            let (x, t) = pick_tensor(b);
            let y = partner(b, x, &t);
            let mode = b.c.pick(&[
                Arg::Str("floor".into()),
                Arg::Str("trunc".into()),
                Arg::None,
                Arg::Str("odd \"quoted\" \\ name\n".into()),
            ]);
            let name = b.names.fresh("div");
            let n = g.append(
                NodeBuilder::call("aten.div.Tensor_mode")
                    .args(vec![Arg::Value(x), Arg::Value(y)])
                    .kwarg("rounding_mode", mode)
                    .result(name.clone(), tensor(&t))
                    .name(name),
            );
            Some(push(b, g.node(n).results[0], t))
        }
        11 => {
            let (x, t) = pick_tensor(b);
            if t.rank() == 0 {
                return None;
            }
            let y = partner(b, x, &t);
            let (d, written) = axis(b, t.rank());
            let mut shape = t.shape.clone();
            shape[d] = shape[d].scale(2);
            let rt = TensorType::new(t.dtype, shape);
            let mut args = vec![Arg::List(vec![Arg::Value(x), Arg::Value(y)])];
            if written != 0 || b.c.flag() {
                args.push(Arg::Int(written));
            }
            let name = b.names.fresh("cat");
            let v = call1(g, "aten.cat.default", args, name, tensor(&rt));
            Some(push(b, v, rt))
        }
        12 => Some(gen_cond(b, g)),
        _ => Some(gen_call_graph(b, g)),
    }
}

/// A subgraph taking `params` and applying one unary op (and maybe more) to the first.
fn gen_subgraph(
    b: &mut Builder<'_>,
    base: &str,
    params: &[TensorType],
    target: &str,
    extra_out: bool,
) -> (Graph, Vec<Type>) {
    let gname = b.names.fresh(base);
    let mut sg = Graph::new(gname);
    let mut vals = Vec::new();
    for (i, t) in params.iter().enumerate() {
        let name = b.names.fresh(&format!("arg{i}_1"));
        let n = sg.append(NodeBuilder::new(Op::Placeholder).result(name, tensor(t)));
        vals.push(sg.node(n).results[0]);
    }
    let short = target.split('.').nth(1).unwrap_or("op");
    let name = b.names.fresh(short);
    let r = call1(
        &mut sg,
        target,
        vec![Arg::Value(vals[0])],
        name,
        tensor(&params[0]),
    );
    let mut outs = vec![Arg::Value(r)];
    let mut types = vec![tensor(&params[0])];
    if extra_out {
        let k = vals.len() - 1;
        outs.push(Arg::Value(vals[k]));
        types.push(tensor(&params[k]));
    }
    sg.append(NodeBuilder::new(Op::Output).args(outs).name("output"));
    (sg, types)
}

fn gen_cond(b: &mut Builder<'_>, g: &mut Graph) -> ValueId {
    let (x, t) = pick_tensor(b);
    let pname = b.names.fresh("any");
    let pred = call1(
        g,
        "aten.any.default",
        vec![Arg::Value(x)],
        pname,
        Type::tensor(DType::Bool, Shape::new()),
    );
    b.extra.push(pred);
    let (tg, _) = gen_subgraph(
        b,
        "true_graph",
        std::slice::from_ref(&t),
        "aten.relu.default",
        false,
    );
    let (fg, _) = gen_subgraph(
        b,
        "false_graph",
        std::slice::from_ref(&t),
        "aten.neg.default",
        false,
    );
    let tid = b.p.add_graph(tg);
    let fid = b.p.add_graph(fg);
    let name = b.names.fresh("cond");
    let v = call1(
        g,
        "higher_order.cond",
        vec![
            Arg::Value(pred),
            Arg::Graph(tid),
            Arg::Graph(fid),
            Arg::List(vec![Arg::Value(x)]),
        ],
        name,
        tensor(&t),
    );
    push(b, v, t)
}

fn gen_call_graph(b: &mut Builder<'_>, g: &mut Graph) -> ValueId {
    let mut params = Vec::new();
    let mut args = Vec::new();
    for _ in 0..1 + b.c.below(2) {
        let (x, t) = pick_tensor(b);
        args.push(Arg::Value(x));
        params.push(t);
    }
    let extra_out = b.c.flag();
    let target = b.c.pick(&["aten.relu.default", "aten.neg.default"]);
    let (sg, types) = gen_subgraph(b, "submod", &params, target, extra_out);
    let gid = b.p.add_graph(sg);
    let name = b.names.fresh("call_submod");
    let mut nb = NodeBuilder::new(Op::CallGraph { graph: gid })
        .args(args)
        .name(name.clone());
    for (i, ty) in types.iter().enumerate() {
        nb = nb.result(format!("{name}_{i}"), ty.clone());
    }
    let n = g.append(nb);
    let rs = g.node(n).results.clone();
    for (&r, ty) in rs.iter().zip(&types) {
        if let Type::Tensor(t) = ty {
            b.pool.push((r, t.clone()));
        }
    }
    rs[0]
}

fn st(base: BaseType) -> SchemaType {
    SchemaType {
        base,
        list: None,
        optional: false,
        optional_elements: false,
    }
}

fn list(base: BaseType, n: Option<usize>) -> SchemaType {
    SchemaType {
        list: Some(n),
        ..st(base)
    }
}

fn opt(mut t: SchemaType) -> SchemaType {
    t.optional = true;
    t
}

fn sa(name: &str, ty: SchemaType, default: Option<Arg>, kwarg_only: bool) -> SchemaArg {
    SchemaArg {
        name: name.into(),
        ty,
        default,
        kwarg_only,
        mutable: false,
    }
}

/// Inference for unary ops and same-dtype binary ops with broadcasting (enough for the ops the
/// generator and [`sample_program`] emit).
fn same_as_self() -> crate::ops::InferFn {
    Arc::new(|a: &InferArgs<'_>| {
        let v = a
            .args
            .first()
            .and_then(Arg::as_value)
            .ok_or("self is not a value")?;
        let Type::Tensor(t) = (a.type_of)(v) else {
            return Err("self is not a tensor".into());
        };
        let Some(o) = a.args.get(1).and_then(Arg::as_value) else {
            return Ok(vec![Type::Tensor(t)]);
        };
        let Type::Tensor(u) = (a.type_of)(o) else {
            return Err("other is not a tensor".into());
        };
        if t.dtype != u.dtype {
            return Err(format!(
                "operand dtypes differ: {} and {}",
                t.dtype, u.dtype
            ));
        }
        // Right-aligned broadcasting; a 1 stretches to the other size.
        let rank = t.rank().max(u.rank());
        let one = Dim::constant(1);
        let mut shape = Shape::new();
        for i in 0..rank {
            let get = |x: &TensorType| {
                (i + x.rank())
                    .checked_sub(rank)
                    .map_or(one.clone(), |k| x.shape[k].clone())
            };
            let (a, b) = (get(&t), get(&u));
            shape.push(if a == b || b == one {
                a
            } else if a == one {
                b
            } else {
                return Err(format!("shapes {t} and {u} do not broadcast"));
            });
        }
        Ok(vec![Type::tensor(t.dtype, shape)])
    })
}

/// A registry with schemas (from ATen's `native_functions.yaml`) for every op the generator
/// emits, and inference functions for the shape-preserving ones and `permute`.
pub fn test_registry() -> OpRegistry {
    use BaseType::*;
    let t = || st(Tensor);
    let tensor_ret = vec![st(Tensor)];
    let mut r = OpRegistry::new();
    let mut reg = |name: &str, args: Vec<SchemaArg>, returns: Vec<SchemaType>, infer| {
        r.register(OpDef {
            name: name.into(),
            schema: Some(Schema { args, returns }),
            props: OpProps {
                pure: true,
                ..OpProps::default()
            },
            tags: Default::default(),
            effects: Default::default(),
            infer,
            infer_via_decomposition: false,
            decomposition: None,
        })
    };
    let unary = vec![sa("self", t(), None, false)];
    reg(
        "aten.relu.default",
        unary.clone(),
        tensor_ret.clone(),
        Some(same_as_self()),
    );
    reg(
        "aten.neg.default",
        unary.clone(),
        tensor_ret.clone(),
        Some(same_as_self()),
    );
    reg("aten.any.default", unary, tensor_ret.clone(), None);
    reg(
        "aten.add.Tensor",
        vec![
            sa("self", t(), None, false),
            sa("other", t(), None, false),
            sa("alpha", st(Scalar), Some(Arg::Int(1)), true),
        ],
        tensor_ret.clone(),
        Some(same_as_self()),
    );
    reg(
        "aten.mul.Tensor",
        vec![sa("self", t(), None, false), sa("other", t(), None, false)],
        tensor_ret.clone(),
        Some(same_as_self()),
    );
    reg(
        "aten.div.Tensor_mode",
        vec![
            sa("self", t(), None, false),
            sa("other", t(), None, false),
            sa("rounding_mode", opt(st(Str)), None, true),
        ],
        tensor_ret.clone(),
        Some(same_as_self()),
    );
    reg(
        "aten.sum.dim_IntList",
        vec![
            sa("self", t(), None, false),
            sa("dim", opt(list(Int, Some(1))), None, false),
            sa("keepdim", st(Bool), Some(Arg::Bool(false)), false),
            sa("dtype", opt(st(ScalarType)), Some(Arg::None), true),
        ],
        tensor_ret.clone(),
        None,
    );
    reg(
        "aten.permute.default",
        vec![
            sa("self", t(), None, false),
            sa("dims", list(Int, None), None, false),
        ],
        tensor_ret.clone(),
        Some(Arc::new(|a: &InferArgs<'_>| {
            let v = a.args.first().and_then(Arg::as_value).ok_or("no self")?;
            let Type::Tensor(t) = (a.type_of)(v) else {
                return Err("self is not a tensor".into());
            };
            let perm = a.args.get(1).and_then(Arg::as_int_list).ok_or("no dims")?;
            let shape = perm
                .iter()
                .map(|&i| t.shape.get(i as usize).cloned().ok_or("bad dim"))
                .collect::<Result<Shape, _>>()?;
            Ok(vec![Type::tensor(t.dtype, shape)])
        })),
    );
    reg(
        "aten.max.dim",
        vec![
            sa("self", t(), None, false),
            sa("dim", st(Int), None, false),
            sa("keepdim", st(Bool), Some(Arg::Bool(false)), false),
        ],
        vec![st(Tensor), st(Tensor)],
        None,
    );
    reg(
        "aten.sym_size.int",
        vec![
            sa("self", t(), None, false),
            sa("dim", st(Int), None, false),
        ],
        vec![st(SymInt)],
        None,
    );
    reg(
        "aten.full.default",
        vec![
            sa("size", list(SymInt, None), None, false),
            sa("fill_value", st(Scalar), None, false),
            sa("dtype", opt(st(ScalarType)), Some(Arg::None), true),
            sa("layout", opt(st(Layout)), Some(Arg::None), true),
            sa("device", opt(st(Device)), Some(Arg::None), true),
            sa("pin_memory", opt(st(Bool)), Some(Arg::None), true),
        ],
        tensor_ret.clone(),
        None,
    );
    reg(
        "aten.clamp.default",
        vec![
            sa("self", t(), None, false),
            sa("min", opt(st(Scalar)), Some(Arg::None), false),
            sa("max", opt(st(Scalar)), Some(Arg::None), false),
        ],
        tensor_ret.clone(),
        Some(same_as_self()),
    );
    reg(
        "aten.cat.default",
        vec![
            sa("tensors", list(Tensor, None), None, false),
            sa("dim", st(Int), Some(Arg::Int(0)), false),
        ],
        tensor_ret,
        None,
    );
    r
}

/// A fixed small program: `main(x: f32[s0,3], p: param f32[3]) = relu(x + p')`, where the
/// parameter is added after a `mul` by itself, plus a `cond` on `any(x)`. Handy as a base for
/// hand-written tests.
pub fn sample_program() -> Program {
    let mut p = Program::new();
    let s0: SymName = Arc::from("s0");
    p.declare_symbol(
        s0.clone(),
        Symbol {
            kind: SymKind::Size,
            min: Some(1),
            max: Some(64),
            hint: Some(4),
        },
    );
    let xt = Type::tensor(
        DType::F32,
        [Dim::sym(s0.clone()), Dim::constant(3)]
            .into_iter()
            .collect::<Shape>(),
    );
    let wt = Type::tensor(DType::F32, crate::types::static_shape(&[3]));
    p.weights
        .insert("bias".into(), weight_with_bytes(DType::F32, vec![3]));
    p.signature.inputs = vec![
        InputKind::Parameter {
            target: "bias".into(),
        },
        InputKind::User { name: "x".into() },
    ];
    p.input_specs = vec![InputSpec::Tensor {
        name: "x".into(),
        dtype: DType::F32,
        dims: vec![
            DimSpec::Dynamic {
                sym: Some(s0),
                min: 1,
                opt: 4,
                max: 64,
            },
            DimSpec::Static(3),
        ],
    }];

    let mut tg = Graph::new("true_graph_0");
    let a = tg.append(NodeBuilder::new(Op::Placeholder).result("arg0_1", xt.clone()));
    let av = tg.node(a).results[0];
    let r = call1(
        &mut tg,
        "aten.relu.default",
        vec![Arg::Value(av)],
        "relu_1".into(),
        xt.clone(),
    );
    tg.append(
        NodeBuilder::new(Op::Output)
            .args(vec![Arg::Value(r)])
            .name("output"),
    );
    let mut fg = Graph::new("false_graph_0");
    let a = fg.append(NodeBuilder::new(Op::Placeholder).result("arg0_1", xt.clone()));
    let av = fg.node(a).results[0];
    let r = call1(
        &mut fg,
        "aten.neg.default",
        vec![Arg::Value(av)],
        "neg".into(),
        xt.clone(),
    );
    fg.append(
        NodeBuilder::new(Op::Output)
            .args(vec![Arg::Value(r)])
            .name("output"),
    );
    let tid = p.add_graph(tg);
    let fid = p.add_graph(fg);

    let g = p.main_graph_mut();
    let w = g.append(NodeBuilder::new(Op::Placeholder).result("p_bias", wt.clone()));
    let wv = g.node(w).results[0];
    let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", xt.clone()));
    let xv = g.node(x).results[0];
    let m = call1(
        g,
        "aten.mul.Tensor",
        vec![Arg::Value(wv), Arg::Value(wv)],
        "mul".into(),
        wt,
    );
    let add = call1(
        g,
        "aten.add.Tensor",
        vec![Arg::Value(xv), Arg::Value(m)],
        "add".into(),
        xt.clone(),
    );
    let relu = call1(
        g,
        "aten.relu.default",
        vec![Arg::Value(add)],
        "relu".into(),
        xt.clone(),
    );
    let pred = call1(
        g,
        "aten.any.default",
        vec![Arg::Value(relu)],
        "any".into(),
        Type::tensor(DType::Bool, Shape::new()),
    );
    let c = call1(
        g,
        "higher_order.cond",
        vec![
            Arg::Value(pred),
            Arg::Graph(tid),
            Arg::Graph(fid),
            Arg::List(vec![Arg::Value(relu)]),
        ],
        "cond".into(),
        xt,
    );
    g.append(
        NodeBuilder::new(Op::Output)
            .args(vec![Arg::Value(c)])
            .name("output"),
    );
    p.signature.outputs = vec![OutputKind::User];
    p
}

/// Ways to break a valid program, each detectable by the verifier at a known node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutationKind {
    /// An argument now refers to the result of a removed node.
    DanglingRemoved,
    /// An argument now refers to a value id that was never allocated.
    DanglingNonexistent,
    /// A node is moved before the node defining one of its operands.
    Cycle,
    /// A call gets one positional argument more than its schema allows.
    ExtraPositional,
    /// A symbol some type uses is removed from the symbol table.
    UndeclaredSymbol,
}

impl MutationKind {
    /// Every kind.
    pub const ALL: [MutationKind; 5] = [
        MutationKind::DanglingRemoved,
        MutationKind::DanglingNonexistent,
        MutationKind::Cycle,
        MutationKind::ExtraPositional,
        MutationKind::UndeclaredSymbol,
    ];
}

/// A broken program and where the verifier must report the break.
#[derive(Clone, Debug)]
pub struct Mutated {
    /// The broken program.
    pub program: Program,
    /// What was done.
    pub kind: MutationKind,
    /// Graph of the expected diagnostic.
    pub graph: String,
    /// Node the expected diagnostic names (for `UndeclaredSymbol`: every node in
    /// `symbol_users` gets one).
    pub node: Option<String>,
    /// For `UndeclaredSymbol`: the removed symbol.
    pub symbol: Option<SymName>,
    /// For `UndeclaredSymbol`: `(graph, node)` of every node whose result types use the symbol.
    pub symbol_users: Vec<(String, String)>,
}

/// Value args of a node's top-level positional arguments (and inside lists), by position.
fn value_arg_positions(args: &[Arg]) -> Vec<(usize, Option<usize>, ValueId)> {
    let mut v = Vec::new();
    for (i, a) in args.iter().enumerate() {
        match a {
            Arg::Value(x) => v.push((i, None, *x)),
            Arg::List(items) => {
                for (j, it) in items.iter().enumerate() {
                    if let Arg::Value(x) = it {
                        v.push((i, Some(j), *x));
                    }
                }
            }
            _ => {}
        }
    }
    v
}

fn replace_arg(args: &mut [Arg], at: (usize, Option<usize>), new: ValueId) {
    match at {
        (i, None) => args[i] = Arg::Value(new),
        (i, Some(j)) => {
            if let Arg::List(items) = &mut args[i] {
                items[j] = Arg::Value(new);
            }
        }
    }
}

/// Applies `kind` to the main graph of `p` (the `pick`-th candidate, modulo their number).
/// `None` when the program has no candidate (no schema'd call, no symbol).
pub fn apply_mutation(
    p: &Program,
    kind: MutationKind,
    pick: usize,
    registry: &OpRegistry,
) -> Option<Mutated> {
    let mut p = p.clone();
    let main = p.main;
    let gname = p.graphs[main].name.clone();
    let done = |p: Program, node: Option<String>| Mutated {
        program: p,
        kind,
        graph: gname.clone(),
        node,
        symbol: None,
        symbol_users: Vec::new(),
    };
    let g = &mut p.graphs[main];
    let with_values: Vec<NodeId> = g
        .nodes()
        .filter(|&n| !value_arg_positions(&g.node(n).args).is_empty())
        .collect();
    match kind {
        MutationKind::DanglingRemoved | MutationKind::DanglingNonexistent => {
            let n = *with_values.get(pick % with_values.len().max(1))?;
            let positions = value_arg_positions(&g.node(n).args);
            let (i, j, old) = positions[(pick / 7) % positions.len()];
            let bad = if kind == MutationKind::DanglingRemoved {
                let ty = g.ty(old).clone();
                let doomed = g.insert_before(
                    n,
                    NodeBuilder::call("aten.relu.default")
                        .args(vec![Arg::Value(old)])
                        .result("doomed", ty)
                        .name("doomed"),
                );
                let v = g.node(doomed).results[0];
                g.remove_node(doomed).ok()?;
                v
            } else {
                ValueId::new(g.value_capacity() + 7)
            };
            let mut args = g.node(n).args.clone();
            replace_arg(&mut args, (i, j), bad);
            let kwargs = g.node(n).kwargs.clone();
            g.set_args(n, args, kwargs);
            let name = g.node(n).name.clone();
            Some(done(p, Some(name)))
        }
        MutationKind::Cycle => {
            let cands: Vec<(NodeId, NodeId)> = with_values
                .iter()
                .filter_map(|&n| {
                    let defs: Vec<NodeId> = g
                        .node(n)
                        .inputs()
                        .into_iter()
                        .map(|v| g.value(v).def)
                        .filter(|&d| g.node(d).op != Op::Placeholder)
                        .collect();
                    defs.first().map(|&d| (n, d))
                })
                .collect();
            let (n, d) = *cands.get(pick % cands.len().max(1))?;
            g.move_before(n, d);
            let name = g.node(n).name.clone();
            Some(done(p, Some(name)))
        }
        MutationKind::ExtraPositional => {
            let cands: Vec<(NodeId, usize)> = g
                .nodes()
                .filter_map(|n| {
                    let schema = registry.get(g.node(n).op.target()?)?.schema.as_ref()?;
                    Some((n, schema.args.iter().filter(|a| !a.kwarg_only).count()))
                })
                .collect();
            let (n, max_pos) = *cands.get(pick % cands.len().max(1))?;
            let mut args = g.node(n).args.clone();
            while args.len() <= max_pos {
                args.push(Arg::Int(0));
            }
            let kwargs = g.node(n).kwargs.clone();
            g.set_args(n, args, kwargs);
            let name = g.node(n).name.clone();
            Some(done(p, Some(name)))
        }
        MutationKind::UndeclaredSymbol => {
            let mut used: Vec<SymName> = Vec::new();
            for (_, g) in p.graphs.iter() {
                for v in g.value_ids() {
                    used.extend(g.ty(v).dims().into_iter().flat_map(|d| d.symbols()));
                }
            }
            used.sort();
            used.dedup();
            let s = used.get(pick % used.len().max(1))?.clone();
            p.symbols.shift_remove(&s);
            let mut users = Vec::new();
            for (_, g) in p.graphs.iter() {
                for n in g.nodes() {
                    let uses = g
                        .node(n)
                        .results
                        .iter()
                        .any(|&r| g.ty(r).dims().iter().any(|d| d.symbols().contains(&s)));
                    if uses {
                        users.push((g.name.clone(), g.node(n).name.clone()));
                    }
                }
            }
            let mut m = done(p, users.first().map(|u| u.1.clone()));
            if let Some(u) = users.first() {
                m.graph = u.0.clone();
            }
            m.symbol = Some(s);
            m.symbol_users = users;
            Some(m)
        }
    }
}

/// Random broken programs: a generated program with one mutation applied, together with where
/// the verifier must report it.
pub fn arb_graph_mutation(cfg: GenConfig) -> impl Strategy<Value = Mutated> {
    let reg = test_registry();
    (
        arb_program(cfg),
        proptest::sample::select(MutationKind::ALL.to_vec()),
        any::<usize>(),
    )
        .prop_filter_map("no candidate for this mutation", move |(p, kind, pick)| {
            apply_mutation(&p, kind, pick, &reg)
        })
}
