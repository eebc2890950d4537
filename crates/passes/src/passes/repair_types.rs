//! `repair-types`: inserts casts where a node's stored result types disagree with what type
//! inference computes from its operands, at segment boundaries. It only reasons about types
//! (it evaluates nothing).
//!
//! After `truncate-long-double`, a fallback node reading a value computed in f32 inside a
//! backend segment infers f32 where it stores f64; a segment node reading an f64 value of the
//! fallback code infers f64 where it stores f32. For such a node, the operands that come from
//! another segment (or from outside every segment) are cast to their 64-bit partner dtype
//! (f32 → f64, i32 → i64) or to their segment type (f64 → f32, i64 → i32, and u8/i8/i16/u16 →
//! i32 under `small-int=int32`), whichever makes inference reproduce the stored types; if
//! neither does, the pass fails at that node.
//!
//! Where the cast goes: into the consumer's segment when the consumer is in a fallback segment
//! (the executor runs it); otherwise right after the producer, into the producer's segment if
//! that is a fallback one, else outside every segment. Casts never land in a backend segment,
//! which could not run the 64-bit side of them. Counter: `casts-inserted`.

use std::collections::HashMap;

use crate::partition::FALLBACK;
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::passes::truncate::TO_COPY;
use trtfx_ir::{Arg, DType, Graph, NodeBuilder, NodeId, Op, Program, SegmentTag, Type, ValueId};

/// The registered name.
pub const NAME: &str = "repair-types";

/// The `repair-types` pass (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct RepairTypes;

fn widen(d: DType) -> Option<DType> {
    match d {
        DType::F32 => Some(DType::F64),
        DType::I32 => Some(DType::I64),
        _ => None,
    }
}

/// The dtype a value takes inside a backend segment: the 32-bit partner of a 64-bit type, or
/// i32 for the small integer types `small-int=int32` widens.
fn narrow(d: DType) -> Option<DType> {
    match d {
        DType::F64 => Some(DType::F32),
        DType::I64 => Some(DType::I32),
        DType::U8 | DType::I8 | DType::I16 | DType::U16 => Some(DType::I32),
        _ => None,
    }
}

fn tag(g: &Graph, n: NodeId) -> Option<&SegmentTag> {
    g.node(n).meta.segment.as_ref()
}

/// The inferred result types of node `n` when operands are seen with types `over`.
pub(crate) fn infer_with(
    g: &Graph,
    n: NodeId,
    ops: &trtfx_ir::OpRegistry,
    over: &HashMap<ValueId, Type>,
) -> Option<Result<Vec<Type>, String>> {
    let node = g.node(n);
    let Op::Call { target } = &node.op else {
        return None;
    };
    if node.meta.recorded_types {
        return None;
    }
    ops.get(target)?.infer.as_ref()?;
    let type_of = |v: ValueId| over.get(&v).cloned().unwrap_or_else(|| g.ty(v).clone());
    trtfx_ir::aten::infer_node_with(g, n, ops, &type_of)
}

/// For node `n` whose inference disagrees with its stored types: the operand casts that make
/// them agree (value → dtype), or `None`.
fn find_casts(g: &Graph, n: NodeId, ops: &trtfx_ir::OpRegistry) -> Option<Vec<(ValueId, DType)>> {
    let stored: Vec<Type> = g.node(n).results.iter().map(|&r| g.ty(r).clone()).collect();
    let here = tag(g, n).map(|t| t.index);
    // Operands from another segment (or from outside every segment).
    let mut boundary: Vec<ValueId> = Vec::new();
    for v in g.node(n).inputs() {
        let def = g.value(v).def;
        if tag(g, def).map(|t| t.index) != here && !boundary.contains(&v) {
            boundary.push(v);
        }
    }
    for dir in [widen, narrow] {
        let mut over = HashMap::new();
        let mut casts = Vec::new();
        for &v in &boundary {
            if let Type::Tensor(t) = g.ty(v) {
                if let Some(d) = dir(t.dtype) {
                    over.insert(v, Type::tensor(d, t.shape.clone()));
                    casts.push((v, d));
                }
            }
        }
        if casts.is_empty() {
            continue;
        }
        if let Some(Ok(inferred)) = infer_with(g, n, ops, &over) {
            if inferred == stored {
                return Some(casts);
            }
        }
    }
    None
}

impl Pass for RepairTypes {
    fn name(&self) -> &str {
        NAME
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let ops = cx.ops_handle();
        let main = p.main;
        let g = &mut p.graphs[main];
        let mut names: std::collections::HashSet<String> = g
            .value_ids()
            .map(|v| g.value(v).name.clone())
            .chain(g.nodes().map(|n| g.node(n).name.clone()))
            .collect();
        // One cast per (value, dtype, segment it lands in).
        let mut made: HashMap<(ValueId, DType, Option<u32>), ValueId> = HashMap::new();
        let mut inserted = 0u64;
        for n in g.node_ids() {
            let Some(Ok(inferred)) = infer_with(g, n, &ops, &HashMap::new()) else {
                continue;
            };
            let stored: Vec<Type> = g.node(n).results.iter().map(|&r| g.ty(r).clone()).collect();
            if inferred == stored {
                continue;
            }
            let Some(casts) = find_casts(g, n, &ops) else {
                return Err(PassError::at(
                    format!(
                        "stored result types ({}) differ from inferred types ({}) and no cast \
                         of a segment-boundary operand reconciles them",
                        stored
                            .iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        inferred
                            .iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    g,
                    n,
                ));
            };
            let consumer_tag = tag(g, n).cloned();
            for (v, dtype) in casts {
                let def = g.value(v).def;
                let producer_tag = tag(g, def).cloned();
                let (place_tag, after_def) = match (&consumer_tag, &producer_tag) {
                    (Some(c), _) if c.backend == FALLBACK => (Some(c.clone()), false),
                    (_, Some(pt)) if pt.backend == FALLBACK => (Some(pt.clone()), true),
                    _ => (None, true),
                };
                let key = (v, dtype, place_tag.as_ref().map(|t| t.index));
                let c = match made.get(&key) {
                    Some(&c) => c,
                    None => {
                        let Type::Tensor(t) = g.ty(v) else { continue };
                        let ty = Type::tensor(dtype, t.shape.clone());
                        let base = format!("{}_{}", g.value(v).name, dtype);
                        let mut name = base.clone();
                        let mut i = 1;
                        while names.contains(&name) {
                            name = format!("{base}_{i}");
                            i += 1;
                        }
                        names.insert(name.clone());
                        let b = NodeBuilder::call(TO_COPY)
                            .args(vec![Arg::Value(v)])
                            .kwarg("dtype", Arg::DType(dtype))
                            .result(name, ty);
                        // After a placeholder the cast would split the placeholder block.
                        let cn = if after_def && !matches!(g.node(def).op, Op::Placeholder) {
                            g.insert_after(def, b)
                        } else {
                            g.insert_before(n, b)
                        };
                        if let Some(t) = place_tag.clone() {
                            let mut meta = g.node(cn).meta.clone();
                            meta.segment = Some(t);
                            g.set_node_meta(cn, meta);
                        }
                        inserted += 1;
                        let r = g.node(cn).results[0];
                        made.insert(key, r);
                        r
                    }
                };
                let node = g.node(n);
                let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
                let mut f = |x: ValueId| if x == v { c } else { x };
                for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, a)| a)) {
                    a.map_values(&mut f);
                }
                g.set_args(n, args, kwargs);
            }
        }
        cx.types_repaired();
        if inserted > 0 {
            cx.stat("casts-inserted", inserted);
        }
        Ok(PassOutcome::from_changed(inserted > 0))
    }
}
