//! Saving and loading programs: `.json` (versioned, weights inline) or `.fxir` text with the
//! weights in a safetensors sidecar `<file>.weights.safetensors`. Nothing is lost either way:
//! every weight the program references is written, and loading checks that the sidecar holds
//! exactly the weights the text declares, with the declared dtypes and shapes.

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::path::{Path, PathBuf};
use trtfx_ir::{DType, Program, Weight};

/// Errors saving or loading a program.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// File system error.
    #[error("{path}: {source}")]
    Fs {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A `.pt2` import error (it names the archive itself).
    #[error(transparent)]
    Import(#[from] trtfx_frontend_fx::ImportError),
    /// Anything else, with the file it concerns.
    #[error("{path}: {msg}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        msg: String,
    },
}

fn invalid(path: &Path, msg: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        path: path.display().to_string(),
        msg: msg.into(),
    }
}

fn fs(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Fs {
        path: path.display().to_string(),
        source,
    }
}

/// The sidecar that holds the weights of `path` (`model.fxir` → `model.fxir.weights.safetensors`).
pub fn weights_sidecar(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".weights.safetensors");
    PathBuf::from(s)
}

fn st_dtype(d: DType) -> Option<Dtype> {
    Some(match d {
        DType::Bool => Dtype::BOOL,
        DType::U8 => Dtype::U8,
        DType::I8 => Dtype::I8,
        DType::I16 => Dtype::I16,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::U16 => Dtype::U16,
        DType::U32 => Dtype::U32,
        DType::U64 => Dtype::U64,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
        DType::F8E4M3FN => Dtype::F8_E4M3,
        DType::F8E5M2 => Dtype::F8_E5M2,
        DType::F8E8M0FNU => Dtype::F8_E8M0,
        _ => return None,
    })
}

/// Saves a program: JSON for `.json`, otherwise `.fxir` text plus a weights sidecar.
pub fn save_program(p: &Program, path: &Path) -> Result<(), StoreError> {
    if path.extension().and_then(|e| e.to_str()) == Some("json") {
        let s = p.to_json().map_err(|e| invalid(path, e.to_string()))?;
        return std::fs::write(path, s).map_err(|e| fs(path, e));
    }
    std::fs::write(path, trtfx_ir::text::print_program(p)).map_err(|e| fs(path, e))?;
    let side = weights_sidecar(path);
    let bytes = weights_to_safetensors(p, &side)?;
    std::fs::write(&side, bytes).map_err(|e| fs(&side, e))
}

/// Every weight of `p` as safetensors bytes; `origin` names the file in errors.
pub(crate) fn weights_to_safetensors(p: &Program, origin: &Path) -> Result<Vec<u8>, StoreError> {
    let mut data: Vec<(String, Vec<u8>, Dtype, Vec<usize>)> = Vec::new();
    for (name, w) in &p.weights {
        let dt = st_dtype(w.dtype).ok_or_else(|| {
            invalid(
                origin,
                format!(
                    "weight `{name}`: dtype {} cannot be stored in safetensors",
                    w.dtype
                ),
            )
        })?;
        let bytes = w
            .bytes()
            .map_err(|e| invalid(origin, format!("weight `{name}`: {e}")))?;
        let shape = w.shape.iter().map(|&d| d.max(0) as usize).collect();
        data.push((name.clone(), bytes.to_vec(), dt, shape));
    }
    let views = data
        .iter()
        .map(|(n, b, d, s)| {
            TensorView::new(*d, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| invalid(origin, format!("weight `{n}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::tensor::serialize(views, None).map_err(|e| invalid(origin, e.to_string()))
}

/// Weights from safetensors bytes written by [`weights_to_safetensors`]. The error is the
/// message alone: the caller knows the file (or archive member) to name.
pub(crate) fn weights_from_safetensors(
    bytes: &[u8],
) -> Result<indexmap::IndexMap<String, Weight>, String> {
    let st =
        SafeTensors::deserialize(bytes).map_err(|e| crate::io::safetensors_error(bytes, &e))?;
    let mut weights = indexmap::IndexMap::new();
    for (name, view) in st.tensors() {
        let dtype = trtfx_ir::DType::ALL
            .into_iter()
            .find(|d| st_dtype(*d) == Some(view.dtype()))
            .ok_or_else(|| format!("weight `{name}`: unsupported dtype {:?}", view.dtype()))?;
        let shape = view.shape().iter().map(|&d| d as i64).collect();
        weights.insert(name, Weight::from_bytes(dtype, shape, view.data().to_vec()));
    }
    Ok(weights)
}

/// Reads a whole file after checking its size against `max` (so an oversized file is
/// refused before it is read); `var` names the limit's environment variable.
pub(crate) fn read_limited(path: &Path, max: u64, var: &str) -> Result<Vec<u8>, StoreError> {
    let len = std::fs::metadata(path).map_err(|e| fs(path, e))?.len();
    if len > max {
        return Err(invalid(
            path,
            format!("file too large: {len} bytes, more than the limit of {max} ({var})"),
        ));
    }
    std::fs::read(path).map_err(|e| fs(path, e))
}

/// A `.fxir` parse error as `LINE:COL: message`, followed by the source excerpt.
pub(crate) fn parse_error(e: &trtfx_ir::ParseError) -> String {
    let excerpt = e.rendered().split_once('\n').map_or("", |(_, rest)| rest);
    format!("{}:{}: {}\n{excerpt}", e.line, e.column, e.message)
}

/// Loads a program saved by [`save_program`] (or a `.pt2` archive), with the limits of
/// [`trtfx_ir::Limits::from_env`]. Every format is validated
/// ([`trtfx_ir::validate_program`]): what this returns verifies structurally and stays within
/// the limits.
pub fn load_program(path: &Path) -> Result<Program, StoreError> {
    let limits = trtfx_ir::Limits::from_env().map_err(|e| invalid(path, e))?;
    load_program_with_limits(path, &limits)
}

/// [`load_program`] with explicit limits.
pub fn load_program_with_limits(
    path: &Path,
    limits: &trtfx_ir::Limits,
) -> Result<Program, StoreError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("pt2") => {
            let ar = trtfx_frontend_fx::Pt2Archive::open_with_limits(path, limits.clone())?;
            let opts = trtfx_frontend_fx::ImportOptions::standard();
            Ok(trtfx_frontend_fx::import_archive(std::sync::Arc::new(ar), &opts)?.program)
        }
        Some("json") => {
            let bytes = read_limited(path, limits.max_metadata_bytes, "TRTFX_MAX_METADATA_BYTES")?;
            let s = String::from_utf8(bytes).map_err(|_| invalid(path, "not UTF-8 text"))?;
            Program::from_json_with_limits(&s, limits).map_err(|e| invalid(path, e.to_string()))
        }
        _ => {
            let text = read_limited(path, limits.max_metadata_bytes, "TRTFX_MAX_METADATA_BYTES")?;
            let text = String::from_utf8(text).map_err(|_| invalid(path, "not UTF-8 text"))?;
            let side = weights_sidecar(path);
            let mut weights = indexmap::IndexMap::new();
            if side.exists() {
                let bytes = read_limited(&side, limits.max_total_bytes, "TRTFX_MAX_TOTAL_BYTES")?;
                weights = weights_from_safetensors(&bytes).map_err(|e| invalid(&side, e))?;
            }
            let p = trtfx_ir::text::parse_program_with_weights(&text, weights)
                .map_err(|e| invalid(path, parse_error(&e)))?;
            trtfx_ir::validate_program(&p, limits).map_err(|e| invalid(path, e))?;
            Ok(p)
        }
    }
}
