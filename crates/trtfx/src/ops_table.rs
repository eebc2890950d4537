//! The op table as users see it: one row per registered operator overload, saying how each
//! part of trtfx handles it. `ir-opt ops` prints it and `docs/ops.md` is generated from it.
//!
//! Each column comes from the slot that part fills in the op table, never from a list kept
//! apart: inference from [`trtfx_ir::OpDef::infer`], the executor from its kernel table
//! ([`trtfx_exec::has_kernel`]), TensorRT from the converter registry, and the decomposition
//! slot wherever a part has no direct implementation.

use serde::Serialize;
use std::fmt::Write as _;
use trtfx_backend_trt::convert::ConverterRegistry;
use trtfx_ir::{OpDef, OpRegistry};

/// How one part of trtfx handles an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Handling {
    /// A rule, kernel or converter of its own.
    Direct,
    /// Through the op's decomposition into other ops.
    Decomposition,
    /// Not handled (inference keeps the recorded types; exec and TensorRT refuse the op).
    None,
}

impl Handling {
    fn word(self, direct: &'static str) -> &'static str {
        match self {
            Handling::Direct => direct,
            Handling::Decomposition => "decomposition",
            Handling::None => "none",
        }
    }
}

/// One operator overload of the table.
#[derive(Clone, Debug, Serialize)]
pub struct OpRow {
    /// Registry name (`aten.add.Tensor`).
    pub op: String,
    /// In the Core ATen opset.
    pub core: bool,
    /// Shape/dtype inference.
    pub inference: Handling,
    /// CPU executor.
    pub exec: Handling,
    /// TensorRT conversion.
    pub tensorrt: Handling,
    /// Tags and effects worth knowing (`pointwise`, `view`, `inplace`, `random`, ...).
    pub notes: Vec<&'static str>,
}

fn notes(def: &OpDef) -> Vec<&'static str> {
    let mut n = Vec::new();
    let t = &def.tags;
    if t.pointwise {
        n.push("pointwise");
    }
    if t.view {
        n.push("view");
    }
    if t.inplace {
        n.push("inplace");
    }
    if !def.effects.mutates.is_empty() && !t.inplace {
        n.push("out=");
    }
    if t.random {
        n.push("random");
    }
    if def.effects.side_effect {
        n.push("side effect");
    }
    if def.schema.is_none() {
        n.push("no schema");
    }
    n
}

/// The rows of every operator in `reg` whose name contains `filter` (all when `None`), in
/// name order.
pub fn op_rows(reg: &OpRegistry, filter: Option<&str>) -> Vec<OpRow> {
    let converters = ConverterRegistry::standard();
    let mut rows: Vec<OpRow> = reg
        .iter()
        .filter(|d| filter.is_none_or(|f| d.name.contains(f)))
        .map(|d| {
            let dec = d.decomposition.is_some();
            let pick = |direct: bool| match (direct, dec) {
                (true, _) => Handling::Direct,
                (false, true) => Handling::Decomposition,
                (false, false) => Handling::None,
            };
            OpRow {
                op: d.name.clone(),
                core: d.tags.core,
                inference: if d.infer_via_decomposition {
                    Handling::Decomposition
                } else {
                    pick(d.infer.is_some())
                },
                exec: pick(trtfx_exec::has_kernel(&d.name)),
                tensorrt: pick(converters.has_converter(&d.name)),
                notes: notes(d),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.op.cmp(&b.op));
    rows
}

/// Counts of one column over `rows`.
fn count(rows: &[OpRow], col: impl Fn(&OpRow) -> Handling) -> (usize, usize) {
    let direct = rows.iter().filter(|r| col(r) == Handling::Direct).count();
    let dec = rows
        .iter()
        .filter(|r| col(r) == Handling::Decomposition)
        .count();
    (direct, dec)
}

/// The table as JSON (an array of rows).
pub fn ops_json(rows: &[OpRow]) -> String {
    serde_json::to_string_pretty(rows).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The table as Markdown: a summary, then one row per overload.
pub fn ops_markdown(rows: &[OpRow]) -> String {
    let mut s = String::new();
    let total = rows.len();
    let core: Vec<OpRow> = rows.iter().filter(|r| r.core).cloned().collect();
    let line = |s: &mut String, what: &str, rows: &[OpRow], col: &dyn Fn(&OpRow) -> Handling| {
        let (d, k) = count(rows, col);
        let _ = writeln!(
            s,
            "| {what} | {d} | {k} | {} |",
            rows.len().saturating_sub(d + k)
        );
    };
    let _ = writeln!(s, "## The table\n");
    let _ = writeln!(
        s,
        "{total} registered overloads, {} of them in the Core ATen opset.\n",
        core.len()
    );
    let _ = writeln!(s, "| column | direct | decomposition | none |");
    let _ = writeln!(s, "|---|---|---|---|");
    line(&mut s, "inference (all)", rows, &|r| r.inference);
    line(&mut s, "exec (all)", rows, &|r| r.exec);
    line(&mut s, "TensorRT (all)", rows, &|r| r.tensorrt);
    line(&mut s, "inference (core)", &core, &|r| r.inference);
    line(&mut s, "exec (core)", &core, &|r| r.exec);
    line(&mut s, "TensorRT (core)", &core, &|r| r.tensorrt);
    let _ = writeln!(
        s,
        "\n\"rule\", \"kernel\" and \"converter\" are direct implementations; \"decomposition\" \
         means the op runs as the ops its decomposition emits.\n"
    );
    let _ = writeln!(
        s,
        "| overload | core | inference | exec | TensorRT | notes |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} |",
            r.op,
            if r.core { "core" } else { "" },
            r.inference.word("rule"),
            r.exec.word("kernel"),
            r.tensorrt.word("converter"),
            r.notes.join(", ")
        );
    }
    s
}
