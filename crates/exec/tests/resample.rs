//! Separable resampling (`kernels::resample`): antialiased bilinear/bicubic for f32, f64 and
//! uint8, and uint8 bilinear/bicubic without antialias. Every expected value comes from
//! PyTorch 2.11 on CPU (`torch.ops.aten._upsample_{bilinear,bicubic}2d_aa` and
//! `upsample_{bilinear,bicubic}2d`, uint8 through the AVX2 kernel, `ATEN_CPU_CAPABILITY=avx2`,
//! which agrees with the generic kernel on all of these); uint8 must match exactly, floats to
//! 1e-5 (the literals are rounded to 6 decimals).

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::kernels::resample::separable_resample;
use trtfx_exec::kernels::upsample::InterpMode::{self, Cubic, Linear};
use trtfx_exec::{DType, Tensor};
use trtfx_ir::parse_program;

fn u8t(v: &[u8], s: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
}

fn f32t(v: &[f64], s: &[usize]) -> Tensor {
    Tensor::from_vec(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), s.to_vec()).unwrap()
}

/// `.default`-style call: an explicit size and per-axis scales.
fn sized(
    x: &Tensor,
    size: [i64; 2],
    scales: [Option<f64>; 2],
    mode: InterpMode,
    align: bool,
    aa: bool,
) -> Tensor {
    separable_resample("test", x, Some(&size), &scales, mode, align, aa).unwrap()
}

fn check_u8(y: &Tensor, want: &[u8], shape: &[usize]) {
    assert_eq!(y.dtype(), DType::U8);
    assert_eq!(y.shape(), shape);
    assert_eq!(y.to_vec::<u8>(), want);
}

fn check_close(y: &Tensor, want: &[f64], shape: &[usize]) {
    assert_eq!(y.shape(), shape);
    let got = y.to_f64_vec();
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-5, "element {i}: got {g}, want {w}");
    }
}

#[test]
fn u8_antialias_bilinear_downscale() {
    let x = u8t(
        &[
            106, 152, 249, 131, 184, 200, 0, 21, 253, 147, 202, 107, 249, 169, 138, 149, 119, 166,
            224, 148, 172, 93, 167, 142,
        ],
        &[1, 1, 4, 6],
    );
    let y = sized(&x, [2, 3], [None, None], Linear, false, true);
    check_u8(&y, &[110, 176, 164, 171, 147, 146], &[1, 1, 2, 3]);
}

#[test]
fn u8_antialias_bicubic_downscale_two_channels() {
    let x = u8t(
        &[
            248, 26, 81, 218, 150, 66, 2, 191, 60, 129, 179, 90, 69, 104, 110, 97, 157, 106, 152,
            251, 62, 7, 248, 171, 33, 123, 79, 176, 37, 20, 94, 49, 149, 127, 206, 244, 28, 119,
            54, 0, 192, 233, 18, 116, 191, 165, 184, 184, 199, 165, 253, 174, 33, 113, 1, 85, 117,
            119, 202, 235,
        ],
        &[1, 2, 6, 5],
    );
    let y = sized(&x, [3, 2], [None, None], Cubic, false, true);
    check_u8(
        &y,
        &[94, 128, 109, 136, 105, 111, 110, 101, 172, 127, 142, 132],
        &[1, 2, 3, 2],
    );
}

#[test]
fn u8_bilinear_upscale_both_align_modes() {
    let x = u8t(&[124, 228, 99, 219, 144, 255, 80, 160, 144], &[1, 1, 3, 3]);
    let y = sized(&x, [5, 4], [None, None], Linear, false, false);
    check_u8(
        &y,
        &[
            124, 189, 180, 99, 162, 182, 182, 161, 219, 172, 186, 255, 136, 147, 167, 188, 80, 130,
            154, 144,
        ],
        &[1, 1, 5, 4],
    );
    let y = sized(&x, [5, 4], [None, None], Linear, true, false);
    check_u8(
        &y,
        &[
            124, 193, 185, 99, 172, 181, 183, 177, 219, 169, 181, 255, 150, 151, 168, 200, 80, 133,
            155, 144,
        ],
        &[1, 1, 5, 4],
    );
}

#[test]
fn u8_bicubic_upscale_clamps_overshoot() {
    let x = u8t(
        &[0, 255, 0, 255, 255, 0, 255, 0, 0, 0, 255, 255],
        &[1, 1, 3, 4],
    );
    let y = sized(&x, [6, 7], [None, None], Cubic, false, false);
    check_u8(
        &y,
        &[
            0, 98, 255, 128, 0, 157, 255, 67, 119, 196, 128, 59, 136, 188, 224, 157, 60, 128, 195,
            98, 31, 224, 123, 0, 128, 255, 132, 31, 67, 36, 0, 128, 255, 219, 188, 0, 0, 0, 128,
            255, 255, 255,
        ],
        &[1, 1, 6, 7],
    );
}

#[test]
fn u8_scale_factors_give_size_and_mapping() {
    // `.vec` with scale_factors [0.5, 1.5]: the output is floor(4 * s).
    let x = u8t(
        &[
            242, 18, 75, 183, 96, 223, 141, 165, 158, 48, 189, 33, 52, 241, 252, 242,
        ],
        &[1, 1, 4, 4],
    );
    let y =
        separable_resample("t", &x, None, &[Some(0.5), Some(1.5)], Linear, false, true).unwrap();
    check_u8(
        &y,
        &[167, 139, 112, 118, 137, 154, 104, 130, 165, 200, 175, 141],
        &[1, 1, 2, 6],
    );
    // `.default` with an explicit scales_h that differs from size / input; W is unchanged.
    let x = u8t(&[56, 104, 39, 29, 160, 176, 9, 33, 239, 247], &[1, 1, 5, 2]);
    let y = sized(&x, [2, 2], [Some(0.3), None], Linear, false, false);
    check_u8(&y, &[59, 54, 239, 247], &[1, 1, 2, 2]);
}

#[test]
fn u8_one_pixel_outputs() {
    let x = u8t(
        &[
            2, 156, 36, 90, 232, 172, 176, 59, 202, 182, 240, 228, 91, 241, 21, 113,
        ],
        &[1, 1, 4, 4],
    );
    check_u8(
        &sized(&x, [1, 1], [None, None], Linear, false, true),
        &[150],
        &[1, 1, 1, 1],
    );
    // Width 1 throughout, only H resized.
    let x = u8t(&[188, 216, 55, 11, 212, 138], &[1, 1, 6, 1]);
    check_u8(
        &sized(&x, [3, 1], [None, None], Linear, false, true),
        &[181, 78, 152],
        &[1, 1, 3, 1],
    );
}

#[test]
fn f32_antialias_bilinear_downscale() {
    let x = f32t(
        &[
            1.1813240051269531,
            0.749763011932373,
            1.4698725938796997,
            -0.7927440404891968,
            1.054685354232788,
            1.2911229133605957,
            0.15998074412345886,
            1.1808812618255615,
            -0.12418173998594284,
            0.9562766551971436,
            -0.11481881886720657,
            -0.4096315801143646,
            -0.03513122349977493,
            -0.5313589572906494,
            0.07762913405895233,
            -1.1600806713104248,
            1.2003782987594604,
            -0.10646245628595352,
            -0.7082407474517822,
            -0.6555156111717224,
            -1.7448302507400513,
            -1.0484509468078613,
            0.32687434554100037,
            2.269596576690674,
            -1.2888683080673218,
            2.35880970954895,
            1.4992918968200684,
            -0.35192355513572693,
            -0.9714972376823425,
            -1.576499342918396,
            -0.6823283433914185,
            0.6351849436759949,
            -0.025467637926340103,
            -0.3331815004348755,
            1.9829663038253784,
        ],
        &[1, 1, 5, 7],
    );
    let y = sized(&x, [2, 3], [None, None], Linear, false, true);
    assert_eq!(y.dtype(), DType::F32);
    check_close(
        &y,
        &[0.534509, 0.175127, -0.047048, -0.290981, 0.262191, 0.343124],
        &[1, 1, 2, 3],
    );
}

#[test]
fn f32_antialias_bicubic_upscale_align_corners() {
    let x = f32t(
        &[
            -0.01992894522845745,
            -1.0871672630310059,
            0.09803798794746399,
            0.6367725729942322,
            -0.4028051793575287,
            0.46234405040740967,
            -1.8758429288864136,
            -0.6142013669013977,
            0.19947518408298492,
        ],
        &[1, 1, 3, 3],
    );
    let y = sized(&x, [5, 5], [None, None], Cubic, true, true);
    check_close(
        &y,
        &[
            0.01651, -0.30745, -0.99412, -0.952416, -0.187819, 0.257873, -0.076035, -0.783738,
            -0.779905, -0.065042, 0.770236, 0.414986, -0.33784, -0.414496, 0.195089, 0.172272,
            0.007196, -0.34279, -0.254746, 0.25976, -1.457456, -1.245826, -0.797936, -0.321643,
            0.120473,
        ],
        &[1, 1, 5, 5],
    );
}

#[test]
fn f32_antialias_bicubic_scale_factors() {
    let x = f32t(
        &[
            1.1798197031021118,
            1.3848446607589722,
            -0.5435452461242676,
            0.258341521024704,
            -1.6865792274475098,
            1.0969147682189941,
            1.4244440793991089,
            -3.0016984939575195,
            -0.06986608356237411,
            0.5773621797561646,
            -0.9582129716873169,
            0.8553114533424377,
            -1.2185438871383667,
            -2.3221194744110107,
            0.5772750973701477,
            1.0630977153778076,
            -0.16845592856407166,
            -1.21348237991333,
            -0.8823569416999817,
            -1.7305914163589478,
        ],
        &[1, 1, 4, 5],
    );
    let y = separable_resample("t", &x, None, &[Some(0.6), Some(1.7)], Cubic, false, true).unwrap();
    check_close(
        &y,
        &[
            1.122999, 1.376028, 1.487837, -0.414949, -1.594693, -0.259979, 0.01897, -0.625405,
            -0.127301, 0.29715, 0.748389, -0.609688, -1.795419, -1.7448, -1.018474, 0.022878,
        ],
        &[1, 1, 2, 8],
    );
}

#[test]
fn f32_and_f64_small_outputs() {
    let x = f32t(
        &[
            -0.7877308130264282,
            0.005126106087118387,
            -1.6722396612167358,
            0.8698839545249939,
            -2.2548205852508545,
            -0.4953182339668274,
            -0.536687433719635,
            -0.21553468704223633,
            -1.1236783266067505,
            -0.5076586604118347,
            0.07000221312046051,
            0.08582139760255814,
        ],
        &[1, 1, 3, 4],
    );
    check_close(
        &sized(&x, [1, 1], [None, None], Linear, false, true),
        &[-0.581853],
        &[1, 1, 1, 1],
    );
    let x = Tensor::from_vec(
        vec![
            -0.133597752790137,
            0.07415462285557338,
            0.42756387867522866,
            -1.0456738238316705,
            -0.10593185545705877,
            -1.0817305131421489,
            -0.48980184433034124,
            -0.4970609964599383,
            -0.10154365089642894,
            -1.6616413371274126,
            -0.27531364577038053,
            -0.4868895175243608,
            2.050007503467203,
            -0.362795224142546,
            0.16147448718356058,
            -0.27714190894068813,
            1.1105359732238647,
            0.5781094284860142,
            0.5289514911681577,
            0.3118613112905395,
            -0.059997864302045525,
            0.9306620981285142,
            -0.692977157910405,
            -1.495566886270374,
        ],
        vec![1, 1, 4, 6],
    )
    .unwrap();
    let y = sized(&x, [3, 2], [None, None], Cubic, false, true);
    assert_eq!(y.dtype(), DType::F64);
    check_close(
        &y,
        &[
            -0.175107, -0.665648, -0.062217, -0.097583, 0.455675, -0.144395,
        ],
        &[1, 1, 3, 2],
    );
}

#[test]
fn unchanged_shape_is_a_copy_and_empty_batch_is_empty() {
    let x = u8t(&[1, 2, 3, 4], &[1, 1, 2, 2]);
    // ATen copies when the shape does not change, whatever the scales.
    let y = sized(&x, [2, 2], [Some(3.0), Some(0.5)], Cubic, false, true);
    check_u8(&y, &[1, 2, 3, 4], &[1, 1, 2, 2]);
    let e = Tensor::zeros(&[0, 3, 4, 4], DType::F32);
    let y = sized(&e, [2, 3], [None, None], Linear, false, true);
    assert_eq!(y.shape(), &[0, 3, 2, 3]);
}

#[test]
fn bad_inputs_are_errors() {
    let x = u8t(&[1, 2, 3, 4], &[1, 1, 2, 2]);
    let call = |x: &Tensor, size: Option<&[i64]>, scales: &[Option<f64>]| {
        separable_resample("op", x, size, scales, Linear, false, true)
    };
    // Zero or negative output sizes.
    assert!(call(&x, Some(&[0, 2]), &[None, None]).is_err());
    assert!(call(&x, Some(&[2, -1]), &[None, None]).is_err());
    // A scale that rounds the size down to zero.
    assert!(call(&x, None, &[Some(0.1), Some(1.0)]).is_err());
    // Neither a size nor scales.
    assert!(call(&x, None, &[None, None]).is_err());
    // A size of the wrong length, an input of the wrong rank.
    assert!(call(&x, Some(&[2]), &[None, None]).is_err());
    assert!(call(
        &u8t(&[1, 2, 3, 4], &[1, 2, 2]),
        Some(&[2, 2]),
        &[None, None]
    )
    .is_err());
    // An empty spatial input.
    let e = Tensor::zeros(&[1, 1, 0, 3], DType::F32);
    assert!(call(&e, Some(&[2, 2]), &[None, None]).is_err());
    // Dtypes PyTorch's CPU kernel refuses.
    let h = Tensor::zeros(&[1, 1, 2, 2], DType::F16);
    assert!(call(&h, Some(&[3, 3]), &[None, None]).is_err());
    let i = Tensor::zeros(&[1, 1, 2, 2], DType::I32);
    assert!(call(&i, Some(&[3, 3]), &[None, None]).is_err());
    // Nearest is not a separable filter mode.
    assert!(separable_resample(
        "op",
        &x,
        Some(&[3, 3]),
        &[None, None],
        InterpMode::Nearest,
        false,
        true
    )
    .is_err());
}

#[test]
fn explicit_scale_past_the_input_reads_nothing() {
    // scales_w = 0.1 maps output column 9 to input x = 95: the tap range is empty (no read
    // out of bounds); every column past the input is zero.
    let x = u8t(&[10, 20, 30, 40], &[1, 1, 1, 4]);
    let y = sized(&x, [1, 10], [None, Some(0.1)], Linear, false, true);
    assert_eq!(y.shape(), &[1, 1, 1, 10]);
    assert_eq!(y.to_vec::<u8>()[9], 0);
    let x = f32t(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 1, 4]);
    let y = sized(&x, [1, 10], [None, Some(0.1)], Cubic, false, true);
    assert_eq!(y.to_f64_vec()[9], 0.0);
}

fn run(src: &str, input: Tensor) -> Tensor {
    let p = parse_program(src).unwrap_or_else(|e| panic!("{e}"));
    Executor::new(&p)
        .run(&[Value::Tensor(input)])
        .unwrap_or_else(|e| panic!("{e}"))[0]
        .as_tensor()
        .expect("tensor output")
        .clone()
}

#[test]
fn dispatch_routes_uint8_and_reads_scales() {
    // torch.ops.aten.upsample_bilinear2d.vec(x, None, False, [1.5, 0.5]) and
    // .default(x, [3, 2], False, 1.5, 0.5), x = [[1, 2, 3, 4], [5, 6, 7, 8]] as uint8.
    let x = u8t(&[1, 2, 3, 4, 5, 6, 7, 8], &[1, 1, 2, 4]);
    let vec = run(
        r#"input "x": u8[1,1,2,4]
graph @main(%x: u8[1,1,2,4] = user "x") -> (user) {
  %y: u8[1,1,3,2] = aten.upsample_bilinear2d.vec(%x, None, false, [1.5, 0.5])
  output (%y)
}"#,
        x.clone(),
    );
    check_u8(&vec, &[2, 4, 4, 6, 6, 8], &[1, 1, 3, 2]);
    let default = run(
        r#"input "x": u8[1,1,2,4]
graph @main(%x: u8[1,1,2,4] = user "x") -> (user) {
  %y: u8[1,1,3,2] = aten.upsample_bilinear2d.default(%x, [3, 2], false, 1.5, 0.5)
  output (%y)
}"#,
        x,
    );
    check_u8(&default, &[2, 4, 4, 6, 6, 8], &[1, 1, 3, 2]);
}

#[test]
fn dispatch_runs_the_antialiased_op() {
    // torch.ops.aten._upsample_bilinear2d_aa.default(x, [1, 1], False) on the 4x4 of
    // `u8_one_pixel_outputs`.
    let x = u8t(
        &[
            2, 156, 36, 90, 232, 172, 176, 59, 202, 182, 240, 228, 91, 241, 21, 113,
        ],
        &[1, 1, 4, 4],
    );
    let y = run(
        r#"input "x": u8[1,1,4,4]
graph @main(%x: u8[1,1,4,4] = user "x") -> (user) {
  %y: u8[1,1,1,1] = aten._upsample_bilinear2d_aa.default(%x, [1, 1], false)
  output (%y)
}"#,
        x,
    );
    check_u8(&y, &[150], &[1, 1, 1, 1]);
}

#[test]
fn dispatch_bicubic_aa_vec_and_its_argument_check() {
    // torch.ops.aten._upsample_bicubic2d_aa.vec(x, None, False, [0.5, 0.75]) on the 4x4 of
    // `u8_one_pixel_outputs`; giving both a size and scales is an error, as in PyTorch.
    let x = u8t(
        &[
            2, 156, 36, 90, 232, 172, 176, 59, 202, 182, 240, 228, 91, 241, 21, 113,
        ],
        &[1, 1, 4, 4],
    );
    let y = run(
        r#"input "x": u8[1,1,4,4]
graph @main(%x: u8[1,1,4,4] = user "x") -> (user) {
  %y: u8[1,1,2,3] = aten._upsample_bicubic2d_aa.vec(%x, None, false, [0.5, 0.75])
  output (%y)
}"#,
        x.clone(),
    );
    check_u8(&y, &[139, 147, 98, 178, 175, 151], &[1, 1, 2, 3]);
    let p = parse_program(
        r#"input "x": u8[1,1,4,4]
graph @main(%x: u8[1,1,4,4] = user "x") -> (user) {
  %y: u8[1,1,2,3] = aten._upsample_bicubic2d_aa.vec(%x, [2, 3], false, [0.5, 0.75])
  output (%y)
}"#,
    )
    .unwrap();
    let err = Executor::new(&p).run(&[Value::Tensor(x)]).unwrap_err();
    assert!(err.to_string().contains("exactly one"), "{err}");
}
