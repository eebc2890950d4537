//! Rebuilding tensors from raw payload bytes (spec §1.4).
//!
//! A raw payload file is the tensor's whole *untyped storage*; the payload config's `TensorMeta`
//! says how to view it (`as_strided(sizes, strides, storage_offset)`, all in elements). The
//! output is always a contiguous little-endian copy, which is what the IR weights store and
//! TensorRT want.

use crate::schema::{ScalarType, SymInt, TensorMeta};

/// How a tensor views its storage; all quantities in elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewSpec {
    /// Element type.
    pub dtype: ScalarType,
    /// Sizes.
    pub sizes: Vec<i64>,
    /// Strides.
    pub strides: Vec<i64>,
    /// Offset of element 0 in the storage.
    pub storage_offset: i64,
}

impl ViewSpec {
    /// Builds a view from a payload `TensorMeta`; sizes/strides must be constants (they always
    /// are for stored tensors).
    pub fn from_meta(meta: &TensorMeta<'_>) -> Result<Self, String> {
        fn ints(v: &[SymInt<'_>], what: &str) -> Result<Vec<i64>, String> {
            v.iter()
                .map(|s| match s {
                    SymInt::Int(i) => Ok(*i),
                    SymInt::Expr(e) => Err(format!(
                        "symbolic {what} `{}` in a stored tensor",
                        e.expr_str
                    )),
                })
                .collect()
        }
        let sizes = ints(&meta.sizes, "size")?;
        let mut strides = ints(&meta.strides, "stride")?;
        if strides.is_empty() && !sizes.is_empty() {
            // Older writers may leave strides out: assume contiguous.
            strides = contiguous_strides(&sizes);
        }
        let storage_offset = match &meta.storage_offset {
            SymInt::Int(i) => *i,
            SymInt::Expr(e) => return Err(format!("symbolic storage offset `{}`", e.expr_str)),
        };
        Ok(ViewSpec {
            dtype: meta.dtype,
            sizes,
            strides,
            storage_offset,
        })
    }

    /// Bytes of storage the view reads (up to and including its highest element), or why the
    /// view is malformed: what [`materialize`] needs, computed from the metadata alone so that
    /// a truncated payload is refused when the archive is opened, not when the tensor is used.
    pub fn required_bytes(&self) -> Result<u64, String> {
        let elem = self
            .dtype
            .size_bytes()
            .ok_or_else(|| format!("dtype {:?} has no storage size", self.dtype))?;
        if self.sizes.len() != self.strides.len() {
            return Err(format!(
                "{} sizes but {} strides",
                self.sizes.len(),
                self.strides.len()
            ));
        }
        if self.numel()? == 0 {
            return Ok(0);
        }
        if self.storage_offset < 0 {
            return Err(format!("negative storage offset {}", self.storage_offset));
        }
        let mut last: i128 = self.storage_offset as i128;
        for (&sz, &st) in self.sizes.iter().zip(&self.strides) {
            if st < 0 {
                return Err(format!("negative stride {st}"));
            }
            last += (sz as i128 - 1) * st as i128;
        }
        u64::try_from((last + 1) * elem as i128).map_err(|_| "byte size overflows".to_string())
    }

    /// Number of elements, or an error on negative sizes / overflow.
    pub fn numel(&self) -> Result<usize, String> {
        let mut n: usize = 1;
        for &s in &self.sizes {
            let s = usize::try_from(s).map_err(|_| format!("negative size {s}"))?;
            n = n.checked_mul(s).ok_or("element count overflows")?;
        }
        Ok(n)
    }
}

/// Row-major strides for `sizes`.
pub fn contiguous_strides(sizes: &[i64]) -> Vec<i64> {
    let mut st = vec![1i64; sizes.len()];
    for i in (0..sizes.len().saturating_sub(1)).rev() {
        st[i] = st[i + 1].saturating_mul(sizes[i + 1].max(1));
    }
    st
}

/// A materialised tensor: contiguous, little-endian.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorData {
    /// Element type.
    pub dtype: ScalarType,
    /// Shape.
    pub shape: Vec<i64>,
    /// `numel * elem_size` bytes, row-major, little-endian.
    pub bytes: Vec<u8>,
}

/// Applies `view` to the raw `storage` bytes. `big_endian` is the archive's `byteorder`.
///
/// Errors are plain reasons; the caller adds the archive path and FQN.
pub fn materialize(
    storage: &[u8],
    view: &ViewSpec,
    big_endian: bool,
) -> Result<TensorData, String> {
    let elem = view
        .dtype
        .size_bytes()
        .ok_or_else(|| format!("dtype {:?} has no storage size", view.dtype))?;
    if view.sizes.len() != view.strides.len() {
        return Err(format!(
            "{} sizes but {} strides",
            view.sizes.len(),
            view.strides.len()
        ));
    }
    let numel = view.numel()?;
    let out_len = numel.checked_mul(elem).ok_or("byte size overflows")?;
    if numel == 0 {
        return Ok(TensorData {
            dtype: view.dtype,
            shape: view.sizes.clone(),
            bytes: Vec::new(),
        });
    }
    if view.storage_offset < 0 {
        return Err(format!("negative storage offset {}", view.storage_offset));
    }
    let storage_elems = (storage.len() / elem) as i128;
    // Highest element touched; strides may be 0 (expand) but never negative in torch.
    let mut last: i128 = view.storage_offset as i128;
    for (&sz, &st) in view.sizes.iter().zip(&view.strides) {
        if st < 0 {
            return Err(format!("negative stride {st}"));
        }
        last += (sz as i128 - 1) * st as i128;
    }
    if last >= storage_elems {
        return Err(format!(
            "view out of bounds: needs element {last} (offset {}, sizes {:?}, strides {:?}) but the storage has {} bytes = {storage_elems} elements of {elem} bytes",
            view.storage_offset, view.sizes, view.strides, storage.len()
        ));
    }
    let mut bytes = Vec::with_capacity(out_len);
    let contiguous = contiguous_strides(&view.sizes);
    let is_contig = view
        .sizes
        .iter()
        .zip(view.strides.iter().zip(&contiguous))
        .all(|(&sz, (&a, &b))| sz == 1 || a == b);
    let off = view.storage_offset as usize * elem;
    if is_contig {
        bytes.extend_from_slice(&storage[off..off + out_len]);
    } else {
        // Odometer over the index space; innermost dimension copied element by element.
        let nd = view.sizes.len();
        let mut idx = vec![0i64; nd];
        for _ in 0..numel {
            let e: i64 = view.storage_offset
                + idx
                    .iter()
                    .zip(&view.strides)
                    .map(|(i, s)| i * s)
                    .sum::<i64>();
            let p = e as usize * elem;
            bytes.extend_from_slice(&storage[p..p + elem]);
            for d in (0..nd).rev() {
                idx[d] += 1;
                if idx[d] < view.sizes[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
    if big_endian {
        let unit = view.dtype.swap_unit();
        if unit > 1 {
            for chunk in bytes.chunks_exact_mut(unit) {
                chunk.reverse();
            }
        }
    }
    Ok(TensorData {
        dtype: view.dtype,
        shape: view.sizes.clone(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    fn as_f32(b: &[u8]) -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }
    fn view(sizes: &[i64], strides: &[i64], off: i64) -> ViewSpec {
        ViewSpec {
            dtype: ScalarType::Float,
            sizes: sizes.to_vec(),
            strides: strides.to_vec(),
            storage_offset: off,
        }
    }

    #[test]
    fn offset_and_transpose() {
        let storage = f32s(&(0..12).map(|i| i as f32).collect::<Vec<_>>());
        let t = materialize(&storage, &view(&[4], &[1], 2), false).unwrap();
        assert_eq!(as_f32(&t.bytes), [2.0, 3.0, 4.0, 5.0]);
        let t = materialize(&storage, &view(&[4, 3], &[1, 4], 0), false).unwrap();
        assert_eq!(
            as_f32(&t.bytes),
            [0.0, 4.0, 8.0, 1.0, 5.0, 9.0, 2.0, 6.0, 10.0, 3.0, 7.0, 11.0]
        );
        let t = materialize(&storage, &view(&[2, 2], &[0, 1], 10), false).unwrap();
        assert_eq!(as_f32(&t.bytes), [10.0, 11.0, 10.0, 11.0]);
        let t = materialize(&storage, &view(&[], &[], 7), false).unwrap();
        assert_eq!(as_f32(&t.bytes), [7.0]);
    }

    #[test]
    fn bounds_and_empty() {
        let storage = f32s(&[1.0; 12]);
        let e = materialize(&storage, &view(&[4], &[1], 9), false).unwrap_err();
        assert!(e.contains("out of bounds"), "{e}");
        assert!(materialize(&storage, &view(&[4], &[1], -1), false).is_err());
        assert!(materialize(&storage, &view(&[4], &[-1], 4), false).is_err());
        assert!(materialize(&storage, &view(&[4, 3], &[1], 0), false).is_err());
        let t = materialize(&[], &view(&[0, 3], &[3, 1], 0), false).unwrap();
        assert!(t.bytes.is_empty());
        assert_eq!(t.shape, [0, 3]);
        assert!(materialize(&[], &view(&[1], &[1], 0), false).is_err());
    }

    #[test]
    fn big_endian_swap() {
        let storage: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|x| x.to_be_bytes()).collect();
        let t = materialize(&storage, &view(&[2], &[1], 0), true).unwrap();
        assert_eq!(as_f32(&t.bytes), [1.0, 2.0]);
        // complex64: each f32 half is swapped on its own.
        let storage: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|x| x.to_be_bytes()).collect();
        let v = ViewSpec {
            dtype: ScalarType::ComplexFloat,
            sizes: vec![1],
            strides: vec![1],
            storage_offset: 0,
        };
        let t = materialize(&storage, &v, true).unwrap();
        assert_eq!(as_f32(&t.bytes), [1.0, 2.0]);
    }
}
