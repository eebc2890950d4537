//! The OpInfo conformance suite (issue 16): read the corpus `tests/conformance/gen.py` writes,
//! run every case through the stages `ir-opt` offers, and report coverage.
//!
//! The corpus is one gzip-compressed tar archive. It holds `cases.json` (per case: id, OpInfo
//! entry, dtype, sample index, a description of the sample) and per case `ID/export.pt2`,
//! `ID/core.pt2` (the export-IR and core ATen dialects of one OpInfo sample) with
//! `ID/export.io.safetensors`, `ID/core.io.safetensors` (the sample's tensors as `in_N`, the
//! outputs of that dialect's exported program as `out_N`).
//!
//! Each case runs, per dialect, through four independent [`Stage`]s:
//! - [`Stage::Check`]: the program verifies, every call node has shape/dtype inference (full
//!   inference) and every inferred type agrees with the recorded one (`ir-opt check`);
//! - [`Stage::Run`]: the CPU executor's outputs match the goldens (`ir-opt run --expect`);
//! - [`Stage::Engine`]: the whole main graph converts to a TensorRT network (`ir-opt engine`
//!   without the plan build: the recorded network);
//! - [`Stage::CompileRun`]: [`crate::compile()`] with `min-block-size=1` (so even one-node
//!   segments go to TensorRT) and no plans, saved to bytes and loaded back, then the artifact
//!   runs (TensorRT segments on the layer emulator) and matches the goldens.
//!
//! Floats compare with rtol = atol = 1e-4 (NaN equals NaN); integers and bools exactly; shapes
//! and dtypes must match. A panic in a stage is caught and recorded as that stage's failure.
//!
//! The ratchet (`tests/conformance/ratchet.txt`) lists every passing `case dialect stage`;
//! [`ratchet_regressions`] names those that no longer pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::{aten, Op, Program};

/// Relative tolerance for floating outputs.
pub const RTOL: f64 = 1e-4;
/// Absolute tolerance for floating outputs.
pub const ATOL: f64 = 1e-4;
/// The largest inflated corpus accepted (malformed or hostile archives stop here).
pub const MAX_CORPUS_BYTES: u64 = 2 << 30;

/// An error reading the corpus or the ratchet.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {what}: {why}")]
pub struct ConformError {
    /// The file.
    pub path: String,
    /// What was being read.
    pub what: String,
    /// Why it failed.
    pub why: String,
}

fn err(path: &str, what: &str, why: impl ToString) -> ConformError {
    ConformError {
        path: path.to_string(),
        what: what.to_string(),
        why: why.to_string(),
    }
}

/// One OpInfo sample in one dtype, as `cases.json` describes it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct CaseMeta {
    /// `<entry>.<dtype>.<sample>`; the directory of its files in the archive.
    pub id: String,
    /// The OpInfo entry: its name, with `.variant` when it has a variant test name.
    pub entry: String,
    /// The OpInfo name.
    pub op: String,
    /// The OpInfo variant test name (often empty).
    #[serde(default)]
    pub variant: String,
    /// The dtype the sample was drawn in (`float32`, `int64`, `bool`, ...).
    pub dtype: String,
    /// Index of the sample among the entry's sample inputs.
    pub sample: u32,
    /// The sample's arguments in words.
    #[serde(default)]
    pub desc: String,
}

#[derive(serde::Deserialize)]
struct CasesJson {
    torch: String,
    cases: Vec<CaseMeta>,
}

/// The corpus in memory: case metadata and every member's bytes.
pub struct Corpus {
    /// The torch version that generated it.
    pub torch: String,
    /// Every case, sorted by id.
    pub cases: Vec<CaseMeta>,
    files: HashMap<String, Vec<u8>>,
    origin: String,
}

impl Corpus {
    /// Reads a `.tar.gz` corpus.
    pub fn read(path: &Path) -> Result<Corpus, ConformError> {
        let p = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| err(&p, "opening the corpus", e))?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(f)
            .take(MAX_CORPUS_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| err(&p, "inflating the corpus", e))?;
        if bytes.len() as u64 > MAX_CORPUS_BYTES {
            return Err(err(
                &p,
                "inflating the corpus",
                format!("larger than {MAX_CORPUS_BYTES} bytes"),
            ));
        }
        let files = untar(&bytes).map_err(|why| err(&p, "reading the tar archive", why))?;
        let json = files
            .get("cases.json")
            .ok_or_else(|| err(&p, "cases.json", "missing"))?;
        let meta: CasesJson = serde_json::from_slice(json).map_err(|e| err(&p, "cases.json", e))?;
        let mut cases = meta.cases;
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        for c in &cases {
            for d in Dialect::ALL {
                for f in [d.program_member(&c.id), d.io_member(&c.id)] {
                    if !files.contains_key(&f) {
                        return Err(err(&p, &f, "missing member"));
                    }
                }
            }
        }
        Ok(Corpus {
            torch: meta.torch,
            cases,
            files,
            origin: p,
        })
    }

    /// Replaces (or adds) an archive member, e.g. to check that wrong goldens are caught.
    pub fn replace_member(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.insert(name.to_string(), bytes);
    }

    /// The bytes of an archive member (`ID/core.io.safetensors`), if present.
    pub fn member_bytes(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    fn member(&self, name: &str) -> &[u8] {
        // `read` checked every case's members.
        self.files.get(name).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Splits an (uncompressed) ustar archive into its regular files.
fn untar(bytes: &[u8]) -> Result<HashMap<String, Vec<u8>>, String> {
    fn field(h: &[u8], start: usize, len: usize) -> &[u8] {
        let f = &h[start..start + len];
        let end = f.iter().position(|&b| b == 0).unwrap_or(len);
        &f[..end]
    }
    let mut files = HashMap::new();
    let mut at = 0usize;
    while at + 512 <= bytes.len() {
        let h = &bytes[at..at + 512];
        if h.iter().all(|&b| b == 0) {
            return Ok(files);
        }
        let name = String::from_utf8(field(h, 0, 100).to_vec())
            .map_err(|_| format!("entry at byte {at}: name is not UTF-8"))?;
        let prefix = String::from_utf8(field(h, 345, 155).to_vec())
            .map_err(|_| format!("entry at byte {at}: name prefix is not UTF-8"))?;
        let size_text = std::str::from_utf8(field(h, 124, 12))
            .map_err(|_| format!("entry `{name}`: size is not text"))?;
        let size = u64::from_str_radix(size_text.trim(), 8)
            .map_err(|_| format!("entry `{name}`: bad size `{size_text}`"))?;
        let size = usize::try_from(size).map_err(|_| format!("entry `{name}`: too large"))?;
        let data_at = at + 512;
        let end = data_at
            .checked_add(size)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| format!("entry `{name}`: truncated ({size} bytes declared)"))?;
        let full = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        // Regular files only ('0' or NUL); directories and others are skipped.
        if matches!(h[156], b'0' | 0) {
            files.insert(full, bytes[data_at..end].to_vec());
        }
        at = data_at + size.div_ceil(512) * 512;
    }
    Err("no end-of-archive marker (truncated)".to_string())
}

/// The two dialects of every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dialect {
    /// `torch.export.export` as is (export IR / training dialect).
    Export,
    /// After `run_decompositions()` (core ATen).
    Core,
}

impl Dialect {
    /// Both, in report order.
    pub const ALL: [Dialect; 2] = [Dialect::Export, Dialect::Core];

    /// `export` or `core`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Export => "export",
            Dialect::Core => "core",
        }
    }

    fn program_member(self, id: &str) -> String {
        format!("{id}/{}.pt2", self.name())
    }

    fn io_member(self, id: &str) -> String {
        format!("{id}/{}.io.safetensors", self.name())
    }

    fn parse(s: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.name() == s)
    }
}

/// The stages every case runs through (independently of each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Verify, full inference, inferred types agree.
    Check,
    /// The executor matches the goldens.
    Run,
    /// The whole graph converts to a TensorRT network.
    Engine,
    /// Compile (min-block-size 1, no plans), run the artifact, match the goldens.
    CompileRun,
}

impl Stage {
    /// All, in report order.
    pub const ALL: [Stage; 4] = [Stage::Check, Stage::Run, Stage::Engine, Stage::CompileRun];

    /// `check`, `run`, `engine`, `compile-run`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Check => "check",
            Stage::Run => "run",
            Stage::Engine => "engine",
            Stage::CompileRun => "compile-run",
        }
    }

    fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|d| d.name() == s)
    }
}

/// Why a stage failed: the operator to blame when one can be named, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The operator (overload) responsible, when known (`aten.polygamma.default`), else a
    /// short cause (`numeric mismatch`, `panic`).
    pub cause: String,
    /// One line.
    pub message: String,
}

impl Failure {
    fn new(cause: impl Into<String>, message: impl Into<String>) -> Failure {
        let message: String = message.into();
        let line = message.lines().next().unwrap_or_default().trim();
        let mut line: String = line.chars().take(240).collect();
        if line.len() < message.trim().len() && message.lines().count() > 1 {
            // Keep the first detail line of multi-line errors (e.g. the first unsupported node).
            if let Some(detail) = message.lines().nth(1) {
                let _ = write!(
                    line,
                    " {}",
                    detail.trim().chars().take(160).collect::<String>()
                );
            }
        }
        Failure {
            cause: cause.into(),
            message: line,
        }
    }

    /// A failure whose cause is the first operator name found in the message.
    fn from_message(fallback: &str, message: String) -> Failure {
        let cause = op_in(&message).unwrap_or_else(|| fallback.to_string());
        Failure::new(cause, message)
    }
}

/// The first `aten.x.y` / `prims.x.y` / `_operator.x` / `higher_order.x` token in a message.
fn op_in(msg: &str) -> Option<String> {
    for (i, _) in msg.char_indices() {
        let rest = &msg[i..];
        if !["aten.", "prims.", "_operator.", "higher_order."]
            .iter()
            .any(|p| rest.starts_with(p))
        {
            continue;
        }
        if i > 0 && msg[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let tok: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
            .collect();
        return Some(tok.trim_end_matches('.').to_string());
    }
    None
}

/// The outcome of one case in one dialect.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Index into [`Corpus::cases`].
    pub case: usize,
    /// The dialect.
    pub dialect: Dialect,
    /// Per stage (in [`Stage::ALL`] order): `None` when it passed.
    pub stages: [Option<Failure>; 4],
    /// The distinct call targets of the program (all graphs), sorted.
    pub overloads: Vec<String>,
    /// Wall time of the case.
    pub time: Duration,
}

impl CaseResult {
    /// Whether `stage` passed.
    pub fn passed(&self, stage: Stage) -> bool {
        self.stages[stage as usize].is_none()
    }
}

/// What [`run`] runs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only cases whose id or entry contains this text.
    pub filter: Option<String>,
    /// Worker threads (0: the available parallelism).
    pub threads: usize,
}

/// Runs every selected case in both dialects. Panics in stages are caught (the panic hook is
/// silenced meanwhile and restored after).
pub fn run(corpus: &Corpus, opts: &RunOptions) -> Vec<CaseResult> {
    let selected: Vec<usize> = corpus
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            opts.filter
                .as_deref()
                .is_none_or(|f| c.id.contains(f) || c.entry.contains(f))
        })
        .map(|(i, _)| i)
        .collect();
    let work: Vec<(usize, Dialect)> = selected
        .iter()
        .flat_map(|&i| Dialect::ALL.map(|d| (i, d)))
        .collect();
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    }
    .clamp(1, work.len().max(1));
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<CaseResult>> = Mutex::new(Vec::with_capacity(work.len()));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(case, dialect)) = work.get(k) else {
                    break;
                };
                let r = run_case(corpus, case, dialect);
                results.lock().unwrap_or_else(|e| e.into_inner()).push(r);
            });
        }
    });
    std::panic::set_hook(hook);
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|r| (r.case, r.dialect));
    results
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Runs `f`, turning a panic into a failure.
fn guarded(f: impl FnOnce() -> Result<(), Failure>) -> Option<Failure> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(p) => Some(Failure::from_message(
            "panic",
            format!("panic: {}", panic_message(&*p)),
        )),
    }
}

/// Runs one case in one dialect through every stage.
pub fn run_case(corpus: &Corpus, case: usize, dialect: Dialect) -> CaseResult {
    let start = Instant::now();
    let id = &corpus.cases[case].id;
    let name = format!("{}:{}", corpus.origin, dialect.program_member(id));
    let imported = std::panic::catch_unwind(|| {
        trtfx_frontend_fx::import_pt2_bytes(
            corpus.member(&dialect.program_member(id)).to_vec(),
            &name,
        )
    });
    let io = crate::io::read_io_bytes(corpus.member(&dialect.io_member(id)), &name);
    let (program, io) = match (imported, io) {
        (Ok(Ok(program)), Ok(io)) => (program, io),
        (Ok(Err(e)), _) => {
            return all_failed(case, dialect, start, Failure::new("import", e.to_string()))
        }
        (Err(p), _) => {
            let f = Failure::new("import", format!("import panicked: {}", panic_message(&*p)));
            return all_failed(case, dialect, start, f);
        }
        (_, Err(e)) => {
            let cause = match &e {
                crate::io::IoError::DType { dtype, .. } => {
                    format!("io: dtype {dtype} not readable")
                }
                _ => "io".to_string(),
            };
            return all_failed(case, dialect, start, Failure::new(cause, e.to_string()));
        }
    };
    let overloads = call_targets(&program);
    let stages = [
        guarded(|| stage_check(&program)),
        guarded(|| stage_run(&program, &io)),
        guarded(|| stage_engine(&program)),
        guarded(|| stage_compile_run(&program, &io)),
    ];
    CaseResult {
        case,
        dialect,
        stages,
        overloads,
        time: start.elapsed(),
    }
}

fn all_failed(case: usize, dialect: Dialect, start: Instant, f: Failure) -> CaseResult {
    CaseResult {
        case,
        dialect,
        stages: [Some(f.clone()), Some(f.clone()), Some(f.clone()), Some(f)],
        overloads: vec![],
        time: start.elapsed(),
    }
}

/// Distinct call targets over every graph of `p`.
fn call_targets(p: &Program) -> Vec<String> {
    let mut set = BTreeSet::new();
    for (_, g) in p.graphs.iter() {
        for n in g.nodes() {
            if let Op::Call { target } = &g.node(n).op {
                set.insert(target.clone());
            }
        }
    }
    set.into_iter().collect()
}

fn stage_check(p: &Program) -> Result<(), Failure> {
    let reg = aten::registry();
    if let Err(diags) = trtfx_ir::verify_program(p, Some(reg)) {
        let text = trtfx_ir::verify::render(&diags);
        return Err(Failure::from_message(
            "verify",
            format!("does not verify: {text}"),
        ));
    }
    // Full inference: every call node has a rule (directly or through its decomposition).
    for (_, g) in p.graphs.iter() {
        for n in g.nodes() {
            if let Op::Call { target } = &g.node(n).op {
                if reg.get(target).and_then(|d| d.infer.as_ref()).is_none() {
                    return Err(Failure::new(
                        target.clone(),
                        format!("no inference for `{target}`"),
                    ));
                }
            }
        }
    }
    let report = aten::check_program(p, reg);
    if let Some(e) = report.errors.first() {
        return Err(Failure::from_message("inference", e.to_string()));
    }
    if let Some(d) = report.disagreements.first() {
        return Err(Failure::new(
            d.op.clone(),
            format!(
                "`{}` ({}): recorded {}, inferred {}",
                d.node, d.op, d.expected, d.got
            ),
        ));
    }
    Ok(())
}

/// Flattens program outputs as torch's pytree does (lists of tensors become several outputs).
fn flatten_outputs(values: Vec<Value>, out: &mut Vec<Tensor>) -> Result<(), Failure> {
    for v in values {
        match v {
            Value::Tensor(t) => out.push(t),
            Value::Int(i) => out.push(Tensor::scalar(i)),
            Value::Float(f) => out.push(Tensor::scalar(f)),
            Value::Bool(b) => out.push(Tensor::scalar(b)),
            Value::List(items) => flatten_outputs(items, out)?,
            other => {
                return Err(Failure::new(
                    "output",
                    format!("output of kind {} is not a tensor", other.kind()),
                ))
            }
        }
    }
    Ok(())
}

fn compare_goldens(got: &[Tensor], io: &crate::io::IoTensors) -> Result<(), Failure> {
    if got.len() != io.outputs.len() {
        return Err(Failure::new(
            "output count",
            format!(
                "{} output(s), the goldens have {}",
                got.len(),
                io.outputs.len()
            ),
        ));
    }
    for (i, (g, w)) in got.iter().zip(&io.outputs).enumerate() {
        let c = crate::io::compare(i, g, w, RTOL, ATOL);
        if !c.ok {
            let detail = c.detail.unwrap_or_default();
            let cause = if detail.starts_with("dtype") {
                "dtype mismatch"
            } else if detail.starts_with("shape") {
                "shape mismatch"
            } else {
                "numeric mismatch"
            };
            return Err(Failure::new(
                cause,
                format!("out_{i}: {detail} (max_abs {:.3e})", c.max_abs),
            ));
        }
    }
    Ok(())
}

fn stage_run(p: &Program, io: &crate::io::IoTensors) -> Result<(), Failure> {
    let ex = Executor::new(p);
    let args: Vec<Value> = io.inputs.iter().cloned().map(Value::Tensor).collect();
    let outs = ex
        .run(&args)
        .map_err(|e| Failure::from_message("exec error", e.to_string()))?;
    let mut got = vec![];
    flatten_outputs(outs, &mut got)?;
    compare_goldens(&got, io)
}

fn stage_engine(p: &Program) -> Result<(), Failure> {
    use trtfx_backend_trt::engine::{convert_graph_into, functional_program, unsupported_nodes};
    let reg = converters();
    // As `convert_to_engine` does: in-place calls are made out of place first.
    let p = &*functional_program(p, reg);
    let bad = unsupported_nodes(p, p.main, reg);
    if let Some(first) = bad.first() {
        let ops: BTreeSet<&str> = bad.iter().map(|b| b.op.as_str()).collect();
        // A graph input or output (not an operator) is blamed with its reason (its dtype).
        let cause = if first.op.contains('.') {
            first.op.clone()
        } else {
            format!("{}: {}", first.op, first.reason)
        };
        return Err(Failure::new(
            cause,
            format!(
                "{} node(s) not convertible ({}): {first}",
                bad.len(),
                ops.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let mut net = trtfx_backend_trt::recorded::RecordedNetwork::new();
    convert_graph_into(p, p.main, reg, &mut net)
        .map_err(|e| Failure::from_message("conversion", format!("conversion failed: {e}")))?;
    Ok(())
}

fn converters() -> &'static trtfx_backend_trt::convert::ConverterRegistry {
    static REG: std::sync::OnceLock<trtfx_backend_trt::convert::ConverterRegistry> =
        std::sync::OnceLock::new();
    REG.get_or_init(trtfx_backend_trt::convert::ConverterRegistry::standard)
}

fn stage_compile_run(p: &Program, io: &crate::io::IoTensors) -> Result<(), Failure> {
    let settings = crate::CompileSettings {
        min_block_size: 1,
        build_plans: false,
        ..Default::default()
    };
    let compiled = crate::compile(p, &settings)
        .map_err(|e| Failure::from_message("compile", format!("compile: {e}")))?;
    // Through bytes, as users run it: the loader validates every recorded network.
    let bytes = compiled
        .to_bytes()
        .map_err(|e| Failure::from_message("artifact save", format!("save: {e}")))?;
    let compiled = crate::CompiledProgram::from_bytes(&bytes, std::path::Path::new("case.trtfx"))
        .map_err(|e| Failure::from_message("artifact load", format!("load: {e}")))?;
    let out = compiled
        .run(&io.inputs)
        .map_err(|e| Failure::from_message("artifact run", format!("run: {e}")))?;
    compare_goldens(&out.outputs, io)
}

// ------------------------------------------------------------------------------------------
// ratchet
// ------------------------------------------------------------------------------------------

/// One ratchet line: `case dialect stage`.
pub type RatchetKey = (String, Dialect, Stage);

/// The passing (case, dialect, stage) triples of `results`: what the ratchet holds.
pub fn passing(corpus: &Corpus, results: &[CaseResult]) -> BTreeSet<RatchetKey> {
    let mut set = BTreeSet::new();
    for r in results {
        for s in Stage::ALL {
            if r.passed(s) {
                set.insert((corpus.cases[r.case].id.clone(), r.dialect, s));
            }
        }
    }
    set
}

/// The ratchet file's text for a set of passing triples (sorted, one per line).
pub fn ratchet_text(keys: &BTreeSet<RatchetKey>) -> String {
    let mut s = String::from(
        "# Passing conformance case x dialect x stage (ir-opt conform --write-ratchet).\n\
         # CI fails when one of these stops passing; regenerate when more pass.\n",
    );
    for (id, d, st) in keys {
        let _ = writeln!(s, "{id} {} {}", d.name(), st.name());
    }
    s
}

/// Parses a ratchet file.
pub fn read_ratchet(path: &Path) -> Result<BTreeSet<RatchetKey>, ConformError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| err(&p, "reading the ratchet", e))?;
    let mut set = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let bad = || {
            err(
                &p,
                &format!("line {}", i + 1),
                "expected `CASE DIALECT STAGE`",
            )
        };
        let [id, d, s] = parts[..] else {
            return Err(bad());
        };
        let (Some(d), Some(s)) = (Dialect::parse(d), Stage::parse(s)) else {
            return Err(bad());
        };
        set.insert((id.to_string(), d, s));
    }
    Ok(set)
}

/// Ratchet entries (among the cases that ran) that no longer pass, with their failure.
pub fn ratchet_regressions(
    corpus: &Corpus,
    results: &[CaseResult],
    ratchet: &BTreeSet<RatchetKey>,
) -> Vec<(RatchetKey, String)> {
    let mut out = vec![];
    for r in results {
        let id = &corpus.cases[r.case].id;
        for s in Stage::ALL {
            let key = (id.clone(), r.dialect, s);
            if let Some(f) = &r.stages[s as usize] {
                if ratchet.contains(&key) {
                    out.push((key, f.message.clone()));
                }
            }
        }
    }
    out
}

/// Ratchet entries whose case is not in the corpus (the ratchet is stale).
pub fn ratchet_unknown(corpus: &Corpus, ratchet: &BTreeSet<RatchetKey>) -> Vec<String> {
    let ids: BTreeSet<&str> = corpus.cases.iter().map(|c| c.id.as_str()).collect();
    let mut out: Vec<String> = ratchet
        .iter()
        .filter(|(id, _, _)| !ids.contains(id.as_str()))
        .map(|(id, _, _)| id.clone())
        .collect();
    out.dedup();
    out
}

// ------------------------------------------------------------------------------------------
// summary and coverage report
// ------------------------------------------------------------------------------------------

/// Per dialect and stage: OpInfo entries whose every case passes, out of the entries.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Entries with at least one case.
    pub entries: usize,
    /// Cases.
    pub cases: usize,
    /// `[dialect][stage]` entries where every case passes.
    pub entries_passing: [[usize; 4]; 2],
    /// `[dialect][stage]` passing cases.
    pub cases_passing: [[usize; 4]; 2],
    /// `[dialect][stage]` cause -> failing cases, most frequent first.
    pub causes: [[Vec<(String, usize)>; 4]; 2],
}

/// Computes the [`Summary`] of a run.
pub fn summarize(corpus: &Corpus, results: &[CaseResult]) -> Summary {
    let mut s = Summary::default();
    let mut entry_ok: BTreeMap<(&str, usize, usize), bool> = BTreeMap::new();
    let mut causes: [[BTreeMap<String, usize>; 4]; 2] = Default::default();
    let mut cases = BTreeSet::new();
    for r in results {
        let entry = corpus.cases[r.case].entry.as_str();
        cases.insert(r.case);
        let d = r.dialect as usize;
        for st in Stage::ALL {
            let k = st as usize;
            let ok = r.passed(st);
            let e = entry_ok.entry((entry, d, k)).or_insert(true);
            *e &= ok;
            if ok {
                s.cases_passing[d][k] += 1;
            } else if let Some(f) = &r.stages[k] {
                *causes[d][k].entry(f.cause.clone()).or_default() += 1;
            }
        }
    }
    s.cases = cases.len();
    s.entries = entry_ok
        .keys()
        .map(|(e, _, _)| *e)
        .collect::<BTreeSet<_>>()
        .len();
    for ((_, d, k), ok) in entry_ok {
        if ok {
            s.entries_passing[d][k] += 1;
        }
    }
    for (dst, src) in s.causes.iter_mut().zip(causes) {
        for (slot, counts) in dst.iter_mut().zip(src) {
            let mut v: Vec<(String, usize)> = counts.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            *slot = v;
        }
    }
    s
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".to_string()
    } else {
        format!("{n}/{d} ({:.0}%)", 100.0 * n as f64 / d as f64)
    }
}

/// The summary as a short text table (what `ir-opt conform` prints).
pub fn summary_text(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} OpInfo entries, {} cases; entries where every case passes:",
        s.entries, s.cases
    );
    for st in Stage::ALL {
        let k = st as usize;
        let _ = writeln!(
            out,
            "  {:<12} export {:<16} core {:<16} (cases: export {}, core {})",
            st.name(),
            pct(s.entries_passing[0][k], s.entries),
            pct(s.entries_passing[1][k], s.entries),
            pct(s.cases_passing[0][k], s.cases),
            pct(s.cases_passing[1][k], s.cases),
        );
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `docs/coverage.md`: the summary, the top failure causes, per OpInfo entry and per operator
/// overload which stages pass, with the first failure's reason.
pub fn coverage_markdown(corpus: &Corpus, results: &[CaseResult]) -> String {
    let s = summarize(corpus, results);
    let mut out = String::new();
    let _ = writeln!(out, "# OpInfo conformance coverage\n");
    let _ = writeln!(
        out,
        "Generated by `ir-opt conform --write-coverage docs/coverage.md` from \
         `tests/conformance/corpus.tar.gz` (torch {}, `tests/conformance/gen.py`). Each case is one \
         OpInfo sample in one dtype, exported in both dialects; every stage runs on its own:\n",
        corpus.torch
    );
    let _ = writeln!(
        out,
        "- **check**: verifies, every node has inference, inferred types agree with PyTorch's;\n\
         - **run**: the CPU executor matches the exported program's outputs (rtol = atol = 1e-4; \
         integers and bools exactly);\n\
         - **engine**: the whole graph converts to a TensorRT network (recorded network);\n\
         - **compile-run**: `compile` with min-block-size 1, then the artifact (TensorRT segments on \
         the layer emulator) matches the outputs.\n"
    );
    let _ = writeln!(
        out,
        "Cases skipped by the generator, with reasons: `tests/conformance/skips.tsv`.\n"
    );
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(
        out,
        "{} OpInfo entries, {} cases. An entry passes a stage when all its cases pass it.\n",
        s.entries, s.cases
    );
    let _ = writeln!(
        out,
        "| stage | export: entries | core ATen: entries | export: cases | core ATen: cases |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for st in Stage::ALL {
        let k = st as usize;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            st.name(),
            pct(s.entries_passing[0][k], s.entries),
            pct(s.entries_passing[1][k], s.entries),
            pct(s.cases_passing[0][k], s.cases),
            pct(s.cases_passing[1][k], s.cases),
        );
    }
    let _ = writeln!(out, "\n## Top failure causes\n");
    let _ = writeln!(
        out,
        "Failing cases per cause (the operator the failure names, else the kind of failure).\n"
    );
    for st in Stage::ALL {
        let k = st as usize;
        for d in Dialect::ALL {
            let list = &s.causes[d as usize][k];
            if list.is_empty() {
                continue;
            }
            let top: Vec<String> = list
                .iter()
                .take(25)
                .map(|(c, n)| format!("`{}` {n}", md_escape(c)))
                .collect();
            let _ = writeln!(
                out,
                "- **{}, {}** ({} causes): {}",
                st.name(),
                d.name(),
                list.len(),
                top.join(", ")
            );
        }
    }

    // Per entry.
    let _ = writeln!(out, "\n## Per OpInfo entry\n");
    let _ = writeln!(
        out,
        "Passing cases / cases per stage (check, run, engine, compile-run); the first failure."
    );
    let _ = writeln!(
        out,
        "\n| entry | dtypes | export | core ATen | first failure |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    let mut by_entry: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        by_entry
            .entry(corpus.cases[r.case].entry.as_str())
            .or_default()
            .push(r);
    }
    for (entry, rs) in &by_entry {
        let dtypes: BTreeSet<&str> = rs
            .iter()
            .map(|r| corpus.cases[r.case].dtype.as_str())
            .collect();
        let mut cols = vec![];
        let mut first: Option<String> = None;
        for d in Dialect::ALL {
            let rd: Vec<&&CaseResult> = rs.iter().filter(|r| r.dialect == d).collect();
            let cells: Vec<String> = Stage::ALL
                .iter()
                .map(|&st| {
                    let ok = rd.iter().filter(|r| r.passed(st)).count();
                    if ok == rd.len() {
                        "✓".to_string()
                    } else {
                        format!("{ok}/{}", rd.len())
                    }
                })
                .collect();
            cols.push(cells.join(" "));
            if first.is_none() {
                for r in &rd {
                    if let Some((st, f)) = Stage::ALL
                        .iter()
                        .find_map(|&st| r.stages[st as usize].as_ref().map(|f| (st, f)))
                    {
                        first = Some(format!(
                            "{} {} {}: {}",
                            corpus.cases[r.case].id,
                            d.name(),
                            st.name(),
                            f.message
                        ));
                        break;
                    }
                }
            }
        }
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            entry,
            dtypes.into_iter().collect::<Vec<_>>().join(" "),
            cols[0],
            cols[1],
            md_escape(&first.unwrap_or_default())
        );
    }

    // Per overload.
    let _ = writeln!(out, "\n## Per operator overload\n");
    let _ = writeln!(
        out,
        "Per dialect: cases whose program calls the overload, and how many of them pass check / run \
         / engine / compile-run (a failure may come from another node of the same program); the \
         most frequent failure the overload itself is blamed for."
    );
    let _ = writeln!(
        out,
        "\n| overload | dialect | cases | check | run | engine | compile-run | blamed failure |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    type Row = ([usize; 4], usize, BTreeMap<String, usize>);
    let mut by_op: BTreeMap<(&str, Dialect), Row> = BTreeMap::new();
    for r in results {
        for o in &r.overloads {
            let row = by_op.entry((o.as_str(), r.dialect)).or_default();
            row.1 += 1;
            for st in Stage::ALL {
                match &r.stages[st as usize] {
                    None => row.0[st as usize] += 1,
                    Some(f) if &f.cause == o => {
                        *row.2
                            .entry(format!("{}: {}", st.name(), f.message))
                            .or_default() += 1;
                    }
                    Some(_) => {}
                }
            }
        }
    }
    for ((op, d), (ok, n, blamed)) in &by_op {
        let worst = blamed
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(m, c)| format!("{c}× {m}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{op}` | {} | {n} | {} | {} | {} | {} | {} |",
            d.name(),
            ok[0],
            ok[1],
            ok[2],
            ok[3],
            md_escape(&worst)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_entry(name: &str, data: &[u8]) -> Vec<u8> {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let size = format!("{:011o}\0", data.len());
        h[124..136].copy_from_slice(size.as_bytes());
        h[156] = b'0';
        let mut v = h.to_vec();
        v.extend_from_slice(data);
        v.resize(512 + data.len().div_ceil(512) * 512, 0);
        v
    }

    #[test]
    fn untar_reads_files_and_rejects_truncation() {
        let mut t = tar_entry("a/b.txt", b"hello");
        t.extend(tar_entry("c", &[7u8; 600]));
        t.extend([0u8; 1024]);
        let files = untar(&t).unwrap();
        assert_eq!(files["a/b.txt"], b"hello");
        assert_eq!(files["c"], vec![7u8; 600]);
        let cut = &t[..512 + 100];
        assert!(untar(cut).unwrap_err().contains("truncated"));
        assert!(untar(&t[..1024]).unwrap_err().contains("end-of-archive"));
    }

    #[test]
    fn op_names_are_found_in_messages() {
        assert_eq!(
            op_in("node `x` (aten.add.Tensor): no kernel").as_deref(),
            Some("aten.add.Tensor")
        );
        assert_eq!(
            op_in("aten.polygamma.default: not implemented.").as_deref(),
            Some("aten.polygamma.default")
        );
        assert_eq!(op_in("xaten.foo is not an op"), None);
        assert_eq!(op_in("nothing here"), None);
    }

    #[test]
    fn ratchet_round_trips() {
        let mut keys = BTreeSet::new();
        keys.insert(("abs.float32.0".to_string(), Dialect::Core, Stage::Run));
        keys.insert((
            "abs.int64.0".to_string(),
            Dialect::Export,
            Stage::CompileRun,
        ));
        let dir = std::env::temp_dir().join(format!("trtfx-ratchet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ratchet.txt");
        std::fs::write(&path, ratchet_text(&keys)).unwrap();
        assert_eq!(read_ratchet(&path).unwrap(), keys);
        std::fs::write(&path, "abs.float32.0 core\n").unwrap();
        let e = read_ratchet(&path).unwrap_err().to_string();
        assert!(e.contains("line 1: expected `CASE DIALECT STAGE`"), "{e}");
    }
}
