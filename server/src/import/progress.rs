//! The terminal progress bar (indicatif). Hidden when stderr is not a
//! terminal, so logs and tests see only the final report.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress of the import's passes.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar on stderr when it is a terminal, else nothing.
    pub fn terminal() -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress { bar }
        } else {
            Progress::hidden()
        }
    }

    pub fn hidden() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    /// Starts a pass: a counter when the total is unknown, else a bar.
    pub fn stage(&self, message: &'static str, total: Option<u64>) {
        self.bar.reset();
        self.bar.set_position(0);
        self.bar.set_length(total.unwrap_or(0));
        let template = if total.is_some() {
            "{msg} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta})"
        } else {
            "{msg} {human_pos} ({per_sec})"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_message(message);
    }

    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
