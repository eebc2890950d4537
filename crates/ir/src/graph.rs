//! Graphs: arena storage of nodes and values with an explicit node order and use lists.
//!
//! As in Cranelift's data-flow graph, nodes and values live in [`PrimaryMap`]s indexed by typed
//! `u32` ids, and the program order is a separate doubly linked list, so inserting or removing a
//! node anywhere is O(1). Removing a node tombstones it; [`Graph::compact`] renumbers between
//! passes. Each value keeps the list of nodes that use it, maintained by every mutation method,
//! so replace-all-uses and dead-code checks are O(uses).

use crate::dtype::DType;
use crate::types::Type;
use cranelift_entity::{
    entity_impl, packed_option::PackedOption, EntityRef, PrimaryMap, SecondaryMap,
};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::fmt;

/// A node in a graph (arena index, unique within its graph).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct NodeId(u32);
entity_impl!(NodeId, "n");

/// A value produced by a node (arena index, unique within its graph).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct ValueId(u32);
entity_impl!(ValueId, "v");

/// A graph of a program (main graph or subgraph).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct GraphId(u32);
entity_impl!(GraphId, "g");

/// An `f64` compared and hashed by bit pattern, so `NaN == NaN` and `-0.0 != 0.0`: what a
/// round-trip test of literals needs.
#[derive(Clone, Copy, Debug)]
pub struct F64(pub f64);

/// JSON has no infinities or NaN (serde_json would write `null` and then refuse to read it), so
/// finite values are numbers and the others strings: `"inf"`, `"-inf"`, `"nan"`, and
/// `"nan:0x…"` for a NaN with another bit pattern, since equality is by bits.
impl Serialize for F64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_finite() {
            s.serialize_f64(v)
        } else if v == f64::INFINITY {
            s.serialize_str("inf")
        } else if v == f64::NEG_INFINITY {
            s.serialize_str("-inf")
        } else if v.to_bits() == f64::NAN.to_bits() {
            s.serialize_str("nan")
        } else {
            s.serialize_str(&format!("nan:{:#x}", v.to_bits()))
        }
    }
}

impl<'de> Deserialize<'de> for F64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = F64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, \"inf\", \"-inf\" or \"nan\"")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<F64, E> {
                Ok(F64(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<F64, E> {
                Ok(F64(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<F64, E> {
                Ok(F64(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<F64, E> {
                let bad = || E::invalid_value(serde::de::Unexpected::Str(v), &self);
                match v {
                    "inf" => Ok(F64(f64::INFINITY)),
                    "-inf" => Ok(F64(f64::NEG_INFINITY)),
                    "nan" => Ok(F64(f64::NAN)),
                    _ => {
                        let hex = v.strip_prefix("nan:0x").ok_or_else(bad)?;
                        let bits = u64::from_str_radix(hex, 16).map_err(|_| bad())?;
                        let f = f64::from_bits(bits);
                        if f.is_nan() {
                            Ok(F64(f))
                        } else {
                            Err(bad())
                        }
                    }
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl PartialEq for F64 {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for F64 {}
impl std::hash::Hash for F64 {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

/// What a node does: the FX opcodes plus `call_graph`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// A graph input. In the main graph it pairs by position with a signature input.
    Placeholder,
    /// Reads a weight from the program's weight store by name.
    GetAttr {
        /// Weight name (fully qualified, e.g. `conv.weight`).
        target: String,
    },
    /// Calls an operator by its registry name (`aten.add.Tensor`, `mylib.op.default`,
    /// `higher_order.cond`, `_operator.add`).
    Call {
        /// Operator name.
        target: String,
    },
    /// Calls another graph of the program (outlined partitions).
    CallGraph {
        /// The callee.
        graph: GraphId,
    },
    /// The graph's results; its positional args are the outputs. Always the last node.
    Output,
}

impl Op {
    /// The FX opcode name.
    pub fn opcode(&self) -> &'static str {
        match self {
            Op::Placeholder => "placeholder",
            Op::GetAttr { .. } => "get_attr",
            Op::Call { .. } => "call_function",
            Op::CallGraph { .. } => "call_graph",
            Op::Output => "output",
        }
    }

    /// The operator name of a `Call`.
    pub fn target(&self) -> Option<&str> {
        match self {
            Op::Call { target } => Some(target),
            _ => None,
        }
    }
}

/// An argument of a node: a reference to a value, or a literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arg {
    /// A value of the same graph.
    Value(ValueId),
    /// `None`
    None,
    /// A bool literal.
    Bool(bool),
    /// An int literal.
    Int(i64),
    /// A float literal.
    Float(F64),
    /// A string literal.
    Str(String),
    /// A list (ints, tensors, mixed SymInt lists, optional tensors...).
    List(Vec<Arg>),
    /// A `torch.dtype`.
    DType(DType),
    /// A device such as `cpu` or `cuda:0`.
    Device(String),
    /// A `torch.layout` by name (`strided`).
    Layout(String),
    /// A `torch.memory_format` by name (`contiguous_format`).
    MemoryFormat(String),
    /// A subgraph of the program (higher-order op operands).
    Graph(GraphId),
    /// An operator passed as a value (`auto_functionalized`'s op).
    OpRef(String),
    /// A complex literal `(real, imag)`.
    Complex(F64, F64),
    /// A dict of named arguments.
    Dict(Vec<(String, Arg)>),
}

impl Arg {
    /// Calls `f` on every value this argument references, recursively.
    pub fn for_each_value(&self, f: &mut impl FnMut(ValueId)) {
        match self {
            Arg::Value(v) => f(*v),
            Arg::List(items) => items.iter().for_each(|a| a.for_each_value(f)),
            Arg::Dict(items) => items.iter().for_each(|(_, a)| a.for_each_value(f)),
            _ => {}
        }
    }

    /// Rewrites every value reference in place.
    pub fn map_values(&mut self, f: &mut impl FnMut(ValueId) -> ValueId) {
        match self {
            Arg::Value(v) => *v = f(*v),
            Arg::List(items) => items.iter_mut().for_each(|a| a.map_values(f)),
            Arg::Dict(items) => items.iter_mut().for_each(|(_, a)| a.map_values(f)),
            _ => {}
        }
    }

    /// The value, if this is a plain value reference.
    pub fn as_value(&self) -> Option<ValueId> {
        match self {
            Arg::Value(v) => Some(*v),
            _ => None,
        }
    }

    /// The int, if this is an int literal.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Arg::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The float value of an int or float literal.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Arg::Int(v) => Some(*v as f64),
            Arg::Float(v) => Some(v.0),
            _ => None,
        }
    }

    /// The list of ints, if this is a list of int literals (or a single int, which ATen
    /// broadcasts for `int[2]` arguments).
    pub fn as_int_list(&self) -> Option<Vec<i64>> {
        match self {
            Arg::List(items) => items.iter().map(Arg::as_int).collect(),
            Arg::Int(v) => Some(vec![*v]),
            _ => None,
        }
    }
}

/// Side information on a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct NodeMeta {
    /// The result types came from the export (not from inference): set for opaque custom ops.
    pub recorded_types: bool,
    /// The segment the `partition` pass assigned the node to, until `outline-segments` turns
    /// segments into subgraphs. Printed as `{segment = 0, backend = "trt"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentTag>,
}

/// A node's segment assignment: the segment's position in execution order and the backend it
/// runs on (a backend id such as `trt`, or `fallback` for the executor).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegmentTag {
    /// Position of the segment in execution order.
    pub index: u32,
    /// Backend id (`fallback` for the executor).
    pub backend: String,
}

/// A node: opcode, arguments and result values.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeData {
    /// What the node does.
    pub op: Op,
    /// Positional arguments.
    pub args: Vec<Arg>,
    /// Keyword arguments, in their original order.
    pub kwargs: Vec<(String, Arg)>,
    /// Result values, in order (multi-output nodes have several).
    pub results: SmallVec<[ValueId; 1]>,
    /// FX node name, unique in the graph.
    pub name: String,
    /// Side information.
    pub meta: NodeMeta,
    dead: bool,
    prev: PackedOption<NodeId>,
    next: PackedOption<NodeId>,
}

impl NodeData {
    /// A removed, unlinked node that owns nothing (no allocation): what a node slot holds once
    /// its data has been moved out.
    fn vacant() -> NodeData {
        NodeData {
            op: Op::Output,
            args: Vec::new(),
            kwargs: Vec::new(),
            results: SmallVec::new(),
            name: String::new(),
            meta: NodeMeta::default(),
            dead: true,
            prev: None.into(),
            next: None.into(),
        }
    }

    /// Calls `f` on every value the node uses (args then kwargs, with repetition).
    pub fn for_each_input(&self, mut f: impl FnMut(ValueId)) {
        for a in &self.args {
            a.for_each_value(&mut f);
        }
        for (_, a) in &self.kwargs {
            a.for_each_value(&mut f);
        }
    }

    /// The values the node uses, with repetition.
    pub fn inputs(&self) -> Vec<ValueId> {
        let mut v = Vec::new();
        self.for_each_input(|x| v.push(x));
        v
    }

    /// A keyword argument by name.
    pub fn kwarg(&self, name: &str) -> Option<&Arg> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, a)| a)
    }

    /// True once the node was removed (until compaction).
    pub fn is_dead(&self) -> bool {
        self.dead
    }
}

/// A value: its type, its defining node and the nodes that use it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ValueData {
    /// The value's type.
    pub ty: Type,
    /// Name (from the export, or generated); printing may rename.
    pub name: String,
    /// The node that defines it.
    pub def: NodeId,
    /// Which result of `def` it is.
    pub index: u32,
    uses: Vec<NodeId>,
}

impl ValueData {
    /// Nodes using this value, one entry per use (a node using it twice appears twice).
    pub fn uses(&self) -> &[NodeId] {
        &self.uses
    }
}

/// Errors from graph mutation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// A node was removed while its results are still used.
    #[error("cannot remove node `{node}`: its result `{value}` still has {uses} use(s)")]
    StillUsed {
        /// Node name.
        node: String,
        /// Value name.
        value: String,
        /// Number of remaining uses.
        uses: usize,
    },
    /// An id that does not belong to this graph or refers to a removed node.
    #[error("invalid or removed {0}")]
    Invalid(String),
}

/// A graph: nodes in program order, values, use lists.
///
/// Deserialization goes through [`GraphRepr`] and checks every id and link (see
/// [`Graph::try_from`]), so a `Graph` read from untrusted JSON upholds the same invariants as
/// one built through the mutation API: nothing that walks or indexes it can go out of range
/// or loop.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "GraphRepr")]
pub struct Graph {
    /// Name (`main`, or the subgraph's name such as `true_graph_0`).
    pub name: String,
    nodes: PrimaryMap<NodeId, NodeData>,
    values: PrimaryMap<ValueId, ValueData>,
    first: PackedOption<NodeId>,
    last: PackedOption<NodeId>,
    live: usize,
    /// Mutation counter (see [`Graph::epoch`]); not part of equality or serialization.
    #[serde(skip)]
    epoch: u64,
    /// Positions in long use lists (see [`UseIndex`]); a cache, rebuilt on demand.
    #[serde(skip)]
    use_index: UseIndex,
}

/// Use lists longer than this get a position index on their first removal.
const USE_INDEX_THRESHOLD: usize = 32;

/// For values with long use lists (a weight read by every layer, a mask read by every
/// attention block), where in the list each user's entries are: removing a use is then O(1)
/// instead of a scan. Without it, rewriting each of N users of one value costs O(N) per user,
/// O(N^2) in all. Built lazily for a value on its first removal from a list longer than
/// [`USE_INDEX_THRESHOLD`], then maintained by every use-list change.
type UseIndex = rustc_hash::FxHashMap<ValueId, rustc_hash::FxHashMap<NodeId, SmallVec<[u32; 2]>>>;

/// The serialized fields of a [`Graph`], checked by `TryFrom` before they become one.
#[derive(Deserialize)]
struct GraphRepr {
    name: String,
    nodes: PrimaryMap<NodeId, NodeData>,
    values: PrimaryMap<ValueId, ValueData>,
    first: PackedOption<NodeId>,
    last: PackedOption<NodeId>,
    #[allow(dead_code)] // recomputed: the walk of the node list is the truth
    live: usize,
}

impl TryFrom<GraphRepr> for Graph {
    type Error = String;

    /// Checks what the mutation API guarantees by construction: the node list starts at
    /// `first`, follows `next` links through live nodes without revisiting one (a loop would
    /// hang every walk), has consistent `prev` links, ends at `last` and holds every live node;
    /// every result and argument names an existing value, and every value's `def`/`index`
    /// point back at the node that lists it. Use lists are rebuilt from the arguments rather
    /// than trusted.
    fn try_from(r: GraphRepr) -> Result<Graph, String> {
        let GraphRepr {
            name,
            nodes,
            mut values,
            first,
            last,
            live: _,
        } = r;
        let at = |what: String| format!("graph @{name}: {what}");
        let n_nodes = nodes.len();
        let mut seen = vec![false; n_nodes];
        let mut count = 0usize;
        let mut prev: Option<NodeId> = None;
        let mut cur = first.expand();
        while let Some(n) = cur {
            let Some(nd) = nodes.get(n) else {
                return Err(at(format!(
                    "the node list links to node {} but the graph has {n_nodes} nodes",
                    n.as_u32()
                )));
            };
            if seen[n.index()] {
                return Err(at(format!(
                    "the node list loops: node `{}` is reached twice",
                    nd.name
                )));
            }
            if nd.dead {
                return Err(at(format!(
                    "the node list links to removed node `{}`",
                    nd.name
                )));
            }
            if nd.prev.expand() != prev {
                return Err(at(format!(
                    "node `{}` has a `prev` link that does not match the list order",
                    nd.name
                )));
            }
            seen[n.index()] = true;
            count += 1;
            prev = Some(n);
            cur = nd.next.expand();
        }
        if last.expand() != prev {
            return Err(at("`last` is not the end of the node list".to_string()));
        }
        for (n, nd) in nodes.iter() {
            if !nd.dead && !seen[n.index()] {
                return Err(at(format!(
                    "live node `{}` is not in the node list",
                    nd.name
                )));
            }
        }
        let n_values = values.len();
        let value_err = |node: &str, v: ValueId| {
            at(format!(
                "node `{node}` refers to value {} but the graph has {n_values} values",
                v.as_u32()
            ))
        };
        for (n, nd) in nodes.iter() {
            for (i, &v) in nd.results.iter().enumerate() {
                let Some(vd) = values.get(v) else {
                    return Err(value_err(&nd.name, v));
                };
                if vd.def != n || vd.index as usize != i {
                    return Err(at(format!(
                        "value `{}` is result {i} of node `{}` but says it is result {} of node {}",
                        vd.name,
                        nd.name,
                        vd.index,
                        vd.def.as_u32()
                    )));
                }
            }
            if nd.dead {
                continue;
            }
            let mut bad = None;
            nd.for_each_input(|v| {
                if bad.is_none() && values.get(v).is_none() {
                    bad = Some(v);
                }
            });
            if let Some(v) = bad {
                return Err(value_err(&nd.name, v));
            }
        }
        for (v, vd) in values.iter() {
            let ok = nodes
                .get(vd.def)
                .and_then(|nd| nd.results.get(vd.index as usize))
                .is_some_and(|&r| r == v);
            if !ok {
                return Err(at(format!(
                    "value `{}` names a defining node that does not list it",
                    vd.name
                )));
            }
        }
        // The use lists must agree with the live nodes' arguments (as multisets: use-list
        // order is not meaningful); a disagreement means the file was edited or corrupted.
        let mut uses: SecondaryMap<ValueId, Vec<NodeId>> = SecondaryMap::new();
        for (n, nd) in nodes.iter() {
            if !nd.dead {
                nd.for_each_input(|v| uses[v].push(n));
            }
        }
        for (v, vd) in values.iter_mut() {
            let mut want = std::mem::take(&mut uses[v]);
            want.sort_unstable();
            vd.uses.sort_unstable();
            if vd.uses != want {
                return Err(at(format!(
                    "the use list of value `{}` disagrees with the nodes' arguments",
                    vd.name
                )));
            }
        }
        Ok(Graph {
            name,
            nodes,
            values,
            first,
            last,
            live: count,
            epoch: 0,
            use_index: UseIndex::default(),
        })
    }
}

/// Adds one use of `v` by `node` at the end of its list.
fn push_use(
    values: &mut PrimaryMap<ValueId, ValueData>,
    index: &mut UseIndex,
    v: ValueId,
    node: NodeId,
) {
    let Some(vd) = values.get_mut(v) else { return };
    if let Some(by_node) = index.get_mut(&v) {
        by_node.entry(node).or_default().push(vd.uses.len() as u32);
    }
    vd.uses.push(node);
}

/// Removes one use of `v` by `node` (swap-remove: use-list order is not meaningful).
fn drop_use(
    values: &mut PrimaryMap<ValueId, ValueData>,
    index: &mut UseIndex,
    v: ValueId,
    node: NodeId,
) {
    let Some(vd) = values.get_mut(v) else { return };
    let pos = if vd.uses.len() > USE_INDEX_THRESHOLD || index.contains_key(&v) {
        let by_node = index.entry(v).or_insert_with(|| {
            let mut m = rustc_hash::FxHashMap::<NodeId, SmallVec<[u32; 2]>>::default();
            for (i, &u) in vd.uses.iter().enumerate() {
                m.entry(u).or_default().push(i as u32);
            }
            m
        });
        let Some(slots) = by_node.get_mut(&node) else {
            return;
        };
        let Some(pos) = slots.pop() else { return };
        if slots.is_empty() {
            by_node.remove(&node);
        }
        let last = vd.uses.len() - 1;
        if pos as usize != last {
            // The last entry moves into the hole: repoint its slot.
            let moved = vd.uses[last];
            if let Some(slot) = by_node
                .get_mut(&moved)
                .and_then(|ss| ss.iter_mut().find(|s| **s as usize == last))
            {
                *slot = pos;
            }
        }
        pos as usize
    } else {
        match vd.uses.iter().position(|&u| u == node) {
            Some(p) => p,
            None => return,
        }
    };
    vd.uses.swap_remove(pos);
}

impl Graph {
    /// An empty graph.
    pub fn new(name: impl Into<String>) -> Self {
        Graph {
            name: name.into(),
            nodes: PrimaryMap::new(),
            values: PrimaryMap::new(),
            first: None.into(),
            last: None.into(),
            live: 0,
            epoch: 0,
            use_index: UseIndex::default(),
        }
    }

    /// The graph's mutation epoch: every method that changes the graph (nodes, arguments,
    /// order, types, names, metadata, compaction) bumps it, and setters that store an equal
    /// value do not. The pass manager compares epochs around a pass to catch a pass that
    /// mutates but reports `changed=false` — in O(1) instead of hashing the whole program.
    /// Only the [`Graph::name`] field, being public, is not tracked.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    fn bump(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// An empty graph with room for `nodes` nodes and `values` values, for builders that know
    /// the size up front (outlining creates many subgraphs; growing each arena step by step
    /// copied and page-faulted far more memory than the graphs hold).
    pub fn with_capacity(name: impl Into<String>, nodes: usize, values: usize) -> Self {
        let mut g = Graph::new(name);
        g.nodes.reserve_exact(nodes);
        g.values.reserve_exact(values);
        g
    }

    /// Number of live nodes.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True if there is no live node.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// A node's data. Panics on an id from another graph, like indexing a slice.
    pub fn node(&self, n: NodeId) -> &NodeData {
        &self.nodes[n]
    }

    /// A node's data, if the id is valid and the node is live.
    pub fn get_node(&self, n: NodeId) -> Option<&NodeData> {
        self.nodes.get(n).filter(|d| !d.dead)
    }

    /// A value's data.
    pub fn value(&self, v: ValueId) -> &ValueData {
        &self.values[v]
    }

    /// A value's data, if the id is valid.
    pub fn get_value(&self, v: ValueId) -> Option<&ValueData> {
        self.values.get(v)
    }

    /// A value's type.
    pub fn ty(&self, v: ValueId) -> &Type {
        &self.values[v].ty
    }

    /// Sets a value's type (type inference).
    pub fn set_ty(&mut self, v: ValueId, ty: Type) {
        if self.values[v].ty != ty {
            self.bump();
            self.values[v].ty = ty;
        }
    }

    /// Renames a value.
    pub fn set_value_name(&mut self, v: ValueId, name: impl Into<String>) {
        let name = name.into();
        if self.values[v].name != name {
            self.bump();
            self.values[v].name = name;
        }
    }

    /// Mutable access to a node's name and meta. Arguments change only through [`Graph::set_args`]
    /// so use lists stay right.
    pub fn set_node_name(&mut self, n: NodeId, name: impl Into<String>) {
        let name = name.into();
        if self.nodes[n].name != name {
            self.bump();
            self.nodes[n].name = name;
        }
    }

    /// Replaces a node's metadata (bumps the epoch only when it differs).
    pub fn set_node_meta(&mut self, n: NodeId, meta: NodeMeta) {
        if self.nodes[n].meta != meta {
            self.bump();
            self.nodes[n].meta = meta;
        }
    }

    /// Mutable node metadata (bumps the epoch: the caller may change it; prefer
    /// [`Graph::set_node_meta`] where the value may already be right).
    pub fn node_meta_mut(&mut self, n: NodeId) -> &mut NodeMeta {
        self.bump();
        &mut self.nodes[n].meta
    }

    /// Changes a node's opcode (e.g. retargeting `aten.conv2d` to `aten.convolution`).
    pub fn set_op(&mut self, n: NodeId, op: Op) {
        if self.nodes[n].op != op {
            self.bump();
            self.nodes[n].op = op;
        }
    }

    /// Total node slots, dead ones included (the size for side tables).
    pub fn node_capacity(&self) -> usize {
        self.nodes.len()
    }

    /// Total value slots (the size for side tables).
    pub fn value_capacity(&self) -> usize {
        self.values.len()
    }

    /// Every value id ever allocated (values of removed nodes included until compaction).
    pub fn value_ids(&self) -> impl Iterator<Item = ValueId> + '_ {
        self.values.keys()
    }

    /// Live nodes in program order.
    pub fn nodes(&self) -> NodeIter<'_> {
        NodeIter {
            graph: self,
            cur: self.first.expand(),
        }
    }

    /// Live nodes in program order, collected (for loops that mutate the graph).
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.nodes().collect()
    }

    /// The first live node.
    pub fn first_node(&self) -> Option<NodeId> {
        self.first.expand()
    }

    /// The last live node.
    pub fn last_node(&self) -> Option<NodeId> {
        self.last.expand()
    }

    /// The node after `n` in program order.
    pub fn next_node(&self, n: NodeId) -> Option<NodeId> {
        self.nodes[n].next.expand()
    }

    /// The node before `n` in program order.
    pub fn prev_node(&self, n: NodeId) -> Option<NodeId> {
        self.nodes[n].prev.expand()
    }

    /// Placeholder nodes in order.
    pub fn placeholders(&self) -> Vec<NodeId> {
        self.nodes()
            .filter(|&n| self.nodes[n].op == Op::Placeholder)
            .collect()
    }

    /// The values of the placeholders, in order.
    pub fn input_values(&self) -> Vec<ValueId> {
        self.placeholders()
            .into_iter()
            .map(|n| self.nodes[n].results[0])
            .collect()
    }

    /// The output node, if any.
    pub fn output_node(&self) -> Option<NodeId> {
        self.last
            .expand()
            .filter(|&n| self.nodes[n].op == Op::Output)
            .or_else(|| self.nodes().find(|&n| self.nodes[n].op == Op::Output))
    }

    /// The output node's arguments.
    pub fn outputs(&self) -> &[Arg] {
        match self.output_node() {
            Some(n) => &self.nodes[n].args,
            None => &[],
        }
    }

    fn alloc(
        &mut self,
        op: Op,
        args: Vec<Arg>,
        kwargs: Vec<(String, Arg)>,
        results: impl IntoIterator<Item = (String, Type)>,
        name: String,
    ) -> NodeId {
        self.bump();
        let n = self.nodes.next_key();
        let mut ids = SmallVec::new();
        // Names and types are moved in, not cloned: appending is on the path of every pass
        // that builds graphs (outlining moves 10^6 nodes).
        for (i, (rname, ty)) in results.into_iter().enumerate() {
            ids.push(self.values.push(ValueData {
                ty,
                name: rname,
                def: n,
                index: i as u32,
                uses: Vec::new(),
            }));
        }
        let data = NodeData {
            op,
            args,
            kwargs,
            results: ids,
            name,
            meta: NodeMeta::default(),
            dead: false,
            prev: None.into(),
            next: None.into(),
        };
        let id = self.nodes.push(data);
        self.add_uses_of(id);
        self.live += 1;
        id
    }

    /// Appends a node at the end of the graph (before nothing). Results are `(name, type)`.
    /// The node name is the first result's name, or `name_hint` when there is none.
    pub fn append(&mut self, b: NodeBuilder) -> NodeId {
        let id = self.build(b);
        self.link_after(id, self.last.expand());
        id
    }

    /// Inserts a node right before `before`.
    pub fn insert_before(&mut self, before: NodeId, b: NodeBuilder) -> NodeId {
        let id = self.build(b);
        let prev = self.nodes[before].prev.expand();
        self.link_after(id, prev);
        id
    }

    /// Inserts a node right after `after`.
    pub fn insert_after(&mut self, after: NodeId, b: NodeBuilder) -> NodeId {
        let id = self.build(b);
        self.link_after(id, Some(after));
        id
    }

    fn build(&mut self, b: NodeBuilder) -> NodeId {
        let name = b
            .name
            .or_else(|| b.results.first().map(|(n, _)| n.clone()))
            .unwrap_or_else(|| b.op.opcode().to_string());
        self.alloc(b.op, b.args, b.kwargs, b.results, name)
    }

    fn link_after(&mut self, id: NodeId, prev: Option<NodeId>) {
        self.bump();
        let next = match prev {
            Some(p) => self.nodes[p].next.expand(),
            None => self.first.expand(),
        };
        self.nodes[id].prev = prev.into();
        self.nodes[id].next = next.into();
        match prev {
            Some(p) => self.nodes[p].next = id.into(),
            None => self.first = id.into(),
        }
        match next {
            Some(nx) => self.nodes[nx].prev = id.into(),
            None => self.last = id.into(),
        }
    }

    fn unlink(&mut self, id: NodeId) {
        self.bump();
        let prev = self.nodes[id].prev.expand();
        let next = self.nodes[id].next.expand();
        match prev {
            Some(p) => self.nodes[p].next = next.into(),
            None => self.first = next.into(),
        }
        match next {
            Some(nx) => self.nodes[nx].prev = prev.into(),
            None => self.last = prev.into(),
        }
        self.nodes[id].prev = None.into();
        self.nodes[id].next = None.into();
    }

    /// Moves a live node to right before `before` (keeps ids and uses).
    pub fn move_before(&mut self, node: NodeId, before: NodeId) {
        if node == before {
            return;
        }
        self.unlink(node);
        let prev = self.nodes[before].prev.expand();
        self.link_after(node, prev);
    }

    /// Moves a live node to the end of the graph.
    pub fn move_to_end(&mut self, node: NodeId) {
        self.unlink(node);
        self.link_after(node, self.last.expand());
    }

    // The use-list helpers borrow the node and value tables separately instead of collecting
    // the inputs into a temporary vector: they run once per appended or moved node.
    fn drop_uses_of(&mut self, node: NodeId) {
        let (values, index) = (&mut self.values, &mut self.use_index);
        self.nodes[node].for_each_input(|v| drop_use(values, index, v, node));
    }

    fn add_uses_of(&mut self, node: NodeId) {
        let (values, index) = (&mut self.values, &mut self.use_index);
        self.nodes[node].for_each_input(|v| push_use(values, index, v, node));
    }

    /// Removes a live node from the program order (a tombstone until [`Graph::compact`]) and
    /// hands back its contents without cloning them, for moving whole regions into another
    /// graph (outlining) with [`Graph::append_taken`].
    ///
    /// Unlike [`Graph::remove_node`], the node's results may still be used. They stay allocated
    /// with their ids, `def` and use lists, but their names and types move into the
    /// [`TakenNode`] (leaving empty names and [`Type::None`]). So every remaining user of them
    /// must be taken as well, or rewired with [`Graph::replace_all_uses`], before the graph is
    /// printed, verified or compacted. The node leaves the use lists of its own inputs, so the
    /// rest of the graph stays consistent.
    pub fn take_node(&mut self, node: NodeId) -> Result<TakenNode, GraphError> {
        if self.get_node(node).is_none() {
            return Err(GraphError::Invalid(node.to_string()));
        }
        self.drop_uses_of(node);
        self.unlink(node);
        self.live -= 1;
        let nd = &mut self.nodes[node];
        nd.dead = true;
        let results = nd
            .results
            .iter()
            .map(|&r| {
                let vd = &mut self.values[r];
                (
                    std::mem::take(&mut vd.name),
                    std::mem::replace(&mut vd.ty, Type::None),
                )
            })
            .collect();
        Ok(TakenNode {
            // `Placeholder` holds no data, so the tombstone keeps nothing worth dropping.
            op: std::mem::replace(&mut nd.op, Op::Placeholder),
            args: std::mem::take(&mut nd.args),
            kwargs: std::mem::take(&mut nd.kwargs),
            results,
            name: std::mem::take(&mut nd.name),
            meta: std::mem::take(&mut nd.meta),
        })
    }

    /// Appends a node taken from another graph (or from this one) with [`Graph::take_node`],
    /// moving its contents in. The caller must first map its argument values to values of this
    /// graph ([`TakenNode::map_values`]). Results get fresh value ids, in order.
    pub fn append_taken(&mut self, t: TakenNode) -> NodeId {
        let id = self.alloc(t.op, t.args, t.kwargs, t.results, t.name);
        self.nodes[id].meta = t.meta;
        self.link_after(id, self.last.expand());
        id
    }

    /// Replaces a node's arguments, keeping use lists right.
    pub fn set_args(&mut self, node: NodeId, args: Vec<Arg>, kwargs: Vec<(String, Arg)>) {
        self.bump();
        self.drop_uses_of(node);
        self.nodes[node].args = args;
        self.nodes[node].kwargs = kwargs;
        self.add_uses_of(node);
    }

    /// Replaces every use of `old` by `new`. Returns the number of rewritten nodes.
    pub fn replace_all_uses(&mut self, old: ValueId, new: ValueId) -> usize {
        if old == new {
            return 0;
        }
        self.bump();
        let mut users = std::mem::take(&mut self.values[old].uses);
        self.use_index.remove(&old);
        users.sort();
        users.dedup();
        for &u in &users {
            let node = &mut self.nodes[u];
            let mut count = 0usize;
            let mut f = |v: ValueId| {
                if v == old {
                    count += 1;
                    new
                } else {
                    v
                }
            };
            for a in node.args.iter_mut() {
                a.map_values(&mut f);
            }
            for (_, a) in node.kwargs.iter_mut() {
                a.map_values(&mut f);
            }
            for _ in 0..count {
                push_use(&mut self.values, &mut self.use_index, new, u);
            }
        }
        users.len()
    }

    /// Removes a node whose results are unused (tombstone until [`Graph::compact`]).
    pub fn remove_node(&mut self, node: NodeId) -> Result<(), GraphError> {
        let nd = self
            .get_node(node)
            .ok_or_else(|| GraphError::Invalid(node.to_string()))?;
        for &r in &nd.results {
            let vd = &self.values[r];
            if !vd.uses.is_empty() {
                return Err(GraphError::StillUsed {
                    node: nd.name.clone(),
                    value: vd.name.clone(),
                    uses: vd.uses.len(),
                });
            }
        }
        self.drop_uses_of(node);
        self.unlink(node);
        self.nodes[node].dead = true;
        self.live -= 1;
        Ok(())
    }

    /// True if some node was removed since the last compaction.
    pub fn has_tombstones(&self) -> bool {
        self.live != self.nodes.len()
    }

    /// Renumbers nodes and values densely in program order, dropping removed nodes and their
    /// values. Returns the value renumbering (old → new), for callers holding value ids.
    pub fn compact(&mut self) -> SecondaryMap<ValueId, PackedOption<ValueId>> {
        let order = self.node_ids();
        let mut vmap: SecondaryMap<ValueId, PackedOption<ValueId>> =
            SecondaryMap::with_capacity(self.values.len());
        let mut next_v = 0usize;
        for &n in &order {
            for &r in &self.nodes[n].results {
                vmap[r] = ValueId::from_u32(next_v as u32).into();
                next_v += 1;
            }
        }
        // Sized up front, and nodes moved out in place: at 10^6 nodes, regrowing the arenas and
        // copying the old node table into a second vector dominated the compaction.
        let mut new = Graph::with_capacity(self.name.clone(), order.len(), next_v);
        let mut old_nodes = std::mem::take(&mut self.nodes);
        let mut old_values = std::mem::take(&mut self.values);
        let remap = |v: ValueId| vmap[v].expand().unwrap_or(v);
        for n in order {
            let mut d = std::mem::replace(&mut old_nodes[n], NodeData::vacant());
            for a in d.args.iter_mut() {
                a.map_values(&mut |v| remap(v));
            }
            for (_, a) in d.kwargs.iter_mut() {
                a.map_values(&mut |v| remap(v));
            }
            let results = d.results.iter().map(|&r| {
                let vd = &mut old_values[r];
                (
                    std::mem::take(&mut vd.name),
                    std::mem::replace(&mut vd.ty, Type::None),
                )
            });
            let id = new.alloc(d.op, d.args, d.kwargs, results, d.name);
            new.nodes[id].meta = d.meta;
            new.link_after(id, new.last.expand());
        }
        // Ids changed: keep counting from the old epoch so observers see a change.
        new.epoch = self.epoch.wrapping_add(1);
        *self = new;
        vmap
    }

    /// A petgraph view of the data dependencies between live nodes (edge = value flow), for
    /// toposort, SCC and dominator algorithms. Node weights are the [`NodeId`]s.
    pub fn to_petgraph(&self) -> petgraph::graph::DiGraph<NodeId, ValueId> {
        let mut g = petgraph::graph::DiGraph::with_capacity(self.live, self.live);
        // Dense map NodeId -> petgraph index; u32::MAX marks "not a live node".
        let mut idx: SecondaryMap<NodeId, u32> = SecondaryMap::with_default(u32::MAX);
        for n in self.nodes() {
            idx[n] = g.add_node(n).index() as u32;
        }
        for n in self.nodes() {
            let to = petgraph::graph::NodeIndex::new(idx[n] as usize);
            self.nodes[n].for_each_input(|v| {
                if let Some(vd) = self.values.get(v) {
                    let from = idx[vd.def];
                    if from != u32::MAX {
                        g.add_edge(petgraph::graph::NodeIndex::new(from as usize), to, v);
                    }
                }
            });
        }
        g
    }
}

/// Structural equality: same live nodes in the same order with the same opcodes, arguments
/// (value references compared by position), result names and types. Arena ids and tombstones
/// do not matter, so a graph equals its compacted or re-parsed self.
impl PartialEq for Graph {
    fn eq(&self, other: &Self) -> bool {
        if self.name != other.name || self.live != other.live {
            return false;
        }
        let mut vmap: SecondaryMap<ValueId, PackedOption<ValueId>> = SecondaryMap::new();
        let mut ok = true;
        let same_arg = |a: &Arg, b: &Arg, vmap: &SecondaryMap<ValueId, PackedOption<ValueId>>| {
            let mut a = a.clone();
            a.map_values(&mut |v| vmap[v].expand().unwrap_or(ValueId::from_u32(u32::MAX - 1)));
            a == *b
        };
        for (n, m) in self.nodes().zip(other.nodes()) {
            let (a, b) = (&self.nodes[n], &other.nodes[m]);
            if a.op != b.op
                || a.name != b.name
                || a.meta != b.meta
                || a.args.len() != b.args.len()
                || a.kwargs.len() != b.kwargs.len()
                || a.results.len() != b.results.len()
            {
                ok = false;
                break;
            }
            if !a
                .args
                .iter()
                .zip(&b.args)
                .all(|(x, y)| same_arg(x, y, &vmap))
                || !a
                    .kwargs
                    .iter()
                    .zip(&b.kwargs)
                    .all(|((k1, x), (k2, y))| k1 == k2 && same_arg(x, y, &vmap))
            {
                ok = false;
                break;
            }
            for (&r, &s) in a.results.iter().zip(&b.results) {
                let (vr, vs) = (&self.values[r], &other.values[s]);
                if vr.name != vs.name || vr.ty != vs.ty {
                    return false;
                }
                vmap[r] = s.into();
            }
        }
        ok
    }
}

/// The contents of a node taken out of a graph by [`Graph::take_node`], to be appended to a
/// graph with [`Graph::append_taken`] without cloning its operator, arguments, names or types.
#[derive(Clone, Debug)]
pub struct TakenNode {
    /// What the node does.
    pub op: Op,
    /// Positional arguments (still referring to values of the graph it was taken from).
    pub args: Vec<Arg>,
    /// Keyword arguments.
    pub kwargs: Vec<(String, Arg)>,
    /// Result `(name, type)` pairs, in order.
    pub results: SmallVec<[(String, Type); 1]>,
    /// Node name.
    pub name: String,
    /// Side information.
    pub meta: NodeMeta,
}

impl TakenNode {
    /// Rewrites every value reference of the arguments in place (from the source graph's ids
    /// to the destination's).
    pub fn map_values(&mut self, mut f: impl FnMut(ValueId) -> ValueId) {
        for a in self.args.iter_mut() {
            a.map_values(&mut f);
        }
        for (_, a) in self.kwargs.iter_mut() {
            a.map_values(&mut f);
        }
    }
}

/// Iterator over live nodes in program order.
pub struct NodeIter<'a> {
    graph: &'a Graph,
    cur: Option<NodeId>,
}

impl Iterator for NodeIter<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let n = self.cur?;
        self.cur = self.graph.nodes[n].next.expand();
        Some(n)
    }
}

/// Describes a node to insert.
#[derive(Clone, Debug)]
pub struct NodeBuilder {
    /// Opcode.
    pub op: Op,
    /// Positional arguments.
    pub args: Vec<Arg>,
    /// Keyword arguments.
    pub kwargs: Vec<(String, Arg)>,
    /// Results as `(name, type)`.
    pub results: Vec<(String, Type)>,
    /// Node name; defaults to the first result's name.
    pub name: Option<String>,
}

impl NodeBuilder {
    /// A builder for `op` with no arguments and no results.
    pub fn new(op: Op) -> Self {
        NodeBuilder {
            op,
            args: Vec::new(),
            kwargs: Vec::new(),
            results: Vec::new(),
            name: None,
        }
    }

    /// A `call_function` builder.
    pub fn call(target: impl Into<String>) -> Self {
        Self::new(Op::Call {
            target: target.into(),
        })
    }

    /// Sets positional args.
    pub fn args(mut self, args: Vec<Arg>) -> Self {
        self.args = args;
        self
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, name: impl Into<String>, a: Arg) -> Self {
        self.kwargs.push((name.into(), a));
        self
    }

    /// Adds a result.
    pub fn result(mut self, name: impl Into<String>, ty: Type) -> Self {
        self.results.push((name.into(), ty));
        self
    }

    /// Sets the node name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::static_shape;

    fn t() -> Type {
        Type::tensor(DType::F32, static_shape(&[2]))
    }

    #[test]
    fn build_mutate_compact() {
        let mut g = Graph::new("main");
        let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", t()));
        let xv = g.node(x).results[0];
        let a = g.append(
            NodeBuilder::call("aten.relu.default")
                .args(vec![Arg::Value(xv)])
                .result("a", t()),
        );
        let av = g.node(a).results[0];
        let b = g.append(
            NodeBuilder::call("aten.add.Tensor")
                .args(vec![Arg::Value(av), Arg::Value(av)])
                .result("b", t()),
        );
        let bv = g.node(b).results[0];
        g.append(NodeBuilder::new(Op::Output).args(vec![Arg::Value(bv)]));
        assert_eq!(g.value(av).uses(), &[b, b]);
        // Cannot remove a used node.
        assert!(matches!(
            g.remove_node(a),
            Err(GraphError::StillUsed { .. })
        ));
        // Replace relu by x, then remove relu.
        assert_eq!(g.replace_all_uses(av, xv), 1);
        assert_eq!(g.value(xv).uses().len(), 3);
        g.remove_node(a).unwrap();
        assert_eq!(g.len(), 3);
        assert!(g.has_tombstones());
        let map = g.compact();
        assert!(!g.has_tombstones());
        let names: Vec<_> = g.nodes().map(|n| g.node(n).name.clone()).collect();
        assert_eq!(names, ["x", "b", "output"]);
        let nb = map[bv].expand().unwrap();
        assert_eq!(g.value(nb).name, "b");
        assert_eq!(g.outputs(), &[Arg::Value(nb)]);
        // Insert before the output.
        let out = g.output_node().unwrap();
        let c = g.insert_before(
            out,
            NodeBuilder::call("aten.neg.default")
                .args(vec![Arg::Value(nb)])
                .result("c", t()),
        );
        assert_eq!(g.prev_node(out), Some(c));
        assert_eq!(g.to_petgraph().edge_count(), 4);
    }

    #[test]
    fn take_and_append_moves_nodes() {
        let mut g = Graph::new("main");
        let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", t()));
        let xv = g.node(x).results[0];
        let a = g.append(
            NodeBuilder::call("aten.relu.default")
                .args(vec![Arg::Value(xv)])
                .result("a", t()),
        );
        g.node_meta_mut(a).recorded_types = true;
        let av = g.node(a).results[0];
        let b = g.append(
            NodeBuilder::call("aten.add.Tensor")
                .args(vec![Arg::Value(av), Arg::Value(xv)])
                .result("b", t()),
        );
        let bv = g.node(b).results[0];
        g.append(NodeBuilder::new(Op::Output).args(vec![Arg::Value(bv)]));

        // Move a and b into a new graph with its own input.
        let mut sub = Graph::new("sub");
        let sx = sub.append(NodeBuilder::new(Op::Placeholder).result("x", t()));
        let sxv = sub.node(sx).results[0];
        let epoch = g.epoch();
        let mut ta = g.take_node(a).unwrap();
        assert!(g.epoch() != epoch);
        assert!(g.node(a).is_dead());
        assert_eq!(g.len(), 3);
        // x no longer lists a as a user; a's result keeps its use by b (not taken yet).
        assert_eq!(g.value(xv).uses(), &[b]);
        assert_eq!(g.value(av).uses(), &[b]);
        assert_eq!(g.ty(av), &Type::None);
        assert!(matches!(g.take_node(a), Err(GraphError::Invalid(_))));
        ta.map_values(|v| if v == xv { sxv } else { v });
        let na = sub.append_taken(ta);
        let nav = sub.node(na).results[0];
        assert!(sub.node(na).meta.recorded_types);
        let mut tb = g.take_node(b).unwrap();
        assert!(g.value(av).uses().is_empty());
        tb.map_values(|v| match v {
            v if v == xv => sxv,
            v if v == av => nav,
            v => v,
        });
        let nb = sub.append_taken(tb);
        assert_eq!(sub.value(nav).uses(), &[nb]);
        assert_eq!(sub.value(sxv).uses(), &[na, nb]);
        assert_eq!(sub.value(sub.node(nb).results[0]).name, "b");
        assert_eq!(sub.ty(nav), &t());
        let names: Vec<_> = sub.nodes().map(|n| sub.node(n).name.clone()).collect();
        assert_eq!(names, ["x", "a", "b"]);
    }
}
