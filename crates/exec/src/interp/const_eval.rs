//! The executor as the IR's constant evaluator ([`trtfx_ir::ops::ConstEval`]): `fold-constants`
//! evaluates a call on constant operands with the same kernel, binding and dtype rules that run
//! it at run time, so folding never changes a result.

use super::{bind_results_into, literal, resolve_call, CallArgs, Runner, Value};
use crate::interp::{exec_dtype, ir_dtype};
use crate::tensor::Tensor;
use std::collections::HashMap;
use trtfx_ir::ops::{ConstEval, ConstValue, EvalRefusal};
use trtfx_ir::{Arg, Graph, NodeId, Op, ValueId, Weight};

/// Evaluates single calls with the executor's kernel table. Ops without a kernel (including
/// those the executor runs only by decomposition) are [`EvalRefusal::Unsupported`].
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelEvaluator;

fn to_value(c: ConstValue) -> Result<Value, EvalRefusal> {
    Ok(match c {
        ConstValue::Int(i) => Value::Int(i),
        ConstValue::Float(f) => Value::Float(f),
        ConstValue::Bool(b) => Value::Bool(b),
        ConstValue::Tensor(w) => {
            let dt = exec_dtype(w.dtype).ok_or_else(|| {
                EvalRefusal::Unsupported(format!("dtype {} has no CPU kernels", w.dtype))
            })?;
            let bytes = w.bytes().map_err(EvalRefusal::Failed)?;
            let shape: Vec<usize> = w.shape.iter().map(|&d| d.max(0) as usize).collect();
            Value::Tensor(
                Tensor::from_le_bytes(&bytes, dt, shape)
                    .map_err(|e| EvalRefusal::Failed(e.to_string()))?,
            )
        }
    })
}

fn from_value(v: Value) -> Result<ConstValue, EvalRefusal> {
    Ok(match v {
        Value::Int(i) => ConstValue::Int(i),
        Value::Float(f) => ConstValue::Float(f),
        Value::Bool(b) => ConstValue::Bool(b),
        Value::Tensor(t) => ConstValue::Tensor(Weight::from_bytes(
            ir_dtype(t.dtype()),
            t.shape().iter().map(|&d| d as i64).collect(),
            t.to_le_bytes(),
        )),
        other => {
            return Err(EvalRefusal::Unsupported(format!(
                "a {} result is not a constant",
                other.kind()
            )))
        }
    })
}

/// The run-time value of argument `a`, with constant operands from `operand`.
fn arg_value(
    a: &Arg,
    operand: &dyn Fn(ValueId) -> Option<ConstValue>,
) -> Result<Value, EvalRefusal> {
    match a {
        Arg::Value(v) => operand(*v)
            .ok_or_else(|| EvalRefusal::Unsupported(format!("operand {v} is not constant")))
            .and_then(to_value),
        Arg::List(items) => Ok(Value::List(
            items
                .iter()
                .map(|x| arg_value(x, operand))
                .collect::<Result<_, _>>()?,
        )),
        Arg::Graph(_) => Err(EvalRefusal::Unsupported(
            "higher-order calls are not evaluated".into(),
        )),
        lit => literal(lit).map_err(|e| EvalRefusal::Unsupported(e.to_string())),
    }
}

impl ConstEval for KernelEvaluator {
    fn eval_call(
        &self,
        g: &Graph,
        n: NodeId,
        operand: &dyn Fn(ValueId) -> Option<ConstValue>,
    ) -> Result<Vec<ConstValue>, EvalRefusal> {
        let node = g.node(n);
        let Op::Call { target } = &node.op else {
            return Err(EvalRefusal::Unsupported("not a call".into()));
        };
        let nc = resolve_call(g, node, target, &HashMap::new());
        let Runner::Table(kernel) = nc.runner else {
            return Err(EvalRefusal::Unsupported(format!("{target} has no kernel")));
        };
        let binding = nc.binding.map_err(EvalRefusal::Failed)?;
        let args = node
            .args
            .iter()
            .map(|a| arg_value(a, operand))
            .collect::<Result<Vec<_>, _>>()?;
        let kwargs = node
            .kwargs
            .iter()
            .map(|(k, a)| Ok((k.clone(), arg_value(a, operand)?)))
            .collect::<Result<Vec<_>, EvalRefusal>>()?;
        let call = CallArgs::unbound(target, &node.name, args, kwargs).bind(
            nc.sig,
            binding.as_ref(),
            nc.result_dtype,
            None,
        );
        let outs = kernel
            .run(&call)
            .map_err(|e| EvalRefusal::Failed(e.to_string()))?;
        let outs = bind_results_into(node.results.len(), outs, &node.name)
            .map_err(|e| EvalRefusal::Failed(e.to_string()))?;
        outs.into_iter().map(from_value).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trtfx_ir::elements::{decode, encode};
    use trtfx_ir::{parse_program, DType};

    fn eval(src: &str, node: &str, operands: &[(&str, ConstValue)]) -> Vec<ConstValue> {
        let p = parse_program(src).unwrap();
        let g = &p.graphs[p.main];
        let n = g.nodes().find(|&n| g.node(n).name == node).unwrap();
        let by_name: HashMap<ValueId, ConstValue> = g
            .nodes()
            .filter_map(|m| {
                let name = &g.node(m).name;
                let c = operands.iter().find(|(o, _)| o == name)?.1.clone();
                Some((*g.node(m).results.first()?, c))
            })
            .collect();
        KernelEvaluator
            .eval_call(g, n, &|v| by_name.get(&v).cloned())
            .unwrap()
    }

    #[test]
    fn evaluates_tensor_calls_with_schema_defaults() {
        let src = r#"program {
  input "x": i64[3]
  graph @main(%x: i64[3] = user "x") -> (user) {
    %y: i64[3] = aten.add.Tensor(%x, %x)
    output (%y)
  }
}"#;
        let x = Weight::from_bytes(DType::I64, vec![3], encode(&[1i64, -2, 40]));
        let out = eval(src, "y", &[("x", ConstValue::Tensor(x))]);
        let [ConstValue::Tensor(w)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(w.dtype, DType::I64);
        assert_eq!(decode::<i64>(&w.bytes().unwrap()).unwrap(), vec![2, -4, 80]);
    }

    #[test]
    fn evaluates_symint_arithmetic() {
        let src = r#"program {
  graph @main() -> (user) {
    %a: symint = _operator.floordiv(-7, 2)
    output (%a)
  }
}"#;
        assert_eq!(eval(src, "a", &[]), vec![ConstValue::Int(-4)]);
    }

    #[test]
    fn refuses_non_constant_operands() {
        let src = r#"program {
  input "x": f32[2]
  graph @main(%x: f32[2] = user "x") -> (user) {
    %y: f32[2] = aten.exp.default(%x)
    output (%y)
  }
}"#;
        let p = parse_program(src).unwrap();
        let g = &p.graphs[p.main];
        let n = g.nodes().find(|&n| g.node(n).name == "y").unwrap();
        let e = KernelEvaluator.eval_call(g, n, &|_| None).unwrap_err();
        assert!(matches!(e, EvalRefusal::Unsupported(_)), "{e}");
    }
}
