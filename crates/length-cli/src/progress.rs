//! Progress of one training epoch: a live bar on a terminal, plain lines in a log.
//!
//! On a terminal (stderr is a TTY) an [`indicatif`] bar in the style of Keras and tqdm shows the
//! steps done, the elapsed time and the estimate of what is left, and the epoch's running loss
//! and accuracy:
//!
//! ```text
//! epoch 1/5 [=========>          ] 468/937 00:04<00:04 loss 0.0231 acc 0.8712
//! ```
//!
//! When the output goes to a file or a CI log, a bar would only produce control characters, so
//! the same facts are printed as one plain line every `--train-verbosity` steps instead (0: none),
//! with the speed in samples per second under `--verbose`.

use std::fmt;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use length_train::Tally;

/// The bar's loss and accuracy are refreshed every this many steps (the bar itself redraws at
/// most 20 times a second anyway).
const BAR_MESSAGE_EVERY: usize = 16;

/// Whether progress should be drawn as a live bar (stderr is a terminal).
pub fn is_live() -> bool {
    std::io::stderr().is_terminal()
}

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Display {
    /// Draw a live bar (on a terminal).
    pub live: bool,
    /// Without a bar: print a line every this many steps (0: never).
    pub print_every: usize,
    /// Add engineering figures (samples per second) to the plain lines.
    pub verbose: bool,
}

/// Reports the progress of one epoch.
pub struct EpochProgress {
    bar: Option<ProgressBar>,
    label: String,
    total_batches: usize,
    display: Display,
    start: Instant,
}

impl EpochProgress {
    /// Starts reporting epoch `epoch` of `num_epochs`, which has `total_batches` steps.
    pub fn start(epoch: usize, num_epochs: usize, total_batches: usize, display: Display) -> Self {
        let label = format!("epoch {epoch}/{num_epochs}");
        let bar = display.live.then(|| {
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:20.cyan/blue}] {pos}/{len} {clock} {msg}",
            )
            .expect("the progress template is valid")
            .with_key(
                "clock",
                |state: &ProgressState, out: &mut dyn fmt::Write| {
                    let _ = write!(out, "{}<{}", clock(state.elapsed()), clock(state.eta()));
                },
            )
            .progress_chars("=> ");
            ProgressBar::new(total_batches as u64)
                .with_style(style)
                .with_prefix(label.clone())
        });
        EpochProgress {
            bar,
            label,
            total_batches,
            display,
            start: Instant::now(),
        }
    }

    /// Reports that step `iteration` (1-based) is done, with the epoch's running figures so far.
    pub fn update(&self, iteration: usize, running: &Tally) {
        // The facts are formatted only when shown: a training step should not pay for text.
        match &self.bar {
            Some(bar) => {
                bar.set_position(iteration as u64);
                if iteration.is_multiple_of(BAR_MESSAGE_EVERY) || iteration == self.total_batches {
                    bar.set_message(running_facts(running));
                }
            }
            None => {
                let every = self.display.print_every;
                if every > 0 && iteration.is_multiple_of(every) {
                    let mut line = format!(
                        "{}  iteration {iteration}/{}  {}",
                        self.label,
                        self.total_batches,
                        running_facts(running)
                    );
                    if self.display.verbose {
                        let rate = samples_per_second(running, self.start.elapsed().as_secs_f64());
                        line.push_str(&format!("  {rate:.0} samples/s"));
                    }
                    println!("{line}");
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

/// `loss 0.0712 acc 0.8120`.
fn running_facts(running: &Tally) -> String {
    format!(
        "loss {:.4} acc {:.4}",
        running.mean_loss(),
        running.accuracy()
    )
}

/// `mm:ss` (or `h:mm:ss` from an hour on), as tqdm shows times.
fn clock(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes:02}:{seconds:02}")
    }
}

/// Samples per second so far (0 before any time has passed).
fn samples_per_second(running: &Tally, seconds: f64) -> f64 {
    if seconds > 0.0 {
        running.samples as f64 / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_name_loss_and_accuracy() {
        let mut tally = Tally::default();
        tally.add_batch(0.5, 100, 75);
        assert_eq!(running_facts(&tally), "loss 0.5000 acc 0.7500");
        assert_eq!(samples_per_second(&tally, 2.0), 50.0);
        assert_eq!(samples_per_second(&tally, 0.0), 0.0);
    }

    #[test]
    fn times_read_like_a_clock() {
        assert_eq!(clock(Duration::from_secs(4)), "00:04");
        assert_eq!(clock(Duration::from_secs(125)), "02:05");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }
}
