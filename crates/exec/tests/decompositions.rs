//! Ops the executor runs through their op-table decomposition (no kernel of their own).
//! Expected values are PyTorch's (`torch.nn.functional.logsigmoid` and friends).

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::parse_program;

fn run1(src: &str, input: Tensor) -> Tensor {
    let p = parse_program(src).unwrap_or_else(|e| panic!("{e}"));
    let out = Executor::new(&p)
        .run(&[Value::Tensor(input)])
        .unwrap_or_else(|e| panic!("{e}"));
    out[0].as_tensor().expect("tensor output").clone()
}

fn close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "got {got:?}, want {want:?}");
    }
}

#[test]
fn log_sigmoid_is_stable_at_both_ends() {
    let x = Tensor::from_vec(vec![-100f32, -1.0, 0.0, 1.0, 100.0], vec![5]).unwrap();
    let got = run1(
        r#"input "x": f32[5]
graph @main(%x: f32[5] = user "x") -> (user) {
  %r: f32[5] = aten.log_sigmoid.default(%x)
  output (%r)
}"#,
        x,
    );
    // torch.nn.functional.logsigmoid(torch.tensor([-100., -1., 0., 1., 100.]))
    close(
        &got.to_vec::<f32>(),
        &[-100.0, -1.313_261_7, -0.693_147_2, -0.313_261_7, -0.0],
    );
}
