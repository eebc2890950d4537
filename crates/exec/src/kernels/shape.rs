//! Layout ops. Views in PyTorch are materialized here as copies (every tensor is contiguous), so
//! each op is expressed as a strided view of the input's storage and gathered once.

use crate::dtype::DType;
use crate::error::{index_err, invalid, shape_err, Result};
use crate::promote::{result_type, Operand};
use crate::tensor::{
    contiguous_strides, gather_strided, numel, wrap_dim, wrap_dims, Scalar, Tensor,
};
use crate::with_dtype;

/// Strided view of `t`'s storage, materialized. Callers guarantee the view stays in bounds.
pub(crate) fn strided(t: &Tensor, shape: Vec<usize>, strides: &[isize], offset: isize) -> Tensor {
    with_dtype!(t.dtype(), T => {
        let src = t.as_slice::<T>().expect("dtype matches");
        let v = if numel(&shape) == 0 { Vec::new() } else { gather_strided(src, &shape, strides, offset) };
        Tensor::from_parts(v, shape)
    })
}

fn istrides(t: &Tensor) -> Vec<isize> {
    contiguous_strides(t.shape())
        .into_iter()
        .map(|s| s as isize)
        .collect()
}

/// Resolve a shape with at most one `-1` against `numel` elements.
pub fn infer_shape(op: &'static str, shape: &[i64], numel: usize) -> Result<Vec<usize>> {
    let mut infer = None;
    let mut known = 1usize;
    for (i, &s) in shape.iter().enumerate() {
        if s == -1 {
            if infer.is_some() {
                return invalid(op, "only one dimension can be inferred");
            }
            infer = Some(i);
        } else if s < 0 {
            return invalid(op, format!("invalid shape dimension {s}"));
        } else {
            known *= s as usize;
        }
    }
    let mut out: Vec<usize> = shape.iter().map(|&s| s.max(0) as usize).collect();
    if let Some(i) = infer {
        if known == 0 || !numel.is_multiple_of(known) {
            return shape_err(
                op,
                format!("shape {shape:?} is invalid for input of size {numel}"),
            );
        }
        out[i] = numel / known;
    } else if known != numel {
        return shape_err(
            op,
            format!("shape {shape:?} is invalid for input of size {numel}"),
        );
    }
    Ok(out)
}

/// `aten.view` / `aten.reshape` / `aten._unsafe_view` (one dim may be -1). Shares storage.
pub fn reshape(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let s = infer_shape("reshape", shape, t.numel())?;
    t.with_shape(s)
}

/// `aten.view` (alias of [`reshape`] here: every tensor is contiguous).
pub fn view(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    reshape(t, shape)
}

/// `aten.permute`.
pub fn permute(t: &Tensor, dims: &[i64]) -> Result<Tensor> {
    if dims.len() != t.ndim() {
        return shape_err(
            "permute",
            format!(
                "number of dims {} does not match rank {}",
                dims.len(),
                t.ndim()
            ),
        );
    }
    let d = wrap_dims("permute", dims, t.ndim())?;
    if d.iter().enumerate().all(|(i, &x)| i == x) {
        return Ok(t.clone());
    }
    let st = istrides(t);
    let shape = d.iter().map(|&i| t.shape()[i]).collect();
    let strides: Vec<isize> = d.iter().map(|&i| st[i]).collect();
    Ok(strided(t, shape, &strides, 0))
}

/// `aten.transpose.int`.
pub fn transpose(t: &Tensor, dim0: i64, dim1: i64) -> Result<Tensor> {
    if t.ndim() == 0 {
        return Ok(t.clone());
    }
    let (a, b) = (
        wrap_dim("transpose", dim0, t.ndim())?,
        wrap_dim("transpose", dim1, t.ndim())?,
    );
    let mut p: Vec<i64> = (0..t.ndim() as i64).collect();
    p.swap(a, b);
    permute(t, &p)
}

/// `aten.t` (rank ≤ 2).
pub fn t(x: &Tensor) -> Result<Tensor> {
    if x.ndim() > 2 {
        return invalid("t", "expects a tensor with <= 2 dimensions");
    }
    if x.ndim() < 2 {
        return Ok(x.clone());
    }
    transpose(x, 0, 1)
}

/// `aten.movedim.int`.
pub fn movedim(t: &Tensor, source: i64, destination: i64) -> Result<Tensor> {
    let s = wrap_dim("movedim", source, t.ndim())?;
    let d = wrap_dim("movedim", destination, t.ndim())?;
    let mut rest: Vec<i64> = (0..t.ndim() as i64).filter(|&i| i as usize != s).collect();
    rest.insert(d, s as i64);
    permute(t, &rest)
}

/// `aten.expand` (`-1` keeps a size; new leading dims allowed).
pub fn expand(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    if shape.len() < t.ndim() {
        return shape_err(
            "expand",
            format!("cannot expand {:?} to {shape:?}", t.shape()),
        );
    }
    let off = shape.len() - t.ndim();
    let st = istrides(t);
    let mut out = Vec::with_capacity(shape.len());
    let mut strides = Vec::with_capacity(shape.len());
    for (i, &s) in shape.iter().enumerate() {
        if i < off {
            if s < 0 {
                return invalid(
                    "expand",
                    "-1 is not allowed in a leading, non-existing dimension",
                );
            }
            out.push(s as usize);
            strides.push(0);
            continue;
        }
        let cur = t.shape()[i - off];
        if s == -1 || s as usize == cur {
            out.push(cur);
            strides.push(st[i - off]);
        } else if cur == 1 && s >= 0 {
            out.push(s as usize);
            strides.push(0);
        } else {
            return shape_err(
                "expand",
                format!("cannot expand {:?} to {shape:?}", t.shape()),
            );
        }
    }
    if out == t.shape() {
        return Ok(t.clone());
    }
    Ok(strided(t, out, &strides, 0))
}

/// `aten.squeeze.dims` (`None` squeezes every size-1 dim; non-1 dims listed are left alone).
pub fn squeeze(t: &Tensor, dims: Option<&[i64]>) -> Result<Tensor> {
    let sel = match dims {
        None => (0..t.ndim()).collect(),
        Some(d) => wrap_dims("squeeze", d, t.ndim())?,
    };
    let shape: Vec<usize> = t
        .shape()
        .iter()
        .enumerate()
        .filter(|&(i, &s)| !(s == 1 && sel.contains(&i)))
        .map(|(_, &s)| s)
        .collect();
    t.with_shape(shape)
}

/// `aten.unsqueeze`.
pub fn unsqueeze(t: &Tensor, dim: i64) -> Result<Tensor> {
    let d = wrap_dim("unsqueeze", dim, t.ndim() + 1)?;
    let mut s = t.shape().to_vec();
    s.insert(d, 1);
    t.with_shape(s)
}

/// `aten.flatten.using_ints`.
pub fn flatten(t: &Tensor, start_dim: i64, end_dim: i64) -> Result<Tensor> {
    if t.ndim() == 0 {
        return t.with_shape(vec![1]);
    }
    let s = wrap_dim("flatten", start_dim, t.ndim())?;
    let e = wrap_dim("flatten", end_dim, t.ndim())?;
    if s > e {
        return invalid("flatten", "start_dim cannot come after end_dim");
    }
    let mut shape = t.shape()[..s].to_vec();
    shape.push(t.shape()[s..=e].iter().product());
    shape.extend_from_slice(&t.shape()[e + 1..]);
    t.with_shape(shape)
}

/// `aten.unflatten.int`.
pub fn unflatten(t: &Tensor, dim: i64, sizes: &[i64]) -> Result<Tensor> {
    let d = wrap_dim("unflatten", dim, t.ndim())?;
    let inner = infer_shape("unflatten", sizes, t.shape()[d])?;
    let mut shape = t.shape()[..d].to_vec();
    shape.extend(inner);
    shape.extend_from_slice(&t.shape()[d + 1..]);
    t.with_shape(shape)
}

/// `aten.cat`: dtype is the promoted type of all inputs; legacy 1-d empty tensors are skipped.
pub fn cat(tensors: &[&Tensor], dim: i64) -> Result<Tensor> {
    if tensors.is_empty() {
        return invalid("cat", "expected a non-empty list of tensors");
    }
    let ops: Vec<Operand> = tensors.iter().map(|t| Operand::Tensor(t)).collect();
    let dt = result_type(&ops);
    // Legacy behaviour: a 1-d tensor of size 0 is ignored whatever the other shapes are.
    let parts: Vec<&Tensor> = tensors
        .iter()
        .copied()
        .filter(|t| !(t.ndim() == 1 && t.numel() == 0))
        .collect();
    let Some(first) = parts.first() else {
        return Ok(Tensor::zeros(&[0], dt));
    };
    if first.ndim() == 0 {
        return invalid("cat", "zero-dimensional tensor cannot be concatenated");
    }
    let d = wrap_dim("cat", dim, first.ndim())?;
    let mut out_shape = first.shape().to_vec();
    out_shape[d] = 0;
    for p in &parts {
        if p.ndim() != first.ndim()
            || p.shape()
                .iter()
                .zip(first.shape())
                .enumerate()
                .any(|(i, (a, b))| i != d && a != b)
        {
            return shape_err(
                "cat",
                format!(
                    "sizes {:?} and {:?} do not match outside dim {d}",
                    first.shape(),
                    p.shape()
                ),
            );
        }
        out_shape[d] += p.shape()[d];
    }
    let outer: usize = out_shape[..d].iter().product();
    let inner: usize = out_shape[d + 1..].iter().product();
    let cast: Vec<Tensor> = parts.iter().map(|p| p.to_dtype(dt)).collect();
    Ok(with_dtype!(dt, T => {
        let mut out: Vec<T> = Vec::with_capacity(numel(&out_shape));
        let slices: Vec<&[T]> = cast.iter().map(|c| c.as_slice::<T>()).collect::<Result<_>>()?;
        for o in 0..outer {
            for (c, s) in cast.iter().zip(&slices) {
                let chunk = c.shape()[d] * inner;
                out.extend_from_slice(&s[o * chunk..(o + 1) * chunk]);
            }
        }
        Tensor::from_parts(out, out_shape)
    }))
}

/// `aten.stack`: all inputs must have the same shape.
pub fn stack(tensors: &[&Tensor], dim: i64) -> Result<Tensor> {
    let Some(first) = tensors.first() else {
        return invalid("stack", "expected a non-empty list of tensors");
    };
    if tensors.iter().any(|t| t.shape() != first.shape()) {
        return shape_err("stack", "stack expects each tensor to be equal size");
    }
    let d = wrap_dim("stack", dim, first.ndim() + 1)? as i64;
    let u: Vec<Tensor> = tensors
        .iter()
        .map(|t| unsqueeze(t, d))
        .collect::<Result<_>>()?;
    cat(&u.iter().collect::<Vec<_>>(), d)
}

/// `aten.slice.Tensor` with PyTorch's clamping of out-of-range / negative bounds (step > 0).
pub fn slice(
    t: &Tensor,
    dim: i64,
    start: Option<i64>,
    end: Option<i64>,
    step: i64,
) -> Result<Tensor> {
    if step <= 0 {
        return invalid("slice", "slice step must be positive");
    }
    if t.ndim() == 0 {
        return invalid("slice", "slice() cannot be applied to a 0-dim tensor");
    }
    let d = wrap_dim("slice", dim, t.ndim())?;
    let n = t.shape()[d] as i64;
    let norm = |v: i64| {
        let v = if v < 0 { v + n } else { v };
        v.clamp(0, n)
    };
    let s = norm(start.unwrap_or(0));
    let e = norm(end.unwrap_or(n)).max(s);
    let len = ((e - s) + step - 1) / step;
    let st = istrides(t);
    let mut shape = t.shape().to_vec();
    shape[d] = len as usize;
    let mut strides = st.clone();
    strides[d] = st[d] * step as isize;
    Ok(strided(t, shape, &strides, s as isize * st[d]))
}

/// `aten.narrow`.
pub fn narrow(t: &Tensor, dim: i64, start: i64, length: i64) -> Result<Tensor> {
    let d = wrap_dim("narrow", dim, t.ndim())?;
    let n = t.shape()[d] as i64;
    let s = if start < 0 { start + n } else { start };
    if s < 0 || length < 0 || s + length > n {
        return index_err(
            "narrow",
            format!("start {start} + length {length} exceeds dimension size {n}"),
        );
    }
    slice(t, d as i64, Some(s), Some(s + length), 1)
}

/// `aten.select.int`.
pub fn select(t: &Tensor, dim: i64, index: i64) -> Result<Tensor> {
    if t.ndim() == 0 {
        return invalid("select", "select() cannot be applied to a 0-dim tensor");
    }
    let d = wrap_dim("select", dim, t.ndim())?;
    let n = t.shape()[d] as i64;
    let i = if index < 0 { index + n } else { index };
    if i < 0 || i >= n {
        return index_err(
            "select",
            format!("index {index} out of range for dimension of size {n}"),
        );
    }
    let st = istrides(t);
    let mut shape = t.shape().to_vec();
    shape.remove(d);
    let mut strides = st.clone();
    strides.remove(d);
    Ok(strided(t, shape, &strides, i as isize * st[d]))
}

/// `aten.unbind.int`.
pub fn unbind(t: &Tensor, dim: i64) -> Result<Vec<Tensor>> {
    let d = wrap_dim("unbind", dim, t.ndim())?;
    (0..t.shape()[d] as i64)
        .map(|i| select(t, d as i64, i))
        .collect()
}

/// `aten.split_with_sizes`.
pub fn split_with_sizes(t: &Tensor, sizes: &[i64], dim: i64) -> Result<Vec<Tensor>> {
    let d = wrap_dim("split_with_sizes", dim, t.ndim())?;
    if sizes.iter().any(|&s| s < 0) || sizes.iter().sum::<i64>() != t.shape()[d] as i64 {
        return shape_err(
            "split_with_sizes",
            format!("sizes {sizes:?} do not sum to {}", t.shape()[d]),
        );
    }
    let mut start = 0;
    let mut out = Vec::with_capacity(sizes.len());
    for &s in sizes {
        out.push(slice(t, d as i64, Some(start), Some(start + s), 1)?);
        start += s;
    }
    Ok(out)
}

/// `aten.split.Tensor` (last chunk may be smaller; a size-0 dim gives one empty chunk).
pub fn split(t: &Tensor, split_size: i64, dim: i64) -> Result<Vec<Tensor>> {
    let d = wrap_dim("split", dim, t.ndim())?;
    let n = t.shape()[d] as i64;
    if split_size < 0 || (split_size == 0 && n != 0) {
        return invalid("split", "split_size must be positive");
    }
    if n == 0 {
        return Ok(vec![t.clone()]);
    }
    let mut sizes = vec![split_size; (n / split_size) as usize];
    if n % split_size != 0 {
        sizes.push(n % split_size);
    }
    split_with_sizes(t, &sizes, dim)
}

/// `aten.chunk` (chunk size is `ceil(n / chunks)`, so fewer chunks may come back).
pub fn chunk(t: &Tensor, chunks: i64, dim: i64) -> Result<Vec<Tensor>> {
    if chunks <= 0 {
        return invalid("chunk", "chunks must be positive");
    }
    let d = wrap_dim("chunk", dim, t.ndim())?;
    let n = t.shape()[d] as i64;
    let size = (n + chunks - 1) / chunks;
    if size == 0 {
        // All chunks empty: PyTorch returns `chunks` empty tensors.
        return (0..chunks).map(|_| Ok(t.clone())).collect();
    }
    split(t, size, dim)
}

/// `aten.repeat` (`repeats.len() >= ndim`; leading repeats add dims).
pub fn repeat(t: &Tensor, repeats: &[i64]) -> Result<Tensor> {
    if repeats.len() < t.ndim() {
        return invalid(
            "repeat",
            "number of repeat dims can not be smaller than number of tensor dims",
        );
    }
    if repeats.iter().any(|&r| r < 0) {
        return invalid("repeat", "repeats must be non-negative");
    }
    let off = repeats.len() - t.ndim();
    let mut pad = vec![1usize; off];
    pad.extend_from_slice(t.shape());
    let st = contiguous_strides(&pad);
    let mut shape = Vec::new();
    let mut strides = Vec::new();
    for i in 0..repeats.len() {
        shape.push(repeats[i] as usize);
        strides.push(0isize);
        shape.push(pad[i]);
        strides.push(st[i] as isize);
    }
    let out: Vec<usize> = (0..repeats.len())
        .map(|i| repeats[i] as usize * pad[i])
        .collect();
    strided(t, shape, &strides, 0).with_shape(out)
}

/// `aten.flip`.
pub fn flip(t: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let d = wrap_dims("flip", dims, t.ndim())?;
    if t.numel() == 0 || t.ndim() == 0 {
        return Ok(t.clone());
    }
    let mut strides = istrides(t);
    let mut off = 0isize;
    for &i in &d {
        off += (t.shape()[i] as isize - 1) * strides[i];
        strides[i] = -strides[i];
    }
    Ok(strided(t, t.shape().to_vec(), &strides, off))
}

/// `aten.roll` (empty `dims`: roll the flattened tensor).
pub fn roll(t: &Tensor, shifts: &[i64], dims: &[i64]) -> Result<Tensor> {
    if dims.is_empty() {
        if shifts.len() != 1 {
            return invalid("roll", "shifts must have one element when dims is empty");
        }
        let flat = t.with_shape(vec![t.numel()])?;
        return roll(&flat, shifts, &[0])?.with_shape(t.shape().to_vec());
    }
    if shifts.len() != dims.len() {
        return invalid("roll", "shifts and dims must have the same length");
    }
    let mut r = t.clone();
    for (&s, &d) in shifts.iter().zip(dims) {
        let dd = wrap_dim("roll", d, r.ndim())?;
        let n = r.shape()[dd] as i64;
        if n == 0 {
            continue;
        }
        let s = s.rem_euclid(n);
        if s == 0 {
            continue;
        }
        let a = narrow(&r, dd as i64, n - s, s)?;
        let b = narrow(&r, dd as i64, 0, n - s)?;
        r = cat(&[&a, &b], dd as i64)?;
    }
    Ok(r)
}

fn tri(op: &'static str, t: &Tensor, diagonal: i64, lower: bool) -> Result<Tensor> {
    if t.ndim() < 2 {
        return invalid(op, "input tensor must have at least 2 dimensions");
    }
    let (r, c) = (t.shape()[t.ndim() - 2], t.shape()[t.ndim() - 1]);
    Ok(with_dtype!(t.dtype(), T => {
        let mut v = t.as_slice::<T>()?.to_vec();
        if r * c > 0 {
            for m in v.chunks_mut(r * c) {
                for i in 0..r {
                    for j in 0..c {
                        let k = j as i64 - i as i64;
                        let keep = if lower { k <= diagonal } else { k >= diagonal };
                        if !keep {
                            m[i * c + j] = T::default();
                        }
                    }
                }
            }
        }
        Tensor::from_parts(v, t.shape().to_vec())
    }))
}

/// `aten.tril` (keeps `j - i <= diagonal`).
pub fn tril(t: &Tensor, diagonal: i64) -> Result<Tensor> {
    tri("tril", t, diagonal, true)
}

/// `aten.triu` (keeps `j - i >= diagonal`).
pub fn triu(t: &Tensor, diagonal: i64) -> Result<Tensor> {
    tri("triu", t, diagonal, false)
}

/// `aten.constant_pad_nd`: `pad` holds (left, right) pairs starting from the last dim; negative
/// pads crop.
pub fn constant_pad_nd(t: &Tensor, pad: &[i64], value: Scalar) -> Result<Tensor> {
    if !pad.len().is_multiple_of(2) || pad.len() / 2 > t.ndim() {
        return invalid(
            "constant_pad_nd",
            "padding length must be even and at most 2 * ndim",
        );
    }
    let nd = t.ndim();
    let mut out_shape = t.shape().to_vec();
    let mut lo = vec![0i64; nd];
    for k in 0..pad.len() / 2 {
        let d = nd - 1 - k;
        let n = t.shape()[d] as i64 + pad[2 * k] + pad[2 * k + 1];
        if n < 0 {
            return invalid(
                "constant_pad_nd",
                format!("resulting padded dimension {d} would be negative"),
            );
        }
        out_shape[d] = n as usize;
        lo[d] = pad[2 * k];
    }
    // The overlap of input and output, in input coordinates.
    let mut region = vec![0usize; nd];
    let mut src_off = vec![0usize; nd];
    let mut dst_off = vec![0usize; nd];
    for d in 0..nd {
        let s0 = (-lo[d]).max(0);
        let s1 = (t.shape()[d] as i64).min(out_shape[d] as i64 - lo[d]);
        region[d] = (s1 - s0).max(0) as usize;
        src_off[d] = s0 as usize;
        dst_off[d] = (s0 + lo[d]) as usize;
    }
    let in_st = contiguous_strides(t.shape());
    let out_st = contiguous_strides(&out_shape);
    Ok(with_dtype!(t.dtype(), T => {
        let mut out = vec![value.cast::<T>(); numel(&out_shape)];
        let src = t.as_slice::<T>()?;
        let rn = numel(&region);
        if rn > 0 {
            let mut idx = vec![0usize; nd];
            for _ in 0..rn {
                let (mut si, mut di) = (0, 0);
                for d in 0..nd {
                    si += (idx[d] + src_off[d]) * in_st[d];
                    di += (idx[d] + dst_off[d]) * out_st[d];
                }
                out[di] = src[si];
                for d in (0..nd).rev() {
                    idx[d] += 1;
                    if idx[d] < region[d] {
                        break;
                    }
                    idx[d] = 0;
                }
            }
        }
        Tensor::from_parts(out, out_shape)
    }))
}

/// `aten.clone` (storage is immutable, so sharing it is a valid clone).
pub fn clone(t: &Tensor) -> Tensor {
    t.clone()
}

/// `aten.contiguous` (every tensor already is).
pub fn contiguous(t: &Tensor) -> Tensor {
    t.clone()
}

/// `aten._to_copy` / `aten.to.dtype`.
pub fn to_copy(t: &Tensor, dtype: Option<DType>) -> Tensor {
    dtype.map_or_else(|| t.clone(), |d| t.to_dtype(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ar(shape: &[usize]) -> Tensor {
        let n = numel(shape);
        Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), shape.to_vec()).unwrap()
    }

    #[test]
    fn views() {
        let x = ar(&[2, 3]);
        assert_eq!(reshape(&x, &[-1, 2]).unwrap().shape(), &[3, 2]);
        assert!(reshape(&x, &[4, -1]).is_err());
        assert_eq!(
            transpose(&x, 0, 1).unwrap().to_i64_vec(),
            vec![0, 3, 1, 4, 2, 5]
        );
        assert_eq!(
            expand(&ar(&[3, 1]), &[2, -1, 2]).unwrap().to_i64_vec(),
            vec![0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]
        );
        assert_eq!(
            squeeze(&ar(&[1, 3, 1]), Some(&[0])).unwrap().shape(),
            &[3, 1]
        );
        assert_eq!(squeeze(&ar(&[1, 3, 1]), None).unwrap().shape(), &[3]);
        assert_eq!(unsqueeze(&x, -1).unwrap().shape(), &[2, 3, 1]);
        assert_eq!(flatten(&ar(&[2, 3, 4]), 1, -1).unwrap().shape(), &[2, 12]);
    }

    #[test]
    fn slicing() {
        let x = ar(&[10]);
        assert_eq!(
            slice(&x, 0, Some(1), Some(8), 3).unwrap().to_i64_vec(),
            vec![1, 4, 7]
        );
        assert_eq!(
            slice(&x, 0, Some(-3), None, 1).unwrap().to_i64_vec(),
            vec![7, 8, 9]
        );
        assert_eq!(slice(&x, 0, Some(5), Some(100), 1).unwrap().numel(), 5);
        assert_eq!(slice(&x, 0, Some(7), Some(3), 1).unwrap().numel(), 0);
        assert_eq!(
            select(&ar(&[2, 3]), 1, -1).unwrap().to_i64_vec(),
            vec![2, 5]
        );
        assert!(select(&ar(&[2, 3]), 1, 3).is_err());
        let parts = split(&x, 4, 0).unwrap();
        assert_eq!(
            parts.iter().map(|p| p.numel()).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        assert_eq!(chunk(&ar(&[5]), 3, 0).unwrap().len(), 3);
        assert_eq!(chunk(&ar(&[6]), 4, 0).unwrap().len(), 3);
    }

    #[test]
    fn combine() {
        let a = ar(&[2, 2]);
        let b = Tensor::from_vec(vec![9.5f32, 8.5], vec![2, 1]).unwrap();
        let c = cat(&[&a, &b], 1).unwrap();
        assert_eq!(c.dtype(), DType::F32);
        assert_eq!(c.to_f64_vec(), vec![0.0, 1.0, 9.5, 2.0, 3.0, 8.5]);
        let e = Tensor::zeros(&[0], DType::I64);
        assert_eq!(cat(&[&a, &e], 0).unwrap().shape(), &[2, 2]);
        assert_eq!(stack(&[&a, &a], 1).unwrap().shape(), &[2, 2, 2]);
        assert_eq!(
            repeat(&Tensor::from_slice(&[1i64, 2]), &[2, 2])
                .unwrap()
                .to_i64_vec(),
            vec![1, 2, 1, 2, 1, 2, 1, 2]
        );
        assert_eq!(
            flip(&ar(&[2, 2]), &[0, 1]).unwrap().to_i64_vec(),
            vec![3, 2, 1, 0]
        );
        assert_eq!(
            roll(&ar(&[5]), &[2], &[0]).unwrap().to_i64_vec(),
            vec![3, 4, 0, 1, 2]
        );
        assert_eq!(
            roll(&ar(&[5]), &[-1], &[]).unwrap().to_i64_vec(),
            vec![1, 2, 3, 4, 0]
        );
        assert_eq!(
            tril(&ar(&[2, 3]), 0).unwrap().to_i64_vec(),
            vec![0, 0, 0, 3, 4, 0]
        );
        assert_eq!(
            triu(&ar(&[2, 3]), 1).unwrap().to_i64_vec(),
            vec![0, 1, 2, 0, 0, 5]
        );
    }

    #[test]
    fn padding() {
        let x = ar(&[2, 2]);
        let p = constant_pad_nd(&x, &[1, 0, 0, 1], Scalar::Int(-1)).unwrap();
        assert_eq!(p.shape(), &[3, 3]);
        assert_eq!(p.to_i64_vec(), vec![-1, 0, 1, -1, 2, 3, -1, -1, -1]);
        let c = constant_pad_nd(&x, &[-1, 0], Scalar::Int(0)).unwrap();
        assert_eq!(c.to_i64_vec(), vec![1, 3]);
    }
}
