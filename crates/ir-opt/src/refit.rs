//! `ir-opt refit MODEL.trtfx --weights new.safetensors [-o OUT] [--partial]`: new weights into a
//! compiled artifact without rebuilding its plans ([`trtfx::CompiledProgram::refit`]).

use std::path::Path;

use anyhow::{anyhow, Result};
use trtfx::refit::{read_weights, PlanRefit, RefitOptions};

/// Runs the subcommand; returns the summary line printed on stderr.
pub fn run(
    artifact: &Path,
    weights: &Path,
    output: Option<&Path>,
    partial: bool,
) -> Result<String> {
    let mut c = trtfx::CompiledProgram::load(artifact)?;
    let new = read_weights(weights).map_err(|e| anyhow!("{e}"))?;
    if new.is_empty() {
        return Err(anyhow!("{}: no weights in the file", weights.display()));
    }
    let report = c
        .refit(&new, &RefitOptions { partial })
        .map_err(|e| anyhow!("{}: {e}", weights.display()))?;
    let out = output.unwrap_or(artifact);
    // Write next to the target and rename, so a failed write never leaves half an artifact
    // (and refitting in place never truncates the artifact being read).
    let tmp = out.with_extension(format!("refit-{}.tmp", std::process::id()));
    c.save(&tmp)?;
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow!("{}: cannot write: {e}", out.display())
    })?;
    for (graph, status) in &report.segments {
        if let PlanRefit::Dropped { reason } = status {
            eprintln!("warning: segment @{graph}: plan dropped ({reason})");
        }
    }
    Ok(format!("wrote {}: {}", out.display(), report.summary()))
}
