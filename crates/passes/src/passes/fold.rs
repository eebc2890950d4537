//! `fold-constants`: evaluates nodes whose inputs are all constants.
//!
//! The pass carries its own small evaluator because `passes` may depend only on `ir` (the
//! reference executor lives in `exec`). It covers:
//!
//! - SymInt/SymBool arithmetic: `_operator.*` on literals, `aten.sym_size.int` /
//!   `aten.sym_numel.default` of static dims, and any call whose recorded type is a constant
//!   `symint(N)`; the literal replaces the value in every `call_function` user.
//! - Tensors built from literals: `aten.full`/`zeros`/`ones`/`scalar_tensor` (splats),
//!   `aten.arange.*` (dense), loaded weights (`get_attr` with bytes), fed through elementwise
//!   `add`/`sub`/`mul`/`div`/`neg`/`abs`/`relu`, dtype casts and `view`/`reshape`. A splat result
//!   becomes `aten.full.default`; a dense result becomes a new weight read by `get_attr`, if it
//!   has at most `max-elements` elements (otherwise the node is kept: counter
//!   `refused-too-large`).
//!
//! Other tensor ops are left alone; a full tensor folder would call `exec`'s kernels through an
//! evaluator hook (the extension point is [`FoldConstants::fold_node`]).

use super::{result, Namer};
use crate::options::{OptionError, OptionMap, OptionReader, PassOptions};
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::util::remove_dead;
use std::collections::HashMap;
use trtfx_ir::{
    Arg, DType, Graph, GraphId, NodeBuilder, NodeId, Op, Program, Type, ValueId, Weight,
    WeightData, F64,
};

/// Default for `max-elements`.
pub const DEFAULT_MAX_ELEMENTS: u64 = 1024;

/// Largest constant the folder evaluates in memory (sources such as `arange` or weights are
/// read up to this size); `max-elements` separately caps what it materialises as new weights.
const MAX_EVAL_ELEMENTS: u64 = 1 << 20;

/// Constant folding. Options: `max-elements` (largest dense tensor the pass may create).
#[derive(Debug, Clone)]
pub struct FoldConstants {
    /// Largest number of elements of a dense folded tensor written as a new weight.
    pub max_elements: u64,
}

impl Default for FoldConstants {
    fn default() -> Self {
        FoldConstants {
            max_elements: DEFAULT_MAX_ELEMENTS,
        }
    }
}

impl FoldConstants {
    /// Builds the pass from pipeline options.
    pub fn from_options(o: &OptionMap) -> Result<Self, OptionError> {
        let mut r = OptionReader::new("fold-constants", o);
        let max_elements = r.get("max-elements", DEFAULT_MAX_ELEMENTS)?;
        r.finish()?;
        Ok(FoldConstants { max_elements })
    }
}

/// A scalar element.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scalar {
    F(f64),
    I(i64),
    B(bool),
}

impl Scalar {
    fn from_arg(a: &Arg) -> Option<Scalar> {
        match a {
            Arg::Int(i) => Some(Scalar::I(*i)),
            Arg::Float(f) => Some(Scalar::F(f.0)),
            Arg::Bool(b) => Some(Scalar::B(*b)),
            _ => None,
        }
    }

    fn to_arg(self) -> Arg {
        match self {
            Scalar::F(f) => Arg::Float(F64(f)),
            Scalar::I(i) => Arg::Int(i),
            Scalar::B(b) => Arg::Bool(b),
        }
    }

    fn f(self) -> f64 {
        match self {
            Scalar::F(f) => f,
            Scalar::I(i) => i as f64,
            Scalar::B(b) => f64::from(u8::from(b)),
        }
    }

    fn i(self) -> Option<i64> {
        match self {
            Scalar::I(i) => Some(i),
            Scalar::B(b) => Some(i64::from(b)),
            // Truncation toward zero, as PyTorch's float→int cast (finite values only).
            Scalar::F(f) if f.is_finite() && f.abs() < 9.2e18 => Some(f as i64),
            Scalar::F(_) => None,
        }
    }

    fn truthy(self) -> bool {
        match self {
            Scalar::F(f) => f != 0.0,
            Scalar::I(i) => i != 0,
            Scalar::B(b) => b,
        }
    }
}

/// Dtypes the folder computes in (everything else is left alone).
fn supported(dt: DType) -> bool {
    matches!(
        dt,
        DType::F32
            | DType::F64
            | DType::I64
            | DType::I32
            | DType::I16
            | DType::I8
            | DType::U8
            | DType::Bool
    )
}

/// Rounds/wraps a scalar into `dt`, as a cast to `dt` does.
fn cast(s: Scalar, dt: DType) -> Option<Scalar> {
    Some(match dt {
        DType::F64 => Scalar::F(s.f()),
        DType::F32 => Scalar::F(s.f() as f32 as f64),
        DType::Bool => Scalar::B(s.truthy()),
        DType::I64 => Scalar::I(s.i()?),
        DType::I32 => Scalar::I(s.i()? as i32 as i64),
        DType::I16 => Scalar::I(s.i()? as i16 as i64),
        DType::I8 => Scalar::I(s.i()? as i8 as i64),
        DType::U8 => Scalar::I(s.i()? as u8 as i64),
        _ => return None,
    })
}

/// A constant tensor.
#[derive(Clone, Debug)]
struct Const {
    dtype: DType,
    shape: Vec<i64>,
    data: Data,
}

#[derive(Clone, Debug)]
enum Data {
    Splat(Scalar),
    Dense(Vec<Scalar>),
}

impl Const {
    fn numel(&self) -> i64 {
        self.shape.iter().product()
    }

    fn decode(w: &Weight) -> Option<Const> {
        let WeightData::Bytes(b) = &w.data else {
            return None;
        };
        let n = usize::try_from(w.numel()).ok()?;
        let size = w.dtype.itemsize();
        if !supported(w.dtype) || b.len() != n * size {
            return None;
        }
        let vals = b
            .chunks_exact(size)
            .map(|c| match w.dtype {
                DType::F32 => Scalar::F(f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64),
                DType::F64 => Scalar::F(f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))),
                DType::I64 => Scalar::I(i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))),
                DType::I32 => Scalar::I(i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64),
                DType::I16 => Scalar::I(i16::from_le_bytes([c[0], c[1]]) as i64),
                DType::I8 => Scalar::I(c[0] as i8 as i64),
                DType::U8 => Scalar::I(c[0] as i64),
                _ => Scalar::B(c[0] != 0),
            })
            .collect();
        Some(Const {
            dtype: w.dtype,
            shape: w.shape.clone(),
            data: Data::Dense(vals),
        })
    }

    fn encode(&self) -> Weight {
        let n = self.numel().max(0) as usize;
        let mut bytes = Vec::with_capacity(n * self.dtype.itemsize());
        for i in 0..n {
            let s = match &self.data {
                Data::Splat(s) => *s,
                Data::Dense(v) => v[i],
            };
            match self.dtype {
                DType::F32 => bytes.extend((s.f() as f32).to_le_bytes()),
                DType::F64 => bytes.extend(s.f().to_le_bytes()),
                DType::I64 => bytes.extend(s.i().unwrap_or(0).to_le_bytes()),
                DType::I32 => bytes.extend((s.i().unwrap_or(0) as i32).to_le_bytes()),
                DType::I16 => bytes.extend((s.i().unwrap_or(0) as i16).to_le_bytes()),
                DType::I8 => bytes.push(s.i().unwrap_or(0) as i8 as u8),
                DType::U8 => bytes.push(s.i().unwrap_or(0) as u8),
                _ => bytes.push(u8::from(s.truthy())),
            }
        }
        Weight::from_bytes(self.dtype, self.shape.clone(), bytes)
    }
}

/// Binary elementwise operators the folder evaluates.
#[derive(Clone, Copy)]
enum Bin {
    Add,
    Sub,
    Mul,
    Div,
}

fn bin(op: Bin, a: Scalar, b: Scalar, dt: DType) -> Option<Scalar> {
    if dt.is_float() {
        let (x, y) = (cast(a, dt)?.f(), cast(b, dt)?.f());
        let r = match op {
            Bin::Add => x + y,
            Bin::Sub => x - y,
            Bin::Mul => x * y,
            Bin::Div => x / y,
        };
        cast(Scalar::F(r), dt)
    } else if dt.is_integral() && dt != DType::Bool {
        // A float operand with an integral result means the types disagree with promotion.
        if matches!(a, Scalar::F(_)) || matches!(b, Scalar::F(_)) {
            return None;
        }
        let (x, y) = (cast(a, dt)?.i()?, cast(b, dt)?.i()?);
        let r = match op {
            Bin::Add => x.wrapping_add(y),
            Bin::Sub => x.wrapping_sub(y),
            Bin::Mul => x.wrapping_mul(y),
            Bin::Div => return None, // true division always has a float result
        };
        cast(Scalar::I(r), dt)
    } else {
        None
    }
}

/// What is known to be constant while sweeping a graph.
#[derive(Default)]
struct Known {
    tensors: HashMap<ValueId, Const>,
    scalars: HashMap<ValueId, Scalar>,
}

impl Known {
    fn scalar_arg(&self, a: &Arg) -> Option<Scalar> {
        match a {
            Arg::Value(v) => self.scalars.get(v).copied(),
            _ => Scalar::from_arg(a),
        }
    }

    /// An elementwise operand: a constant tensor or a scalar literal (a 0-d splat).
    fn operand(&self, a: &Arg) -> Option<Const> {
        match a {
            Arg::Value(v) => self.tensors.get(v).cloned(),
            _ => Scalar::from_arg(a).map(|s| Const {
                dtype: DType::F64,
                shape: vec![],
                data: Data::Splat(s),
            }),
        }
    }
}

/// The result of folding one node.
enum Folded {
    Scalar(Scalar),
    Tensor(Const),
}

fn static_tensor(g: &Graph, v: ValueId) -> Option<(DType, Vec<i64>)> {
    let t = g.ty(v).as_tensor()?;
    Some((t.dtype, t.static_shape()?))
}

fn sym_op(target: &str, args: &[Scalar]) -> Option<Scalar> {
    use trtfx_ir::dim::{py_floordiv, py_mod};
    let name = target.strip_prefix("_operator.")?;
    let int = |i: usize| {
        args.get(i).and_then(|s| match s {
            Scalar::F(_) => None,
            s => s.i(),
        })
    };
    let any_float = args.iter().any(|s| matches!(s, Scalar::F(_)));
    let cmp = |f: fn(f64, f64) -> bool| Some(Scalar::B(f(args.first()?.f(), args.get(1)?.f())));
    Some(match (name, args.len()) {
        ("add", 2) if !any_float => Scalar::I(int(0)?.checked_add(int(1)?)?),
        ("sub", 2) if !any_float => Scalar::I(int(0)?.checked_sub(int(1)?)?),
        ("mul", 2) if !any_float => Scalar::I(int(0)?.checked_mul(int(1)?)?),
        ("add", 2) => Scalar::F(args[0].f() + args[1].f()),
        ("sub", 2) => Scalar::F(args[0].f() - args[1].f()),
        ("mul", 2) => Scalar::F(args[0].f() * args[1].f()),
        ("truediv", 2) => Scalar::F(args[0].f() / args[1].f()),
        ("floordiv", 2) if !any_float => Scalar::I(py_floordiv(int(0)?, int(1)?)?),
        ("mod", 2) if !any_float => Scalar::I(py_mod(int(0)?, int(1)?)?),
        ("neg", 1) if !any_float => Scalar::I(int(0)?.checked_neg()?),
        ("neg", 1) => Scalar::F(-args[0].f()),
        ("eq", 2) => cmp(|a, b| a == b)?,
        ("ne", 2) => cmp(|a, b| a != b)?,
        ("lt", 2) => cmp(|a, b| a < b)?,
        ("le", 2) => cmp(|a, b| a <= b)?,
        ("gt", 2) => cmp(|a, b| a > b)?,
        ("ge", 2) => cmp(|a, b| a >= b)?,
        ("not_", 1) => Scalar::B(!args[0].truthy()),
        ("and_", 2) if args.iter().all(|s| matches!(s, Scalar::B(_))) => {
            Scalar::B(args[0].truthy() && args[1].truthy())
        }
        ("or_", 2) if args.iter().all(|s| matches!(s, Scalar::B(_))) => {
            Scalar::B(args[0].truthy() || args[1].truthy())
        }
        _ => return None,
    })
}

impl FoldConstants {
    /// Tries to fold node `n` given what is known constant. `None` leaves the node alone.
    fn fold_node(&self, g: &Graph, n: NodeId, k: &Known) -> Option<Folded> {
        let d = g.node(n);
        let target = d.op.target()?;
        let r = result(g, n)?;
        let a = |i: usize, name: &str| d.args.get(i).or_else(|| d.kwarg(name));
        // SymInt-valued calls: recorded constant type, or computed from literal operands.
        match g.ty(r) {
            Type::SymInt(Some(dim)) => {
                if let Some(c) = dim.as_const() {
                    return Some(Folded::Scalar(Scalar::I(c)));
                }
            }
            Type::SymInt(None)
            | Type::SymBool
            | Type::SymFloat
            | Type::Int
            | Type::Bool
            | Type::Float => {}
            _ => {
                return self.fold_tensor(g, n, target, r, k);
            }
        }
        match target {
            "aten.sym_size.int" => {
                let t = g.ty(a(0, "self")?.as_value()?).as_tensor()?;
                let mut dim = a(1, "dim")?.as_int()?;
                if dim < 0 {
                    dim += t.rank() as i64;
                }
                let c = t.shape.get(usize::try_from(dim).ok()?)?.as_const()?;
                Some(Folded::Scalar(Scalar::I(c)))
            }
            "aten.sym_numel.default" => {
                let t = g.ty(a(0, "self")?.as_value()?).as_tensor()?;
                Some(Folded::Scalar(Scalar::I(t.numel().as_const()?)))
            }
            _ if target.starts_with("_operator.") && d.kwargs.is_empty() => {
                let args: Option<Vec<Scalar>> = d.args.iter().map(|x| k.scalar_arg(x)).collect();
                sym_op(target, &args?).map(Folded::Scalar)
            }
            _ => None,
        }
    }

    fn fold_tensor(
        &self,
        g: &Graph,
        n: NodeId,
        target: &str,
        r: ValueId,
        k: &Known,
    ) -> Option<Folded> {
        let d = g.node(n);
        let (dt, shape) = static_tensor(g, r)?;
        if !supported(dt) {
            return None;
        }
        let a = |i: usize, name: &str| d.args.get(i).or_else(|| d.kwarg(name));
        let c = match target {
            "aten.neg.default" | "aten.abs.default" | "aten.relu.default" => {
                let x = k.operand(a(0, "self")?)?;
                let f = |s: Scalar| -> Option<Scalar> {
                    let s = cast(s, dt)?;
                    let v = match (target, s) {
                        ("aten.neg.default", Scalar::F(f)) => Scalar::F(-f),
                        ("aten.neg.default", Scalar::I(i)) => Scalar::I(i.wrapping_neg()),
                        ("aten.abs.default", Scalar::F(f)) => Scalar::F(f.abs()),
                        ("aten.abs.default", Scalar::I(i)) => Scalar::I(i.wrapping_abs()),
                        ("aten.relu.default", Scalar::F(f)) => Scalar::F(f.max(0.0)),
                        ("aten.relu.default", Scalar::I(i)) => Scalar::I(i.max(0)),
                        _ => return None,
                    };
                    cast(v, dt)
                };
                map_const(&x, dt, &shape, f)?
            }
            "aten.add.Tensor" | "aten.add.Scalar" | "aten.sub.Tensor" | "aten.sub.Scalar"
            | "aten.mul.Tensor" | "aten.mul.Scalar" | "aten.div.Tensor" | "aten.div.Scalar" => {
                let op = match target.split('.').nth(1)? {
                    "add" => Bin::Add,
                    "sub" => Bin::Sub,
                    "mul" => Bin::Mul,
                    _ => Bin::Div,
                };
                if matches!(op, Bin::Div) && d.kwarg("rounding_mode").is_some() {
                    return None;
                }
                let x = k.operand(a(0, "self")?)?;
                let y = k.operand(a(1, "other")?)?;
                let alpha = match (op, a(2, "alpha")) {
                    (Bin::Add | Bin::Sub, Some(al)) => Some(Scalar::from_arg(al)?),
                    _ => None,
                };
                zip_const(&x, &y, dt, &shape, |p, q| {
                    let q = match alpha {
                        Some(al) => bin(Bin::Mul, q, al, dt)?,
                        None => q,
                    };
                    bin(op, p, q, dt)
                })?
            }
            "aten._to_copy.default"
            | "aten.to.dtype"
            | "aten.clone.default"
            | "aten.alias.default"
            | "aten.detach.default" => {
                let x = k.operand(a(0, "self")?)?;
                map_const(&x, dt, &shape, |s| cast(s, dt))?
            }
            "aten.view.default" | "aten.reshape.default" | "aten._unsafe_view.default" => {
                let x = k.operand(a(0, "self")?)?;
                if x.numel() != shape.iter().product::<i64>() || x.dtype != dt {
                    return None;
                }
                Const {
                    dtype: dt,
                    shape: shape.clone(),
                    data: x.data,
                }
            }
            _ => return None,
        };
        Some(Folded::Tensor(c))
    }

    /// A constant a source node makes (not folded itself: it already is a constant).
    fn source(&self, p: &Program, g: &Graph, n: NodeId) -> Option<Const> {
        let d = g.node(n);
        let r = result(g, n)?;
        if let Op::GetAttr { target } = &d.op {
            let w = p.weights.get(target)?;
            if w.numel() as u64 > MAX_EVAL_ELEMENTS {
                return None;
            }
            return Const::decode(w);
        }
        let (dt, shape) = static_tensor(g, r)?;
        if !supported(dt) {
            return None;
        }
        let a = |i: usize, name: &str| d.args.get(i).or_else(|| d.kwarg(name));
        let splat = |s: Scalar| {
            Some(Const {
                dtype: dt,
                shape: shape.clone(),
                data: Data::Splat(cast(s, dt)?),
            })
        };
        match d.op.target()? {
            "aten.full.default" => splat(Scalar::from_arg(a(1, "fill_value")?)?),
            "aten.zeros.default" | "aten.zeros_like.default" => splat(Scalar::I(0)),
            "aten.ones.default" | "aten.ones_like.default" => splat(Scalar::I(1)),
            "aten.full_like.default" => splat(Scalar::from_arg(a(1, "fill_value")?)?),
            "aten.scalar_tensor.default" => splat(Scalar::from_arg(a(0, "s")?)?),
            t @ ("aten.arange.default" | "aten.arange.start" | "aten.arange.start_step") => {
                let (start, step) = match t {
                    "aten.arange.default" => (Scalar::I(0), Scalar::I(1)),
                    "aten.arange.start" => (Scalar::from_arg(a(0, "start")?)?, Scalar::I(1)),
                    _ => (
                        Scalar::from_arg(a(0, "start")?)?,
                        Scalar::from_arg(a(2, "step")?)?,
                    ),
                };
                let numel = shape.iter().product::<i64>();
                if shape.len() != 1 || numel as u64 > MAX_EVAL_ELEMENTS {
                    return None;
                }
                let vals: Option<Vec<Scalar>> = (0..numel)
                    .map(|i| {
                        if dt.is_float() {
                            cast(Scalar::F(start.f() + i as f64 * step.f()), dt)
                        } else {
                            cast(Scalar::I(start.i()? + i * step.i()?), dt)
                        }
                    })
                    .collect();
                Some(Const {
                    dtype: dt,
                    shape,
                    data: Data::Dense(vals?),
                })
            }
            _ => None,
        }
    }

    fn run_graph(&self, p: &mut Program, gid: GraphId, cx: &mut PassCx) -> bool {
        let mut k = Known::default();
        let mut changed = false;
        let mut namer = Namer::new(&p.graphs[gid]);
        let mut made_weights: Vec<String> = Vec::new();
        for n in p.graphs[gid].node_ids() {
            let g = &p.graphs[gid];
            if g.get_node(n).is_none() {
                continue;
            }
            if let Some(c) = self.source(p, g, n) {
                if let Some(r) = result(g, n) {
                    k.tensors.insert(r, c);
                }
                continue;
            }
            let Some(folded) = self.fold_node(g, n, &k) else {
                continue;
            };
            let r = result(g, n).expect("folded nodes have one result");
            let inputs: Vec<NodeId> = g.node(n).inputs().iter().map(|&v| g.value(v).def).collect();
            match folded {
                Folded::Scalar(s) => {
                    k.scalars.insert(r, s);
                    if substitute_literal(&mut p.graphs[gid], r, s.to_arg()) {
                        cx.stat("scalars-folded", 1);
                        changed = true;
                    }
                }
                Folded::Tensor(c) => {
                    let g = &mut p.graphs[gid];
                    let name = g.node(n).name.clone();
                    let ty = g.ty(r).clone();
                    let new = match &c.data {
                        Data::Splat(s) => {
                            let b = NodeBuilder::call("aten.full.default")
                                .args(vec![
                                    Arg::List(c.shape.iter().map(|&x| Arg::Int(x)).collect()),
                                    s.to_arg(),
                                ])
                                .kwarg("dtype", Arg::DType(c.dtype))
                                .result(namer.fresh(&format!("{name}_folded")), ty);
                            g.insert_before(n, b)
                        }
                        Data::Dense(_) => {
                            if c.numel() as u64 > self.max_elements {
                                cx.stat("refused-too-large", 1);
                                continue;
                            }
                            let mut wname = format!("_folded.{name}");
                            let mut i = 1;
                            while p.weights.contains_key(&wname) {
                                wname = format!("_folded.{name}_{i}");
                                i += 1;
                            }
                            p.weights.insert(wname.clone(), c.encode());
                            made_weights.push(wname.clone());
                            let g = &mut p.graphs[gid];
                            let b = NodeBuilder::new(Op::GetAttr { target: wname })
                                .result(namer.fresh(&format!("{name}_folded")), ty);
                            g.insert_before(n, b)
                        }
                    };
                    let g = &mut p.graphs[gid];
                    let nv = g.node(new).results[0];
                    g.replace_all_uses(r, nv);
                    k.tensors.insert(nv, c);
                    cx.stat("tensors-folded", 1);
                    changed = true;
                }
            }
            let mut cands = inputs;
            cands.push(n);
            let ops = cx.ops_handle();
            if remove_dead(p, gid, cands, Some(&*ops)) > 0 {
                changed = true;
            }
        }
        // Intermediate folded weights no longer read by anyone are dropped again.
        for w in made_weights {
            let used = p.graphs.values().any(|g| {
                g.nodes()
                    .any(|n| matches!(&g.node(n).op, Op::GetAttr { target } if *target == w))
            });
            if !used {
                p.weights.shift_remove(&w);
            }
        }
        changed
    }
}

/// Applies `f` elementwise, producing a constant of `dt`/`shape`.
fn map_const(
    x: &Const,
    dt: DType,
    shape: &[i64],
    f: impl Fn(Scalar) -> Option<Scalar>,
) -> Option<Const> {
    let data = match &x.data {
        Data::Splat(s) => Data::Splat(f(*s)?),
        Data::Dense(v) if x.shape == shape => {
            Data::Dense(v.iter().map(|&s| f(s)).collect::<Option<_>>()?)
        }
        Data::Dense(_) => return None,
    };
    Some(Const {
        dtype: dt,
        shape: shape.to_vec(),
        data,
    })
}

/// Applies `f` to pairs; splats broadcast, dense operands must already have the result shape.
fn zip_const(
    x: &Const,
    y: &Const,
    dt: DType,
    shape: &[i64],
    f: impl Fn(Scalar, Scalar) -> Option<Scalar>,
) -> Option<Const> {
    let data = match (&x.data, &y.data) {
        (Data::Splat(a), Data::Splat(b)) => Data::Splat(f(*a, *b)?),
        (Data::Dense(v), Data::Splat(b)) if x.shape == shape => {
            Data::Dense(v.iter().map(|&a| f(a, *b)).collect::<Option<_>>()?)
        }
        (Data::Splat(a), Data::Dense(v)) if y.shape == shape => {
            Data::Dense(v.iter().map(|&b| f(*a, b)).collect::<Option<_>>()?)
        }
        (Data::Dense(v), Data::Dense(w)) if x.shape == shape && y.shape == shape => Data::Dense(
            v.iter()
                .zip(w)
                .map(|(&a, &b)| f(a, b))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    };
    Some(Const {
        dtype: dt,
        shape: shape.to_vec(),
        data,
    })
}

/// Replaces `v` by a literal in every `call_function` user. Outputs and `call_graph` operands
/// keep the value (their interface is typed values). Returns whether anything changed.
fn substitute_literal(g: &mut Graph, v: ValueId, lit: Arg) -> bool {
    let mut users: Vec<NodeId> = g.value(v).uses().to_vec();
    users.sort();
    users.dedup();
    let mut changed = false;
    for u in users {
        if !matches!(g.node(u).op, Op::Call { .. }) {
            continue;
        }
        let sub = |a: &Arg| replace_in(a, v, &lit);
        let args: Vec<Arg> = g.node(u).args.iter().map(sub).collect();
        let kwargs: Vec<(String, Arg)> = g
            .node(u)
            .kwargs
            .iter()
            .map(|(k, a)| (k.clone(), replace_in(a, v, &lit)))
            .collect();
        g.set_args(u, args, kwargs);
        changed = true;
    }
    changed
}

fn replace_in(a: &Arg, v: ValueId, lit: &Arg) -> Arg {
    match a {
        Arg::Value(x) if *x == v => lit.clone(),
        Arg::List(items) => Arg::List(items.iter().map(|x| replace_in(x, v, lit)).collect()),
        Arg::Dict(items) => Arg::Dict(
            items
                .iter()
                .map(|(k, x)| (k.clone(), replace_in(x, v, lit)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Pass for FoldConstants {
    fn name(&self) -> &str {
        "fold-constants"
    }

    fn options(&self) -> PassOptions {
        PassOptions::new().with("max-elements", &self.max_elements, &DEFAULT_MAX_ELEMENTS)
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let mut changed = false;
        for gid in cx.graphs(p) {
            changed |= self.run_graph(p, gid, cx);
        }
        Ok(PassOutcome::from_changed(changed))
    }
}
