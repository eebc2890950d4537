//! Op libraries: custom operators given as data, each a schema and a body graph written in
//! other operators.
//!
//! A PyTorch program that calls a custom operator (`torch.library.custom_op`) runs in PyTorch
//! because the op's Python implementation is registered in the process. trtfx has no Python
//! at run time, so the implementation comes as data: an [`OpLibrary`] holds one body graph
//! per operator schema. Registered into an [`OpRegistry`] ([`OpLibraries::register_into`]),
//! each body becomes the operator's *decomposition*, so inference, the executor and the
//! TensorRT converter all follow it like any other decomposition (the converter inlines it
//! into the TensorRT network when every op of the body converts).
//!
//! The canonical form of a library is a [`Program`] printed as `.fxir`: every graph is one
//! operator, the graph's name is the operator's schema string
//! (`trtfx_test::scale_shift(Tensor x, float scale, *, int shift=0) -> Tensor`) and its
//! placeholders are the schema's arguments in order (keyword-only ones included). Scalar
//! arguments are placeholders of scalar type (`float`, `int`, `bool`); the call's literal (or
//! symbolic) value takes their place when the body is inlined. The body's types only document
//! it: every use re-infers the body's calls from the caller's argument types, so one body
//! serves any shape (and, for dtype-generic ops, any dtype).

use super::bind::{Binding, Bound, BoundArgs};
use super::decomp::DecompCx;
use super::{
    BaseType, DecompFn, Effects, InferArgs, InferFn, OpDef, OpProps, OpRegistry, OpTags, Schema,
    SchemaType,
};
use crate::graph::{Arg, Graph, NodeBuilder, Op, ValueId};
use crate::program::Program;
use crate::types::Type;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// How deep library bodies may call other library operators (recursion is refused when the
/// libraries are registered; this only bounds pathological nesting).
pub const MAX_NESTING: usize = 16;

/// An error about an op library: the file (or other origin) it concerns and what is wrong.
/// Displays as `ORIGIN: op library: WHY`, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryError {
    /// The library's file name (or another origin).
    pub origin: String,
    /// What is wrong.
    pub message: String,
}

impl LibraryError {
    /// An error about `origin`.
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> Self {
        LibraryError {
            origin: origin.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for LibraryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: op library: {}", self.origin, self.message)
    }
}

impl std::error::Error for LibraryError {}

/// One operator of a library.
#[derive(Clone, Debug)]
pub struct LibraryOp {
    /// Registry name (`trtfx_test.scale_shift.default`).
    pub name: String,
    /// The schema as written (`trtfx_test::scale_shift(Tensor x, float scale, *, int shift=0)
    /// -> Tensor`).
    pub schema_text: String,
    /// The parsed schema.
    pub schema: Schema,
    /// The body: one placeholder per schema argument, calls, and an output per return.
    pub body: Arc<Graph>,
}

/// A set of custom operators, each with a schema and a body (see the module docs).
#[derive(Clone, Debug)]
pub struct OpLibrary {
    origin: String,
    program: Program,
    ops: Vec<LibraryOp>,
}

/// True for the schema types that bind to a tensor value (`Tensor`, `Tensor?`).
fn is_tensor(t: &SchemaType) -> bool {
    t.base == BaseType::Tensor && t.list.is_none()
}

/// True for the schema types a scalar takes (`int`, `SymInt`, `float`, `bool`, `Scalar`).
fn is_scalar(t: &SchemaType) -> bool {
    t.list.is_none()
        && matches!(
            t.base,
            BaseType::Int | BaseType::SymInt | BaseType::Float | BaseType::Bool | BaseType::Scalar
        )
}

/// The type a scalar placeholder of schema type `t` gets in the canonical form.
pub fn scalar_placeholder_type(t: &SchemaType) -> Option<Type> {
    if !is_scalar(t) {
        return None;
    }
    Some(match t.base {
        BaseType::Int | BaseType::SymInt => Type::Int,
        BaseType::Bool => Type::Bool,
        _ => Type::Float,
    })
}

impl OpLibrary {
    /// A library from its canonical program (one graph per operator; see the module docs).
    /// `origin` names it in errors.
    pub fn from_program(program: Program, origin: &str) -> Result<OpLibrary, LibraryError> {
        let err = |m: String| LibraryError::new(origin, m);
        if program.graphs.is_empty() {
            return Err(err("it defines no operator (no graph)".into()));
        }
        let mut ops: Vec<LibraryOp> = Vec::new();
        for (_, g) in program.graphs.iter() {
            let parsed = crate::aten::parse_schema(&g.name).map_err(|e| {
                err(format!(
                    "graph @{}: its name must be the operator's schema \
                     (`ns::op(Tensor x, float scale) -> Tensor`): {e}",
                    g.name
                ))
            })?;
            let name = parsed.name.clone();
            let ns = name.split('.').next().unwrap_or("");
            if matches!(ns, "aten" | "prims" | "higher_order" | "_operator" | "math") {
                return Err(err(format!(
                    "`{name}` is a standard operator; a library defines custom operators \
                     (`mylib::op(...)`)"
                )));
            }
            if ops.iter().any(|o| o.name == name) {
                return Err(err(format!("`{name}` is defined twice")));
            }
            check_body(g, &name, &parsed.schema).map_err(err)?;
            ops.push(LibraryOp {
                name,
                schema_text: g.name.clone(),
                schema: parsed.schema,
                body: Arc::new(g.clone()),
            });
        }
        Ok(OpLibrary {
            origin: origin.to_string(),
            program,
            ops,
        })
    }

    /// A library from `.fxir` text (the canonical program).
    pub fn parse(text: &str, origin: &str) -> Result<OpLibrary, LibraryError> {
        let p = crate::text::parse_program(text).map_err(|e| {
            LibraryError::new(
                origin,
                format!("not valid .fxir: {}:{}: {}", e.line, e.column, e.message),
            )
        })?;
        OpLibrary::from_program(p, origin)
    }

    /// The canonical `.fxir` text (what [`OpLibrary::parse`] reads back).
    pub fn to_text(&self) -> String {
        crate::text::print_program(&self.program)
    }

    /// Where the library came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The operators, in definition order.
    pub fn ops(&self) -> &[LibraryOp] {
        &self.ops
    }

    /// The canonical program.
    pub fn program(&self) -> &Program {
        &self.program
    }
}

/// Checks a body against its schema: one placeholder per argument (tensor arguments tensors,
/// scalar arguments scalars), only calls and the output, one output per return.
fn check_body(g: &Graph, name: &str, schema: &Schema) -> Result<(), String> {
    let phs = g.placeholders();
    if phs.len() != schema.args.len() {
        return Err(format!(
            "the body of `{name}` has {} placeholder(s), its schema {} argument(s)",
            phs.len(),
            schema.args.len()
        ));
    }
    for (&n, a) in phs.iter().zip(&schema.args) {
        let node = g.node(n);
        let Some(&v) = node.results.first() else {
            return Err(format!("the body of `{name}`: a placeholder has no value"));
        };
        let ty = g.ty(v);
        let ok = if is_tensor(&a.ty) {
            ty.as_tensor().is_some() || (a.ty.optional && *ty == Type::None)
        } else if is_scalar(&a.ty) {
            matches!(
                ty,
                Type::Int
                    | Type::Float
                    | Type::Bool
                    | Type::SymInt(_)
                    | Type::SymFloat
                    | Type::SymBool
            ) || (a.ty.optional && *ty == Type::None)
        } else {
            true
        };
        if !ok {
            return Err(format!(
                "the body of `{name}`: placeholder %{} is {ty}, but schema argument `{}` is \
                 a {}",
                g.value(v).name,
                a.name,
                schema_type_name(&a.ty)
            ));
        }
    }
    let mut seen_output = false;
    for n in g.nodes() {
        let node = g.node(n);
        match &node.op {
            Op::Placeholder => {}
            Op::Call { .. } => {
                let mut sub = false;
                for a in node.args.iter().chain(node.kwargs.iter().map(|(_, a)| a)) {
                    sub |= has_graph_ref(a);
                }
                if sub {
                    return Err(format!(
                        "the body of `{name}`: node `{}` references a subgraph; bodies are \
                         single graphs",
                        node.name
                    ));
                }
            }
            Op::Output => {
                seen_output = true;
                if node.args.len() != schema.returns.len() {
                    return Err(format!(
                        "the body of `{name}` returns {} value(s), its schema {}",
                        node.args.len(),
                        schema.returns.len()
                    ));
                }
            }
            Op::GetAttr { target } => {
                return Err(format!(
                    "the body of `{name}` reads weight `{target}`: a body may only read its \
                     arguments"
                ))
            }
            other => {
                return Err(format!(
                    "the body of `{name}`: {} nodes are not allowed in a body",
                    other.opcode()
                ))
            }
        }
    }
    if !seen_output {
        return Err(format!("the body of `{name}` has no output"));
    }
    Ok(())
}

fn has_graph_ref(a: &Arg) -> bool {
    match a {
        Arg::Graph(_) => true,
        Arg::List(items) => items.iter().any(has_graph_ref),
        Arg::Dict(items) => items.iter().any(|(_, a)| has_graph_ref(a)),
        _ => false,
    }
}

fn schema_type_name(t: &SchemaType) -> String {
    let base = match &t.base {
        BaseType::Tensor => "Tensor".to_string(),
        BaseType::Int => "int".into(),
        BaseType::SymInt => "SymInt".into(),
        BaseType::Float => "float".into(),
        BaseType::Bool => "bool".into(),
        BaseType::Scalar => "Scalar".into(),
        BaseType::ScalarType => "ScalarType".into(),
        BaseType::Str => "str".into(),
        BaseType::Layout => "Layout".into(),
        BaseType::Device => "Device".into(),
        BaseType::MemoryFormat => "MemoryFormat".into(),
        BaseType::Generator => "Generator".into(),
        BaseType::Dimname => "Dimname".into(),
        BaseType::Other(s) => s.clone(),
    };
    let list = match t.list {
        Some(Some(n)) => format!("[{n}]"),
        Some(None) => "[]".into(),
        None => String::new(),
    };
    format!("{base}{list}{}", if t.optional { "?" } else { "" })
}

/// Replaces every value reference of `a` by its entry in `map`.
fn subst(a: &Arg, map: &FxHashMap<ValueId, Arg>) -> Result<Arg, String> {
    Ok(match a {
        Arg::Value(v) => map
            .get(v)
            .cloned()
            .ok_or_else(|| format!("value {v} is used before it is defined"))?,
        Arg::List(items) => Arg::List(
            items
                .iter()
                .map(|x| subst(x, map))
                .collect::<Result<_, _>>()?,
        ),
        Arg::Dict(items) => Arg::Dict(
            items
                .iter()
                .map(|(k, x)| Ok((k.clone(), subst(x, map)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// The callback [`instantiate`] emits each call of a body through: target, arguments,
/// keyword arguments; returns the new call's results.
pub type Emit<'a> =
    dyn FnMut(&str, Vec<Arg>, Vec<(String, Arg)>) -> Result<Vec<ValueId>, String> + 'a;

/// Replays `body` with its placeholders replaced by `inputs` (one per placeholder): every
/// call goes through `emit` with its arguments rewritten; returns the body's outputs.
pub fn instantiate(body: &Graph, inputs: &[Arg], emit: &mut Emit<'_>) -> Result<Vec<Arg>, String> {
    let mut map: FxHashMap<ValueId, Arg> = FxHashMap::default();
    let phs = body.placeholders();
    if phs.len() != inputs.len() {
        return Err(format!(
            "the body takes {} argument(s), {} given",
            phs.len(),
            inputs.len()
        ));
    }
    for (&n, a) in phs.iter().zip(inputs) {
        for &r in &body.node(n).results {
            map.insert(r, a.clone());
        }
    }
    for n in body.nodes() {
        let node = body.node(n);
        match &node.op {
            Op::Placeholder => {}
            Op::Call { target } => {
                let args = node
                    .args
                    .iter()
                    .map(|a| subst(a, &map))
                    .collect::<Result<Vec<_>, _>>()?;
                let kwargs = node
                    .kwargs
                    .iter()
                    .map(|(k, a)| Ok((k.clone(), subst(a, &map)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                let rs = emit(target, args, kwargs)?;
                if rs.len() != node.results.len() {
                    return Err(format!(
                        "node `{}` ({target}) gives {} result(s) here, {} in the body",
                        node.name,
                        rs.len(),
                        node.results.len()
                    ));
                }
                for (&r, v) in node.results.iter().zip(rs) {
                    map.insert(r, Arg::Value(v));
                }
            }
            Op::Output => {
                return node.args.iter().map(|a| subst(a, &map)).collect();
            }
            other => {
                return Err(format!(
                    "{} nodes are not allowed in a body",
                    other.opcode()
                ))
            }
        }
    }
    Err("the body has no output".into())
}

/// The bodies of every registered library operator, by registry name, shared by their
/// inference functions (so a body may call another library operator).
type Bodies = Arc<FxHashMap<String, LibraryOp>>;

/// The call's arguments bound to `schema`, one [`Arg`] per schema argument (the call's own,
/// the default, or `None`).
fn bound_inputs(
    schema: &Schema,
    args: &[Arg],
    kwargs: &[(String, Arg)],
) -> Result<Vec<Arg>, String> {
    let binding = Binding::of_call(schema, args, kwargs).map_err(|e| e.to_string())?;
    let view = BoundArgs {
        schema,
        binding: &binding,
        args,
        kwargs,
    };
    Ok((0..schema.args.len())
        .map(|i| match view.at(i) {
            Bound::Given(a) | Bound::Default(a) => a.clone(),
            Bound::Absent => Arg::None,
        })
        .collect())
}

/// Result types of a call of library operator `op`: its body replayed in a scratch graph
/// whose placeholders have the call's argument types, every call typed by its own inference.
fn infer_body(
    bodies: &Bodies,
    op: &LibraryOp,
    a: &InferArgs<'_>,
    depth: usize,
) -> Result<Vec<Type>, String> {
    if depth > MAX_NESTING {
        return Err(format!(
            "library bodies nested more than {MAX_NESTING} deep at `{}`",
            op.name
        ));
    }
    let (mut g, args, kwargs) = super::decomp::scratch_call_graph("infer", a);
    let inputs = bound_inputs(&op.schema, &args, &kwargs)?;
    let std = crate::aten::registry();
    let mut fresh = 0usize;
    let outs = {
        let g = &mut g;
        let mut emit = |target: &str, args: Vec<Arg>, kwargs: Vec<(String, Arg)>| {
            let types = {
                let type_of = |v: ValueId| g.get_value(v).map_or(Type::None, |d| d.ty.clone());
                let ia = InferArgs {
                    args: &args,
                    kwargs: &kwargs,
                    type_of: &type_of,
                };
                if let Some(inner) = bodies.get(target) {
                    infer_body(bodies, inner, &ia, depth + 1)?
                } else {
                    let f = std
                        .get(target)
                        .and_then(|d| d.infer.as_ref())
                        .ok_or_else(|| format!("`{target}` has no inference"))?;
                    f(&ia).map_err(|e| format!("`{target}`: {e}"))?
                }
            };
            let mut b = NodeBuilder::call(target).args(args);
            for (k, x) in kwargs {
                b = b.kwarg(k, x);
            }
            for ty in types {
                fresh += 1;
                b = b.result(format!("r{fresh}"), ty);
            }
            let n = g.append(b);
            Ok(g.node(n).results.to_vec())
        };
        instantiate(&op.body, &inputs, &mut emit)?
    };
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

/// The libraries a program is run or compiled with.
#[derive(Clone, Debug, Default)]
pub struct OpLibraries {
    libs: Vec<Arc<OpLibrary>>,
}

impl OpLibraries {
    /// No library.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a library. An operator another library already defines is an error, unless both
    /// define it with the same schema and body text (the same library loaded twice, say from a
    /// compiled artifact and from the command line).
    pub fn add(&mut self, lib: OpLibrary) -> Result<(), LibraryError> {
        let mut lib = lib;
        let mut keep = Vec::new();
        let ops = std::mem::take(&mut lib.ops);
        for op in ops {
            match self.find(&op.name) {
                Some((other, prev)) => {
                    let same = prev.schema_text == op.schema_text
                        && crate::text::print_program(&single(other, prev))
                            == crate::text::print_program(&single(&lib, &op));
                    if !same {
                        return Err(LibraryError::new(
                            lib.origin.clone(),
                            format!(
                                "`{}` is already defined, differently, by {}",
                                op.name, other.origin
                            ),
                        ));
                    }
                }
                None => keep.push(op),
            }
        }
        lib.ops = keep;
        if !lib.ops.is_empty() {
            self.libs.push(Arc::new(lib));
        }
        Ok(())
    }

    /// The libraries.
    pub fn iter(&self) -> impl Iterator<Item = &OpLibrary> {
        self.libs.iter().map(|l| &**l)
    }

    /// True when no library is loaded.
    pub fn is_empty(&self) -> bool {
        self.libs.is_empty()
    }

    /// Number of libraries.
    pub fn len(&self) -> usize {
        self.libs.len()
    }

    /// The library and definition of operator `name`.
    pub fn find(&self, name: &str) -> Option<(&OpLibrary, &LibraryOp)> {
        self.libs
            .iter()
            .find_map(|l| l.ops.iter().find(|o| o.name == name).map(|o| (&**l, o)))
    }

    /// The libraries with an operator that some call of `p` uses.
    pub fn used_by(&self, p: &Program) -> OpLibraries {
        let targets: FxHashSet<&str> = p
            .graphs
            .values()
            .flat_map(|g| g.nodes().filter_map(|n| g.node(n).op.target()))
            .collect();
        // A used op's body may call ops of other libraries: follow those too.
        let mut want: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
        let mut used: FxHashSet<String> = FxHashSet::default();
        while let Some(t) = want.pop() {
            if let Some((_, op)) = self.find(&t) {
                if used.insert(t) {
                    want.extend(
                        op.body
                            .nodes()
                            .filter_map(|n| op.body.node(n).op.target())
                            .map(str::to_string),
                    );
                }
            }
        }
        OpLibraries {
            libs: self
                .libs
                .iter()
                .filter(|l| l.ops.iter().any(|o| used.contains(&o.name)))
                .cloned()
                .collect(),
        }
    }

    /// Registers every operator: schema, inference through the body, and the body as its
    /// decomposition. Fails when a body calls an operator that is neither in `reg` nor in a
    /// library, or (directly or through other library operators) itself.
    pub fn register_into(&self, reg: &mut OpRegistry) -> Result<(), LibraryError> {
        let bodies: FxHashMap<String, LibraryOp> = self
            .iter()
            .flat_map(|l| l.ops.iter().map(|o| (o.name.clone(), o.clone())))
            .collect();
        for l in self.iter() {
            for op in &l.ops {
                if reg
                    .get(&op.name)
                    .is_some_and(|d| d.decomposition.is_none() && d.schema.is_some())
                {
                    return Err(LibraryError::new(
                        &l.origin,
                        format!("`{}` is already a registered operator", op.name),
                    ));
                }
                for n in op.body.nodes() {
                    let Some(t) = op.body.node(n).op.target() else {
                        continue;
                    };
                    if !bodies.contains_key(t) && reg.get(t).is_none() {
                        return Err(LibraryError::new(
                            &l.origin,
                            format!(
                                "the body of `{}` calls `{t}`, which is neither a standard \
                                 operator nor defined by a loaded library",
                                op.name
                            ),
                        ));
                    }
                }
            }
        }
        self.check_recursion(&bodies)?;
        let bodies: Bodies = Arc::new(bodies);
        for l in self.iter() {
            for op in &l.ops {
                reg.register(library_def(op, &bodies, reg));
            }
        }
        Ok(())
    }

    /// The standard registry extended with every operator of these libraries.
    pub fn registry(&self) -> Result<OpRegistry, LibraryError> {
        let mut reg = crate::aten::standard_registry();
        self.register_into(&mut reg)?;
        Ok(reg)
    }

    fn check_recursion(&self, bodies: &FxHashMap<String, LibraryOp>) -> Result<(), LibraryError> {
        // Depth-first over library-op calls; a call back into the current path is a cycle.
        fn visit(
            op: &str,
            bodies: &FxHashMap<String, LibraryOp>,
            path: &mut Vec<String>,
            done: &mut FxHashSet<String>,
        ) -> Result<(), Vec<String>> {
            if done.contains(op) {
                return Ok(());
            }
            if let Some(i) = path.iter().position(|p| p == op) {
                let mut cycle = path[i..].to_vec();
                cycle.push(op.to_string());
                return Err(cycle);
            }
            path.push(op.to_string());
            let body = &bodies[op].body;
            let callees: Vec<&str> = body
                .nodes()
                .filter_map(|n| body.node(n).op.target())
                .filter(|t| bodies.contains_key(*t))
                .collect();
            for c in callees {
                visit(c, bodies, path, done)?;
            }
            path.pop();
            done.insert(op.to_string());
            Ok(())
        }
        let mut done = FxHashSet::default();
        let order: BTreeMap<&str, ()> = bodies.keys().map(|k| (k.as_str(), ())).collect();
        for op in order.keys() {
            if let Err(cycle) = visit(op, bodies, &mut Vec::new(), &mut done) {
                let origin = self.find(&cycle[0]).map_or("", |(l, _)| l.origin.as_str());
                let msg = if cycle.len() == 2 {
                    format!(
                        "recursive body: the body of `{}` calls `{}` itself (a body is inlined, \
                         so it cannot call its own operator)",
                        cycle[0], cycle[0]
                    )
                } else {
                    format!(
                        "recursive body: `{}` (a body is inlined, so operators cannot call \
                         each other in a cycle)",
                        cycle.join("` calls `")
                    )
                };
                return Err(LibraryError::new(origin, msg));
            }
        }
        Ok(())
    }

    /// Checks every call of a library operator in `p` against the library's schema: the call
    /// binds (argument count, keyword names, required arguments), tensor arguments get
    /// tensors and scalar arguments scalars, and the node has one result per return.
    /// The error names the node, the operator, the library and both sides.
    pub fn check_program(&self, p: &Program) -> Result<(), LibraryError> {
        for g in p.graphs.values() {
            for n in g.nodes() {
                let node = g.node(n);
                let Some(t) = node.op.target() else { continue };
                let Some((lib, op)) = self.find(t) else {
                    continue;
                };
                let mismatch = |why: String| {
                    LibraryError::new(
                        &lib.origin,
                        format!(
                            "schema mismatch: node `{}` of @{} calls `{t}` in a way the \
                             schema `{}` of op library {} does not allow: {why}",
                            node.name, g.name, op.schema_text, lib.origin
                        ),
                    )
                };
                let inputs =
                    bound_inputs(&op.schema, &node.args, &node.kwargs).map_err(mismatch)?;
                for (a, given) in op.schema.args.iter().zip(&inputs) {
                    let given_ty = match given {
                        Arg::Value(v) => Some(g.ty(*v).clone()),
                        _ => None,
                    };
                    let tensor_given = given_ty.as_ref().is_some_and(|t| t.as_tensor().is_some());
                    let bad = if is_tensor(&a.ty) {
                        !(tensor_given || (a.ty.optional && matches!(given, Arg::None)))
                    } else if is_scalar(&a.ty) {
                        tensor_given
                            || matches!(given, Arg::List(_) | Arg::Str(_))
                            || (matches!(given, Arg::None) && !a.ty.optional)
                    } else {
                        false
                    };
                    if bad {
                        let got = match &given_ty {
                            Some(t) => t.to_string(),
                            None => format!("{given:?}"),
                        };
                        return Err(mismatch(format!(
                            "argument `{}` is a {} in the library, the program passes {got}",
                            a.name,
                            schema_type_name(&a.ty)
                        )));
                    }
                }
                let single_returns = op.schema.returns.iter().all(|r| r.list.is_none());
                if single_returns && node.results.len() != op.schema.returns.len() {
                    return Err(mismatch(format!(
                        "the library's schema returns {} value(s), the node has {} result(s)",
                        op.schema.returns.len(),
                        node.results.len()
                    )));
                }
                for (i, (r, &v)) in op.schema.returns.iter().zip(&node.results).enumerate() {
                    if is_tensor(r) && g.ty(v).as_tensor().is_none() && *g.ty(v) != Type::None {
                        return Err(mismatch(format!(
                            "return {i} is a Tensor in the library, the node's result is {}",
                            g.ty(v)
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A one-op program holding `op`'s body, for comparing two definitions by their text.
fn single(lib: &OpLibrary, op: &LibraryOp) -> Program {
    let mut p = Program::new();
    p.symbols = lib.program.symbols.clone();
    p.graphs[p.main] = (*op.body).clone();
    p
}

/// The op-table entry of library operator `op`.
fn library_def(op: &LibraryOp, bodies: &Bodies, reg: &OpRegistry) -> OpDef {
    // Pure when every op of the body is (library ops count as pure: their bodies are checked
    // the same way).
    let pure = op.body.nodes().all(|n| match op.body.node(n).op.target() {
        Some(t) if bodies.contains_key(t) => true,
        Some(t) => reg.get(t).is_some_and(|d| d.effects.is_pure()),
        None => true,
    });
    let infer: InferFn = {
        let bodies = bodies.clone();
        let name = op.name.clone();
        Arc::new(move |a: &InferArgs<'_>| {
            let op = bodies
                .get(&name)
                .ok_or_else(|| format!("`{name}` is not in its library"))?;
            infer_body(&bodies, op, a, 0)
        })
    };
    let decomposition: DecompFn = {
        let body = op.body.clone();
        let schema = op.schema.clone();
        Arc::new(move |cx: &mut DecompCx<'_>| {
            let inputs = schema
                .args
                .iter()
                .map(|a| cx.arg(&a.name))
                .collect::<Result<Vec<_>, _>>()?;
            instantiate(&body, &inputs, &mut |t, args, kwargs| {
                cx.call_kw(t, args, kwargs)
            })
        })
    };
    OpDef {
        name: op.name.clone(),
        schema: Some(op.schema.clone()),
        props: OpProps {
            pure,
            ..OpProps::default()
        },
        tags: OpTags::default(),
        effects: Effects {
            side_effect: !pure,
            ..Effects::default()
        },
        infer: Some(infer),
        infer_via_decomposition: true,
        decomposition: Some(decomposition),
    }
}

#[cfg(test)]
mod tests;
