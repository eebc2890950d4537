//! Schema-bound access to a node's arguments.
//!
//! FX nodes carry arguments positionally and by keyword, and omit trailing arguments that have
//! defaults. Converters and validators read them *by schema name* instead, so `dim=1` given as
//! a keyword, as the second positional argument, or left to its default reads the same. The
//! binding is the op table's one binder ([`trtfx_ir::ops::Binding`]); the schema's defaults
//! apply, and every error names the argument.

use trtfx_ir::ops::{Binding, Bound, BoundArgs};
use trtfx_ir::{Arg, DType, Graph, NodeData, NodeId, Program, Schema, TensorType, Type, ValueId};

use super::ConverterRegistry;

/// The program a node's graph belongs to, and the registry checking or converting it.
///
/// A validator sees one graph, but higher-order operators (`higher_order.cond`) reference
/// subgraphs by [`trtfx_ir::GraphId`] in [`Program::graphs`] and must check (and convert)
/// their bodies with the same registry. Nodes checked without a program have no scope.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The program holding the node's graph and its subgraphs.
    pub program: &'a Program,
    /// The registry the node is checked or converted with.
    pub registry: &'a ConverterRegistry,
}

/// The arguments of one `call_function` node, bound to its operator schema.
///
/// Built by [`NodeArgs::new`]; reads are pure functions of the graph (types, literals, uses),
/// which is what makes validators pure. Reading an argument the schema does not have is an
/// error (converters shared by overloads with different schemas ask [`NodeArgs::has`]).
pub struct NodeArgs<'a> {
    /// The graph holding the node.
    pub graph: &'a Graph,
    /// The node.
    pub node: NodeId,
    /// The operator name (`aten.add.Tensor`).
    pub op: &'a str,
    schema: &'a Schema,
    binding: Binding,
    scope: Option<Scope<'a>>,
}

impl<'a> NodeArgs<'a> {
    /// Binds the node's arguments to `schema` (positional arguments fill the schema in order,
    /// keywords go by name, omitted ones take the schema's defaults).
    pub fn new(graph: &'a Graph, node: NodeId, schema: &'a Schema) -> Result<Self, String> {
        let data = graph.node(node);
        let op = data.op.target().unwrap_or(data.op.opcode());
        let binding =
            Binding::of_call(schema, &data.args, &data.kwargs).map_err(|e| format!("{op}: {e}"))?;
        Ok(Self {
            graph,
            node,
            op,
            schema,
            binding,
            scope: None,
        })
    }

    /// These arguments with the program and registry they are checked or converted in.
    pub fn with_scope(mut self, scope: Scope<'a>) -> Self {
        self.scope = Some(scope);
        self
    }

    /// The program and registry, when the node is checked or converted with its program
    /// (see [`Scope`]); `None` for a check of a lone graph.
    pub fn scope(&self) -> Option<Scope<'a>> {
        self.scope
    }

    /// The schema the arguments are bound to.
    pub fn schema(&self) -> &'a Schema {
        self.schema
    }

    /// The node's data.
    pub fn data(&self) -> &'a NodeData {
        self.graph.node(self.node)
    }

    /// The FX node name.
    pub fn name(&self) -> &'a str {
        &self.data().name
    }

    /// True when the schema has an argument `name` (overloads of one converter differ:
    /// `aten.add.Tensor` has `alpha`, `aten.mul.Tensor` has not).
    pub fn has(&self, name: &str) -> bool {
        self.schema.arg_index(name).is_some()
    }

    /// The argument `name`: the call's own or the schema's default; `None` when it is `None`
    /// (given so, defaulted so, or an omitted optional argument). An error when the schema
    /// has no such argument.
    pub fn arg(&self, name: &str) -> Result<Option<&Arg>, String> {
        let data = self.data();
        let view = BoundArgs {
            schema: self.schema,
            binding: &self.binding,
            args: &data.args,
            kwargs: &data.kwargs,
        };
        match view.get(name) {
            None => Err(format!("{}: the schema has no argument `{name}`", self.op)),
            Some(Bound::Given(Arg::None) | Bound::Default(Arg::None) | Bound::Absent) => Ok(None),
            Some(Bound::Given(a) | Bound::Default(a)) => Ok(Some(a)),
        }
    }

    /// The argument `name`, which must not be `None`.
    pub fn req(&self, name: &str) -> Result<&Arg, String> {
        self.arg(name)?
            .ok_or_else(|| format!("{}: argument `{name}` is None", self.op))
    }

    /// True when the argument is `None` (given, defaulted or omitted).
    pub fn is_none(&self, name: &str) -> Result<bool, String> {
        Ok(self.arg(name)?.is_none())
    }

    /// The type of a value argument (`None` for literals and `None`).
    pub fn ty(&self, name: &str) -> Result<Option<&'a Type>, String> {
        Ok(match self.arg(name)? {
            Some(Arg::Value(v)) => Some(self.graph.ty(*v)),
            _ => None,
        })
    }

    /// The tensor type of a tensor argument.
    pub fn tensor(&self, name: &str) -> Result<&'a TensorType, String> {
        self.ty(name)?
            .and_then(Type::as_tensor)
            .ok_or_else(|| format!("{}: argument `{name}` is not a tensor", self.op))
    }

    /// The tensor type of an optional tensor argument.
    pub fn opt_tensor(&self, name: &str) -> Result<Option<&'a TensorType>, String> {
        if self.is_none(name)? {
            Ok(None)
        } else {
            self.tensor(name).map(Some)
        }
    }

    /// The tensor types of a `Tensor[]` argument (`None` entries skipped).
    pub fn tensors(&self, name: &str) -> Result<Vec<&'a TensorType>, String> {
        match self.req(name)? {
            Arg::List(items) => items
                .iter()
                .filter(|a| !matches!(a, Arg::None))
                .map(|a| match a {
                    Arg::Value(v) => self.graph.ty(*v).as_tensor().ok_or_else(|| {
                        format!("{}: argument `{name}` holds a non-tensor value", self.op)
                    }),
                    _ => Err(format!("{}: argument `{name}` holds a literal", self.op)),
                })
                .collect(),
            _ => Err(format!("{}: argument `{name}` is not a list", self.op)),
        }
    }

    /// A constant int: an int (or bool) literal, or a symbolic int whose value is known.
    fn const_int(&self, name: &str, a: &Arg) -> Result<i64, String> {
        match a {
            Arg::Int(v) => Ok(*v),
            Arg::Bool(b) => Ok(i64::from(*b)),
            Arg::Value(v) => match self.graph.ty(*v) {
                Type::SymInt(Some(d)) => d.as_const().ok_or_else(|| {
                    format!(
                        "{}: argument `{name}` is the dynamic (symbolic) int {d}, a constant \
                         is needed",
                        self.op
                    )
                }),
                t => Err(format!(
                    "{}: argument `{name}` is a value of type {t}, not an int",
                    self.op
                )),
            },
            a => Err(format!(
                "{}: argument `{name}` = {a} is not an int",
                self.op
            )),
        }
    }

    /// An int (a bool literal counts as 0/1, a symbolic int must be constant).
    pub fn int(&self, name: &str) -> Result<i64, String> {
        self.const_int(name, self.req(name)?)
    }

    /// An optional int.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.arg(name)? {
            None => Ok(None),
            Some(a) => self.const_int(name, a).map(Some),
        }
    }

    /// A list of ints (a single int counts as a one-element list, as ATen's `int[N]`).
    pub fn ints(&self, name: &str) -> Result<Vec<i64>, String> {
        match self.req(name)? {
            Arg::List(items) => items.iter().map(|x| self.const_int(name, x)).collect(),
            a @ Arg::Int(_) => self.const_int(name, a).map(|v| vec![v]),
            a => Err(format!(
                "{}: argument `{name}` = {a} is not an int list",
                self.op
            )),
        }
    }

    /// An optional list of ints.
    pub fn opt_ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        if self.is_none(name)? {
            Ok(None)
        } else {
            self.ints(name).map(Some)
        }
    }

    /// A number literal as a float (ints and bools converted).
    pub fn f64(&self, name: &str) -> Result<f64, String> {
        match self.req(name)? {
            Arg::Bool(b) => Ok(f64::from(u8::from(*b))),
            a => a.as_f64().ok_or_else(|| {
                format!(
                    "{}: argument `{name}` = {a} is not a number literal",
                    self.op
                )
            }),
        }
    }

    /// An optional number literal.
    pub fn opt_f64(&self, name: &str) -> Result<Option<f64>, String> {
        if self.is_none(name)? {
            Ok(None)
        } else {
            self.f64(name).map(Some)
        }
    }

    /// A bool literal (ints 0/1 accepted).
    pub fn bool(&self, name: &str) -> Result<bool, String> {
        match self.req(name)? {
            Arg::Bool(b) => Ok(*b),
            Arg::Int(v) => Ok(*v != 0),
            a => Err(format!(
                "{}: argument `{name}` = {a} is not a bool",
                self.op
            )),
        }
    }

    /// A string literal.
    pub fn str(&self, name: &str) -> Result<&str, String> {
        match self.req(name)? {
            Arg::Str(s) => Ok(s),
            a => Err(format!(
                "{}: argument `{name}` = {a} is not a string",
                self.op
            )),
        }
    }

    /// An optional string literal.
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, String> {
        if self.is_none(name)? {
            Ok(None)
        } else {
            self.str(name).map(Some)
        }
    }

    /// An optional dtype literal.
    pub fn opt_dtype(&self, name: &str) -> Result<Option<DType>, String> {
        match self.arg(name)? {
            None => Ok(None),
            Some(Arg::DType(d)) => Ok(Some(*d)),
            Some(a) => Err(format!(
                "{}: argument `{name}` = {a} is not a dtype",
                self.op
            )),
        }
    }

    /// The node's result values.
    pub fn results(&self) -> &'a [ValueId] {
        &self.data().results
    }

    /// The type of result `i`.
    pub fn result_type(&self, i: usize) -> Result<&'a Type, String> {
        self.results()
            .get(i)
            .map(|v| self.graph.ty(*v))
            .ok_or_else(|| format!("{}: no result {i}", self.op))
    }

    /// The tensor type of result `i`.
    pub fn result_tensor(&self, i: usize) -> Result<&'a TensorType, String> {
        self.result_type(i)?
            .as_tensor()
            .ok_or_else(|| format!("{}: result {i} is not a tensor", self.op))
    }

    /// Whether result `i` has any use.
    pub fn result_used(&self, i: usize) -> bool {
        self.results()
            .get(i)
            .is_some_and(|v| !self.graph.value(*v).uses().is_empty())
    }

    /// The schema arguments the operator writes to (`Tensor(a!) self`), by name.
    pub fn mutated(&self) -> impl Iterator<Item = &'a str> {
        self.schema
            .args
            .iter()
            .filter(|a| a.mutable)
            .map(|a| a.name.as_str())
    }

    /// Whether the value of argument `name` is read by any node after this one (for in-place
    /// ops converted out of place: safe only when nothing reads the old value later).
    pub fn used_after(&self, name: &str) -> Result<bool, String> {
        let Some(Arg::Value(v)) = self.arg(name)? else {
            return Ok(false);
        };
        let mut n = self.graph.next_node(self.node);
        while let Some(id) = n {
            if self.graph.node(id).inputs().contains(v) {
                return Ok(true);
            }
            n = self.graph.next_node(id);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trtfx_ir::parse_program;

    fn node_args_test(body: &str, schema: &str, check: impl FnOnce(&NodeArgs<'_>)) {
        let text = format!(
            "program {{\n  input \"x\": f32[2,3]\n  graph @main(%x: f32[2,3] = user \"x\") -> (user) {{\n    {body}\n    output (%r)\n  }}\n}}\n"
        );
        let p = parse_program(&text).unwrap();
        let g = p.main_graph();
        let n = g
            .nodes()
            .find(|&n| g.node(n).op.target().is_some())
            .unwrap();
        let s = trtfx_ir::aten::parse_schema(schema).unwrap().schema;
        check(&NodeArgs::new(g, n, &s).unwrap());
    }

    #[test]
    fn reads_by_name_with_schema_defaults() {
        node_args_test(
            "%r: f32[2,3] = aten.add.Tensor(%x, 2.0)",
            "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
            |a| {
                assert_eq!(a.f64("other"), Ok(2.0));
                // Omitted: the schema's default.
                assert_eq!(a.f64("alpha"), Ok(1.0));
                assert_eq!(a.tensor("self").map(|t| t.rank()), Ok(2));
                assert!(a.has("alpha") && !a.has("beta"));
                assert_eq!(
                    a.f64("beta"),
                    Err("aten.add.Tensor: the schema has no argument `beta`".into())
                );
                assert_eq!(
                    a.tensor("other").unwrap_err(),
                    "aten.add.Tensor: argument `other` is not a tensor"
                );
            },
        );
    }

    #[test]
    fn keywords_optional_and_none() {
        node_args_test(
            "%r: f32[2,3] = aten.diff.default(%x, dim=0, append=None)",
            "aten::diff(Tensor self, int n=1, int dim=-1, Tensor? prepend=None, Tensor? append=None) -> Tensor",
            |a| {
                assert_eq!(a.int("dim"), Ok(0));
                assert_eq!(a.int("n"), Ok(1));
                assert_eq!(a.is_none("prepend"), Ok(true));
                assert_eq!(a.is_none("append"), Ok(true));
                assert_eq!(a.opt_tensor("append"), Ok(None));
                assert_eq!(
                    a.req("append").unwrap_err(),
                    "aten.diff.default: argument `append` is None"
                );
            },
        );
    }

    #[test]
    fn binding_errors_name_the_argument() {
        let text = "program {\n  input \"x\": f32[2]\n  graph @main(%x: f32[2] = user \"x\") -> (user) {\n    %r: f32[2] = aten.relu.default(%x, slope=1)\n    output (%r)\n  }\n}\n";
        let p = parse_program(text).unwrap();
        let g = p.main_graph();
        let n = g
            .nodes()
            .find(|&n| g.node(n).op.target().is_some())
            .unwrap();
        let s = trtfx_ir::aten::parse_schema("aten::relu(Tensor self) -> Tensor")
            .unwrap()
            .schema;
        assert_eq!(
            NodeArgs::new(g, n, &s).err(),
            Some("aten.relu.default: unknown keyword argument `slope`".into())
        );
    }
}
