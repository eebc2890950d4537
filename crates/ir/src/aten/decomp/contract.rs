//! Tensor contractions written as `bmm` over permuted, reshaped operands (`einsum` itself
//! is in `einsum.rs`): `tensordot`, `bilinear`, `_trilinear`, `addbmm`, `linalg_multi_dot` and `vdot` (real tensors).
//!
//! Every contraction goes through one routine, [`contract_pair`]: the labels of two operands
//! are split into batch (in both, still needed), contracted (in both, not needed), and
//! left-only / right-only labels; the operands are permuted to `[batch, free, contracted]` and
//! `[batch, contracted, free]`, reshaped to three dims and multiplied with one `bmm`. This is
//! what `torch.einsum` does (`aten/src/ATen/native/Linear.cpp`, `sumproduct_pair`), so the
//! results agree to rounding and TensorRT sees a matrix multiply, not an outer product.

use super::layout::const_shape;
use super::{one, Add};
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{int, ints, val};
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.tensordot.default", tensordot);
    add("aten.bilinear.default", bilinear);
    add("aten.addbmm.default", addbmm);
    add("aten._trilinear.default", trilinear);
    add("aten.linalg_multi_dot.default", multi_dot);
    add("aten.vdot.default", |c| {
        // `vdot` conjugates its first operand; on real tensors it is `dot`.
        let (a, b) = (c.tensor("self")?, c.tensor("other")?);
        one(c.call("aten.dot.default", vec![val(a), val(b)])?)
    });
}

/// A labelled operand: a tensor and one label per dim.
#[derive(Clone)]
struct Term {
    value: ValueId,
    labels: Vec<u32>,
    shape: Vec<i64>,
}

/// Sums `t` over its dims at `dims` (ascending), dropping them, in its own dtype (a plain
/// `sum` would widen integers to `i64`; `tensordot`'s results keep the dtype).
fn sum_dims(c: &mut DecompCx<'_>, t: Term, dims: &[usize]) -> Result<Term, String> {
    if dims.is_empty() {
        return Ok(t);
    }
    let list = Arg::List(dims.iter().map(|&d| int(d as i64)).collect());
    let kw = vec![("dtype".into(), Arg::DType(c.tensor_type(t.value)?.dtype))];
    let r = c.call_kw(
        "aten.sum.dim_IntList",
        vec![val(t.value), list, Arg::Bool(false)],
        kw,
    )?;
    let keep = |i: &usize| !dims.contains(i);
    Ok(Term {
        value: r[0],
        labels: (0..t.labels.len())
            .filter(keep)
            .map(|i| t.labels[i])
            .collect(),
        shape: (0..t.shape.len())
            .filter(keep)
            .map(|i| t.shape[i])
            .collect(),
    })
}

/// Takes the diagonal of every label that occurs more than once in `t` (`ii->i`), as
/// `aten.diagonal` does: the diagonal dim moves to the end.
fn diagonals(c: &mut DecompCx<'_>, mut t: Term) -> Result<Term, String> {
    loop {
        let dup = (0..t.labels.len()).find_map(|i| {
            (i + 1..t.labels.len())
                .find(|&j| t.labels[j] == t.labels[i])
                .map(|j| (i, j))
        });
        let Some((i, j)) = dup else { return Ok(t) };
        if t.shape[i] != t.shape[j] {
            return Err(format!(
                "einsum: a repeated subscript has sizes {} and {}",
                t.shape[i], t.shape[j]
            ));
        }
        let v = c.call(
            "aten.diagonal.default",
            vec![val(t.value), int(0), int(i as i64), int(j as i64)],
        )?;
        let label = t.labels[i];
        let size = t.shape[i];
        let keep = |k: &usize| *k != i && *k != j;
        let mut labels: Vec<u32> = (0..t.labels.len())
            .filter(keep)
            .map(|k| t.labels[k])
            .collect();
        let mut shape: Vec<i64> = (0..t.shape.len())
            .filter(keep)
            .map(|k| t.shape[k])
            .collect();
        labels.push(label);
        shape.push(size);
        t = Term {
            value: v,
            labels,
            shape,
        };
    }
}

/// Sums out the labels of `t` that no other operand and not the output needs.
fn sum_unneeded(c: &mut DecompCx<'_>, t: Term, needed: &[u32]) -> Result<Term, String> {
    let dims: Vec<usize> = (0..t.labels.len())
        .filter(|&i| !needed.contains(&t.labels[i]))
        .collect();
    sum_dims(c, t, &dims)
}

/// Permutes `t` so that its labels come in `order` (a permutation of its labels).
fn permute_to(c: &mut DecompCx<'_>, t: Term, order: &[u32]) -> Result<Term, String> {
    let perm: Vec<usize> = order
        .iter()
        .map(|l| {
            t.labels
                .iter()
                .position(|x| x == l)
                .expect("label of the term")
        })
        .collect();
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(t);
    }
    let p: Vec<i64> = perm.iter().map(|&p| p as i64).collect();
    let v = c.call("aten.permute.default", vec![val(t.value), ints(&p)])?;
    Ok(Term {
        value: v,
        labels: order.to_vec(),
        shape: perm.iter().map(|&p| t.shape[p]).collect(),
    })
}

fn reshape(c: &mut DecompCx<'_>, v: ValueId, shape: &[i64]) -> Result<ValueId, String> {
    c.call("aten.reshape.default", vec![val(v), ints(shape)])
}

/// Expands the dims of `t` with label in `labels` from size 1 to `sizes` (broadcasting).
fn expand_to(c: &mut DecompCx<'_>, mut t: Term, sizes: &[(u32, i64)]) -> Result<Term, String> {
    let mut target = t.shape.clone();
    for (i, l) in t.labels.iter().enumerate() {
        if let Some(&(_, n)) = sizes.iter().find(|(x, _)| x == l) {
            target[i] = n;
        }
    }
    if target != t.shape {
        t.value = c.call("aten.expand.default", vec![val(t.value), ints(&target)])?;
        t.shape = target;
    }
    Ok(t)
}

/// The product of `a` and `b` summed over the labels they share that `needed` does not hold.
fn contract_pair(c: &mut DecompCx<'_>, a: Term, b: Term, needed: &[u32]) -> Result<Term, String> {
    let in_b = |l: &u32| b.labels.contains(l);
    let size = |t: &Term, l: u32| t.shape[t.labels.iter().position(|&x| x == l).unwrap()];
    // Shared labels where one side has size 1 broadcast: a contracted one is summed on each side
    // on its own (sum_k a[0] * b[k] = a[0] * sum_k b[k]); a kept one expands to the other size.
    let shared: Vec<u32> = a.labels.iter().copied().filter(|l| in_b(l)).collect();
    let mut sum_a = vec![];
    let mut sum_b = vec![];
    let mut grow_a = vec![];
    let mut grow_b = vec![];
    for &l in &shared {
        let (na, nb) = (size(&a, l), size(&b, l));
        if na == nb {
            continue;
        }
        if na != 1 && nb != 1 {
            return Err(format!(
                "einsum: subscript sizes {na} and {nb} do not broadcast"
            ));
        }
        if needed.contains(&l) {
            if na == 1 {
                grow_a.push((l, nb));
            } else {
                grow_b.push((l, na));
            }
        } else {
            sum_a.push(a.labels.iter().position(|&x| x == l).unwrap());
            sum_b.push(b.labels.iter().position(|&x| x == l).unwrap());
        }
    }
    sum_a.sort_unstable();
    sum_b.sort_unstable();
    let a = sum_dims(c, a, &sum_a)?;
    let a = expand_to(c, a, &grow_a)?;
    let b = sum_dims(c, b, &sum_b)?;
    let b = expand_to(c, b, &grow_b)?;
    let (in_a2, in_b2) = (
        |l: &u32| a.labels.contains(l),
        |l: &u32| b.labels.contains(l),
    );
    let batch: Vec<u32> = a
        .labels
        .iter()
        .copied()
        .filter(|l| in_b2(l) && needed.contains(l))
        .collect();
    let contracted: Vec<u32> = a
        .labels
        .iter()
        .copied()
        .filter(|l| in_b2(l) && !needed.contains(l))
        .collect();
    let a_only: Vec<u32> = a.labels.iter().copied().filter(|l| !in_b2(l)).collect();
    let b_only: Vec<u32> = b.labels.iter().copied().filter(|l| !in_a2(l)).collect();
    let order_a: Vec<u32> = [&batch[..], &a_only, &contracted].concat();
    let order_b: Vec<u32> = [&batch[..], &contracted, &b_only].concat();
    let a = permute_to(c, a, &order_a)?;
    let b = permute_to(c, b, &order_b)?;
    let nb = batch.len();
    let prod = |s: &[i64]| s.iter().product::<i64>();
    let bt = prod(&a.shape[..nb]);
    let m = prod(&a.shape[nb..nb + a_only.len()]);
    let k = prod(&a.shape[nb + a_only.len()..]);
    let n = prod(&b.shape[nb + contracted.len()..]);
    let a3 = reshape(c, a.value, &[bt, m, k])?;
    let b3 = reshape(c, b.value, &[bt, k, n])?;
    let mm = c.call("aten.bmm.default", vec![val(a3), val(b3)])?;
    let mut shape: Vec<i64> = a.shape[..nb + a_only.len()].to_vec();
    shape.extend(&b.shape[nb + contracted.len()..]);
    let value = reshape(c, mm, &shape)?;
    Ok(Term {
        value,
        labels: [&batch[..], &a_only, &b_only].concat(),
        shape,
    })
}

/// Contracts `terms` left to right into the labels `out` (in that order).
fn contract_all(c: &mut DecompCx<'_>, terms: Vec<Term>, out: &[u32]) -> Result<ValueId, String> {
    let inputs: Vec<ValueId> = terms.iter().map(|t| t.value).collect();
    if let Some(l) = out
        .iter()
        .find(|l| !terms.iter().any(|t| t.labels.contains(l)))
    {
        return Err(format!("output dim {l} is in no operand"));
    }
    let mut terms: Vec<Term> = terms
        .into_iter()
        .map(|t| diagonals(c, t))
        .collect::<Result<_, _>>()?;
    let needed_after = |terms: &[Term], from: usize| -> Vec<u32> {
        let mut n: Vec<u32> = out.to_vec();
        for t in &terms[from..] {
            n.extend(&t.labels);
        }
        n
    };
    let first = terms.remove(0);
    let mut acc = sum_unneeded(c, first, &needed_after(&terms, 0))?;
    for i in 0..terms.len() {
        let next = terms[i].clone();
        let needed = needed_after(&terms, i + 1);
        // Labels only `next` has and nothing later needs are summed before the product.
        let mut others = needed.clone();
        others.extend(&acc.labels);
        let next = sum_unneeded(c, next, &others)?;
        acc = contract_pair(c, acc, next, &needed)?;
    }
    let acc = sum_unneeded(c, acc, out)?;
    let r = permute_to(c, acc, out)?.value;
    if inputs.contains(&r) {
        // `ij->ij`: a result is never one of the inputs.
        return c.call("aten.alias.default", vec![val(r)]);
    }
    Ok(r)
}

/// `tensordot(a, b, dims_self, dims_other)` as a two-operand contraction.
fn tensordot(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    let (da, db) = (c.ints("dims_self")?, c.ints("dims_other")?);
    let (sa, sb) = (const_shape(c, a)?, const_shape(c, b)?);
    if da.len() != db.len() {
        return Err(format!(
            "tensordot: {} dims of self against {} of other",
            da.len(),
            db.len()
        ));
    }
    let wrap = |d: i64, r: usize| -> Result<usize, String> {
        let w = if d < 0 { d + r as i64 } else { d };
        if (0..r as i64).contains(&w) {
            Ok(w as usize)
        } else {
            Err(format!("tensordot: dim {d} out of range for rank {r}"))
        }
    };
    let la: Vec<u32> = (0..sa.len() as u32).collect();
    let mut lb: Vec<u32> = (0..sb.len() as u32).map(|i| 100 + i).collect();
    for (&x, &y) in da.iter().zip(&db) {
        let (x, y) = (wrap(x, sa.len())?, wrap(y, sb.len())?);
        // A size-1 dim broadcasts against the other (ATen sums it on its own).
        if sa[x] != sb[y] && sa[x] != 1 && sb[y] != 1 {
            return Err(format!(
                "tensordot: contracted sizes {} and {} differ",
                sa[x], sb[y]
            ));
        }
        lb[y] = la[x];
    }
    let out: Vec<u32> = la
        .iter()
        .copied()
        .filter(|l| !lb.contains(l))
        .chain(lb.iter().copied().filter(|l| !la.contains(l)))
        .collect();
    let terms = vec![
        Term {
            value: a,
            labels: la,
            shape: sa,
        },
        Term {
            value: b,
            labels: lb,
            shape: sb,
        },
    ];
    one(contract_all(c, terms, &out)?)
}

/// `bilinear(x1, x2, w, b)`: `y[..., o] = sum_ij x1[..., i] w[o, i, j] x2[..., j] + b[o]`.
fn bilinear(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x1, x2, w) = (
        c.tensor("input1")?,
        c.tensor("input2")?,
        c.tensor("weight")?,
    );
    let bias = c.opt_tensor("bias")?;
    let (s1, s2, sw) = (const_shape(c, x1)?, const_shape(c, x2)?, const_shape(c, w)?);
    if s1.is_empty() || s1.len() != s2.len() || sw.len() != 3 {
        return Err(format!(
            "bilinear: inputs {s1:?} and {s2:?} with weight {sw:?}"
        ));
    }
    let lead = s1.len() - 1;
    let batch: Vec<u32> = (0..lead as u32).map(|i| 1000 + i).collect();
    let (i, j, o) = ('i' as u32, 'j' as u32, 'o' as u32);
    let t1 = Term {
        value: x1,
        labels: [&batch[..], &[i]].concat(),
        shape: s1,
    };
    let t2 = Term {
        value: x2,
        labels: [&batch[..], &[j]].concat(),
        shape: s2,
    };
    let tw = Term {
        value: w,
        labels: vec![o, i, j],
        shape: sw,
    };
    let out: Vec<u32> = [&batch[..], &[o]].concat();
    let y = contract_all(c, vec![t1, tw, t2], &out)?;
    match bias {
        Some(b) => one(c.call("aten.add.Tensor", vec![val(y), val(b)])?),
        None => one(y),
    }
}

/// `addbmm(self, b1, b2, beta, alpha)`: `beta * self + alpha * sum_b b1[b] @ b2[b]`; with
/// `beta == 0` `self` is not read (its NaNs do not propagate), as in ATen.
fn addbmm(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (s, b1, b2) = (c.tensor("self")?, c.tensor("batch1")?, c.tensor("batch2")?);
    let (beta, alpha) = (c.arg("beta")?, c.arg("alpha")?);
    let dtype = c.tensor_type(b1)?.dtype;
    let prod = c.call("aten.bmm.default", vec![val(b1), val(b2)])?;
    let summed = c.call_kw(
        "aten.sum.dim_IntList",
        vec![val(prod), Arg::List(vec![int(0)]), Arg::Bool(false)],
        vec![("dtype".into(), Arg::DType(dtype))],
    )?[0];
    let is = |a: &Arg, x: f64| a.as_f64() == Some(x);
    let scaled = if is(&alpha, 1.0) {
        summed
    } else {
        c.call("aten.mul.Scalar", vec![val(summed), alpha.clone()])?
    };
    if is(&beta, 0.0) {
        return one(scaled);
    }
    let base = if is(&beta, 1.0) {
        s
    } else {
        c.call("aten.mul.Scalar", vec![val(s), beta.clone()])?
    };
    one(c.call("aten.add.Tensor", vec![val(base), val(scaled)])?)
}

/// `linalg_multi_dot(tensors)`: `matmul` folded left to right (a first 1-D operand is a row,
/// a last 1-D operand a column, as `matmul` treats them).
fn multi_dot(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let ts = c.tensors("tensors")?;
    if ts.len() < 2 {
        return Err(format!(
            "linalg_multi_dot needs at least 2 tensors, got {}",
            ts.len()
        ));
    }
    let mut acc = ts[0];
    for &t in &ts[1..] {
        acc = c.call("aten.matmul.default", vec![val(acc), val(t)])?;
    }
    one(acc)
}

/// `_trilinear(i1, i2, i3, expand1, expand2, expand3, sumdim)` (what core ATen lowers
/// `bilinear` to): each input unsqueezed at its `expand` dims, the three multiplied, and the
/// `sumdim` dims summed away. As a contraction, dim `p` of the common rank is label `p`; an
/// input lacks the labels of its expanded dims.
fn trilinear(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let names = [("i1", "expand1"), ("i2", "expand2"), ("i3", "expand3")];
    let mut terms = Vec::with_capacity(3);
    let mut rank = None;
    for (t, e) in names {
        let v = c.tensor(t)?;
        let shape = const_shape(c, v)?;
        let expand = c.ints(e)?;
        let r = shape.len() + expand.len();
        if *rank.get_or_insert(r) != r {
            return Err("_trilinear: the expanded ranks differ".into());
        }
        let labels: Vec<u32> = (0..r as i64)
            .filter(|p| !expand.contains(p))
            .map(|p| p as u32)
            .collect();
        terms.push(Term {
            value: v,
            labels,
            shape,
        });
    }
    let sumdim = c.ints("sumdim")?;
    let out: Vec<u32> = (0..rank.unwrap_or(0) as i64)
        .filter(|p| !sumdim.contains(p))
        .map(|p| p as u32)
        .collect();
    one(contract_all(c, terms, &out)?)
}
