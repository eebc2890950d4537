//! View, reshape, concatenation, splitting and indexing operators.

use super::{broadcast, ceil_div, div_dim, norm_dim, t, Call, Rule, R};
use crate::dim::Dim;
use crate::dtype::DType;
use crate::types::{Shape, TensorType, Type};

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("view.default", reshape),
    ("view.dtype", view_dtype),
    ("_unsafe_view", reshape),
    ("reshape", reshape),
    ("_reshape_alias", reshape_size),
    ("_reshape_copy", reshape),
    ("view_copy.default", reshape),
    ("as_strided", as_strided),
    // `resize_` changes the shape of the tensor it writes, unlike other in-place ops.
    ("resize", reshape_size),
    ("resize_", reshape_size),
    ("resize_as", resize_as),
    ("resize_as_", resize_as),
    ("permute", permute),
    ("transpose.int", transpose),
    ("swapaxes", transpose),
    ("swapdims", transpose),
    ("t", t_op),
    ("numpy_T", numpy_t),
    ("adjoint", adjoint),
    ("expand", expand),
    ("expand_as", expand_as),
    ("broadcast_to", expand),
    ("squeeze.default", squeeze),
    ("squeeze.dim", squeeze),
    ("squeeze.dims", squeeze),
    ("unsqueeze", unsqueeze),
    ("flatten.using_ints", flatten),
    ("unflatten.int", unflatten),
    ("cat", cat),
    ("concat", cat),
    ("concatenate", cat),
    ("stack", stack),
    ("hstack", hstack),
    ("vstack", vstack),
    ("split.Tensor", split),
    ("split_with_sizes", split_with_sizes),
    ("split.sizes", split_with_sizes),
    ("chunk", chunk),
    ("unsafe_split.Tensor", split),
    ("unsafe_chunk", chunk),
    ("unbind.int", unbind),
    ("tensor_split.sections", tensor_split_sections),
    ("tensor_split.indices", tensor_split_indices),
    ("slice.Tensor", slice),
    ("narrow", narrow),
    ("select.int", select),
    ("index.Tensor", index),
    ("_unsafe_index.Tensor", index),
    ("index_select", index_select),
    ("gather", gather),
    ("take_along_dim", take_along_dim),
    ("scatter", self_type),
    ("scatter_add", self_type),
    ("scatter_reduce", self_type),
    ("index_put", self_type),
    ("_unsafe_index_put", self_type),
    ("index_add", self_type),
    ("index_copy", self_type),
    ("index_fill", self_type),
    ("index_reduce", self_type),
    ("masked_scatter", self_type),
    ("put", self_type),
    ("select_scatter", self_type),
    ("slice_scatter", self_type),
    ("diagonal_scatter", self_type),
    ("as_strided_scatter", self_type),
    ("flip", self_type),
    ("roll", self_type),
    ("rot90", rot90),
    ("repeat", repeat),
    ("tile", tile),
    ("repeat_interleave.self_int", repeat_interleave_int),
    ("constant_pad_nd", pad),
    ("pad", pad),
    ("reflection_pad1d", pad),
    ("reflection_pad2d", pad),
    ("reflection_pad3d", pad),
    ("replication_pad1d", pad),
    ("replication_pad2d", pad),
    ("replication_pad3d", pad),
    ("_pad_enum", pad),
    ("diagonal", diagonal),
    ("movedim.int", movedim),
    ("movedim.intlist", movedim),
    ("moveaxis.int", movedim),
    ("unfold", unfold),
    ("tril", self_type),
    ("triu", self_type),
    ("one_hot", one_hot),
    ("view_as", expand_as),
    ("reshape_as", expand_as),
    ("atleast_1d.default", atleast_1d),
    ("atleast_2d.default", atleast_2d),
];

fn self_type(c: &Call) -> R {
    Ok(vec![Type::Tensor(c.tensor("self")?)])
}

/// Solves a target shape with at most one `-1` by dividing the input's element count by the
/// product of the known sizes (exactly when it divides, as `Dim` simplifies).
pub(crate) fn solve_shape(numel: &Dim, sizes: &[Dim]) -> Result<Shape, String> {
    let minus = sizes.iter().filter(|d| d.as_const() == Some(-1)).count();
    if minus > 1 {
        return Err("only one dimension can be inferred (-1)".into());
    }
    let mut out: Shape = sizes.iter().cloned().collect();
    if let Some(i) = sizes.iter().position(|d| d.as_const() == Some(-1)) {
        let mut rest = numel.clone();
        for (j, d) in sizes.iter().enumerate() {
            if j != i {
                rest = div_dim(&rest, d);
            }
        }
        out[i] = rest;
    }
    if let Some(bad) = out.iter().find(|d| d.as_const().is_some_and(|v| v < 0)) {
        return Err(format!("invalid size {bad}"));
    }
    // A static check catches `view` of a mismatched element count.
    let prod = out.iter().fold(Dim::constant(1), |a, d| a.mul(d));
    if let (Some(a), Some(b)) = (prod.as_const(), numel.as_const()) {
        if a != b {
            return Err(format!(
                "shape of {b} elements cannot be viewed with {a} elements"
            ));
        }
    }
    Ok(out)
}

fn reshape(c: &Call) -> R {
    let x = c.tensor("self")?;
    let sizes = c.syms(if c.schema.arg_index("size").is_some() {
        "size"
    } else {
        "shape"
    })?;
    Ok(vec![t(x.dtype, solve_shape(&x.numel(), &sizes)?)])
}

fn reshape_size(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![t(x.dtype, c.syms("size")?)])
}

/// `resize_as(self, the_template)`: `self`'s dtype in the template's shape.
fn resize_as(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![t(x.dtype, c.tensor("the_template")?.shape)])
}

fn as_strided(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![t(x.dtype, c.syms("size")?)])
}

fn view_dtype(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = c.opt_dtype("dtype")?.ok_or("missing dtype")?;
    let mut s = x.shape;
    let (a, b) = (x.dtype.itemsize() as i64, d.itemsize() as i64);
    if a != b {
        let last = s.last_mut().ok_or("view(dtype) of a 0-dim tensor")?;
        *last = div_dim(&last.scale(a), &Dim::constant(b));
    }
    Ok(vec![t(d, s)])
}

fn permute(c: &Call) -> R {
    let x = c.tensor("self")?;
    let dims = c.ints("dims")?;
    if dims.len() != x.rank() {
        return Err(format!(
            "permute of rank {} with {} dims",
            x.rank(),
            dims.len()
        ));
    }
    let mut seen = vec![false; x.rank()];
    let mut s = Shape::new();
    for d in dims {
        let d = norm_dim(d, x.rank())?;
        if std::mem::replace(&mut seen[d], true) {
            return Err("repeated dim in permute".into());
        }
        s.push(x.shape[d].clone());
    }
    Ok(vec![t(x.dtype, s)])
}

fn transpose(c: &Call) -> R {
    let x = c.tensor("self")?;
    let (a, b) = (
        c.int(&c.schema.args[1].name)?,
        c.int(&c.schema.args[2].name)?,
    );
    let mut s = x.shape;
    if !s.is_empty() {
        let (a, b) = (norm_dim(a, s.len())?, norm_dim(b, s.len())?);
        s.swap(a, b);
    }
    Ok(vec![t(x.dtype, s)])
}

fn t_op(c: &Call) -> R {
    let x = c.tensor("self")?;
    if x.rank() > 2 {
        return Err(format!(
            "t() expects a tensor of rank <= 2, got {}",
            x.rank()
        ));
    }
    let mut s = x.shape;
    s.reverse();
    Ok(vec![t(x.dtype, s)])
}

fn numpy_t(c: &Call) -> R {
    let x = c.tensor("self")?;
    let mut s = x.shape;
    s.reverse();
    Ok(vec![t(x.dtype, s)])
}

fn adjoint(c: &Call) -> R {
    let x = c.tensor("self")?;
    let mut s = x.shape;
    let n = s.len();
    if n < 2 {
        return Err("adjoint needs rank >= 2".into());
    }
    s.swap(n - 1, n - 2);
    Ok(vec![t(x.dtype, s)])
}

fn expand(c: &Call) -> R {
    let x = c.tensor("self")?;
    let sizes = c.syms(if c.schema.arg_index("size").is_some() {
        "size"
    } else {
        "shape"
    })?;
    if sizes.len() < x.rank() {
        return Err(format!(
            "expand to {} dims from a tensor of rank {}",
            sizes.len(),
            x.rank()
        ));
    }
    let off = sizes.len() - x.rank();
    let mut s = Shape::new();
    for (i, d) in sizes.iter().enumerate() {
        if d.as_const() == Some(-1) {
            if i < off {
                return Err("-1 is not allowed for a new leading dim of expand".into());
            }
            s.push(x.shape[i - off].clone());
        } else if i >= off {
            let src = &x.shape[i - off];
            if src != d && src.as_const() != Some(1) && src.is_const() && d.is_const() {
                return Err(format!("cannot expand size {src} to {d}"));
            }
            s.push(d.clone());
        } else {
            s.push(d.clone());
        }
    }
    Ok(vec![t(x.dtype, s)])
}

fn expand_as(c: &Call) -> R {
    let x = c.tensor("self")?;
    let o = c.tensor("other")?;
    Ok(vec![t(x.dtype, o.shape)])
}

fn squeeze(c: &Call) -> R {
    let x = c.tensor("self")?;
    let dims: Vec<usize> = if c.schema.arg_index("dim").is_some() {
        c.ints("dim")?
            .into_iter()
            .map(|d| norm_dim(d, x.rank()))
            .collect::<Result<_, _>>()?
    } else {
        (0..x.rank()).collect()
    };
    // Only dims that are 1 are removed; a symbolic dim is kept (PyTorch would guard it != 1).
    let s: Shape = x
        .shape
        .iter()
        .enumerate()
        .filter(|(i, d)| !(dims.contains(i) && d.as_const() == Some(1)))
        .map(|(_, d)| d.clone())
        .collect();
    Ok(vec![t(x.dtype, s)])
}

fn unsqueeze(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = c.int("dim")?;
    let d = norm_dim(d, x.rank() + 1)?;
    let mut s = x.shape;
    s.insert(d, Dim::constant(1));
    Ok(vec![t(x.dtype, s)])
}

fn flatten(c: &Call) -> R {
    let x = c.tensor("self")?;
    if x.rank() == 0 {
        return Ok(vec![t(x.dtype, crate::types::static_shape(&[1]))]);
    }
    let a = norm_dim(c.opt_int("start_dim")?.unwrap_or(0), x.rank())?;
    let b = norm_dim(c.opt_int("end_dim")?.unwrap_or(-1), x.rank())?;
    if a > b {
        return Err("flatten: start_dim after end_dim".into());
    }
    let mut s: Shape = x.shape[..a].iter().cloned().collect();
    s.push(
        x.shape[a..=b]
            .iter()
            .fold(Dim::constant(1), |acc, d| acc.mul(d)),
    );
    s.extend(x.shape[b + 1..].iter().cloned());
    Ok(vec![t(x.dtype, s)])
}

fn unflatten(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.int("dim")?, x.rank())?;
    let sizes = c.syms("sizes")?;
    let part = solve_shape(&x.shape[d], &sizes)?;
    let mut s: Shape = x.shape[..d].iter().cloned().collect();
    s.extend(part);
    s.extend(x.shape[d + 1..].iter().cloned());
    Ok(vec![t(x.dtype, s)])
}

fn promote_all(ts: &[TensorType]) -> Result<DType, String> {
    let ops: Vec<_> = ts
        .iter()
        .map(|x| crate::aten::promote::Operand::tensor(x.dtype, x.rank().max(1)))
        .collect();
    crate::aten::promote::result_type(&ops)
}

fn cat(c: &Call) -> R {
    let ts = c.tensors("tensors")?;
    let dtype = promote_all(&ts)?;
    // Legacy behaviour: 1-D empty tensors are skipped.
    let live: Vec<&TensorType> = ts
        .iter()
        .filter(|x| !(x.rank() == 1 && x.shape[0].as_const() == Some(0)))
        .collect();
    let Some(first) = live.first() else {
        return Ok(vec![t(dtype, crate::types::static_shape(&[0]))]);
    };
    let rank = first.rank();
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), rank)?;
    let mut s = first.shape.clone();
    for x in &live[1..] {
        if x.rank() != rank {
            return Err(format!("cat of tensors of rank {rank} and {}", x.rank()));
        }
        for i in 0..rank {
            if i == d {
                s[i] = s[i].add(&x.shape[i]);
            } else if s[i] != x.shape[i] {
                // Equal after guards; prefer a constant when one side is symbolic.
                match (s[i].as_const(), x.shape[i].as_const()) {
                    (Some(a), Some(b)) => {
                        return Err(format!("cat: sizes {a} and {b} differ in dim {i}"))
                    }
                    (None, Some(_)) => s[i] = x.shape[i].clone(),
                    _ => {}
                }
            }
        }
    }
    Ok(vec![t(dtype, s)])
}

fn stack(c: &Call) -> R {
    let ts = c.tensors("tensors")?;
    let first = ts.first().ok_or("stack of no tensors")?;
    let dtype = promote_all(&ts)?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), first.rank() + 1)?;
    let mut s = first.shape.clone();
    s.insert(d, Dim::constant(ts.len() as i64));
    Ok(vec![t(dtype, s)])
}

fn hstack(c: &Call) -> R {
    let ts = c.tensors("tensors")?;
    let first = ts.first().ok_or("hstack of no tensors")?;
    let dtype = promote_all(&ts)?;
    let d = if first.rank() == 1 { 0 } else { 1 };
    let mut s = first.shape.clone();
    for x in &ts[1..] {
        s[d] = s[d].add(&x.shape[d]);
    }
    Ok(vec![t(dtype, s)])
}

fn vstack(c: &Call) -> R {
    let ts = c.tensors("tensors")?;
    let dtype = promote_all(&ts)?;
    let mut rows = Dim::constant(0);
    let mut rest = Shape::new();
    for x in &ts {
        if x.rank() <= 1 {
            rows = rows.add(&Dim::constant(1));
            rest = x.shape.clone();
        } else {
            rows = rows.add(&x.shape[0]);
            rest = x.shape[1..].iter().cloned().collect();
        }
    }
    let mut s: Shape = Shape::new();
    s.push(rows);
    s.extend(rest);
    Ok(vec![t(dtype, s)])
}

fn split(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), x.rank())?;
    let size = c.sym("split_size")?;
    let total = &x.shape[d];
    let (Some(n), Some(k)) = (total.as_const(), size.as_const()) else {
        // The number of results depends on a symbolic size; only an exact split is known.
        if size == *total {
            return Ok(vec![Type::Tensor(x)]);
        }
        return Err(format!("split of symbolic size {total} by {size}"));
    };
    if k <= 0 {
        return Err(format!("split_size must be positive, got {k}"));
    }
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let len = k.min(n - start);
        let mut s = x.shape.clone();
        s[d] = Dim::constant(len);
        out.push(t(x.dtype, s));
        start += k;
        if start >= n {
            break;
        }
    }
    Ok(out)
}

fn split_with_sizes(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), x.rank())?;
    let sizes = c.syms(if c.schema.arg_index("split_sizes").is_some() {
        "split_sizes"
    } else {
        "split_size"
    })?;
    Ok(sizes
        .into_iter()
        .map(|k| {
            let mut s = x.shape.clone();
            s[d] = k;
            t(x.dtype, s)
        })
        .collect())
}

fn chunk(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), x.rank())?;
    let chunks = c.int("chunks")?;
    if chunks <= 0 {
        return Err("chunks must be positive".into());
    }
    let total = &x.shape[d];
    let Some(n) = total.as_const() else {
        let each = ceil_div(total, &Dim::constant(chunks));
        if total.sub(&each.scale(chunks)).is_zero() {
            return Ok((0..chunks)
                .map(|_| {
                    let mut s = x.shape.clone();
                    s[d] = each.clone();
                    t(x.dtype, s)
                })
                .collect());
        }
        return Err(format!("chunk of symbolic size {total} into {chunks}"));
    };
    let each = (n + chunks - 1) / chunks;
    let mut out = Vec::new();
    if each == 0 {
        let mut s = x.shape.clone();
        s[d] = Dim::constant(0);
        return Ok(vec![t(x.dtype, s)]);
    }
    let mut start = 0;
    while start < n {
        let mut s = x.shape.clone();
        s[d] = Dim::constant(each.min(n - start));
        out.push(t(x.dtype, s));
        start += each;
    }
    Ok(out)
}

/// `tensor_split` into `n` parts: the first `size % n` one longer than the rest.
fn tensor_split_sections(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), x.rank())?;
    let n = c.int("sections")?;
    if n <= 0 {
        return Err(format!("number of sections must be positive, got {n}"));
    }
    let size = x.shape[d]
        .as_const()
        .ok_or_else(|| format!("tensor_split of symbolic size {}", x.shape[d]))?;
    Ok((0..n)
        .map(|i| {
            let mut s = x.shape.clone();
            s[d] = Dim::constant(size / n + i64::from(i < size % n));
            t(x.dtype, s)
        })
        .collect())
}

/// `tensor_split` at indices: the Python slices between consecutive (clamped) indices.
fn tensor_split_indices(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), x.rank())?;
    let idx = c.ints("indices")?;
    let size = x.shape[d]
        .as_const()
        .ok_or_else(|| format!("tensor_split of symbolic size {}", x.shape[d]))?;
    let wrap = |i: i64| if i < 0 { i + size } else { i }.clamp(0, size);
    let mut bounds = vec![0i64];
    bounds.extend(idx.iter().map(|&i| wrap(i)));
    bounds.push(size);
    Ok(bounds
        .windows(2)
        .map(|w| {
            let mut s = x.shape.clone();
            s[d] = Dim::constant((w[1] - w[0]).max(0));
            t(x.dtype, s)
        })
        .collect())
}

fn unbind(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), x.rank())?;
    let n = x.shape[d]
        .as_const()
        .ok_or_else(|| format!("unbind of symbolic size {}", x.shape[d]))?;
    let mut s = x.shape.clone();
    s.remove(d);
    Ok((0..n).map(|_| t(x.dtype, s.clone())).collect())
}

/// Clamped slice length `ceil((end - start) / step)` with Python's negative-index rules.
fn slice_len(size: &Dim, start: Option<Dim>, end: Option<Dim>, step: i64) -> Result<Dim, String> {
    if step <= 0 {
        return Err(format!("slice step must be positive, got {step}"));
    }
    let clamp = |v: Option<Dim>, default: Dim| -> Dim {
        match v {
            None => default,
            Some(v) => match (v.as_const(), size.as_const()) {
                (Some(i), Some(n)) => {
                    let i = if i < 0 { i + n } else { i };
                    Dim::constant(i.clamp(0, n))
                }
                // i64::MAX-style ends mean "to the end".
                (Some(i), None) if i >= i64::MAX / 2 => size.clone(),
                (Some(i), None) if i < 0 => size.add(&Dim::constant(i)),
                (Some(0), None) => Dim::constant(0),
                // A symbolic index is assumed in range (PyTorch guards it).
                _ => v,
            },
        }
    };
    let s = clamp(start, Dim::constant(0));
    let e = clamp(end, size.clone());
    let len = e.sub(&s);
    if let Some(l) = len.as_const() {
        if l <= 0 {
            return Ok(Dim::constant(0));
        }
    }
    Ok(ceil_div(&len, &Dim::constant(step)))
}

fn slice(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(0), x.rank())?;
    let step = c.opt_int("step")?.unwrap_or(1);
    let len = slice_len(&x.shape[d], c.opt_sym("start")?, c.opt_sym("end")?, step)?;
    let mut s = x.shape;
    s[d] = len;
    Ok(vec![t(x.dtype, s)])
}

fn narrow(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.int("dim")?, x.rank())?;
    let mut s = x.shape;
    s[d] = c.sym("length")?;
    Ok(vec![t(x.dtype, s)])
}

fn select(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.int("dim")?, x.rank())?;
    let mut s = x.shape;
    s.remove(d);
    Ok(vec![t(x.dtype, s)])
}

/// Advanced indexing: the broadcast index shape replaces the indexed dims, in place when the
/// indexed dims are adjacent, else at the front.
fn index(c: &Call) -> R {
    let x = c.tensor("self")?;
    let idx = c.opt_tensors("indices")?;
    // Bool/u8 masks index as their nonzero() coordinates: a data-dependent count per mask.
    let mut expanded: Vec<Option<Shape>> = Vec::new();
    for (i, ix) in idx.iter().enumerate() {
        match ix {
            Some(m) if m.dtype == DType::Bool || m.dtype == DType::U8 => {
                let u = super::fresh_unbacked(0, Some(i), Some(0));
                for _ in 0..m.rank() {
                    expanded.push(Some(std::iter::once(u.clone()).collect()));
                }
            }
            Some(m) => expanded.push(Some(m.shape.clone())),
            None => expanded.push(None),
        }
    }
    if expanded.len() > x.rank() {
        return Err(format!(
            "too many indices ({}) for a tensor of rank {}",
            expanded.len(),
            x.rank()
        ));
    }
    let used: Vec<usize> = (0..expanded.len())
        .filter(|&i| expanded[i].is_some())
        .collect();
    if used.is_empty() {
        return Ok(vec![Type::Tensor(x)]);
    }
    let shapes: Vec<&[Dim]> = expanded.iter().flatten().map(|s| &s[..]).collect();
    let b = broadcast(&shapes)?;
    let adjacent = used.windows(2).all(|w| w[1] == w[0] + 1);
    let mut s = Shape::new();
    if adjacent {
        s.extend(x.shape[..used[0]].iter().cloned());
        s.extend(b);
        s.extend(x.shape[used[used.len() - 1] + 1..].iter().cloned());
    } else {
        s.extend(b);
        for (i, d) in x.shape.iter().enumerate() {
            if !used.contains(&i) {
                s.push(d.clone());
            }
        }
    }
    Ok(vec![t(x.dtype, s)])
}

fn index_select(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.int("dim")?, x.rank())?;
    let i = c.tensor("index")?;
    let mut s = x.shape;
    if !s.is_empty() {
        s[d] = i.numel();
    }
    Ok(vec![t(x.dtype, s)])
}

fn gather(c: &Call) -> R {
    let x = c.tensor("self")?;
    let i = c.tensor("index")?;
    Ok(vec![t(x.dtype, i.shape)])
}

fn take_along_dim(c: &Call) -> R {
    let x = c.tensor("self")?;
    let i = c.tensor("indices")?;
    match c.opt_int("dim")? {
        None => Ok(vec![t(
            x.dtype,
            std::iter::once(i.numel()).collect::<Shape>(),
        )]),
        Some(d) => {
            let d = norm_dim(d, x.rank())?;
            let mut xs = x.shape.clone();
            let mut is = i.shape.clone();
            xs[d] = Dim::constant(1);
            is[d] = Dim::constant(1);
            let mut b = broadcast(&[&xs, &is])?;
            b[d] = i.shape[d].clone();
            Ok(vec![t(x.dtype, b)])
        }
    }
}

fn rot90(c: &Call) -> R {
    let x = c.tensor("self")?;
    let k = c.opt_int("k")?.unwrap_or(1).rem_euclid(4);
    let dims = c.ints("dims")?;
    let mut s = x.shape;
    if k % 2 == 1 && dims.len() == 2 {
        let (a, b) = (norm_dim(dims[0], s.len())?, norm_dim(dims[1], s.len())?);
        s.swap(a, b);
    }
    Ok(vec![t(x.dtype, s)])
}

fn repeat(c: &Call) -> R {
    let x = c.tensor("self")?;
    let reps = c.syms("repeats")?;
    if reps.len() < x.rank() {
        return Err("repeat: fewer repeats than dims".into());
    }
    let off = reps.len() - x.rank();
    let s = reps
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if i < off {
                r.clone()
            } else {
                r.mul(&x.shape[i - off])
            }
        })
        .collect::<Shape>();
    Ok(vec![t(x.dtype, s)])
}

fn tile(c: &Call) -> R {
    let x = c.tensor("self")?;
    let mut reps = c.syms("dims")?;
    while reps.len() < x.rank() {
        reps.insert(0, Dim::constant(1));
    }
    let off = reps.len() - x.rank();
    let s = reps
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if i < off {
                r.clone()
            } else {
                r.mul(&x.shape[i - off])
            }
        })
        .collect::<Shape>();
    Ok(vec![t(x.dtype, s)])
}

fn repeat_interleave_int(c: &Call) -> R {
    let x = c.tensor("self")?;
    let r = c.sym("repeats")?;
    match c.opt_int("dim")? {
        None => Ok(vec![t(
            x.dtype,
            std::iter::once(x.numel().mul(&r)).collect::<Shape>(),
        )]),
        Some(d) => {
            let d = norm_dim(d, x.rank())?;
            let mut s = x.shape;
            s[d] = s[d].mul(&r);
            Ok(vec![t(x.dtype, s)])
        }
    }
}

/// `constant_pad_nd` & co: pads are `[last_lo, last_hi, prev_lo, prev_hi, ...]`.
fn pad(c: &Call) -> R {
    let x = c.tensor("self")?;
    let p = c.syms(if c.schema.arg_index("pad").is_some() {
        "pad"
    } else {
        "padding"
    })?;
    if p.len() % 2 != 0 || p.len() / 2 > x.rank() {
        return Err(format!(
            "bad padding of length {} for rank {}",
            p.len(),
            x.rank()
        ));
    }
    let mut s = x.shape;
    let n = s.len();
    for (i, pair) in p.chunks(2).enumerate() {
        let d = n - 1 - i;
        s[d] = s[d].add(&pair[0]).add(&pair[1]);
    }
    Ok(vec![t(x.dtype, s)])
}

fn diagonal(c: &Call) -> R {
    let x = c.tensor("self")?;
    let off = c.opt_int("offset")?.unwrap_or(0);
    let a = norm_dim(c.opt_int("dim1")?.unwrap_or(0), x.rank())?;
    let b = norm_dim(c.opt_int("dim2")?.unwrap_or(1), x.rank())?;
    let (da, db) = (&x.shape[a], &x.shape[b]);
    let len = if off >= 0 {
        Dim::min_of([da.clone(), db.sub(&Dim::constant(off))])
    } else {
        Dim::min_of([da.add(&Dim::constant(off)), db.clone()])
    };
    let len = Dim::max_of([len, Dim::constant(0)]);
    let mut s: Shape = x
        .shape
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != a && *i != b)
        .map(|(_, d)| d.clone())
        .collect();
    s.push(len);
    Ok(vec![t(x.dtype, s)])
}

fn movedim(c: &Call) -> R {
    let x = c.tensor("self")?;
    let n = x.rank();
    let src: Vec<usize> = c
        .ints("source")?
        .into_iter()
        .map(|d| norm_dim(d, n))
        .collect::<Result<_, _>>()?;
    let dst: Vec<usize> = c
        .ints("destination")?
        .into_iter()
        .map(|d| norm_dim(d, n))
        .collect::<Result<_, _>>()?;
    if src.len() != dst.len() {
        return Err("movedim: source and destination differ in length".into());
    }
    let mut order: Vec<Option<usize>> = vec![None; n];
    for (s, d) in src.iter().zip(&dst) {
        order[*d] = Some(*s);
    }
    let mut rest = (0..n).filter(|i| !src.contains(i));
    let s: Shape = order
        .into_iter()
        .map(|o| o.or_else(|| rest.next()).map(|i| x.shape[i].clone()))
        .collect::<Option<_>>()
        .ok_or("movedim: bad dims")?;
    Ok(vec![t(x.dtype, s)])
}

fn unfold(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.int("dimension")?, x.rank())?;
    let size = c.int("size")?;
    let step = c.int("step")?;
    let mut s = x.shape;
    if !s.is_empty() {
        s[d] =
            div_dim(&s[d].sub(&Dim::constant(size)), &Dim::constant(step)).add(&Dim::constant(1));
    }
    s.push(Dim::constant(size));
    Ok(vec![t(x.dtype, s)])
}

fn one_hot(c: &Call) -> R {
    let x = c.tensor("self")?;
    let n = c.opt_int("num_classes")?.unwrap_or(-1);
    let rank = x.rank();
    let mut s = x.shape;
    s.push(if n < 0 {
        super::fresh_unbacked(0, Some(rank), Some(0))
    } else {
        Dim::constant(n)
    });
    Ok(vec![t(DType::I64, s)])
}

fn atleast_1d(c: &Call) -> R {
    let x = c.tensor("self")?;
    let mut s = x.shape;
    if s.is_empty() {
        s.push(Dim::constant(1));
    }
    Ok(vec![t(x.dtype, s)])
}

fn atleast_2d(c: &Call) -> R {
    let x = c.tensor("self")?;
    let mut s = x.shape;
    while s.len() < 2 {
        s.insert(0, Dim::constant(1));
    }
    Ok(vec![t(x.dtype, s)])
}
