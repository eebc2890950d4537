//! Functionalization: in-place operators rewritten out of place, with writes through views
//! carried back to the tensor they view.
//!
//! The export dialect (torch.export's training IR) keeps in-place calls such as
//! `fill_(slice(slice(base)))` whose effect is observed through `base` afterwards (Swin's
//! attention mask is built that way). trtfx computes every view as a copy and every operator as
//! a function of its inputs, so such a program needs the form torch's own functionalization
//! gives it:
//!
//! ```text
//! %s1 = slice(%base, 0, 0, 4)          %s1   = slice(%base, 0, 0, 4)
//! %s2 = slice(%s1, 1, 0, 4)            %s2   = slice(%s1, 1, 0, 4)
//! %f  = fill_(%s2, %v)          =>     %f    = fill(%s2, %v)
//! %o  = view(%base, [64])              %s1_w = slice_scatter(%s1, %f, 1, 0, 4)
//!                                      %b_w  = slice_scatter(%base, %s1_w, 0, 0, 4)
//!                                      %o    = view(%b_w, [64])
//! ```
//!
//! One pass in program order tracks, for every value, the tensor it is a view of (its *root*)
//! and the chain of view calls from the root; for every root, its current value. A call that
//! writes its argument `self` becomes the out-of-place operator of the same name without the
//! trailing `_` (when the op table has it with the same arguments), and the written value is
//! scattered back up the chain with each view's inverse (`slice_scatter`, `select_scatter`,
//! `diagonal_scatter`, `as_strided_scatter`, `view` to the base's sizes, the inverse
//! `permute`, the same `transpose`). Later readers of the root, or of any view of it taken
//! before the write, read the new value (views are taken again from it).
//!
//! What it leaves alone: writes through a view with no inverse here (`expand`, a reshape of a
//! symbolic base, ...) and calls that write more than one argument, or whose result is not the
//! written argument. Those calls keep their old meaning (the result is the new value; readers
//! of the original see the old one), as before this pass existed.

use std::collections::{HashMap, HashSet};

use crate::graph::{Arg, Graph, NodeBuilder, NodeId, Op, ValueId};
use crate::ops::OpRegistry;
use crate::types::Type;

/// Per graph: how many in-place calls were rewritten.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FunctionalizeStats {
    /// In-place calls made out of place (with their writes carried back to their roots).
    pub rewritten: usize,
    /// In-place calls left as they were, with the reason.
    pub left: Vec<(String, String)>,
}

/// True when some call of `g` writes one of its arguments (per the op table's effects).
pub fn has_mutations(g: &Graph, reg: &OpRegistry) -> bool {
    g.nodes().any(|n| match &g.node(n).op {
        Op::Call { target } => reg
            .get(target)
            .is_some_and(|d| !d.effects.mutates.is_empty()),
        _ => false,
    })
}

/// A copy of `p` with every graph functionalized ([`functionalize_graph`]), or `None` when no
/// graph has an in-place call (nothing to copy).
pub fn functionalize_program(p: &crate::Program, reg: &OpRegistry) -> Option<crate::Program> {
    if !p.graphs.values().any(|g| has_mutations(g, reg)) {
        return None;
    }
    let mut q = p.clone();
    for (_, g) in q.graphs.iter_mut() {
        functionalize_graph(g, reg);
    }
    Some(q)
}

/// How a view call is undone: what writes a value of the view's type back into its base.
enum Inverse {
    /// `<op>_scatter(base, src, <the view's other arguments>)`.
    Scatter(&'static str),
    /// `view(src, <the base's static sizes>)`.
    Reshape,
    /// `permute(src, <inverse permutation>)`.
    Permute,
    /// The same call again (`transpose`, `t`).
    Involution,
}

fn inverse_of(target: &str) -> Option<Inverse> {
    Some(match target {
        "aten.slice.Tensor" => Inverse::Scatter("aten.slice_scatter.default"),
        "aten.select.int" => Inverse::Scatter("aten.select_scatter.default"),
        "aten.diagonal.default" => Inverse::Scatter("aten.diagonal_scatter.default"),
        "aten.as_strided.default" => Inverse::Scatter("aten.as_strided_scatter.default"),
        "aten.view.default"
        | "aten._unsafe_view.default"
        | "aten.reshape.default"
        | "aten.alias.default"
        | "aten.unsqueeze.default"
        | "aten.squeeze.default"
        | "aten.squeeze.dim"
        | "aten.squeeze.dims"
        | "aten.flatten.using_ints"
        | "aten.unflatten.int"
        | "aten.view_as.default"
        | "aten.reshape_as.default" => Inverse::Reshape,
        "aten.permute.default" => Inverse::Permute,
        "aten.transpose.int" | "aten.t.default" => Inverse::Involution,
        _ => return None,
    })
}

/// What is known of a value that aliases a root.
#[derive(Clone)]
struct Alias {
    root: ValueId,
    /// The view calls from the root, outermost last.
    chain: Vec<NodeId>,
}

struct State<'a> {
    reg: &'a OpRegistry,
    names: HashSet<String>,
    alias: HashMap<ValueId, Alias>,
    /// The current value of each root that was written.
    current: HashMap<ValueId, ValueId>,
    /// The root value each alias was taken from (to know when it is stale).
    taken_from: HashMap<ValueId, ValueId>,
    /// Views taken again: (alias, root value) → the fresh view.
    retaken: HashMap<(ValueId, ValueId), ValueId>,
    /// A root's later values → the root.
    version_of: HashMap<ValueId, ValueId>,
}

impl State<'_> {
    /// What `v` aliases: its root (through the root's later values) and view chain.
    fn alias_of(&self, v: ValueId) -> Alias {
        self.alias.get(&v).cloned().unwrap_or_else(|| Alias {
            root: self.version_of.get(&v).copied().unwrap_or(v),
            chain: Vec::new(),
        })
    }

    /// The current value of `root`.
    fn now(&self, root: ValueId) -> ValueId {
        self.current.get(&root).copied().unwrap_or(root)
    }

    fn fresh(&mut self, base: &str) -> String {
        if self.names.insert(base.to_string()) {
            return base.to_string();
        }
        (1..)
            .map(|i| format!("{base}_{i}"))
            .find(|c| self.names.insert(c.clone()))
            .unwrap_or_default()
    }
}

/// Rewrites the in-place calls of `g` out of place (see the module docs). Types of the new
/// values are the types of the values they stand for, so no inference is needed.
pub fn functionalize_graph(g: &mut Graph, reg: &OpRegistry) -> FunctionalizeStats {
    let mut stats = FunctionalizeStats::default();
    if !has_mutations(g, reg) {
        return stats;
    }
    let mut names = HashSet::with_capacity(2 * g.len());
    for n in g.nodes() {
        names.insert(g.node(n).name.clone());
        for &r in &g.node(n).results {
            names.insert(g.value(r).name.clone());
        }
    }
    let mut st = State {
        reg,
        names,
        alias: HashMap::new(),
        current: HashMap::new(),
        taken_from: HashMap::new(),
        retaken: HashMap::new(),
        version_of: HashMap::new(),
    };
    for n in g.node_ids() {
        refresh_inputs(g, &mut st, n);
        let Op::Call { target } = &g.node(n).op else {
            continue;
        };
        let target = target.clone();
        let Some(def) = reg.get(&target) else {
            continue;
        };
        // A view of its first argument (one result): remember what it aliases.
        if def.effects.view_of == Some(0) && g.node(n).results.len() == 1 {
            if let Some(base) = g.node(n).args.first().and_then(Arg::as_value) {
                let r = g.node(n).results[0];
                let mut a = st.alias_of(base);
                let from = st.now(a.root);
                a.chain.push(n);
                st.taken_from.insert(r, from);
                st.alias.insert(r, a);
            }
            continue;
        }
        if def.effects.mutates.is_empty() {
            continue;
        }
        match rewrite_write(g, &mut st, n, &target) {
            Ok(()) => stats.rewritten += 1,
            Err(why) => stats.left.push((g.node(n).name.clone(), why)),
        }
    }
    stats
}

/// Makes node `n` read the current value of every root it uses, and views of it taken again
/// where it reads a view taken before a write.
fn refresh_inputs(g: &mut Graph, st: &mut State<'_>, n: NodeId) {
    let mut map: HashMap<ValueId, ValueId> = HashMap::new();
    for v in g.node(n).inputs() {
        if map.contains_key(&v) {
            continue;
        }
        let new = if let Some(a) = st.alias.get(&v) {
            let now = st.now(a.root);
            if st.taken_from.get(&v).is_some_and(|&from| from != now) {
                retake(g, st, v, n)
            } else {
                continue;
            }
        } else {
            // The root itself, or one of its earlier values.
            let root = st.version_of.get(&v).copied().unwrap_or(v);
            match st.current.get(&root) {
                Some(&now) if now != v => now,
                _ => continue,
            }
        };
        map.insert(v, new);
    }
    if map.is_empty() {
        return;
    }
    let d = g.node(n);
    let mut args = d.args.clone();
    let mut kwargs = d.kwargs.clone();
    let mut f = |v: ValueId| map.get(&v).copied().unwrap_or(v);
    args.iter_mut().for_each(|a| a.map_values(&mut f));
    kwargs.iter_mut().for_each(|(_, a)| a.map_values(&mut f));
    g.set_args(n, args, kwargs);
}

/// The view `v` taken again from its root's current value, inserted before `before`.
fn retake(g: &mut Graph, st: &mut State<'_>, v: ValueId, before: NodeId) -> ValueId {
    let a = st.alias[&v].clone();
    let now = st.now(a.root);
    if let Some(&done) = st.retaken.get(&(v, now)) {
        return done;
    }
    let mut base = now;
    for (k, &step) in a.chain.iter().enumerate() {
        let d = g.node(step);
        let (Op::Call { target }, Some(&r)) = (&d.op, d.results.first()) else {
            return v;
        };
        if let Some(&done) = st.retaken.get(&(r, now)) {
            base = done;
            continue;
        }
        let mut b = NodeBuilder::call(target.clone());
        let mut args = d.args.clone();
        if let Some(first) = args.first_mut() {
            *first = Arg::Value(base);
        }
        b = b.args(args);
        for (k, a) in d.kwargs.clone() {
            b = b.kwarg(k, a);
        }
        let (name, ty) = (format!("{}_w", g.value(r).name), g.ty(r).clone());
        let name = st.fresh(&name);
        let made = g.insert_before(before, b.result(name, ty));
        base = g.node(made).results[0];
        // The view taken again aliases the same root through the same steps.
        st.alias.insert(
            base,
            Alias {
                root: a.root,
                chain: a.chain[..=k].to_vec(),
            },
        );
        st.taken_from.insert(base, now);
        st.retaken.insert((r, now), base);
    }
    st.retaken.insert((v, now), base);
    base
}

/// Rewrites the in-place call `n` (which writes its `self`) out of place and scatters the
/// written value back to the root.
fn rewrite_write(g: &mut Graph, st: &mut State<'_>, n: NodeId, target: &str) -> Result<(), String> {
    let def = st.reg.get(target).ok_or("not in the op table")?;
    if def.effects.mutates.as_slice() != [0] {
        return Err("writes an argument other than `self` alone".into());
    }
    let (Some(x), Some(&r)) = (
        g.node(n).args.first().and_then(Arg::as_value),
        g.node(n).results.first(),
    ) else {
        return Err("no `self` value or no result".into());
    };
    let a = st.alias_of(x);
    // Check every inverse before changing anything.
    let mut inverses = Vec::with_capacity(a.chain.len());
    for &step in &a.chain {
        let t = g.node(step).op.target().unwrap_or("");
        let inv = inverse_of(t)
            .ok_or_else(|| format!("writes through `{t}`, which has no inverse here"))?;
        let base = g
            .node(step)
            .args
            .first()
            .and_then(Arg::as_value)
            .ok_or("a view with no base")?;
        if matches!(inv, Inverse::Reshape)
            && g.ty(base)
                .as_tensor()
                .and_then(|t| t.static_shape())
                .is_none()
        {
            return Err(format!(
                "writes through `{t}` of a base with symbolic sizes"
            ));
        }
        if matches!(inv, Inverse::Permute) && permutation(g, step).is_none() {
            return Err("writes through a `permute` with non-constant dims".into());
        }
        inverses.push(inv);
    }
    // The out-of-place operator, when the op table has it with the same arguments.
    if let Some(functional) = functional_twin(st.reg, target) {
        g.set_op(n, Op::Call { target: functional });
    }
    // Scatter back, innermost view first: the bases along the chain are the (refreshed) first
    // arguments of the chain's calls, read at their current values.
    let mut written = r;
    let now = st.now(a.root);
    let bases = chain_bases(g, st, &a, now, n);
    let mut at = n;
    for (k, &step) in a.chain.iter().enumerate().rev() {
        let base = bases[k];
        let base_ty: Type = g.ty(base).clone();
        let name = st.fresh(&format!("{}_w", g.value(base).name));
        let d = g.node(step);
        let b = match &inverses[k] {
            Inverse::Scatter(op) => {
                let mut args = vec![Arg::Value(base), Arg::Value(written)];
                args.extend(d.args.iter().skip(1).cloned());
                let mut b = NodeBuilder::call(*op).args(args);
                for (k, v) in d.kwargs.clone() {
                    b = b.kwarg(k, v);
                }
                b
            }
            Inverse::Reshape => {
                let sizes = base_ty
                    .as_tensor()
                    .and_then(|t| t.static_shape())
                    .unwrap_or_default();
                NodeBuilder::call("aten.view.default").args(vec![
                    Arg::Value(written),
                    Arg::List(sizes.into_iter().map(Arg::Int).collect()),
                ])
            }
            Inverse::Permute => {
                let p = permutation(g, step).unwrap_or_default();
                let mut inv = vec![0i64; p.len()];
                for (i, &d) in p.iter().enumerate() {
                    inv[d] = i as i64;
                }
                NodeBuilder::call("aten.permute.default").args(vec![
                    Arg::Value(written),
                    Arg::List(inv.into_iter().map(Arg::Int).collect()),
                ])
            }
            Inverse::Involution => {
                let t = d.op.target().unwrap_or("").to_string();
                let mut args = d.args.clone();
                if let Some(first) = args.first_mut() {
                    *first = Arg::Value(written);
                }
                NodeBuilder::call(t).args(args)
            }
        };
        let made = g.insert_after(at, b.result(name, base_ty));
        at = made;
        written = g.node(made).results[0];
    }
    st.current.insert(a.root, written);
    st.version_of.insert(written, a.root);
    // The call's result is the written view, fresh from the new root value.
    if let Some(&last) = a.chain.last() {
        let view = g.node(last).results[0];
        st.alias.insert(r, a.clone());
        st.taken_from.insert(r, written);
        st.retaken.insert((x, written), r);
        st.retaken.insert((view, written), r);
    } else {
        st.version_of.insert(r, a.root);
    }
    Ok(())
}

/// The bases of each view of `a.chain` taken from the root value `now` (the first argument of
/// each step, as the refreshed graph reads it).
fn chain_bases(
    g: &mut Graph,
    st: &mut State<'_>,
    a: &Alias,
    now: ValueId,
    n: NodeId,
) -> Vec<ValueId> {
    let mut bases = Vec::with_capacity(a.chain.len());
    let mut base = now;
    for (k, &step) in a.chain.iter().enumerate() {
        bases.push(base);
        let r = g.node(step).results[0];
        base = if k + 1 == a.chain.len() || st.taken_from.get(&r).is_some_and(|&f| f == now) {
            r
        } else {
            retake(g, st, r, n)
        };
    }
    bases
}

/// A `permute`'s dims, normalized to non-negative indices.
fn permutation(g: &Graph, step: NodeId) -> Option<Vec<usize>> {
    let d = g.node(step);
    let dims = d.args.get(1).or_else(|| d.kwarg("dims"))?.as_int_list()?;
    let rank = dims.len() as i64;
    let p: Vec<usize> = dims
        .iter()
        .map(|&x| usize::try_from(if x < 0 { x + rank } else { x }).ok())
        .collect::<Option<_>>()?;
    let mut seen = vec![false; p.len()];
    for &i in &p {
        if i >= p.len() || std::mem::replace(&mut seen[i], true) {
            return None;
        }
    }
    Some(p)
}

/// `aten.fill_.Tensor` → `aten.fill.Tensor`, when the op table has it with the same argument
/// names.
fn functional_twin(reg: &OpRegistry, target: &str) -> Option<String> {
    let mut parts = target.splitn(3, '.');
    let (ns, name, overload) = (parts.next()?, parts.next()?, parts.next()?);
    let base = name.strip_suffix('_')?;
    let twin = format!("{ns}.{base}.{overload}");
    let (a, b) = (reg.get(target)?, reg.get(&twin)?);
    let names = |d: &crate::ops::OpDef| -> Option<Vec<String>> {
        Some(
            d.schema
                .as_ref()?
                .args
                .iter()
                .map(|a| a.name.clone())
                .collect(),
        )
    };
    (names(a)? == names(b)? && b.effects.mutates.is_empty()).then_some(twin)
}
