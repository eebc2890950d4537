//! The `.fxir` printer. Output depends only on the program's structure, never on arena ids or
//! hash order, so snapshots are stable.

use super::{format_f64, is_ident, is_ref_name, not_loaded_message, FxMap, RESERVED_TARGETS};
use crate::graph::{Arg, Graph, GraphId, NodeData, NodeId, Op, ValueId};
use crate::program::{DimSpec, InputKind, InputSpec, OutputKind, Program, SymKind, WeightData};
use cranelift_entity::EntityRef;
use std::fmt::Write;

/// Graphs wider than this print their parameters one per line.
const MAX_HEADER: usize = 100;

/// Printed names (`%name` / `@name` without the sigil) for the values of one graph or the
/// graphs of a program: the real name when it is a bare name and unique, otherwise the next
/// free positional number.
fn assign_names<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
    let mut counts: FxMap<&str, usize> = FxMap::default();
    for n in names.clone() {
        *counts.entry(n).or_insert(0) += 1;
    }
    let keep = |n: &str| is_ref_name(n) && counts.get(n) == Some(&1);
    let taken: FxMap<&str, ()> = names.clone().filter(|n| keep(n)).map(|n| (n, ())).collect();
    let mut next = 0u64;
    names
        .map(|n| {
            if keep(n) {
                return n.to_string();
            }
            loop {
                let s = next.to_string();
                next += 1;
                if !taken.contains_key(s.as_str()) {
                    return s;
                }
            }
        })
        .collect()
}

struct GraphNames {
    /// Indexed by value id; `None` for values of removed nodes.
    values: Vec<Option<String>>,
}

impl GraphNames {
    fn new(g: &Graph) -> Self {
        let order: Vec<ValueId> = g
            .nodes()
            .flat_map(|n| g.node(n).results.iter().copied())
            .collect();
        let printed = assign_names(order.iter().map(|&v| g.value(v).name.as_str()));
        let mut values = vec![None; g.value_capacity()];
        for (v, p) in order.into_iter().zip(printed) {
            values[v.index()] = Some(p);
        }
        GraphNames { values }
    }

    fn value(&self, v: ValueId) -> String {
        match self.values.get(v.index()).and_then(|n| n.as_ref()) {
            Some(n) => format!("%{n}"),
            // Not parseable on purpose: a reference to a removed value is a broken graph.
            None => format!("%<invalid:{v}>"),
        }
    }
}

struct Printer<'p> {
    program: &'p Program,
    graph_names: Vec<String>,
}

impl<'p> Printer<'p> {
    fn new(program: &'p Program) -> Self {
        let graph_names = assign_names(program.graphs.values().map(|g| g.name.as_str()));
        Printer {
            program,
            graph_names,
        }
    }

    fn graph_ref(&self, g: GraphId) -> String {
        match self.graph_names.get(g.index()) {
            Some(n) => format!("@{n}"),
            None => format!("@<invalid:{g}>"),
        }
    }

    fn arg(&self, out: &mut String, a: &Arg, names: &GraphNames) {
        match a {
            Arg::Value(v) => out.push_str(&names.value(*v)),
            Arg::None => out.push_str("None"),
            Arg::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Arg::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Arg::Float(f) => out.push_str(&format_f64(f.0)),
            Arg::Str(s) => {
                let _ = write!(out, "{s:?}");
            }
            Arg::List(items) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.arg(out, x, names);
                }
                out.push(']');
            }
            Arg::DType(d) => out.push_str(d.name()),
            Arg::Device(s) => {
                let _ = write!(out, "device({s:?})");
            }
            Arg::Layout(s) => {
                let _ = write!(out, "layout({s:?})");
            }
            Arg::MemoryFormat(s) => {
                let _ = write!(out, "memory_format({s:?})");
            }
            Arg::Graph(g) => out.push_str(&self.graph_ref(*g)),
            Arg::OpRef(s) => {
                let _ = write!(out, "op({s:?})");
            }
            Arg::Complex(re, im) => {
                let _ = write!(out, "complex({}, {})", format_f64(re.0), format_f64(im.0));
            }
            Arg::Dict(items) => {
                out.push('{');
                for (i, (k, x)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{k:?}: ");
                    self.arg(out, x, names);
                }
                out.push('}');
            }
        }
    }

    fn arglist(&self, out: &mut String, node: &NodeData, names: &GraphNames) {
        out.push('(');
        let mut first = true;
        for a in &node.args {
            if !first {
                out.push_str(", ");
            }
            first = false;
            self.arg(out, a, names);
        }
        for (k, a) in &node.kwargs {
            if !first {
                out.push_str(", ");
            }
            first = false;
            push_key(out, k);
            out.push('=');
            self.arg(out, a, names);
        }
        out.push(')');
    }

    fn input_kind(&self, out: &mut String, k: &InputKind, names: &GraphNames) {
        match k {
            InputKind::User { name } => {
                let _ = write!(out, "user {name:?}");
            }
            InputKind::Parameter { target } => {
                let _ = write!(out, "param {target:?}");
            }
            InputKind::Buffer { target, persistent } => {
                let _ = write!(out, "buffer {target:?}");
                if !persistent {
                    out.push_str(" nonpersistent");
                }
            }
            InputKind::Constant { target } => {
                let _ = write!(out, "constant {target:?}");
            }
            InputKind::CustomObj { target } => {
                let _ = write!(out, "custom_obj {target:?}");
            }
            InputKind::ConstantInput { name, value } => {
                let _ = write!(out, "constant_input {name:?} ");
                self.arg(out, value, names);
            }
            InputKind::Token => out.push_str("token"),
        }
    }

    /// The attribute block (`{name = "...", recorded_types}`), empty when nothing differs from
    /// the defaults.
    fn attrs(&self, out: &mut String, g: &Graph, node: &NodeData) {
        let mut parts = Vec::new();
        if node.name != default_node_name(g, node) {
            parts.push(format!("name = {:?}", node.name));
        }
        if node.meta.recorded_types {
            parts.push("recorded_types".to_string());
        }
        if let Some(t) = &node.meta.segment {
            parts.push(format!("segment = {}, backend = {:?}", t.index, t.backend));
        }
        if !parts.is_empty() {
            let _ = write!(out, " {{{}}}", parts.join(", "));
        }
    }

    fn result_def(&self, out: &mut String, g: &Graph, v: ValueId, names: &GraphNames) {
        let printed = names.value(v);
        let vd = g.value(v);
        out.push_str(&printed);
        if printed[1..] != vd.name {
            let _ = write!(out, " {:?}", vd.name);
        }
        let _ = write!(out, ": {}", vd.ty);
    }

    /// A node in statement form. `ph_index` is the node's position among the placeholders when
    /// it is one (for its signature kind).
    fn statement(
        &self,
        out: &mut String,
        gid: GraphId,
        n: NodeId,
        names: &GraphNames,
        ph_index: Option<usize>,
    ) {
        let g = &self.program.graphs[gid];
        let node = g.node(n);
        for (i, &r) in node.results.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.result_def(out, g, r, names);
        }
        if !node.results.is_empty() {
            out.push_str(" = ");
        }
        let has_args = !node.args.is_empty() || !node.kwargs.is_empty();
        match &node.op {
            Op::Placeholder => {
                out.push_str("placeholder");
                if let Some(k) = ph_index.and_then(|i| self.signature_input(gid, i)) {
                    out.push(' ');
                    self.input_kind(out, k, names);
                }
                if has_args {
                    self.arglist(out, node, names);
                }
            }
            Op::GetAttr { target } => {
                let _ = write!(out, "get_attr {target:?}");
                if has_args {
                    self.arglist(out, node, names);
                }
            }
            Op::Call { target } => {
                if is_ident(target) && !RESERVED_TARGETS.contains(&target.as_str()) {
                    out.push_str(target);
                } else {
                    let _ = write!(out, "{target:?}");
                }
                self.arglist(out, node, names);
            }
            Op::CallGraph { graph } => {
                let _ = write!(out, "call_graph {}", self.graph_ref(*graph));
                self.arglist(out, node, names);
            }
            Op::Output => {
                out.push_str("output ");
                self.arglist(out, node, names);
            }
        }
        self.attrs(out, g, node);
    }

    fn signature_input(&self, gid: GraphId, i: usize) -> Option<&'p InputKind> {
        (gid == self.program.main)
            .then(|| self.program.signature.inputs.get(i))
            .flatten()
    }

    fn graph(&self, out: &mut String, gid: GraphId, indent: &str) {
        let g = &self.program.graphs[gid];
        let names = GraphNames::new(g);
        let gref = self.graph_ref(gid);
        let _ = write!(out, "{indent}graph {gref}");
        if gref[1..] != g.name {
            let _ = write!(out, " {:?}", g.name);
        }
        // Leading plain placeholders form the parameter list; any other placeholder prints in
        // the body so the node order is kept.
        let order = g.node_ids();
        let mut params = Vec::new();
        let mut ph_index = 0usize;
        for &n in &order {
            let node = g.node(n);
            if node.op != Op::Placeholder
                || node.results.len() != 1
                || !node.args.is_empty()
                || !node.kwargs.is_empty()
            {
                break;
            }
            let mut p = String::new();
            self.result_def(&mut p, g, node.results[0], &names);
            if let Some(k) = self.signature_input(gid, ph_index) {
                p.push_str(" = ");
                self.input_kind(&mut p, k, &names);
            }
            self.attrs(&mut p, g, node);
            params.push(p);
            ph_index += 1;
        }
        let one_line = params.join(", ");
        if params.is_empty() || indent.len() + gref.len() + one_line.len() + 10 <= MAX_HEADER {
            let _ = write!(out, "({one_line})");
        } else {
            out.push_str("(\n");
            for (i, p) in params.iter().enumerate() {
                let sep = if i + 1 < params.len() { "," } else { "" };
                let _ = writeln!(out, "{indent}    {p}{sep}");
            }
            let _ = write!(out, "{indent})");
        }
        if gid == self.program.main && !self.program.signature.outputs.is_empty() {
            out.push_str(" -> (");
            for (i, k) in self.program.signature.outputs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                output_kind(out, k);
            }
            out.push(')');
        }
        out.push_str(" {\n");
        let mut total_ph = params.len();
        for &n in &order[params.len()..] {
            let is_ph = g.node(n).op == Op::Placeholder;
            let _ = write!(out, "{indent}  ");
            self.statement(out, gid, n, &names, is_ph.then_some(ph_index));
            out.push('\n');
            if is_ph {
                ph_index += 1;
                total_ph += 1;
            }
        }
        let _ = writeln!(out, "{indent}}}");
        let extra = self.program.signature.inputs.len().saturating_sub(total_ph);
        if gid == self.program.main && extra > 0 {
            // A broken program: say so rather than silently dropping signature entries.
            let _ = writeln!(
                out,
                "{indent}# warning: the signature lists {extra} more input(s) than {gref} has placeholders; they are not printed"
            );
        }
    }
}

fn push_key(out: &mut String, k: &str) {
    if is_ident(k) {
        out.push_str(k);
    } else {
        let _ = write!(out, "{k:?}");
    }
}

fn default_node_name(g: &Graph, node: &NodeData) -> String {
    match node.results.first() {
        Some(&r) => g.value(r).name.clone(),
        None => node.op.opcode().to_string(),
    }
}

fn output_kind(out: &mut String, k: &OutputKind) {
    let _ = match k {
        OutputKind::User => write!(out, "user"),
        OutputKind::BufferMutation { target } => write!(out, "buffer_mutation {target:?}"),
        OutputKind::ParameterMutation { target } => write!(out, "parameter_mutation {target:?}"),
        OutputKind::UserInputMutation { input } => write!(out, "user_input_mutation {input:?}"),
        OutputKind::Loss => write!(out, "loss"),
        OutputKind::Gradient { target } => write!(out, "gradient {target:?}"),
        OutputKind::Token => write!(out, "token"),
    };
}

pub(crate) fn sym_kind_name(k: SymKind) -> &'static str {
    match k {
        SymKind::Size => "size",
        SymKind::Int => "int",
        SymKind::Unbacked => "unbacked",
        SymKind::Float => "float",
    }
}

fn range(out: &mut String, min: Option<i64>, max: Option<i64>) {
    if let Some(lo) = min {
        let _ = write!(out, "{lo}");
    }
    match max {
        Some(hi) => {
            let _ = write!(out, "..={hi}");
        }
        None => out.push_str(".."),
    }
}

pub(crate) fn print_program(p: &Program) -> String {
    let pr = Printer::new(p);
    let mut out = String::from("program {\n");
    if let Some(d) = &p.meta.dialect {
        let _ = writeln!(out, "  dialect {d:?}");
    }
    if let Some(v) = &p.meta.torch_version {
        let _ = writeln!(out, "  torch_version {v:?}");
    }
    if p.main.index() != 0 {
        let _ = writeln!(out, "  entry {}", pr.graph_ref(p.main));
    }
    for (name, s) in &p.symbols {
        out.push_str("  sym ");
        push_key(&mut out, name);
        let _ = write!(out, ": {}", sym_kind_name(s.kind));
        if s.min.is_some() || s.max.is_some() {
            out.push_str(" in ");
            range(&mut out, s.min, s.max);
        }
        if let Some(h) = s.hint {
            let _ = write!(out, " hint {h}");
        }
        out.push('\n');
    }
    for spec in &p.input_specs {
        match spec {
            InputSpec::Tensor { name, dtype, dims } => {
                let _ = write!(out, "  input {name:?}: {dtype}[");
                for (i, d) in dims.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match d {
                        DimSpec::Static(v) => {
                            let _ = write!(out, "{v}");
                        }
                        DimSpec::Dynamic { sym, min, opt, max } => {
                            match sym {
                                Some(s) => push_key(&mut out, s),
                                None => out.push('?'),
                            }
                            let _ = write!(out, "(min={min}, opt={opt}, max={max})");
                        }
                    }
                }
                out.push_str("]\n");
            }
            InputSpec::Scalar {
                name,
                dtype,
                range: r,
            } => {
                let _ = write!(out, "  input {name:?}: scalar {dtype}");
                if let Some((lo, hi)) = r {
                    out.push_str(" in ");
                    range(&mut out, *lo, *hi);
                }
                out.push('\n');
            }
        }
    }
    for (name, w) in &p.weights {
        let _ = write!(out, "  weight {name:?}: {}[", w.dtype);
        for (i, d) in w.shape.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{d}");
        }
        out.push(']');
        if let WeightData::Opaque(why) = &w.data {
            if *why != not_loaded_message(name) {
                let _ = write!(out, " opaque {why:?}");
            }
        }
        out.push('\n');
    }
    for gid in p.graphs.keys() {
        out.push('\n');
        pr.graph(&mut out, gid, "  ");
    }
    out.push_str("}\n");
    out
}

pub(crate) fn print_graph(p: &Program, gid: GraphId) -> String {
    let mut out = String::new();
    if p.graphs.get(gid).is_some() {
        Printer::new(p).graph(&mut out, gid, "");
    }
    out
}

pub(crate) fn print_node(p: &Program, gid: GraphId, n: NodeId) -> String {
    let mut out = String::new();
    let Some(g) = p.graphs.get(gid) else {
        return out;
    };
    if g.get_node(n).is_none() {
        return out;
    }
    let names = GraphNames::new(g);
    let ph_index = (g.node(n).op == Op::Placeholder)
        .then(|| g.placeholders().iter().position(|&x| x == n))
        .flatten();
    Printer::new(p).statement(&mut out, gid, n, &names, ph_index);
    out
}
