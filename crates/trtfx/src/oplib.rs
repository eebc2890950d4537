//! Op libraries from files: a custom operator's schema and body, as a `.pt2` exported from
//! its Python reference implementation or as `.fxir` text (see `docs/custom-ops.md`).
//!
//! - **`.fxir`**: the canonical form of [`OpLibrary`]: one graph per operator, named by the
//!   operator's schema string, one placeholder per schema argument.
//! - **`.pt2`**: `torch.export` of a tiny module whose `forward` calls the reference
//!   implementation, saved with the operator's schema in the archive's extra file
//!   `trtfx_op_schema` (member `extra/trtfx_op_schema`; `torch.export.save(ep, path,
//!   extra_files={"trtfx_op_schema": schema})`). The op's name comes from that schema, never
//!   from the file name. The module takes the schema's arguments in order (keyword-only ones
//!   positionally), scalar arguments as 0-d tensors (`torch.export` bakes Python floats into
//!   the graph); when the body is inlined the call's scalar takes the 0-d tensor's place, as
//!   the Python number does in the reference.
//!
//! [`OpLibraries::registry`] gives the op table with every library operator's body as its
//! decomposition, which inference, the executor ([`trtfx_exec::interp::Executor::set_ops`])
//! and the TensorRT converters ([`trtfx_backend_trt::convert::ConverterRegistry::with_ops`])
//! use; [`crate::compile_with_libraries`] compiles with them and embeds those the program
//! uses in the artifact.

use std::path::Path;
use std::sync::Arc;

use trtfx_frontend_fx::archive::Pt2Archive;
use trtfx_frontend_fx::convert::{import_archive, ImportOptions};
use trtfx_ir::ops::library::scalar_placeholder_type;
pub use trtfx_ir::ops::{LibraryError, LibraryOp, OpLibraries, OpLibrary};
use trtfx_ir::{InputKind, Op, OpRegistry, Program, Type};

/// The extra file of a `.pt2` library that holds the operator's schema (the archive member is
/// `extra/trtfx_op_schema`).
pub const SCHEMA_EXTRA_FILE: &str = "trtfx_op_schema";

/// Loads one library: `.pt2` or `.fxir` by extension, under the resource limits of
/// [`trtfx_ir::Limits::from_env`] (a `.fxir` library is metadata: `TRTFX_MAX_METADATA_BYTES`).
pub fn load_library(path: &Path) -> Result<OpLibrary, LibraryError> {
    let origin = path.display().to_string();
    let err = |m: String| LibraryError::new(&origin, m);
    let limits = trtfx_ir::Limits::from_env().map_err(err)?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("pt2") => library_from_pt2(path),
        Some("fxir") => {
            let len = std::fs::metadata(path)
                .map_err(|e| err(e.to_string()))?
                .len();
            if len > limits.max_metadata_bytes {
                return Err(err(format!(
                    "file too large: {len} bytes, more than the limit of {} \
                     (TRTFX_MAX_METADATA_BYTES)",
                    limits.max_metadata_bytes
                )));
            }
            let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| LibraryError::new(&origin, "not UTF-8 text"))?;
            OpLibrary::parse(&text, &origin)
        }
        _ => Err(LibraryError::new(
            &origin,
            "unknown file type: an op library is a .pt2 (exported reference) or .fxir file",
        )),
    }
}

/// Loads several libraries into one set (an operator defined twice, differently, is an
/// error), checking that they register (bodies call known operators, no recursion).
pub fn load_libraries(paths: &[impl AsRef<Path>]) -> Result<OpLibraries, LibraryError> {
    let mut libs = OpLibraries::new();
    for p in paths {
        libs.add(load_library(p.as_ref())?)?;
    }
    libs.registry()?;
    Ok(libs)
}

/// A library from a `.pt2` exported from an operator's reference implementation (see the
/// module docs).
pub fn library_from_pt2(path: &Path) -> Result<OpLibrary, LibraryError> {
    let origin = path.display().to_string();
    let err = |m: String| LibraryError::new(&origin, m);
    let limits = trtfx_ir::Limits::from_env().map_err(err)?;
    let archive = Pt2Archive::open_with_limits(path, limits)
        .map_err(|e| err(strip_origin(&e.to_string(), &origin)))?;
    let member = format!("extra/{SCHEMA_EXTRA_FILE}");
    let schema = match archive.member(&member) {
        Some(_) => archive
            .read_record(&member)
            .map_err(|e| err(strip_origin(&e.to_string(), &origin)))?,
        None => {
            return Err(err(format!(
                "the archive has no `{member}` (the operator's schema): save the exported \
                 reference with torch.export.save(ep, path, extra_files={{\"{SCHEMA_EXTRA_FILE}\": \
                 str(op._opoverload._schema)}}) (docs/custom-ops.md)"
            )))
        }
    };
    let schema = std::str::from_utf8(&schema)
        .map_err(|_| err(format!("`{member}` is not UTF-8 text")))?
        .trim()
        .to_string();
    let parsed = trtfx_ir::aten::parse_schema(&schema)
        .map_err(|e| err(format!("`{member}` is not an operator schema: {e}")))?;
    let imported = import_archive(Arc::new(archive), &ImportOptions::standard())
        .map_err(|e| err(strip_origin(&e.to_string(), &origin)))?;
    let mut p = imported.program;
    if p.graphs.len() != 1 {
        return Err(err(
            "the reference exports to more than one graph (control flow): a body is one graph"
                .into(),
        ));
    }
    for (i, kind) in p.signature.inputs.iter().enumerate() {
        if !matches!(kind, InputKind::User { .. }) {
            return Err(err(format!(
                "input {i} of the exported reference is {kind:?}: a body may only read the \
                 operator's arguments (no parameters, buffers or tensor constants)"
            )));
        }
    }
    let main = p.main;
    let g = &mut p.graphs[main];
    let phs = g.placeholders();
    if phs.len() != parsed.schema.args.len() {
        return Err(err(format!(
            "the exported reference takes {} input(s), the schema `{schema}` has {} argument(s) \
             (the module's forward takes them all, in schema order)",
            phs.len(),
            parsed.schema.args.len()
        )));
    }
    for (&n, a) in phs.iter().zip(&parsed.schema.args) {
        let v = g.node(n).results[0];
        // `forward(self, *args)` names them `args_0`, ...: use the schema's names, unless
        // another value of the body already has one.
        if !g.value_ids().any(|w| g.value(w).name == a.name) {
            g.set_value_name(v, a.name.clone());
            g.set_node_name(n, a.name.clone());
        }
        let Some(scalar) = scalar_placeholder_type(&a.ty) else {
            continue;
        };
        match g.ty(v) {
            Type::Tensor(t) if t.shape.is_empty() => g.set_ty(v, scalar),
            other => {
                return Err(err(format!(
                    "scalar argument `{}` was exported as {other}: pass scalar arguments to the \
                     exported module as 0-d tensors (torch.tensor(value)); torch.export bakes \
                     Python numbers into the graph",
                    a.name
                )))
            }
        }
    }
    if g.nodes()
        .any(|n| matches!(g.node(n).op, Op::GetAttr { .. }))
    {
        return Err(err(
            "the exported reference reads weights: a body may only read the operator's \
             arguments"
                .into(),
        ));
    }
    g.name = schema;
    p.signature = Default::default();
    p.input_specs.clear();
    p.weights.clear();
    p.meta = Default::default();
    OpLibrary::from_program(p, &origin)
}

/// Import errors start with the archive's name; the library error adds it again.
fn strip_origin(msg: &str, origin: &str) -> String {
    msg.strip_prefix(origin)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(msg)
        .to_string()
}

/// The calls of `p` whose operator `reg` does not know (custom operators with neither a
/// library nor a registration), as `(graph, node, operator)`, in program order.
pub fn unresolved_custom_ops(p: &Program, reg: &OpRegistry) -> Vec<(String, String, String)> {
    unresolved_custom_ops_except(p, reg, &[])
}

/// [`unresolved_custom_ops`] outside the graphs named in `skip` (say the TensorRT segments of
/// a compiled program, which run their recorded networks, not their calls).
pub fn unresolved_custom_ops_except(
    p: &Program,
    reg: &OpRegistry,
    skip: &[&str],
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for g in p
        .graphs
        .values()
        .filter(|g| !skip.contains(&g.name.as_str()))
    {
        for n in g.nodes() {
            let node = g.node(n);
            if let Some(t) = node.op.target() {
                if !t.starts_with("higher_order.") && reg.get(t).is_none() {
                    out.push((g.name.clone(), node.name.clone(), t.to_string()));
                }
            }
        }
    }
    out
}

/// The one-line error for a program (read from `origin`) that calls a custom operator
/// `reg` does not know, naming the first such operator and how to supply it; `None` when
/// every operator is known.
pub fn missing_library_error(origin: &str, p: &Program, reg: &OpRegistry) -> Option<String> {
    missing_error(origin, unresolved_custom_ops(p, reg))
}

/// [`missing_library_error`] for a compiled program: calls inside its TensorRT segments are
/// not run by the executor (their networks are), so only the rest needs implementations.
pub fn missing_library_error_compiled(origin: &str, c: &crate::CompiledProgram) -> Option<String> {
    let trt: Vec<&str> = c.trt_segments().map(|(s, _)| s.graph.as_str()).collect();
    missing_error(
        origin,
        unresolved_custom_ops_except(&c.program, c.ops(), &trt),
    )
}

fn missing_error(origin: &str, missing: Vec<(String, String, String)>) -> Option<String> {
    let (_, node, op) = missing.first()?;
    let more = missing.iter().filter(|m| &m.2 != op).count();
    let others = if more > 0 {
        format!(" ({more} call(s) of other unknown operators too)")
    } else {
        String::new()
    };
    Some(format!(
        "{origin}: custom operator `{op}` (node `{node}`) has no implementation{others}: pass \
         the op library that defines it with --op-library FILE (a .pt2 exported from its \
         reference or a .fxir body; see docs/custom-ops.md)"
    ))
}
