//! Schema-normalised access to a node's arguments.
//!
//! FX nodes carry arguments positionally and by keyword, and omit trailing arguments that have
//! defaults. Converters and validators read them *by schema name* instead, so `dim=1` given as
//! a keyword, as the second positional argument, or left to its default reads the same.

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

/// The arguments of one `call_function` node, normalised against its operator schema.
///
/// Built by [`NodeArgs::new`]; reads are pure functions of the graph (types, literals, uses),
/// which is what makes validators pure.
pub struct NodeArgs<'a> {
    /// The graph holding the node.
    pub graph: &'a Graph,
    /// The node.
    pub node: NodeId,
    /// The operator name (`aten.add.Tensor`).
    pub op: &'a str,
    names: Vec<String>,
    vals: Vec<Option<Arg>>,
    scope: Option<Scope<'a>>,
}

impl<'a> NodeArgs<'a> {
    /// Normalises the node's arguments against `schema` (positional args fill the schema in
    /// order, keywords by name, then defaults). Without a schema the positional arguments are
    /// named `arg0`, `arg1`, ... and keywords keep their names.
    pub fn new(graph: &'a Graph, node: NodeId, schema: Option<&Schema>) -> Result<Self, String> {
        let data = graph.node(node);
        let op = data.op.target().unwrap_or("<not a call>");
        let (mut names, mut vals): (Vec<String>, Vec<Option<Arg>>) = match schema {
            Some(s) => {
                if data.args.len() > s.args.len() {
                    return Err(format!(
                        "{op}: {} positional arguments, the schema has {}",
                        data.args.len(),
                        s.args.len()
                    ));
                }
                let names = s.args.iter().map(|a| a.name.clone()).collect();
                let mut vals: Vec<Option<Arg>> = vec![None; s.args.len()];
                for (i, a) in data.args.iter().enumerate() {
                    vals[i] = Some(a.clone());
                }
                (names, vals)
            }
            None => (
                (0..data.args.len()).map(|i| format!("arg{i}")).collect(),
                data.args.iter().cloned().map(Some).collect(),
            ),
        };
        for (k, a) in &data.kwargs {
            match names.iter().position(|n| n == k) {
                Some(i) => vals[i] = Some(a.clone()),
                None if schema.is_none() => {
                    names.push(k.clone());
                    vals.push(Some(a.clone()));
                }
                None => return Err(format!("{op}: unknown keyword argument `{k}`")),
            }
        }
        if let Some(s) = schema {
            for (i, sa) in s.args.iter().enumerate() {
                if vals[i].is_none() {
                    vals[i] = sa.default.clone();
                }
            }
        }
        Ok(Self {
            graph,
            node,
            op,
            names,
            vals,
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

    /// The node's data.
    pub fn data(&self) -> &'a NodeData {
        self.graph.node(self.node)
    }

    /// The FX node name.
    pub fn name(&self) -> &'a str {
        &self.data().name
    }

    /// The argument `name` (given or defaulted), or `None` when absent without a default.
    pub fn get(&self, name: &str) -> Option<&Arg> {
        let i = self.names.iter().position(|n| n == name)?;
        self.vals[i].as_ref()
    }

    /// The argument `name`, or an error naming it.
    pub fn req(&self, name: &str) -> Result<&Arg, String> {
        self.get(name)
            .ok_or_else(|| format!("{}: missing argument `{name}`", self.op))
    }

    /// True when the argument is absent or `None`.
    pub fn is_none(&self, name: &str) -> bool {
        matches!(self.get(name), None | Some(Arg::None))
    }

    /// The type of a value argument (`None` for literals).
    pub fn ty(&self, name: &str) -> Option<&'a Type> {
        match self.get(name)? {
            Arg::Value(v) => Some(self.graph.ty(*v)),
            _ => None,
        }
    }

    /// The tensor type of a tensor argument.
    pub fn tensor(&self, name: &str) -> Result<&'a TensorType, String> {
        self.ty(name)
            .and_then(Type::as_tensor)
            .ok_or_else(|| format!("{}: argument `{name}` is not a tensor", self.op))
    }

    /// The tensor types of a `Tensor[]` argument (`None` entries skipped).
    pub fn tensors(&self, name: &str) -> Result<Vec<&'a TensorType>, String> {
        match self.req(name)? {
            Arg::List(items) => {
                items
                    .iter()
                    .filter(|a| !matches!(a, Arg::None))
                    .map(|a| match a {
                        Arg::Value(v) => self.graph.ty(*v).as_tensor().ok_or_else(|| {
                            format!("{}: `{name}` holds a non-tensor value", self.op)
                        }),
                        _ => Err(format!("{}: `{name}` holds a literal", self.op)),
                    })
                    .collect()
            }
            _ => Err(format!("{}: argument `{name}` is not a list", self.op)),
        }
    }

    /// An int literal (a bool literal counts as 0/1).
    pub fn int(&self, name: &str) -> Result<i64, String> {
        match self.req(name)? {
            Arg::Int(v) => Ok(*v),
            Arg::Bool(b) => Ok(i64::from(*b)),
            Arg::Value(v) => match self.graph.ty(*v) {
                Type::SymInt(Some(d)) if d.is_const() => Ok(d.as_const().unwrap_or(0)),
                _ => Err(format!(
                    "{}: `{name}` is a dynamic (symbolic) int, a constant is needed",
                    self.op
                )),
            },
            a => Err(format!("{}: `{name}` = {a} is not an int", self.op)),
        }
    }

    /// An optional int literal.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, String> {
        if self.is_none(name) {
            Ok(None)
        } else {
            self.int(name).map(Some)
        }
    }

    /// A list of int literals (a single int counts as a one-element list).
    pub fn ints(&self, name: &str) -> Result<Vec<i64>, String> {
        let a = self.req(name)?;
        if let Some(v) = a.as_int_list() {
            return Ok(v);
        }
        match a {
            Arg::List(items) => items
                .iter()
                .map(|x| match x {
                    Arg::Value(v) => match self.graph.ty(*v) {
                        Type::SymInt(Some(d)) if d.is_const() => Ok(d.as_const().unwrap_or(0)),
                        _ => Err(format!(
                            "{}: `{name}` holds a dynamic (symbolic) int, constants are needed",
                            self.op
                        )),
                    },
                    x => x
                        .as_int()
                        .ok_or_else(|| format!("{}: `{name}` holds {x}, not an int", self.op)),
                })
                .collect(),
            a => Err(format!("{}: `{name}` = {a} is not an int list", self.op)),
        }
    }

    /// An optional list of ints (`None` → `None`).
    pub fn opt_ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        if self.is_none(name) {
            Ok(None)
        } else {
            self.ints(name).map(Some)
        }
    }

    /// A float literal (ints and bools converted).
    pub fn f64(&self, name: &str) -> Result<f64, String> {
        match self.req(name)? {
            Arg::Bool(b) => Ok(f64::from(u8::from(*b))),
            a => a
                .as_f64()
                .ok_or_else(|| format!("{}: `{name}` = {a} is not a number literal", self.op)),
        }
    }

    /// An optional float literal.
    pub fn opt_f64(&self, name: &str) -> Result<Option<f64>, String> {
        if self.is_none(name) {
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
            a => Err(format!("{}: `{name}` = {a} is not a bool", self.op)),
        }
    }

    /// A string literal.
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Arg::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A dtype literal.
    pub fn dtype(&self, name: &str) -> Option<DType> {
        match self.get(name)? {
            Arg::DType(d) => Some(*d),
            _ => None,
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

    /// Whether the value of argument `name` is read by any node after this one (for in-place
    /// ops converted out of place: safe only when nothing reads the old value later).
    pub fn used_after(&self, name: &str) -> bool {
        let Some(Arg::Value(v)) = self.get(name) else {
            return false;
        };
        let mut n = self.graph.next_node(self.node);
        while let Some(id) = n {
            if self.graph.node(id).inputs().contains(v) {
                return true;
            }
            n = self.graph.next_node(id);
        }
        false
    }
}
