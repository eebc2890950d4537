//! Indexing ops: `index_select`, `gather`, `scatter*`, advanced `index` / `index_put`,
//! `slice_scatter`, `select_scatter`, `embedding`, `one_hot`, `nonzero`, `masked_select`,
//! `repeat_interleave` (the index of a tensor of repeats).

use crate::dtype::{DType, Element};
use crate::error::{dtype_err, index_err, invalid, shape_err, Result};
use crate::kernels::elementwise::broadcast_to;
use crate::tensor::{broadcast_shapes, contiguous_strides, numel, wrap_dim, Scalar, Tensor};
use crate::with_dtype;

/// Integer index values as i64; errors for float indices.
fn index_values(op: &'static str, idx: &Tensor) -> Result<Vec<i64>> {
    if !idx.dtype().is_int() {
        return dtype_err(op, idx.dtype());
    }
    Ok(idx.to_i64_vec())
}

/// Wrap a possibly negative index into `0..n`.
pub(crate) fn wrap_index(op: &'static str, i: i64, n: usize) -> Result<usize> {
    let w = if i < 0 { i + n as i64 } else { i };
    if w < 0 || w >= n as i64 {
        return index_err(
            op,
            format!("index {i} is out of bounds for dimension with size {n}"),
        );
    }
    Ok(w as usize)
}

/// Storage offsets of a strided view (odometer order).
pub(crate) fn strided_offsets(shape: &[usize], strides: &[usize], offset: usize) -> Vec<usize> {
    let n = numel(shape);
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let nd = shape.len();
    let mut idx = vec![0usize; nd];
    let mut cur = offset;
    for _ in 0..n {
        out.push(cur);
        for d in (0..nd).rev() {
            idx[d] += 1;
            cur += strides[d];
            if idx[d] < shape[d] {
                break;
            }
            cur -= strides[d] * shape[d];
            idx[d] = 0;
        }
    }
    out
}

/// Element add in the element's own type (f16/bf16 round after each add, like PyTorch).
#[inline(always)]
fn add_elem<T: Element>(a: T, b: T) -> T {
    if T::DTYPE.is_float() {
        if T::DTYPE == DType::F64 {
            T::from_f64(a.to_f64() + b.to_f64())
        } else {
            T::from_f32(a.to_f32() + b.to_f32())
        }
    } else if T::DTYPE == DType::Bool {
        T::from_bool(a.to_bool() | b.to_bool())
    } else {
        T::from_i64(a.to_i64().wrapping_add(b.to_i64()))
    }
}

/// `aten.repeat_interleave.Tensor(repeats)`: `i` repeated `repeats[i]` times, for every `i`
/// in order (the index that `repeat_interleave(self, repeats)` gathers with), in `repeats`'
/// dtype. `output_size`, when given, must be the total.
pub fn repeat_interleave(repeats: &Tensor, output_size: Option<i64>) -> Result<Tensor> {
    const OP: &str = "repeat_interleave";
    if repeats.ndim() > 1 {
        return shape_err(
            OP,
            format!("repeats must be 0-d or 1-d, got {:?}", repeats.shape()),
        );
    }
    let r = index_values(OP, repeats)?;
    if let Some(bad) = r.iter().find(|&&v| v < 0) {
        return invalid(OP, format!("repeats must be non-negative, got {bad}"));
    }
    let total: i64 = r.iter().sum();
    if let Some(n) = output_size {
        if n != total {
            return invalid(
                OP,
                format!("output_size {n} does not match the sum of repeats {total}"),
            );
        }
    }
    let out: Vec<i64> = r
        .iter()
        .enumerate()
        .flat_map(|(i, &k)| std::iter::repeat_n(i as i64, k as usize))
        .collect();
    let n = out.len();
    Ok(Tensor::from_parts(out, vec![n]).to_dtype(repeats.dtype()))
}

/// `aten.index_select` (index is 0-d or 1-d).
pub fn index_select(t: &Tensor, dim: i64, index: &Tensor) -> Result<Tensor> {
    if index.ndim() > 1 {
        return invalid("index_select", "index must be 0-d or 1-d");
    }
    let d = wrap_dim("index_select", dim, t.ndim())?;
    let nd = t.shape().get(d).copied().unwrap_or(1);
    let idx: Vec<usize> = index_values("index_select", index)?
        .into_iter()
        .map(|i| wrap_index("index_select", i, nd))
        .collect::<Result<_>>()?;
    if t.ndim() == 0 {
        return Ok(t.clone());
    }
    let outer: usize = t.shape()[..d].iter().product();
    let inner: usize = t.shape()[d + 1..].iter().product();
    let mut shape = t.shape().to_vec();
    shape[d] = idx.len();
    Ok(with_dtype!(t.dtype(), T => {
        let src = t.as_slice::<T>()?;
        let mut out: Vec<T> = Vec::with_capacity(numel(&shape));
        for o in 0..outer {
            for &i in &idx {
                let b = (o * nd + i) * inner;
                out.extend_from_slice(&src[b..b + inner]);
            }
        }
        Tensor::from_parts(out, shape)
    }))
}

/// Check the gather/scatter shape rule: `index.size(d) <= other.size(d)` for `d != dim`.
pub(crate) fn check_index_shape(
    op: &'static str,
    t: &Tensor,
    index: &Tensor,
    dim: usize,
    src: Option<&Tensor>,
) -> Result<()> {
    if index.ndim() != t.ndim().max(1) && !(index.ndim() == 0 && t.ndim() == 0) {
        return shape_err(
            op,
            "index tensor must have the same number of dimensions as input",
        );
    }
    for d in 0..index.ndim() {
        let isz = index.shape()[d];
        if d != dim && isz > t.shape().get(d).copied().unwrap_or(1) {
            return shape_err(
                op,
                format!("index size {isz} exceeds input size at dim {d}"),
            );
        }
        if let Some(s) = src {
            if isz > s.shape().get(d).copied().unwrap_or(1) {
                return shape_err(op, format!("index size {isz} exceeds src size at dim {d}"));
            }
        }
    }
    Ok(())
}

/// For each element of `index`, the (target offset in `t`, offset of the same position in a
/// tensor of `other_shape`).
#[allow(clippy::needless_range_loop)]
pub(crate) fn scatter_offsets(
    op: &'static str,
    t: &Tensor,
    dim: usize,
    index: &Tensor,
    other_shape: &[usize],
) -> Result<Vec<(usize, usize)>> {
    let iv = index_values(op, index)?;
    let ishape = index.shape().to_vec();
    let tst = contiguous_strides(t.shape());
    let ost = contiguous_strides(other_shape);
    let mut out = Vec::with_capacity(iv.len());
    let nd = ishape.len();
    let mut idx = vec![0usize; nd];
    let dsz = t.shape().get(dim).copied().unwrap_or(1);
    for &v in &iv {
        let w = wrap_index(op, v, dsz)?;
        let (mut to, mut oo) = (0, 0);
        for d in 0..nd {
            let td = if d == dim { w } else { idx[d] };
            to += td * tst.get(d).copied().unwrap_or(0);
            oo += idx[d] * ost.get(d).copied().unwrap_or(0);
        }
        out.push((to, oo));
        for d in (0..nd).rev() {
            idx[d] += 1;
            if idx[d] < ishape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(out)
}

/// `aten.gather(t, dim, index)`: `out[i][j] = t[index[i][j]][j]` for `dim = 0`.
pub fn gather(t: &Tensor, dim: i64, index: &Tensor) -> Result<Tensor> {
    let d = wrap_dim("gather", dim, t.ndim())?;
    check_index_shape("gather", t, index, d, None)?;
    let offs = scatter_offsets("gather", t, d, index, index.shape())?;
    Ok(with_dtype!(t.dtype(), T => {
        let src = t.as_slice::<T>()?;
        Tensor::from_parts(offs.iter().map(|&(o, _)| src[o]).collect::<Vec<T>>(), index.shape().to_vec())
    }))
}

/// Scatter reduction mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScatterReduce {
    /// Overwrite (`scatter`).
    None,
    /// Accumulate (`scatter_add`).
    Add,
}

fn scatter_impl(
    t: &Tensor,
    dim: i64,
    index: &Tensor,
    src: Option<&Tensor>,
    value: Scalar,
    reduce: ScatterReduce,
) -> Result<Tensor> {
    let d = wrap_dim("scatter", dim, t.ndim())?;
    check_index_shape("scatter", t, index, d, src)?;
    let src_shape = src.map_or(index.shape().to_vec(), |s| s.shape().to_vec());
    let offs = scatter_offsets("scatter", t, d, index, &src_shape)?;
    let src = src.map(|s| s.to_dtype(t.dtype()));
    Ok(with_dtype!(t.dtype(), T => {
        let mut out = t.as_slice::<T>()?.to_vec();
        let sv: Option<&[T]> = src.as_ref().map(|s| s.as_slice::<T>()).transpose()?;
        let val = value.cast::<T>();
        for &(to, so) in &offs {
            let v = sv.map_or(val, |s| s[so]);
            out[to] = match reduce {
                ScatterReduce::None => v,
                ScatterReduce::Add => add_elem(out[to], v),
            };
        }
        Tensor::from_parts(out, t.shape().to_vec())
    }))
}

/// `aten.scatter.src`.
pub fn scatter(t: &Tensor, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
    scatter_impl(
        t,
        dim,
        index,
        Some(src),
        Scalar::Int(0),
        ScatterReduce::None,
    )
}

/// `aten.scatter.value`.
pub fn scatter_value(t: &Tensor, dim: i64, index: &Tensor, value: Scalar) -> Result<Tensor> {
    scatter_impl(t, dim, index, None, value, ScatterReduce::None)
}

/// `aten.scatter_add`.
pub fn scatter_add(t: &Tensor, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
    scatter_impl(t, dim, index, Some(src), Scalar::Int(0), ScatterReduce::Add)
}

/// Resolved advanced indexing: output shape and the source offset of every output element.
struct AdvIndex {
    shape: Vec<usize>,
    offsets: Vec<usize>,
}

fn resolve_index(op: &'static str, t: &Tensor, indices: &[Option<Tensor>]) -> Result<AdvIndex> {
    // Expand bool/uint8 masks into one long index per masked dim (like `mask.nonzero()`).
    let mut idx: Vec<Option<Tensor>> = Vec::new();
    for i in indices {
        match i {
            Some(m) if m.dtype() == DType::Bool || m.dtype() == DType::U8 => {
                let start = idx.len();
                if start + m.ndim() > t.ndim() {
                    return index_err(op, "too many indices for tensor");
                }
                for (k, &s) in m.shape().iter().enumerate() {
                    if s != t.shape()[start + k] {
                        return index_err(
                            op,
                            format!(
                                "mask shape {:?} does not match indexed shape {:?}",
                                m.shape(),
                                &t.shape()[start..start + m.ndim()]
                            ),
                        );
                    }
                }
                let nz = nonzero(&m.to_dtype(DType::Bool))?;
                let cols = nz.shape()[1];
                let v = nz.to_i64_vec();
                for c in 0..cols {
                    let col: Vec<i64> = v.iter().skip(c).step_by(cols.max(1)).copied().collect();
                    idx.push(Some(Tensor::from_slice(&col)));
                }
                if m.ndim() == 0 {
                    // A 0-dim mask adds a dim of size 0 or 1; rare, not supported.
                    return invalid(op, "0-dim boolean index is not supported");
                }
            }
            Some(x) if !x.dtype().is_int() => return dtype_err(op, x.dtype()),
            other => idx.push(other.clone()),
        }
    }
    if idx.len() > t.ndim() {
        return index_err(
            op,
            format!("too many indices for tensor of dimension {}", t.ndim()),
        );
    }
    idx.resize(t.ndim(), None);
    let dims: Vec<usize> = (0..idx.len()).filter(|&d| idx[d].is_some()).collect();
    if dims.is_empty() {
        return Ok(AdvIndex {
            shape: t.shape().to_vec(),
            offsets: (0..t.numel()).collect(),
        });
    }
    let mut bshape: Vec<usize> = Vec::new();
    for &d in &dims {
        bshape = broadcast_shapes(op, &bshape, idx[d].as_ref().expect("some").shape())?;
    }
    let st = contiguous_strides(t.shape());
    let nb = numel(&bshape);
    // Offset contributed by the indexed dims, for every broadcast position.
    let mut boff = vec![0usize; nb];
    for &d in &dims {
        let it = broadcast_to(idx[d].as_ref().expect("some"), &bshape)?;
        for (o, v) in boff.iter_mut().zip(it.to_i64_vec()) {
            *o += wrap_index(op, v, t.shape()[d])? * st[d];
        }
    }
    let adjacent = dims.windows(2).all(|w| w[1] == w[0] + 1);
    let rest_before: Vec<usize> = if adjacent {
        (0..dims[0]).collect()
    } else {
        Vec::new()
    };
    let rest_after: Vec<usize> = (0..t.ndim())
        .filter(|d| !dims.contains(d) && !rest_before.contains(d))
        .collect();
    let shp = |ds: &[usize]| ds.iter().map(|&d| t.shape()[d]).collect::<Vec<_>>();
    let stp = |ds: &[usize]| ds.iter().map(|&d| st[d]).collect::<Vec<_>>();
    let outer = strided_offsets(&shp(&rest_before), &stp(&rest_before), 0);
    let inner = strided_offsets(&shp(&rest_after), &stp(&rest_after), 0);
    let mut shape = shp(&rest_before);
    shape.extend_from_slice(&bshape);
    shape.extend(shp(&rest_after));
    let mut offsets = Vec::with_capacity(numel(&shape));
    for &o in &outer {
        for &b in &boff {
            for &i in &inner {
                offsets.push(o + b + i);
            }
        }
    }
    Ok(AdvIndex { shape, offsets })
}

/// `aten.index.Tensor`: advanced indexing with a list of optional index tensors (int or bool),
/// broadcast together. Indexed dims that are adjacent keep their place in the result; otherwise
/// the broadcast index dims come first, like NumPy.
pub fn index(t: &Tensor, indices: &[Option<Tensor>]) -> Result<Tensor> {
    let a = resolve_index("index", t, indices)?;
    Ok(with_dtype!(t.dtype(), T => {
        let src = t.as_slice::<T>()?;
        Tensor::from_parts(a.offsets.iter().map(|&o| src[o]).collect::<Vec<T>>(), a.shape)
    }))
}

/// `aten.index_put`: `values` broadcasts to the shape of `index(t, indices)`; with `accumulate`
/// duplicates add up, otherwise the last write wins.
pub fn index_put(
    t: &Tensor,
    indices: &[Option<Tensor>],
    values: &Tensor,
    accumulate: bool,
) -> Result<Tensor> {
    let a = resolve_index("index_put", t, indices)?;
    let v = broadcast_to(&values.to_dtype(t.dtype()), &a.shape)?;
    Ok(with_dtype!(t.dtype(), T => {
        let mut out = t.as_slice::<T>()?.to_vec();
        for (&o, &x) in a.offsets.iter().zip(v.as_slice::<T>()?) {
            out[o] = if accumulate { add_elem(out[o], x) } else { x };
        }
        Tensor::from_parts(out, t.shape().to_vec())
    }))
}

fn write_view(
    t: &Tensor,
    src: &Tensor,
    offs: &[usize],
    view_shape: &[usize],
    op: &'static str,
) -> Result<Tensor> {
    if src.shape() != view_shape {
        return shape_err(
            op,
            format!(
                "src shape {:?} does not match view shape {view_shape:?}",
                src.shape()
            ),
        );
    }
    let src = src.to_dtype(t.dtype());
    Ok(with_dtype!(t.dtype(), T => {
        let mut out = t.as_slice::<T>()?.to_vec();
        for (&o, &x) in offs.iter().zip(src.as_slice::<T>()?) {
            out[o] = x;
        }
        Tensor::from_parts(out, t.shape().to_vec())
    }))
}

/// `aten.slice_scatter`: `t` with `t[dim][start:end:step] = src`.
pub fn slice_scatter(
    t: &Tensor,
    src: &Tensor,
    dim: i64,
    start: Option<i64>,
    end: Option<i64>,
    step: i64,
) -> Result<Tensor> {
    // Slice an iota to learn which offsets the view covers.
    let iota = Tensor::from_parts(
        (0..t.numel() as i64).collect::<Vec<_>>(),
        t.shape().to_vec(),
    );
    let v = crate::kernels::shape::slice(&iota, dim, start, end, step)?;
    let offs: Vec<usize> = v.to_i64_vec().into_iter().map(|o| o as usize).collect();
    write_view(t, src, &offs, v.shape(), "slice_scatter")
}

/// `aten.select_scatter`: `t` with `t.select(dim, index) = src`.
pub fn select_scatter(t: &Tensor, src: &Tensor, dim: i64, index: i64) -> Result<Tensor> {
    let iota = Tensor::from_parts(
        (0..t.numel() as i64).collect::<Vec<_>>(),
        t.shape().to_vec(),
    );
    let v = crate::kernels::shape::select(&iota, dim, index)?;
    let offs: Vec<usize> = v.to_i64_vec().into_iter().map(|o| o as usize).collect();
    write_view(t, src, &offs, v.shape(), "select_scatter")
}

/// `aten.embedding(weight, indices)`: rows of `weight` gathered into `indices.shape + [dim]`.
pub fn embedding(weight: &Tensor, indices: &Tensor) -> Result<Tensor> {
    if weight.ndim() != 2 {
        return invalid("embedding", "weight must be 2-D");
    }
    let flat = indices.with_shape(vec![indices.numel()])?;
    let r = index_select(weight, 0, &flat)?;
    let mut shape = indices.shape().to_vec();
    shape.push(weight.shape()[1]);
    r.with_shape(shape)
}

/// `aten.one_hot` (int64 result; `num_classes = -1` infers `max + 1`).
pub fn one_hot(t: &Tensor, num_classes: i64) -> Result<Tensor> {
    if t.dtype() != DType::I64 {
        return dtype_err("one_hot", t.dtype());
    }
    let v = t.to_i64_vec();
    let c = if num_classes < 0 {
        if v.is_empty() {
            return invalid(
                "one_hot",
                "can not infer total number of classes from empty tensor",
            );
        }
        v.iter().copied().max().unwrap_or(0) + 1
    } else {
        num_classes
    };
    let c = c as usize;
    let mut out = vec![0i64; v.len() * c];
    for (i, &x) in v.iter().enumerate() {
        if x < 0 || x as usize >= c {
            return index_err("one_hot", "class values must be in [0, num_classes)");
        }
        out[i * c + x as usize] = 1;
    }
    let mut shape = t.shape().to_vec();
    shape.push(c);
    Ok(Tensor::from_parts(out, shape))
}

/// `aten.nonzero`: `[n, ndim]` int64 coordinates in row-major order.
pub fn nonzero(t: &Tensor) -> Result<Tensor> {
    let nz = t.to_bool_vec();
    let shape = t.shape();
    let nd = shape.len();
    let mut out = Vec::new();
    let mut idx = vec![0usize; nd];
    let mut count = 0;
    for &b in &nz {
        if b {
            out.extend(idx.iter().map(|&i| i as i64));
            count += 1;
        }
        for d in (0..nd).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(Tensor::from_parts(out, vec![count, nd]))
}

/// `aten.masked_select`: 1-d result of the elements where the (broadcast) mask is true.
pub fn masked_select(t: &Tensor, mask: &Tensor) -> Result<Tensor> {
    if mask.dtype() != DType::Bool {
        return dtype_err("masked_select", mask.dtype());
    }
    let shape = broadcast_shapes("masked_select", t.shape(), mask.shape())?;
    let t = broadcast_to(t, &shape)?;
    let m = broadcast_to(mask, &shape)?;
    let m = m.as_slice::<bool>()?;
    Ok(with_dtype!(t.dtype(), T => {
        let v: Vec<T> = t.as_slice::<T>()?.iter().zip(m).filter(|(_, &b)| b).map(|(&x, _)| x).collect();
        let n = v.len();
        Tensor::from_parts(v, vec![n])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ar(shape: &[usize]) -> Tensor {
        Tensor::from_vec((0..numel(shape) as i64).collect::<Vec<_>>(), shape.to_vec()).unwrap()
    }
    fn i(v: &[i64]) -> Tensor {
        Tensor::from_slice(v)
    }

    #[test]
    fn select_gather_scatter() {
        let x = ar(&[3, 2]);
        assert_eq!(
            index_select(&x, 0, &i(&[2, 0, -1])).unwrap().to_i64_vec(),
            vec![4, 5, 0, 1, 4, 5]
        );
        assert!(index_select(&x, 0, &i(&[3])).is_err());
        let idx = Tensor::from_vec(vec![1i64, 0, 0, 0], vec![2, 2]).unwrap();
        assert_eq!(gather(&x, 1, &idx).unwrap().to_i64_vec(), vec![1, 0, 2, 2]);
        let z = Tensor::zeros(&[2, 3], DType::I64);
        let idx = Tensor::from_vec(vec![0i64, 2, 1, 1], vec![2, 2]).unwrap();
        let src = Tensor::from_vec(vec![1i64, 2, 3, 4], vec![2, 2]).unwrap();
        assert_eq!(
            scatter(&z, 1, &idx, &src).unwrap().to_i64_vec(),
            vec![1, 0, 2, 0, 4, 0]
        );
        assert_eq!(
            scatter_add(&z, 1, &idx, &src).unwrap().to_i64_vec(),
            vec![1, 0, 2, 0, 7, 0]
        );
        assert_eq!(
            scatter_value(&z, 1, &idx, Scalar::Int(9))
                .unwrap()
                .to_i64_vec(),
            vec![9, 0, 9, 0, 9, 0]
        );
    }

    #[test]
    fn advanced_indexing() {
        let x = ar(&[3, 4]);
        let r = index(&x, &[Some(i(&[0, 2])), Some(i(&[1, 3]))]).unwrap();
        assert_eq!(r.to_i64_vec(), vec![1, 11]);
        let r = index(&x, &[None, Some(i(&[0, 0]))]).unwrap();
        assert_eq!(
            (r.shape().to_vec(), r.to_i64_vec()),
            (vec![3, 2], vec![0, 0, 4, 4, 8, 8])
        );
        let m = Tensor::from_slice(&[true, false, true]);
        let r = index(&x, &[Some(m)]).unwrap();
        assert_eq!(r.shape(), &[2, 4]);
        // Non-adjacent advanced indices: broadcast dims go first.
        let y = ar(&[2, 3, 4]);
        let r = index(&y, &[Some(i(&[1, 0])), None, Some(i(&[0, 3]))]).unwrap();
        assert_eq!(r.shape(), &[2, 3]);
        assert_eq!(r.to_i64_vec(), vec![12, 16, 20, 3, 7, 11]);
        let p = index_put(
            &Tensor::zeros(&[3], DType::F32),
            &[Some(i(&[0, 0, 2]))],
            &Tensor::from_slice(&[1.0f32]),
            true,
        )
        .unwrap();
        assert_eq!(p.to_f64_vec(), vec![2.0, 0.0, 1.0]);
        assert!(index(&x, &[Some(i(&[5]))]).is_err());
    }

    #[test]
    fn misc() {
        let n = nonzero(&Tensor::from_vec(vec![0i64, 3, 5, 0], vec![2, 2]).unwrap()).unwrap();
        assert_eq!(
            (n.shape().to_vec(), n.to_i64_vec()),
            (vec![2, 2], vec![0, 1, 1, 0])
        );
        assert_eq!(
            one_hot(&i(&[0, 2]), -1).unwrap().to_i64_vec(),
            vec![1, 0, 0, 0, 0, 1]
        );
        let w = ar(&[4, 2]);
        let e = embedding(&w, &Tensor::from_vec(vec![3i64, 1], vec![1, 2]).unwrap()).unwrap();
        assert_eq!(
            (e.shape().to_vec(), e.to_i64_vec()),
            (vec![1, 2, 2], vec![6, 7, 2, 3])
        );
        let s = slice_scatter(
            &Tensor::zeros(&[4], DType::I64),
            &i(&[1, 2]),
            0,
            Some(0),
            None,
            2,
        )
        .unwrap();
        assert_eq!(s.to_i64_vec(), vec![1, 0, 2, 0]);
        let s = select_scatter(&Tensor::zeros(&[2, 2], DType::I64), &i(&[5, 6]), 0, 1).unwrap();
        assert_eq!(s.to_i64_vec(), vec![0, 0, 5, 6]);
        let ms = masked_select(&ar(&[2, 2]), &Tensor::from_slice(&[true, false])).unwrap();
        assert_eq!(ms.to_i64_vec(), vec![0, 2]);
    }
}
