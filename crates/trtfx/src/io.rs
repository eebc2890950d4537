//! Input/output files: safetensors with tensors named `in_0..` (user inputs in signature order)
//! and `out_0..` (user outputs in order), and the comparison of outputs against goldens.

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::path::Path;
use trtfx_exec::{DType, Tensor};

/// Errors reading or writing IO files.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// File system error.
    #[error("{path}: {source}")]
    Fs {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Not a valid safetensors file.
    #[error("{path}: not a valid safetensors file: {msg}")]
    Format {
        /// The file.
        path: String,
        /// What was wrong.
        msg: String,
    },
    /// A tensor dtype the executor does not handle.
    #[error("{path}: tensor `{name}` has dtype {dtype}, which trtfx cannot run")]
    DType {
        /// The file.
        path: String,
        /// Tensor name.
        name: String,
        /// Its dtype.
        dtype: String,
    },
}

fn exec_dtype(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::BOOL => DType::Bool,
        Dtype::U8 => DType::U8,
        Dtype::U16 => DType::U16,
        Dtype::U32 => DType::U32,
        Dtype::U64 => DType::U64,
        Dtype::I8 => DType::I8,
        Dtype::I16 => DType::I16,
        Dtype::I32 => DType::I32,
        Dtype::I64 => DType::I64,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        _ => return None,
    })
}

/// The safetensors dtype of `d`; `None` for complex, which safetensors cannot store.
fn st_dtype(d: DType) -> Option<Dtype> {
    Some(match d {
        DType::Bool => Dtype::BOOL,
        DType::U8 => Dtype::U8,
        DType::U16 => Dtype::U16,
        DType::U32 => Dtype::U32,
        DType::U64 => Dtype::U64,
        DType::I8 => Dtype::I8,
        DType::I16 => Dtype::I16,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
        DType::C64 | DType::C128 => return None,
    })
}

/// The tensors of an IO file split into inputs (`in_N`) and outputs (`out_N`), each in index
/// order. Other names are ignored.
#[derive(Debug, Default, Clone)]
pub struct IoTensors {
    /// `in_0, in_1, ...`
    pub inputs: Vec<Tensor>,
    /// `out_0, out_1, ...`
    pub outputs: Vec<Tensor>,
}

/// A safetensors reading error in words that say what is wrong. The library's own message for a
/// bad tensor entry ("invalid shape, data type, or offset for tensor") names no tensor, so the
/// header is read again here to find the first entry that does not fit and say why.
pub(crate) fn safetensors_error(bytes: &[u8], e: &safetensors::SafeTensorError) -> String {
    use safetensors::SafeTensorError as E;
    match e {
        E::TensorInvalidInfo | E::InvalidOffset(_) | E::MetadataIncompleteBuffer => {
            diagnose_entries(bytes).unwrap_or_else(|| e.to_string())
        }
        E::HeaderTooSmall | E::InvalidHeaderLength => format!(
            "not a safetensors file: {} bytes do not hold the 8-byte header length and the header it announces",
            bytes.len()
        ),
        other => other.to_string(),
    }
}

/// The first tensor entry of a safetensors header whose offsets do not match its dtype and
/// shape or leave the data, in `tensor `NAME`: ...` form; `None` if none is found.
fn diagnose_entries(bytes: &[u8]) -> Option<String> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let header = bytes.get(8..8usize.checked_add(usize::try_from(n).ok()?)?)?;
    let data_len = (bytes.len() - 8 - header.len()) as u64;
    let json: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(header).ok()?;
    let mut entries: Vec<(&String, &serde_json::Value)> = json
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .collect();
    entries.sort_by_key(|(_, v)| v["data_offsets"][0].as_u64());
    let mut covered = 0u64;
    for (name, v) in entries {
        let dtype = v["dtype"].as_str().unwrap_or("?");
        let bits: u64 = match dtype {
            "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => 8,
            "I16" | "U16" | "F16" | "BF16" => 16,
            "I32" | "U32" | "F32" => 32,
            "I64" | "U64" | "F64" => 64,
            _ => return Some(format!("tensor `{name}`: unknown dtype `{dtype}`")),
        };
        let shape: Option<Vec<u64>> = v["shape"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_u64()).collect());
        let (Some(shape), Some(offs)) = (shape, v["data_offsets"].as_array()) else {
            return Some(format!("tensor `{name}`: no `shape` or `data_offsets`"));
        };
        let (Some(start), Some(end)) = (
            offs.first().and_then(|o| o.as_u64()),
            offs.get(1).and_then(|o| o.as_u64()),
        ) else {
            return Some(format!(
                "tensor `{name}`: `data_offsets` is not two integers"
            ));
        };
        let Some(want) = shape
            .iter()
            .try_fold(bits, |acc, &d| acc.checked_mul(d))
            .map(|b| b.div_ceil(8))
        else {
            return Some(format!("tensor `{name}`: shape {shape:?} overflows"));
        };
        if start != covered {
            return Some(format!(
                "tensor `{name}`: data starts at byte {start}, but the previous tensor ends at {covered} (tensors must be packed)"
            ));
        }
        if end < start || end - start != want {
            return Some(format!(
                "tensor `{name}`: {dtype} {shape:?} needs {want} bytes, but its data_offsets [{start}, {end}] give {}",
                end as i128 - start as i128
            ));
        }
        if end > data_len {
            return Some(format!(
                "tensor `{name}`: data_offsets [{start}, {end}] go past the {data_len} bytes of data (truncated file?)"
            ));
        }
        covered = end;
    }
    (covered != data_len).then(|| {
        format!("the tensors cover {covered} of the {data_len} data bytes (trailing bytes)")
    })
}

/// Reads an IO safetensors file.
pub fn read_io(path: &Path) -> Result<IoTensors, IoError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| IoError::Fs {
        path: p.clone(),
        source,
    })?;
    read_io_bytes(&bytes, &p)
}

/// Reads IO tensors from safetensors bytes; `origin` names the source in errors.
pub fn read_io_bytes(bytes: &[u8], origin: &str) -> Result<IoTensors, IoError> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| IoError::Format {
        path: origin.to_string(),
        msg: safetensors_error(bytes, &e),
    })?;
    let mut ins: Vec<(usize, Tensor)> = Vec::new();
    let mut outs: Vec<(usize, Tensor)> = Vec::new();
    for (name, view) in st.tensors() {
        let (list, idx) = if let Some(i) = name.strip_prefix("in_") {
            (&mut ins, i)
        } else if let Some(i) = name.strip_prefix("out_") {
            (&mut outs, i)
        } else {
            continue;
        };
        let Ok(idx) = idx.parse::<usize>() else {
            continue;
        };
        list.push((idx, to_tensor(&view, &name, origin)?));
    }
    ins.sort_by_key(|(i, _)| *i);
    outs.sort_by_key(|(i, _)| *i);
    for (list, prefix) in [(&ins, "in_"), (&outs, "out_")] {
        for (k, (i, _)) in list.iter().enumerate() {
            if *i != k {
                return Err(IoError::Format {
                    path: origin.to_string(),
                    msg: format!("tensor `{prefix}{k}` is missing (found `{prefix}{i}`)"),
                });
            }
        }
    }
    Ok(IoTensors {
        inputs: ins.into_iter().map(|(_, t)| t).collect(),
        outputs: outs.into_iter().map(|(_, t)| t).collect(),
    })
}

fn to_tensor(view: &TensorView<'_>, name: &str, origin: &str) -> Result<Tensor, IoError> {
    let dt = exec_dtype(view.dtype()).ok_or_else(|| IoError::DType {
        path: origin.to_string(),
        name: name.to_string(),
        dtype: format!("{:?}", view.dtype()),
    })?;
    Tensor::from_le_bytes(view.data(), dt, view.shape().to_vec()).map_err(|e| IoError::Format {
        path: origin.to_string(),
        msg: format!("tensor `{name}`: {e}"),
    })
}

/// Writes tensors as `out_0..` (or any prefix) to a safetensors file.
pub fn write_tensors(path: &Path, prefix: &str, tensors: &[Tensor]) -> Result<(), IoError> {
    let p = path.display().to_string();
    let data: Vec<(String, Vec<u8>, Dtype, Vec<usize>)> = tensors
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let name = format!("{prefix}{i}");
            let dt = st_dtype(t.dtype()).ok_or_else(|| IoError::DType {
                path: p.clone(),
                name: name.clone(),
                dtype: format!("{} (safetensors has no complex dtype)", t.dtype()),
            })?;
            Ok((name, t.to_le_bytes(), dt, t.shape().to_vec()))
        })
        .collect::<Result<_, IoError>>()?;
    let views = data
        .iter()
        .map(|(n, b, d, s)| {
            TensorView::new(*d, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| IoError::Format {
                    path: p.clone(),
                    msg: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::tensor::serialize_to_file(views, None, path).map_err(|e| IoError::Format {
        path: p,
        msg: e.to_string(),
    })
}

/// How one output compares with its golden.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Output index.
    pub index: usize,
    /// Largest absolute difference (0 for exact integer/bool equality).
    pub max_abs: f64,
    /// Largest relative difference `|a-b| / |b|` over elements with `b != 0`.
    pub max_rel: f64,
    /// Whether the output is within tolerance (exact for integers and bools).
    pub ok: bool,
    /// A reason when it is not (shape or dtype mismatch, first failing element).
    pub detail: Option<String>,
}

/// Compares `got` with `expected` like `torch.allclose(got, expected, rtol, atol)` for floats
/// (NaN equals NaN), exactly for integers and bools; shapes and dtypes must match.
pub fn compare(index: usize, got: &Tensor, expected: &Tensor, rtol: f64, atol: f64) -> Comparison {
    let mut c = Comparison {
        index,
        max_abs: 0.0,
        max_rel: 0.0,
        ok: true,
        detail: None,
    };
    if got.shape() != expected.shape() {
        c.ok = false;
        c.detail = Some(format!(
            "shape {:?}, expected {:?}",
            got.shape(),
            expected.shape()
        ));
        return c;
    }
    if got.dtype() != expected.dtype() {
        c.ok = false;
        c.detail = Some(format!(
            "dtype {}, expected {}",
            got.dtype().name(),
            expected.dtype().name()
        ));
        return c;
    }
    let exact = !expected.dtype().is_float();
    let (a, b) = (got.to_f64_vec(), expected.to_f64_vec());
    let (ai, bi) = if exact && expected.dtype() == DType::I64 {
        (got.to_i64_vec(), expected.to_i64_vec())
    } else {
        (vec![], vec![])
    };
    for (k, (&x, &y)) in a.iter().zip(&b).enumerate() {
        let both_nan = x.is_nan() && y.is_nan();
        let d = if both_nan || x == y {
            0.0
        } else {
            (x - y).abs()
        };
        let d = if d.is_nan() { f64::INFINITY } else { d };
        c.max_abs = c.max_abs.max(d);
        if y != 0.0 && !both_nan {
            c.max_rel = c.max_rel.max(d / y.abs());
        }
        // i64 values beyond 2^53 are compared exactly on their integer form.
        let bad = if exact {
            if ai.is_empty() {
                d != 0.0
            } else {
                ai[k] != bi[k]
            }
        } else {
            d > atol + rtol * y.abs()
        };
        if bad && c.ok {
            c.ok = false;
            c.detail = Some(format!("element {k}: got {x}, expected {y}"));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_rules() {
        let a = Tensor::from_vec(vec![1.0f32, 2.0, f32::NAN], vec![3]).unwrap();
        let b = Tensor::from_vec(vec![1.0f32, 2.00001, f32::NAN], vec![3]).unwrap();
        assert!(compare(0, &a, &b, 1e-4, 1e-5).ok);
        let c = Tensor::from_vec(vec![1.0f32, 2.1, f32::NAN], vec![3]).unwrap();
        let r = compare(0, &a, &c, 1e-4, 1e-5);
        assert!(!r.ok);
        assert!(r.detail.unwrap().contains("element 1"));
        let i = Tensor::from_vec(vec![1i64, 2], vec![2]).unwrap();
        let j = Tensor::from_vec(vec![1i64, 3], vec![2]).unwrap();
        assert!(!compare(0, &i, &j, 1.0, 1.0).ok, "integers compare exactly");
        let k = Tensor::from_vec(vec![1i64, 2], vec![1, 2]).unwrap();
        assert!(!compare(0, &i, &k, 1.0, 1.0).ok, "shapes must match");
    }

    #[test]
    fn write_then_read() {
        let dir = std::env::temp_dir().join(format!("trtfx-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.safetensors");
        let t = Tensor::from_vec(vec![1i64, -2, 3], vec![3]).unwrap();
        write_tensors(&path, "out_", std::slice::from_ref(&t)).unwrap();
        let io = read_io(&path).unwrap();
        assert_eq!(io.outputs, vec![t]);
        assert!(read_io_bytes(b"garbage", "mem").is_err());
    }

    #[test]
    fn reads_wide_unsigned_tensors() {
        // PyTorch writes uint16/32/64 samples as U16/U32/U64; values past the signed range of
        // the same width must survive (65535 is -1 as an i16).
        let a: Vec<u8> = [7u16, 65535].iter().flat_map(|v| v.to_le_bytes()).collect();
        let b: Vec<u8> = [4_000_000_000u32]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let c: Vec<u8> = [u64::MAX].iter().flat_map(|v| v.to_le_bytes()).collect();
        let views = [
            ("in_0", TensorView::new(Dtype::U16, vec![2], &a).unwrap()),
            ("in_1", TensorView::new(Dtype::U32, vec![1], &b).unwrap()),
            ("out_0", TensorView::new(Dtype::U64, vec![1], &c).unwrap()),
        ];
        let bytes = safetensors::tensor::serialize(views, None).unwrap();
        let io = read_io_bytes(&bytes, "mem").unwrap();
        assert_eq!(io.inputs[0].dtype(), DType::U16);
        assert_eq!(io.inputs[0].to_f64_vec(), vec![7.0, 65535.0]);
        assert_eq!(io.inputs[1].dtype(), DType::U32);
        assert_eq!(io.inputs[1].to_f64_vec(), vec![4e9]);
        assert_eq!(io.outputs[0].dtype(), DType::U64);
        assert_eq!(io.outputs[0].to_le_bytes(), c);
    }
}
