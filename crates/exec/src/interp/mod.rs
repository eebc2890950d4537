//! The IR interpreter: runs a [`Program`] on CPU by mapping each node onto the kernels.
//!
//! It is both the fallback runtime (segments TensorRT does not take) and the oracle for tests:
//! a pass must not change what it computes. Values are [`Value`]s: tensors, Python-like scalars
//! (SymInts computed at run time are plain ints here), lists and subgraph references. Arguments
//! are read by position or by schema name ([`CallArgs`]), so a call written with keywords and
//! one written positionally run the same.

mod dispatch;
mod dispatch_more;

use crate::tensor::{Scalar, Tensor};
use crate::{DType, ExecError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use trtfx_ir::{
    Arg, DimSpec, Graph, GraphId, InputKind, InputSpec, NodeId, Op, OutputKind, Program, Type,
    ValueId,
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

/// The arguments of one call, readable by position or by schema name.
pub struct CallArgs<'a> {
    /// Operator name.
    pub op: &'a str,
    /// Node name (for error messages).
    pub node: &'a str,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Vec<(String, Value)>,
}

impl<'a> CallArgs<'a> {
    fn err(&self, msg: impl Into<String>) -> RunError {
        RunError::BadArgument {
            node: self.node.to_string(),
            op: self.op.to_string(),
            msg: msg.into(),
        }
    }

    /// Wraps a kernel error with the node's identity.
    pub fn kernel_err(&self, e: ExecError) -> RunError {
        RunError::Kernel {
            node: self.node.to_string(),
            op: self.op.to_string(),
            source: e,
        }
    }

    /// The argument at position `i`, or the keyword `name`; `None` when omitted or `None`.
    pub fn get(&self, i: usize, name: &str) -> Option<&Value> {
        let v = self
            .kwargs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .or_else(|| self.args.get(i));
        v.filter(|v| !matches!(v, Value::None))
    }

    /// A required tensor.
    pub fn tensor(&self, i: usize, name: &str) -> RunResult<&Tensor> {
        match self.get(i, name) {
            Some(Value::Tensor(t)) => Ok(t),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a Tensor, got {}",
                v.kind()
            ))),
            None => Err(self.err(format!("missing tensor argument `{name}`"))),
        }
    }

    /// An optional tensor.
    pub fn opt_tensor(&self, i: usize, name: &str) -> RunResult<Option<&Tensor>> {
        match self.get(i, name) {
            Some(Value::Tensor(t)) => Ok(Some(t)),
            None => Ok(None),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a Tensor or None, got {}",
                v.kind()
            ))),
        }
    }

    /// A list of tensors (`Tensor[]`).
    pub fn tensors(&self, i: usize, name: &str) -> RunResult<Vec<&Tensor>> {
        match self.get(i, name) {
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
    pub fn opt_tensors(&self, i: usize, name: &str) -> RunResult<Vec<Option<&Tensor>>> {
        match self.get(i, name) {
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
    pub fn int(&self, i: usize, name: &str) -> RunResult<i64> {
        match self.get(i, name) {
            Some(v) => value_to_int(v).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be an int, got {}",
                    v.kind()
                ))
            }),
            None => Err(self.err(format!("missing int argument `{name}`"))),
        }
    }

    /// An int with a default.
    pub fn int_or(&self, i: usize, name: &str, default: i64) -> RunResult<i64> {
        match self.get(i, name) {
            None => Ok(default),
            Some(_) => self.int(i, name),
        }
    }

    /// An optional int.
    pub fn opt_int(&self, i: usize, name: &str) -> RunResult<Option<i64>> {
        match self.get(i, name) {
            None => Ok(None),
            Some(_) => self.int(i, name).map(Some),
        }
    }

    /// A list of ints (a single int is broadcast to a one-element list, as ATen's `int[N]`).
    pub fn ints(&self, i: usize, name: &str) -> RunResult<Vec<i64>> {
        match self.get(i, name) {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| {
                    value_to_int(v).ok_or_else(|| {
                        self.err(format!("`{name}` must hold ints, got {}", v.kind()))
                    })
                })
                .collect(),
            Some(v) => value_to_int(v).map(|x| vec![x]).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be an int list, got {}",
                    v.kind()
                ))
            }),
            None => Err(self.err(format!("missing int list argument `{name}`"))),
        }
    }

    /// A list of ints with a default.
    pub fn ints_or(&self, i: usize, name: &str, default: &[i64]) -> RunResult<Vec<i64>> {
        match self.get(i, name) {
            None => Ok(default.to_vec()),
            Some(_) => self.ints(i, name),
        }
    }

    /// An optional list of ints.
    pub fn opt_ints(&self, i: usize, name: &str) -> RunResult<Option<Vec<i64>>> {
        match self.get(i, name) {
            None => Ok(None),
            Some(_) => self.ints(i, name).map(Some),
        }
    }

    /// A float with a default (ints accepted).
    pub fn float_or(&self, i: usize, name: &str, default: f64) -> RunResult<f64> {
        match self.get(i, name) {
            None => Ok(default),
            Some(v) => value_to_f64(v).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be a float, got {}",
                    v.kind()
                ))
            }),
        }
    }

    /// An optional float.
    pub fn opt_float(&self, i: usize, name: &str) -> RunResult<Option<f64>> {
        match self.get(i, name) {
            None => Ok(None),
            Some(v) => value_to_f64(v).map(Some).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be a float, got {}",
                    v.kind()
                ))
            }),
        }
    }

    /// An optional list of floats.
    pub fn opt_floats(&self, i: usize, name: &str) -> RunResult<Option<Vec<f64>>> {
        match self.get(i, name) {
            None => Ok(None),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| {
                    value_to_f64(v).ok_or_else(|| self.err(format!("`{name}` must hold floats")))
                })
                .collect::<RunResult<Vec<_>>>()
                .map(Some),
            Some(v) => value_to_f64(v).map(|x| Some(vec![x])).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be a float list, got {}",
                    v.kind()
                ))
            }),
        }
    }

    /// A bool with a default.
    pub fn bool_or(&self, i: usize, name: &str, default: bool) -> RunResult<bool> {
        match self.get(i, name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Int(v)) => Ok(*v != 0),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a bool, got {}",
                v.kind()
            ))),
        }
    }

    /// A Python scalar (`Scalar`); a 0-dim tensor is accepted and read as its item.
    pub fn scalar(&self, i: usize, name: &str) -> RunResult<Scalar> {
        match self.get(i, name) {
            Some(v) => value_to_scalar(v).ok_or_else(|| {
                self.err(format!(
                    "argument `{name}` must be a number, got {}",
                    v.kind()
                ))
            }),
            None => Err(self.err(format!("missing scalar argument `{name}`"))),
        }
    }

    /// A scalar with a default.
    pub fn scalar_or(&self, i: usize, name: &str, default: Scalar) -> RunResult<Scalar> {
        match self.get(i, name) {
            None => Ok(default),
            Some(_) => self.scalar(i, name),
        }
    }

    /// An optional scalar.
    pub fn opt_scalar(&self, i: usize, name: &str) -> RunResult<Option<Scalar>> {
        match self.get(i, name) {
            None => Ok(None),
            Some(_) => self.scalar(i, name).map(Some),
        }
    }

    /// An optional dtype.
    pub fn opt_dtype(&self, i: usize, name: &str) -> RunResult<Option<DType>> {
        match self.get(i, name) {
            None => Ok(None),
            Some(Value::DType(d)) => Ok(Some(*d)),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a dtype, got {}",
                v.kind()
            ))),
        }
    }

    /// An optional string.
    pub fn opt_str(&self, i: usize, name: &str) -> RunResult<Option<&str>> {
        match self.get(i, name) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(format!(
                "argument `{name}` must be a string, got {}",
                v.kind()
            ))),
        }
    }
}

fn value_to_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        Value::Tensor(t) if t.numel() == 1 && !t.dtype().is_float() => {
            Some(t.item().ok()?.to_i64())
        }
        _ => None,
    }
}

fn value_to_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        Value::Bool(b) => Some(*b as u8 as f64),
        Value::Tensor(t) if t.numel() == 1 => Some(t.item().ok()?.to_f64()),
        _ => None,
    }
}

fn value_to_scalar(v: &Value) -> Option<Scalar> {
    match v {
        Value::Float(f) => Some(Scalar::Float(*f)),
        Value::Int(i) => Some(Scalar::Int(*i)),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Tensor(t) if t.numel() == 1 => t.item().ok(),
        _ => None,
    }
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
    }
}

/// Runs programs: holds decoded weights (decoded once, shared across runs) and user kernels.
pub struct Executor<'p> {
    program: &'p Program,
    weights: Mutex<HashMap<String, Tensor>>,
    custom: HashMap<String, CustomKernel>,
    /// Per graph, what a run needs beyond the graph (built on first use).
    plans: Mutex<HashMap<GraphId, Arc<GraphSchedule>>>,
    /// Results of weight-only layout nodes ([`GraphSchedule::fold`]), by graph and node position.
    folded: Mutex<HashMap<(GraphId, usize), Vec<Value>>>,
    /// Subgraphs run by another runtime (TensorRT segments of a compiled program).
    overrides: HashMap<GraphId, GraphRunner>,
}

/// What running a graph needs besides the graph, computed once per graph.
struct GraphSchedule {
    /// Nodes in execution order.
    order: Vec<NodeId>,
    /// Per value index: position in `order` of its last reader (`usize::MAX`: never read), so
    /// large intermediates are freed as soon as possible.
    last_use: Vec<usize>,
    /// Per position: the node is a pure layout op (permute, transpose, view, ...) whose tensor
    /// inputs are all weights or other such nodes, so its result is the same on every run and
    /// is computed once (e.g. the `permute` of a `linear` weight in core ATen programs).
    fold: Vec<bool>,
}

/// Deterministic, side-effect-free ops that only rearrange or convert their input; applied to
/// weights they are computed once per executor.
fn foldable_target(target: &str) -> bool {
    let mut parts = target.splitn(3, '.');
    if parts.next() != Some("aten") {
        return false;
    }
    matches!(
        parts.next().unwrap_or(""),
        "permute"
            | "t"
            | "transpose"
            | "numpy_T"
            | "view"
            | "reshape"
            | "_unsafe_view"
            | "unsqueeze"
            | "squeeze"
            | "flatten"
            | "expand"
            | "clone"
            | "contiguous"
            | "alias"
            | "detach"
            | "lift_fresh_copy"
            | "_to_copy"
            | "to"
            | "type_as"
    )
}

impl GraphSchedule {
    fn new(g: &Graph, const_placeholders: &[bool]) -> GraphSchedule {
        let order = g.node_ids();
        let mut last_use = vec![usize::MAX; g.value_capacity()];
        // Values that are the same on every run: weights and folded nodes' results.
        let mut is_const = vec![false; g.value_capacity()];
        let mut fold = vec![false; order.len()];
        let mut placeholder = 0;
        for (i, &n) in order.iter().enumerate() {
            let node = g.node(n);
            node.for_each_input(|v| {
                if let Some(l) = last_use.get_mut(v.as_u32() as usize) {
                    *l = i;
                }
            });
            let konst = match &node.op {
                Op::Placeholder => {
                    placeholder += 1;
                    const_placeholders
                        .get(placeholder - 1)
                        .copied()
                        .unwrap_or(false)
                }
                Op::GetAttr { .. } => true,
                Op::Call { target } if foldable_target(target) => {
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
        }
    }
}

impl<'p> Executor<'p> {
    /// An executor for `program`.
    pub fn new(program: &'p Program) -> Self {
        Executor {
            program,
            weights: Mutex::new(HashMap::new()),
            custom: HashMap::new(),
            plans: Mutex::new(HashMap::new()),
            folded: Mutex::new(HashMap::new()),
            overrides: HashMap::new(),
        }
    }

    /// Makes every `call_graph(@gid)` run `runner` instead of interpreting the subgraph. The
    /// compiled-program runtime uses it to run TensorRT segments on an engine (or the layer
    /// emulator) while the rest of the program stays on this interpreter.
    pub fn override_graph(&mut self, gid: GraphId, runner: GraphRunner) {
        self.overrides.insert(gid, runner);
    }

    /// Registers a kernel for a custom operator (`mylib.op.default`). Without one, running the
    /// operator is an error that names it.
    pub fn register_kernel(&mut self, op: impl Into<String>, k: CustomKernel) {
        self.custom.insert(op.into(), k);
    }

    /// The program.
    pub fn program(&self) -> &Program {
        self.program
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
        let p = self.program;
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
        let g = self
            .program
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
                                self.program.graphs.get(*graph).map_or("?", |g| &g.name)
                            ),
                            msg,
                        })?,
                        None => self.run_graph(*graph, args)?,
                    };
                    bind_results(&mut env, &node.results, outs, &node.name)?;
                }
                Op::Call { .. } if plan.fold[i] && self.bind_folded(gid, i, &mut env, node)? => {}
                Op::Call { target } => {
                    let call = CallArgs {
                        op: target,
                        node: &node.name,
                        args: node
                            .args
                            .iter()
                            .map(|a| read(a, &env))
                            .collect::<RunResult<_>>()?,
                        kwargs: node
                            .kwargs
                            .iter()
                            .map(|(k, a)| Ok((k.clone(), read(a, &env)?)))
                            .collect::<RunResult<_>>()?,
                    };
                    let outs = if let Some(k) = self.custom.get(target.as_str()) {
                        k(&call).map_err(|msg| RunError::BadArgument {
                            node: node.name.clone(),
                            op: target.clone(),
                            msg,
                        })?
                    } else {
                        let result_types: Vec<&Type> =
                            node.results.iter().map(|&r| g.ty(r)).collect();
                        dispatch::call(self, &call, &result_types)?
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
        let p = Arc::new(GraphSchedule::new(g, &consts));
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

fn bind_results(
    env: &mut [Option<Value>],
    results: &[ValueId],
    outs: Vec<Value>,
    node: &str,
) -> RunResult<()> {
    // A kernel returning a list for a node whose results were flattened (split → N values).
    let outs = if results.len() > 1 && outs.len() == 1 {
        match outs.into_iter().next() {
            Some(Value::List(items)) => items,
            Some(v) => vec![v],
            None => vec![],
        }
    } else {
        outs
    };
    if outs.len() < results.len() {
        return Err(RunError::Program(format!(
            "node `{node}` produced {} values for {} results",
            outs.len(),
            results.len()
        )));
    }
    for (&r, v) in results.iter().zip(outs) {
        env[r.index()] = Some(v);
    }
    Ok(())
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
