//! Operator dispatch: one arm per ATen overload (or family), reading arguments by position or
//! schema name and calling the kernels. In-place variants (`add_`, `relu_`) compute the same
//! values functionally: the interpreter never aliases, so the node's result is the new value.

use super::{CallArgs, Executor, RunError, RunResult, Value};
use crate::kernels::elementwise as ew;
use crate::kernels::shape;
use crate::tensor::{Scalar, Tensor};
use trtfx_ir::Type;

type KResult = RunResult<Vec<Value>>;

fn one(r: crate::Result<Tensor>, c: &CallArgs<'_>) -> KResult {
    r.map(|t| vec![Value::Tensor(t)])
        .map_err(|e| c.kernel_err(e))
}

fn many(r: crate::Result<Vec<Tensor>>, c: &CallArgs<'_>) -> KResult {
    r.map(|ts| vec![Value::List(ts.into_iter().map(Value::Tensor).collect())])
        .map_err(|e| c.kernel_err(e))
}

/// The second operand of a binary op: a tensor, or a Python scalar turned into a 0-dim tensor
/// that promotes like the scalar (`.Scalar` overloads and SymInt operands).
fn operand(c: &CallArgs<'_>, a: &Tensor, i: usize, name: &str) -> RunResult<Tensor> {
    match c.get(i, name) {
        Some(Value::Tensor(t)) => Ok(t.clone()),
        _ => Ok(ew::scalar_operand(a, c.scalar(i, name)?)),
    }
}

/// Strips the namespace and overload: `aten.add.Tensor` → (`add`, `Tensor`).
fn split_target(target: &str) -> (&str, &str, &str) {
    let mut parts = target.splitn(3, '.');
    let ns = parts.next().unwrap_or("");
    let name = parts.next().unwrap_or("");
    let overload = parts.next().unwrap_or("default");
    (ns, name, overload)
}

/// Runs one call. `result_types` are the node's recorded/inferred result types (used by ops
/// whose output dtype is not determined by their arguments alone).
pub(super) fn call(ex: &Executor<'_>, c: &CallArgs<'_>, result_types: &[&Type]) -> KResult {
    let (ns, name, overload) = split_target(c.op);
    match ns {
        "aten" => aten(ex, c, name, overload, result_types),
        "_operator" => sym_operator(c, name),
        "math" | "builtins" | "torch" => sym_builtin(c, name, overload),
        "higher_order" => higher_order(ex, c, name),
        "prims" => prims(c, name),
        _ => Err(RunError::Unsupported {
            node: c.node.to_string(),
            op: c.op.to_string(),
            hint: "; register a kernel with Executor::register_kernel".into(),
        }),
    }
}

/// The `prims` ops that survive decompositions into exported programs.
fn prims(c: &CallArgs<'_>, name: &str) -> KResult {
    match name {
        "convert_element_type" => {
            let x = c.tensor(0, "a")?;
            let dtype = c.opt_dtype(1, "dtype")?;
            Ok(vec![Value::Tensor(shape::to_copy(x, dtype))])
        }
        _ => unsupported(c),
    }
}

fn unsupported(c: &CallArgs<'_>) -> KResult {
    Err(RunError::Unsupported {
        node: c.node.to_string(),
        op: c.op.to_string(),
        hint: String::new(),
    })
}

fn aten(
    ex: &Executor<'_>,
    c: &CallArgs<'_>,
    name: &str,
    overload: &str,
    result_types: &[&Type],
) -> KResult {
    let _ = ex;
    // In-place variants compute functionally.
    let name = name
        .strip_suffix('_')
        .filter(|n| !n.is_empty() && !n.ends_with('_'))
        .unwrap_or(name);
    macro_rules! unary {
        ($f:path) => {{
            let x = c.tensor(0, "self")?;
            one($f(x), c)
        }};
    }
    // A binary op whose `self` is a Python number (exported as `sub.Tensor(1, x)` from SymInt
    // arithmetic on tensors) promotes it like a scalar against the other operand.
    let lhs = |c: &CallArgs<'_>| -> RunResult<(Tensor, Tensor)> {
        match c.get(0, "self") {
            Some(Value::Tensor(a)) => {
                let b = operand(c, a, 1, "other")?;
                Ok((a.clone(), b))
            }
            _ => {
                let b = c.tensor(1, "other")?;
                Ok((ew::scalar_operand(b, c.scalar(0, "self")?), b.clone()))
            }
        }
    };
    macro_rules! binary {
        ($f:path) => {{
            let (a, b) = lhs(c)?;
            one($f(&a, &b), c)
        }};
    }
    match name {
        // ---- unary math and activations
        "neg" => unary!(ew::neg),
        "abs" => unary!(ew::abs),
        "relu" => unary!(ew::relu),
        "exp" => unary!(ew::exp),
        "exp2" => unary!(ew::exp2),
        "log" => unary!(ew::log),
        "log2" => unary!(ew::log2),
        "log10" => unary!(ew::log10),
        "log1p" => unary!(ew::log1p),
        "expm1" => unary!(ew::expm1),
        "sqrt" => unary!(ew::sqrt),
        "rsqrt" => unary!(ew::rsqrt),
        "sin" => unary!(ew::sin),
        "cos" => unary!(ew::cos),
        "tan" => unary!(ew::tan),
        "asin" => unary!(ew::asin),
        "acos" => unary!(ew::acos),
        "atan" => unary!(ew::atan),
        "sinh" => unary!(ew::sinh),
        "cosh" => unary!(ew::cosh),
        "tanh" => unary!(ew::tanh),
        "erf" => unary!(ew::erf),
        "sigmoid" => unary!(ew::sigmoid),
        "reciprocal" => unary!(ew::reciprocal),
        "silu" => unary!(ew::silu),
        "mish" => unary!(ew::mish),
        "hardswish" => unary!(ew::hardswish),
        "hardsigmoid" => unary!(ew::hardsigmoid),
        "floor" => unary!(ew::floor),
        "ceil" => unary!(ew::ceil),
        "trunc" => unary!(ew::trunc),
        "sign" => unary!(ew::sign),
        "square" => unary!(ew::square),
        "logical_not" => unary!(ew::logical_not),
        "isnan" => unary!(ew::isnan),
        "isinf" => unary!(ew::isinf),
        "isfinite" => unary!(ew::isfinite),
        "bitwise_not" => unary!(ew::bitwise_not),
        "round" => {
            let x = c.tensor(0, "self")?;
            match c.opt_int(1, "decimals")? {
                Some(d) if d != 0 => one(ew::round_decimals(x, d), c),
                _ => one(ew::round(x), c),
            }
        }
        "gelu" => {
            let x = c.tensor(0, "self")?;
            let approx = c.opt_str(1, "approximate")?.unwrap_or("none");
            one(ew::gelu(x, approx), c)
        }
        "leaky_relu" => {
            let x = c.tensor(0, "self")?;
            one(ew::leaky_relu(x, c.float_or(1, "negative_slope", 0.01)?), c)
        }
        "elu" => {
            let x = c.tensor(0, "self")?;
            one(
                ew::elu(
                    x,
                    c.float_or(1, "alpha", 1.0)?,
                    c.float_or(2, "scale", 1.0)?,
                    c.float_or(3, "input_scale", 1.0)?,
                ),
                c,
            )
        }
        "softplus" => {
            let x = c.tensor(0, "self")?;
            one(
                ew::softplus(
                    x,
                    c.float_or(1, "beta", 1.0)?,
                    c.float_or(2, "threshold", 20.0)?,
                ),
                c,
            )
        }
        "hardtanh" => {
            let x = c.tensor(0, "self")?;
            one(
                ew::hardtanh(
                    x,
                    c.float_or(1, "min_val", -1.0)?,
                    c.float_or(2, "max_val", 1.0)?,
                ),
                c,
            )
        }
        "relu6" => {
            let x = c.tensor(0, "self")?;
            one(ew::hardtanh(x, 0.0, 6.0), c)
        }
        // ---- binary arithmetic
        "add" | "sub" | "rsub" => {
            let (a, b) = lhs(c)?;
            let alpha = c.scalar_or(2, "alpha", Scalar::Int(1))?;
            let r = match name {
                "add" => ew::add(&a, &b, alpha),
                "sub" => ew::sub(&a, &b, alpha),
                _ => ew::rsub(&a, &b, alpha),
            };
            one(r, c)
        }
        "mul" => binary!(ew::mul),
        "div" => {
            let (a, b) = lhs(c)?;
            match c.opt_str(2, "rounding_mode")? {
                Some(mode) => one(ew::div_mode(&a, &b, Some(mode)), c),
                None => one(ew::div(&a, &b), c),
            }
        }
        "floor_divide" => binary!(ew::floor_divide),
        "remainder" => binary!(ew::remainder),
        "fmod" => binary!(ew::fmod),
        "maximum" => binary!(ew::maximum),
        "minimum" => binary!(ew::minimum),
        "atan2" => binary!(ew::atan2),
        "eq" => binary!(ew::eq),
        "ne" => binary!(ew::ne),
        "lt" => binary!(ew::lt),
        "le" => binary!(ew::le),
        "gt" => binary!(ew::gt),
        "ge" => binary!(ew::ge),
        "logical_and" => binary!(ew::logical_and),
        "logical_or" => binary!(ew::logical_or),
        "logical_xor" => binary!(ew::logical_xor),
        "bitwise_and" => binary!(ew::bitwise_and),
        "bitwise_or" => binary!(ew::bitwise_or),
        "bitwise_xor" => binary!(ew::bitwise_xor),
        "pow" => match (c.get(0, "self"), c.get(1, "exponent")) {
            (Some(Value::Tensor(a)), Some(Value::Tensor(b))) => one(ew::pow(a, b), c),
            (Some(Value::Tensor(a)), Some(_)) => {
                one(ew::pow_scalar(a, c.scalar(1, "exponent")?), c)
            }
            (Some(_), Some(Value::Tensor(b))) => {
                one(ew::pow_scalar_base(c.scalar(0, "self")?, b), c)
            }
            _ => unsupported(c),
        },
        "where" => {
            let cond = c.tensor(0, "condition")?;
            let (a, b) = match (c.get(1, "self"), c.get(2, "other")) {
                (Some(Value::Tensor(a)), Some(Value::Tensor(b))) => (a.clone(), b.clone()),
                (Some(Value::Tensor(a)), _) => {
                    (a.clone(), ew::scalar_operand(a, c.scalar(2, "other")?))
                }
                (_, Some(Value::Tensor(b))) => {
                    (ew::scalar_operand(b, c.scalar(1, "self")?), b.clone())
                }
                _ => {
                    let (x, y) = (c.scalar(1, "self")?, c.scalar(2, "other")?);
                    let dt = crate::promote::promote_types(
                        crate::promote::scalar_dtype(x),
                        crate::promote::scalar_dtype(y),
                    );
                    (Tensor::from_scalar(x, dt), Tensor::from_scalar(y, dt))
                }
            };
            one(ew::where_(cond, &a, &b), c)
        }
        "masked_fill" => {
            let x = c.tensor(0, "self")?;
            let mask = c.tensor(1, "mask")?;
            match c.get(2, "value") {
                Some(Value::Tensor(v)) => one(ew::masked_fill_tensor(x, mask, v), c),
                _ => one(ew::masked_fill(x, mask, c.scalar(2, "value")?), c),
            }
        }
        "clamp" | "clip" => {
            let x = c.tensor(0, "self")?;
            match (c.get(1, "min"), c.get(2, "max")) {
                (Some(Value::Tensor(_)), _) | (_, Some(Value::Tensor(_))) => one(
                    ew::clamp_tensor(x, c.opt_tensor(1, "min")?, c.opt_tensor(2, "max")?),
                    c,
                ),
                _ => one(
                    ew::clamp(x, c.opt_scalar(1, "min")?, c.opt_scalar(2, "max")?),
                    c,
                ),
            }
        }
        "clamp_min" => {
            let x = c.tensor(0, "self")?;
            one(ew::clamp(x, Some(c.scalar(1, "min")?), None), c)
        }
        "clamp_max" => {
            let x = c.tensor(0, "self")?;
            one(ew::clamp(x, None, Some(c.scalar(1, "max")?)), c)
        }
        // ---- layout (views are copies)
        "view" | "view_copy" | "reshape" | "_unsafe_view" | "_reshape_alias" | "_reshape_copy" => {
            let x = c.tensor(0, "self")?;
            one(shape::reshape(x, &c.ints(1, "size")?), c)
        }
        "permute" => {
            let x = c.tensor(0, "self")?;
            one(shape::permute(x, &c.ints(1, "dims")?), c)
        }
        "transpose" | "swapaxes" => {
            let x = c.tensor(0, "self")?;
            one(shape::transpose(x, c.int(1, "dim0")?, c.int(2, "dim1")?), c)
        }
        "t" | "numpy_T" => unary!(shape::t),
        "expand" | "broadcast_to" => {
            let x = c.tensor(0, "self")?;
            one(shape::expand(x, &c.ints(1, "size")?), c)
        }
        "expand_as" => {
            let x = c.tensor(0, "self")?;
            let o = c.tensor(1, "other")?;
            let sizes: Vec<i64> = o.shape().iter().map(|&d| d as i64).collect();
            one(shape::expand(x, &sizes), c)
        }
        "squeeze" => {
            let x = c.tensor(0, "self")?;
            let dims = match overload {
                "dim" | "dims" => Some(c.ints(1, "dim")?),
                _ => None,
            };
            one(shape::squeeze(x, dims.as_deref()), c)
        }
        "unsqueeze" => {
            let x = c.tensor(0, "self")?;
            one(shape::unsqueeze(x, c.int(1, "dim")?), c)
        }
        "flatten" => {
            let x = c.tensor(0, "self")?;
            one(
                shape::flatten(x, c.int_or(1, "start_dim", 0)?, c.int_or(2, "end_dim", -1)?),
                c,
            )
        }
        "unflatten" => {
            let x = c.tensor(0, "self")?;
            one(
                shape::unflatten(x, c.int(1, "dim")?, &c.ints(2, "sizes")?),
                c,
            )
        }
        "cat" | "concat" | "concatenate" => {
            let ts = c.tensors(0, "tensors")?;
            one(shape::cat(&ts, c.int_or(1, "dim", 0)?), c)
        }
        "stack" => {
            let ts = c.tensors(0, "tensors")?;
            one(shape::stack(&ts, c.int_or(1, "dim", 0)?), c)
        }
        "slice" => {
            let x = c.tensor(0, "self")?;
            one(
                shape::slice(
                    x,
                    c.int_or(1, "dim", 0)?,
                    c.opt_int(2, "start")?,
                    c.opt_int(3, "end")?,
                    c.int_or(4, "step", 1)?,
                ),
                c,
            )
        }
        "narrow" => {
            let x = c.tensor(0, "self")?;
            one(
                shape::narrow(x, c.int(1, "dim")?, c.int(2, "start")?, c.int(3, "length")?),
                c,
            )
        }
        "select" => {
            let x = c.tensor(0, "self")?;
            one(shape::select(x, c.int(1, "dim")?, c.int(2, "index")?), c)
        }
        "unbind" => {
            let x = c.tensor(0, "self")?;
            many(shape::unbind(x, c.int_or(1, "dim", 0)?), c)
        }
        "tensor_split" => {
            let x = c.tensor(0, "self")?;
            let dim = c.int_or(2, "dim", 0)?;
            let d = x.ndim() as i64;
            let size = x
                .size(if dim < 0 { dim + d } else { dim })
                .map_err(|e| c.kernel_err(e))? as i64;
            // `sections` splits into n nearly equal chunks (the first `size % n` one larger);
            // `indices` (and `tensor_indices_or_sections` given a list) cuts at the indices.
            let sizes = match (overload, c.get(1, "sections")) {
                ("sections", _) | (_, Some(Value::Int(_))) => {
                    let n = c.int(1, "sections")?;
                    if n <= 0 {
                        return Err(c.kernel_err(crate::error::ExecError::Invalid {
                            op: "tensor_split",
                            msg: format!("number of sections must be positive, got {n}"),
                        }));
                    }
                    (0..n)
                        .map(|i| size / n + i64::from(i < size % n))
                        .collect::<Vec<_>>()
                }
                _ => {
                    // Python slicing between consecutive indices: x[0:i0], x[i0:i1], ...,
                    // x[ik:]; pieces may be empty, and overlap when indices decrease.
                    let idx = c.ints(1, "indices")?;
                    let wrap = |i: i64| if i < 0 { i + size } else { i }.clamp(0, size);
                    let mut bounds = vec![0i64];
                    bounds.extend(idx.into_iter().map(wrap));
                    bounds.push(size);
                    let pieces: Result<Vec<Tensor>, _> = bounds
                        .windows(2)
                        .map(|w| shape::narrow(x, dim, w[0], (w[1] - w[0]).max(0)))
                        .collect();
                    return many(pieces, c);
                }
            };
            many(shape::split_with_sizes(x, &sizes, dim), c)
        }
        "split_with_sizes" => {
            let x = c.tensor(0, "self")?;
            many(
                shape::split_with_sizes(x, &c.ints(1, "split_sizes")?, c.int_or(2, "dim", 0)?),
                c,
            )
        }
        "split" => {
            let x = c.tensor(0, "self")?;
            match c.get(1, "split_size") {
                Some(Value::List(_)) => many(
                    shape::split_with_sizes(x, &c.ints(1, "split_size")?, c.int_or(2, "dim", 0)?),
                    c,
                ),
                _ => many(
                    shape::split(x, c.int(1, "split_size")?, c.int_or(2, "dim", 0)?),
                    c,
                ),
            }
        }
        "chunk" => {
            let x = c.tensor(0, "self")?;
            many(
                shape::chunk(x, c.int(1, "chunks")?, c.int_or(2, "dim", 0)?),
                c,
            )
        }
        "repeat" => {
            let x = c.tensor(0, "self")?;
            one(shape::repeat(x, &c.ints(1, "repeats")?), c)
        }
        "flip" => {
            let x = c.tensor(0, "self")?;
            one(shape::flip(x, &c.ints(1, "dims")?), c)
        }
        "roll" => {
            let x = c.tensor(0, "self")?;
            one(
                shape::roll(x, &c.ints(1, "shifts")?, &c.ints_or(2, "dims", &[])?),
                c,
            )
        }
        "tril" => {
            let x = c.tensor(0, "self")?;
            one(shape::tril(x, c.int_or(1, "diagonal", 0)?), c)
        }
        "triu" => {
            let x = c.tensor(0, "self")?;
            one(shape::triu(x, c.int_or(1, "diagonal", 0)?), c)
        }
        "constant_pad_nd" => {
            let x = c.tensor(0, "self")?;
            one(
                shape::constant_pad_nd(
                    x,
                    &c.ints(1, "pad")?,
                    c.scalar_or(2, "value", Scalar::Int(0))?,
                ),
                c,
            )
        }
        "clone" | "contiguous" | "alias" | "detach" | "lift_fresh_copy" | "lift_fresh"
        | "dropout" | "feature_dropout" | "alpha_dropout" => {
            // Dropout runs in inference mode here: exported inference programs have train=False.
            let x = c.tensor(0, "self").or_else(|_| c.tensor(0, "input"))?;
            Ok(vec![Value::Tensor(shape::clone(x))])
        }
        "_to_copy" | "to" | "type_as" => {
            let x = c.tensor(0, "self")?;
            let dtype = match (overload, c.get(1, "dtype")) {
                (_, Some(Value::DType(d))) => Some(*d),
                ("other", Some(Value::Tensor(o))) => Some(o.dtype()),
                _ => match c.get(1, "other") {
                    Some(Value::Tensor(o)) => Some(o.dtype()),
                    _ => c.opt_dtype(usize::MAX, "dtype")?,
                },
            };
            let dtype = dtype.or_else(|| {
                result_types
                    .first()
                    .and_then(|t| t.as_tensor())
                    .and_then(|t| super::exec_dtype(t.dtype))
            });
            Ok(vec![Value::Tensor(shape::to_copy(x, dtype))])
        }
        // ---- symbolic sizes and runtime asserts
        "sym_size" => {
            let x = c.tensor(0, "self")?;
            let d = c.int(1, "dim")?;
            x.size(d)
                .map(|s| vec![Value::Int(s as i64)])
                .map_err(|e| c.kernel_err(e))
        }
        "sym_numel" => Ok(vec![Value::Int(c.tensor(0, "self")?.numel() as i64)]),
        "sym_stride" => {
            let x = c.tensor(0, "self")?;
            let d = crate::tensor::wrap_dim("sym_stride", c.int(1, "dim")?, x.ndim())
                .map_err(|e| c.kernel_err(e))?;
            Ok(vec![Value::Int(x.strides()[d] as i64)])
        }
        "_assert_scalar" => {
            let ok = match c.get(0, "self") {
                Some(Value::Bool(b)) => *b,
                Some(Value::Int(i)) => *i != 0,
                _ => true,
            };
            if !ok {
                let msg = c
                    .opt_str(1, "assert_msg")?
                    .unwrap_or("runtime assertion failed");
                return Err(RunError::BadArgument {
                    node: c.node.to_string(),
                    op: c.op.to_string(),
                    msg: msg.to_string(),
                });
            }
            Ok(vec![])
        }
        "_assert_tensor_metadata"
        | "sym_constrain_range_for_size"
        | "sym_constrain_range"
        | "_assert_async" => Ok(vec![]),
        "item" | "_local_scalar_dense" => {
            let x = c.tensor(0, "self")?;
            let s = x.item().map_err(|e| c.kernel_err(e))?;
            Ok(vec![match s {
                Scalar::Bool(b) => Value::Bool(b),
                Scalar::Int(i) => Value::Int(i),
                Scalar::Float(f) => Value::Float(f),
            }])
        }
        "scalar_tensor" => {
            let s = c.scalar(0, "s")?;
            let dt = c.opt_dtype(1, "dtype")?.unwrap_or(crate::DType::F32);
            Ok(vec![Value::Tensor(Tensor::from_scalar(s, dt))])
        }
        _ => super::dispatch_more::aten_more(ex, c, name, overload, result_types),
    }
}

fn sym_int_args(c: &CallArgs<'_>) -> RunResult<Vec<Value>> {
    Ok(c.args.clone())
}

/// Python `operator` functions on SymInt/SymFloat/SymBool values.
fn sym_operator(c: &CallArgs<'_>, name: &str) -> KResult {
    let args = sym_int_args(c)?;
    let num = |v: &Value| -> Option<Num> {
        match v {
            Value::Int(i) => Some(Num::I(*i)),
            Value::Bool(b) => Some(Num::I(*b as i64)),
            Value::Float(f) => Some(Num::F(*f)),
            _ => None,
        }
    };
    let bad = || RunError::BadArgument {
        node: c.node.to_string(),
        op: c.op.to_string(),
        msg: "expected numeric operands".into(),
    };
    let a = args.first().and_then(num).ok_or_else(bad)?;
    let b = args.get(1).and_then(num);
    let out = match (name, b) {
        ("neg", _) => a.map(|x| x.wrapping_neg(), |x| -x),
        ("pos", _) => a,
        ("abs", _) => a.map(|x| x.wrapping_abs(), f64::abs),
        ("not_", _) => return Ok(vec![Value::Bool(!a.truthy())]),
        (op, Some(b)) => match op {
            "add" => Num::bin(a, b, |x, y| Some(x.wrapping_add(y)), |x, y| x + y),
            "sub" => Num::bin(a, b, |x, y| Some(x.wrapping_sub(y)), |x, y| x - y),
            "mul" => Num::bin(a, b, |x, y| Some(x.wrapping_mul(y)), |x, y| x * y),
            "floordiv" => Num::bin(a, b, trtfx_ir::dim::py_floordiv, |x, y| (x / y).floor()),
            "mod" => Num::bin(a, b, trtfx_ir::dim::py_mod, |x, y| x - y * (x / y).floor()),
            "truediv" => Some(Num::F(a.f() / b.f())),
            "pow" => match (a, b) {
                (Num::I(x), Num::I(y)) if y >= 0 => {
                    Some(Num::I(x.wrapping_pow(y.min(u32::MAX as i64) as u32)))
                }
                _ => Some(Num::F(a.f().powf(b.f()))),
            },
            "lshift" => Num::bin(a, b, |x, y| Some(x.wrapping_shl(y as u32)), |_, _| f64::NAN),
            "rshift" => Num::bin(a, b, |x, y| Some(x.wrapping_shr(y as u32)), |_, _| f64::NAN),
            "eq" => return Ok(vec![Value::Bool(a.f() == b.f())]),
            "ne" => return Ok(vec![Value::Bool(a.f() != b.f())]),
            "lt" => return Ok(vec![Value::Bool(a.f() < b.f())]),
            "le" => return Ok(vec![Value::Bool(a.f() <= b.f())]),
            "gt" => return Ok(vec![Value::Bool(a.f() > b.f())]),
            "ge" => return Ok(vec![Value::Bool(a.f() >= b.f())]),
            "and_" => return Ok(vec![Value::Bool(a.truthy() && b.truthy())]),
            "or_" => return Ok(vec![Value::Bool(a.truthy() || b.truthy())]),
            _ => return unsupported(c),
        }
        .ok_or_else(|| RunError::BadArgument {
            node: c.node.to_string(),
            op: c.op.to_string(),
            msg: "integer division or modulo by zero".into(),
        })?,
        _ => return unsupported(c),
    };
    Ok(vec![out.value()])
}

/// `math.*`, `builtins.round`, `torch.sym_*`.
fn sym_builtin(c: &CallArgs<'_>, name: &str, overload: &str) -> KResult {
    let x = c.args.first().cloned().unwrap_or(Value::None);
    let f = match &x {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => *b as u8 as f64,
        _ => f64::NAN,
    };
    // `math.floor` arrives as ns=math, name=floor; `torch.sym_max` as ns=torch, name=sym_max.
    let full = if overload == "default" {
        name.to_string()
    } else {
        format!("{name}.{overload}")
    };
    Ok(vec![match full.as_str() {
        "trunc" => Value::Int(f.trunc() as i64),
        "floor" => Value::Int(f.floor() as i64),
        "ceil" => Value::Int(f.ceil() as i64),
        "round" => Value::Int(f.round_ties_even() as i64),
        "sym_float" => Value::Float(f),
        "sym_int" => Value::Int(f as i64),
        "sym_not" => Value::Bool(f == 0.0),
        "_sym_sqrt" => Value::Float(f.sqrt()),
        "sym_max" | "sym_min" => {
            let y = c.args.get(1).cloned().unwrap_or(Value::None);
            let pick_first = match (&x, &y) {
                (Value::Int(a), Value::Int(b)) => (a >= b) == (full == "sym_max"),
                _ => {
                    let g = match &y {
                        Value::Int(i) => *i as f64,
                        Value::Float(v) => *v,
                        _ => f64::NAN,
                    };
                    (f >= g) == (full == "sym_max")
                }
            };
            if pick_first {
                x
            } else {
                y
            }
        }
        "sym_ite" => {
            let cond = matches!(x, Value::Bool(true)) || matches!(x, Value::Int(i) if i != 0);
            c.args
                .get(if cond { 1 } else { 2 })
                .cloned()
                .unwrap_or(Value::None)
        }
        _ => return unsupported(c),
    }])
}

#[derive(Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
    fn truthy(self) -> bool {
        self.f() != 0.0
    }
    fn map(self, fi: impl Fn(i64) -> i64, ff: impl Fn(f64) -> f64) -> Num {
        match self {
            Num::I(i) => Num::I(fi(i)),
            Num::F(f) => Num::F(ff(f)),
        }
    }
    fn bin(
        a: Num,
        b: Num,
        fi: impl Fn(i64, i64) -> Option<i64>,
        ff: impl Fn(f64, f64) -> f64,
    ) -> Option<Num> {
        match (a, b) {
            (Num::I(x), Num::I(y)) => fi(x, y).map(Num::I),
            _ => Some(Num::F(ff(a.f(), b.f()))),
        }
    }
    fn value(self) -> Value {
        match self {
            Num::I(i) => Value::Int(i),
            Num::F(f) => Value::Float(f),
        }
    }
}

/// Higher-order ops: `cond`, `while_loop`, and the region wrappers that simply call their graph.
fn higher_order(ex: &Executor<'_>, c: &CallArgs<'_>, name: &str) -> KResult {
    let graph_at = |i: usize| match c.args.get(i) {
        Some(Value::Graph(g)) => Ok(*g),
        _ => Err(RunError::BadArgument {
            node: c.node.to_string(),
            op: c.op.to_string(),
            msg: format!("argument {i} must be a subgraph"),
        }),
    };
    let list_at = |i: usize| match c.args.get(i) {
        Some(Value::List(items)) => items.clone(),
        Some(v) => vec![v.clone()],
        None => vec![],
    };
    let truthy = |v: &Value| -> RunResult<bool> {
        Ok(match v {
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Tensor(t) => t.item().map_err(|e| c.kernel_err(e))?.to_bool(),
            _ => false,
        })
    };
    match name {
        "cond" => {
            let pred = c.args.first().cloned().unwrap_or(Value::None);
            let branch = if truthy(&pred)? {
                graph_at(1)?
            } else {
                graph_at(2)?
            };
            ex.run_graph(branch, list_at(3))
        }
        "while_loop" => {
            let (cond_g, body_g) = (graph_at(0)?, graph_at(1)?);
            let mut carried = list_at(2);
            let extra = list_at(3);
            // A bound keeps a buggy program from hanging the executor.
            for _ in 0..10_000_000u64 {
                let mut args = carried.clone();
                args.extend(extra.iter().cloned());
                let r = ex.run_graph(cond_g, args.clone())?;
                if !truthy(r.first().unwrap_or(&Value::Bool(false)))? {
                    return Ok(carried);
                }
                carried = ex.run_graph(body_g, args)?;
            }
            Err(RunError::BadArgument {
                node: c.node.to_string(),
                op: c.op.to_string(),
                msg: "while_loop did not terminate within 10^7 iterations".into(),
            })
        }
        "wrap_with_set_grad_enabled" => {
            ex.run_graph(graph_at(1)?, c.args[2.min(c.args.len())..].to_vec())
        }
        "wrap_with_autocast" => ex.run_graph(graph_at(4)?, c.args[5.min(c.args.len())..].to_vec()),
        "invoke_subgraph" => ex.run_graph(graph_at(0)?, c.args[2.min(c.args.len())..].to_vec()),
        _ => unsupported(c),
    }
}
