//! Networks shared by the tests.
#![allow(dead_code)]

use trtfx_backend_trt::network::*;
use trtfx_backend_trt::{OptimizationProfile, RecordedNetwork};

/// Deterministic pseudo-random f32 weights.
pub fn weights(n: usize, seed: u32) -> Weights {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    let v: Vec<f32> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x % 2000) as f32 / 1000.0 - 1.0
        })
        .collect();
    Weights::from_f32(&v)
}

/// conv(3→4, 3x3, pad 1) → relu → reshape [0,-1] → matmul with [256,10] → softmax, with a
/// dynamic batch (profile 1/4/8).
pub fn conv_relu_matmul_softmax() -> RecordedNetwork {
    let mut n = RecordedNetwork::new();
    let x = n
        .add_input("x", TrtDataType::Float, &[-1, 3, 8, 8])
        .unwrap();
    let mut conv = ConvolutionParams::new(4, &[3, 3]);
    conv.pre_padding = vec![1, 1];
    conv.post_padding = vec![1, 1];
    let c = n
        .add_convolution_nd(x, &conv, weights(4 * 3 * 9, 1), Some(weights(4, 2)))
        .unwrap();
    let r = n.add_activation(c, Activation::Relu).unwrap();
    let flat = n.add_shuffle(r, &ShuffleParams::reshape(&[0, -1])).unwrap();
    let w = n.add_constant(&[256, 10], weights(2560, 3)).unwrap();
    let mm = n
        .add_matrix_multiply(flat, MatrixOp::None, w, MatrixOp::None)
        .unwrap();
    let sm = n.add_softmax(mm, 1).unwrap();
    n.mark_output(sm, "probs").unwrap();
    let mut p = OptimizationProfile::new();
    p.set_dimensions("x", &[1, 3, 8, 8], &[4, 3, 8, 8], &[8, 3, 8, 8]);
    n.add_optimization_profile(&p).unwrap();
    n
}

/// A network that uses every layer kind TensorRT-RTX can build through the binding, with a
/// dynamic batch, for shape-inference and replay checks.
pub fn many_layers() -> RecordedNetwork {
    use ElementWiseOp as E;
    let mut n = RecordedNetwork::new();
    let f = TrtDataType::Float;
    let x = n.add_input("x", f, &[-1, 4, 6, 6]).unwrap();
    let idx = n.add_input("idx", TrtDataType::Int32, &[3]).unwrap();

    // Convolution with asymmetric padding, stride 2, groups 2.
    let mut cp = ConvolutionParams::new(6, &[3, 3]);
    cp.stride = vec![2, 2];
    cp.pre_padding = vec![1, 0];
    cp.post_padding = vec![1, 1];
    cp.groups = 2;
    let conv = n
        .add_convolution_nd(x, &cp, weights(6 * 2 * 9, 4), None)
        .unwrap();
    let mut dp = ConvolutionParams::new(2, &[2, 2]);
    dp.stride = vec![2, 2];
    let deconv = n
        .add_deconvolution_nd(conv, &dp, weights(6 * 2 * 4, 5), Some(weights(2, 6)))
        .unwrap();
    let lrelu = n
        .add_activation(deconv, Activation::LeakyRelu { alpha: 0.1 })
        .unwrap();
    let hs = n
        .add_activation(
            lrelu,
            Activation::HardSigmoid {
                alpha: 0.2,
                beta: 0.5,
            },
        )
        .unwrap();
    let gelu = n.add_activation(hs, Activation::GeluTanh).unwrap();
    let e = n.add_unary(gelu, UnaryOp::Exp).unwrap();
    let mut pp = PoolingParams::new(PoolingType::Average, &[3, 3]);
    pp.stride = vec![2, 2];
    pp.pre_padding = vec![1, 1];
    pp.post_padding = vec![1, 1];
    pp.padding_mode = PaddingMode::ExplicitRoundUp;
    pp.average_count_excludes_padding = false;
    let pool = n.add_pooling_nd(x, &pp).unwrap();
    let mut mp = PoolingParams::new(PoolingType::Max, &[2, 2]);
    mp.stride = vec![2, 2];
    mp.post_padding = vec![1, 1];
    mp.padding_mode = PaddingMode::ExplicitRoundUp;
    let maxp = n.add_pooling_nd(x, &mp).unwrap();
    let sum = n.add_elementwise(maxp, pool, E::Sum).unwrap();
    let red = n.add_reduce(sum, ReduceOp::Avg, 0b1100, true).unwrap();
    let scale = n.add_constant(&[1, 4, 1, 1], weights(4, 7)).unwrap();
    let bias = n.add_constant(&[1, 4, 1, 1], weights(4, 8)).unwrap();
    let norm = n
        .add_normalization(x, scale, bias, 0b1100, 1e-5, 2)
        .unwrap();
    let tr = n
        .add_shuffle(norm, &ShuffleParams::transpose(&[0, 2, 3, 1]))
        .unwrap();
    let sl = n
        .add_slice(
            tr,
            &SliceParams::new(&[0, 1, 0, 0], &[1, 4, 6, 4], &[1, 1, 1, 1]),
        )
        .unwrap();
    let cat = n.add_concatenation(&[sl, sl], 3).unwrap();
    let g = n.add_gather(cat, idx, 1, GatherMode::Default).unwrap();
    let (vals, ids) = n
        .add_topk(g, TopKOp::Max, 2, 1 << 3, TrtDataType::Int32)
        .unwrap();
    let gt = n.add_elementwise(vals, vals, E::Greater).unwrap();
    let not = n.add_unary(gt, UnaryOp::Not).unwrap();
    let sel = n.add_select(not, vals, vals).unwrap();
    let cast = n.add_cast(ids, TrtDataType::Float).unwrap();
    let mix = n.add_elementwise(sel, cast, E::Prod).unwrap();
    let cum = n
        .add_cumulative(mix, 3, CumulativeOp::Sum, false, false)
        .unwrap();

    // Shape arithmetic: reshape `x` to [batch, -1] from a shape tensor.
    let shape = n.add_shape(x).unwrap();
    let batch = n
        .add_slice(shape, &SliceParams::new(&[0], &[1], &[1]))
        .unwrap();
    let minus1 = n.add_constant(&[1], Weights::from_i64(&[-1])).unwrap();
    let new_shape = n.add_concatenation(&[batch, minus1], 0).unwrap();
    let flat = n
        .add_shuffle(
            x,
            &ShuffleParams {
                reshape: Some(ShapeArg::Tensor(new_shape)),
                zero_is_placeholder: true,
                ..ShuffleParams::default()
            },
        )
        .unwrap();
    let ar = n
        .add_fill(&FillParams {
            dims: ShapeArg::Static(vec![5]),
            op: FillOp::Linspace,
            dtype: TrtDataType::Int64,
            alpha: FillArg::Scalar(0.0),
            beta: FillArg::Scalar(2.0),
        })
        .unwrap();
    let data = n.add_constant(&[2, 3], weights(6, 9)).unwrap();
    let ix = n.add_constant(&[2, 1], Weights::from_i32(&[2, 0])).unwrap();
    let upd = n.add_constant(&[2, 1], weights(2, 10)).unwrap();
    let sc = n
        .add_scatter(data, ix, upd, ScatterMode::Element, 1)
        .unwrap();
    let ge = n.add_gather(data, ix, 1, GatherMode::Element).unwrap();
    let oh_vals = n
        .add_constant(&[2], Weights::from_f32(&[0.0, 1.0]))
        .unwrap();
    let depth = n.add_constant(&[], Weights::from_i32(&[4])).unwrap();
    let oh = n.add_one_hot(idx, oh_vals, depth, -1).unwrap();
    let rs = n
        .add_resize(
            x,
            &ResizeParams {
                output: ResizeOutput::Scales(vec![1.0, 1.0, 2.0, 2.0]),
                mode: ResizeMode::Nearest,
                coordinate_transformation: ResizeCoordinateTransformation::Asymmetric,
                nearest_rounding: ResizeRoundMode::Floor,
                cubic_coeff: -0.75,
                exclude_outside: false,
            },
        )
        .unwrap();
    let a = n.add_constant(&[2, 3, 4], weights(24, 11)).unwrap();
    let b = n.add_constant(&[1, 5, 4], weights(20, 12)).unwrap();
    let bmm = n
        .add_matrix_multiply(a, MatrixOp::None, b, MatrixOp::Transpose)
        .unwrap();
    let id = n.add_identity(bmm).unwrap();

    for (t, name) in [
        (e, "e"),
        (red, "red"),
        (cum, "cum"),
        (flat, "flat"),
        (ar, "arange"),
        (sc, "scatter"),
        (ge, "gather_el"),
        (oh, "one_hot"),
        (rs, "resize"),
        (id, "bmm"),
    ] {
        n.mark_output(t, name).unwrap();
    }
    let mut p = OptimizationProfile::new();
    p.set_dimensions("x", &[1, 4, 6, 6], &[2, 4, 6, 6], &[4, 4, 6, 6]);
    n.add_optimization_profile(&p).unwrap();
    n
}
