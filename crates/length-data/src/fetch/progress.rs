//! How fetching reports what it does: a progress bar on a terminal, plain lines otherwise
//! (logs, CI), or nothing.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// How [`fetch`](super::fetch) reports progress, on standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Say nothing.
    Quiet,
    /// One line per step: which file comes from where, and problems met on the way.
    Lines,
    /// The lines, plus a live progress bar while downloading.
    Bar,
}

impl Progress {
    /// [`Progress::Bar`] when standard error is a terminal, [`Progress::Lines`] otherwise.
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }

    /// Prints one line of progress, unless quiet.
    pub(crate) fn line(self, message: &str) {
        if self != Progress::Quiet {
            eprintln!("{message}");
        }
    }

    /// A bar for a download of `length` bytes (a spinner when unknown); hidden unless `Bar`.
    pub(crate) fn bar(self, label: &str, length: Option<u64>) -> ProgressBar {
        if self != Progress::Bar {
            return ProgressBar::hidden();
        }
        let (bar, template) = match length {
            Some(length) => (
                ProgressBar::new(length),
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            ),
            None => (
                ProgressBar::new_spinner(),
                "{msg} {spinner} {bytes} {bytes_per_sec}",
            ),
        };
        let style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> ");
        bar.with_style(style).with_message(label.to_owned())
    }
}
