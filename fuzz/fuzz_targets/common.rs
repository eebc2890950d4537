//! What every target does with a program its reader accepted: the work `ir-opt check` and
//! `opt` start with. A reader that lets an invalid program through shows up here as a panic
//! (index out of range, a walk that never ends) instead of in a user's session.

use trtfx::ir::{aten, text, Limits, Program};

/// Small limits, so a fuzzer input cannot make the reader allocate gigabytes legitimately.
pub fn limits() -> Limits {
    Limits {
        max_member_bytes: 16 << 20,
        max_metadata_bytes: 16 << 20,
        max_total_bytes: 64 << 20,
        max_elements: 1 << 24,
        max_rank: 16,
        max_nodes: 1 << 14,
        max_graph_depth: 16,
    }
}

/// Verifies, re-infers and prints an accepted program.
pub fn exercise(p: &Program) {
    let _ = trtfx::ir::verify_program(p, Some(aten::registry()));
    let _ = aten::check_program(p, aten::registry());
    let s = text::print_program(p);
    let _ = text::parse_program(&s);
    let _ = trtfx::param_report(p);
}
