//! The `grid_sample` layer (`IGridSampleLayer`): its shape and type rule, and its emulation
//! against values worked out by hand from TensorRT's (ONNX's) GridSample definition and against
//! properties every mode must have (identity grids, constant inputs, mirror symmetry).

use trtfx_backend_trt::emulator::emulate;
use trtfx_backend_trt::network::*;
use trtfx_backend_trt::RecordedNetwork;
use trtfx_exec::Tensor;

use ResizeMode::{Cubic, Linear, Nearest};
use SliceMode::{Clamp, Fill, Reflect};

const MODES: [ResizeMode; 3] = [Nearest, Linear, Cubic];
/// (grid x, grid y), mode, align_corners, sample mode, expected value.
type PointCase = ((f32, f32), ResizeMode, bool, SliceMode, f32);
const SAMPLES: [SliceMode; 3] = [Fill, Clamp, Reflect];

/// Tiny deterministic RNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn f(&mut self, lo: f32, hi: f32) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let u = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * u
    }
    fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.f(lo, hi)).collect()
    }
}

fn dims(s: &[usize]) -> Vec<i64> {
    s.iter().map(|&d| d as i64).collect()
}

/// Emulates one grid sample of `x` (`xs`) at `grid` (`gs`).
fn sample(
    x: &[f32],
    xs: &[usize],
    grid: &[f32],
    gs: &[usize],
    mode: ResizeMode,
    align: bool,
    sm: SliceMode,
) -> Vec<f32> {
    let mut n = RecordedNetwork::new();
    let xi = n.add_input("x", TrtDataType::Float, &dims(xs)).unwrap();
    let gi = n.add_input("g", TrtDataType::Float, &dims(gs)).unwrap();
    let y = n.add_grid_sample(xi, gi, mode, align, sm).unwrap();
    n.mark_output(y, "y").unwrap();
    let inputs = vec![
        ("x", Tensor::from_vec(x.to_vec(), xs.to_vec()).unwrap()),
        ("g", Tensor::from_vec(grid.to_vec(), gs.to_vec()).unwrap()),
    ];
    let out = emulate(&n, &inputs).unwrap().remove(0).1;
    out.to_vec::<f32>()
}

fn close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}: element {i}: {g} vs {w}");
    }
}

#[test]
fn shape_rule_and_refusals() {
    let mut n = RecordedNetwork::new();
    let f = TrtDataType::Float;
    let x = n.add_input("x", f, &[2, 3, 5, 7]).unwrap();
    let g = n.add_input("g", f, &[2, 4, 6, 2]).unwrap();
    let y = n.add_grid_sample(x, g, Linear, false, Fill).unwrap();
    assert_eq!(n.tensor_desc(y).unwrap().dims, [2, 3, 4, 6]);
    // A dynamic batch takes the grid's extent.
    let xd = n.add_input("xd", f, &[-1, 3, 5, 7]).unwrap();
    let y = n.add_grid_sample(xd, g, Nearest, true, Clamp).unwrap();
    assert_eq!(n.tensor_desc(y).unwrap().dims, [2, 3, 4, 6]);
    // 3-D: [N, C, D, H, W] with a grid of (x, y, z).
    let x3 = n.add_input("x3", f, &[1, 2, 3, 4, 5]).unwrap();
    let g3 = n.add_input("g3", f, &[1, 6, 7, 8, 3]).unwrap();
    let y = n.add_grid_sample(x3, g3, Linear, false, Reflect).unwrap();
    assert_eq!(n.tensor_desc(y).unwrap().dims, [1, 2, 6, 7, 8]);

    let gi = n
        .add_input("gi", TrtDataType::Int32, &[2, 4, 6, 2])
        .unwrap();
    let gh = n.add_input("gh", TrtDataType::Half, &[2, 4, 6, 2]).unwrap();
    let g3c = n.add_input("g3c", f, &[2, 4, 6, 3]).unwrap();
    let gb = n.add_input("gb", f, &[3, 4, 6, 2]).unwrap();
    let xi = n
        .add_input("xi", TrtDataType::Int32, &[2, 3, 5, 7])
        .unwrap();
    let x3d = n.add_input("x3d", f, &[2, 3, 5]).unwrap();
    let cases = [
        (n.add_grid_sample(x, gi, Linear, false, Fill), "takes"),
        (n.add_grid_sample(xi, g, Linear, false, Fill), "takes"),
        (n.add_grid_sample(x, gh, Linear, false, Fill), "one type"),
        (
            n.add_grid_sample(x, g3c, Linear, false, Fill),
            "coordinates",
        ),
        (n.add_grid_sample(x, gb, Linear, false, Fill), "batch"),
        (n.add_grid_sample(x3d, g, Linear, false, Fill), "rank 4"),
        (n.add_grid_sample(x, g3, Linear, false, Fill), "rank 4"),
        (
            n.add_grid_sample(x, g, Linear, false, SliceMode::Wrap),
            "only Fill",
        ),
        (
            n.add_grid_sample(x, g, Linear, false, SliceMode::StrictBounds),
            "only Fill",
        ),
        (n.add_grid_sample(x3, g3, Cubic, false, Fill), "bicubic"),
    ];
    for (i, (r, want)) in cases.into_iter().enumerate() {
        let e = r
            .expect_err(&format!("case {i} must be refused"))
            .to_string();
        assert!(
            e.contains("grid_sample") && e.contains(want),
            "case {i}: {e}"
        );
    }
}

#[test]
fn printed_form_names_the_modes() {
    let mut n = RecordedNetwork::new();
    let x = n.add_input("x", TrtDataType::Float, &[1, 1, 2, 2]).unwrap();
    let g = n.add_input("g", TrtDataType::Float, &[1, 1, 1, 2]).unwrap();
    n.add_grid_sample(x, g, Cubic, true, Reflect).unwrap();
    assert_eq!(
        n.layers.last().unwrap().op.render(),
        "grid_sample(%0, %1, mode=Cubic, align_corners=true, sample_mode=Reflect)"
    );
}

/// Values worked out by hand on the 2x2 image [[1, 2], [3, 4]].
#[test]
fn hand_computed_points() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let xs = [1, 1, 2, 2];
    let cases: &[PointCase] = &[
        // The center is the mean (both conventions put it at element position 0.5).
        ((0.0, 0.0), Linear, false, Fill, 2.5),
        ((0.0, 0.0), Linear, true, Fill, 2.5),
        // Aligned corners: -1 is the center of element 0.
        ((-1.0, -1.0), Linear, true, Fill, 1.0),
        ((1.0, -1.0), Linear, true, Fill, 2.0),
        // Unaligned: -1 is the outer edge, position -0.5: a quarter of element 0 with zeros,
        // element 0 itself when clamped or mirrored.
        ((-1.0, -1.0), Linear, false, Fill, 0.25),
        ((-1.0, -1.0), Linear, false, Clamp, 1.0),
        ((-1.0, -1.0), Linear, false, Reflect, 1.0),
        // x = 0.5 (aligned): position 0.75 in x, row 0: 1 * 0.25 + 2 * 0.75.
        ((0.5, -1.0), Linear, true, Fill, 1.75),
        // Nearest: position (0.75, 0.25) rounds to element (x 1, y 0).
        ((0.5, -0.5), Nearest, true, Fill, 2.0),
        // Far outside: zeros, the corner element, or (aligned, period 2) a mirror image.
        ((5.0, 5.0), Linear, true, Fill, 0.0),
        ((5.0, 5.0), Linear, true, Clamp, 4.0),
        // Aligned x = -3 is position -1, mirrored about 0 to position 1 (x), y = 3 is
        // position 2, mirrored about 1 to 0: element (row 0, col 1).
        ((-3.0, 3.0), Linear, true, Reflect, 2.0),
        // Cubic at a sample point reads the element (Keys' weights are 1, 0, 0, 0).
        ((1.0, 1.0), Cubic, true, Fill, 4.0),
        // Cubic at the center with zero padding: per dim the weights at t = 0.5 are
        // w(1.5) = -0.09375 and w(0.5) = 0.59375 for taps -1, 0, 1, 2; elements -1 and 2 are
        // zero, so the result is (0.59375^2) * (1 + 2 + 3 + 4).
        ((0.0, 0.0), Cubic, true, Fill, 0.59375 * 0.59375 * 10.0),
        // With clamping the weights of each dim sum to 1 on two elements: the mean again.
        ((0.0, 0.0), Cubic, true, Clamp, 2.5),
    ];
    for (i, &((gx, gy), mode, align, sm, want)) in cases.iter().enumerate() {
        let got = sample(&x, &xs, &[gx, gy], &[1, 1, 1, 2], mode, align, sm);
        close(&got, &[want], 1e-5, &format!("case {i}"));
    }
}

/// The aligned identity grid reads every element back exactly, in every mode, 2-D and 3-D.
#[test]
fn identity_grid_reproduces_the_input() {
    let mut rng = Rng(7);
    let (h, w) = (3usize, 4usize);
    let x = rng.vec(2 * 3 * h * w, -1.0, 1.0);
    let xs = [2, 3, h, w];
    let mut grid = Vec::new();
    for _ in 0..2 {
        for i in 0..h {
            for j in 0..w {
                grid.push(2.0 * j as f32 / (w - 1) as f32 - 1.0);
                grid.push(2.0 * i as f32 / (h - 1) as f32 - 1.0);
            }
        }
    }
    for mode in MODES {
        for sm in SAMPLES {
            let got = sample(&x, &xs, &grid, &[2, h, w, 2], mode, true, sm);
            close(&got, &x, 1e-6, &format!("{mode:?} {sm:?}"));
        }
    }
    // Unaligned: element centers sit at (2i + 1) / e - 1.
    let mut grid = Vec::new();
    for _ in 0..2 {
        for i in 0..h {
            for j in 0..w {
                grid.push((2 * j + 1) as f32 / w as f32 - 1.0);
                grid.push((2 * i + 1) as f32 / h as f32 - 1.0);
            }
        }
    }
    for mode in MODES {
        let got = sample(&x, &xs, &grid, &[2, h, w, 2], mode, false, Fill);
        close(&got, &x, 1e-5, &format!("unaligned {mode:?}"));
    }
    // 3-D, trilinear and nearest.
    let (d, h, w) = (2usize, 3usize, 2usize);
    let x = rng.vec(d * h * w, -1.0, 1.0);
    let mut grid = Vec::new();
    for k in 0..d {
        for i in 0..h {
            for j in 0..w {
                grid.push(2.0 * j as f32 / (w - 1) as f32 - 1.0);
                grid.push(2.0 * i as f32 / (h - 1) as f32 - 1.0);
                grid.push(2.0 * k as f32 / (d - 1) as f32 - 1.0);
            }
        }
    }
    for mode in [Nearest, Linear] {
        let got = sample(
            &x,
            &[1, 1, d, h, w],
            &grid,
            &[1, d, h, w, 3],
            mode,
            true,
            Clamp,
        );
        close(&got, &x, 1e-6, &format!("3-D {mode:?}"));
    }
}

/// Border and mirror sampling of a constant image give the constant anywhere (the weights of
/// each dim sum to 1 and every tap reads an element); zeros padding gives 0 far outside.
#[test]
fn constant_image_and_far_outside() {
    let mut rng = Rng(11);
    let xs = [1, 2, 3, 5];
    let x = vec![0.75f32; 30];
    let gs = [1, 4, 6, 2];
    let grid = rng.vec(48, -4.0, 4.0);
    for mode in MODES {
        for align in [false, true] {
            for sm in [Clamp, Reflect] {
                let got = sample(&x, &xs, &grid, &gs, mode, align, sm);
                close(&got, &[0.75; 48], 1e-5, &format!("{mode:?} {align} {sm:?}"));
            }
            let far: Vec<f32> = grid.iter().map(|g| g.signum() * 3.0 + g).collect();
            let got = sample(&x, &xs, &far, &gs, mode, align, Fill);
            close(&got, &[0.0; 48], 0.0, &format!("far {mode:?} {align}"));
        }
    }
}

/// Mirroring is about the edges -1 and 1 of the normalized range (TensorRT's "reflected by
/// the input's borders until in bounds"): `g`, `-2 - g` and `2 - g` sample the same value.
/// Clamping makes everything beyond an edge read like the edge itself (aligned corners).
#[test]
fn reflection_symmetry_and_clamp_saturation() {
    let mut rng = Rng(5);
    let xs = [1, 2, 4, 5];
    let x = rng.vec(40, -1.0, 1.0);
    let gs = [1, 3, 7, 2];
    let grid = rng.vec(42, -0.95, 0.95);
    for mode in [Linear, Cubic] {
        for align in [false, true] {
            let base = sample(&x, &xs, &grid, &gs, mode, align, Reflect);
            let low: Vec<f32> = grid.iter().map(|g| -2.0 - g).collect();
            let high: Vec<f32> = grid.iter().map(|g| 2.0 - g).collect();
            for (what, g) in [("-2 - g", low), ("2 - g", high)] {
                let got = sample(&x, &xs, &g, &gs, mode, align, Reflect);
                close(&got, &base, 1e-4, &format!("{mode:?} {align} {what}"));
            }
        }
    }
    let beyond: Vec<f32> = grid.iter().map(|g| g.signum() * (1.5 + g.abs())).collect();
    let edge: Vec<f32> = grid.iter().map(|g| g.signum()).collect();
    for mode in [Nearest, Linear] {
        let a = sample(&x, &xs, &beyond, &gs, mode, true, Clamp);
        let b = sample(&x, &xs, &edge, &gs, mode, true, Clamp);
        close(&a, &b, 1e-6, &format!("clamp {mode:?}"));
    }
}
