//! Snapshots of printed programs.

mod text_common;

use trtfx_ir::text::print_program;

#[test]
fn snapshot_conv_relu() {
    insta::assert_snapshot!(print_program(&text_common::conv_relu()));
}

#[test]
fn snapshot_multi_output() {
    insta::assert_snapshot!(print_program(&text_common::multi_output()));
}

#[test]
fn snapshot_cond() {
    insta::assert_snapshot!(print_program(&text_common::cond_program()));
}

#[test]
fn snapshot_everything() {
    insta::assert_snapshot!(print_program(&text_common::everything()));
}
