//! `.trtfx` artifacts: the zip, manifest, program text, weights, recorded networks and plans.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = std::path::Path::new("fuzz.trtfx");
    let Ok(c) = trtfx::CompiledProgram::from_bytes_with_limits(data, origin, &common::limits())
    else {
        return;
    };
    let _ = c.report();
    let _ = c.manifest();
    common::exercise(&c.program);
});
