//! Ctrl-C during training: finish the current batch, then stop cleanly.
//!
//! The first Ctrl-C only raises a flag that the training loop reads after every batch; the loop
//! then tests the model, saves it when `--save` was given and prints the summary, as at the end
//! of a normal run. A second Ctrl-C quits at once (exit code 130, the shell's code for SIGINT).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

/// The exit code of a run stopped by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED_EXIT_CODE: u8 = 130;

/// Whether Ctrl-C has been pressed.
#[derive(Clone, Debug)]
pub struct StopRequest(Arc<AtomicBool>);

impl StopRequest {
    /// Installs the Ctrl-C handler (once per process) and returns the flag it raises.
    pub fn install() -> anyhow::Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        let raised = Arc::clone(&flag);
        ctrlc::set_handler(move || {
            if raised.swap(true, Ordering::SeqCst) {
                eprintln!("\nSecond Ctrl-C: quitting now, without saving.");
                std::process::exit(i32::from(INTERRUPTED_EXIT_CODE));
            }
            eprintln!(
                "\nCtrl-C: stopping after this batch (the model is still tested and saved); \
                 press Ctrl-C again to quit at once."
            );
        })
        .context("cannot install the Ctrl-C handler")?;
        Ok(StopRequest(flag))
    }

    /// True once Ctrl-C has been pressed.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
