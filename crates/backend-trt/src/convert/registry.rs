//! The converter registry: one validator + converter per operator overload.

use std::sync::Arc;

use trtfx_ir::ops::OpSlots;
use trtfx_ir::{aten, Arg, DType, Graph, NodeId, Op, OpDef, OpRegistry, Program, Schema, Type};
use trtfx_passes::partition::{Capability, InProgram};

use super::decompose::{expand_node, fits, Expansion, MAX_DEPTH};
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
    /// Schema the node's arguments are bound to; `None` uses `aten::registry()`'s.
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

/// Converters by operator, in a side table of the op table (`trtfx_ir::aten::registry()`)
/// keyed by [`trtfx_ir::ops::OpId`]; operators the op table does not know (custom ops) are
/// kept by name.
#[derive(Clone, Default)]
pub struct ConverterRegistry {
    ops: OpSlots<OpConverter>,
    /// A user's extended op table (custom operators from op libraries): operators the
    /// standard table lacks are looked up here, and their decompositions (library bodies)
    /// convert inline.
    user_ops: Option<Arc<OpRegistry>>,
}

impl std::fmt::Debug for ConverterRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConverterRegistry")
            .field("ops", &self.ops().collect::<Vec<_>>())
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
        super::index::register(&mut r);
        super::misc::register(&mut r);
        super::movement::register(&mut r);
        super::hop::register(&mut r);
        super::scatter::register(&mut r);
        super::sample::register(&mut r);
        super::select::register(&mut r);
        r
    }

    /// Looks operators the standard op table lacks up in `ops` (the standard registry
    /// extended with custom operators, e.g. `trtfx_ir::ops::OpLibraries::registry`): a custom
    /// operator with a decomposition (a library body) converts through it, inline.
    pub fn with_ops(mut self, ops: Arc<OpRegistry>) -> Self {
        self.user_ops = Some(ops);
        self
    }

    /// The op table decompositions are expanded with.
    pub(crate) fn op_table(&self) -> &OpRegistry {
        self.user_ops.as_deref().unwrap_or(aten::registry())
    }

    /// Registers (or replaces) the converter of `op`. This is how a custom operator leaves
    /// the fallback: give it a validator and a converter.
    pub fn register(&mut self, op: impl Into<String>, conv: OpConverter) {
        self.ops.set(aten::registry(), &op.into(), conv);
    }

    /// The converter of `op`.
    pub fn get(&self, op: &str) -> Option<&OpConverter> {
        self.resolve(op).0
    }

    /// True when `op` has a converter of its own (not counting a decomposition into ops that
    /// have one).
    pub fn has_converter(&self, op: &str) -> bool {
        self.ops.contains(aten::registry(), op)
    }

    /// Operator names with a converter, sorted.
    pub fn ops(&self) -> impl Iterator<Item = &str> {
        let mut v = self.ops.names(aten::registry());
        v.sort_unstable();
        v.into_iter()
    }

    /// Number of converters.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// How `op` converts: by its own converter, through its op-table decomposition (when
    /// every node of a node's expansion converts), or not at all. For `ir-opt ops`.
    pub fn lowering(&self, op: &str) -> Lowering {
        match self.resolve(op) {
            (Some(_), _) => Lowering::Converter,
            (None, Some(d)) if d.decomposition.is_some() => Lowering::Decomposition,
            _ => Lowering::None,
        }
    }

    /// The converter and op-table entry of `op`, resolving its name once.
    fn resolve(&self, op: &str) -> (Option<&OpConverter>, Option<&OpDef>) {
        let reg = aten::registry();
        match reg.id(op) {
            Some(id) => (self.ops.get(id), reg.def(id)),
            None => (
                self.ops.get_by_name(reg, op),
                self.user_ops.as_deref().and_then(|u| u.get(op)),
            ),
        }
    }

    /// The schema a node of `op` is bound to: its converter's, else the op table's.
    fn schema_of<'s>(
        op: &str,
        conv: Option<&'s OpConverter>,
        def: Option<&'s OpDef>,
    ) -> Result<&'s Schema, String> {
        conv.and_then(|c| c.schema.as_ref())
            .or_else(|| def.and_then(|d| d.schema.as_ref()))
            .ok_or_else(|| {
                format!(
                    "`{op}` has no schema to read its arguments by \
                     (register its converter with `OpConverter::with_schema`)"
                )
            })
    }

    /// The arguments of a call node, bound to its converter's schema (or the op table's).
    pub fn node_args<'g>(&'g self, graph: &'g Graph, node: NodeId) -> Result<NodeArgs<'g>, String> {
        let data = graph.node(node);
        let op = data
            .op
            .target()
            .ok_or_else(|| format!("{} nodes are not converted", data.op.opcode()))?;
        let (conv, def) = self.resolve(op);
        NodeArgs::new(graph, node, Self::schema_of(op, conv, def)?)
    }

    /// The arguments of a call node of a graph of `program`, carrying the [`Scope`] that
    /// higher-order converters need to reach their subgraphs.
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
    /// operands and results has a TensorRT type, and the converter's validator agrees. A
    /// node whose operator has no converter (or whose converter's validator refuses it) but
    /// a decomposition in the op table passes when every node of its expansion passes.
    ///
    /// Without the program, subgraphs are out of reach: higher-order operators are refused
    /// (use [`ConverterRegistry::check_in`]).
    pub fn check(&self, graph: &Graph, node: NodeId) -> Result<(), String> {
        self.prepare(None, graph, node, 0).map(|_| ())
    }

    /// [`ConverterRegistry::check`] for a node of a graph of `program`: higher-order
    /// operators are checked too, by checking their subgraphs with this registry.
    pub fn check_in(&self, program: &Program, graph: &Graph, node: NodeId) -> Result<(), String> {
        self.prepare(Some(program), graph, node, 0).map(|_| ())
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

    /// Checks call node `node` and says how to convert it: its converter with its bound
    /// arguments, or its checked expansion. `depth` counts the decompositions it is inside.
    pub(crate) fn prepare<'g>(
        &'g self,
        program: Option<&'g Program>,
        graph: &'g Graph,
        node: NodeId,
        depth: usize,
    ) -> Result<Prepared<'g>, String> {
        let data = graph.node(node);
        let op = match &data.op {
            Op::Call { target } => target.as_str(),
            Op::CallGraph { .. } => {
                return Err("call_graph: nested graphs are not converted".into())
            }
            other => return Err(format!("{} nodes are not converted", other.opcode())),
        };
        let (conv, def) = self.resolve(op);
        let decomposes = def.is_some_and(|d| d.decomposition.is_some());
        if conv.is_none() && !decomposes {
            return Err(format!("no converter for `{op}`"));
        }
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
            if t.dtype == DType::I64 && conv.is_some_and(|c| !c.allow_i64) {
                return Err(format!(
                    "{op}: i64 inputs: TensorRT needs i32 (compile with int64=int32: truncate-long-double{{int64=int32}})"
                ));
            }
        }
        let Some(conv) = conv else {
            return self
                .prepare_decomposed(program, graph, node, op, depth)
                .map(Prepared::Decomposed);
        };
        let args = NodeArgs::new(graph, node, Self::schema_of(op, Some(conv), def)?)?;
        let args = match program {
            Some(program) => args.with_scope(Scope {
                program,
                registry: self,
            }),
            None => args,
        };
        match (conv.validate)(&args) {
            Ok(()) => Ok(Prepared::Direct { conv, args }),
            // A node its converter refuses may still convert through its decomposition
            // (`batch_norm` in training mode: batch statistics as reductions); when that
            // fails too, the converter's reason is the one to give.
            Err(why) if decomposes => self
                .prepare_decomposed(program, graph, node, op, depth)
                .map(Prepared::Decomposed)
                .map_err(|_| why),
            Err(why) => Err(why),
        }
    }

    /// Expands a node of an operator without a converter and checks every call of the
    /// expansion (with its own converter or decomposition) and that its results fit the
    /// node's result types.
    fn prepare_decomposed(
        &self,
        program: Option<&Program>,
        graph: &Graph,
        node: NodeId,
        op: &str,
        depth: usize,
    ) -> Result<Expansion, String> {
        if depth >= MAX_DEPTH {
            return Err(format!(
                "{op}: decompositions nested more than {MAX_DEPTH} deep"
            ));
        }
        let exp = expand_node(graph, node, self.op_table())
            .map_err(|e| {
                // `expand` names the op already; say it once.
                let why = e
                    .strip_prefix(&format!("decomposing `{op}`: "))
                    .unwrap_or(&e);
                format!("{op}: its decomposition fails: {why}")
            })?
            .ok_or_else(|| format!("no converter for `{op}`"))?;
        for n in exp.calls() {
            // Inner reasons name their own op.
            self.prepare(program, &exp.graph, n, depth + 1)
                .map_err(|e| format!("{op} (through its decomposition): {e}"))?;
        }
        let data = graph.node(node);
        for (i, (r, out)) in data.results.iter().zip(&exp.outs).enumerate() {
            let want = graph.ty(*r);
            match out {
                Arg::Value(v) => {
                    let got = exp.graph.ty(*v);
                    if !fits(want, got) {
                        return Err(format!(
                            "{op}: its decomposition gives {got} for result {i}, the node \
                             has {want}"
                        ));
                    }
                }
                _ if graph.value(*r).uses().is_empty() => {}
                lit => {
                    if want.as_tensor().is_some() {
                        return Err(format!(
                            "{op}: its decomposition gives the literal {lit} for tensor \
                             result {i}"
                        ));
                    }
                }
            }
        }
        Ok(exp)
    }
}

/// How an operator converts (see [`ConverterRegistry::lowering`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lowering {
    /// Its own converter.
    Converter,
    /// No converter, but a decomposition in the op table: a node converts when every node of
    /// its expansion does.
    Decomposition,
    /// Neither.
    None,
}

/// A checked call node, ready to convert.
pub(crate) enum Prepared<'g> {
    /// By its converter, with its bound arguments.
    Direct {
        /// The converter.
        conv: &'g OpConverter,
        /// The node's arguments.
        args: NodeArgs<'g>,
    },
    /// Through its decomposition: every call of the expansion passed its check.
    Decomposed(Expansion),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_converter_is_direct_converters_only() {
        let r = ConverterRegistry::standard();
        assert!(r.has_converter("aten.add.Tensor"));
        assert!(r.has_converter("higher_order.cond"));
        // Decomposed in the op table, no converter of its own.
        assert!(!r.has_converter("aten.addcmul.default"));
        assert!(!r.has_converter("mylib.op.default"));
        assert_eq!(r.lowering("aten.add.Tensor"), Lowering::Converter);
        assert_eq!(r.lowering("aten.addcmul.default"), Lowering::Decomposition);
        assert_eq!(r.lowering("aten.digamma.default"), Lowering::None);
        assert_eq!(r.lowering("mylib.op.default"), Lowering::None);
        let mut r = ConverterRegistry::new();
        r.register(
            "mylib.op.default",
            OpConverter::new(|_| Ok(()), |_, _| Ok(vec![])),
        );
        assert!(r.has_converter("mylib.op.default"));
        assert_eq!(r.ops().collect::<Vec<_>>(), vec!["mylib.op.default"]);
        assert_eq!(r.len(), 1);
    }
}
