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
        let seconds = self.start.elapsed().as_secs_f64();
        let facts = running_facts(running, seconds);
        match &self.bar {
            Some(bar) => {
                bar.set_position(iteration as u64);
                bar.set_message(facts);
            }
            None => {
                if self.print_every > 0 && iteration.is_multiple_of(self.print_every) {
                    println!(
                        "{}  iteration {iteration}/{}  {facts}",
                        self.label, self.total_batches
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
