//! Progress of one training epoch: a live bar on a terminal, plain lines in a log.
//!
//! On a terminal (stderr is a TTY) an [`indicatif`] bar shows the iteration, the running training
//! loss and accuracy, and samples per second. When the output goes to a file or a CI log, a bar
//! would only produce control characters, so the same facts are printed as one plain line every
//! `--train-verbosity` iterations instead (0: none).

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::metrics::Tally;

/// The bar's loss, accuracy and speed are refreshed every this many iterations (the bar itself
/// redraws at most 20 times a second anyway).
const BAR_MESSAGE_EVERY: usize = 16;

/// Whether progress should be drawn as a live bar (stderr is a terminal).
pub fn is_live() -> bool {
    std::io::stderr().is_terminal()
}

/// Reports the progress of one epoch.
pub struct EpochProgress {
    bar: Option<ProgressBar>,
    label: String,
    total_batches: usize,
    print_every: usize,
    start: Instant,
}

impl EpochProgress {
    /// Starts reporting epoch `epoch` of `num_epochs`, which has `total_batches` iterations.
    /// With `live`, draws a bar; otherwise prints a line every `print_every` iterations.
    pub fn start(
        epoch: usize,
        num_epochs: usize,
        total_batches: usize,
        print_every: usize,
        live: bool,
    ) -> Self {
        let label = format!("epoch {epoch}/{num_epochs}");
        let bar = live.then(|| {
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:30.cyan/blue}] {pos}/{len} {msg} ({elapsed}<{eta})",
            )
            .expect("the progress template is valid")
            .progress_chars("=> ");
            ProgressBar::new(total_batches as u64)
                .with_style(style)
                .with_prefix(label.clone())
        });
        EpochProgress {
            bar,
            label,
            total_batches,
            print_every,
            start: Instant::now(),
        }
    }

    /// Reports that `iteration` (1-based) is done, with the epoch's running figures so far.
    pub fn update(&self, iteration: usize, running: &Tally) {
        // The facts are formatted only when shown: a training step should not pay for text.
        let facts = || running_facts(running, self.start.elapsed().as_secs_f64());
        match &self.bar {
            Some(bar) => {
                bar.set_position(iteration as u64);
                if iteration.is_multiple_of(BAR_MESSAGE_EVERY) || iteration == self.total_batches {
                    bar.set_message(facts());
                }
            }
            None => {
                if self.print_every > 0 && iteration.is_multiple_of(self.print_every) {
                    println!(
                        "{}  iteration {iteration}/{}  {}",
                        self.label,
                        self.total_batches,
                        facts()
                    );
                }
            }
        }
    }

    /// Removes the bar (the epoch's summary line replaces it).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `loss 0.0712  accuracy 0.8120  23456 samples/s`.
fn running_facts(running: &Tally, seconds: f64) -> String {
    let rate = if seconds > 0.0 {
        running.samples as f64 / seconds
    } else {
        0.0
    };
    format!(
        "loss {:.4}  accuracy {:.4}  {rate:.0} samples/s",
        running.mean_loss(),
        running.accuracy()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_name_loss_accuracy_and_speed() {
        let mut tally = Tally::default();
        tally.add_batch(0.5, 100, 75);
        assert_eq!(
            running_facts(&tally, 2.0),
            "loss 0.5000  accuracy 0.7500  50 samples/s"
        );
    }
}
