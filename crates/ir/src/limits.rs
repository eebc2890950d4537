//! Load-time validation and resource limits for programs read from untrusted files.
//!
//! Every reader (`.pt2` import, `.fxir` text, program `.json`, `.trtfx` artifacts) ends with
//! [`validate_program`]: after it, the program verifies structurally (every id and link in
//! range, node lists walkable and in topological order, symbols declared with `min <= max`,
//! input specs with `min <= opt <= max`, weights with as many bytes as dtype × shape), and it
//! stays within [`Limits`]. Code downstream of a reader may therefore index and walk the
//! program without checking again.
//!
//! The limits bound what hostile input can make a reader allocate or a walk recurse into. The
//! defaults are generous for real models and can be changed per process with environment
//! variables (see [`Limits::from_env`]) or per call by passing a [`Limits`] value.

use crate::dim::Dim;
use crate::graph::{Arg, GraphId, Op};
use crate::program::{DimSpec, InputSpec, Program, WeightData};
use crate::types::Type;
use crate::verify::{verify_program, Diagnostic};
use cranelift_entity::SecondaryMap;

/// Resource limits applied while reading a file. All sizes are in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest inflated size of one archive member holding tensor data
    /// (`TRTFX_MAX_MEMBER_BYTES`, default 16 GiB).
    pub max_member_bytes: u64,
    /// Largest inflated size of one metadata member or text file: model JSON, payload
    /// configs, manifests, `.fxir` and program `.json` files (`TRTFX_MAX_METADATA_BYTES`,
    /// default 256 MiB).
    pub max_metadata_bytes: u64,
    /// Largest total of inflated bytes read from one archive (`TRTFX_MAX_TOTAL_BYTES`,
    /// default 64 GiB).
    pub max_total_bytes: u64,
    /// Most elements in one tensor: a weight, or a value type with a static shape
    /// (`TRTFX_MAX_ELEMENTS`, default 2^34).
    pub max_elements: u64,
    /// Highest tensor rank (`TRTFX_MAX_RANK`, default 64, PyTorch's own limit).
    pub max_rank: usize,
    /// Most nodes in a program, all graphs together (`TRTFX_MAX_NODES`, default 2^22).
    pub max_nodes: usize,
    /// Deepest nesting of subgraphs (a graph calling a graph ...), counting the main graph as
    /// depth 1 (`TRTFX_MAX_GRAPH_DEPTH`, default 64).
    pub max_graph_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_member_bytes: 16 << 30,
            max_metadata_bytes: 256 << 20,
            max_total_bytes: 64 << 30,
            max_elements: 1 << 34,
            max_rank: 64,
            max_nodes: 1 << 22,
            max_graph_depth: 64,
        }
    }
}

/// The environment variables that override [`Limits::default`], with the field each sets.
pub const LIMIT_VARIABLES: [&str; 7] = [
    "TRTFX_MAX_MEMBER_BYTES",
    "TRTFX_MAX_METADATA_BYTES",
    "TRTFX_MAX_TOTAL_BYTES",
    "TRTFX_MAX_ELEMENTS",
    "TRTFX_MAX_RANK",
    "TRTFX_MAX_NODES",
    "TRTFX_MAX_GRAPH_DEPTH",
];

impl Limits {
    /// The defaults, overridden by any of [`LIMIT_VARIABLES`] that is set. A value is a
    /// decimal integer with an optional `K`, `M`, `G` or `T` suffix (powers of 1024).
    pub fn from_env() -> Result<Limits, String> {
        Limits::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`Limits::from_env`] over any variable lookup (for tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Limits, String> {
        let mut l = Limits::default();
        for var in LIMIT_VARIABLES {
            let Some(raw) = get(var) else { continue };
            let v = parse_size(&raw).ok_or_else(|| {
                format!(
                    "environment variable {var}={raw:?}: expected a number such as 1000000 or 4G"
                )
            })?;
            let us = usize::try_from(v).unwrap_or(usize::MAX);
            match var {
                "TRTFX_MAX_MEMBER_BYTES" => l.max_member_bytes = v,
                "TRTFX_MAX_METADATA_BYTES" => l.max_metadata_bytes = v,
                "TRTFX_MAX_TOTAL_BYTES" => l.max_total_bytes = v,
                "TRTFX_MAX_ELEMENTS" => l.max_elements = v,
                "TRTFX_MAX_RANK" => l.max_rank = us,
                "TRTFX_MAX_NODES" => l.max_nodes = us,
                _ => l.max_graph_depth = us,
            }
        }
        Ok(l)
    }
}

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        b't' | b'T' => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    let n: u64 = num.trim().parse().ok()?;
    n.checked_mul(1u64 << shift)
}

/// Renders one verifier finding on one line: `@graph, node `n`: message`.
fn one_line(d: &Diagnostic) -> String {
    let mut s = if d.graph.is_empty() {
        String::new()
    } else {
        format!("graph @{}", d.graph)
    };
    if let Some(n) = &d.node {
        s.push_str(&format!(", node `{n}`"));
    }
    if !s.is_empty() {
        s.push_str(": ");
    }
    s.push_str(&d.message);
    s
}

/// Element count of a static shape, or `None` when a dim is symbolic.
fn static_numel(dims: &[Dim]) -> Option<Result<u64, String>> {
    let mut n: u64 = 1;
    for d in dims {
        let c = d.as_const()?;
        if c < 0 {
            return Some(Err(format!("negative dim {c}")));
        }
        n = n.saturating_mul(c as u64);
    }
    Some(Ok(n))
}

fn check_shape(what: &dyn Fn() -> String, dims: &[Dim], limits: &Limits) -> Result<(), String> {
    if dims.len() > limits.max_rank {
        return Err(format!(
            "{} has rank {}, more than the limit of {} (TRTFX_MAX_RANK)",
            what(),
            dims.len(),
            limits.max_rank
        ));
    }
    match static_numel(dims) {
        Some(Err(e)) => Err(format!("{}: {e}", what())),
        Some(Ok(n)) if n > limits.max_elements => Err(format!(
            "{} has {n} elements, more than the limit of {} (TRTFX_MAX_ELEMENTS)",
            what(),
            limits.max_elements
        )),
        _ => Ok(()),
    }
}

/// Every graph a node refers to.
fn node_graph_refs(op: &Op, args: &[Arg], kwargs: &[(String, Arg)], out: &mut Vec<GraphId>) {
    fn walk(a: &Arg, out: &mut Vec<GraphId>) {
        match a {
            Arg::Graph(g) => out.push(*g),
            Arg::List(items) => items.iter().for_each(|a| walk(a, out)),
            Arg::Dict(items) => items.iter().for_each(|(_, a)| walk(a, out)),
            _ => {}
        }
    }
    if let Op::CallGraph { graph } = op {
        out.push(*graph);
    }
    args.iter().for_each(|a| walk(a, out));
    kwargs.iter().for_each(|(_, a)| walk(a, out));
}

/// Checks a program just read from a file: see the module docs. The error is one line
/// (`what: why`), naming the graph, node, symbol or weight concerned, without the file name
/// (the reader adds it).
pub fn validate_program(p: &Program, limits: &Limits) -> Result<(), String> {
    if p.graphs.is_empty() {
        return Err("the program has no graph (a truncated file?)".into());
    }
    if p.graphs.get(p.main).is_none() {
        return Err(format!(
            "the entry graph {} does not exist ({} graphs)",
            p.main,
            p.graphs.len()
        ));
    }
    let nodes: usize = p.graphs.values().map(|g| g.len()).sum();
    if nodes > limits.max_nodes {
        return Err(format!(
            "the program has {nodes} nodes, more than the limit of {} (TRTFX_MAX_NODES)",
            limits.max_nodes
        ));
    }
    // Symbol ranges and input specs first: their messages are clearer than what the verifier
    // says about their consequences.
    for (name, s) in &p.symbols {
        if let (Some(lo), Some(hi)) = (s.min, s.max) {
            if lo > hi {
                return Err(format!(
                    "symbol {name}: empty range {lo}..={hi} (min is greater than max)"
                ));
            }
        }
    }
    for spec in &p.input_specs {
        match spec {
            InputSpec::Tensor { name, dims, .. } => {
                if dims.len() > limits.max_rank {
                    return Err(format!(
                        "input {name:?} has rank {}, more than the limit of {} (TRTFX_MAX_RANK)",
                        dims.len(),
                        limits.max_rank
                    ));
                }
                for (ax, d) in dims.iter().enumerate() {
                    match *d {
                        DimSpec::Static(k) if k < 0 => {
                            return Err(format!("input {name:?}: dim {ax} is negative ({k})"))
                        }
                        DimSpec::Dynamic { min, opt, max, .. }
                            if !(0 <= min && min <= opt && opt <= max) =>
                        {
                            return Err(format!(
                                "input {name:?}: dim {ax} needs 0 <= min <= opt <= max, got \
                                 min={min}, opt={opt}, max={max}"
                            ))
                        }
                        _ => {}
                    }
                }
            }
            InputSpec::Scalar { name, range, .. } => {
                if let Some((Some(lo), Some(hi))) = range {
                    if lo > hi {
                        return Err(format!(
                            "input {name:?}: empty range {lo}..={hi} (min is greater than max)"
                        ));
                    }
                }
            }
        }
    }
    for (name, w) in &p.weights {
        let what = || format!("weight {name:?}");
        if w.shape.len() > limits.max_rank {
            return Err(format!(
                "{} has rank {}, more than the limit of {} (TRTFX_MAX_RANK)",
                what(),
                w.shape.len(),
                limits.max_rank
            ));
        }
        let mut n: u64 = 1;
        for &d in &w.shape {
            if d < 0 {
                return Err(format!("{}: negative dim in shape {:?}", what(), w.shape));
            }
            n = n.saturating_mul(d as u64);
        }
        if n > limits.max_elements {
            return Err(format!(
                "{} has {n} elements, more than the limit of {} (TRTFX_MAX_ELEMENTS)",
                what(),
                limits.max_elements
            ));
        }
        if let WeightData::Bytes(b) = &w.data {
            let need = n.saturating_mul(w.dtype.itemsize() as u64);
            if b.len() as u64 != need {
                return Err(format!(
                    "{} holds {} bytes but {}{:?} needs {need} (truncated or padded data)",
                    what(),
                    b.len(),
                    w.dtype,
                    w.shape
                ));
            }
        }
    }
    if let Err(diags) = verify_program(p, None) {
        let more = match diags.len() {
            1 => String::new(),
            n => format!(" (and {} more problem(s))", n - 1),
        };
        return Err(format!("invalid program: {}{more}", one_line(&diags[0])));
    }
    // The verifier has ruled out recursion and dangling ids, so these walks terminate.
    for (_, g) in p.graphs.iter() {
        for n in g.nodes() {
            for &r in &g.node(n).results {
                let vd = g.value(r);
                let dims = match &vd.ty {
                    Type::Tensor(t) => &t.shape[..],
                    _ => continue,
                };
                check_shape(
                    &|| format!("graph @{}, value %{}", g.name, vd.name),
                    dims,
                    limits,
                )?;
            }
        }
    }
    graph_depth(p, limits)
}

/// Refuses subgraph nesting deeper than the limit; the executor and the passes recurse once
/// per level.
fn graph_depth(p: &Program, limits: &Limits) -> Result<(), String> {
    // Depth of each graph's deepest chain of callees, by DFS post-order (no recursion: the
    // verifier checked the reference relation is acyclic).
    let mut depth: SecondaryMap<GraphId, usize> = SecondaryMap::new();
    let mut refs: SecondaryMap<GraphId, Vec<GraphId>> = SecondaryMap::new();
    for (gid, g) in p.graphs.iter() {
        let mut v = Vec::new();
        for n in g.nodes() {
            let nd = g.node(n);
            node_graph_refs(&nd.op, &nd.args, &nd.kwargs, &mut v);
        }
        v.sort();
        v.dedup();
        refs[gid] = v;
    }
    let mut stack: Vec<(GraphId, usize)> = vec![(p.main, 0)];
    while let Some((g, i)) = stack.pop() {
        if depth[g] != 0 {
            continue;
        }
        if let Some(&c) = refs[g].get(i) {
            stack.push((g, i + 1));
            if depth[c] == 0 {
                stack.push((c, 0));
            }
            continue;
        }
        let d = 1 + refs[g].iter().map(|&c| depth[c]).max().unwrap_or(0);
        depth[g] = d;
        if d > limits.max_graph_depth {
            return Err(format!(
                "subgraphs nest {d} deep below graph @{}, more than the limit of {} \
                 (TRTFX_MAX_GRAPH_DEPTH)",
                p.graphs[g].name, limits.max_graph_depth
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("4K"), Some(4096));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("99999999999T"), None);
    }

    #[test]
    fn env_overrides_defaults_and_refuses_garbage() {
        let l = Limits::from_lookup(|k| (k == "TRTFX_MAX_RANK").then(|| "8".to_string())).unwrap();
        assert_eq!(l.max_rank, 8);
        assert_eq!(l.max_nodes, 1 << 22);
        let e = Limits::from_lookup(|k| (k == "TRTFX_MAX_NODES").then(|| "lots".to_string()))
            .unwrap_err();
        assert!(e.contains("TRTFX_MAX_NODES=\"lots\""), "{e}");
    }

    #[test]
    fn empty_program_is_refused() {
        let mut p = Program::new();
        p.graphs = cranelift_entity::PrimaryMap::new();
        assert_eq!(
            validate_program(&p, &Limits::default()).unwrap_err(),
            "the program has no graph (a truncated file?)"
        );
    }
}
