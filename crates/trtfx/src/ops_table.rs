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
    /// Why the TensorRT column says what it says, where there is more to say: what the
    /// converter refuses (`no i64`), how a decomposed op converts, or why an op has no
    /// converter ([`tensorrt_reason`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensorrt_reason: Option<&'static str>,
    /// Tags and effects worth knowing (`pointwise`, `view`, `inplace`, `random`, ...).
    pub notes: Vec<&'static str>,
}

/// Why TensorRT handles `def` as the table says, derived from the op table's entry and the
/// converter registry (never from a list kept apart):
/// - a converter that refuses `i64` says so;
/// - a decomposition converts when every op it expands to converts, which depends on the
///   call (dtypes, literals), so it is checked per node;
/// - an op with no converter is refused for the first reason that applies: it mutates (export
///   functionalizes it), it is a backward op, it is random, it belongs to a vendor or sparse
///   backend, it has no inference (nothing can be planned for it), or no converter is written.
pub fn tensorrt_reason(
    def: &OpDef,
    handling: Handling,
    converters: &ConverterRegistry,
) -> Option<&'static str> {
    let name = def.name.as_str();
    match handling {
        Handling::Direct => converters
            .get(name)
            .filter(|c| !c.allow_i64)
            .map(|_| "no i64: TensorRT has 64-bit data movement, not math"),
        Handling::Decomposition => Some("when every op of its expansion converts"),
        Handling::None => Some(if def.schema.is_none() {
            "no schema"
        } else if def.tags.inplace {
            "in-place: `torch.export` functionalizes it to the out-of-place op"
        } else if !def.effects.mutates.is_empty() {
            "out= variant: functionalized to the plain op"
        } else if name.contains("_backward") {
            "backward op: not in inference graphs"
        } else if def.tags.random {
            "random: values cannot match PyTorch's generator"
        } else if [
            "quantize", "mkldnn", "cudnn", "miopen", "sparse", "fbgemm", "nested", "_mps",
        ]
        .iter()
        .any(|k| name.contains(k))
        {
            "vendor, quantized, sparse or nested backend op"
        } else if def.infer.is_none() && !def.infer_via_decomposition {
            "no shape/dtype inference"
        } else {
            "no converter"
        }),
    }
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
            let tensorrt = pick(converters.has_converter(&d.name));
            OpRow {
                tensorrt_reason: tensorrt_reason(d, tensorrt, &converters),
                op: d.name.clone(),
                core: d.tags.core,
                inference: if d.infer_via_decomposition {
                    Handling::Decomposition
                } else {
                    pick(d.infer.is_some())
                },
                exec: pick(trtfx_exec::has_kernel(&d.name)),
                tensorrt,
                notes: notes(d),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.op.cmp(&b.op));
    rows
}

/// The TensorRT cell: the handling, then its reason in parentheses.
fn tensorrt_cell(r: &OpRow) -> String {
    let word = r.tensorrt.word("converter");
    match (r.tensorrt, r.tensorrt_reason) {
        // "decomposition" always carries the same condition: said once, above the table.
        (Handling::Decomposition, _) | (_, None) => word.to_string(),
        (_, Some(why)) => format!("{word} ({why})"),
    }
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
         means the op runs as the ops its decomposition emits (for TensorRT: it converts when \
         every op of its expansion converts, checked per node). A TensorRT \"none\" gives the \
         reason in parentheses.\n"
    );
    let refused = |rows: &[OpRow], why: &str| {
        rows.iter()
            .filter(|r| r.tensorrt == Handling::None && r.tensorrt_reason == Some(why))
            .count()
    };
    let mut reasons: Vec<&str> = rows
        .iter()
        .filter(|r| r.tensorrt == Handling::None)
        .filter_map(|r| r.tensorrt_reason)
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    reasons.sort_by_key(|w| std::cmp::Reverse(refused(rows, w)));
    if !reasons.is_empty() {
        let _ = writeln!(s, "Operators TensorRT does not handle, by reason:\n");
        let _ = writeln!(s, "| reason | all | core |");
        let _ = writeln!(s, "|---|---|---|");
    }
    for why in &reasons {
        let _ = writeln!(
            s,
            "| {why} | {} | {} |",
            refused(rows, why),
            refused(&core, why)
        );
    }
    if !reasons.is_empty() {
        let _ = writeln!(s);
    }
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
            tensorrt_cell(r),
            r.notes.join(", ")
        );
    }
    s
}
