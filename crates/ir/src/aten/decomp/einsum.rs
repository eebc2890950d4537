//! `einsum` as permutes, reductions and batched matrix products (as `torch.einsum` itself
//! contracts: operands left to right, each pair through one `bmm`-shaped `matmul`).
//!
//! The equation may use `...` (broadcast dims, aligned from the right as in NumPy), spaces,
//! and an implicit output (the ellipsis dims, then the labels used exactly once, sorted).
//! A label repeated within one operand (a diagonal, `ii->i`) is refused, and so is a
//! contracted label whose extents differ between the operands.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{int, ints, val};
use crate::ops::DecompCx;
use crate::{Dim, ValueId};

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.einsum.default", einsum);
}

/// A dim label: a letter of the equation, or the `i`-th (from the left) broadcast dim of the
/// ellipsis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Label {
    Ellipsis(usize),
    Letter(char),
}

/// The operands' labels and the output's, with every `...` expanded.
fn parse(eq: &str, ranks: &[usize]) -> Result<(Vec<Vec<Label>>, Vec<Label>), String> {
    let eq: String = eq.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (eq.as_str(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != ranks.len() {
        return Err(format!(
            "equation `{eq}` has {} operands, {} tensors given",
            terms.len(),
            ranks.len()
        ));
    }
    // Letters of a term, and whether it has an ellipsis (before letter `at`).
    let split = |t: &str| -> Result<(Vec<char>, Option<usize>), String> {
        let (letters, at) = match t.split_once("...") {
            Some((a, b)) => {
                let mut l: Vec<char> = a.chars().collect();
                let at = l.len();
                l.extend(b.chars());
                (l, Some(at))
            }
            None => (t.chars().collect(), None),
        };
        if let Some(c) = letters.iter().find(|c| !c.is_ascii_alphabetic()) {
            return Err(format!("equation `{eq}`: `{c}` is not a label"));
        }
        Ok((letters, at))
    };
    let mut parsed = vec![];
    let mut n_ell = 0;
    for (t, &r) in terms.iter().zip(ranks) {
        let (letters, at) = split(t)?;
        let k = match at {
            Some(_) => r.checked_sub(letters.len()).ok_or_else(|| {
                format!("equation `{eq}`: term `{t}` has more labels than rank {r}")
            })?,
            None if letters.len() == r => 0,
            None => {
                return Err(format!(
                    "equation `{eq}`: term `{t}` has {} labels for rank {r}",
                    letters.len()
                ))
            }
        };
        n_ell = n_ell.max(k);
        parsed.push((letters, at, k));
    }
    let expand = |letters: &[char], at: Option<usize>, k: usize| -> Vec<Label> {
        let mut out: Vec<Label> = vec![];
        for (i, &c) in letters.iter().enumerate() {
            if at == Some(i) {
                out.extend((n_ell - k..n_ell).map(Label::Ellipsis));
            }
            out.push(Label::Letter(c));
        }
        if at == Some(letters.len()) {
            out.extend((n_ell - k..n_ell).map(Label::Ellipsis));
        }
        out
    };
    let inputs: Vec<Vec<Label>> = parsed.iter().map(|(l, at, k)| expand(l, *at, *k)).collect();
    for (t, ls) in terms.iter().zip(&inputs) {
        for (i, l) in ls.iter().enumerate() {
            if ls[..i].contains(l) {
                return Err(format!(
                    "equation `{eq}`: a label repeated within `{t}` (a diagonal) is not supported"
                ));
            }
        }
    }
    let output = match rhs {
        Some(r) => {
            let (letters, at) = split(r)?;
            let out = expand(&letters, at, if at.is_some() { n_ell } else { 0 });
            for (i, l) in out.iter().enumerate() {
                if out[..i].contains(l) {
                    return Err(format!("equation `{eq}`: output label repeated"));
                }
                if !inputs.iter().any(|ls| ls.contains(l)) {
                    return Err(format!("equation `{eq}`: output label not in any operand"));
                }
            }
            out
        }
        None => {
            let mut out: Vec<Label> = (0..n_ell).map(Label::Ellipsis).collect();
            let mut once: Vec<Label> = vec![];
            for ls in &inputs {
                for l in ls {
                    if matches!(l, Label::Letter(_)) {
                        let n: usize = inputs.iter().flatten().filter(|x| *x == l).count();
                        if n == 1 {
                            once.push(*l);
                        }
                    }
                }
            }
            once.sort();
            out.extend(once);
            out
        }
    };
    Ok((inputs, output))
}

/// An operand during contraction: its value and the label of each of its dims.
struct Term {
    v: ValueId,
    labels: Vec<Label>,
}

/// The extent of dim `axis` of `v` as a list entry (a literal, or a `sym_size` call).
fn dim_arg(c: &mut DecompCx<'_>, v: ValueId, axis: usize) -> Result<Arg, String> {
    let d = c.tensor_type(v)?.shape[axis].clone();
    Ok(match d.as_const() {
        Some(n) => int(n),
        None => val(c.call("aten.sym_size.int", vec![val(v), int(axis as i64)])?),
    })
}

fn extent(c: &DecompCx<'_>, t: &Term, l: Label) -> Result<Dim, String> {
    let i = t.labels.iter().position(|x| *x == l).ok_or("label")?;
    Ok(c.tensor_type(t.v)?.shape[i].clone())
}

/// `t` summed over its labels not in `keep`.
fn sum_out(c: &mut DecompCx<'_>, t: Term, keep: &[Label]) -> Result<Term, String> {
    let dims: Vec<i64> = (0..t.labels.len())
        .filter(|&i| !keep.contains(&t.labels[i]))
        .map(|i| i as i64)
        .collect();
    if dims.is_empty() {
        return Ok(t);
    }
    let v = c.call("aten.sum.dim_IntList", vec![val(t.v), ints(&dims)])?;
    let labels = t.labels.into_iter().filter(|l| keep.contains(l)).collect();
    Ok(Term { v, labels })
}

/// `t` with its dims in the order `order` (a permutation of its labels).
fn permute(c: &mut DecompCx<'_>, t: Term, order: &[Label]) -> Result<Term, String> {
    if t.labels == order {
        return Ok(t);
    }
    let perm: Vec<i64> = order
        .iter()
        .map(|l| t.labels.iter().position(|x| x == l).map(|i| i as i64))
        .collect::<Option<_>>()
        .ok_or("einsum: permutation")?;
    let v = c.call("aten.permute.default", vec![val(t.v), ints(&perm)])?;
    Ok(Term {
        v,
        labels: order.to_vec(),
    })
}

/// The product of the extents of labels `ls` of `t` as one list entry: a literal when all
/// are static, the `sym_size` of a lone symbolic one, else `-1` (`free` says whether the one
/// inferred entry of the reshape is still free).
fn group_arg(c: &mut DecompCx<'_>, t: &Term, ls: &[Label], free: &mut bool) -> Result<Arg, String> {
    let mut prod = 1i64;
    let mut syms = vec![];
    for l in ls {
        let i = t.labels.iter().position(|x| x == l).ok_or("label")?;
        match c.tensor_type(t.v)?.shape[i].as_const() {
            Some(n) => prod *= n,
            None => syms.push(i),
        }
    }
    match syms.as_slice() {
        [] => Ok(int(prod)),
        [i] if prod == 1 => dim_arg(c, t.v, *i),
        _ if *free => {
            *free = false;
            Ok(int(-1))
        }
        _ => Err("einsum: more than one merged group of dynamic dims".into()),
    }
}

/// Contracts two terms into one with the labels `keep` needs.
fn contract(c: &mut DecompCx<'_>, a: Term, b: Term, keep: &[Label]) -> Result<Term, String> {
    // Labels only one side has and nobody needs later are summed out first.
    let keep_a: Vec<Label> = a
        .labels
        .iter()
        .copied()
        .filter(|l| keep.contains(l) || b.labels.contains(l))
        .collect();
    let a = sum_out(c, a, &keep_a)?;
    let keep_b: Vec<Label> = b
        .labels
        .iter()
        .copied()
        .filter(|l| keep.contains(l) || a.labels.contains(l))
        .collect();
    let b = sum_out(c, b, &keep_b)?;
    let both = |l: &Label| a.labels.contains(l) && b.labels.contains(l);
    let batch: Vec<Label> = a
        .labels
        .iter()
        .copied()
        .filter(|l| both(l) && keep.contains(l))
        .collect();
    let contr: Vec<Label> = a
        .labels
        .iter()
        .copied()
        .filter(|l| both(l) && !keep.contains(l))
        .collect();
    let left: Vec<Label> = a
        .labels
        .iter()
        .copied()
        .filter(|l| !b.labels.contains(l))
        .collect();
    let right: Vec<Label> = b
        .labels
        .iter()
        .copied()
        .filter(|l| !a.labels.contains(l))
        .collect();
    for &l in &contr {
        if extent(c, &a, l)? != extent(c, &b, l)? {
            return Err("einsum: a contracted label with different extents".into());
        }
    }
    let a = permute(c, a, &[&batch[..], &left, &contr].concat())?;
    let b = permute(c, b, &[&batch[..], &contr, &right].concat())?;
    // [batch..., M, K] @ [batch..., K, N]; matmul broadcasts the batch dims.
    let mut shape_a = vec![];
    let mut shape_b = vec![];
    for (i, _) in batch.iter().enumerate() {
        shape_a.push(dim_arg(c, a.v, i)?);
        shape_b.push(dim_arg(c, b.v, i)?);
    }
    let mut free = true;
    shape_a.push(group_arg(c, &a, &left, &mut free)?);
    shape_a.push(group_arg(c, &a, &contr, &mut free)?);
    let mut free = true;
    shape_b.push(group_arg(c, &b, &contr, &mut free)?);
    shape_b.push(group_arg(c, &b, &right, &mut free)?);
    // Already `[batch..., M, K]` / `[batch..., K, N]` when each group is one dim.
    let ma = if left.len() == 1 && contr.len() == 1 {
        a.v
    } else {
        c.call("aten.reshape.default", vec![val(a.v), Arg::List(shape_a)])?
    };
    let mb = if contr.len() == 1 && right.len() == 1 {
        b.v
    } else {
        c.call("aten.reshape.default", vec![val(b.v), Arg::List(shape_b)])?
    };
    let p = c.call("aten.matmul.default", vec![val(ma), val(mb)])?;
    // Back to [batch..., left..., right...].
    let mut out = vec![];
    for (i, _) in batch.iter().enumerate() {
        out.push(dim_arg(c, p, i)?);
    }
    for &l in &left {
        let i = a.labels.iter().position(|x| *x == l).ok_or("label")?;
        out.push(dim_arg(c, a.v, i)?);
    }
    for &l in &right {
        let i = b.labels.iter().position(|x| *x == l).ok_or("label")?;
        out.push(dim_arg(c, b.v, i)?);
    }
    let v = if left.len() == 1 && right.len() == 1 {
        p
    } else {
        c.call("aten.reshape.default", vec![val(p), Arg::List(out)])?
    };
    Ok(Term {
        v,
        labels: [batch, left, right].concat(),
    })
}

fn einsum(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let eq = c.str("equation")?;
    let vs = c.tensors("tensors")?;
    let ranks: Vec<usize> = vs.iter().map(|&v| c.rank(v)).collect::<Result<_, _>>()?;
    let (inputs, output) = parse(&eq, &ranks)?;
    let mut terms: Vec<Term> = vs
        .iter()
        .zip(inputs)
        .map(|(&v, labels)| Term { v, labels })
        .collect();
    terms.reverse();
    let mut acc = terms.pop().ok_or("einsum of no tensors")?;
    while let Some(b) = terms.pop() {
        let mut keep = output.clone();
        keep.extend(terms.iter().flat_map(|t| t.labels.iter().copied()));
        acc = contract(c, acc, b, &keep)?;
    }
    let acc = sum_out(c, acc, &output)?;
    let v0 = acc.v;
    let acc = permute(c, acc, &output)?;
    if acc.v == v0 && vs.contains(&v0) {
        // Nothing to compute (`ij->ij`): a copy, as einsum's result is a new tensor.
        return one(c.call("aten.clone.default", vec![val(v0)])?);
    }
    one(acc.v)
}
