//! Symbolic scalars: `sym_size` & co, SymInt arithmetic targets (`_operator.add`, `math.floor`,
//! `torch.sym_max`), runtime assertions, and data-dependent ops that mint unbacked symbols
//! (`item`, `nonzero`, `unique`, `masked_select`).

use super::{fresh_unbacked, norm_dim, t, Call, Rule, ScalarVal, R};
use crate::dim::Dim;
use crate::dtype::DType;
use crate::graph::Arg;
use crate::types::{Shape, Type};

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("sym_size.int", sym_size),
    ("sym_numel", sym_numel),
    ("sym_stride.int", sym_stride),
    ("sym_storage_offset", sym_storage_offset),
    ("_assert_scalar", nothing),
    ("_assert_async", nothing),
    ("sym_constrain_range", nothing),
    ("sym_constrain_range_for_size", nothing),
    ("_assert_tensor_metadata", nothing),
    ("_functional_sym_constrain_range", dep_token),
    ("_functional_sym_constrain_range_for_size", dep_token),
    ("_functional_assert_scalar", dep_token),
    ("_functional_assert_async.msg", dep_token),
    ("_print", nothing),
    ("item", item),
    ("_local_scalar_dense", item),
    ("nonzero.default", nonzero),
    ("nonzero_numpy", nonzero_numpy),
    ("combinations", combinations),
    ("bincount", bincount),
    ("nonzero_static", nonzero_static),
    ("argwhere", nonzero),
    ("masked_select", masked_select),
    ("repeat_interleave.Tensor", repeat_interleave_tensor),
    (
        "repeat_interleave.self_Tensor",
        repeat_interleave_self_tensor,
    ),
    ("_unique2", unique2),
    ("unique_consecutive", unique_consecutive),
    ("unique_dim", unique_dim),
];

fn nothing(_: &Call) -> R {
    Ok(vec![])
}

fn dep_token(_: &Call) -> R {
    Ok(vec![t(DType::F32, Shape::new())])
}

fn sym_size(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.int("dim")?, x.rank())?;
    Ok(vec![Type::SymInt(Some(x.shape[d].clone()))])
}

fn sym_numel(c: &Call) -> R {
    Ok(vec![Type::SymInt(Some(c.tensor("self")?.numel()))])
}

/// Strides of a contiguous tensor (trtfx computes views as copies, so every value is
/// contiguous): the product of the trailing sizes.
fn sym_stride(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.int("dim")?, x.rank())?;
    let s = x.shape[d + 1..]
        .iter()
        .fold(Dim::constant(1), |a, b| a.mul(b));
    Ok(vec![Type::SymInt(Some(s))])
}

fn sym_storage_offset(_: &Call) -> R {
    Ok(vec![Type::SymInt(Some(Dim::constant(0)))])
}

/// `item`: a fresh unbacked SymInt for integral tensors, SymBool for bool, SymFloat otherwise.
fn item(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![if x.dtype.is_integral() {
        Type::SymInt(Some(fresh_unbacked(0, None, None)))
    } else if x.dtype == DType::Bool {
        Type::SymBool
    } else {
        Type::SymFloat
    }])
}

/// `nonzero` / `argwhere`: `[u, rank]` rows, with `u` an unbacked size, except for a tensor
/// with statically no elements, whose result PyTorch's fake kernel sizes 0 (no symbol minted).
fn nonzero(c: &Call) -> R {
    let x = c.tensor("self")?;
    let rows = if x.numel().as_const() == Some(0) {
        Dim::constant(0)
    } else {
        fresh_unbacked(0, Some(0), Some(0))
    };
    Ok(vec![t(
        DType::I64,
        vec![rows, Dim::constant(x.rank() as i64)],
    )])
}

/// `nonzero_numpy` (`nonzero(as_tuple=True)`): one int64 `[u]` index tensor per dim (a 0-d
/// input counts as 1-d), all sharing the unbacked count.
fn nonzero_numpy(c: &Call) -> R {
    let x = c.tensor("self")?;
    let rows = if x.numel().as_const() == Some(0) {
        Dim::constant(0)
    } else {
        fresh_unbacked(0, Some(0), Some(0))
    };
    Ok((0..x.rank().max(1))
        .map(|_| t(DType::I64, vec![rows.clone()]))
        .collect())
}

/// `combinations(self, r)`: `[u, r]` rows of `self`'s dtype; the count is left unbacked, as the
/// export records it.
fn combinations(c: &Call) -> R {
    let x = c.tensor("self")?;
    let r = c.int("r")?;
    let u = fresh_unbacked(0, Some(0), Some(0));
    Ok(vec![t(x.dtype, vec![u, Dim::constant(r)])])
}

/// `bincount`: `[u]` bins. The dtype is `self`'s, as PyTorch's fake kernel records it
/// (`inputs.new_empty`), although eager PyTorch returns int64 counts (or the weights' float
/// dtype); the executor computes the eager dtype.
fn bincount(c: &Call) -> R {
    let x = c.tensor("self")?;
    let u = fresh_unbacked(0, Some(0), Some(0));
    Ok(vec![t(x.dtype, vec![u])])
}

fn nonzero_static(c: &Call) -> R {
    let x = c.tensor("self")?;
    let n = c.sym("size")?;
    Ok(vec![t(DType::I64, vec![n, Dim::constant(x.rank() as i64)])])
}

/// `repeat_interleave(repeats)`: the `[sum(repeats)]` indices in `repeats`' dtype; the sum
/// is `output_size` when given, else unbacked.
fn repeat_interleave_tensor(c: &Call) -> R {
    let r = c.tensor("repeats")?;
    if r.rank() > 1 {
        return Err(format!("repeats must be 0-d or 1-d, got {r}"));
    }
    let n = match c.opt_sym("output_size")? {
        Some(n) => n,
        None => fresh_unbacked(0, Some(0), Some(0)),
    };
    Ok(vec![t(r.dtype, vec![n])])
}

/// `repeat_interleave(self, repeats: Tensor, dim)`: `self` (flattened without `dim`) with dim
/// `dim` of size `output_size` when given, else unbacked.
fn repeat_interleave_self_tensor(c: &Call) -> R {
    let x = c.tensor("self")?;
    let (mut shape, d): (Shape, usize) = match c.opt_int("dim")? {
        None => (std::iter::once(x.numel()).collect(), 0),
        Some(_) if x.rank() == 0 => {
            return Err("a dim of a zero-dim tensor cannot be repeated".into())
        }
        Some(d) => (x.shape.clone(), norm_dim(d, x.rank())?),
    };
    shape[d] = match c.opt_sym("output_size")? {
        Some(n) => n,
        None => fresh_unbacked(0, Some(d), Some(0)),
    };
    Ok(vec![t(x.dtype, shape)])
}

fn masked_select(c: &Call) -> R {
    let x = c.tensor("self")?;
    let u = fresh_unbacked(0, Some(0), Some(0));
    Ok(vec![t(x.dtype, vec![u])])
}

fn unique2(c: &Call) -> R {
    let x = c.tensor("self")?;
    let u = fresh_unbacked(0, Some(0), Some(0));
    // Unrequested outputs are empty tensors of `self`'s dtype (`input.new_empty(0)`).
    let empty = || t(x.dtype, vec![Dim::constant(0)]);
    Ok(vec![
        t(x.dtype, vec![u.clone()]),
        if c.bool_or("return_inverse", false) {
            t(DType::I64, x.shape.clone())
        } else {
            empty()
        },
        if c.bool_or("return_counts", false) {
            t(DType::I64, vec![u])
        } else {
            empty()
        },
    ])
}

fn unique_consecutive(c: &Call) -> R {
    let x = c.tensor("self")?;
    if let Some(d) = c.opt_int("dim")? {
        return unique_along(c, d);
    }
    let u = fresh_unbacked(0, Some(0), Some(0));
    // Unrequested outputs are empty tensors of `self`'s dtype (`input.new_empty(0)`).
    let empty = || t(x.dtype, vec![Dim::constant(0)]);
    Ok(vec![
        t(x.dtype, vec![u.clone()]),
        if c.bool_or("return_inverse", false) {
            t(DType::I64, x.shape.clone())
        } else {
            empty()
        },
        if c.bool_or("return_counts", false) {
            t(DType::I64, vec![u])
        } else {
            empty()
        },
    ])
}

fn unique_dim(c: &Call) -> R {
    unique_along(c, c.int("dim")?)
}

fn unique_along(c: &Call, d: i64) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(d, x.rank())?;
    let u = fresh_unbacked(0, Some(d), Some(0));
    let mut s = x.shape.clone();
    let n = s[d].clone();
    s[d] = u.clone();
    let empty = || t(DType::I64, vec![Dim::constant(0)]);
    Ok(vec![
        t(x.dtype, s),
        if c.bool_or("return_inverse", false) {
            t(DType::I64, vec![n])
        } else {
            empty()
        },
        if c.bool_or("return_counts", false) {
            t(DType::I64, vec![u])
        } else {
            empty()
        },
    ])
}

/// The Python-level symbolic scalar targets (`_operator.add`, `math.floor`, ...) with the
/// schema trtfx registers for them. Their arguments are positional, named as Python names them.
pub(crate) const SYM_OPS: &[(&str, &str)] = &[
    ("_operator.add", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.sub", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.mul", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.floordiv", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.truediv", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.mod", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.pow", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.neg", "(Scalar a) -> Scalar"),
    ("_operator.pos", "(Scalar a) -> Scalar"),
    ("_operator.abs", "(Scalar a) -> Scalar"),
    ("_operator.eq", "(Scalar a, Scalar b) -> bool"),
    ("_operator.ne", "(Scalar a, Scalar b) -> bool"),
    ("_operator.lt", "(Scalar a, Scalar b) -> bool"),
    ("_operator.le", "(Scalar a, Scalar b) -> bool"),
    ("_operator.gt", "(Scalar a, Scalar b) -> bool"),
    ("_operator.ge", "(Scalar a, Scalar b) -> bool"),
    ("_operator.and_", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.or_", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.not_", "(Scalar a) -> bool"),
    ("_operator.lshift", "(Scalar a, Scalar b) -> Scalar"),
    ("_operator.rshift", "(Scalar a, Scalar b) -> Scalar"),
    ("math.trunc", "(Scalar x) -> int"),
    ("math.ceil", "(Scalar x) -> int"),
    ("math.floor", "(Scalar x) -> int"),
    (
        "builtins.round",
        "(Scalar number, int? ndigits=None) -> Scalar",
    ),
    ("torch.sym_max", "(Scalar a, Scalar b) -> Scalar"),
    ("torch.sym_min", "(Scalar a, Scalar b) -> Scalar"),
    ("torch.sym_not", "(Scalar a) -> bool"),
    ("torch.sym_float", "(Scalar a) -> float"),
    ("torch.sym_int", "(Scalar a) -> int"),
    ("torch.sym_ite", "(Scalar b, Scalar t, Scalar f) -> Scalar"),
    ("torch._sym_sqrt", "(Scalar a) -> float"),
];

/// Kind of a symbolic operand with its expression when it is an integer.
fn operand(c: &Call, i: usize) -> Result<ScalarVal, String> {
    let a =
        c.a.args
            .get(i)
            .ok_or_else(|| format!("missing operand {i}"))?;
    if let Arg::Value(_) = a {
        if let Some(Type::Tensor(t)) = c.ty(a) {
            // A 0-dim tensor can reach Python arithmetic in traced code; treat by dtype.
            return Ok(if t.dtype.is_integral() {
                ScalarVal::Int(None)
            } else if t.dtype == DType::Bool {
                ScalarVal::Bool
            } else {
                ScalarVal::Float(None)
            });
        }
    }
    super::scalar_of(c, a).ok_or_else(|| format!("operand {i} is not a scalar: {a:?}"))
}

fn int_of(v: &ScalarVal) -> Option<Option<Dim>> {
    match v {
        ScalarVal::Int(d) => Some(d.clone()),
        // Bools are ints in Python arithmetic, value unknown unless literal.
        ScalarVal::Bool => Some(None),
        _ => None,
    }
}

/// Inference for the symbolic scalar targets: integer arithmetic stays a `SymInt` with the
/// simplified expression, float arithmetic is a `SymFloat`, comparisons are `SymBool`.
pub(crate) fn sym_op(c: &Call) -> R {
    let name = c.op.rsplit('.').next().unwrap_or("");
    let n = c.a.args.len();
    let unary = matches!(
        name,
        "neg"
            | "pos"
            | "abs"
            | "not_"
            | "trunc"
            | "ceil"
            | "floor"
            | "sym_not"
            | "sym_float"
            | "sym_int"
            | "_sym_sqrt"
            | "round"
    );
    if n < if unary {
        1
    } else if name == "sym_ite" {
        3
    } else {
        2
    } {
        return Err(format!("`{}` has too few operands", c.op));
    }
    let a = operand(c, 0)?;
    match name {
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "not_" | "sym_not" => {
            return Ok(vec![Type::SymBool])
        }
        "sym_float" | "_sym_sqrt" | "truediv" => return Ok(vec![Type::SymFloat]),
        "sym_ite" => {
            let x = operand(c, 1)?;
            return Ok(vec![scalar_type(&x)]);
        }
        _ => {}
    }
    if unary {
        let ai = int_of(&a);
        return Ok(vec![match name {
            "neg" => match ai {
                Some(d) => Type::SymInt(d.map(|d| d.neg())),
                None => Type::SymFloat,
            },
            "pos" => scalar_type(&a),
            "abs" => match ai {
                Some(d) => Type::SymInt(d.map(|d| {
                    if d.as_const().is_some_and(|v| v < 0) {
                        d.neg()
                    } else if d.as_const().is_some() {
                        d
                    } else {
                        Dim::max_of([d.clone(), d.neg()])
                    }
                })),
                None => Type::SymFloat,
            },
            "round" if c.a.args.get(1).is_some_and(|x| *x != Arg::None) => match ai {
                Some(d) => Type::SymInt(d),
                None => Type::SymFloat,
            },
            // trunc/ceil/floor/round/sym_int: an int; exact on int operands.
            _ => Type::SymInt(ai.flatten()),
        }]);
    }
    let b = operand(c, 1)?;
    let (ai, bi) = (int_of(&a), int_of(&b));
    let (Some(x), Some(y)) = (ai, bi) else {
        // A float operand: float arithmetic, except bit ops which need ints.
        return Ok(vec![match name {
            "floordiv" | "mod" | "add" | "sub" | "mul" | "pow" | "sym_max" | "sym_min" => {
                Type::SymFloat
            }
            _ => return Err(format!("`{}` of non-integer operands", c.op)),
        }]);
    };
    if matches!((&a, &b), (ScalarVal::Bool, ScalarVal::Bool)) && matches!(name, "and_" | "or_") {
        return Ok(vec![Type::SymBool]);
    }
    let (Some(x), Some(y)) = (x, y) else {
        return Ok(vec![Type::SymInt(None)]);
    };
    let r = match name {
        "add" => Some(x.add(&y)),
        "sub" => Some(x.sub(&y)),
        "mul" => Some(x.mul(&y)),
        "floordiv" => Some(x.floordiv(&y)),
        "mod" => Some(x.modulo(&y)),
        "sym_max" => Some(x.maximum(&y)),
        "sym_min" => Some(x.minimum(&y)),
        "pow" => match y.as_const() {
            Some(k) if (0..=64).contains(&k) => Some(x.pow(k as u32)),
            Some(_) => return Ok(vec![Type::SymFloat]),
            None => None,
        },
        "lshift" => y
            .as_const()
            .filter(|k| (0..63).contains(k))
            .map(|k| x.scale(1 << k)),
        "rshift" => y
            .as_const()
            .filter(|k| (0..63).contains(k))
            .map(|k| x.floordiv(&Dim::constant(1 << k))),
        _ => None,
    };
    Ok(vec![Type::SymInt(r)])
}

fn scalar_type(v: &ScalarVal) -> Type {
    match v {
        ScalarVal::Int(d) => Type::SymInt(d.clone()),
        ScalarVal::Float(_) => Type::SymFloat,
        ScalarVal::Bool => Type::SymBool,
        ScalarVal::Complex => Type::SymFloat,
    }
}
