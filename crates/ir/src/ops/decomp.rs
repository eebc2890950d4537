//! Decompositions: an operator written once in terms of other operators.
//!
//! A decomposition is the op table's fallback slot (PyTorch's `CompositeImplicitAutograd`,
//! tract's `declutter`): inference, the executor and the TensorRT converter use it whenever
//! they have no direct implementation of an operator. It is a function over a [`DecompCx`],
//! which binds the call's arguments by schema name and inserts new calls, with inferred
//! types, in front of the node being decomposed.

use super::bind::{Binding, Bound, BoundArgs};
use super::{InferArgs, OpRegistry, Schema};
use crate::graph::{Arg, Graph, NodeBuilder, NodeId, Op, ValueId, F64};
use crate::types::{TensorType, Type};
use std::sync::Arc;

/// A decomposition: emits calls through the context and returns one [`Arg`] per result of the
/// decomposed operator (a value, or for scalar results a literal).
pub type DecompFn = Arc<dyn Fn(&mut DecompCx<'_>) -> Result<Vec<Arg>, String> + Send + Sync>;

/// The context a decomposition runs in: the call's bound arguments and a way to add calls.
pub struct DecompCx<'a> {
    graph: &'a mut Graph,
    reg: &'a OpRegistry,
    before: NodeId,
    schema: Schema,
    binding: Binding,
    args: Vec<Arg>,
    kwargs: Vec<(String, Arg)>,
    node_name: String,
    fresh: usize,
}

impl<'a> DecompCx<'a> {
    /// A context for decomposing call node `node` of `graph` (its operator's schema from `reg`).
    pub fn new(graph: &'a mut Graph, node: NodeId, reg: &'a OpRegistry) -> Result<Self, String> {
        let data = graph
            .get_node(node)
            .ok_or_else(|| format!("node {node} is not in the graph"))?;
        let Op::Call { target } = &data.op else {
            return Err(format!("{} nodes have no decomposition", data.op.opcode()));
        };
        let schema = reg
            .get(target)
            .and_then(|d| d.schema.clone())
            .ok_or_else(|| format!("`{target}` has no schema"))?;
        let binding =
            Binding::of_call(&schema, &data.args, &data.kwargs).map_err(|e| e.to_string())?;
        Ok(DecompCx {
            args: data.args.clone(),
            kwargs: data.kwargs.clone(),
            node_name: data.name.clone(),
            graph,
            reg,
            before: node,
            schema,
            binding,
            fresh: 0,
        })
    }

    fn view(&self) -> BoundArgs<'_, Arg> {
        BoundArgs {
            schema: &self.schema,
            binding: &self.binding,
            args: &self.args,
            kwargs: &self.kwargs,
        }
    }

    /// Argument `name` as an IR argument: the call's own, the schema default, or `None`.
    pub fn arg(&self, name: &str) -> Result<Arg, String> {
        match self.view().get(name) {
            Some(Bound::Given(a)) | Some(Bound::Default(a)) => Ok(a.clone()),
            Some(Bound::Absent) => Ok(Arg::None),
            None => Err(format!("the schema has no argument `{name}`")),
        }
    }

    /// A required tensor argument.
    pub fn tensor(&self, name: &str) -> Result<ValueId, String> {
        match self.arg(name)? {
            Arg::Value(v) if self.graph.ty(v).as_tensor().is_some() => Ok(v),
            a => Err(format!("argument `{name}` must be a tensor, got {a:?}")),
        }
    }

    /// An optional tensor argument.
    pub fn opt_tensor(&self, name: &str) -> Result<Option<ValueId>, String> {
        match self.arg(name)? {
            Arg::None => Ok(None),
            _ => self.tensor(name).map(Some),
        }
    }

    /// A list of tensors (`Tensor[]`).
    pub fn tensors(&self, name: &str) -> Result<Vec<ValueId>, String> {
        match self.arg(name)? {
            Arg::List(items) => items
                .iter()
                .map(|a| {
                    a.as_value()
                        .ok_or_else(|| format!("`{name}` must hold tensors"))
                })
                .collect(),
            a => Err(format!(
                "argument `{name}` must be a list of tensors, got {a:?}"
            )),
        }
    }

    /// An int literal argument.
    pub fn int(&self, name: &str) -> Result<i64, String> {
        match self.arg(name)? {
            Arg::Int(i) => Ok(i),
            Arg::Bool(b) => Ok(b as i64),
            a => Err(format!(
                "argument `{name}` must be an int literal, got {a:?}"
            )),
        }
    }

    /// An optional int literal argument.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.arg(name)? {
            Arg::None => Ok(None),
            _ => self.int(name).map(Some),
        }
    }

    /// An int list literal argument (a single int broadcasts, as ATen's `int[N]`).
    pub fn ints(&self, name: &str) -> Result<Vec<i64>, String> {
        let a = self.arg(name)?;
        a.as_int_list()
            .ok_or_else(|| format!("argument `{name}` must be an int list literal, got {a:?}"))
    }

    /// A float (or int) literal argument.
    pub fn float(&self, name: &str) -> Result<f64, String> {
        let a = self.arg(name)?;
        a.as_f64()
            .ok_or_else(|| format!("argument `{name}` must be a number literal, got {a:?}"))
    }

    /// A bool literal argument.
    pub fn bool(&self, name: &str) -> Result<bool, String> {
        match self.arg(name)? {
            Arg::Bool(b) => Ok(b),
            a => Err(format!(
                "argument `{name}` must be a bool literal, got {a:?}"
            )),
        }
    }

    /// A string literal argument.
    pub fn str(&self, name: &str) -> Result<String, String> {
        match self.arg(name)? {
            Arg::Str(s) => Ok(s),
            a => Err(format!("argument `{name}` must be a string, got {a:?}")),
        }
    }

    /// The type of result `i` of the call being decomposed: what inference (or the export)
    /// gave it, or [`Type::None`] while the call is inferred through this decomposition.
    /// Lets a decomposition lay out results whose shape PyTorch chose from facts the IR does
    /// not carry (whether a weight requires grad, the device).
    pub fn result_type(&self, i: usize) -> Option<&Type> {
        let v = *self.graph.node(self.before).results.get(i)?;
        Some(self.graph.ty(v))
    }

    /// The type of value `v`.
    pub fn ty(&self, v: ValueId) -> &Type {
        self.graph.ty(v)
    }

    /// The tensor type of value `v`.
    pub fn tensor_type(&self, v: ValueId) -> Result<&TensorType, String> {
        self.graph
            .ty(v)
            .as_tensor()
            .ok_or_else(|| format!("value {v} is not a tensor"))
    }

    /// The rank of tensor `v`.
    pub fn rank(&self, v: ValueId) -> Result<usize, String> {
        Ok(self.tensor_type(v)?.shape.len())
    }

    /// Adds a call of `op` with positional `args`; returns its single result.
    pub fn call(&mut self, op: &str, args: Vec<Arg>) -> Result<ValueId, String> {
        let rs = self.call_kw(op, args, Vec::new())?;
        match rs.as_slice() {
            [v] => Ok(*v),
            _ => Err(format!("`{op}` has {} results, expected one", rs.len())),
        }
    }

    /// Adds a call of `op`; returns its results, typed by `op`'s inference.
    pub fn call_kw(
        &mut self,
        op: &str,
        args: Vec<Arg>,
        kwargs: Vec<(String, Arg)>,
    ) -> Result<Vec<ValueId>, String> {
        let def = self
            .reg
            .get(op)
            .ok_or_else(|| format!("decomposition calls unknown op `{op}`"))?;
        let infer = def
            .infer
            .as_ref()
            .ok_or_else(|| format!("decomposition calls `{op}`, which has no inference"))?;
        let g = &*self.graph;
        let type_of = |v: ValueId| g.get_value(v).map_or(Type::None, |d| d.ty.clone());
        let types = infer(&InferArgs {
            args: &args,
            kwargs: &kwargs,
            type_of: &type_of,
        })
        .map_err(|e| format!("`{op}`: {e}"))?;
        let base = op.split('.').nth(1).unwrap_or("v");
        let mut b = NodeBuilder::call(op).args(args);
        for (k, a) in kwargs {
            b = b.kwarg(k, a);
        }
        for ty in types {
            self.fresh += 1;
            b = b.result(format!("{}_{base}_{}", self.node_name, self.fresh), ty);
        }
        let n = self.graph.insert_before(self.before, b);
        Ok(self.graph.node(n).results.to_vec())
    }
}

/// An int literal argument.
pub fn int(v: i64) -> Arg {
    Arg::Int(v)
}

/// A float literal argument.
pub fn float(v: f64) -> Arg {
    Arg::Float(F64(v))
}

/// An int list literal argument.
pub fn ints(v: &[i64]) -> Arg {
    Arg::List(v.iter().map(|&x| Arg::Int(x)).collect())
}

/// A value argument.
pub fn val(v: ValueId) -> Arg {
    Arg::Value(v)
}

/// Runs the decomposition of call node `node`, inserting its calls in front of it, and
/// returns the values that replace the node's results; `Ok(None)` when its operator has no
/// decomposition. The node itself is left in place.
pub fn expand(g: &mut Graph, node: NodeId, reg: &OpRegistry) -> Result<Option<Vec<Arg>>, String> {
    let Some(Op::Call { target }) = g.get_node(node).map(|n| &n.op) else {
        return Ok(None);
    };
    let Some(f) = reg.get(target).and_then(|d| d.decomposition.clone()) else {
        return Ok(None);
    };
    let target = target.clone();
    let mut cx = DecompCx::new(g, node, reg)?;
    let outs = f(&mut cx).map_err(|e| format!("decomposing `{target}`: {e}"))?;
    let n_results = g.node(node).results.len();
    if outs.len() != n_results {
        return Err(format!(
            "the decomposition of `{target}` gives {} result(s), the node has {n_results}",
            outs.len()
        ));
    }
    Ok(Some(outs))
}

/// Replaces call node `node` with its decomposition: the new calls go in front of it, uses of
/// its results move to theirs, and the node is removed. `Ok(false)` when its operator has no
/// decomposition.
pub fn decompose_node(g: &mut Graph, node: NodeId, reg: &OpRegistry) -> Result<bool, String> {
    let Some(outs) = expand(g, node, reg)? else {
        return Ok(false);
    };
    let results = g.node(node).results.to_vec();
    for (r, out) in results.iter().zip(&outs) {
        match out {
            Arg::Value(v) => {
                g.replace_all_uses(*r, *v);
            }
            _ if g.value(*r).uses().is_empty() => {}
            other => {
                return Err(format!(
                    "the decomposition gives the literal {other:?} for a used result"
                ))
            }
        }
    }
    g.remove_node(node).map_err(|e| e.to_string())?;
    Ok(true)
}

/// Decomposes every call in `g` whose operator `want` selects and has a decomposition,
/// repeating on the calls that decompositions introduce (at most `max_rounds` rounds, so a
/// decomposition that calls itself cannot loop). Returns the number of nodes decomposed.
pub fn decompose_graph(
    g: &mut Graph,
    reg: &OpRegistry,
    want: &dyn Fn(&str) -> bool,
    max_rounds: usize,
) -> Result<usize, String> {
    let mut total = 0;
    for _ in 0..max_rounds {
        let todo: Vec<NodeId> = g
            .node_ids()
            .into_iter()
            .filter(|&id| match &g.node(id).op {
                Op::Call { target } => {
                    want(target) && reg.get(target).is_some_and(|d| d.decomposition.is_some())
                }
                _ => false,
            })
            .collect();
        if todo.is_empty() {
            return Ok(total);
        }
        for n in todo {
            if decompose_node(g, n, reg)? {
                total += 1;
            }
        }
    }
    Ok(total)
}

/// A scratch graph for inferring one call through a body: one placeholder (typed from
/// `a.type_of`) per distinct value the call reads, and the call's arguments rewritten to read
/// those placeholders. Shared by decompositions and op-library bodies.
pub(crate) fn scratch_call_graph(
    name: &str,
    a: &InferArgs<'_>,
) -> (Graph, Vec<Arg>, Vec<(String, Arg)>) {
    let mut g = Graph::new(name);
    let mut map: rustc_hash::FxHashMap<ValueId, ValueId> = Default::default();
    let mut remap = |arg: &Arg, g: &mut Graph| -> Arg {
        let mut arg = arg.clone();
        arg.map_values(&mut |v| {
            *map.entry(v).or_insert_with(|| {
                let n = g.append(
                    NodeBuilder::new(Op::Placeholder)
                        .result(format!("in{}", v.as_u32()), (a.type_of)(v)),
                );
                g.node(n).results[0]
            })
        });
        arg
    };
    let args: Vec<Arg> = a.args.iter().map(|x| remap(x, &mut g)).collect();
    let kwargs: Vec<(String, Arg)> = a
        .kwargs
        .iter()
        .map(|(k, x)| (k.clone(), remap(x, &mut g)))
        .collect();
    (g, args, kwargs)
}

/// Result types of a call of `op` computed through its decomposition, in a scratch graph
/// holding one placeholder per value the call reads.
pub fn infer_by_decomposition(
    reg: &OpRegistry,
    op: &str,
    a: &InferArgs<'_>,
) -> Result<Vec<Type>, String> {
    let (mut g, args, kwargs) = scratch_call_graph("decomposition", a);
    let n_results = reg
        .get(op)
        .and_then(|d| d.schema.as_ref())
        .map_or(1, |s| s.returns.len());
    let mut b = NodeBuilder::call(op).args(args);
    for (k, x) in kwargs {
        b = b.kwarg(k, x);
    }
    for i in 0..n_results {
        b = b.result(format!("r{i}"), Type::None);
    }
    let node = g.append(b);
    // Run the decomposition itself rather than `expand`: an op returning `Tensor[]` has one
    // result per list element, a count known only once the decomposition has run.
    let f = reg
        .get(op)
        .and_then(|d| d.decomposition.clone())
        .ok_or_else(|| format!("`{op}` has no decomposition"))?;
    let outs = f(&mut DecompCx::new(&mut g, node, reg)?)
        .map_err(|e| format!("decomposing `{op}`: {e}"))?;
    Ok(outs
        .iter()
        .map(|o| match o {
            Arg::Value(v) => g.ty(*v).clone(),
            Arg::Int(_) => Type::Int,
            Arg::Float(_) => Type::Float,
            Arg::Bool(_) => Type::Bool,
            _ => Type::None,
        })
        .collect())
}
