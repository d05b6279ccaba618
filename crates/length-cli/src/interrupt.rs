//! Ctrl-C during training: finish the current batch, then stop cleanly.
//!
//! The first Ctrl-C only raises a flag that the training loop reads after every batch; the loop
//! then tests the model, saves it when `--save` was given and prints the summary, as at the end
//! of a normal run. A second Ctrl-C quits at once (exit code 130, the shell's code for SIGINT).
//!
//! The handler itself prints nothing on the first Ctrl-C: a line written from the signal thread
//! would land in the middle of the progress bar, which redraws over it. The training loop prints
//! [`NOTICE`] instead, through the progress display, as soon as it sees the flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;

/// The exit code of a run stopped by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED_EXIT_CODE: u8 = 130;

/// What the first Ctrl-C means, in lines that fit 80 columns.
pub const NOTICE: &str = "Ctrl-C: stopping after this batch; the model is still tested and saved.\n\
                          Press Ctrl-C again to quit at once, without saving.";

/// Whether Ctrl-C has been pressed, and whether the user has been told what it does.
#[derive(Clone, Debug, Default)]
pub struct StopRequest {
    raised: Arc<AtomicBool>,
    noticed: Arc<AtomicBool>,
}

impl StopRequest {
    /// Installs the Ctrl-C handler (the first time; later runs in the same process share it)
    /// and returns the flag it raises, lowered.
    pub fn install() -> anyhow::Result<Self> {
        // A lock, not a `OnceLock` check followed by an install: two runs starting at once in one
        // process (a library caller's threads, the test harness) would both see "not installed"
        // and the second `set_handler` would fail.
        static INSTALLED: Mutex<Option<StopRequest>> = Mutex::new(None);
        let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
        let stop = match installed.as_ref() {
            Some(stop) => stop.clone(),
            None => {
                let stop = StopRequest::default();
                let raised = Arc::clone(&stop.raised);
                ctrlc::set_handler(move || {
                    if raised.swap(true, Ordering::SeqCst) {
                        eprintln!("\nSecond Ctrl-C: quitting now, without saving.");
                        std::process::exit(i32::from(INTERRUPTED_EXIT_CODE));
                    }
                })
                .context("cannot install the Ctrl-C handler")?;
                installed.insert(stop).clone()
            }
        };
        stop.raised.store(false, Ordering::SeqCst);
        stop.noticed.store(false, Ordering::SeqCst);
        Ok(stop)
    }

    /// True once Ctrl-C has been pressed.
    pub fn is_raised(&self) -> bool {
        self.raised.load(Ordering::SeqCst)
    }

    /// True exactly once after Ctrl-C was pressed: the caller should now show [`NOTICE`].
    pub fn take_notice(&self) -> bool {
        self.is_raised() && !self.noticed.swap(true, Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_is_due_once_after_the_flag_is_raised() {
        let stop = StopRequest::default();
        assert!(!stop.take_notice());
        stop.raised.store(true, Ordering::SeqCst);
        assert!(stop.is_raised());
        assert!(stop.take_notice());
        assert!(!stop.take_notice());
    }

    #[test]
    fn runs_starting_at_once_share_one_handler() {
        let installs: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(StopRequest::install))
            .collect();
        for install in installs {
            install
                .join()
                .unwrap()
                .expect("every run gets the shared flag");
        }
    }

    #[test]
    fn the_notice_fits_80_columns() {
        assert!(NOTICE.lines().all(|line| line.chars().count() <= 80));
    }
}
