//! `.pt2` archives: the zip container, payload configs, model JSON and the import.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use trtfx::frontend::{import_archive, ImportOptions, Pt2Archive};

fuzz_target!(|data: &[u8]| {
    let Ok(ar) = Pt2Archive::from_bytes_with_limits(data.to_vec(), "fuzz.pt2", common::limits())
    else {
        return;
    };
    let Ok(imported) = import_archive(Arc::new(ar), &ImportOptions::standard()) else {
        return;
    };
    common::exercise(&imported.program);
});
