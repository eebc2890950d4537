//! Kernels read arguments by schema name with the schema's defaults; a call that does not fit
//! its schema fails with an error that names the argument.

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::parse_program;

fn run(body: &str) -> Result<Vec<f64>, String> {
    let src = format!(
        r#"input "x": f32[3]
graph @main(%x: f32[3] = user "x") -> (user) {{
  {body}
  output (%r)
}}"#
    );
    let p = parse_program(&src).map_err(|e| e.to_string())?;
    let x = Tensor::from_vec(vec![-2f32, 0.5, 3.0], vec![3]).unwrap();
    let outs = Executor::new(&p)
        .run(&[Value::Tensor(x)])
        .map_err(|e| e.to_string())?;
    Ok(outs[0].as_tensor().expect("tensor").to_f64_vec())
}

#[test]
fn keyword_and_positional_calls_agree_and_defaults_apply() {
    // leaky_relu(x) uses the schema's negative_slope=0.01.
    let d = run("%r: f32[3] = aten.leaky_relu.default(%x)").unwrap();
    assert!((d[0] - -0.02).abs() < 1e-7, "{d:?}");
    let p = run("%r: f32[3] = aten.leaky_relu.default(%x, 0.5)").unwrap();
    let k = run("%r: f32[3] = aten.leaky_relu.default(%x, negative_slope=0.5)").unwrap();
    assert_eq!(p, k);
    assert_eq!(p, vec![-1.0, 0.5, 3.0]);
    // add.Tensor's alpha is keyword-only with default 1.
    let a = run("%r: f32[3] = aten.add.Tensor(%x, %x, alpha=2)").unwrap();
    assert_eq!(a, vec![-6.0, 1.5, 9.0]);
    let h = run("%r: f32[3] = aten.hardtanh.default(%x)").unwrap();
    assert_eq!(h, vec![-1.0, 0.5, 1.0]);
}

#[test]
fn a_call_that_does_not_fit_its_schema_names_the_argument() {
    let e = run("%r: f32[3] = aten.add.Tensor(%x, %x, alpah=2)").unwrap_err();
    assert!(
        e.contains("unknown keyword argument `alpah` (did you mean `alpha`?)"),
        "{e}"
    );
    let e = run("%r: f32[3] = aten.leaky_relu.default(%x, %x)").unwrap_err();
    assert!(
        e.contains("argument `negative_slope` must be a float"),
        "{e}"
    );
}
