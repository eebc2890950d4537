//! Helpers shared by the `infer_*` tests: a tiny type syntax and direct calls of registry
//! inference functions.
#![allow(dead_code)]

use trtfx_ir::{aten, Arg, DType, Dim, InferArgs, Shape, Type, ValueId};

/// Parses `f32[s0,3,4]`, `i64[]`, `symint(s0)`, `symint`, `symfloat`, `symbool`.
pub fn ty(s: &str) -> Type {
    match s {
        "symint" => return Type::SymInt(None),
        "symfloat" => return Type::SymFloat,
        "symbool" => return Type::SymBool,
        _ => {}
    }
    if let Some(inner) = s.strip_prefix("symint(").and_then(|r| r.strip_suffix(')')) {
        return Type::SymInt(Some(dim(inner)));
    }
    let (d, rest) = s.split_once('[').expect("type");
    let dims = rest.strip_suffix(']').expect("]");
    let shape: Shape = if dims.is_empty() {
        Shape::new()
    } else {
        dims.split(',').map(|x| dim(x.trim())).collect()
    };
    Type::tensor(d.parse::<DType>().expect("dtype"), shape)
}

/// A dim: an integer or a symbol name.
pub fn dim(s: &str) -> Dim {
    if let Some((k, name)) = s.split_once('*') {
        return dim(name).scale(k.parse().expect("coefficient"));
    }
    s.parse::<i64>()
        .map(Dim::constant)
        .unwrap_or_else(|_| Dim::sym(s))
}

/// A reference to input `i`.
pub fn v(i: u32) -> Arg {
    Arg::Value(ValueId::from_u32(i))
}

/// An int list literal.
pub fn ints(v: &[i64]) -> Arg {
    Arg::List(v.iter().map(|&i| Arg::Int(i)).collect())
}

/// A float literal.
pub fn f(x: f64) -> Arg {
    Arg::Float(trtfx_ir::F64(x))
}

/// Runs the registered inference of `op` with inputs typed by `inputs` (referenced as `v(i)`).
pub fn infer(
    op: &str,
    inputs: &[&str],
    args: Vec<Arg>,
    kwargs: Vec<(&str, Arg)>,
) -> Result<Vec<Type>, String> {
    let reg = aten::registry();
    let def = reg.get(op).unwrap_or_else(|| panic!("{op} not registered"));
    let f = def
        .infer
        .as_ref()
        .unwrap_or_else(|| panic!("{op} has no inference"));
    let tys: Vec<Type> = inputs.iter().map(|s| ty(s)).collect();
    let type_of = |v: ValueId| tys[v.as_u32() as usize].clone();
    let kwargs: Vec<(String, Arg)> = kwargs
        .into_iter()
        .map(|(k, a)| (k.to_string(), a))
        .collect();
    let a = InferArgs {
        args: &args,
        kwargs: &kwargs,
        type_of: &type_of,
    };
    f(&a)
}

/// [`infer`] rendered as text: `f32[2,3]` or `(f32[2], i64[2])`, or `error: ...`.
pub fn show(op: &str, inputs: &[&str], args: Vec<Arg>, kwargs: Vec<(&str, Arg)>) -> String {
    match infer(op, inputs, args, kwargs) {
        Ok(v) if v.len() == 1 => v[0].to_string(),
        Ok(v) => format!(
            "({})",
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => format!("error: {e}"),
    }
}
