//! The converter registry: one validator + converter per operator overload.

use std::collections::BTreeMap;
use std::sync::Arc;

use trtfx_ir::{aten, DType, Graph, NodeId, Op, Program, Schema, Type};
use trtfx_passes::partition::{Capability, InProgram};

use super::{trt_dtype, CResult, ConvertCtx, NodeArgs, Scope, Slot};

/// A capability validator: `Ok` or the reason the node cannot be converted. Must be a pure
/// function of the node (its operator, argument types, shapes, literals and result uses).
pub type ValidateFn = Arc<dyn Fn(&NodeArgs<'_>) -> Result<(), String> + Send + Sync>;

/// A converter: emits layers for the node and returns one [`Slot`] per result.
pub type ConvertFn =
    Arc<dyn Fn(&mut ConvertCtx<'_>, &NodeArgs<'_>) -> CResult<Vec<Slot>> + Send + Sync>;

/// The validator and converter of one operator overload.
#[derive(Clone)]
pub struct OpConverter {
    /// Schema used to normalise arguments; `None` uses `aten::registry()`'s.
    pub schema: Option<Schema>,
    /// Whether `i64` tensors may appear among the inputs and results. TensorRT has `kINT64`
    /// for data movement, elementwise, comparisons and casts, not for math kernels.
    pub allow_i64: bool,
    /// The capability check.
    pub validate: ValidateFn,
    /// The layer emitter.
    pub convert: ConvertFn,
}

impl OpConverter {
    /// A converter with a validator; `i64` allowed, schema from the ATen registry.
    pub fn new(
        validate: impl Fn(&NodeArgs<'_>) -> Result<(), String> + Send + Sync + 'static,
        convert: impl Fn(&mut ConvertCtx<'_>, &NodeArgs<'_>) -> CResult<Vec<Slot>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        Self {
            schema: None,
            allow_i64: true,
            validate: Arc::new(validate),
            convert: Arc::new(convert),
        }
    }

    /// Refuses `i64` tensors (kernels TensorRT only has for 32-bit types and floats).
    pub fn no_i64(mut self) -> Self {
        self.allow_i64 = false;
        self
    }

    /// Uses `schema` (e.g. parsed with `trtfx_ir::aten::parse_schema` for a custom op).
    pub fn with_schema(mut self, schema: Schema) -> Self {
        self.schema = Some(schema);
        self
    }
}

/// Converters by operator name (`aten.convolution.default`).
#[derive(Clone, Default)]
pub struct ConverterRegistry {
    ops: BTreeMap<String, OpConverter>,
}

impl std::fmt::Debug for ConverterRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConverterRegistry")
            .field("ops", &self.ops.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ConverterRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every built-in converter.
    pub fn standard() -> Self {
        let mut r = Self::new();
        super::elementwise::register(&mut r);
        super::linalg::register(&mut r);
        super::norm::register(&mut r);
        super::shape::register(&mut r);
        super::misc::register(&mut r);
        super::hop::register(&mut r);
        r
    }

    /// Registers (or replaces) the converter of `op`. This is how a custom operator leaves
    /// the fallback: give it a validator and a converter.
    pub fn register(&mut self, op: impl Into<String>, conv: OpConverter) {
        self.ops.insert(op.into(), conv);
    }

    /// The converter of `op`.
    pub fn get(&self, op: &str) -> Option<&OpConverter> {
        self.ops.get(op)
    }

    /// Operator names with a converter, sorted.
    pub fn ops(&self) -> impl Iterator<Item = &str> {
        self.ops.keys().map(String::as_str)
    }

    /// Number of converters.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Normalised arguments of a call node with its converter's schema.
    pub fn node_args<'g>(&self, graph: &'g Graph, node: NodeId) -> Result<NodeArgs<'g>, String> {
        let data = graph.node(node);
        let op = data
            .op
            .target()
            .ok_or_else(|| format!("{} nodes are not converted", data.op.opcode()))?;
        let schema = self
            .ops
            .get(op)
            .and_then(|c| c.schema.as_ref())
            .or_else(|| aten::registry().get(op).and_then(|d| d.schema.as_ref()));
        NodeArgs::new(graph, node, schema)
    }

    /// Normalised arguments of a call node of a graph of `program`, carrying the [`Scope`]
    /// that higher-order converters need to reach their subgraphs.
    pub fn node_args_in<'g>(
        &'g self,
        program: &'g Program,
        graph: &'g Graph,
        node: NodeId,
    ) -> Result<NodeArgs<'g>, String> {
        Ok(self.node_args(graph, node)?.with_scope(Scope {
            program,
            registry: self,
        }))
    }

    /// The full capability check of a node: a converter exists, every tensor among its
    /// operands and results has a TensorRT type, and the converter's validator agrees.
    ///
    /// Without the program, subgraphs are out of reach: higher-order operators are refused
    /// (use [`ConverterRegistry::check_in`]).
    pub fn check(&self, graph: &Graph, node: NodeId) -> Result<(), String> {
        self.check_scoped(None, graph, node)
    }

    /// [`ConverterRegistry::check`] for a node of a graph of `program`: higher-order
    /// operators are checked too, by checking their subgraphs with this registry.
    pub fn check_in(&self, program: &Program, graph: &Graph, node: NodeId) -> Result<(), String> {
        self.check_scoped(Some(program), graph, node)
    }

    /// A [`Capability`] that checks nodes with [`ConverterRegistry::check_in`], for
    /// partitioning graphs of `program` (it accepts convertible `higher_order.cond` nodes,
    /// which the registry's own program-less [`Capability`] must refuse).
    pub fn capability<'p>(&'p self, program: &'p Program) -> InProgram<'p, ConverterRegistry> {
        InProgram {
            capability: self,
            program,
        }
    }

    fn check_scoped<'g>(
        &'g self,
        program: Option<&'g Program>,
        graph: &'g Graph,
        node: NodeId,
    ) -> Result<(), String> {
        let data = graph.node(node);
        let op = match &data.op {
            Op::Call { target } => target.as_str(),
            Op::CallGraph { .. } => {
                return Err("call_graph: nested graphs are not converted".into())
            }
            other => return Err(format!("{} nodes are not converted", other.opcode())),
        };
        let conv = self
            .ops
            .get(op)
            .ok_or_else(|| format!("no converter for `{op}`"))?;
        let mut types: Vec<&Type> = data.inputs().into_iter().map(|v| graph.ty(v)).collect();
        types.extend(data.results.iter().map(|v| graph.ty(*v)));
        for ty in types {
            let t = match ty {
                Type::Tensor(t) => t,
                Type::List(inner) => match inner.as_tensor() {
                    Some(t) => t,
                    None => continue,
                },
                _ => continue,
            };
            trt_dtype(t.dtype).map_err(|e| format!("{op}: {e}"))?;
            if t.dtype == DType::I64 && !conv.allow_i64 {
                return Err(format!(
                    "{op}: i64 inputs: TensorRT needs i32 (compile with int64=int32: truncate-long-double{{int64=int32}})"
                ));
            }
        }
        let args = match program {
            Some(p) => self.node_args_in(p, graph, node)?,
            None => self.node_args(graph, node)?,
        };
        (conv.validate)(&args)
    }
}

/// The registry as the partitioner's capability: [`ConverterRegistry::check_in`] with the
/// program (so `higher_order.cond` is checked against its branch graphs), or
/// [`ConverterRegistry::check`] without it (then `cond` falls back: its branches cannot be
/// seen from one graph).
impl Capability for ConverterRegistry {
    fn supports(&self, graph: &Graph, node: NodeId) -> Result<(), String> {
        self.check(graph, node)
    }

    fn supports_in(&self, program: &Program, graph: &Graph, node: NodeId) -> Result<(), String> {
        self.check_in(program, graph, node)
    }
}
