//! Property tests: inference on random static shapes matches brute-force references written
//! independently here (NumPy broadcasting over padded shapes, reductions by removing/keeping
//! dims, reshape with -1 by element-count division).

mod infer_common;
use infer_common::*;
use proptest::prelude::*;
use trtfx_ir::{Arg, Type};

fn shape_str(dt: &str, s: &[i64]) -> String {
    format!(
        "{dt}[{}]",
        s.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn static_of(t: &Type) -> Vec<i64> {
    t.as_tensor().unwrap().static_shape().unwrap()
}

/// NumPy's rule, written the long way: pad with 1s on the left, then per axis.
fn ref_broadcast(a: &[i64], b: &[i64]) -> Option<Vec<i64>> {
    let n = a.len().max(b.len());
    let pad = |s: &[i64]| {
        let mut v = vec![1; n - s.len()];
        v.extend_from_slice(s);
        v
    };
    let (a, b) = (pad(a), pad(b));
    a.iter()
        .zip(&b)
        .map(|(&x, &y)| match (x, y) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

fn small_shape() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(prop_oneof![Just(1i64), 2i64..5], 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn broadcast_matches_numpy(a in small_shape(), b in small_shape()) {
        let (ta, tb) = (shape_str("f32", &a), shape_str("f16", &b));
        let got = infer("aten.add.Tensor", &[&ta, &tb], vec![v(0), v(1)], vec![]);
        match ref_broadcast(&a, &b) {
            Some(r) => {
                let got = got.unwrap();
                prop_assert_eq!(static_of(&got[0]), r);
                // dtype: dim>0 tensors promote among themselves; 0-dim f32 yields to f16.
                let exp = if a.is_empty() && !b.is_empty() { "f16" } else { "f32" };
                prop_assert_eq!(got[0].as_tensor().unwrap().dtype.to_string(), exp);
            }
            None => prop_assert!(got.is_err()),
        }
    }

    #[test]
    fn symbolic_broadcast_matches_after_substitution(a in small_shape(), b in small_shape(), k in 2i64..5) {
        // Replace every dim equal to k by the symbol s0 (in both shapes): the symbolic result
        // with s0 := k equals the static result.
        let sym = |s: &[i64]| format!("f32[{}]", s.iter().map(|&d| if d == k { "s0".to_string() } else { d.to_string() }).collect::<Vec<_>>().join(","));
        let got = infer("aten.mul.Tensor", &[&sym(&a), &sym(&b)], vec![v(0), v(1)], vec![]);
        if let Some(r) = ref_broadcast(&a, &b) {
            let got = got.unwrap();
            let dims: Vec<i64> = got[0].as_tensor().unwrap().shape.iter()
                .map(|d| d.eval(&|n| (n == "s0").then_some(k)).unwrap())
                .collect();
            prop_assert_eq!(dims, r);
        }
    }

    #[test]
    fn reductions_remove_or_keep_dims(s in prop::collection::vec(1i64..5, 1..5), mask in any::<u8>(), keep in any::<bool>(), neg in any::<bool>()) {
        let rank = s.len();
        let dims: Vec<i64> = (0..rank).filter(|i| mask & (1 << i) != 0)
            .map(|i| if neg { i as i64 - rank as i64 } else { i as i64 }).collect();
        let t = shape_str("i32", &s);
        let got = infer("aten.sum.dim_IntList", &[&t], vec![v(0), ints(&dims), Arg::Bool(keep)], vec![]).unwrap();
        let all = dims.is_empty();
        let reference: Vec<i64> = s.iter().enumerate().filter_map(|(i, &d)| {
            let reduced = all || mask & (1 << i) != 0;
            if reduced { keep.then_some(1) } else { Some(d) }
        }).collect();
        prop_assert_eq!(static_of(&got[0]), reference.clone());
        prop_assert_eq!(got[0].as_tensor().unwrap().dtype.to_string(), "i64");
        let got = infer("aten.amax.default", &[&t], vec![v(0), ints(&dims), Arg::Bool(keep)], vec![]).unwrap();
        prop_assert_eq!(static_of(&got[0]), reference);
        prop_assert_eq!(got[0].as_tensor().unwrap().dtype.to_string(), "i32");
    }

    #[test]
    fn reshape_with_minus_one(s in prop::collection::vec(1i64..6, 1..5), split in 1usize..4, at in 0usize..4) {
        let numel: i64 = s.iter().product();
        // Target: numel factored as [a, numel / a] (+ a trailing 1), then one entry set to -1.
        let divisors: Vec<i64> = (1..=numel).filter(|d| numel % d == 0).collect();
        let a = divisors[split % divisors.len()];
        let target = vec![a, numel / a, 1];
        let at = at % target.len();
        let mut arg = target.clone();
        arg[at] = -1;
        let t = shape_str("f32", &s);
        let got = infer("aten.view.default", &[&t], vec![v(0), ints(&arg)], vec![]).unwrap();
        prop_assert_eq!(static_of(&got[0]), target);
    }

    #[test]
    fn symbolic_reshape_solves_by_division(s in prop::collection::vec(1i64..6, 1..4)) {
        // [s0, *s] viewed as [-1, prod(s)] is [s0, prod(s)]; as [s0, -1] also.
        let t = format!("f32[s0,{}]", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","));
        let p: i64 = s.iter().product();
        let got = infer("aten.view.default", &[&t], vec![v(0), ints(&[-1, p])], vec![]).unwrap();
        prop_assert_eq!(got[0].to_string(), format!("f32[s0,{p}]"));
        let got = infer("aten.reshape.default", &[&t, "symint(s0)"], vec![v(0), Arg::List(vec![v(1), Arg::Int(-1)])], vec![]).unwrap();
        prop_assert_eq!(got[0].to_string(), format!("f32[s0,{p}]"));
    }

    #[test]
    fn permute_then_inverse_is_identity(s in prop::collection::vec(1i64..6, 1..5), seed in any::<u64>()) {
        let n = s.len();
        let mut perm: Vec<i64> = (0..n as i64).collect();
        let mut x = seed;
        for i in (1..n).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (x >> 33) as usize % (i + 1));
        }
        let t = shape_str("f32", &s);
        let got = infer("aten.permute.default", &[&t], vec![v(0), ints(&perm)], vec![]).unwrap();
        let reference: Vec<i64> = perm.iter().map(|&p| s[p as usize]).collect();
        prop_assert_eq!(static_of(&got[0]), reference);
    }
}
