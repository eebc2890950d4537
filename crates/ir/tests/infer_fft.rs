//! Inference of ATen's FFT primitives (`_fft_c2c`, `_fft_r2c`, `_fft_c2r`) and of the
//! `torch.fft` ops through their decompositions. The expected types are PyTorch's: the types
//! `torch.export` recorded for the OpInfo samples (`torch.fft.hfft2(x: f32[5,6,7], s=[3, 10],
//! dim=[1, 2], norm="ortho")` is `f32[5,3,10]`, and so on) and its meta functions.

mod infer_common;
use infer_common::*;
use trtfx_ir::Arg;

fn s(x: &str) -> Arg {
    Arg::Str(x.into())
}

#[test]
fn primitives() {
    let cases: Vec<(&str, &str, Vec<Arg>, &str)> = vec![
        // The complex transform keeps type and shape.
        (
            "aten._fft_c2c.default",
            "c64[5,3,6]",
            vec![v(0), ints(&[1]), Arg::Int(1), Arg::Bool(true)],
            "c64[5,3,6]",
        ),
        // One-sided r2c halves the last transformed dim (n/2 + 1), two-sided keeps it.
        (
            "aten._fft_r2c.default",
            "f32[4,7]",
            vec![v(0), ints(&[0, 1]), Arg::Int(0), Arg::Bool(true)],
            "c64[4,4]",
        ),
        (
            "aten._fft_r2c.default",
            "f64[6,4]",
            vec![v(0), ints(&[1, 0]), Arg::Int(2), Arg::Bool(true)],
            "c128[4,4]",
        ),
        (
            "aten._fft_r2c.default",
            "f32[4,7]",
            vec![v(0), ints(&[-1]), Arg::Int(0), Arg::Bool(false)],
            "c64[4,7]",
        ),
        // c2r sets the last transformed dim to last_dim_size and makes the real type.
        (
            "aten._fft_c2r.default",
            "c64[31]",
            vec![v(0), ints(&[0]), Arg::Int(2), Arg::Int(60)],
            "f32[60]",
        ),
        (
            "aten._fft_c2r.default",
            "c128[5,3,6]",
            vec![v(0), ints(&[1, 2]), Arg::Int(1), Arg::Int(10)],
            "f64[5,3,10]",
        ),
        (
            "aten._fft_c2r.default",
            "c64[s0,3]",
            vec![v(0), ints(&[0]), Arg::Int(0), Arg::Int(4)],
            "f32[4,3]",
        ),
    ];
    for (op, input, args, want) in cases {
        assert_eq!(show(op, &[input], args, vec![]), want, "{op} on {input}");
    }
}

#[test]
fn primitives_refuse_what_aten_refuses() {
    let c2c = show(
        "aten._fft_c2c.default",
        &["f32[4]"],
        vec![v(0), ints(&[0]), Arg::Int(0), Arg::Bool(true)],
        vec![],
    );
    assert!(
        c2c.contains("expects a complex input tensor, got f32"),
        "{c2c}"
    );
    let r2c = show(
        "aten._fft_r2c.default",
        &["i64[4]"],
        vec![v(0), ints(&[0]), Arg::Int(0), Arg::Bool(true)],
        vec![],
    );
    assert!(r2c.contains("floating point"), "{r2c}");
    let dup = show(
        "aten._fft_c2r.default",
        &["c64[4,4]"],
        vec![v(0), ints(&[1, -1]), Arg::Int(0), Arg::Int(6)],
        vec![],
    );
    assert!(dup.contains("FFT dims must be unique"), "{dup}");
    let n = show(
        "aten._fft_c2r.default",
        &["c64[4]"],
        vec![v(0), ints(&[0]), Arg::Int(0), Arg::Int(0)],
        vec![],
    );
    assert!(n.contains("Invalid number of data points (0)"), "{n}");
    let norm = show(
        "aten._fft_c2c.default",
        &["c64[4]"],
        vec![v(0), ints(&[0]), Arg::Int(5), Arg::Bool(true)],
        vec![],
    );
    assert!(norm.contains("normalization must be 0, 1 or 2"), "{norm}");
}

#[test]
fn torch_fft_through_decompositions() {
    let cases: Vec<(&str, &str, Vec<Arg>, &str)> = vec![
        // The OpInfo samples, as exported.
        ("aten.fft_hfft.default", "f32[31]", vec![v(0)], "f32[60]"),
        ("aten.fft_irfft.default", "bool[2]", vec![v(0)], "f32[2]"),
        (
            "aten.fft_hfft2.default",
            "f32[5,6,7]",
            vec![v(0), ints(&[3, 10]), ints(&[1, 2]), s("ortho")],
            "f32[5,3,10]",
        ),
        (
            "aten.fft_irfftn.default",
            "f32[5,6,7]",
            vec![v(0), ints(&[3, 10]), ints(&[1, 2]), s("ortho")],
            "f32[5,3,10]",
        ),
        (
            "aten.fft_irfft2.default",
            "i16[1,2]",
            vec![v(0)],
            "f32[1,2]",
        ),
        ("aten.fft_hfftn.default", "u8[2,2]", vec![v(0)], "f32[2,2]"),
        // n and s given: -1 keeps a size, and the last entry is the output length.
        (
            "aten.fft_irfft.default",
            "f64[5]",
            vec![v(0), Arg::Int(7)],
            "f64[7]",
        ),
        (
            "aten.fft_irfftn.default",
            "f32[4,5]",
            vec![v(0), ints(&[-1, 9])],
            "f32[4,9]",
        ),
        (
            "aten.fft_irfftn.default",
            "f32[4,5]",
            vec![v(0), ints(&[3, -1])],
            "f32[3,8]",
        ),
        // The transforms with complex results.
        ("aten.fft_fft.default", "i32[6]", vec![v(0)], "c64[6]"),
        ("aten.fft_rfft.default", "f64[6]", vec![v(0)], "c128[4]"),
        ("aten.fft_ihfft.default", "f32[7]", vec![v(0)], "c64[4]"),
        (
            "aten.fft_ifft.default",
            "c64[6]",
            vec![v(0), Arg::Int(4)],
            "c64[4]",
        ),
        (
            "aten.fft_rfft2.default",
            "f32[3,6,5]",
            vec![v(0)],
            "c64[3,6,3]",
        ),
        (
            "aten.fft_fftn.default",
            "f32[3,6,5]",
            vec![v(0), ints(&[8]), ints(&[0])],
            "c64[8,6,5]",
        ),
        (
            "aten.fft_ihfftn.default",
            "f32[3,6,5]",
            vec![v(0)],
            "c64[3,6,3]",
        ),
    ];
    for (op, input, args, want) in cases {
        assert_eq!(show(op, &[input], args, vec![]), want, "{op} on {input}");
    }
}

#[test]
fn torch_fft_refuses_what_aten_refuses() {
    let norm = show(
        "aten.fft_irfft.default",
        &["f32[5]"],
        vec![v(0), Arg::None, Arg::Int(-1), s("both")],
        vec![],
    );
    assert!(
        norm.contains("Invalid normalization mode: \"both\""),
        "{norm}"
    );
    let half = show("aten.fft_irfft.default", &["f16[5]"], vec![v(0)], vec![]);
    assert!(half.contains("Unsupported dtype"), "{half}");
    let one = show("aten.fft_irfft.default", &["f32[1]"], vec![v(0)], vec![]);
    assert!(one.contains("Invalid number of data points (0)"), "{one}");
    let rfft = show("aten.fft_rfft.default", &["c64[4]"], vec![v(0)], vec![]);
    assert!(rfft.contains("real input"), "{rfft}");
    let dims = show(
        "aten.fft_hfftn.default",
        &["f32[4,4]"],
        vec![v(0), ints(&[4, 4]), ints(&[0])],
        vec![],
    );
    assert!(dims.contains("same length"), "{dims}");
    let dynamic = show("aten.fft_irfft.default", &["f32[s0]"], vec![v(0)], vec![]);
    assert!(dynamic.contains("no static size"), "{dynamic}");
}
