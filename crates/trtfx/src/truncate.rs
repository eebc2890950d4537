//! f64 truncation for TensorRT segments ([`CompileSettings::truncate_double`]).
//!
//! TensorRT has no f64. With truncation on, [`compile`](crate::compile()) partitions as if every
//! f64 tensor were f32 ([`truncated_copy`]), and after outlining retypes only the TensorRT
//! segments' subgraphs to f32 ([`truncate_segment`]); the calls in the main graph get
//! `aten._to_copy.default` casts at the boundary (the `repair-types` step of the design), so the
//! main graph and the fallback segments keep exact f64 semantics and only the computation inside
//! TensorRT runs in f32.
//!
//! [`CompileSettings::truncate_double`]: crate::CompileSettings::truncate_double

use std::collections::{HashMap, HashSet};

use trtfx_ir::{Arg, DType, Graph, GraphId, NodeBuilder, Op, Program, Type, ValueId, Weight};

/// The cast operator inserted at segment boundaries.
const TO_COPY: &str = "aten._to_copy.default";

/// `ty` with f64 tensors (also inside lists) made f32; `None` when there is no f64 in it.
fn truncated_type(ty: &Type) -> Option<Type> {
    match ty {
        Type::Tensor(t) if t.dtype == DType::F64 => Some(Type::tensor(DType::F32, t.shape.clone())),
        Type::List(inner) => truncated_type(inner).map(|t| Type::List(Box::new(t))),
        _ => None,
    }
}

/// Rewrites f64 dtype literals (`dtype=f64`, `aten.to.dtype(x, f64)`) to f32, recursively.
/// Returns whether something changed.
fn truncate_arg(a: &mut Arg) -> bool {
    match a {
        Arg::DType(d) if *d == DType::F64 => {
            *d = DType::F32;
            true
        }
        Arg::List(items) => items.iter_mut().fold(false, |c, x| truncate_arg(x) | c),
        Arg::Dict(items) => items
            .iter_mut()
            .fold(false, |c, (_, x)| truncate_arg(x) | c),
        _ => false,
    }
}

/// Retypes one graph's f64 values to f32 and rewrites its f64 dtype literals, in place.
/// Weights and nested graphs are left alone (see [`truncate_segment`]).
fn truncate_graph_types(g: &mut Graph) {
    let values: Vec<ValueId> = g.value_ids().collect();
    for v in values {
        if let Some(t) = truncated_type(g.ty(v)) {
            g.set_ty(v, t);
        }
    }
    for n in g.node_ids() {
        let node = g.node(n);
        let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
        let mut changed = false;
        for a in &mut args {
            changed |= truncate_arg(a);
        }
        for (_, a) in &mut kwargs {
            changed |= truncate_arg(a);
        }
        if changed {
            g.set_args(n, args, kwargs);
        }
    }
}

/// A copy of `p` in which every graph is truncated (types and dtype literals). Node and value
/// ids are those of `p`, so node `n` of a graph of `p` is node `n` of the same graph here: the
/// partitioner's capability checks nodes against this copy to see post-truncation types.
pub(crate) fn truncated_copy(p: &Program) -> Program {
    let mut c = p.clone();
    for (_, g) in c.graphs.iter_mut() {
        truncate_graph_types(g);
    }
    c
}

/// True if graph `gid` or a graph it references has an f64 value or dtype literal.
fn has_f64(p: &Program, gid: GraphId, seen: &mut HashSet<GraphId>) -> bool {
    if !seen.insert(gid) {
        return false;
    }
    let g = &p.graphs[gid];
    if g.value_ids().any(|v| truncated_type(g.ty(v)).is_some()) {
        return true;
    }
    let mut nested = Vec::new();
    let mut lit = false;
    for n in g.nodes() {
        let node = g.node(n);
        for a in node.args.iter().chain(node.kwargs.iter().map(|(_, a)| a)) {
            lit |= truncate_arg(&mut a.clone());
            collect_graphs(a, &mut nested);
        }
    }
    lit || nested.into_iter().any(|h| has_f64(p, h, seen))
}

/// The graphs an argument references (higher-order operands such as `cond`'s branches).
fn collect_graphs(a: &Arg, out: &mut Vec<GraphId>) {
    match a {
        Arg::Graph(h) => out.push(*h),
        Arg::List(items) => items.iter().for_each(|x| collect_graphs(x, out)),
        Arg::Dict(items) => items.iter().for_each(|(_, x)| collect_graphs(x, out)),
        _ => {}
    }
}

/// `base` made unique against `taken` (and recorded there).
fn fresh(taken: &mut HashSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut i = 1;
    while taken.contains(&name) {
        name = format!("{base}_{i}");
        i += 1;
    }
    taken.insert(name.clone());
    name
}

/// An f32 copy of an f64 weight.
fn weight_to_f32(w: &Weight) -> Result<Weight, String> {
    let bytes = w.bytes()?;
    let f32s: Vec<u8> = bytes
        .chunks_exact(8)
        .flat_map(|c| {
            let x = f64::from_le_bytes(c.try_into().expect("8-byte chunk"));
            (x as f32).to_le_bytes()
        })
        .collect();
    Ok(Weight::from_bytes(DType::F32, w.shape.clone(), f32s))
}

/// Truncates graph `gid` of a TensorRT segment: its f64 values and dtype literals become f32,
/// `get_attr` reads of f64 weights read an f32 copy under a new name (the original stays for
/// fallback code), and nested graphs with f64 in them are replaced by truncated copies (they
/// may be shared with code outside the segment).
fn truncate_subgraph(p: &mut Program, gid: GraphId) -> Result<(), String> {
    let mut weight_names: HashSet<String> = p.weights.keys().cloned().collect();
    for n in p.graphs[gid].node_ids() {
        let node = p.graphs[gid].node(n).clone();
        // f64 weights read inside the segment: an f32 copy, shared by every reader.
        if let Op::GetAttr { target } = &node.op {
            let Some(w) = p.weights.get(target) else {
                continue;
            };
            if w.dtype != DType::F64 {
                continue;
            }
            let copy = weight_to_f32(w).map_err(|e| format!("weight {target}: {e}"))?;
            let base = format!("{target}_f32");
            // Reuse the copy an earlier segment made; a different weight of that name is kept.
            let copy_name = if p.weights.get(&base) == Some(&copy) {
                base
            } else {
                let name = fresh(&mut weight_names, &base);
                p.weights.insert(name.clone(), copy);
                name
            };
            p.graphs[gid].set_op(n, Op::GetAttr { target: copy_name });
            continue;
        }
        // Nested graphs: truncated copies, so that other users of the original keep f64.
        let mut nested = Vec::new();
        for a in node.args.iter().chain(node.kwargs.iter().map(|(_, a)| a)) {
            collect_graphs(a, &mut nested);
        }
        let mut remap = HashMap::new();
        for h in nested {
            if remap.contains_key(&h) || !has_f64(p, h, &mut HashSet::new()) {
                continue;
            }
            let mut copy = p.graphs[h].clone();
            copy.name = format!("{}_f32", copy.name);
            let mut k = 1;
            while p.graph_by_name(&copy.name).is_some() {
                copy.name = format!("{}_f32_{k}", p.graphs[h].name);
                k += 1;
            }
            let new = p.add_graph(copy);
            truncate_subgraph(p, new)?;
            remap.insert(h, new);
        }
        if !remap.is_empty() {
            let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
            for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, a)| a)) {
                remap_graphs(a, &remap);
            }
            p.graphs[gid].set_args(n, args, kwargs);
        }
    }
    truncate_graph_types(&mut p.graphs[gid]);
    Ok(())
}

/// Replaces graph references by their truncated copies.
fn remap_graphs(a: &mut Arg, remap: &HashMap<GraphId, GraphId>) {
    match a {
        Arg::Graph(h) => {
            if let Some(&n) = remap.get(h) {
                *h = n;
            }
        }
        Arg::List(items) => items.iter_mut().for_each(|x| remap_graphs(x, remap)),
        Arg::Dict(items) => items.iter_mut().for_each(|(_, x)| remap_graphs(x, remap)),
        _ => {}
    }
}

/// Truncates the TensorRT segment `seg` called from graph `caller` (`repair-types`): the
/// segment's subgraph becomes f64-free, every f64 tensor operand of its calls is cast to f32
/// before the call, and every f64 result is cast back to f64 after it, with the users rewired
/// to the cast. The caller's own types are unchanged, so code outside the segment keeps f64.
pub(crate) fn truncate_segment(
    p: &mut Program,
    caller: GraphId,
    seg: GraphId,
) -> Result<(), String> {
    if !has_f64(p, seg, &mut HashSet::new()) {
        return Ok(());
    }
    let g = &p.graphs[caller];
    let calls: Vec<_> = g
        .nodes()
        .filter(|&n| matches!(g.node(n).op, Op::CallGraph { graph } if graph == seg))
        .collect();
    let mut names: HashSet<String> = g.value_ids().map(|v| g.value(v).name.clone()).collect();
    names.extend(g.nodes().map(|n| g.node(n).name.clone()));
    truncate_subgraph(p, seg)?;
    let g = &mut p.graphs[caller];
    for call in calls {
        // Operands: one f32 cast per distinct f64 tensor operand, placed right before the call.
        let node = g.node(call);
        let mut casts: HashMap<ValueId, ValueId> = HashMap::new();
        for v in node.inputs() {
            match g.ty(v) {
                Type::Tensor(t) if t.dtype == DType::F64 => {
                    if casts.contains_key(&v) {
                        continue;
                    }
                    let ty = Type::tensor(DType::F32, t.shape.clone());
                    let name = fresh(&mut names, &format!("{}_f32", g.value(v).name));
                    let c = g.insert_before(
                        call,
                        NodeBuilder::call(TO_COPY)
                            .args(vec![Arg::Value(v)])
                            .kwarg("dtype", Arg::DType(DType::F32))
                            .result(name, ty),
                    );
                    casts.insert(v, g.node(c).results[0]);
                }
                ty if truncated_type(ty).is_some() => {
                    return Err(format!(
                        "operand %{} of @{} has type {ty:?}: only f64 tensors can be cast at a \
                         TensorRT segment boundary",
                        g.value(v).name,
                        g.name
                    ));
                }
                _ => {}
            }
        }
        if !casts.is_empty() {
            let node = g.node(call);
            let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
            let mut f = |v: ValueId| casts.get(&v).copied().unwrap_or(v);
            for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, a)| a)) {
                a.map_values(&mut f);
            }
            g.set_args(call, args, kwargs);
        }
        // Results: the call now yields f32; a cast back to f64 takes over its users.
        let mut after = call;
        for r in g.node(call).results.clone() {
            let ty = g.ty(r).clone();
            let Some(t32) = truncated_type(&ty) else {
                continue;
            };
            if !matches!(ty, Type::Tensor(_)) {
                return Err(format!(
                    "result %{} of @{} has type {ty:?}: only f64 tensors can be cast at a \
                     TensorRT segment boundary",
                    g.value(r).name,
                    g.name
                ));
            }
            g.set_ty(r, t32);
            let name = fresh(&mut names, &format!("{}_f64", g.value(r).name));
            let c = g.insert_after(
                after,
                NodeBuilder::call(TO_COPY)
                    .args(vec![Arg::Value(r)])
                    .kwarg("dtype", Arg::DType(DType::F64))
                    .result(name, ty),
            );
            after = c;
            let back = g.node(c).results[0];
            g.replace_all_uses(r, back);
            // The cast itself read `r` and was rewired too; point it back at the call's result.
            g.set_args(
                c,
                vec![Arg::Value(r)],
                vec![("dtype".into(), Arg::DType(DType::F64))],
            );
        }
    }
    Ok(())
}
