//! Neural-network layers: convolution, pooling, normalization, attention, interpolation.

use super::{one, three, two, KResult, KernelTable};
use crate::interp::{CallArgs, RunResult, Value};
use crate::kernels::{attention, conv, grid_sample, norm, pool, resample, upsample};

fn conv_nd(c: &CallArgs<'_>) -> KResult {
    one(
        conv::conv(
            c.tensor("input")?,
            c.tensor("weight")?,
            c.opt_tensor("bias")?,
            &c.ints("stride")?,
            &c.ints("padding")?,
            &c.ints("dilation")?,
            c.int("groups")?,
        ),
        c,
    )
}

fn conv_transpose_nd(c: &CallArgs<'_>) -> KResult {
    one(
        conv::conv_transpose(
            c.tensor("input")?,
            c.tensor("weight")?,
            c.opt_tensor("bias")?,
            &c.ints("stride")?,
            &c.ints("padding")?,
            &c.ints("output_padding")?,
            c.int("groups")?,
            &c.ints("dilation")?,
        ),
        c,
    )
}

/// The `.vec` overloads of upsampling take `input`, an optional size and optional scales;
/// the others `self` and a size.
type InterpArgs<'c> = (&'c crate::Tensor, Option<Vec<i64>>, Option<Vec<f64>>);

fn interp_args<'c>(c: &'c CallArgs<'_>) -> RunResult<InterpArgs<'c>> {
    if c.has("scale_factors") {
        Ok((
            c.tensor("input")?,
            c.opt_ints("output_size")?,
            c.opt_floats("scale_factors")?,
        ))
    } else {
        Ok((c.tensor("self")?, Some(c.ints("output_size")?), None))
    }
}

fn interp(mode: upsample::InterpMode, align: bool) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| {
        let (x, size, scales) = interp_args(c)?;
        let align = align && c.bool("align_corners")?;
        one(
            upsample::interpolate(x, size.as_deref(), scales.as_deref(), mode, align),
            c,
        )
    }
}

/// A 2-d separable resampling call's `(input, output_size, per-axis scales)`: `.vec` takes
/// `input`, an optional size and optional `scale_factors` (exactly one of them, as ATen checks);
/// `.default` takes `self`, a size and optional `scales_h` / `scales_w`.
type ResampleArgs<'c> = (&'c crate::Tensor, Option<Vec<i64>>, Vec<Option<f64>>);

fn resample_args<'c>(c: &'c CallArgs<'_>) -> RunResult<ResampleArgs<'c>> {
    if c.has("scale_factors") {
        let size = c.opt_ints("output_size")?;
        let scales = c.opt_floats("scale_factors")?;
        match (size, scales) {
            (Some(_), Some(_)) | (None, None) => {
                Err(c.err("must specify exactly one of output_size and scale_factors".to_string()))
            }
            (Some(s), None) => {
                let n = s.len();
                Ok((c.tensor("input")?, Some(s), vec![None; n]))
            }
            (None, Some(f)) => Ok((c.tensor("input")?, None, f.into_iter().map(Some).collect())),
        }
    } else {
        Ok((
            c.tensor("self")?,
            Some(c.ints("output_size")?),
            vec![c.opt_float("scales_h")?, c.opt_float("scales_w")?],
        ))
    }
}

/// `_upsample_{bilinear,bicubic}2d_aa`: always the separable kernel.
fn resample_aa(
    op: &'static str,
    mode: upsample::InterpMode,
) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| {
        let (x, size, scales) = resample_args(c)?;
        let r = resample::separable_resample(
            op,
            x,
            size.as_deref(),
            &scales,
            mode,
            c.bool("align_corners")?,
            true,
        );
        one(r, c)
    }
}

/// `upsample_{bilinear,bicubic}2d`: uint8 goes through the separable fixed-point kernel (as in
/// ATen), the float dtypes through the non-separable one.
fn interp_2d(
    op: &'static str,
    mode: upsample::InterpMode,
) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    let float = interp(mode, true);
    move |c| {
        let x = c.tensor(if c.has("scale_factors") {
            "input"
        } else {
            "self"
        })?;
        if x.dtype() != crate::DType::U8 {
            return float(c);
        }
        let (x, size, scales) = resample_args(c)?;
        let r = resample::separable_resample(
            op,
            x,
            size.as_deref(),
            &scales,
            mode,
            c.bool("align_corners")?,
            false,
        );
        one(r, c)
    }
}

pub(crate) fn register(t: &mut KernelTable) {
    // ---- convolution
    t.add_all(
        &["aten.convolution.default", "aten._convolution.default"],
        |c| {
            one(
                conv::convolution(
                    c.tensor("input")?,
                    c.tensor("weight")?,
                    c.opt_tensor("bias")?,
                    &c.ints("stride")?,
                    &c.ints("padding")?,
                    &c.ints("dilation")?,
                    c.bool("transposed")?,
                    &c.ints("output_padding")?,
                    c.int("groups")?,
                ),
                c,
            )
        },
    );
    t.add_all(
        &[
            "aten.conv1d.default",
            "aten.conv2d.default",
            "aten.conv3d.default",
        ],
        conv_nd,
    );
    t.add_all(
        &[
            "aten.conv_transpose1d.default",
            "aten.conv_transpose2d.input",
            "aten.conv_transpose3d.input",
        ],
        conv_transpose_nd,
    );

    // ---- pooling
    for nd in 1..=3usize {
        t.add(&format!("aten.max_pool{nd}d.default"), move |c| {
            let x = c.tensor("self")?;
            one(
                pool::max_pool(
                    x,
                    nd,
                    &c.ints("kernel_size")?,
                    &c.ints("stride")?,
                    &c.ints("padding")?,
                    &c.ints("dilation")?,
                    c.bool("ceil_mode")?,
                ),
                c,
            )
        });
        t.add(
            &format!("aten.max_pool{nd}d_with_indices.default"),
            move |c| {
                let x = c.tensor("self")?;
                two(
                    pool::max_pool_with_indices(
                        x,
                        nd,
                        &c.ints("kernel_size")?,
                        &c.ints("stride")?,
                        &c.ints("padding")?,
                        &c.ints("dilation")?,
                        c.bool("ceil_mode")?,
                    ),
                    c,
                )
            },
        );
        t.add(&format!("aten.avg_pool{nd}d.default"), move |c| {
            let x = c.tensor("self")?;
            // `avg_pool1d` has no `divisor_override`.
            let divisor = if c.has("divisor_override") {
                c.opt_int("divisor_override")?
            } else {
                None
            };
            one(
                pool::avg_pool(
                    x,
                    nd,
                    &c.ints("kernel_size")?,
                    &c.ints("stride")?,
                    &c.ints("padding")?,
                    c.bool("ceil_mode")?,
                    c.bool("count_include_pad")?,
                    divisor,
                ),
                c,
            )
        });
        t.add(&format!("aten.adaptive_avg_pool{nd}d.default"), |c| {
            one(
                pool::adaptive_avg_pool(c.tensor("self")?, &c.ints("output_size")?),
                c,
            )
        });
        t.add(&format!("aten.adaptive_max_pool{nd}d.default"), |c| {
            two(
                pool::adaptive_max_pool(c.tensor("self")?, &c.ints("output_size")?),
                c,
            )
        });
    }
    t.add_all(
        &[
            "aten._adaptive_avg_pool2d.default",
            "aten._adaptive_avg_pool3d.default",
        ],
        |c| {
            one(
                pool::adaptive_avg_pool(c.tensor("self")?, &c.ints("output_size")?),
                c,
            )
        },
    );

    // ---- normalization
    t.add("aten.native_layer_norm.default", |c| {
        three(
            norm::native_layer_norm(
                c.tensor("input")?,
                &c.ints("normalized_shape")?,
                c.opt_tensor("weight")?,
                c.opt_tensor("bias")?,
                c.float("eps")?,
            ),
            c,
        )
    });
    t.add("aten.layer_norm.default", |c| {
        one(
            norm::layer_norm(
                c.tensor("input")?,
                &c.ints("normalized_shape")?,
                c.opt_tensor("weight")?,
                c.opt_tensor("bias")?,
                c.float("eps")?,
            ),
            c,
        )
    });
    t.add("aten._native_batch_norm_legit_no_training.default", |c| {
        three(
            norm::native_batch_norm_legit_no_training(
                c.tensor("input")?,
                c.opt_tensor("weight")?,
                c.opt_tensor("bias")?,
                c.tensor("running_mean")?,
                c.tensor("running_var")?,
                c.float("eps")?,
            ),
            c,
        )
    });
    t.add_all(
        &[
            "aten._native_batch_norm_legit.default",
            "aten.native_batch_norm.default",
        ],
        |c| {
            three(
                norm::native_batch_norm(
                    c.tensor("input")?,
                    c.opt_tensor("weight")?,
                    c.opt_tensor("bias")?,
                    c.opt_tensor("running_mean")?,
                    c.opt_tensor("running_var")?,
                    c.bool("training")?,
                    c.float("eps")?,
                ),
                c,
            )
        },
    );
    t.add("aten._native_batch_norm_legit.no_stats", |c| {
        three(
            norm::native_batch_norm(
                c.tensor("input")?,
                c.opt_tensor("weight")?,
                c.opt_tensor("bias")?,
                None,
                None,
                c.bool("training")?,
                c.float("eps")?,
            ),
            c,
        )
    });
    t.add("aten._native_batch_norm_legit_functional.default", |c| {
        let mut out = three(
            norm::native_batch_norm(
                c.tensor("input")?,
                c.opt_tensor("weight")?,
                c.opt_tensor("bias")?,
                c.opt_tensor("running_mean")?,
                c.opt_tensor("running_var")?,
                c.bool("training")?,
                c.float("eps")?,
            ),
            c,
        )?;
        // The functional variant also returns the (here unchanged) running stats.
        for n in ["running_mean", "running_var"] {
            out.push(c.get(n)?.cloned().unwrap_or(Value::None));
        }
        Ok(out)
    });
    t.add("aten.batch_norm.default", |c| {
        one(
            norm::batch_norm(
                c.tensor("input")?,
                c.opt_tensor("weight")?,
                c.opt_tensor("bias")?,
                c.opt_tensor("running_mean")?,
                c.opt_tensor("running_var")?,
                c.bool("training")?,
                c.float("eps")?,
            ),
            c,
        )
    });
    t.add("aten.native_group_norm.default", |c| {
        three(
            norm::native_group_norm(
                c.tensor("input")?,
                c.opt_tensor("weight")?,
                c.opt_tensor("bias")?,
                c.int("group")?,
                c.float("eps")?,
            ),
            c,
        )
    });
    t.add("aten.group_norm.default", |c| {
        one(
            norm::group_norm(
                c.tensor("input")?,
                c.int("num_groups")?,
                c.opt_tensor("weight")?,
                c.opt_tensor("bias")?,
                c.float("eps")?,
            ),
            c,
        )
    });
    t.add("aten.scaled_dot_product_attention.default", |c| {
        one(
            attention::scaled_dot_product_attention(
                c.tensor("query")?,
                c.tensor("key")?,
                c.tensor("value")?,
                c.opt_tensor("attn_mask")?,
                c.float("dropout_p")?,
                c.bool("is_causal")?,
                c.opt_float("scale")?,
                c.bool("enable_gqa")?,
            ),
            c,
        )
    });

    // ---- interpolation
    use upsample::InterpMode as M;
    // The resampling ops come as `.default` (per-dim scales) and `.vec` (a scale list): one
    // kernel reads both.
    fn add_default_and_vec(
        t: &mut KernelTable,
        base: &str,
        f: impl Fn(&CallArgs<'_>) -> KResult + Clone + Send + Sync + 'static,
    ) {
        t.add_all(
            &[
                format!("aten.{base}.default").as_str(),
                format!("aten.{base}.vec").as_str(),
            ],
            f,
        );
    }
    for nd in 1..=3 {
        for ov in ["default", "vec"] {
            t.add(
                &format!("aten.upsample_nearest{nd}d.{ov}"),
                interp(M::Nearest, false),
            );
            t.add(
                &format!("aten._upsample_nearest_exact{nd}d.{ov}"),
                interp(M::NearestExact, false),
            );
        }
    }
    for base in ["upsample_linear1d", "upsample_trilinear3d"] {
        add_default_and_vec(t, base, interp(M::Linear, true));
    }
    for (base, mode) in [
        ("upsample_bilinear2d", M::Linear),
        ("upsample_bicubic2d", M::Cubic),
    ] {
        add_default_and_vec(t, base, interp_2d(base, mode));
    }
    for (base, mode) in [
        ("_upsample_bilinear2d_aa", M::Linear),
        ("_upsample_bicubic2d_aa", M::Cubic),
    ] {
        add_default_and_vec(t, base, resample_aa(base, mode));
    }
    t.add_all(
        &[
            "aten.grid_sampler_2d.default",
            "aten.grid_sampler_3d.default",
            "aten.grid_sampler.default",
        ],
        |c| {
            one(
                grid_sample::grid_sampler(
                    c.tensor("input")?,
                    c.tensor("grid")?,
                    c.int("interpolation_mode")?,
                    c.int("padding_mode")?,
                    c.bool("align_corners")?,
                ),
                c,
            )
        },
    );
}
