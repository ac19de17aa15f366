//! Progress on the operator's terminal, through indicatif: bars and counters redrawn in place on
//! stderr, drawn only when stderr is a terminal and the operator did not ask for quiet. A log
//! (stderr redirected) gets the callers' own lines instead, which stay readable there.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

/// An upload's bytes, rate and time left (`migrate run`'s upload step).
pub const UPLOAD: &str = "  {prefix}: uploaded {bytes} of {total_bytes} ({percent}%), {binary_bytes_per_sec}, {eta} left";
/// A backup's or restore's `percent_complete` on the server (`migrate run`'s watched steps).
pub const WATCH: &str = "  {prefix}: [{wide_bar}] {pos}% ({elapsed})";
/// Instances collected (`discover`).
pub const COLLECT: &str = "collected {pos}/{len}: {msg}";
/// Performance samples taken (`perf collect`).
pub const SAMPLE: &str = "sample {pos}/{len}: {msg} ({elapsed} of {duration})";
/// One table under comparison (`validate`).
pub const TABLE: &str = "  {prefix:40} [{bar:20}] {percent:>3}%";

/// Whether bars are drawn: stderr is a terminal and the operator did not ask for quiet.
pub fn drawn(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A bar of `len` steps in `template` (indicatif's: `{pos}`, `{len}`, `{bytes}`,
/// `{binary_bytes_per_sec}`, `{eta}`, `{msg}`, `{prefix}`, `{wide_bar}` …), on stderr when
/// [`drawn`], hidden otherwise (every call on a hidden bar is a no-op).
pub fn bar(len: u64, template: &str, quiet: bool) -> ProgressBar {
    if !drawn(quiet) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(style(template));
    // A slow instance or sample can keep the count still for a while: the elapsed time keeps
    // moving.
    bar.enable_steady_tick(Duration::from_millis(500));
    bar
}

/// A bar of `len` steps in `template`, to be added to a [`multi`] (which decides whether it is
/// drawn); cleared when it is finished or dropped.
pub fn counter(len: u64, template: &str) -> ProgressBar {
    ProgressBar::new(len)
        .with_style(style(template))
        .with_finish(ProgressFinish::AndClear)
}

/// Bars drawn together (one per table under comparison), on stderr when [`drawn`].
pub fn multi(quiet: bool) -> MultiProgress {
    if drawn(quiet) {
        MultiProgress::with_draw_target(ProgressDrawTarget::stderr())
    } else {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    }
}

/// `template` as a style; a template of ours that indicatif cannot read is a bug, not an
/// operator's error.
pub fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|e| panic!("progress template {template:?}: {e}"))
        .progress_chars("#>.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_in_use_is_readable() {
        for t in [UPLOAD, WATCH, COLLECT, SAMPLE, TABLE] {
            style(t);
        }
    }

    #[test]
    fn a_hidden_bar_draws_nothing_and_takes_every_call() {
        let b = bar(10, "{pos}/{len}", true);
        assert!(b.is_hidden());
        b.set_position(5);
        b.finish_and_clear();
    }
}
