//! `outline-segments`: turns the segments `partition` recorded as node metadata into
//! subgraphs `main_seg<i>_<backend>` called from the main graph in execution order
//! ([`crate::partition::outline`]), and clears the tags (the structure now says it).
//! Untagged nodes that read a segment's result (casts before the output) go after the calls.
//! Counters: `segments`, `nodes-outlined`.

use std::collections::BTreeMap;

use crate::partition::{outline, Placement, Segment, SegmentPlan, FALLBACK};
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use trtfx_ir::{NodeId, Program};

/// The registered name.
pub const NAME: &str = "outline-segments";

/// The `outline-segments` pass.
#[derive(Clone, Debug, Default)]
pub struct OutlineSegments;

impl Pass for OutlineSegments {
    fn name(&self) -> &str {
        NAME
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let main = p.main;
        let g = &p.graphs[main];
        let mut by_index: BTreeMap<u32, (String, Vec<NodeId>)> = BTreeMap::new();
        for n in g.nodes() {
            if let Some(t) = &g.node(n).meta.segment {
                let e = by_index
                    .entry(t.index)
                    .or_insert_with(|| (t.backend.clone(), Vec::new()));
                if e.0 != t.backend {
                    return Err(PassError::at(
                        format!(
                            "segment {} is tagged with backends `{}` and `{}`",
                            t.index, e.0, t.backend
                        ),
                        g,
                        n,
                    ));
                }
                e.1.push(n);
            }
        }
        if by_index.is_empty() {
            return Ok(PassOutcome::unchanged());
        }
        let backends: Vec<&str> = by_index
            .values()
            .map(|(b, _)| b.as_str())
            .filter(|b| *b != FALLBACK)
            .collect();
        let backend = backends.first().copied().unwrap_or(FALLBACK).to_string();
        if let Some(other) = backends.iter().find(|b| **b != backend) {
            return Err(PassError::new(format!(
                "segments of two backends (`{backend}` and `{other}`) in one graph are not \
                 supported"
            )));
        }
        let plan = SegmentPlan {
            segments: by_index
                .into_values()
                .map(|(b, nodes)| Segment {
                    placement: if b == FALLBACK {
                        Placement::Fallback
                    } else {
                        Placement::Backend
                    },
                    nodes,
                })
                .collect(),
            reasons: Default::default(),
        };
        let moved: usize = plan.segments.iter().map(|s| s.nodes.len()).sum();
        let created =
            outline(p, main, &plan, &backend).map_err(|e| PassError::new(e.to_string()))?;
        for gid in created {
            let g = &mut p.graphs[gid];
            for n in g.node_ids() {
                if g.node(n).meta.segment.is_some() {
                    let mut meta = g.node(n).meta.clone();
                    meta.segment = None;
                    g.set_node_meta(n, meta);
                }
            }
        }
        cx.stat("segments", plan.segments.len() as u64);
        cx.stat("nodes-outlined", moved as u64);
        Ok(PassOutcome::changed())
    }
}
