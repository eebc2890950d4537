//! The `compile{...}` named pipeline: everything between an imported program and a backend's
//! engines, as registered passes, so `ir-opt opt --passes 'compile{...}'` runs (and prints,
//! times, verifies and reproduces) exactly what `trtfx::compile` does.
//!
//! ```text
//! compile{min-block-size=5,truncate-double=false,int64=native,small-int=int32,precision=f32}
//!   = default,
//!     partition{min-block-size=5,truncate-double=false,int64=native,small-int=int32},
//!     truncate-long-double{double=native,int64=native,small-int=int32},
//!     repair-types,
//!     autocast{precision=fp16,keep-f32=[...]}   (only when precision is not f32)
//!     outline-segments,
//!     build-engines            (when a backend registered it and engines=true)
//! ```

use crate::declare_options;
use crate::options::{OptionSet, OptionType};
use crate::passes::autocast::{AutocastOptions, Precision};
use crate::passes::truncate::{DoublePolicy, Int64Policy, SmallIntPolicy, TruncateOptions};
use crate::registry::PassRegistry;

/// The registered name.
pub const NAME: &str = "compile";

declare_options! {
    /// Options of the `compile` pipeline.
    pub struct CompileOptions {
        /// Backend id (empty: the registry's default backend).
        backend: String = "backend", String::new();
        /// Backend segments with fewer compute nodes fall back.
        min_block_size: usize = "min-block-size", 5;
        /// Operators forced to fallback.
        fallback_ops: Vec<String> = "fallback-ops", Vec::new();
        /// Fail unless every node goes to the backend.
        require_full_compilation: bool = "require-full-compilation", false;
        /// Run f64 computation in backend segments as f32.
        truncate_double: bool = "truncate-double", false;
        /// i64 in backend segments: `native`, `int32` or `fallback`.
        int64: Int64Policy = "int64", Int64Policy::Native;
        /// u8/i8/i16/u16 in backend segments: `int32` (widened, wraps repaired) or `native`.
        small_int: SmallIntPolicy = "small-int", SmallIntPolicy::Int32;
        /// Precision of f32 computation in backend segments (`autocast`): f32, fp16 or bf16.
        precision: Precision = "precision", Precision::F32;
        /// Operators `autocast` keeps in f32 besides its policy table.
        keep_f32: Vec<String> = "keep-f32", Vec::new();
        /// End with the backend's `build-engines` (off: stop after outlining).
        engines: bool = "engines", true;
        /// Let `build-engines` build plans (off: networks only).
        build_plans: bool = "build-plans", true;
    }
}

/// The pipeline text `compile{o}` expands to in `registry`.
pub fn expand(o: &CompileOptions, registry: &PassRegistry) -> String {
    let list = o.fallback_ops.to_option();
    let backend = if o.backend.is_empty() {
        String::new()
    } else {
        format!("backend={},", o.backend)
    };
    let truncate = TruncateOptions {
        double: if o.truncate_double {
            DoublePolicy::F32
        } else {
            DoublePolicy::Native
        },
        int64: o.int64,
        small_int: o.small_int,
    };
    let mut text = format!(
        "default,partition{{{backend}min-block-size={},fallback-ops={list},\
         require-full-compilation={},truncate-double={},int64={},small-int={}}},\
         truncate-long-double{{double={},int64={},small-int={}}},repair-types",
        o.min_block_size,
        o.require_full_compilation,
        o.truncate_double,
        o.int64.word(),
        o.small_int.word(),
        truncate.double.word(),
        truncate.int64.word(),
        truncate.small_int.word(),
    );
    if o.precision != Precision::F32 {
        let a = AutocastOptions {
            precision: o.precision,
            keep_f32: o.keep_f32.clone(),
            ..Default::default()
        };
        text.push_str(&format!(",autocast{}", a.to_pass_options().to_text(&[])));
    }
    text.push_str(",outline-segments");
    if o.engines && registry.has_pass("build-engines") {
        text.push_str(&format!(
            ",build-engines{{require-full-compilation={},build-plans={}}}",
            o.require_full_compilation, o.build_plans
        ));
    }
    text
}

/// Registers the `compile` pipeline.
pub fn register(r: &mut PassRegistry) {
    r.register_pipeline_with::<CompileOptions>(
        NAME,
        "partition, truncate, repair boundary types, autocast, outline and build engines",
        expand,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::OptionSet;

    #[test]
    fn options_print_back_and_list_in_help() {
        let o = CompileOptions {
            int64: Int64Policy::Int32,
            ..Default::default()
        };
        assert_eq!(o.to_pass_options().to_text(&[]), "{int64=int32}");
        let help = CompileOptions::help();
        assert_eq!(help[1].key, "min-block-size");
        assert_eq!(help[1].default, "5");
        let reg = PassRegistry::with_builtins();
        let text = reg.help();
        assert!(text.contains("  compile "), "{text}");
        assert!(text.contains("int64=native"), "{text}");
    }
}
