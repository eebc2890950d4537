//! The CPU [`Tensor`]: a dtype, a shape and contiguous row-major storage shared through an `Arc`
//! (so clones, reshapes and no-op casts are cheap), plus the [`Scalar`] type for Python numbers.

pub use crate::dtype::DType;
use crate::dtype::{Category, Element, Storage};
use crate::error::{index_err, invalid, shape_err, ExecError, Result};
use crate::with_dtype;
use std::sync::Arc;

/// A Python number as it appears in ATen signatures (`Scalar`): participates in type promotion
/// only by category.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// Python `bool`.
    Bool(bool),
    /// Python `int`.
    Int(i64),
    /// Python `float`.
    Float(f64),
}

impl Scalar {
    /// Promotion category of the scalar.
    pub fn category(self) -> Category {
        match self {
            Scalar::Bool(_) => Category::Bool,
            Scalar::Int(_) => Category::Int,
            Scalar::Float(_) => Category::Float,
        }
    }
    /// Value as f64.
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }
    /// Value as i64 (floats truncate).
    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => b as i64,
            Scalar::Int(i) => i,
            Scalar::Float(f) => f as i64,
        }
    }
    /// Value as bool (`!= 0`).
    pub fn to_bool(self) -> bool {
        match self {
            Scalar::Bool(b) => b,
            Scalar::Int(i) => i != 0,
            Scalar::Float(f) => f != 0.0,
        }
    }
    /// Convert the value to element type `T` with PyTorch casting semantics.
    pub fn cast<T: Element>(self) -> T {
        match self {
            Scalar::Bool(b) => T::from_bool(b),
            Scalar::Int(i) => T::from_i64(i),
            Scalar::Float(f) => T::from_f64(f),
        }
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::Float(v)
    }
}
impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::Int(v)
    }
}
impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

/// A dense, contiguous, row-major CPU tensor. Every kernel returns a fresh tensor (views are
/// materialized as copies), so a `Tensor` is immutable once built; clones share storage.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Arc<Storage>,
}

/// Number of elements of a shape (1 for a 0-dim shape).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides (in elements) of a contiguous tensor of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Wrap a possibly negative dim into `0..ndim` (PyTorch's `maybe_wrap_dim`; a 0-dim tensor
/// accepts dims -1 and 0).
pub fn wrap_dim(op: &'static str, dim: i64, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        return index_err(
            op,
            format!("dimension {dim} out of range for a tensor of rank {ndim}"),
        );
    }
    Ok(if dim < 0 { dim + n } else { dim } as usize)
}

/// Wrap a list of dims, rejecting duplicates.
pub fn wrap_dims(op: &'static str, dims: &[i64], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let w = wrap_dim(op, d, ndim)?;
        if out.contains(&w) {
            return invalid(op, format!("dim {w} appears multiple times"));
        }
        out.push(w);
    }
    Ok(out)
}

/// Broadcast two shapes with NumPy/PyTorch rules (size-1 dims stretch, including to 0).
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return shape_err(op, format!("cannot broadcast {a:?} with {b:?}"));
        };
    }
    Ok(out)
}

/// Strides (in elements) to read a contiguous tensor of `shape` as if broadcast to `out`
/// (0 stride on stretched dims). `shape` must be broadcastable to `out`.
pub(crate) fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<isize> {
    let cs = contiguous_strides(shape);
    let off = out.len() - shape.len();
    (0..out.len())
        .map(|i| {
            if i < off || shape[i - off] == 1 {
                0
            } else {
                cs[i - off] as isize
            }
        })
        .collect()
}

/// Copy a strided view of `src` into a new contiguous vector. `strides` may be negative or 0.
/// The caller guarantees every addressed element is in bounds.
pub(crate) fn gather_strided<T: Copy>(
    src: &[T],
    shape: &[usize],
    strides: &[isize],
    offset: isize,
) -> Vec<T> {
    let n = numel(shape);
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    if shape.is_empty() {
        out.push(src[offset as usize]);
        return out;
    }
    let nd = shape.len();
    let inner = shape[nd - 1];
    let istride = strides[nd - 1];
    let mut idx = vec![0usize; nd - 1];
    let mut base = offset;
    loop {
        if istride == 1 {
            let b = base as usize;
            out.extend_from_slice(&src[b..b + inner]);
        } else {
            let mut p = base;
            for _ in 0..inner {
                out.push(src[p as usize]);
                p += istride;
            }
        }
        // Advance the outer multi-index (odometer).
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            base += strides[d];
            if idx[d] < shape[d] {
                break;
            }
            base -= strides[d] * shape[d] as isize;
            idx[d] = 0;
        }
    }
}

impl Tensor {
    /// Build from storage and shape; errors if the element count does not match.
    pub fn new(data: Storage, shape: impl Into<Vec<usize>>) -> Result<Tensor> {
        let shape = shape.into();
        if numel(&shape) != data.len() {
            return shape_err(
                "Tensor::new",
                format!(
                    "shape {shape:?} needs {} elements, got {}",
                    numel(&shape),
                    data.len()
                ),
            );
        }
        Ok(Tensor {
            shape,
            data: Arc::new(data),
        })
    }

    /// Build from a typed vector and a shape.
    pub fn from_vec<T: Element>(v: Vec<T>, shape: impl Into<Vec<usize>>) -> Result<Tensor> {
        Tensor::new(T::into_storage(v), shape)
    }

    /// A 1-d tensor from a slice.
    pub fn from_slice<T: Element>(v: &[T]) -> Tensor {
        let n = v.len();
        Tensor::from_vec(v.to_vec(), vec![n]).expect("length matches")
    }

    /// Build from f64 values cast to `dtype` (PyTorch casting). Convenient for tests.
    pub fn from_f64s(v: &[f64], shape: impl Into<Vec<usize>>, dtype: DType) -> Result<Tensor> {
        with_dtype!(dtype, T => Tensor::from_vec(v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>(), shape))
    }

    /// Internal constructor for kernels whose output size is correct by construction.
    pub(crate) fn from_parts<T: Element>(v: Vec<T>, shape: Vec<usize>) -> Tensor {
        debug_assert_eq!(numel(&shape), v.len());
        Tensor {
            shape,
            data: Arc::new(T::into_storage(v)),
        }
    }

    /// A 0-dim tensor holding `v`.
    pub fn scalar<T: Element>(v: T) -> Tensor {
        Tensor::from_parts(vec![v], vec![])
    }

    /// A 0-dim tensor of `dtype` holding the scalar's value cast to `dtype`.
    pub fn from_scalar(s: Scalar, dtype: DType) -> Tensor {
        Tensor::full(&[], s, dtype)
    }

    /// A tensor of `shape` filled with `value` cast to `dtype`.
    pub fn full(shape: &[usize], value: Scalar, dtype: DType) -> Tensor {
        with_dtype!(dtype, T => Tensor::from_parts(vec![value.cast::<T>(); numel(shape)], shape.to_vec()))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, Scalar::Int(0), dtype)
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, Scalar::Int(1), dtype)
    }

    /// Element dtype.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// Shape (sizes of each dim).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dims.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// Size of a (possibly negative) dim.
    pub fn size(&self, dim: i64) -> Result<usize> {
        if self.ndim() == 0 {
            return index_err(
                "size",
                "dimension specified as 0 but tensor has no dimensions",
            );
        }
        Ok(self.shape[wrap_dim("size", dim, self.ndim())?])
    }

    /// Contiguous strides of this tensor.
    pub fn strides(&self) -> Vec<usize> {
        contiguous_strides(&self.shape)
    }

    /// The underlying storage.
    pub fn storage(&self) -> &Storage {
        &self.data
    }

    /// Borrow the data as `&[T]`; errors if `T` is not the tensor's dtype.
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        T::slice(&self.data).ok_or(ExecError::DType {
            op: "as_slice",
            dtype: self.dtype(),
        })
    }

    /// Same data with a new shape of equal element count (no copy).
    pub fn with_shape(&self, shape: impl Into<Vec<usize>>) -> Result<Tensor> {
        let shape = shape.into();
        if numel(&shape) != self.numel() {
            return shape_err(
                "view",
                format!(
                    "shape {shape:?} is invalid for input of size {}",
                    self.numel()
                ),
            );
        }
        Ok(Tensor {
            shape,
            data: self.data.clone(),
        })
    }

    /// Cast to `dtype` with PyTorch semantics (float → int truncates toward zero, → bool is
    /// `!= 0`, f16/bf16 round to nearest even). A no-op cast shares storage.
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        with_dtype!(self.dtype(), S => {
            let src = S::slice(&self.data).expect("dtype matches storage");
            with_dtype!(dtype, D => Tensor::from_parts(cast_slice::<S, D>(src), self.shape.clone()))
        })
    }

    /// Values as a typed vector after casting to `T`'s dtype.
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        self.to_dtype(T::DTYPE)
            .as_slice::<T>()
            .expect("cast gives T")
            .to_vec()
    }

    /// Values as f64 (for tests and scalars).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        with_dtype!(self.dtype(), T => self.as_slice::<T>().expect("dtype").iter().map(|x| x.to_f64()).collect())
    }

    /// Values as i64 (floats truncate).
    pub fn to_i64_vec(&self) -> Vec<i64> {
        with_dtype!(self.dtype(), T => self.as_slice::<T>().expect("dtype").iter().map(|x| x.to_i64()).collect())
    }

    /// Values as bool (`!= 0`).
    pub fn to_bool_vec(&self) -> Vec<bool> {
        with_dtype!(self.dtype(), T => self.as_slice::<T>().expect("dtype").iter().map(|x| x.to_bool()).collect())
    }

    /// The single value of a one-element tensor, as a [`Scalar`] of the tensor's category.
    pub fn item(&self) -> Result<Scalar> {
        if self.numel() != 1 {
            return invalid(
                "item",
                format!(
                    "a tensor with {} elements cannot be converted to a scalar",
                    self.numel()
                ),
            );
        }
        Ok(match self.dtype().category() {
            Category::Float => Scalar::Float(self.to_f64_vec()[0]),
            Category::Int => Scalar::Int(self.to_i64_vec()[0]),
            Category::Bool => Scalar::Bool(self.to_bool_vec()[0]),
            Category::Complex => {
                return invalid(
                    "item",
                    "a complex value is not a Python bool, int or float here",
                )
            }
        })
    }

    /// Raw little-endian bytes of the data (the safetensors layout).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        with_dtype!(self.dtype(), T => trtfx_ir::elements::encode(self.as_slice::<T>().expect("dtype")))
    }

    /// Build from raw little-endian bytes (the safetensors layout), with the IR's decoder.
    pub fn from_le_bytes(
        bytes: &[u8],
        dtype: DType,
        shape: impl Into<Vec<usize>>,
    ) -> Result<Tensor> {
        let shape = shape.into();
        if bytes.len() != numel(&shape) * dtype.size() {
            return shape_err(
                "from_le_bytes",
                format!(
                    "{} bytes do not hold {:?} elements of {dtype}",
                    bytes.len(),
                    shape
                ),
            );
        }
        with_dtype!(dtype, T => {
            match trtfx_ir::elements::decode::<T>(bytes) {
                Ok(v) => Tensor::from_vec(v, shape),
                Err(m) => shape_err("from_le_bytes", m),
            }
        })
    }

    /// `aten.as_strided`: materialize a strided view of this tensor's (contiguous) storage.
    /// Strides may be negative or zero; every addressed element must lie in the storage.
    pub fn as_strided(&self, shape: &[usize], strides: &[isize], offset: isize) -> Result<Tensor> {
        if shape.len() != strides.len() {
            return shape_err("as_strided", "shape and strides differ in length");
        }
        if numel(shape) > 0 {
            let (mut lo, mut hi) = (offset, offset);
            for (&s, &st) in shape.iter().zip(strides) {
                let ext = (s as isize - 1) * st;
                if ext < 0 {
                    lo += ext;
                } else {
                    hi += ext;
                }
            }
            if lo < 0 || hi >= self.numel() as isize {
                return index_err("as_strided", "view addresses elements outside the storage");
            }
        }
        Ok(with_dtype!(self.dtype(), T => Tensor::from_parts(
            gather_strided(self.as_slice::<T>()?, shape, strides, offset),
            shape.to_vec(),
        )))
    }
}

/// Cast a slice between element types with PyTorch semantics. Complex → real keeps the real
/// part (PyTorch warns and discards the imaginary part), complex → bool is "either part is
/// nonzero", real → complex has imaginary part 0.
pub(crate) fn cast_slice<S: Element, D: Element>(src: &[S]) -> Vec<D> {
    use Category::{Bool, Complex, Float};
    let wide = |d: DType| d == DType::F64 || d == DType::C128;
    match (S::DTYPE.category(), D::DTYPE.category()) {
        (_, Bool) => src.iter().map(|x| D::from_bool(x.to_bool())).collect(),
        (Complex, Complex) => src
            .iter()
            .map(|x| D::from_complex_f64(x.to_f64(), x.imag_f64()))
            .collect(),
        (Float, Float) => {
            if D::DTYPE == DType::F64 || S::DTYPE == DType::F64 {
                src.iter().map(|x| D::from_f64(x.to_f64())).collect()
            } else {
                src.iter().map(|x| D::from_f32(x.to_f32())).collect()
            }
        }
        // Float and complex components widen to f64 exactly, so one rounding happens.
        (Float | Complex, _) => src.iter().map(|x| D::from_f64(x.to_f64())).collect(),
        (_, Float | Complex) => {
            if wide(D::DTYPE) {
                src.iter().map(|x| D::from_f64(x.to_f64())).collect()
            } else {
                src.iter().map(|x| D::from_f32(x.to_i64() as f32)).collect()
            }
        }
        _ => src.iter().map(|x| D::from_i64(x.to_i64())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn construct_and_cast() {
        let t = Tensor::from_vec(vec![-1.5f32, 2.7, 0.0, 3.0], vec![2, 2]).unwrap();
        assert_eq!(t.to_dtype(DType::I32).to_i64_vec(), vec![-1, 2, 0, 3]);
        assert_eq!(
            t.to_dtype(DType::Bool).to_bool_vec(),
            vec![true, true, false, true]
        );
        assert_eq!(
            t.to_dtype(DType::F16).to_f64_vec(),
            vec![-1.5, 2.69921875, 0.0, 3.0]
        );
        assert!(Tensor::from_vec(vec![1i64, 2], vec![3]).is_err());
        let s = Tensor::scalar(5i64);
        assert_eq!(s.shape(), &[] as &[usize]);
        assert_eq!(s.item().unwrap(), Scalar::Int(5));
    }

    #[test]
    fn bytes_round_trip() {
        for dt in DType::ALL {
            let t = Tensor::from_f64s(&[1.0, 0.0, 3.0, 5.0, 2.0, 1.0], vec![2, 3], dt).unwrap();
            let b = t.to_le_bytes();
            assert_eq!(b.len(), 6 * dt.size());
            assert_eq!(Tensor::from_le_bytes(&b, dt, vec![2, 3]).unwrap(), t);
        }
        let b = 1.0f32.to_le_bytes();
        assert_eq!(
            Tensor::from_le_bytes(&b, DType::F32, vec![])
                .unwrap()
                .to_f64_vec(),
            vec![1.0]
        );
    }

    #[test]
    fn broadcast_rules() {
        assert_eq!(
            broadcast_shapes("t", &[2, 1, 3], &[4, 1]).unwrap(),
            vec![2, 4, 3]
        );
        assert_eq!(broadcast_shapes("t", &[0, 1], &[1, 5]).unwrap(), vec![0, 5]);
        assert_eq!(broadcast_shapes("t", &[1], &[0]).unwrap(), vec![0]);
        assert!(broadcast_shapes("t", &[2], &[3]).is_err());
    }

    #[test]
    fn strided_view() {
        let t = Tensor::from_vec((0..6i64).collect::<Vec<_>>(), vec![2, 3]).unwrap();
        // Transpose.
        let tt = t.as_strided(&[3, 2], &[1, 3], 0).unwrap();
        assert_eq!(tt.to_i64_vec(), vec![0, 3, 1, 4, 2, 5]);
        // Reverse.
        let r = t.as_strided(&[6], &[-1], 5).unwrap();
        assert_eq!(r.to_i64_vec(), vec![5, 4, 3, 2, 1, 0]);
        assert!(t.as_strided(&[7], &[1], 0).is_err());
    }
}
