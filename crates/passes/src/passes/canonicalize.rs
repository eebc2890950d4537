//! `canonicalize`: local simplifications that never make the graph bigger.
//!
//! - `view`/`reshape` chains: `reshape(reshape(x, a), b)` → `reshape(x, b)`; a reshape to the
//!   input's own type → `x`.
//! - No-op casts: `_to_copy`/`to.dtype`/`prims.convert_element_type` to the input's type → `x`.
//! - Identities `x*1`, `x/1`, `x-0`, `x+0` → `x`, only when the result type equals `x`'s type
//!   (broadcasting or promotion could change it). For floating point `x + 0.0` is refused:
//!   `-0.0 + 0.0 = +0.0`, so it is not an identity (`x + -0.0` and `x - 0.0` are).
//! - Permutations: `permute`/`transpose`/`t` of a permutation compose into one `permute`; an
//!   identity permutation → `x`.
//! - `alias`/`detach`/`clone`/`lift_fresh_copy` → `x`, when no user of either value mutates
//!   or has effects (a clone protects its input from an in-place op).
//!
//! Counters: `rewrites`, `refused-signed-zero`.

use super::{arg, result};
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::util::{node_effect, remove_dead, Effect};
use trtfx_ir::{Arg, Graph, GraphId, NodeId, Op, OpRegistry, Program, ValueId};

/// The canonicalizer (no options).
#[derive(Debug, Default, Clone)]
pub struct Canonicalize;

const VIEWS: &[&str] = &[
    "aten.view.default",
    "aten.reshape.default",
    "aten._unsafe_view.default",
];

enum Rewrite {
    /// Every use of the node's result now uses this value.
    ReplaceWith(ValueId),
    /// Same node, new call target and arguments (the result type is unchanged).
    Retarget(String, Vec<Arg>, Vec<(String, Arg)>),
    /// Refused for a documented reason (counted).
    Refused(&'static str),
}

/// The permutation a node applies, with its input: `permute`, `transpose.int`, `t`.
fn perm_of(g: &Graph, n: NodeId) -> Option<(ValueId, Vec<usize>)> {
    let d = g.node(n);
    let t = d.op.target()?;
    let x = arg(g, n, 0, "self")?.as_value()?;
    let rank = g.ty(x).as_tensor()?.rank();
    let norm = |i: i64| -> Option<usize> {
        let r = rank as i64;
        let j = if i < 0 { i + r } else { i };
        (0..r.max(1)).contains(&j).then_some(j as usize)
    };
    let mut perm: Vec<usize> = (0..rank).collect();
    match t {
        "aten.permute.default" => {
            let dims = arg(g, n, 1, "dims")?.as_int_list()?;
            if dims.len() != rank {
                return None;
            }
            perm = dims.into_iter().map(norm).collect::<Option<_>>()?;
        }
        "aten.transpose.int" => {
            let a = norm(arg(g, n, 1, "dim0")?.as_int()?)?;
            let b = norm(arg(g, n, 2, "dim1")?.as_int()?)?;
            if rank > 0 {
                perm.swap(a, b);
            }
        }
        "aten.t.default" => {
            if rank == 2 {
                perm = vec![1, 0];
            }
        }
        _ => return None,
    }
    Some((x, perm))
}

fn is_identity(perm: &[usize]) -> bool {
    perm.iter().enumerate().all(|(i, &p)| i == p)
}

fn lit_is(a: Option<&Arg>, v: f64) -> bool {
    match a {
        Some(Arg::Int(i)) => *i as f64 == v,
        Some(Arg::Float(f)) => f.0 == v && f.0.is_sign_negative() == v.is_sign_negative(),
        _ => false,
    }
}

fn rewrite(p: &Program, gid: GraphId, n: NodeId, ops: Option<&OpRegistry>) -> Option<Rewrite> {
    let g = &p.graphs[gid];
    let d = g.node(n);
    let target = d.op.target()?;
    let r = result(g, n)?;
    let x = arg(g, n, 0, "self")
        .or_else(|| arg(g, n, 0, "a"))
        .and_then(Arg::as_value)?;
    let same_type = g.ty(x) == g.ty(r);
    let other_kwargs_ok =
        |allowed: &[&str]| d.kwargs.iter().all(|(k, _)| allowed.contains(&k.as_str()));
    match target {
        t if VIEWS.contains(&t) => {
            if same_type {
                return Some(Rewrite::ReplaceWith(x));
            }
            let m = g.value(x).def;
            if VIEWS.contains(&g.node(m).op.target().unwrap_or("")) && d.args.len() >= 2 {
                let inner = arg(g, m, 0, "self")?.as_value()?;
                let mut args = d.args.clone();
                args[0] = Arg::Value(inner);
                return Some(Rewrite::Retarget(t.to_string(), args, d.kwargs.clone()));
            }
            None
        }
        "aten._to_copy.default" => {
            let ok = other_kwargs_ok(&[
                "dtype",
                "layout",
                "device",
                "pin_memory",
                "non_blocking",
                "memory_format",
            ]) && memory_format_ok(d.kwarg("memory_format"));
            (same_type && ok && d.args.len() == 1).then_some(Rewrite::ReplaceWith(x))
        }
        "aten.to.dtype" | "aten.to.dtype_layout" | "prims.convert_element_type.default" => {
            let ok = memory_format_ok(arg(g, n, 4, "memory_format"));
            (same_type && ok).then_some(Rewrite::ReplaceWith(x))
        }
        "aten.mul.Tensor" | "aten.mul.Scalar" | "aten.div.Tensor" | "aten.div.Scalar" => {
            let one = lit_is(arg(g, n, 1, "other"), 1.0);
            (same_type && one && d.kwarg("rounding_mode").is_none())
                .then_some(Rewrite::ReplaceWith(x))
        }
        "aten.add.Tensor" | "aten.add.Scalar" | "aten.sub.Tensor" | "aten.sub.Scalar" => {
            let alpha_one = match arg(g, n, 2, "alpha") {
                None => true,
                a => lit_is(a, 1.0),
            };
            if !same_type || !alpha_one {
                return None;
            }
            let other = arg(g, n, 1, "other");
            let is_add = target.starts_with("aten.add");
            let float = g
                .ty(x)
                .as_tensor()
                .is_some_and(|t| t.dtype.is_float() || t.dtype.is_complex());
            if !float {
                return (lit_is(other, 0.0) || lit_is(other, -0.0))
                    .then_some(Rewrite::ReplaceWith(x));
            }
            // IEEE: x + (-0.0) and x - (+0.0) are identities; x + 0.0 turns -0.0 into +0.0.
            let exact = if is_add {
                matches!(other, Some(Arg::Float(f)) if f.0 == 0.0 && f.0.is_sign_negative())
            } else {
                lit_is(other, 0.0)
            };
            if exact {
                Some(Rewrite::ReplaceWith(x))
            } else if lit_is(other, 0.0) || lit_is(other, -0.0) {
                Some(Rewrite::Refused("refused-signed-zero"))
            } else {
                None
            }
        }
        "aten.permute.default" | "aten.transpose.int" | "aten.t.default" => {
            let (src, perm) = perm_of(g, n)?;
            if is_identity(&perm) && same_type {
                return Some(Rewrite::ReplaceWith(src));
            }
            let m = g.value(src).def;
            let (inner_src, inner) = perm_of(g, m)?;
            // out[i] = mid[perm[i]] = src[inner[perm[i]]]
            let composed: Vec<usize> = perm.iter().map(|&i| inner[i]).collect();
            if is_identity(&composed) && g.ty(inner_src) == g.ty(r) {
                return Some(Rewrite::ReplaceWith(inner_src));
            }
            Some(Rewrite::Retarget(
                "aten.permute.default".to_string(),
                vec![
                    Arg::Value(inner_src),
                    Arg::List(composed.iter().map(|&i| Arg::Int(i as i64)).collect()),
                ],
                vec![],
            ))
        }
        "aten.alias.default"
        | "aten.detach.default"
        | "aten.clone.default"
        | "aten.lift_fresh_copy.default" => {
            if !same_type || !memory_format_ok(d.kwarg("memory_format")) {
                return None;
            }
            let effectful_user = |v: ValueId| {
                g.value(v).uses().iter().any(|&u| {
                    !matches!(g.node(u).op, Op::Output)
                        && node_effect(p, g, u, ops) == Effect::Effectful
                })
            };
            (!effectful_user(x) && !effectful_user(r)).then_some(Rewrite::ReplaceWith(x))
        }
        _ => None,
    }
}

fn memory_format_ok(a: Option<&Arg>) -> bool {
    match a {
        None | Some(Arg::None) => true,
        Some(Arg::MemoryFormat(m)) => m == "preserve_format" || m == "contiguous_format",
        _ => false,
    }
}

impl Pass for Canonicalize {
    fn name(&self) -> &str {
        "canonicalize"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let ops = cx.ops_handle();
        let mut changed = false;
        for gid in cx.graphs(p) {
            let mut refused = std::collections::HashSet::new();
            // Rewrites enable each other (a composed permute may become an identity), so sweep
            // until nothing applies; each sweep shrinks or keeps the graph, 32 is a safety cap.
            for _ in 0..32 {
                let mut sweep_changed = false;
                for n in p.graphs[gid].node_ids() {
                    if p.graphs[gid].get_node(n).is_none() {
                        continue;
                    }
                    let Some(rw) = rewrite(p, gid, n, Some(&*ops)) else {
                        continue;
                    };
                    let g = &mut p.graphs[gid];
                    let mut cands = vec![n];
                    match rw {
                        Rewrite::ReplaceWith(v) => {
                            let Some(r) = result(g, n) else { continue };
                            g.replace_all_uses(r, v);
                        }
                        Rewrite::Retarget(t, args, kwargs) => {
                            cands = g.node(n).inputs().iter().map(|&v| g.value(v).def).collect();
                            g.set_op(n, Op::Call { target: t });
                            g.set_args(n, args, kwargs);
                        }
                        Rewrite::Refused(why) => {
                            // Later sweeps see the same node again; count it once.
                            if refused.insert(n) {
                                cx.stat(why, 1);
                            }
                            continue;
                        }
                    }
                    cx.stat("rewrites", 1);
                    remove_dead(p, gid, cands, Some(&*ops));
                    sweep_changed = true;
                }
                if !sweep_changed {
                    break;
                }
                changed = true;
            }
        }
        Ok(PassOutcome::from_changed(changed))
    }
}
