//! `decompose`: rewrites export-IR composite ops into core ATen.
//!
//! | op | becomes |
//! |---|---|
//! | `aten.linear.default` | `aten.t` + `aten.addmm` (2-D input with bias), `aten.mm` (2-D, no bias), `aten.matmul` + `aten.add.Tensor` (other ranks) |
//! | `aten.conv{1,2,3}d.default` | `aten.convolution.default` with every default filled |
//! | `aten.batch_norm.default` (inference) | `aten._native_batch_norm_legit_no_training.default` (result 0 used directly) |
//! | `aten.layer_norm.default` | `aten.native_layer_norm.default` (result 0 used directly) |
//! | `aten.scaled_dot_product_attention.default` | `transpose`, `matmul`, `mul.Scalar`, `add.Tensor` (float mask), `_softmax`, `matmul` |
//! | `aten.dropout.default` (`train=False`) | its input |
//! | `aten.flatten.using_ints` | `aten.view.default` |
//!
//! Result types are computed from the input types. A node is left alone (counter `refused`,
//! and a per-reason counter) when the rewrite would be wrong or needs information the types
//! do not carry: training-mode batch norm or dropout, batch norm of an input without a
//! channel dim, unbatched convolutions, a causal or boolean attention mask, dropout in
//! attention, GQA, a flatten with two or more symbolic output dims.

use super::{arg, insert_call, result, Namer};
use crate::analysis::OpHistogram;
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use trtfx_ir::{
    Arg, Dim, Graph, GraphId, NodeBuilder, NodeId, OpRegistry, Program, Shape, TensorType, Type,
    ValueId, F64,
};

/// The decomposer (no options).
#[derive(Debug, Default, Clone)]
pub struct Decompose;

const TARGETS: &[&str] = &[
    "aten.linear.default",
    "aten.conv1d.default",
    "aten.conv2d.default",
    "aten.conv3d.default",
    "aten.batch_norm.default",
    "aten.layer_norm.default",
    "aten.scaled_dot_product_attention.default",
    "aten.dropout.default",
    "aten.flatten.using_ints",
];

enum Outcome {
    Done,
    Refused(&'static str),
}

fn tensor(g: &Graph, v: ValueId) -> Option<TensorType> {
    g.ty(v).as_tensor().cloned()
}

fn int_list(a: Option<&Arg>, n: usize, default: i64) -> Option<Vec<i64>> {
    match a {
        None | Some(Arg::None) => Some(vec![default; n]),
        Some(a) => {
            let v = a.as_int_list()?;
            match v.len() {
                1 => Some(vec![v[0]; n]),
                k if k == n => Some(v),
                _ => None,
            }
        }
    }
}

fn ints(v: &[i64]) -> Arg {
    Arg::List(v.iter().map(|&x| Arg::Int(x)).collect())
}

fn bool_arg(a: Option<&Arg>, default: bool) -> Option<bool> {
    match a {
        None => Some(default),
        Some(Arg::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn opt_value(a: Option<&Arg>) -> Arg {
    match a {
        Some(Arg::Value(v)) => Arg::Value(*v),
        _ => Arg::None,
    }
}

/// Re-infers the result types of the nodes between `prev` and `next` (the rewrite's output):
/// the registry knows auxiliary results such as batch-norm statistics better than we do, and
/// the verifier compares with the same inference.
fn infer_range(g: &mut Graph, prev: Option<NodeId>, next: Option<NodeId>, ops: &OpRegistry) {
    let mut cur = match prev {
        Some(p) => g.next_node(p),
        None => g.first_node(),
    };
    while let Some(m) = cur {
        if Some(m) == next {
            break;
        }
        if let Some(Ok(tys)) = trtfx_ir::aten::infer_node(g, m, ops) {
            let rs = g.node(m).results.clone();
            if tys.len() == rs.len() {
                for (r, t) in rs.into_iter().zip(tys) {
                    g.set_ty(r, t);
                }
            }
        }
        cur = g.next_node(m);
    }
}

fn decompose_node(g: &mut Graph, namer: &mut Namer, n: NodeId) -> Option<Outcome> {
    let target = g.node(n).op.target()?.to_string();
    let r = result(g, n)?;
    let rty = g.ty(r).clone();
    let base = g.value(r).name.clone();
    let mut renamed: Option<ValueId> = None;
    let x = arg(g, n, 0, "input")
        .or_else(|| arg(g, n, 0, "self"))
        .or_else(|| arg(g, n, 0, "query"))?
        .as_value()?;
    let xt = tensor(g, x)?;
    match target.as_str() {
        "aten.linear.default" => {
            let w = arg(g, n, 1, "weight")?.as_value()?;
            let wt = tensor(g, w)?;
            if wt.rank() != 2 {
                return Some(Outcome::Refused("refused-linear-weight-rank"));
            }
            let bias = arg(g, n, 2, "bias").and_then(Arg::as_value);
            let tt = Type::tensor(
                wt.dtype,
                Shape::from_iter([wt.shape[1].clone(), wt.shape[0].clone()]),
            );
            let t = insert_call(
                g,
                namer,
                n,
                "aten.t.default",
                vec![Arg::Value(w)],
                &format!("{base}_t"),
                tt,
            );
            let out = match (xt.rank(), bias) {
                (2, Some(b)) => insert_call(
                    g,
                    namer,
                    n,
                    "aten.addmm.default",
                    vec![Arg::Value(b), Arg::Value(x), Arg::Value(t)],
                    &base,
                    rty,
                ),
                (2, None) => insert_call(
                    g,
                    namer,
                    n,
                    "aten.mm.default",
                    vec![Arg::Value(x), Arg::Value(t)],
                    &base,
                    rty,
                ),
                (_, None) => insert_call(
                    g,
                    namer,
                    n,
                    "aten.matmul.default",
                    vec![Arg::Value(x), Arg::Value(t)],
                    &base,
                    rty,
                ),
                (_, Some(b)) => {
                    let mut ms = xt.shape.clone();
                    ms.pop();
                    ms.push(wt.shape[0].clone());
                    let mty = Type::tensor(xt.dtype, ms);
                    let m = insert_call(
                        g,
                        namer,
                        n,
                        "aten.matmul.default",
                        vec![Arg::Value(x), Arg::Value(t)],
                        &format!("{base}_mm"),
                        mty,
                    );
                    insert_call(
                        g,
                        namer,
                        n,
                        "aten.add.Tensor",
                        vec![Arg::Value(m), Arg::Value(b)],
                        &base,
                        rty,
                    )
                }
            };
            g.replace_all_uses(r, out);
            renamed = Some(out);
        }
        t @ ("aten.conv1d.default" | "aten.conv2d.default" | "aten.conv3d.default") => {
            let k = (t.as_bytes()[9] - b'0') as usize;
            if xt.rank() != k + 2 {
                return Some(Outcome::Refused("refused-unbatched-conv"));
            }
            let w = arg(g, n, 1, "weight")?.as_value()?;
            let bias = opt_value(arg(g, n, 2, "bias"));
            let stride = int_list(arg(g, n, 3, "stride"), k, 1)?;
            let padding = int_list(arg(g, n, 4, "padding"), k, 0)?;
            let dilation = int_list(arg(g, n, 5, "dilation"), k, 1)?;
            let groups = match arg(g, n, 6, "groups") {
                None => 1,
                Some(a) => a.as_int()?,
            };
            let args = vec![
                Arg::Value(x),
                Arg::Value(w),
                bias,
                ints(&stride),
                ints(&padding),
                ints(&dilation),
                Arg::Bool(false),
                ints(&vec![0; k]),
                Arg::Int(groups),
            ];
            g.set_op(
                n,
                trtfx_ir::Op::Call {
                    target: "aten.convolution.default".into(),
                },
            );
            g.set_args(n, args, vec![]);
            return Some(Outcome::Done);
        }
        "aten.batch_norm.default" => {
            let training = bool_arg(arg(g, n, 5, "training"), false)?;
            if training {
                return Some(Outcome::Refused("refused-training"));
            }
            if xt.rank() < 2 {
                // No channel dim: ATen's `batch_norm` accepts only an empty such input (it
                // returns a copy), which the native op would reject.
                return Some(Outcome::Refused("refused-no-channel-dim"));
            }
            let (Some(Arg::Value(mean)), Some(Arg::Value(var))) = (
                arg(g, n, 3, "running_mean").cloned(),
                arg(g, n, 4, "running_var").cloned(),
            ) else {
                return Some(Outcome::Refused("refused-no-running-stats"));
            };
            let weight = opt_value(arg(g, n, 1, "weight"));
            let bias = opt_value(arg(g, n, 2, "bias"));
            let momentum = arg(g, n, 6, "momentum")?.clone();
            let eps = arg(g, n, 7, "eps")?.clone();
            let stat = Type::tensor(xt.dtype, trtfx_ir::static_shape(&[0]));
            let b = NodeBuilder::call("aten._native_batch_norm_legit_no_training.default")
                .args(vec![
                    Arg::Value(x),
                    weight,
                    bias,
                    Arg::Value(mean),
                    Arg::Value(var),
                    momentum,
                    eps,
                ])
                .result(namer.fresh(&base), rty)
                .result(namer.fresh(&format!("{base}_mean")), stat.clone())
                .result(namer.fresh(&format!("{base}_invstd")), stat);
            let nn = g.insert_before(n, b);
            let out = g.node(nn).results[0];
            g.replace_all_uses(r, out);
            renamed = Some(out);
        }
        "aten.layer_norm.default" => {
            let ns = arg(g, n, 1, "normalized_shape")?.as_int_list()?;
            if ns.len() > xt.rank() {
                return None;
            }
            let weight = opt_value(arg(g, n, 2, "weight"));
            let bias = opt_value(arg(g, n, 3, "bias"));
            let eps = arg(g, n, 4, "eps")
                .cloned()
                .unwrap_or(Arg::Float(F64(1e-5)));
            let axis = xt.rank() - ns.len();
            let mut ss: Shape = xt.shape[..axis].iter().cloned().collect();
            ss.extend(std::iter::repeat_n(Dim::constant(1), ns.len()));
            let stat = Type::tensor(xt.dtype, ss);
            let b = NodeBuilder::call("aten.native_layer_norm.default")
                .args(vec![Arg::Value(x), ints(&ns), weight, bias, eps])
                .result(namer.fresh(&base), rty)
                .result(namer.fresh(&format!("{base}_mean")), stat.clone())
                .result(namer.fresh(&format!("{base}_rstd")), stat);
            let nn = g.insert_before(n, b);
            let out = g.node(nn).results[0];
            g.replace_all_uses(r, out);
            renamed = Some(out);
        }
        "aten.scaled_dot_product_attention.default" => {
            let kv = arg(g, n, 1, "key")?.as_value()?;
            let vv = arg(g, n, 2, "value")?.as_value()?;
            let (kt, vt) = (tensor(g, kv)?, tensor(g, vv)?);
            let mask = arg(g, n, 3, "attn_mask").and_then(Arg::as_value);
            if !matches!(
                arg(g, n, 4, "dropout_p"),
                None | Some(Arg::Float(F64(0.0))) | Some(Arg::Int(0))
            ) {
                return Some(Outcome::Refused("refused-attention-dropout"));
            }
            if bool_arg(arg(g, n, 5, "is_causal"), false) != Some(false) {
                return Some(Outcome::Refused("refused-causal"));
            }
            if bool_arg(g.node(n).kwarg("enable_gqa"), false) != Some(false) {
                return Some(Outcome::Refused("refused-gqa"));
            }
            let r_ = xt.rank();
            if r_ < 2
                || kt.rank() != r_
                || vt.rank() != r_
                || xt.shape[..r_ - 2] != kt.shape[..r_ - 2]
            {
                return Some(Outcome::Refused("refused-attention-shapes"));
            }
            let scale = match g.node(n).kwarg("scale").or_else(|| g.node(n).args.get(6)) {
                Some(Arg::Float(f)) => f.0,
                None | Some(Arg::None) => match xt.shape[r_ - 1].as_const() {
                    Some(e) if e > 0 => 1.0 / (e as f64).sqrt(),
                    _ => return Some(Outcome::Refused("refused-symbolic-head-dim")),
                },
                _ => return None,
            };
            if let Some(m) = mask {
                if tensor(g, m).is_none_or(|t| !t.dtype.is_float()) {
                    return Some(Outcome::Refused("refused-bool-mask"));
                }
            }
            let mut kts = kt.shape.clone();
            kts.swap(r_ - 2, r_ - 1);
            let ktr = insert_call(
                g,
                namer,
                n,
                "aten.transpose.int",
                vec![Arg::Value(kv), Arg::Int(-2), Arg::Int(-1)],
                &format!("{base}_kt"),
                Type::tensor(kt.dtype, kts),
            );
            let mut ss: Shape = xt.shape.clone();
            ss[r_ - 1] = kt.shape[r_ - 2].clone();
            let sty = Type::tensor(xt.dtype, ss);
            let s = insert_call(
                g,
                namer,
                n,
                "aten.matmul.default",
                vec![Arg::Value(x), Arg::Value(ktr)],
                &format!("{base}_scores"),
                sty.clone(),
            );
            let mut s = insert_call(
                g,
                namer,
                n,
                "aten.mul.Scalar",
                vec![Arg::Value(s), Arg::Float(F64(scale))],
                &format!("{base}_scaled"),
                sty.clone(),
            );
            if let Some(m) = mask {
                s = insert_call(
                    g,
                    namer,
                    n,
                    "aten.add.Tensor",
                    vec![Arg::Value(s), Arg::Value(m)],
                    &format!("{base}_masked"),
                    sty.clone(),
                );
            }
            let pr = insert_call(
                g,
                namer,
                n,
                "aten._softmax.default",
                vec![Arg::Value(s), Arg::Int(-1), Arg::Bool(false)],
                &format!("{base}_probs"),
                sty,
            );
            let out = insert_call(
                g,
                namer,
                n,
                "aten.matmul.default",
                vec![Arg::Value(pr), Arg::Value(vv)],
                &base,
                rty,
            );
            g.replace_all_uses(r, out);
            renamed = Some(out);
        }
        "aten.dropout.default" => {
            if bool_arg(arg(g, n, 2, "train"), true) != Some(false) {
                return Some(Outcome::Refused("refused-training"));
            }
            g.replace_all_uses(r, x);
        }
        "aten.flatten.using_ints" => {
            let rt = rty.as_tensor()?;
            let symbolic = rt.shape.iter().filter(|d| !d.is_const()).count();
            if symbolic > 1 {
                return Some(Outcome::Refused("refused-symbolic-flatten"));
            }
            let sizes: Vec<i64> = rt
                .shape
                .iter()
                .map(|d| d.as_const().unwrap_or(-1))
                .collect();
            if sizes.is_empty() {
                // flatten of a 0-d tensor gives a 1-element 1-d tensor; nothing to do here.
                return None;
            }
            let out = insert_call(
                g,
                namer,
                n,
                "aten.view.default",
                vec![Arg::Value(x), ints(&sizes)],
                &base,
                rty.clone(),
            );
            g.replace_all_uses(r, out);
            renamed = Some(out);
        }
        _ => return None,
    }
    // The replacement takes over the original name, so users read the same text as before.
    g.remove_node(n).ok()?;
    if let Some(v) = renamed {
        g.set_value_name(v, base.clone());
        let def = g.value(v).def;
        g.set_node_name(def, base);
    }
    Some(Outcome::Done)
}

impl Decompose {
    fn run_graph(&self, p: &mut Program, gid: GraphId, cx: &mut PassCx) -> bool {
        let ops = cx.ops_handle();
        let g = &mut p.graphs[gid];
        let mut namer = Namer::new(g);
        let mut changed = false;
        for n in g.node_ids() {
            if !super::is_call(g, n, TARGETS) {
                continue;
            }
            let t = g.node(n).op.target().unwrap_or("").to_string();
            let (prev, next) = (g.prev_node(n), g.next_node(n));
            match decompose_node(g, &mut namer, n) {
                Some(Outcome::Done) => {
                    infer_range(g, prev, next, &ops);
                    cx.stat(&format!("decomposed {t}"), 1);
                    changed = true;
                }
                Some(Outcome::Refused(why)) => cx.stat(why, 1),
                None => cx.stat("refused-unsupported-arguments", 1),
            }
        }
        changed
    }
}

impl Pass for Decompose {
    fn name(&self) -> &str {
        "decompose"
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let hist = cx.analysis::<OpHistogram>(p);
        let mut changed = false;
        for gid in cx.graphs(p) {
            if !hist.any(gid, |t| TARGETS.contains(&t)) {
                continue;
            }
            changed |= self.run_graph(p, gid, cx);
        }
        Ok(PassOutcome::from_changed(changed))
    }
}
