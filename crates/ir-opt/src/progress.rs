//! The progress bar of `ir-opt compile`: one step per TensorRT segment (its conversion and plan
//! build), with the segment's outcome (built, plan cache hit, skipped) as it finishes. Drawn on
//! stderr only when stderr is a terminal and `--quiet` is not given, so logs and pipes stay
//! clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use trtfx::backend::build_engines::{BuildProgress, ProgressEvent};

/// The bar, or `None` when it must stay quiet.
pub fn compile_bar(quiet: bool) -> Option<(BuildProgress, ProgressBar)> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    Some(bar(ProgressDrawTarget::stderr()))
}

/// A bar drawing to `target`, and the callback that drives it.
fn bar(target: ProgressDrawTarget) -> (BuildProgress, ProgressBar) {
    let pb = ProgressBar::with_draw_target(Some(0), target);
    let style = ProgressStyle::with_template(
        "{spinner} building plans [{bar:30}] {pos}/{len} segments, {elapsed} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    pb.set_style(style);
    let handle = pb.clone();
    let callback = move |e: &ProgressEvent| match e {
        ProgressEvent::Start { segments } => {
            handle.set_length(*segments as u64);
            handle.enable_steady_tick(Duration::from_millis(120));
        }
        ProgressEvent::Segment { graph, .. } => handle.set_message(format!("@{graph}")),
        ProgressEvent::Done { graph, outcome, .. } => {
            handle.println(format!("  @{graph}: {outcome}"));
            handle.inc(1);
        }
        ProgressEvent::Finish => handle.finish_and_clear(),
    };
    (BuildProgress(std::sync::Arc::new(callback)), pb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_gives_no_bar() {
        assert!(compile_bar(true).is_none());
    }

    #[test]
    fn events_drive_the_bar() {
        let (progress, pb) = bar(ProgressDrawTarget::hidden());
        let send = |e: ProgressEvent| (progress.0)(&e);
        send(ProgressEvent::Start { segments: 3 });
        assert_eq!(pb.length(), Some(3));
        for index in 0..2 {
            send(ProgressEvent::Segment {
                index,
                graph: format!("main_seg{index}_trt"),
            });
            send(ProgressEvent::Done {
                index,
                graph: format!("main_seg{index}_trt"),
                outcome: "plan cache hit".into(),
            });
        }
        assert_eq!(pb.position(), 2);
        assert_eq!(pb.message(), "@main_seg1_trt");
        send(ProgressEvent::Finish);
        assert!(pb.is_finished());
    }
}
