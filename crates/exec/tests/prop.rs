//! Property tests: kernels agree with naive reference loops on random shapes (including
//! broadcasting and 0-size dims) and random dtypes. Case counts are modest; raise them with
//! `PROPTEST_CASES`.

use proptest::prelude::*;
use trtfx_exec::kernels::{conv, elementwise as ew, linalg, pool, reduce, shape};
use trtfx_exec::promote::result_type_tt;
use trtfx_exec::{DType, Scalar, Tensor};

fn cases() -> ProptestConfig {
    ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(32),
    )
}

fn numel(s: &[usize]) -> usize {
    s.iter().product()
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |a, (&i, &s)| a * s + i)
}

/// Index into a tensor of `shape` broadcast to an output index `oidx`.
fn bcast_index(oidx: &[usize], shape: &[usize]) -> usize {
    let off = oidx.len() - shape.len();
    let idx: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(d, &s)| if s == 1 { 0 } else { oidx[d + off] })
        .collect();
    ravel(&idx, shape)
}

fn any_dtype() -> impl Strategy<Value = DType> {
    prop::sample::select(DType::ALL.to_vec())
}

/// Small integer-valued data so every dtype represents it and results are exact.
fn tensor_of(shape: Vec<usize>, dt: DType, nonzero: bool) -> impl Strategy<Value = Tensor> {
    let n = numel(&shape);
    let lo = if dt == DType::U8 || dt == DType::Bool {
        0i64
    } else {
        -5
    };
    let hi = if dt == DType::Bool { 1 } else { 5 };
    prop::collection::vec(lo..=hi, n).prop_map(move |v| {
        let v: Vec<f64> = v
            .into_iter()
            .map(|x| if nonzero && x == 0 { 1.0 } else { x as f64 })
            .collect();
        Tensor::from_f64s(&v, shape.clone(), dt).unwrap()
    })
}

/// Two shapes that broadcast: a base shape, and each operand drops leading dims and/or sets
/// some dims to 1.
fn bcast_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (prop::collection::vec(0usize..4, 0..4), any::<u64>()).prop_map(|(base, bits)| {
        let mk = |seed: u64| {
            let drop = (seed % (base.len() as u64 + 1)) as usize;
            base[drop..]
                .iter()
                .enumerate()
                .map(|(i, &s)| if (seed >> (i + 3)) & 1 == 1 { 1 } else { s })
                .collect::<Vec<_>>()
        };
        (mk(bits & 0xffff), mk(bits >> 16))
    })
}

fn binary_case() -> impl Strategy<Value = (Tensor, Tensor)> {
    (bcast_shapes(), any_dtype(), any_dtype())
        .prop_flat_map(|((sa, sb), da, db)| (tensor_of(sa, da, false), tensor_of(sb, db, true)))
}

/// Reference value of a binary op in f64 on exact small integers.
fn reference(op: &str, x: f64, y: f64, dt: DType) -> f64 {
    let r = match op {
        "add" => x + y,
        "sub" => x - y,
        "mul" => x * y,
        "maximum" => x.max(y),
        "minimum" => x.min(y),
        "floor_divide" => (x / y).floor(),
        "remainder" => x - (x / y).floor() * y,
        "fmod" => x % y,
        "lt" => (x < y) as u8 as f64,
        "eq" => (x == y) as u8 as f64,
        _ => unreachable!(),
    };
    if dt == DType::Bool {
        (r != 0.0) as u8 as f64
    } else if dt == DType::U8 {
        (r as i64).rem_euclid(256) as f64
    } else {
        r
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn binary_ops_broadcast((a, b) in binary_case(), op in prop::sample::select(vec!["add", "sub", "mul", "maximum", "minimum", "floor_divide", "remainder", "fmod", "lt", "eq"])) {
        let dt = result_type_tt(&a, &b);
        let res = match op {
            "add" => ew::add(&a, &b, Scalar::Int(1)),
            "sub" => ew::sub(&a, &b, Scalar::Int(1)),
            "mul" => ew::mul(&a, &b),
            "maximum" => ew::maximum(&a, &b),
            "minimum" => ew::minimum(&a, &b),
            "floor_divide" => ew::floor_divide(&a, &b),
            "remainder" => ew::remainder(&a, &b),
            "fmod" => ew::fmod(&a, &b),
            "lt" => ew::lt(&a, &b),
            "eq" => ew::eq(&a, &b),
            _ => unreachable!(),
        };
        let needs_num = matches!(op, "sub" | "floor_divide" | "remainder" | "fmod");
        // PyTorch rejects `-` whenever either operand is bool, whatever the promoted type.
        let bool_sub = op == "sub" && (a.dtype() == DType::Bool || b.dtype() == DType::Bool);
        if (dt == DType::Bool && needs_num) || bool_sub {
            prop_assert!(res.is_err());
            return Ok(());
        }
        let r = res.unwrap();
        let out_dt = if matches!(op, "lt" | "eq") { DType::Bool } else { dt };
        prop_assert_eq!(r.dtype(), out_dt);
        let out = r.shape().to_vec();
        let (av, bv, rv) = (a.to_dtype(dt).to_f64_vec(), b.to_dtype(dt).to_f64_vec(), r.to_f64_vec());
        prop_assert_eq!(rv.len(), numel(&out));
        for (i, &got) in rv.iter().enumerate() {
            let o = unravel(i, &out);
            let want = reference(op, av[bcast_index(&o, a.shape())], bv[bcast_index(&o, b.shape())], out_dt);
            prop_assert_eq!(got, want, "op {} at {:?}: {:?} {:?}", op, o, a, b);
        }
    }

    #[test]
    fn reductions_over_random_dims(shape in prop::collection::vec(0usize..4, 1..4), mask in any::<u8>(), keepdim in any::<bool>(), dt in any_dtype()) {
        let nd = shape.len();
        let dims: Vec<i64> = (0..nd).filter(|d| mask >> d & 1 == 1).map(|d| d as i64 - if mask & 0x80 != 0 { nd as i64 } else { 0 }).collect();
        let n = numel(&shape);
        let vals: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 11) as f64 - if dt == DType::U8 || dt == DType::Bool { 0.0 } else { 5.0 }).collect();
        let t = Tensor::from_f64s(&vals, shape.clone(), dt).unwrap();
        let tv = t.to_f64_vec();
        let red: Vec<usize> = if dims.is_empty() { (0..nd).collect() } else { dims.iter().map(|&d| d.rem_euclid(nd as i64) as usize).collect() };
        let kshape: Vec<usize> = (0..nd).map(|d| if red.contains(&d) { 1 } else { shape[d] }).collect();
        let mut sums = vec![0f64; numel(&kshape)];
        let mut maxs = vec![f64::NEG_INFINITY; numel(&kshape)];
        for (i, &v) in tv.iter().enumerate() {
            let mut idx = unravel(i, &shape);
            for &d in &red { idx[d] = 0; }
            let o = ravel(&idx, &kshape);
            sums[o] += v;
            maxs[o] = maxs[o].max(v);
        }
        let s = reduce::sum(&t, Some(&dims), keepdim, None).unwrap();
        let exp_shape: Vec<usize> = if keepdim { kshape.clone() } else { (0..nd).filter(|d| !red.contains(d)).map(|d| shape[d]).collect() };
        prop_assert_eq!(s.shape(), &exp_shape[..]);
        prop_assert_eq!(s.dtype(), if dt.is_float() { dt } else { DType::I64 });
        prop_assert_eq!(s.to_f64_vec(), sums);
        let m = reduce::amax(&t, &dims, keepdim);
        let empty_red = red.iter().any(|&d| shape[d] == 0);
        if empty_red && n == 0 && numel(&kshape) > 0 {
            prop_assert!(m.is_err());
        } else if !empty_red {
            prop_assert_eq!(m.unwrap().to_f64_vec(), maxs);
        }
    }

    #[test]
    fn matmul_matches_naive(batch_a in prop::collection::vec(1usize..3, 0..3), bmask in any::<u8>(), m in 0usize..5, k in 0usize..5, n in 0usize..5, dt in prop::sample::select(vec![DType::F32, DType::F64, DType::I64, DType::F16]), seed in any::<u64>()) {
        let batch_b: Vec<usize> = batch_a.iter().enumerate().map(|(i, &s)| if bmask >> i & 1 == 1 { 1 } else { s }).collect();
        let mut sa = batch_a.clone(); sa.extend([m, k]);
        let mut sb = batch_b.clone(); sb.extend([k, n]);
        let gen = |len: usize, s: u64| (0..len).map(|i| (((i as u64 * 2654435761 + s) >> 7) % 7) as f64 - 3.0).collect::<Vec<f64>>();
        let a = Tensor::from_f64s(&gen(numel(&sa), seed), sa.clone(), dt).unwrap();
        let b = Tensor::from_f64s(&gen(numel(&sb), seed >> 3), sb.clone(), dt).unwrap();
        let r = linalg::matmul(&a, &b).unwrap();
        let mut out = batch_a.clone(); out.extend([m, n]);
        prop_assert_eq!(r.shape(), &out[..]);
        let (av, bv, rv) = (a.to_f64_vec(), b.to_f64_vec(), r.to_f64_vec());
        for (i, &got) in rv.iter().enumerate() {
            let o = unravel(i, &out);
            let nb = batch_a.len();
            let mut acc = 0.0;
            for p in 0..k {
                let mut ia = o[..nb].to_vec(); ia.extend([o[nb], p]);
                let mut ib: Vec<usize> = o[..nb].iter().zip(&batch_b).map(|(&x, &s)| if s == 1 { 0 } else { x }).collect(); ib.extend([p, o[nb + 1]]);
                acc += av[ravel(&ia, &sa)] * bv[ravel(&ib, &sb)];
            }
            prop_assert!((got - acc).abs() <= 1e-9 + 1e-3 * acc.abs(), "{} vs {}", got, acc);
        }
    }

    #[test]
    fn conv2d_matches_direct(nb in 1usize..3, g in 1usize..3, cin_g in 1usize..3, cout_g in 1usize..3, kh in 1usize..4, kw in 1usize..3, s in 1i64..3, p in 0i64..3, d in 1i64..3, h in 1usize..7, w in 1usize..7, bias in any::<bool>(), seed in any::<u64>()) {
        let c = g * cin_g;
        let co = g * cout_g;
        let gen = |len: usize, s: u64| (0..len).map(|i| (((i as u64 * 40503 + s) >> 5) % 9) as f64 - 4.0).collect::<Vec<f64>>();
        let x = Tensor::from_f64s(&gen(nb * c * h * w, seed), vec![nb, c, h, w], DType::F64).unwrap();
        let wt = Tensor::from_f64s(&gen(co * cin_g * kh * kw, seed >> 9), vec![co, cin_g, kh, kw], DType::F64).unwrap();
        let bt = Tensor::from_f64s(&gen(co, seed >> 17), vec![co], DType::F64).unwrap();
        let oh = (h as i64 + 2 * p - d * (kh as i64 - 1) - 1) / s + 1;
        let ow = (w as i64 + 2 * p - d * (kw as i64 - 1) - 1) / s + 1;
        let r = conv::conv(&x, &wt, if bias { Some(&bt) } else { None }, &[s], &[p], &[d], g as i64);
        if oh <= 0 || ow <= 0 {
            prop_assert!(r.is_err());
            return Ok(());
        }
        let r = r.unwrap();
        let (oh, ow) = (oh as usize, ow as usize);
        prop_assert_eq!(r.shape(), &[nb, co, oh, ow][..]);
        let (xv, wv, bv, rv) = (x.to_f64_vec(), wt.to_f64_vec(), bt.to_f64_vec(), r.to_f64_vec());
        for n in 0..nb { for o in 0..co { for i in 0..oh { for j in 0..ow {
            let gi = o / cout_g;
            let mut acc = if bias { bv[o] } else { 0.0 };
            for ci in 0..cin_g { for a in 0..kh { for b in 0..kw {
                let y = i as i64 * s - p + a as i64 * d;
                let z = j as i64 * s - p + b as i64 * d;
                if y >= 0 && z >= 0 && (y as usize) < h && (z as usize) < w {
                    acc += xv[ravel(&[n, gi * cin_g + ci, y as usize, z as usize], &[nb, c, h, w])] * wv[ravel(&[o, ci, a, b], &[co, cin_g, kh, kw])];
                }
            }}}
            prop_assert_eq!(rv[ravel(&[n, o, i, j], &[nb, co, oh, ow])], acc);
        }}}}
    }

    #[test]
    fn conv_transpose1d_matches_scatter(cin in 1usize..3, cout in 1usize..3, k in 1usize..4, s in 1i64..3, p in 0i64..2, d in 1i64..3, opad in 0i64..2, l in 1usize..6, seed in any::<u64>()) {
        prop_assume!(opad < s || opad < d);
        let gen = |len: usize, s: u64| (0..len).map(|i| (((i as u64 * 40503 + s) >> 5) % 9) as f64 - 4.0).collect::<Vec<f64>>();
        let x = Tensor::from_f64s(&gen(cin * l, seed), vec![1, cin, l], DType::F64).unwrap();
        let w = Tensor::from_f64s(&gen(cin * cout * k, seed >> 7), vec![cin, cout, k], DType::F64).unwrap();
        let ol = (l as i64 - 1) * s - 2 * p + d * (k as i64 - 1) + opad + 1;
        let r = conv::conv_transpose(&x, &w, None, &[s], &[p], &[opad], 1, &[d]);
        if ol <= 0 { return Ok(()); }
        let r = r.unwrap();
        let mut want = vec![0.0; cout * ol as usize];
        let (xv, wv) = (x.to_f64_vec(), w.to_f64_vec());
        for ci in 0..cin { for i in 0..l { for co in 0..cout { for kk in 0..k {
            let o = i as i64 * s - p + kk as i64 * d;
            if o >= 0 && o < ol { want[co * ol as usize + o as usize] += xv[ci * l + i] * wv[(ci * cout + co) * k + kk]; }
        }}}}
        prop_assert_eq!(r.to_f64_vec(), want);
    }

    #[test]
    fn max_pool2d_matches_naive(h in 1usize..8, w in 1usize..8, k in 1i64..4, s in 1i64..3, p in 0i64..2, d in 1i64..3, ceil in any::<bool>(), seed in any::<u64>()) {
        prop_assume!(2 * p <= k);
        let vals: Vec<f64> = (0..2 * h * w).map(|i| (((i as u64 * 2654435761 + seed) >> 9) % 13) as f64).collect();
        let x = Tensor::from_f64s(&vals, vec![2, h, w], DType::F32).unwrap();
        let outsz = |n: i64| {
            let mut o = (n + 2 * p - d * (k - 1) - 1 + if ceil { s - 1 } else { 0 }).div_euclid(s) + 1;
            if ceil && (o - 1) * s >= n + p { o -= 1; }
            o
        };
        let (oh, ow) = (outsz(h as i64), outsz(w as i64));
        let r = pool::max_pool_with_indices(&x, 2, &[k], &[s], &[p], &[d], ceil);
        if oh <= 0 || ow <= 0 { prop_assert!(r.is_err()); return Ok(()); }
        let (v, idx) = r.unwrap();
        let (oh, ow) = (oh as usize, ow as usize);
        prop_assert_eq!(v.shape(), &[2, oh, ow][..]);
        let (vv, iv) = (v.to_f64_vec(), idx.to_i64_vec());
        for c in 0..2 { for i in 0..oh { for j in 0..ow {
            let mut best = f64::NEG_INFINITY; let mut at = -1i64;
            for a in 0..k { for b in 0..k {
                let y = i as i64 * s - p + a * d; let z = j as i64 * s - p + b * d;
                if y >= 0 && z >= 0 && y < h as i64 && z < w as i64 {
                    let val = vals[c * h * w + y as usize * w + z as usize];
                    if val > best { best = val; at = y * w as i64 + z; }
                }
            }}
            let o = (c * oh + i) * ow + j;
            if at < 0 { continue; }
            prop_assert_eq!(vv[o], best);
            prop_assert_eq!(iv[o], at);
        }}}
    }

    #[test]
    fn avg_pool1d_matches_naive(l in 1usize..9, k in 1i64..4, s in 1i64..3, p in 0i64..2, ceil in any::<bool>(), cip in any::<bool>()) {
        prop_assume!(2 * p <= k);
        let vals: Vec<f64> = (0..l).map(|i| (i * i % 7) as f64).collect();
        let x = Tensor::from_f64s(&vals, vec![1, l], DType::F64).unwrap();
        let n = l as i64;
        let mut o = (n + 2 * p - k + if ceil { s - 1 } else { 0 }).div_euclid(s) + 1;
        if ceil && (o - 1) * s >= n + p { o -= 1; }
        let r = pool::avg_pool(&x, 1, &[k], &[s], &[p], ceil, cip, None);
        if o <= 0 { prop_assert!(r.is_err()); return Ok(()); }
        let r = r.unwrap().to_f64_vec();
        for (i, &got) in r.iter().enumerate() {
            let start = i as i64 * s - p;
            let end = (start + k).min(n + p);
            let size = end - start;
            let (a, b) = (start.max(0), end.min(n));
            let sum: f64 = (a..b).map(|j| vals[j as usize]).sum();
            let div = if cip { size } else { b - a } as f64;
            prop_assert!((got - sum / div).abs() < 1e-12);
        }
    }

    #[test]
    fn permute_cat_slice_match_index_math(shape in prop::collection::vec(0usize..4, 1..4), perm_seed in any::<u64>(), start in -5i64..5, end in -5i64..6, step in 1i64..3, dt in any_dtype()) {
        let nd = shape.len();
        let vals: Vec<f64> = (0..numel(&shape)).map(|i| (i % 2) as f64 + if dt == DType::Bool { 0.0 } else { i as f64 % 100.0 }).collect();
        let t = Tensor::from_f64s(&vals, shape.clone(), dt).unwrap();
        let tv = t.to_f64_vec();
        // Permute with a random permutation.
        let mut perm: Vec<usize> = (0..nd).collect();
        let mut sd = perm_seed;
        for i in (1..nd).rev() { perm.swap(i, (sd % (i as u64 + 1)) as usize); sd /= 7; }
        let pt = shape::permute(&t, &perm.iter().map(|&p| p as i64).collect::<Vec<_>>()).unwrap();
        let pshape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
        prop_assert_eq!(pt.shape(), &pshape[..]);
        for (i, &v) in pt.to_f64_vec().iter().enumerate() {
            let o = unravel(i, &pshape);
            let mut src = vec![0; nd];
            for (k, &p) in perm.iter().enumerate() { src[p] = o[k]; }
            prop_assert_eq!(v, tv[ravel(&src, &shape)]);
        }
        // Cat with itself along the last dim.
        let c = shape::cat(&[&t, &t], -1).unwrap();
        let mut cshape = shape.clone(); cshape[nd - 1] *= 2;
        prop_assert_eq!(c.shape(), &cshape[..]);
        for (i, &v) in c.to_f64_vec().iter().enumerate() {
            let mut o = unravel(i, &cshape);
            o[nd - 1] %= shape[nd - 1].max(1);
            prop_assert_eq!(v, tv[ravel(&o, &shape)]);
        }
        // Slice dim 0 with Python semantics.
        let n0 = shape[0] as i64;
        let norm = |x: i64| (if x < 0 { x + n0 } else { x }).clamp(0, n0);
        let (a, b) = (norm(start), norm(end));
        let picked: Vec<i64> = (a..b.max(a)).step_by(step as usize).collect();
        let sl = shape::slice(&t, 0, Some(start), Some(end), step).unwrap();
        prop_assert_eq!(sl.shape()[0], picked.len());
        let inner = numel(&shape[1..]);
        let want: Vec<f64> = picked.iter().flat_map(|&r| tv[r as usize * inner..(r as usize + 1) * inner].to_vec()).collect();
        prop_assert_eq!(sl.to_f64_vec(), want);
    }
}
