//! `.fxir` text: the parser, then the load-time validation every reader applies.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = trtfx::ir::text::parse_bytes(data) else {
        return;
    };
    if trtfx::ir::validate_program(&p, &common::limits()).is_err() {
        return;
    }
    common::exercise(&p);
});
