//! Search and order statistics: `searchsorted`, `median`, `nanmedian`, `kthvalue`, `mode`;
//! data-dependent selections: `nonzero_static`, `combinations`, `masked_scatter`, `bincount`,
//! `unique` (`_unique2`, `unique_consecutive`); `put` and `max_unpool`.
//!
//! The order statistics return the index PyTorch's CPU kernels return when values tie: each
//! kernel follows the selection algorithm ATen runs (`median`: the `(value, index)` order;
//! `kthvalue`: ATen's quick-select; `mode`: the last index of the run after sorting).

use crate::dtype::{DType, Element};
use crate::error::{dtype_err, index_err, invalid, shape_err, Result};
use crate::kernels::elementwise::broadcast_to;
use crate::kernels::index::wrap_index;
use crate::kernels::shape::movedim;
use crate::tensor::{numel, wrap_dim, Scalar, Tensor};
use crate::with_dtype;
use std::cmp::Ordering;

#[allow(clippy::eq_op)]
#[inline(always)]
fn is_nan<T: PartialEq>(x: T) -> bool {
    x != x
}

/// Total order with NaN above every number (ATen's sort order).
fn cmp_nan_last<T: Element>(a: &T, b: &T) -> Ordering {
    match (is_nan(*a), is_nan(*b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// Reduces every lane along `dim` to one `(value, index)` pair with `f`; returns the values
/// (dtype of `t`) and the int64 indices, with `dim` kept as size 1 or removed.
fn lane_select<T: Element>(
    op: &'static str,
    t: &Tensor,
    dim: i64,
    keepdim: bool,
    f: impl Fn(&[T]) -> Result<(T, i64)>,
) -> Result<(Tensor, Tensor)> {
    if t.ndim() == 0 {
        wrap_dim(op, dim, 0)?;
        let (v, i) = f(t.as_slice::<T>()?)?;
        return Ok((Tensor::from_parts(vec![v], vec![]), Tensor::scalar(i)));
    }
    let d = wrap_dim(op, dim, t.ndim())?;
    let n = t.shape()[d];
    if n == 0 {
        return index_err(op, format!("dimension {d} is empty"));
    }
    let moved = movedim(t, d as i64, -1)?;
    let s = moved.as_slice::<T>()?;
    let mut vals = Vec::with_capacity(s.len() / n);
    let mut idxs = Vec::with_capacity(s.len() / n);
    for lane in s.chunks(n) {
        let (v, i) = f(lane)?;
        vals.push(v);
        idxs.push(i);
    }
    let mut shape = t.shape().to_vec();
    if keepdim {
        shape[d] = 1;
    } else {
        shape.remove(d);
    }
    Ok((
        Tensor::from_parts(vals, shape.clone()),
        Tensor::from_parts(idxs, shape),
    ))
}

/// The median of one lane as ATen's `median_with_indices_impl` picks it: the first NaN for
/// `median`; otherwise element `(n - 1) / 2` of the lane ordered by `(value, index)` over the
/// non-NaN values (`nanmedian`: position 0, a NaN, when every value is NaN).
fn median_lane<T: Element>(a: &[T], ignore_nan: bool) -> (T, i64) {
    if !ignore_nan {
        if let Some(i) = a.iter().position(|x| is_nan(*x)) {
            return (a[i], i as i64);
        }
    }
    let mut idx: Vec<usize> = (0..a.len()).collect();
    // A stable sort by value is the `(value, index)` order; NaNs go last.
    idx.sort_by(|&i, &j| cmp_nan_last(&a[i], &a[j]));
    let valid = a.iter().filter(|x| !is_nan(**x)).count();
    let k = valid.saturating_sub(1) / 2;
    (a[idx[k]], idx[k] as i64)
}

/// `aten.median.default` / `aten.nanmedian.default`: the median of every element (NaN for an
/// empty float tensor, as PyTorch).
pub fn median_all(t: &Tensor, ignore_nan: bool) -> Result<Tensor> {
    let op = if ignore_nan { "nanmedian" } else { "median" };
    with_dtype!(t.dtype(), T => {
        let s = t.as_slice::<T>()?;
        if s.is_empty() {
            if !t.dtype().is_float() {
                return invalid(op, "median of an empty integer tensor");
            }
            return Ok(Tensor::from_parts(vec![T::from_f64(f64::NAN)], vec![]));
        }
        Ok(Tensor::from_parts(vec![median_lane(s, ignore_nan).0], vec![]))
    })
}

/// `aten.median.dim` / `aten.nanmedian.dim` → (values, int64 indices).
pub fn median_dim(
    t: &Tensor,
    dim: i64,
    keepdim: bool,
    ignore_nan: bool,
) -> Result<(Tensor, Tensor)> {
    let op = if ignore_nan { "nanmedian" } else { "median" };
    with_dtype!(t.dtype(), T => lane_select::<T>(op, t, dim, keepdim, |a| Ok(median_lane(a, ignore_nan))))
}

/// ATen's `quick_select_template` (`SortingUtils.h`) on `(values, indices)` with the
/// "greater, or NaN" comparison: after it, position `k` holds the k-th smallest value and the
/// index it came from. Reproduced step for step, since which of several equal values ends at
/// `k` depends on the exact swaps.
fn quick_select<T: Element>(v: &mut [T], ix: &mut [i64], k: usize) {
    let gt = |x: T, y: T| (is_nan(x) && !is_nan(y)) || x > y;
    let swap = |v: &mut [T], ix: &mut [i64], i: usize, j: usize| {
        v.swap(i, j);
        ix.swap(i, j);
    };
    let (mut l, mut r) = (0usize, v.len() - 1);
    loop {
        if r <= l {
            return;
        }
        if r == l + 1 {
            if gt(v[l], v[r]) {
                swap(v, ix, l, r);
            }
            return;
        }
        let p = l + (r - l) / 2;
        swap(v, ix, p, l + 1);
        if gt(v[l + 1], v[r]) {
            swap(v, ix, l + 1, r);
        }
        if gt(v[l], v[r]) {
            swap(v, ix, l, r);
        }
        if gt(v[l + 1], v[l]) {
            swap(v, ix, l + 1, l);
        }
        let (mut i, mut j) = (l + 1, r);
        let piv = v[l];
        loop {
            i += 1;
            while gt(piv, v[i]) {
                i += 1;
            }
            j -= 1;
            while gt(v[j], piv) {
                j -= 1;
            }
            if j < i {
                break;
            }
            swap(v, ix, i, j);
        }
        swap(v, ix, l, j);
        if j <= k {
            l = i;
        }
        if j >= k {
            r = j - 1;
        }
    }
}

/// `aten.kthvalue(self, k, dim, keepdim)` → (the k-th smallest value, its int64 index).
pub fn kthvalue(t: &Tensor, k: i64, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let n = if t.ndim() == 0 {
        1
    } else {
        t.shape()[wrap_dim("kthvalue", dim, t.ndim())?]
    };
    if k < 1 || k as usize > n {
        return index_err(
            "kthvalue",
            format!("k ({k}) is out of range for a dimension of size {n}"),
        );
    }
    let k = (k - 1) as usize;
    with_dtype!(t.dtype(), T => lane_select::<T>("kthvalue", t, dim, keepdim, |a| {
        let mut v = a.to_vec();
        let mut ix: Vec<i64> = (0..a.len() as i64).collect();
        quick_select(&mut v, &mut ix, k);
        Ok((v[k], ix[k]))
    }))
}

/// `aten.mode(self, dim, keepdim)` → (the most frequent value, an int64 index of it). As in
/// ATen's CPU kernel, the lane's `(value, index)` pairs are sorted by value with `std::sort`
/// (reproduced by [`std_sort`], since which index ends a run of equal values depends on its
/// exact moves) and the first longest run wins, reporting the index at its end.
pub fn mode(t: &Tensor, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    with_dtype!(t.dtype(), T => lane_select::<T>("mode", t, dim, keepdim, |a| {
        let mut e: Vec<(T, usize)> = a.iter().copied().zip(0..).collect();
        std_sort(&mut e, &|x: &(T, usize), y: &(T, usize)| {
            x.0.partial_cmp(&y.0) == Some(Ordering::Less)
        });
        let (mut best, mut best_n, mut run) = (e[0], 0usize, 0usize);
        for p in 0..e.len() {
            run += 1;
            if p + 1 == e.len() || e[p].0 != e[p + 1].0 {
                if run > best_n {
                    best = e[p];
                    best_n = run;
                }
                run = 0;
            }
        }
        Ok((best.0, best.1 as i64))
    }))
}

/// libstdc++'s `std::sort` (introsort: median-of-three quicksort down to runs of 16, heapsort
/// past a depth of `2 * floor(log2 n)`, then insertion sort), step for step. It is not stable;
/// kernels whose tie-breaking follows ATen's use of `std::sort` need its exact permutation.
fn std_sort<E: Copy>(v: &mut [E], less: &dyn Fn(&E, &E) -> bool) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let depth = 2 * (usize::BITS - 1 - n.leading_zeros()) as usize;
    introsort_loop(v, 0, n, depth, less);
    // `__final_insertion_sort`.
    if n > 16 {
        insertion_sort(v, 0, 16, less);
        for i in 16..n {
            unguarded_linear_insert(v, i, less);
        }
    } else {
        insertion_sort(v, 0, n, less);
    }
}

fn introsort_loop<E: Copy>(
    v: &mut [E],
    first: usize,
    mut last: usize,
    mut depth: usize,
    less: &dyn Fn(&E, &E) -> bool,
) {
    while last - first > 16 {
        if depth == 0 {
            heap_sort(&mut v[first..last], less);
            return;
        }
        depth -= 1;
        // `__unguarded_partition_pivot`: the median of (first + 1, mid, last - 1) to `first`.
        let mid = first + (last - first) / 2;
        let (a, b, c) = (first + 1, mid, last - 1);
        let m = if less(&v[a], &v[b]) {
            if less(&v[b], &v[c]) {
                b
            } else if less(&v[a], &v[c]) {
                c
            } else {
                a
            }
        } else if less(&v[a], &v[c]) {
            a
        } else if less(&v[b], &v[c]) {
            c
        } else {
            b
        };
        v.swap(first, m);
        // `__unguarded_partition(first + 1, last, first)`.
        let (mut lo, mut hi) = (first + 1, last);
        let cut = loop {
            while less(&v[lo], &v[first]) {
                lo += 1;
            }
            hi -= 1;
            while less(&v[first], &v[hi]) {
                hi -= 1;
            }
            if lo >= hi {
                break lo;
            }
            v.swap(lo, hi);
            lo += 1;
        };
        introsort_loop(v, cut, last, depth, less);
        last = cut;
    }
}

fn insertion_sort<E: Copy>(v: &mut [E], first: usize, last: usize, less: &dyn Fn(&E, &E) -> bool) {
    for i in first + 1..last {
        if less(&v[i], &v[first]) {
            let x = v[i];
            v.copy_within(first..i, first + 1);
            v[first] = x;
        } else {
            unguarded_linear_insert(v, i, less);
        }
    }
}

fn unguarded_linear_insert<E: Copy>(v: &mut [E], mut last: usize, less: &dyn Fn(&E, &E) -> bool) {
    let x = v[last];
    while less(&x, &v[last - 1]) {
        v[last] = v[last - 1];
        last -= 1;
    }
    v[last] = x;
}

/// `std::__partial_sort(first, last, last)`: `make_heap`, then `sort_heap`.
fn heap_sort<E: Copy>(v: &mut [E], less: &dyn Fn(&E, &E) -> bool) {
    let len = v.len();
    if len < 2 {
        return;
    }
    let mut parent = (len - 2) / 2;
    loop {
        let x = v[parent];
        adjust_heap(v, parent, len, x, less);
        if parent == 0 {
            break;
        }
        parent -= 1;
    }
    let mut last = len;
    while last > 1 {
        last -= 1;
        let x = v[last];
        v[last] = v[0];
        adjust_heap(v, 0, last, x, less);
    }
}

fn adjust_heap<E: Copy>(
    v: &mut [E],
    mut hole: usize,
    len: usize,
    x: E,
    less: &dyn Fn(&E, &E) -> bool,
) {
    let top = hole;
    let mut child = hole;
    while child < (len - 1) / 2 {
        child = 2 * (child + 1);
        if less(&v[child], &v[child - 1]) {
            child -= 1;
        }
        v[hole] = v[child];
        hole = child;
    }
    if len & 1 == 0 && child == (len - 2) / 2 {
        child = 2 * (child + 1);
        v[hole] = v[child - 1];
        hole = child - 1;
    }
    // `__push_heap`.
    while hole > top {
        let parent = (hole - 1) / 2;
        if !less(&v[parent], &x) {
            break;
        }
        v[hole] = v[parent];
        hole = parent;
    }
    v[hole] = x;
}

/// Values as one comparable type: i64 when both operands are integral (exact), else f64.
enum Keys {
    Int(Vec<i64>),
    Float(Vec<f64>),
}

fn keys_of(t: &Tensor, int: bool) -> Keys {
    if int {
        Keys::Int(t.to_i64_vec())
    } else {
        Keys::Float(t.to_f64_vec())
    }
}

/// ATen's `cus_lower_bound` / `cus_upper_bound` over `seq[lo..hi]` (through `sorter` when
/// given): the first position whose value is not below (`right`: above) `v`. A NaN value is
/// above everything, so it lands past the end.
fn bound<K: PartialOrd + Copy>(seq: &[K], sorter: Option<&[i64]>, v: K, right: bool) -> usize {
    let (mut lo, mut hi) = (0usize, seq.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let m = match sorter {
            Some(s) => seq[s[mid] as usize],
            None => seq[mid],
        };
        // `m > v` (`right`) or `m >= v` (left); an unordered pair (NaN) is neither.
        let above = match m.partial_cmp(&v) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => !right,
            _ => false,
        };
        if !above {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// `aten.searchsorted(sorted_sequence, values, out_int32, right, side, sorter)`: for each value,
/// its insertion position in the innermost dim of `sorted_sequence` (1-d: shared by every value;
/// otherwise one sequence per leading index, matching `values`' leading dims).
pub fn searchsorted(
    seq: &Tensor,
    values: &Tensor,
    out_int32: bool,
    right: bool,
    sorter: Option<&Tensor>,
) -> Result<Tensor> {
    let op = "searchsorted";
    if seq.ndim() == 0 {
        return shape_err(op, "the sorted sequence must have at least one dimension");
    }
    let n = *seq.shape().last().unwrap_or(&0);
    let lead = &seq.shape()[..seq.ndim() - 1];
    let per_row = seq.ndim() > 1;
    if per_row {
        let vl = values.shape();
        if vl.len() != seq.ndim() || &vl[..vl.len() - 1] != lead {
            return shape_err(
                op,
                format!(
                    "boundaries {:?} and values {:?} must have the same leading dims",
                    seq.shape(),
                    values.shape()
                ),
            );
        }
    }
    let sorter = match sorter {
        Some(s) => {
            if s.shape() != seq.shape() {
                return shape_err(op, "sorter must have the shape of the sorted sequence");
            }
            let v = s.to_i64_vec();
            if v.iter().any(|&i| i < 0 || i as usize >= n) {
                return index_err(op, "sorter index out of range");
            }
            Some(v)
        }
        None => None,
    };
    let m = if per_row {
        *values.shape().last().unwrap_or(&0)
    } else {
        values.numel()
    };
    let int = !seq.dtype().is_float() && !values.dtype().is_float();
    let mut out = Vec::with_capacity(values.numel());
    let rows = seq.numel().checked_div(n).unwrap_or(numel(lead));
    macro_rules! search {
        ($s:expr, $v:expr) => {{
            for r in 0..(if per_row { rows } else { 1 }) {
                let (s0, v0) = if per_row { (r * n, r * m) } else { (0, 0) };
                let srow = &$s[s0..s0 + n];
                let so = sorter.as_ref().map(|x| &x[s0..s0 + n]);
                for &v in &$v[v0..v0 + m] {
                    out.push(bound(srow, so, v, right) as i64);
                }
            }
        }};
    }
    match (keys_of(seq, int), keys_of(values, int)) {
        (Keys::Int(s), Keys::Int(v)) => search!(s, v),
        (Keys::Float(s), Keys::Float(v)) => search!(s, v),
        _ => unreachable!("both keys have the same kind"),
    }
    let t = Tensor::from_parts(out, values.shape().to_vec());
    Ok(if out_int32 { t.to_dtype(DType::I32) } else { t })
}

/// `aten.nonzero_static(self, size, fill_value)`: `nonzero` cut or padded with `fill_value`
/// rows to exactly `size` rows.
pub fn nonzero_static(t: &Tensor, size: i64, fill_value: i64) -> Result<Tensor> {
    if size < 0 {
        return invalid("nonzero_static", format!("size {size} is negative"));
    }
    let nz = crate::kernels::index::nonzero(t)?;
    let nd = t.ndim();
    let mut v = nz.to_i64_vec();
    v.resize(size as usize * nd, fill_value);
    Ok(Tensor::from_parts(v, vec![size as usize, nd]))
}

/// `aten.combinations(self, r, with_replacement)`: the r-element combinations of a 1-d tensor in
/// `itertools` order, one per row (`[0]` int64 for `r = 0`, as PyTorch).
pub fn combinations(t: &Tensor, r: i64, with_replacement: bool) -> Result<Tensor> {
    if t.ndim() != 1 {
        return shape_err("combinations", "expects a 1-d tensor");
    }
    if r < 0 {
        return invalid("combinations", format!("r ({r}) must be non-negative"));
    }
    if r == 0 {
        return Ok(Tensor::from_parts(Vec::<i64>::new(), vec![0]));
    }
    let (n, r) = (t.shape()[0], r as usize);
    let mut rows: Vec<usize> = Vec::new();
    let mut c: Vec<usize> = if with_replacement {
        vec![0; r]
    } else {
        (0..r).collect()
    };
    let valid = |c: &[usize]| c.iter().all(|&i| i < n);
    if n > 0 && valid(&c) {
        loop {
            rows.extend_from_slice(&c);
            // The rightmost position that can still grow.
            let Some(p) = (0..r).rev().find(|&p| {
                if with_replacement {
                    c[p] + 1 < n
                } else {
                    c[p] + (r - p) < n
                }
            }) else {
                break;
            };
            c[p] += 1;
            for q in p + 1..r {
                c[q] = if with_replacement { c[p] } else { c[q - 1] + 1 };
            }
        }
    }
    let count = rows.len() / r;
    with_dtype!(t.dtype(), T => {
        let s = t.as_slice::<T>()?;
        let v: Vec<T> = rows.iter().map(|&i| s[i]).collect();
        Ok(Tensor::from_parts(v, vec![count, r]))
    })
}

/// `aten.masked_scatter(self, mask, source)`: positions where the (broadcast) mask is true take
/// the next elements of `source`, in row-major order.
pub fn masked_scatter(t: &Tensor, mask: &Tensor, source: &Tensor) -> Result<Tensor> {
    let op = "masked_scatter";
    if mask.dtype() != DType::Bool {
        return dtype_err(op, mask.dtype());
    }
    if source.dtype() != t.dtype() {
        return dtype_err(op, source.dtype());
    }
    let shape = crate::tensor::broadcast_shapes(op, t.shape(), mask.shape())?;
    let x = broadcast_to(t, &shape)?;
    let m = broadcast_to(mask, &shape)?;
    let m = m.as_slice::<bool>()?;
    with_dtype!(t.dtype(), T => {
        let src = source.as_slice::<T>()?;
        let mut out = x.as_slice::<T>()?.to_vec();
        let mut next = 0usize;
        for (o, &b) in out.iter_mut().zip(m) {
            if b {
                let Some(&s) = src.get(next) else {
                    return invalid(op, "the mask selects more elements than source has");
                };
                *o = s;
                next += 1;
            }
        }
        Ok(Tensor::from_parts(out, shape))
    })
}

/// `aten.bincount(self, weights, minlength)`: counts (int64) or summed weights (f32 weights
/// stay f32, others sum in f64) of each non-negative value, `max(max + 1, minlength)` bins.
pub fn bincount(t: &Tensor, weights: Option<&Tensor>, minlength: i64) -> Result<Tensor> {
    let op = "bincount";
    if t.ndim() != 1 || !t.dtype().is_int() {
        return invalid(op, "expects a 1-d tensor of non-negative integers");
    }
    if minlength < 0 {
        return invalid(op, "minlength must be non-negative");
    }
    let v = t.to_i64_vec();
    if v.iter().any(|&x| x < 0) {
        return invalid(op, "input values must be non-negative");
    }
    let bins = v
        .iter()
        .map(|&x| x as usize + 1)
        .max()
        .unwrap_or(0)
        .max(minlength as usize);
    match weights {
        None => {
            let mut out = vec![0i64; bins];
            for &x in &v {
                out[x as usize] += 1;
            }
            Ok(Tensor::from_parts(out, vec![bins]))
        }
        Some(w) => {
            if w.shape() != t.shape() {
                return shape_err(op, "weights must have the shape of the input");
            }
            let mut out = vec![0f64; bins];
            for (&x, wv) in v.iter().zip(w.to_f64_vec()) {
                out[x as usize] += wv;
            }
            let dt = if w.dtype() == DType::F32 {
                DType::F32
            } else {
                DType::F64
            };
            Tensor::from_f64s(&out, vec![bins], dt)
        }
    }
}

/// `aten._unique2(self, sorted, return_inverse, return_counts)` as PyTorch's CPU kernel computes
/// it: always sorted (NaN last, each NaN its own value); the inverse has `self`'s shape; unused
/// outputs are empty tensors of `self`'s dtype.
pub fn unique2(t: &Tensor, return_inverse: bool, return_counts: bool) -> Result<[Tensor; 3]> {
    with_dtype!(t.dtype(), T => {
        let s = t.as_slice::<T>()?;
        let mut idx: Vec<usize> = (0..s.len()).collect();
        idx.sort_by(|&i, &j| cmp_nan_last(&s[i], &s[j]));
        let mut vals: Vec<T> = Vec::new();
        let mut counts: Vec<i64> = Vec::new();
        let mut inverse = vec![0i64; s.len()];
        for &i in &idx {
            // NaN != NaN, so every NaN starts a new value (`equal_nan = false`).
            if vals.last().is_none_or(|&l| l != s[i]) {
                vals.push(s[i]);
                counts.push(0);
            }
            *counts.last_mut().expect("pushed") += 1;
            inverse[i] = vals.len() as i64 - 1;
        }
        Ok(unique_results(t, vals, inverse, counts, return_inverse, return_counts))
    })
}

/// `aten.unique_consecutive(self, return_inverse, return_counts)` over the flattened tensor.
pub fn unique_consecutive(
    t: &Tensor,
    return_inverse: bool,
    return_counts: bool,
) -> Result<[Tensor; 3]> {
    with_dtype!(t.dtype(), T => {
        let s = t.as_slice::<T>()?;
        let mut vals: Vec<T> = Vec::new();
        let mut counts: Vec<i64> = Vec::new();
        let mut inverse = vec![0i64; s.len()];
        for (i, &x) in s.iter().enumerate() {
            if vals.last().is_none_or(|&l| l != x) {
                vals.push(x);
                counts.push(0);
            }
            *counts.last_mut().expect("pushed") += 1;
            inverse[i] = vals.len() as i64 - 1;
        }
        Ok(unique_results(t, vals, inverse, counts, return_inverse, return_counts))
    })
}

fn unique_results<T: Element>(
    t: &Tensor,
    vals: Vec<T>,
    inverse: Vec<i64>,
    counts: Vec<i64>,
    return_inverse: bool,
    return_counts: bool,
) -> [Tensor; 3] {
    let empty = || Tensor::zeros(&[0], t.dtype());
    let n = vals.len();
    [
        Tensor::from_parts(vals, vec![n]),
        if return_inverse {
            Tensor::from_parts(inverse, t.shape().to_vec())
        } else {
            empty()
        },
        if return_counts {
            Tensor::from_parts(counts, vec![n])
        } else {
            empty()
        },
    ]
}

/// `aten.put(self, index, source, accumulate)`: writes (or adds) `source` at the flat positions
/// `index` of `self` (negative indices count from the end).
pub fn put(t: &Tensor, index: &Tensor, source: &Tensor, accumulate: bool) -> Result<Tensor> {
    let op = "put";
    if !index.dtype().is_int() {
        return dtype_err(op, index.dtype());
    }
    if index.numel() != source.numel() {
        return shape_err(op, "index and source must have the same number of elements");
    }
    let idx = index.to_i64_vec();
    let n = t.numel();
    let src = source.to_dtype(t.dtype());
    with_dtype!(t.dtype(), T => {
        let mut out = t.as_slice::<T>()?.to_vec();
        for (&i, &v) in idx.iter().zip(src.as_slice::<T>()?) {
            let p = wrap_index(op, i, n)?;
            out[p] = if accumulate {
                T::from_f64(out[p].to_f64() + v.to_f64())
            } else {
                v
            };
        }
        Ok(Tensor::from_parts(out, t.shape().to_vec()))
    })
}

/// `aten.max_unpool2d` / `max_unpool3d`: zeros of `[..., *output_size]` with each input value
/// written at its flat index within its output plane.
pub fn max_unpool(t: &Tensor, indices: &Tensor, output_size: &[i64]) -> Result<Tensor> {
    let op = "max_unpool";
    let k = output_size.len();
    if t.ndim() < k || indices.shape() != t.shape() {
        return shape_err(
            op,
            "indices must have the input's shape, with at least as many dims as output_size",
        );
    }
    if output_size.iter().any(|&s| s < 0) {
        return invalid(op, "output_size must be non-negative");
    }
    let lead = &t.shape()[..t.ndim() - k];
    let plane_in: usize = t.shape()[t.ndim() - k..].iter().product();
    let plane_out: usize = output_size.iter().map(|&s| s as usize).product();
    let mut shape = lead.to_vec();
    shape.extend(output_size.iter().map(|&s| s as usize));
    let idx = indices.to_i64_vec();
    with_dtype!(t.dtype(), T => {
        let s = t.as_slice::<T>()?;
        let mut out = vec![T::default(); numel(&shape)];
        for p in 0..numel(lead) {
            for q in 0..plane_in {
                let i = idx[p * plane_in + q];
                if i < 0 || i as usize >= plane_out {
                    return index_err(op, format!("index {i} is out of the output plane of {plane_out}"));
                }
                out[p * plane_out + i as usize] = s[p * plane_in + q];
            }
        }
        Ok(Tensor::from_parts(out, shape))
    })
}

/// A `Scalar` value as a 0-d tensor of `dtype` (for `searchsorted.Scalar`).
pub fn scalar_tensor(s: Scalar, dtype: DType) -> Tensor {
    Tensor::from_scalar(s, dtype)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[f32]) -> Tensor {
        Tensor::from_slice(v)
    }

    #[test]
    fn median_picks_by_value_then_index() {
        // Values and indices PyTorch 2.11 returns for these lanes.
        let x = f(&[3., 1., 1., 1., 2., 2.]);
        let (v, i) = median_dim(&x, 0, false, false).unwrap();
        assert_eq!((v.to_f64_vec(), i.to_i64_vec()), (vec![1.0], vec![3]));
        let x = f(&[3., f32::NAN, 1., f32::NAN]);
        let (v, i) = median_dim(&x, 0, false, false).unwrap();
        assert!(v.to_f64_vec()[0].is_nan());
        assert_eq!(i.to_i64_vec(), vec![1]);
        let (v, i) = median_dim(&x, 0, false, true).unwrap();
        assert_eq!((v.to_f64_vec(), i.to_i64_vec()), (vec![1.0], vec![2]));
        let all_nan = f(&[f32::NAN; 3]);
        let (_, i) = median_dim(&all_nan, 0, false, true).unwrap();
        assert_eq!(i.to_i64_vec(), vec![0]);
    }

    #[test]
    fn kthvalue_follows_aten_quick_select() {
        // torch.tensor([2.,1,2,1,2,1,1,2,3,3,3]).kthvalue(k) indices for k = 1..=11.
        let x = f(&[2., 1., 2., 1., 2., 1., 1., 2., 3., 3., 3.]);
        let want = [3, 6, 1, 5, 7, 0, 2, 4, 8, 9, 10];
        for (k, w) in (1..=11).zip(want) {
            let (_, i) = kthvalue(&x, k, 0, false).unwrap();
            assert_eq!(i.to_i64_vec(), vec![w], "k = {k}");
        }
    }

    #[test]
    fn kthvalue_ties_on_a_longer_lane() {
        // torch.manual_seed(0); torch.randint(0, 3, (23,)).float(), and the indices PyTorch
        // 2.11 returns for k = 1..=23.
        let x = f(&[
            2., 0., 2., 0., 1., 0., 1., 1., 1., 0., 2., 2., 0., 0., 1., 2., 0., 0., 2., 0., 2., 2.,
            2.,
        ]);
        let want = [
            12, 19, 9, 13, 16, 1, 17, 5, 3, 14, 4, 7, 6, 8, 21, 20, 11, 0, 18, 10, 15, 2, 22,
        ];
        for (k, w) in (1..=23).zip(want) {
            let (_, i) = kthvalue(&x, k, -1, false).unwrap();
            assert_eq!(i.to_i64_vec(), vec![w], "k = {k}");
        }
    }

    #[test]
    fn mode_takes_the_smallest_most_frequent_value() {
        let y = Tensor::from_slice(&[2i64, 0, 1, 1, 1, 1, 0, 1, 0, 3, 0, 3, 1]);
        let (v, i) = mode(&y, 0, false).unwrap();
        assert_eq!((v.to_i64_vec(), i.to_i64_vec()), (vec![1], vec![12]));
        let (v, i) = mode(&f(&[2., 1., 2., 1., 3.]), 0, false).unwrap();
        assert_eq!((v.to_f64_vec(), i.to_i64_vec()), (vec![1.0], vec![3]));
    }

    #[test]
    fn mode_follows_std_sort_on_long_lanes() {
        // torch.tensor([1, 1, 2, 2] * 10).mode(0) -> (1, 5); then torch.manual_seed(1) and
        // torch.randint(0, 3, (n,)) for n = 17, 40, 100, 300 with PyTorch 2.11's (index, value).
        let mut lanes: Vec<(Vec<i64>, i64, i64)> = vec![([1, 1, 2, 2].repeat(10), 5, 1)];
        lanes.push((
            vec![1, 2, 0, 2, 1, 1, 2, 2, 2, 0, 2, 0, 1, 2, 1, 0, 0],
            1,
            2,
        ));
        lanes.push((
            vec![
                0, 2, 1, 0, 0, 2, 1, 0, 0, 1, 2, 2, 1, 2, 2, 0, 0, 1, 0, 2, 0, 2, 2, 0, 2, 2, 2, 0,
                0, 0, 0, 2, 1, 0, 0, 1, 0, 0, 1, 2,
            ],
            37,
            0,
        ));
        lanes.push((
            vec![
                2, 0, 0, 1, 1, 0, 2, 0, 0, 1, 2, 1, 1, 1, 2, 2, 2, 1, 0, 2, 0, 2, 1, 0, 0, 2, 0, 1,
                0, 1, 1, 1, 0, 2, 1, 1, 0, 0, 0, 0, 2, 2, 1, 2, 2, 0, 1, 1, 0, 1, 2, 0, 1, 1, 1, 2,
                0, 1, 2, 0, 1, 2, 0, 1, 1, 2, 2, 2, 2, 1, 2, 1, 0, 0, 2, 0, 0, 1, 2, 0, 0, 0, 0, 0,
                1, 2, 2, 0, 2, 0, 2, 0, 1, 0, 2, 0, 0, 1, 0, 1,
            ],
            91,
            0,
        ));
        lanes.push((
            vec![
                0, 1, 1, 1, 0, 2, 0, 2, 1, 0, 2, 1, 0, 1, 2, 2, 2, 0, 1, 0, 0, 2, 0, 1, 2, 0, 0, 1,
                0, 0, 1, 2, 0, 2, 2, 0, 2, 2, 0, 0, 2, 2, 0, 1, 2, 0, 2, 1, 0, 1, 0, 0, 2, 1, 2, 2,
                2, 0, 2, 2, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 2, 0, 2, 2, 1, 1, 0, 1, 2, 1, 1, 2, 0, 2,
                0, 0, 2, 1, 0, 2, 1, 2, 2, 1, 1, 1, 2, 0, 2, 1, 2, 0, 2, 0, 1, 1, 0, 2, 0, 1, 1, 1,
                0, 2, 0, 1, 1, 1, 1, 0, 1, 2, 2, 2, 1, 2, 2, 1, 2, 1, 1, 1, 1, 1, 1, 0, 1, 0, 2, 1,
                0, 0, 1, 1, 0, 0, 0, 2, 0, 2, 1, 0, 1, 0, 2, 0, 1, 1, 0, 1, 0, 0, 1, 1, 2, 2, 2, 1,
                2, 0, 1, 0, 1, 2, 1, 1, 1, 2, 2, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 2, 2, 0,
                1, 0, 1, 2, 2, 2, 2, 2, 1, 1, 1, 0, 1, 2, 1, 2, 0, 1, 2, 1, 2, 0, 2, 1, 2, 0, 1, 1,
                1, 0, 0, 2, 2, 2, 0, 2, 0, 1, 2, 1, 1, 0, 1, 1, 0, 2, 0, 2, 2, 1, 2, 2, 0, 2, 1, 0,
                2, 2, 0, 1, 2, 0, 0, 2, 1, 0, 2, 1, 0, 2, 1, 2, 0, 1, 0, 2, 1, 2, 0, 2, 2, 2, 2, 0,
                2, 0, 0, 0, 0, 1, 2, 0, 2, 1, 0, 1, 1, 1, 2, 1, 1, 2, 1, 2,
            ],
            53,
            1,
        ));
        for (lane, index, value) in lanes {
            let n = lane.len();
            let (v, i) = mode(&Tensor::from_slice(&lane), 0, false).unwrap();
            assert_eq!(
                (v.to_i64_vec(), i.to_i64_vec()),
                (vec![value], vec![index]),
                "n = {n}"
            );
        }
    }

    #[test]
    fn searchsorted_sides_and_nan() {
        let s = f(&[1., 2., 2., 3.]);
        let v = f(&[2., f32::NAN, 0., 5.]);
        let r = searchsorted(&s, &v, false, true, None).unwrap();
        assert_eq!(r.to_i64_vec(), vec![3, 4, 0, 4]);
        let l = searchsorted(&s, &v, true, false, None).unwrap();
        assert_eq!(l.dtype(), DType::I32);
        assert_eq!(l.to_i64_vec(), vec![1, 4, 0, 4]);
        // One sequence per row, and a sorter.
        let rows = Tensor::from_vec(vec![0f32, 2., 4., 1., 3., 5.], vec![2, 3]).unwrap();
        let v = Tensor::from_vec(vec![1f32, 4., 3., 6.], vec![2, 2]).unwrap();
        let r = searchsorted(&rows, &v, false, false, None).unwrap();
        assert_eq!(r.to_i64_vec(), vec![1, 2, 1, 3]);
        let sorter = Tensor::from_slice(&[1i64, 2, 0]);
        let r = searchsorted(&f(&[3., 1., 2.]), &f(&[2.5]), false, false, Some(&sorter)).unwrap();
        assert_eq!(r.to_i64_vec(), vec![2]);
    }

    #[test]
    fn combinations_in_itertools_order() {
        let x = Tensor::from_slice(&[1i64, 2, 3]);
        let c = combinations(&x, 2, false).unwrap();
        assert_eq!(c.shape(), &[3, 2]);
        assert_eq!(c.to_i64_vec(), vec![1, 2, 1, 3, 2, 3]);
        let c = combinations(&x, 2, true).unwrap();
        assert_eq!(c.to_i64_vec(), vec![1, 1, 1, 2, 1, 3, 2, 2, 2, 3, 3, 3]);
    }

    #[test]
    fn unique_sorts_and_keeps_nans_apart() {
        let x = f(&[3., 1., f32::NAN, 1., f32::NAN]);
        let [v, inv, cnt] = unique2(&x, true, true).unwrap();
        assert_eq!(v.shape(), &[4]);
        assert_eq!(inv.to_i64_vec(), vec![1, 0, 2, 0, 3]);
        assert_eq!(cnt.to_i64_vec(), vec![2, 1, 1, 1]);
        let [_, inv, _] = unique2(&x, false, false).unwrap();
        assert_eq!((inv.dtype(), inv.shape()), (DType::F32, &[0][..]));
    }
}
