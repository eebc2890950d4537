//! Program `.json`: deserialization (graph ids and links checked by `Graph`'s own
//! deserializer) and validation.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = trtfx::ir::Program::from_json_with_limits(s, &common::limits()) else {
        return;
    };
    common::exercise(&p);
});
