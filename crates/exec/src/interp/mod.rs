//! The IR interpreter: runs a [`Program`] on CPU by mapping each node onto the kernels.
//!
//! It is both the fallback runtime (segments TensorRT does not take) and the oracle for tests:
//! a pass must not change what it computes. Values are [`Value`]s: tensors, Python-like scalars
//! (SymInts computed at run time are plain ints here), lists and subgraph references.
//!
//! Each graph gets a plan on first run that resolves every call node once: its kernel (a user
//! kernel, else the kernel table of [`crate::ops`], by op id) and the binding of its arguments
//! to the operator's schema. Kernels read arguments by schema name ([`CallArgs`]), so a call
//! written with keywords and one written positionally run the same. Operators with no kernel
//! but a decomposition in the op table run through the decomposition.

mod const_eval;

pub use const_eval::KernelEvaluator;

use crate::ops::Kernel;
use crate::tensor::{Scalar, Tensor};
use crate::{DType, ExecError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use trtfx_ir::ops::decomp::decompose_graph;
use trtfx_ir::ops::{ArgSource, Binding, OpRegistry, Schema};
use trtfx_ir::{
    Arg, DimSpec, Graph, GraphId, InputKind, InputSpec, NodeId, Op, OutputKind, Program, ValueId,
};

/// A run-time value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A tensor.
    Tensor(Tensor),
    /// An int (also every SymInt, which is concrete at run time).
    Int(i64),
    /// A float (also SymFloat).
    Float(f64),
    /// A bool (also SymBool).
    Bool(bool),
    /// A string.
    Str(String),
    /// A dtype argument.
    DType(DType),
    /// A list.
    List(Vec<Value>),
    /// A subgraph reference (higher-order op operands).
    Graph(GraphId),
    /// `None`.
    None,
    /// An effect token.
    Token,
}

impl Value {
    /// The tensor, if this is one.
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// Short kind name for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Tensor(_) => "Tensor",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Str(_) => "str",
            Value::DType(_) => "dtype",
            Value::List(_) => "list",
            Value::Graph(_) => "graph",
            Value::None => "None",
            Value::Token => "token",
        }
    }
}

/// Errors from running a program.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// A kernel rejected its arguments.
    #[error("node `{node}` ({op}): {source}")]
    Kernel {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// The kernel's error.
        source: ExecError,
    },
    /// An argument had the wrong kind or was missing.
    #[error("node `{node}` ({op}): {msg}")]
    BadArgument {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// What was wrong.
        msg: String,
    },
    /// No kernel for the operator.
    #[error("node `{node}`: no CPU kernel for operator `{op}`{hint}")]
    Unsupported {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// Extra advice (for custom ops: how to register a kernel).
        hint: String,
    },
    /// User inputs that do not match the program's input specs.
    #[error("input error: {0}")]
    Input(String),
    /// A weight that could not be read.
    #[error("weight `{name}`: {msg}")]
    Weight {
        /// Weight name.
        name: String,
        /// What went wrong.
        msg: String,
    },
    /// A malformed program (should have been caught by the verifier).
    #[error("invalid program: {0}")]
    Program(String),
}

/// Result alias for the interpreter.
pub type RunResult<T> = std::result::Result<T, RunError>;

/// A user kernel for a custom operator: receives the call's arguments, returns its results.
pub type CustomKernel = Arc<dyn Fn(&CallArgs<'_>) -> Result<Vec<Value>, String> + Send + Sync>;

/// Runs one subgraph in place of the interpreter (see [`Executor::override_graph`]): receives
/// the `call_graph` arguments in placeholder order, returns the graph's outputs in order.
pub type GraphRunner = Arc<dyn Fn(&[Value]) -> Result<Vec<Value>, String> + Send + Sync>;

/// An operator's schema as kernels read it: the schema and its default literals converted to
/// run-time values once (per operator, not per call).
#[derive(Debug)]
pub struct Signature {
    pub(crate) schema: Schema,
    /// Per schema argument, its default as a value (`None`: no default, or one the executor
    /// cannot represent, which reads as an error naming the argument).
    pub(crate) defaults: Vec<Option<Value>>,
}

impl Signature {
    /// The signature of `schema`.
    pub fn new(schema: Schema) -> Signature {
        let defaults = schema
            .args
            .iter()
            .map(|a| a.default.as_ref().and_then(|d| literal(d).ok()))
            .collect();
        Signature { schema, defaults }
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}

/// The arguments of one call.
///
/// Kernels of operators with a schema read arguments by schema name only (`c.tensor("self")`,
/// `c.int("dim")`), with the schema's defaults applied, through the call's [`Binding`]
/// (computed once per node). Custom operators without a schema (user kernels registered with
/// [`Executor::register_kernel`], higher-order ops) read the raw call with [`CallArgs::raw`].
pub struct CallArgs<'a> {
    /// Operator name.
    pub op: &'a str,
    /// Node name (for error messages).
    pub node: &'a str,
    /// Positional arguments as the call wrote them (raw: see [`CallArgs::raw`]).
    pub args: Vec<Value>,
    /// Keyword arguments as the call wrote them.
    pub kwargs: Vec<(String, Value)>,
    sig: Option<&'a Signature>,
    binding: Option<&'a Binding>,
    result_dtype: Option<DType>,
    ex: Option<&'a Executor<'a>>,
}

impl<'a> CallArgs<'a> {
    /// A call with no schema (read with [`CallArgs::raw`]); for testing custom kernels.
    pub fn unbound(
        op: &'a str,
        node: &'a str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Self {
        CallArgs {
            op,
            node,
            args,
            kwargs,
            sig: None,
            binding: None,
            result_dtype: None,
            ex: None,
        }
    }

    /// The call bound to its operator's signature `sig` by `binding` (the plan's resolution
    /// of a node), with the node's first result dtype and the executor running it.
    pub(crate) fn bind(
        self,
        sig: Option<&'a Signature>,
        binding: Option<&'a Binding>,
        result_dtype: Option<DType>,
        ex: Option<&'a Executor<'a>>,
    ) -> Self {
        CallArgs {
            sig,
            binding,
            result_dtype,
            ex,
            ..self
        }
    }

    pub(crate) fn err(&self, msg: impl Into<String>) -> RunError {
        RunError::BadArgument {
            node: self.node.to_string(),
            op: self.op.to_string(),
            msg: msg.into(),
        }
    }

    /// True when the call involves a complex tensor: an operand (lists included), a complex
    /// dtype argument, or a complex result type.
    pub(crate) fn touches_complex(&self) -> bool {
        fn has(v: &Value) -> bool {
            match v {
                Value::Tensor(t) => t.dtype().is_complex(),
                Value::DType(d) => d.is_complex(),
                Value::List(vs) => vs.iter().any(has),
                _ => false,
            }
        }
        self.result_dtype.is_some_and(|d| d.is_complex())
            || self.args.iter().any(has)
            || self.kwargs.iter().any(|(_, v)| has(v))
    }

    /// Wraps a kernel error with the node's identity.
    pub fn kernel_err(&self, e: ExecError) -> RunError {
        RunError::Kernel {
            node: self.node.to_string(),
            op: self.op.to_string(),
            source: e,
        }
    }

    /// The executor running this call (higher-order ops run subgraphs through it).
    pub(crate) fn executor(&self) -> RunResult<&'a Executor<'a>> {
        self.ex
            .ok_or_else(|| self.err("needs an executor to run subgraphs"))
    }

    /// The dtype of the node's first result when it is a tensor the executor handles:
    /// creation and conversion ops use it so defaults (int64 vs float32 for `arange`, the
    /// default dtype) match the export.
    pub(crate) fn result_dtype(&self) -> Option<DType> {
        self.result_dtype
    }

    /// Raw access for custom kernels of operators without a schema: the positional argument
    /// `i`, or the keyword argument `name`; `None` when omitted or `None`. Kernels of
    /// operators with a schema read by name instead ([`CallArgs::get`]).
    pub fn raw(&self, i: usize, name: &str) -> Option<&Value> {
        let v = self
            .kwargs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .or_else(|| self.args.get(i));
        v.filter(|v| !matches!(v, Value::None))
    }

    /// True when the operator's schema has an argument `name`.
    pub fn has(&self, name: &str) -> bool {
        self.sig.is_some_and(|s| s.schema.arg_index(name).is_some())
    }

    /// Schema argument `name`: the call's value, else the schema default; `None` when it is
    /// omitted without a default or is `None`. An error when the schema has no such argument
    /// (or the operator has no schema and the call has no such keyword).
    pub fn get(&self, name: &str) -> RunResult<Option<&Value>> {
        let v = match (self.sig, self.binding) {
            (Some(sig), Some(b)) => {
                let i = sig
                    .schema
                    .arg_index(name)
                    .ok_or_else(|| self.err(format!("the schema has no argument `{name}`")))?;
                match b.source(i) {
                    Some(ArgSource::Positional(p)) => self.args.get(p as usize),
                    Some(ArgSource::Keyword(k)) => self.kwargs.get(k as usize).map(|(_, v)| v),
                    Some(ArgSource::Default) => {
                        Some(sig.defaults[i].as_ref().ok_or_else(|| {
                            self.err(format!(
                                "the default of argument `{name}` cannot be represented"
                            ))
                        })?)
                    }
                    Some(ArgSource::Absent) | None => None,
                }
            }
            _ => self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v),
        };
        Ok(v.filter(|v| !matches!(v, Value::None)))
    }

    /// A required argument of any kind.
    pub fn value(&self, name: &str) -> RunResult<&Value> {
        self.get(name)?
            .ok_or_else(|| self.err(format!("missing argument `{name}`")))
    }

    /// A required tensor.
    pub fn tensor(&self, name: &str) -> RunResult<&Tensor> {
        match self.get(name)? {
            Some(Value::Tensor(t)) => Ok(t),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a Tensor, got {}",
                v.kind()
            ))),
            None => Err(self.err(format!("missing tensor argument `{name}`"))),
        }
    }

    /// An optional tensor.
    pub fn opt_tensor(&self, name: &str) -> RunResult<Option<&Tensor>> {
        match self.get(name)? {
            Some(Value::Tensor(t)) => Ok(Some(t)),
            None => Ok(None),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a Tensor or None, got {}",
                v.kind()
            ))),
        }
    }

    /// A list of tensors (`Tensor[]`).
    pub fn tensors(&self, name: &str) -> RunResult<Vec<&Tensor>> {
        match self.get(name)? {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Tensor(t) => Ok(t),
                    v => Err(self.err(format!("`{name}` must hold tensors, got {}", v.kind()))),
                })
                .collect(),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a list of tensors, got {}",
                v.kind()
            ))),
            None => Err(self.err(format!("missing argument `{name}`"))),
        }
    }

    /// A list of optional tensors (`Tensor?[]`).
    pub fn opt_tensors(&self, name: &str) -> RunResult<Vec<Option<&Tensor>>> {
        match self.get(name)? {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Tensor(t) => Ok(Some(t)),
                    Value::None => Ok(None),
                    v => Err(self.err(format!(
                        "`{name}` must hold tensors or None, got {}",
                        v.kind()
                    ))),
                })
                .collect(),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a list, got {}",
                v.kind()
            ))),
            None => Err(self.err(format!("missing argument `{name}`"))),
        }
    }

    /// A required int (a bool or a 0-dim integer tensor is accepted like Python does).
    pub fn int(&self, name: &str) -> RunResult<i64> {
        self.opt_int(name)?
            .ok_or_else(|| self.err(format!("missing int argument `{name}`")))
    }

    /// An optional int.
    pub fn opt_int(&self, name: &str) -> RunResult<Option<i64>> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => v.to_int().map(Some).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be an int, got {}",
                    v.kind()
                ))
            }),
        }
    }

    /// A required list of ints (a single int is broadcast to a one-element list, as ATen's
    /// `int[N]`).
    pub fn ints(&self, name: &str) -> RunResult<Vec<i64>> {
        self.opt_ints(name)?
            .ok_or_else(|| self.err(format!("missing int list argument `{name}`")))
    }

    /// An optional list of ints.
    pub fn opt_ints(&self, name: &str) -> RunResult<Option<Vec<i64>>> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| {
                    v.to_int().ok_or_else(|| {
                        self.err(format!("`{name}` must hold ints, got {}", v.kind()))
                    })
                })
                .collect::<RunResult<Vec<_>>>()
                .map(Some),
            Some(v) => v.to_int().map(|x| Some(vec![x])).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be an int list, got {}",
                    v.kind()
                ))
            }),
        }
    }

    /// A required float (ints, bools and 0-dim tensors accepted).
    pub fn float(&self, name: &str) -> RunResult<f64> {
        self.opt_float(name)?
            .ok_or_else(|| self.err(format!("missing float argument `{name}`")))
    }

    /// An optional float.
    pub fn opt_float(&self, name: &str) -> RunResult<Option<f64>> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => v.to_f64().map(Some).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be a float, got {}",
                    v.kind()
                ))
            }),
        }
    }

    /// An optional list of floats.
    pub fn opt_floats(&self, name: &str) -> RunResult<Option<Vec<f64>>> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| {
                    v.to_f64()
                        .ok_or_else(|| self.err(format!("`{name}` must hold floats")))
                })
                .collect::<RunResult<Vec<_>>>()
                .map(Some),
            Some(v) => v.to_f64().map(|x| Some(vec![x])).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be a float list, got {}",
                    v.kind()
                ))
            }),
        }
    }

    /// A required bool (ints accepted).
    pub fn bool(&self, name: &str) -> RunResult<bool> {
        match self.get(name)? {
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Int(v)) => Ok(*v != 0),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a bool, got {}",
                v.kind()
            ))),
            None => Err(self.err(format!("missing bool argument `{name}`"))),
        }
    }

    /// A required Python scalar (`Scalar`); a 0-dim tensor is accepted and read as its item.
    pub fn scalar(&self, name: &str) -> RunResult<Scalar> {
        self.opt_scalar(name)?
            .ok_or_else(|| self.err(format!("missing scalar argument `{name}`")))
    }

    /// An optional scalar.
    pub fn opt_scalar(&self, name: &str) -> RunResult<Option<Scalar>> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => v.to_scalar().map(Some).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be a number, got {}",
                    v.kind()
                ))
            }),
        }
    }

    /// A required dtype.
    pub fn dtype(&self, name: &str) -> RunResult<DType> {
        self.opt_dtype(name)?
            .ok_or_else(|| self.err(format!("missing dtype argument `{name}`")))
    }

    /// An optional dtype.
    pub fn opt_dtype(&self, name: &str) -> RunResult<Option<DType>> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::DType(d)) => Ok(Some(*d)),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a dtype, got {}",
                v.kind()
            ))),
        }
    }

    /// A required string.
    pub fn str(&self, name: &str) -> RunResult<&str> {
        self.opt_str(name)?
            .ok_or_else(|| self.err(format!("missing string argument `{name}`")))
    }

    /// An optional string.
    pub fn opt_str(&self, name: &str) -> RunResult<Option<&str>> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a string, got {}",
                v.kind()
            ))),
        }
    }
}

impl Value {
    /// As an int: ints, bools and one-element integer tensors (Python's `__index__`).
    pub fn to_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            Value::Tensor(t) if t.numel() == 1 && !t.dtype().is_float() => {
                Some(t.item().ok()?.to_i64())
            }
            _ => None,
        }
    }

    /// As a float: numbers and one-element tensors.
    pub fn to_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            Value::Bool(b) => Some(*b as u8 as f64),
            Value::Tensor(t) if t.numel() == 1 => Some(t.item().ok()?.to_f64()),
            _ => None,
        }
    }

    /// As a Python scalar: numbers and one-element tensors.
    pub fn to_scalar(&self) -> Option<Scalar> {
        match self {
            Value::Float(f) => Some(Scalar::Float(*f)),
            Value::Int(i) => Some(Scalar::Int(*i)),
            Value::Bool(b) => Some(Scalar::Bool(*b)),
            Value::Tensor(t) if t.numel() == 1 => t.item().ok(),
            _ => None,
        }
    }
}

fn value_to_int(v: &Value) -> Option<i64> {
    v.to_int()
}

/// Maps an IR dtype onto the executor's, if the executor computes with it.
pub fn exec_dtype(d: trtfx_ir::DType) -> Option<DType> {
    use trtfx_ir::DType as I;
    Some(match d {
        I::F64 => DType::F64,
        I::F32 => DType::F32,
        I::F16 => DType::F16,
        I::BF16 => DType::BF16,
        I::I64 => DType::I64,
        I::I32 => DType::I32,
        I::I16 => DType::I16,
        I::I8 => DType::I8,
        I::U8 => DType::U8,
        I::Bool => DType::Bool,
        I::U16 => DType::U16,
        I::U32 => DType::U32,
        I::U64 => DType::U64,
        I::C64 => DType::C64,
        I::C128 => DType::C128,
        _ => return None,
    })
}

/// Maps an executor dtype back onto the IR's.
pub fn ir_dtype(d: DType) -> trtfx_ir::DType {
    use trtfx_ir::DType as I;
    match d {
        DType::F64 => I::F64,
        DType::F32 => I::F32,
        DType::F16 => I::F16,
        DType::BF16 => I::BF16,
        DType::I64 => I::I64,
        DType::I32 => I::I32,
        DType::I16 => I::I16,
        DType::I8 => I::I8,
        DType::U8 => I::U8,
        DType::Bool => I::Bool,
        DType::U16 => I::U16,
        DType::U32 => I::U32,
        DType::U64 => I::U64,
        DType::C64 => I::C64,
        DType::C128 => I::C128,
    }
}

/// Runs programs: holds decoded weights (decoded once, shared across runs) and user kernels.
pub struct Executor<'p> {
    program: &'p Program,
    /// The program with every call that has no kernel but a decomposition expanded (made on
    /// first run, when user kernels are known; `None` when no call needs it).
    decomposed: OnceLock<Result<Option<Box<Program>>, RunError>>,
    weights: Mutex<HashMap<String, Tensor>>,
    custom: HashMap<String, CustomKernel>,
    /// Per graph, what a run needs beyond the graph (built on first use).
    plans: Mutex<HashMap<GraphId, Arc<GraphSchedule>>>,
    /// Results of weight-only layout nodes ([`GraphSchedule::fold`]), by graph and node position.
    folded: Mutex<HashMap<(GraphId, usize), Vec<Value>>>,
    /// Subgraphs run by another runtime (TensorRT segments of a compiled program).
    overrides: HashMap<GraphId, GraphRunner>,
    /// The op table decompositions come from: the standard one, or a user's extended copy
    /// (custom operators from op libraries, whose bodies are their decompositions).
    ops: Option<Arc<OpRegistry>>,
}

/// What running a graph needs besides the graph, computed once per graph.
struct GraphSchedule {
    /// Nodes in execution order.
    order: Vec<NodeId>,
    /// Per value index: position in `order` of its last reader (`usize::MAX`: never read), so
    /// large intermediates are freed as soon as possible.
    last_use: Vec<usize>,
    /// Per position: the node is a foldable op (a pure layout op: permute, transpose, view,
    /// ...; flagged in the kernel table) whose tensor inputs are all weights or other such
    /// nodes, so its result is the same on every run and is computed once (e.g. the
    /// `permute` of a `linear` weight in core ATen programs).
    fold: Vec<bool>,
    /// Per position: how a call node runs (`None` for other nodes).
    calls: Vec<Option<NodeCall>>,
}

/// A call node resolved once: its kernel, its schema binding and its result dtype.
struct NodeCall {
    runner: Runner,
    sig: Option<&'static Signature>,
    /// The binding of the call to the operator's schema (`Ok(None)`: no schema), or why the
    /// call does not fit it (reported when the node runs).
    binding: Result<Option<Binding>, String>,
    result_dtype: Option<DType>,
}

enum Runner {
    Table(&'static Kernel),
    Custom(CustomKernel),
    Missing,
}

impl GraphSchedule {
    fn new(
        g: &Graph,
        const_placeholders: &[bool],
        custom: &HashMap<String, CustomKernel>,
    ) -> GraphSchedule {
        let order = g.node_ids();
        let mut last_use = vec![usize::MAX; g.value_capacity()];
        // Values that are the same on every run: weights and folded nodes' results.
        let mut is_const = vec![false; g.value_capacity()];
        let mut fold = vec![false; order.len()];
        let mut calls = Vec::with_capacity(order.len());
        let mut placeholder = 0;
        for (i, &n) in order.iter().enumerate() {
            let node = g.node(n);
            node.for_each_input(|v| {
                if let Some(l) = last_use.get_mut(v.as_u32() as usize) {
                    *l = i;
                }
            });
            let call = match &node.op {
                Op::Call { target } => Some(resolve_call(g, node, target, custom)),
                _ => None,
            };
            let konst = match &node.op {
                Op::Placeholder => {
                    placeholder += 1;
                    const_placeholders
                        .get(placeholder - 1)
                        .copied()
                        .unwrap_or(false)
                }
                Op::GetAttr { .. } => true,
                Op::Call { .. }
                    if call
                        .as_ref()
                        .is_some_and(|c| matches!(c.runner, Runner::Table(k) if k.foldable)) =>
                {
                    let mut all = true;
                    let mut any = false;
                    node.for_each_input(|v| {
                        any = true;
                        all &= is_const.get(v.as_u32() as usize).copied().unwrap_or(false);
                    });
                    fold[i] = all && any;
                    fold[i]
                }
                _ => false,
            };
            calls.push(call);
            if konst {
                for &r in &node.results {
                    if let Some(c) = is_const.get_mut(r.as_u32() as usize) {
                        *c = true;
                    }
                }
            }
        }
        GraphSchedule {
            order,
            last_use,
            fold,
            calls,
        }
    }
}

/// Resolves a call node once: user kernel first, then the kernel table; the operator's
/// signature and the call's binding to it.
fn resolve_call(
    g: &Graph,
    node: &trtfx_ir::NodeData,
    target: &str,
    custom: &HashMap<String, CustomKernel>,
) -> NodeCall {
    let runner = match custom.get(target) {
        Some(k) => Runner::Custom(k.clone()),
        None => crate::ops::kernel(target).map_or(Runner::Missing, Runner::Table),
    };
    let sig = crate::ops::signature(target);
    let binding = match sig {
        Some(s) => Binding::of_call(&s.schema, &node.args, &node.kwargs)
            .map(Some)
            .map_err(|e| e.to_string()),
        None => Ok(None),
    };
    let result_dtype = node
        .results
        .first()
        .and_then(|&r| g.ty(r).as_tensor())
        .and_then(|t| exec_dtype(t.dtype));
    NodeCall {
        runner,
        sig,
        binding,
        result_dtype,
    }
}

impl<'p> Executor<'p> {
    /// An executor for `program`.
    ///
    /// Calls of operators with no kernel (in the table or registered by the user) but with a
    /// decomposition in the op table run through the decomposition: on first run the
    /// executor expands them in a copy of the program.
    pub fn new(program: &'p Program) -> Self {
        Executor {
            program,
            decomposed: OnceLock::new(),
            weights: Mutex::new(HashMap::new()),
            custom: HashMap::new(),
            plans: Mutex::new(HashMap::new()),
            folded: Mutex::new(HashMap::new()),
            overrides: HashMap::new(),
            ops: None,
        }
    }

    /// Takes decompositions from `ops` (the standard registry extended with custom operators,
    /// e.g. from `trtfx_ir::ops::OpLibraries::registry`) instead of the standard registry, so
    /// a custom operator with a library body runs through it. Call before the first run.
    pub fn set_ops(&mut self, ops: Arc<OpRegistry>) {
        self.ops = Some(ops);
    }

    /// Makes every `call_graph(@gid)` run `runner` instead of interpreting the subgraph. The
    /// compiled-program runtime uses it to run TensorRT segments on an engine (or the layer
    /// emulator) while the rest of the program stays on this interpreter.
    pub fn override_graph(&mut self, gid: GraphId, runner: GraphRunner) {
        self.overrides.insert(gid, runner);
    }

    /// Registers a kernel for a custom operator (`mylib.op.default`). Without one, running the
    /// operator is an error that names it. A user kernel takes precedence over the table.
    pub fn register_kernel(&mut self, op: impl Into<String>, k: CustomKernel) {
        self.custom.insert(op.into(), k);
    }

    /// The program (as given, before any decomposition).
    pub fn program(&self) -> &Program {
        self.program
    }

    /// The program that runs: the given one, or its copy with decomposed calls.
    fn prog(&self) -> RunResult<&Program> {
        let d = self.decomposed.get_or_init(|| {
            let needs = |t: &str| !self.custom.contains_key(t) && crate::ops::kernel(t).is_none();
            let reg = self.ops.as_deref().unwrap_or(trtfx_ir::aten::registry());
            decompose_program(self.program, &needs, reg).map(|p| p.map(Box::new))
        });
        match d {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Ok(self.program),
            Err(e) => Err(e.clone()),
        }
    }

    /// A weight as a tensor (decoded on first use).
    pub fn weight(&self, name: &str) -> RunResult<Tensor> {
        if let Some(t) = self.weights.lock().ok().and_then(|m| m.get(name).cloned()) {
            return Ok(t);
        }
        let werr = |msg: String| RunError::Weight {
            name: name.to_string(),
            msg,
        };
        let w = self
            .program
            .weights
            .get(name)
            .ok_or_else(|| werr("not in the program's weight store".into()))?;
        let dt = exec_dtype(w.dtype).ok_or_else(|| {
            werr(format!(
                "dtype {} is not supported by the CPU executor",
                w.dtype
            ))
        })?;
        let bytes = w.bytes().map_err(werr)?;
        let shape: Vec<usize> = w.shape.iter().map(|&d| d.max(0) as usize).collect();
        let t = Tensor::from_le_bytes(&bytes, dt, shape).map_err(|e| werr(e.to_string()))?;
        if let Ok(mut m) = self.weights.lock() {
            m.insert(name.to_string(), t.clone());
        }
        Ok(t)
    }

    /// Checks user inputs against the program's input specs: count, kind, dtype, rank, static
    /// sizes, dynamic ranges, and that a symbol shared by several inputs binds one value.
    pub fn check_inputs(&self, inputs: &[Value]) -> RunResult<()> {
        let specs = &self.program.input_specs;
        let n_user = self.program.signature.user_input_positions().len();
        if inputs.len() != n_user {
            return Err(RunError::Input(format!(
                "the program takes {n_user} user input(s), got {}",
                inputs.len()
            )));
        }
        let mut bound: HashMap<&str, i64> = HashMap::new();
        for (spec, v) in specs.iter().zip(inputs) {
            match spec {
                InputSpec::Tensor { name, dtype, dims } => {
                    let Value::Tensor(t) = v else {
                        return Err(RunError::Input(format!(
                            "input `{name}` must be a tensor, got {}",
                            v.kind()
                        )));
                    };
                    if Some(t.dtype()) != exec_dtype(*dtype) {
                        return Err(RunError::Input(format!(
                            "input `{name}` must have dtype {dtype}, got {}",
                            ir_dtype(t.dtype())
                        )));
                    }
                    if t.ndim() != dims.len() {
                        return Err(RunError::Input(format!(
                            "input `{name}` must have rank {}, got shape {:?}",
                            dims.len(),
                            t.shape()
                        )));
                    }
                    for (axis, (d, &size)) in dims.iter().zip(t.shape()).enumerate() {
                        let size = size as i64;
                        match d {
                            DimSpec::Static(s) if *s != size => {
                                return Err(RunError::Input(format!(
                                    "input `{name}` dim {axis} must be {s}, got {size} (shape {:?})",
                                    t.shape()
                                )))
                            }
                            DimSpec::Dynamic { sym, min, max, .. } => {
                                if size < *min || size > *max {
                                    return Err(RunError::Input(format!(
                                        "input `{name}` dim {axis} is {size}, outside its range {min}..={max}"
                                    )));
                                }
                                if let Some(s) = sym {
                                    if let Some(prev) = bound.insert(s, size) {
                                        if prev != size {
                                            return Err(RunError::Input(format!(
                                                "input `{name}` dim {axis} is {size}, but symbol {s} is already {prev} from another input"
                                            )));
                                        }
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                InputSpec::Scalar { name, range, .. } => {
                    if let (Some((lo, hi)), Some(x)) = (range, value_to_int(v)) {
                        if lo.is_some_and(|lo| x < lo) || hi.is_some_and(|hi| x > hi) {
                            return Err(RunError::Input(format!(
                                "input `{name}` = {x} is outside its range"
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs the main graph on the user inputs (in signature order) and returns the user outputs.
    pub fn run(&self, user_inputs: &[Value]) -> RunResult<Vec<Value>> {
        self.check_inputs(user_inputs)?;
        let p = self.prog()?;
        let main = p.main_graph();
        let placeholders = main.placeholders();
        if placeholders.len() != p.signature.inputs.len() {
            return Err(RunError::Program(format!(
                "main graph has {} placeholders but the signature lists {} inputs",
                placeholders.len(),
                p.signature.inputs.len()
            )));
        }
        let mut user = user_inputs.iter();
        let mut args = Vec::with_capacity(placeholders.len());
        for kind in &p.signature.inputs {
            args.push(match kind {
                InputKind::User { .. } => user.next().cloned().unwrap_or(Value::None),
                InputKind::Parameter { target }
                | InputKind::Buffer { target, .. }
                | InputKind::Constant { target } => Value::Tensor(self.weight(target)?),
                InputKind::ConstantInput { value, .. } => literal(value)?,
                InputKind::Token => Value::Token,
                InputKind::CustomObj { target } => {
                    return Err(RunError::Program(format!(
                        "custom object input `{target}` cannot be run by the CPU executor"
                    )))
                }
            });
        }
        let outs = self.run_graph(p.main, args)?;
        Ok(outs
            .into_iter()
            .zip(
                p.signature
                    .outputs
                    .iter()
                    .chain(std::iter::repeat(&OutputKind::User)),
            )
            .filter(|(_, k)| matches!(k, OutputKind::User))
            .map(|(v, _)| v)
            .collect())
    }

    /// Runs one graph with values for its placeholders; returns its outputs.
    pub fn run_graph(&self, gid: GraphId, inputs: Vec<Value>) -> RunResult<Vec<Value>> {
        let prog = self.prog()?;
        let g = prog
            .graphs
            .get(gid)
            .ok_or_else(|| RunError::Program(format!("no graph {gid}")))?;
        let mut env: Vec<Option<Value>> = vec![None; g.value_capacity()];
        let plan = self.plan(gid, g);
        let mut inputs = inputs.into_iter();
        for (i, &n) in plan.order.iter().enumerate() {
            let node = g.node(n);
            let read = |a: &Arg, env: &Vec<Option<Value>>| -> RunResult<Value> {
                resolve(a, env, &node.name)
            };
            match &node.op {
                Op::Placeholder => {
                    let v = inputs.next().ok_or_else(|| {
                        RunError::Program(format!("graph @{} got too few inputs", g.name))
                    })?;
                    if let Some(&r) = node.results.first() {
                        env[r.index()] = Some(v);
                    }
                }
                Op::GetAttr { target } => {
                    let t = self.weight(target)?;
                    if let Some(&r) = node.results.first() {
                        env[r.index()] = Some(Value::Tensor(t));
                    }
                }
                Op::Output => {
                    return node.args.iter().map(|a| read(a, &env)).collect();
                }
                Op::CallGraph { graph } => {
                    let args = node
                        .args
                        .iter()
                        .map(|a| read(a, &env))
                        .collect::<RunResult<Vec<_>>>()?;
                    let outs = match self.overrides.get(graph) {
                        Some(runner) => runner(&args).map_err(|msg| RunError::BadArgument {
                            node: node.name.clone(),
                            op: format!(
                                "call_graph @{}",
                                prog.graphs.get(*graph).map_or("?", |g| &g.name)
                            ),
                            msg,
                        })?,
                        None => self.run_graph(*graph, args)?,
                    };
                    bind_results(&mut env, &node.results, outs, &node.name)?;
                }
                Op::Call { .. } if plan.fold[i] && self.bind_folded(gid, i, &mut env, node)? => {}
                Op::Call { target } => {
                    let Some(nc) = plan.calls[i].as_ref() else {
                        return Err(RunError::Program(format!(
                            "node `{}` has no resolved call",
                            node.name
                        )));
                    };
                    let binding = match &nc.binding {
                        Ok(b) => b.as_ref(),
                        Err(msg) => {
                            return Err(RunError::BadArgument {
                                node: node.name.clone(),
                                op: target.clone(),
                                msg: msg.clone(),
                            })
                        }
                    };
                    let call = CallArgs::unbound(
                        target,
                        &node.name,
                        node.args
                            .iter()
                            .map(|a| read(a, &env))
                            .collect::<RunResult<_>>()?,
                        node.kwargs
                            .iter()
                            .map(|(k, a)| Ok((k.clone(), read(a, &env)?)))
                            .collect::<RunResult<_>>()?,
                    )
                    .bind(nc.sig, binding, nc.result_dtype, Some(self));
                    let outs = match &nc.runner {
                        Runner::Table(k) => k.run(&call)?,
                        Runner::Custom(k) => k(&call).map_err(|msg| RunError::BadArgument {
                            node: node.name.clone(),
                            op: target.clone(),
                            msg,
                        })?,
                        Runner::Missing => return Err(unsupported(&node.name, target)),
                    };
                    if plan.fold[i] {
                        if let Ok(mut m) = self.folded.lock() {
                            m.insert((gid, i), outs.clone());
                        }
                    }
                    bind_results(&mut env, &node.results, outs, &node.name)?;
                }
            }
            // Free values whose last use was this node.
            node.for_each_input(|v| {
                if plan.last_use.get(v.index()) == Some(&i) {
                    env[v.index()] = None;
                }
            });
        }
        Err(RunError::Program(format!(
            "graph @{} has no output node",
            g.name
        )))
    }
}

impl Executor<'_> {
    /// The plan of graph `gid` (built on first use).
    fn plan(&self, gid: GraphId, g: &Graph) -> Arc<GraphSchedule> {
        if let Some(p) = self.plans.lock().ok().and_then(|m| m.get(&gid).cloned()) {
            return p;
        }
        // Main-graph placeholders fed from the weight store are constants.
        let consts: Vec<bool> = if gid == self.program.main {
            self.program
                .signature
                .inputs
                .iter()
                .map(|k| {
                    matches!(
                        k,
                        InputKind::Parameter { .. }
                            | InputKind::Buffer { .. }
                            | InputKind::Constant { .. }
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let p = Arc::new(GraphSchedule::new(g, &consts, &self.custom));
        if let Ok(mut m) = self.plans.lock() {
            m.insert(gid, p.clone());
        }
        p
    }

    /// Binds the cached results of folded node `pos` of graph `gid`; `false` when not computed
    /// yet.
    fn bind_folded(
        &self,
        gid: GraphId,
        pos: usize,
        env: &mut [Option<Value>],
        node: &trtfx_ir::NodeData,
    ) -> RunResult<bool> {
        let Some(outs) = self
            .folded
            .lock()
            .ok()
            .and_then(|m| m.get(&(gid, pos)).cloned())
        else {
            return Ok(false);
        };
        bind_results(env, &node.results, outs, &node.name)?;
        Ok(true)
    }
}

/// A copy of `p` with its in-place calls functionalized ([`trtfx_ir::functionalize`]) and every
/// call that `needs` selects (operators without a kernel) and that has a decomposition in the
/// op table expanded into other calls; `None` when there is nothing to do.
fn decompose_program(
    p: &Program,
    needs: &dyn Fn(&str) -> bool,
    reg: &OpRegistry,
) -> RunResult<Option<Program>> {
    let want = |t: &str| needs(t) && reg.get(t).is_some_and(|d| d.decomposition.is_some());
    let any = p.graphs.values().any(|g| {
        g.node_ids()
            .into_iter()
            .any(|n| g.node(n).op.target().is_some_and(want))
    });
    // Every value is computed as a copy here, so a write through a view must be carried back
    // to the tensor it views before running (the export dialect keeps in-place calls).
    let functional = trtfx_ir::functionalize::functionalize_program(p, reg);
    if !any && functional.is_none() {
        return Ok(None);
    }
    let mut q = functional.unwrap_or_else(|| p.clone());
    for (_, g) in q.graphs.iter_mut() {
        // Decompositions may call ops that decompose again; a few rounds reach kernels.
        decompose_graph(g, reg, &want, 8)
            .map_err(|e| RunError::Program(format!("graph @{}: {e}", g.name)))?;
    }
    Ok(Some(q))
}

/// The error for a call with no kernel and no decomposition.
fn unsupported(node: &str, op: &str) -> RunError {
    let def = trtfx_ir::aten::registry().get(op);
    RunError::Unsupported {
        node: node.to_string(),
        op: op.to_string(),
        hint: if def.is_some_and(|d| d.tags.random) {
            // Seeded random ops would run, but never with PyTorch's values.
            ": it draws random values, which cannot match PyTorch's generator".into()
        } else if def.is_some() {
            String::new()
        } else {
            "; it is a custom operator: give it an op library (`--op-library FILE`, \
             docs/custom-ops.md) or register a kernel with Executor::register_kernel"
                .into()
        },
    }
}

fn bind_results(
    env: &mut [Option<Value>],
    results: &[ValueId],
    outs: Vec<Value>,
    node: &str,
) -> RunResult<()> {
    let outs = bind_results_into(results.len(), outs, node)?;
    for (&r, v) in results.iter().zip(outs) {
        env[r.index()] = Some(v);
    }
    Ok(())
}

/// A kernel's outputs as one value per result: a list returned for a node whose results were
/// flattened (split → N values) is spread out. Errors when there are too few.
fn bind_results_into(n_results: usize, outs: Vec<Value>, node: &str) -> RunResult<Vec<Value>> {
    let mut outs = if n_results > 1 && outs.len() == 1 {
        match outs.into_iter().next() {
            Some(Value::List(items)) => items,
            Some(v) => vec![v],
            None => vec![],
        }
    } else {
        outs
    };
    if outs.len() < n_results {
        return Err(RunError::Program(format!(
            "node `{node}` produced {} values for {n_results} results",
            outs.len(),
        )));
    }
    outs.truncate(n_results);
    Ok(outs)
}

fn resolve(a: &Arg, env: &[Option<Value>], node: &str) -> RunResult<Value> {
    Ok(match a {
        Arg::Value(v) => env.get(v.index()).and_then(|x| x.clone()).ok_or_else(|| {
            RunError::Program(format!(
                "node `{node}` reads value {v} before it is defined"
            ))
        })?,
        Arg::List(items) => Value::List(
            items
                .iter()
                .map(|x| resolve(x, env, node))
                .collect::<RunResult<_>>()?,
        ),
        Arg::Graph(g) => Value::Graph(*g),
        other => literal(other)?,
    })
}

/// Converts a literal argument to a value.
pub fn literal(a: &Arg) -> RunResult<Value> {
    Ok(match a {
        Arg::None => Value::None,
        Arg::Bool(b) => Value::Bool(*b),
        Arg::Int(i) => Value::Int(*i),
        Arg::Float(f) => Value::Float(f.0),
        Arg::Str(s) => Value::Str(s.clone()),
        Arg::DType(d) => Value::DType(exec_dtype(*d).ok_or_else(|| {
            RunError::Program(format!("dtype {d} is not supported by the CPU executor"))
        })?),
        Arg::Device(s) | Arg::Layout(s) | Arg::MemoryFormat(s) | Arg::OpRef(s) => {
            Value::Str(s.clone())
        }
        Arg::List(items) => Value::List(items.iter().map(literal).collect::<RunResult<_>>()?),
        Arg::Graph(g) => Value::Graph(*g),
        Arg::Complex(..) => {
            return Err(RunError::Program(
                "complex literals are not supported by the CPU executor".into(),
            ))
        }
        Arg::Dict(_) => {
            return Err(RunError::Program(
                "dict literals are not supported by the CPU executor".into(),
            ))
        }
        Arg::Value(v) => {
            return Err(RunError::Program(format!(
                "value {v} where a literal was expected"
            )))
        }
    })
}

trait EntityIndex {
    fn index(self) -> usize;
}
impl EntityIndex for ValueId {
    fn index(self) -> usize {
        self.as_u32() as usize
    }
}
