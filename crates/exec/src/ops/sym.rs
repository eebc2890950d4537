//! Symbolic sizes, runtime asserts, `item`, and the Python-level scalar targets
//! (`_operator.add`, `math.floor`, `torch.sym_max`, `builtins.round`): SymInts are plain ints
//! at run time.

use super::{KResult, KernelTable};
use crate::interp::{CallArgs, RunError, RunResult, Value};
use crate::tensor::Scalar;

#[derive(Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn of(c: &CallArgs<'_>, name: &str) -> RunResult<Num> {
        match c.value(name)? {
            Value::Int(i) => Ok(Num::I(*i)),
            Value::Bool(b) => Ok(Num::I(*b as i64)),
            Value::Float(f) => Ok(Num::F(*f)),
            v => Err(c.err(format!(
                "argument `{name}` must be a number, got {}",
                v.kind()
            ))),
        }
    }
    fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
    fn truthy(self) -> bool {
        self.f() != 0.0
    }
    fn value(self) -> Value {
        match self {
            Num::I(i) => Value::Int(i),
            Num::F(f) => Value::Float(f),
        }
    }
}

type IntOp = fn(i64, i64) -> Option<i64>;
type FloatOp = fn(f64, f64) -> f64;

/// An arithmetic `_operator` function: integer on two ints (`None`: division by zero), else
/// float.
fn arith(fi: IntOp, ff: FloatOp) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| {
        let (a, b) = (Num::of(c, "a")?, Num::of(c, "b")?);
        let r = match (a, b) {
            (Num::I(x), Num::I(y)) => fi(x, y).map(Num::I),
            _ => Some(Num::F(ff(a.f(), b.f()))),
        };
        let r = r.ok_or_else(|| c.err("integer division or modulo by zero"))?;
        Ok(vec![r.value()])
    }
}

fn compare(f: fn(f64, f64) -> bool) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| {
        let (a, b) = (Num::of(c, "a")?, Num::of(c, "b")?);
        Ok(vec![Value::Bool(f(a.f(), b.f()))])
    }
}

fn unary(fi: fn(i64) -> i64, ff: fn(f64) -> f64) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| {
        Ok(vec![match Num::of(c, "a")? {
            Num::I(i) => Value::Int(fi(i)),
            Num::F(f) => Value::Float(ff(f)),
        }])
    }
}

/// A `math`/`torch` function of one number to an int or float.
fn to_value(arg: &'static str, f: fn(f64) -> Value) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| Ok(vec![f(Num::of(c, arg)?.f())])
}

fn pick(max: bool) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| {
        let (a, b) = (Num::of(c, "a")?, Num::of(c, "b")?);
        let first = match (a, b) {
            (Num::I(x), Num::I(y)) => (x >= y) == max,
            _ => (a.f() >= b.f()) == max,
        };
        Ok(vec![if first { a.value() } else { b.value() }])
    }
}

pub(crate) fn register(t: &mut KernelTable) {
    // ---- sizes of tensors
    t.add("aten.sym_size.int", |c| {
        let x = c.tensor("self")?;
        x.size(c.int("dim")?)
            .map(|s| vec![Value::Int(s as i64)])
            .map_err(|e| c.kernel_err(e))
    });
    t.add("aten.sym_numel.default", |c| {
        Ok(vec![Value::Int(c.tensor("self")?.numel() as i64)])
    });
    t.add("aten.sym_stride.int", |c| {
        let x = c.tensor("self")?;
        let d = crate::tensor::wrap_dim("sym_stride", c.int("dim")?, x.ndim())
            .map_err(|e| c.kernel_err(e))?;
        Ok(vec![Value::Int(x.strides()[d] as i64)])
    });
    t.add_all(
        &["aten.item.default", "aten._local_scalar_dense.default"],
        |c| {
            let s = c.tensor("self")?.item().map_err(|e| c.kernel_err(e))?;
            Ok(vec![match s {
                Scalar::Bool(b) => Value::Bool(b),
                Scalar::Int(i) => Value::Int(i),
                Scalar::Float(f) => Value::Float(f),
            }])
        },
    );

    // ---- runtime asserts (the checked facts hold for any input the specs admit)
    t.add("aten._assert_scalar.default", |c| {
        let ok = match c.get("self")? {
            Some(Value::Bool(b)) => *b,
            Some(Value::Int(i)) => *i != 0,
            _ => true,
        };
        if ok {
            return Ok(vec![]);
        }
        Err(RunError::BadArgument {
            node: c.node.to_string(),
            op: c.op.to_string(),
            msg: c.str("assert_msg")?.to_string(),
        })
    });
    t.add_all(
        &[
            "aten._assert_tensor_metadata.default",
            "aten.sym_constrain_range.default",
            "aten.sym_constrain_range_for_size.default",
            "aten._assert_async.default",
            "aten._assert_async.msg",
        ],
        |_| Ok(vec![]),
    );

    // ---- Python `operator` functions on SymInt/SymFloat/SymBool values
    t.add(
        "_operator.add",
        arith(|x, y| Some(x.wrapping_add(y)), |x, y| x + y),
    );
    t.add(
        "_operator.sub",
        arith(|x, y| Some(x.wrapping_sub(y)), |x, y| x - y),
    );
    t.add(
        "_operator.mul",
        arith(|x, y| Some(x.wrapping_mul(y)), |x, y| x * y),
    );
    t.add(
        "_operator.floordiv",
        arith(trtfx_ir::dim::py_floordiv, |x, y| (x / y).floor()),
    );
    t.add(
        "_operator.mod",
        arith(trtfx_ir::dim::py_mod, |x, y| x - y * (x / y).floor()),
    );
    t.add("_operator.truediv", |c| {
        let (a, b) = (Num::of(c, "a")?, Num::of(c, "b")?);
        Ok(vec![Value::Float(a.f() / b.f())])
    });
    t.add("_operator.pow", |c| {
        let (a, b) = (Num::of(c, "a")?, Num::of(c, "b")?);
        Ok(vec![match (a, b) {
            (Num::I(x), Num::I(y)) if y >= 0 => {
                Value::Int(x.wrapping_pow(y.min(u32::MAX as i64) as u32))
            }
            _ => Value::Float(a.f().powf(b.f())),
        }])
    });
    t.add(
        "_operator.lshift",
        arith(|x, y| Some(x.wrapping_shl(y as u32)), |_, _| f64::NAN),
    );
    t.add(
        "_operator.rshift",
        arith(|x, y| Some(x.wrapping_shr(y as u32)), |_, _| f64::NAN),
    );
    t.add("_operator.eq", compare(|a, b| a == b));
    t.add("_operator.ne", compare(|a, b| a != b));
    t.add("_operator.lt", compare(|a, b| a < b));
    t.add("_operator.le", compare(|a, b| a <= b));
    t.add("_operator.gt", compare(|a, b| a > b));
    t.add("_operator.ge", compare(|a, b| a >= b));
    t.add("_operator.and_", |c| {
        let (a, b) = (Num::of(c, "a")?, Num::of(c, "b")?);
        Ok(vec![Value::Bool(a.truthy() && b.truthy())])
    });
    t.add("_operator.or_", |c| {
        let (a, b) = (Num::of(c, "a")?, Num::of(c, "b")?);
        Ok(vec![Value::Bool(a.truthy() || b.truthy())])
    });
    t.add("_operator.not_", |c| {
        Ok(vec![Value::Bool(!Num::of(c, "a")?.truthy())])
    });
    t.add("_operator.neg", unary(i64::wrapping_neg, |x| -x));
    t.add("_operator.pos", unary(|x| x, |x| x));
    t.add("_operator.abs", unary(i64::wrapping_abs, f64::abs));

    // ---- `math`, `builtins`, `torch.sym_*`
    t.add(
        "math.trunc",
        to_value("x", |f| Value::Int(f.trunc() as i64)),
    );
    t.add(
        "math.floor",
        to_value("x", |f| Value::Int(f.floor() as i64)),
    );
    t.add("math.ceil", to_value("x", |f| Value::Int(f.ceil() as i64)));
    t.add("builtins.round", |c| {
        let f = Num::of(c, "number")?.f();
        Ok(vec![match c.opt_int("ndigits")? {
            // Python rounds half to even.
            None => Value::Int(f.round_ties_even() as i64),
            Some(n) => {
                let s = 10f64.powi(n as i32);
                Value::Float((f * s).round_ties_even() / s)
            }
        }])
    });
    t.add("torch.sym_float", to_value("a", Value::Float));
    t.add("torch.sym_int", to_value("a", |f| Value::Int(f as i64)));
    t.add("torch.sym_not", to_value("a", |f| Value::Bool(f == 0.0)));
    t.add("torch._sym_sqrt", to_value("a", |f| Value::Float(f.sqrt())));
    t.add("torch.sym_max", pick(true));
    t.add("torch.sym_min", pick(false));
    t.add("torch.sym_ite", |c| {
        let cond = Num::of(c, "b")?.truthy();
        Ok(vec![c.value(if cond { "t" } else { "f" })?.clone()])
    });
}
