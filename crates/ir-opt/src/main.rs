//! `ir-opt`: the trtfx command-line tool.
fn main() {}
