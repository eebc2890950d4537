//! Strided views and their scatters: `as_strided`, `diagonal`, `unfold` (each materialized as a
//! copy, like every view here) and `as_strided_scatter` / `diagonal_scatter`, which write a source
//! through the same view into a copy of the input.
//!
//! A view is a `(shape, strides, offset)` triple over the input's contiguous storage; every
//! function here computes that triple and gathers or scatters through it, so the view and its
//! scatter can never disagree about which elements they address.

use crate::error::{index_err, invalid, shape_err, Result};
use crate::tensor::{contiguous_strides, numel, wrap_dim, Tensor};
use crate::with_dtype;

/// A strided view of a contiguous storage: sizes, strides (elements) and storage offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Sizes of the view.
    pub shape: Vec<usize>,
    /// Strides, in elements.
    pub strides: Vec<isize>,
    /// Offset of element `[0, ..., 0]`, in elements.
    pub offset: isize,
}

impl View {
    /// Storage offsets of the view's elements, in row-major order of the view.
    fn offsets(&self) -> Vec<usize> {
        let n = numel(&self.shape);
        let mut out = Vec::with_capacity(n);
        if n == 0 {
            return out;
        }
        let nd = self.shape.len();
        let mut idx = vec![0usize; nd];
        let mut p = self.offset;
        loop {
            out.push(p as usize);
            let mut d = nd;
            loop {
                if d == 0 {
                    return out;
                }
                d -= 1;
                idx[d] += 1;
                p += self.strides[d];
                if idx[d] < self.shape[d] {
                    break;
                }
                p -= self.strides[d] * self.shape[d] as isize;
                idx[d] = 0;
            }
        }
    }

    /// Checks that every element the view addresses lies in a storage of `len` elements.
    fn check_bounds(&self, op: &'static str, len: usize) -> Result<()> {
        if self.shape.len() != self.strides.len() {
            return shape_err(
                op,
                format!(
                    "mismatch in length of strides and shape: {} vs {}",
                    self.strides.len(),
                    self.shape.len()
                ),
            );
        }
        if numel(&self.shape) == 0 {
            return Ok(());
        }
        let (mut lo, mut hi) = (self.offset, self.offset);
        for (&s, &st) in self.shape.iter().zip(&self.strides) {
            let ext = (s as isize - 1) * st;
            if ext < 0 {
                lo += ext;
            } else {
                hi += ext;
            }
        }
        if lo < 0 || hi >= len as isize {
            return index_err(
                op,
                format!(
                    "the view (size {:?}, stride {:?}, offset {}) addresses elements outside a \
                     storage of {len} elements",
                    self.shape, self.strides, self.offset
                ),
            );
        }
        Ok(())
    }

    /// The view of `t` gathered into a new contiguous tensor.
    fn gather(&self, op: &'static str, t: &Tensor) -> Result<Tensor> {
        self.check_bounds(op, t.numel())?;
        let offs = self.offsets();
        Ok(with_dtype!(t.dtype(), T => {
            let src = t.as_slice::<T>()?;
            Tensor::from_parts(offs.iter().map(|&o| src[o]).collect::<Vec<T>>(), self.shape.clone())
        }))
    }

    /// A copy of `t` with `src` written through the view (elements addressed twice get the
    /// last write, in row-major order of the view).
    fn scatter(&self, op: &'static str, t: &Tensor, src: &Tensor) -> Result<Tensor> {
        self.check_bounds(op, t.numel())?;
        if src.shape() != self.shape.as_slice() {
            return shape_err(
                op,
                format!(
                    "src has shape {:?}, the view it is written into has shape {:?}",
                    src.shape(),
                    self.shape
                ),
            );
        }
        let src = src.to_dtype(t.dtype());
        let offs = self.offsets();
        Ok(with_dtype!(t.dtype(), T => {
            let mut out = t.as_slice::<T>()?.to_vec();
            for (&o, &v) in offs.iter().zip(src.as_slice::<T>()?) {
                out[o] = v;
            }
            Tensor::from_parts(out, t.shape().to_vec())
        }))
    }
}

fn istrides(t: &Tensor) -> Vec<isize> {
    contiguous_strides(t.shape())
        .into_iter()
        .map(|s| s as isize)
        .collect()
}

/// The view `as_strided(size, stride, storage_offset)` names (negative sizes are errors).
fn as_strided_view(size: &[i64], stride: &[i64], offset: Option<i64>) -> Result<View> {
    if let Some(&s) = size.iter().find(|&&s| s < 0) {
        return invalid("as_strided", format!("negative size {s}"));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return invalid("as_strided", format!("negative storage offset {offset}"));
    }
    Ok(View {
        shape: size.iter().map(|&s| s as usize).collect(),
        strides: stride.iter().map(|&s| s as isize).collect(),
        offset: offset as isize,
    })
}

/// `aten.as_strided`: the strided view of `t`'s (contiguous) storage, copied.
pub fn as_strided(t: &Tensor, size: &[i64], stride: &[i64], offset: Option<i64>) -> Result<Tensor> {
    as_strided_view(size, stride, offset)?.gather("as_strided", t)
}

/// `aten.as_strided_scatter`: a copy of `t` with `src` written into its strided view.
pub fn as_strided_scatter(
    t: &Tensor,
    src: &Tensor,
    size: &[i64],
    stride: &[i64],
    offset: Option<i64>,
) -> Result<Tensor> {
    as_strided_view(size, stride, offset)?.scatter("as_strided_scatter", t, src)
}

/// The view `diagonal(offset, dim1, dim2)` names: both dims removed, the diagonal appended last.
fn diagonal_view(op: &'static str, t: &Tensor, offset: i64, dim1: i64, dim2: i64) -> Result<View> {
    let nd = t.ndim();
    if nd < 2 {
        return invalid(
            op,
            format!("diagonal needs a tensor of rank 2 or more, got rank {nd}"),
        );
    }
    let (d1, d2) = (wrap_dim(op, dim1, nd)?, wrap_dim(op, dim2, nd)?);
    if d1 == d2 {
        return invalid(
            op,
            format!("diagonal dimensions cannot be identical {dim1}, {dim2}"),
        );
    }
    let st = istrides(t);
    let (n1, n2) = (t.shape()[d1] as i64, t.shape()[d2] as i64);
    let len = if offset >= 0 {
        n1.min(n2 - offset)
    } else {
        (n1 + offset).min(n2)
    }
    .max(0);
    let start = if len == 0 {
        0
    } else if offset >= 0 {
        offset as isize * st[d2]
    } else {
        -offset as isize * st[d1]
    };
    let mut shape = Vec::with_capacity(nd - 1);
    let mut strides = Vec::with_capacity(nd - 1);
    for d in (0..nd).filter(|&d| d != d1 && d != d2) {
        shape.push(t.shape()[d]);
        strides.push(st[d]);
    }
    shape.push(len as usize);
    strides.push(st[d1] + st[d2]);
    Ok(View {
        shape,
        strides,
        offset: start,
    })
}

/// `aten.diagonal`: the diagonal of `t` in dims `dim1`, `dim2` (above the main one for
/// `offset > 0`, below for `offset < 0`), as the last dim of the result.
pub fn diagonal(t: &Tensor, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
    diagonal_view("diagonal", t, offset, dim1, dim2)?.gather("diagonal", t)
}

/// `aten.diagonal_scatter`: a copy of `t` with `src` written into that diagonal.
pub fn diagonal_scatter(
    t: &Tensor,
    src: &Tensor,
    offset: i64,
    dim1: i64,
    dim2: i64,
) -> Result<Tensor> {
    diagonal_view("diagonal_scatter", t, offset, dim1, dim2)?.scatter("diagonal_scatter", t, src)
}

/// `aten.unfold`: every window of `size` elements along `dim`, `step` apart; the windows index
/// `dim` and their elements a new last dim. A 0-dim tensor is a window source of one element.
pub fn unfold(t: &Tensor, dim: i64, size: i64, step: i64) -> Result<Tensor> {
    if step <= 0 {
        return invalid("unfold", format!("step is {step} but must be > 0"));
    }
    if size < 0 {
        return invalid("unfold", format!("size is {size} but must be >= 0"));
    }
    if t.ndim() == 0 {
        wrap_dim("unfold", dim, 0)?;
        if size > 1 {
            return invalid(
                "unfold",
                format!("maximum size for tensor at dimension 0 is 1 but size is {size}"),
            );
        }
        return View {
            shape: vec![size as usize],
            strides: vec![1],
            offset: 0,
        }
        .gather("unfold", t);
    }
    let d = wrap_dim("unfold", dim, t.ndim())?;
    let n = t.shape()[d] as i64;
    if size > n {
        return invalid(
            "unfold",
            format!("maximum size for tensor at dimension {d} is {n} but size is {size}"),
        );
    }
    let st = istrides(t);
    let mut shape = t.shape().to_vec();
    shape[d] = ((n - size) / step + 1) as usize;
    shape.push(size as usize);
    let mut strides = st.clone();
    strides[d] = st[d] * step as isize;
    strides.push(st[d]);
    View {
        shape,
        strides,
        offset: 0,
    }
    .gather("unfold", t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iota(shape: &[usize]) -> Tensor {
        let n = numel(shape) as i64;
        Tensor::from_vec((0..n).collect::<Vec<i64>>(), shape.to_vec()).unwrap()
    }

    #[test]
    fn as_strided_reads_the_storage() {
        // torch.arange(9).as_strided((2, 2), (1, 3), 1) == [[1, 4], [2, 5]]
        let y = as_strided(&iota(&[9]), &[2, 2], &[1, 3], Some(1)).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.to_i64_vec(), vec![1, 4, 2, 5]);
        // Zero strides repeat an element.
        let y = as_strided(&iota(&[3]), &[2, 2], &[0, 1], None).unwrap();
        assert_eq!(y.to_i64_vec(), vec![0, 1, 0, 1]);
        assert!(as_strided(&iota(&[3]), &[2, 2], &[1, 2], None).is_err());
    }

    #[test]
    fn as_strided_scatter_writes_through_the_view() {
        let src = Tensor::from_vec(vec![10i64, 20, 30, 40], vec![2, 2]).unwrap();
        let y = as_strided_scatter(&iota(&[3, 3]), &src, &[2, 2], &[1, 3], Some(1)).unwrap();
        assert_eq!(y.shape(), &[3, 3]);
        assert_eq!(y.to_i64_vec(), vec![0, 10, 30, 3, 20, 40, 6, 7, 8]);
    }

    #[test]
    fn diagonal_offsets_and_dims() {
        // x = arange(12).reshape(3, 4)
        let x = iota(&[3, 4]);
        assert_eq!(diagonal(&x, 0, 0, 1).unwrap().to_i64_vec(), vec![0, 5, 10]);
        assert_eq!(diagonal(&x, 1, 0, 1).unwrap().to_i64_vec(), vec![1, 6, 11]);
        assert_eq!(diagonal(&x, -1, 0, 1).unwrap().to_i64_vec(), vec![4, 9]);
        assert_eq!(diagonal(&x, 5, 0, 1).unwrap().shape(), &[0]);
        // Swapped dims read the transpose's diagonal.
        assert_eq!(diagonal(&x, 1, 1, 0).unwrap().to_i64_vec(), vec![4, 9]);
        // x = arange(8).reshape(2, 2, 2): diagonal over dims 0, 2 keeps dim 1 first.
        let y = diagonal(&iota(&[2, 2, 2]), 0, 0, 2).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.to_i64_vec(), vec![0, 5, 2, 7]);
        assert!(diagonal(&iota(&[3]), 0, 0, 1).is_err());
        assert!(diagonal(&x, 0, 1, -1).is_err());
    }

    #[test]
    fn diagonal_scatter_replaces_the_diagonal() {
        let src = Tensor::from_vec(vec![-1i64, -2], vec![2]).unwrap();
        let y = diagonal_scatter(&iota(&[3, 4]), &src, -1, 0, 1).unwrap();
        assert_eq!(y.to_i64_vec(), vec![0, 1, 2, 3, -1, 5, 6, 7, 8, -2, 10, 11]);
        let bad = Tensor::from_vec(vec![1i64, 2, 3], vec![3]).unwrap();
        assert!(diagonal_scatter(&iota(&[3, 4]), &bad, -1, 0, 1).is_err());
    }

    #[test]
    fn unfold_windows() {
        // arange(7).unfold(0, 2, 3) == [[0, 1], [3, 4]]
        let y = unfold(&iota(&[7]), 0, 2, 3).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.to_i64_vec(), vec![0, 1, 3, 4]);
        // arange(6).reshape(2, 3).unfold(1, 2, 1) == [[[0,1],[1,2]], [[3,4],[4,5]]]
        let y = unfold(&iota(&[2, 3]), 1, 2, 1).unwrap();
        assert_eq!(y.shape(), &[2, 2, 2]);
        assert_eq!(y.to_i64_vec(), vec![0, 1, 1, 2, 3, 4, 4, 5]);
        // A scalar unfolds into one window of one element.
        let s = Tensor::from_vec(vec![7i64], vec![]).unwrap();
        assert_eq!(unfold(&s, 0, 1, 1).unwrap().shape(), &[1]);
        assert!(unfold(&iota(&[3]), 0, 4, 1).is_err());
        assert!(unfold(&iota(&[3]), 0, 1, 0).is_err());
    }
}
