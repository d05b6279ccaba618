//! Running sums of loss and accuracy over the samples seen so far.
//!
//! A [`Tally`] adds up `Σ loss_i` and the number of correct predictions over the samples it has
//! seen, so its mean is the average over *every* sample, whatever the batch sizes were (LENGTH's
//! test loop divides by the number of batches minus one instead):
//!
//! ```text
//! mean loss = Σ_batches (mean batch loss · batch size) / samples
//! accuracy  = correct / samples
//! ```
//!
//! Sums are kept in `f64` and added in batch order, so the same run gives the same figures to the
//! last digit.

/// Sums of loss and correct predictions over the samples seen so far.
///
/// ```
/// use length_train::Tally;
///
/// let mut tally = Tally::default();
/// tally.add_batch(1.0, 64, 60);
/// tally.add_batch(4.0, 16, 0);
/// assert_eq!(tally.samples, 80);
/// assert_eq!(tally.mean_loss(), (64.0 + 64.0) / 80.0);
/// assert_eq!(tally.accuracy(), 60.0 / 80.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    /// Samples counted.
    pub samples: usize,
    /// `Σ loss_i` over those samples.
    pub loss_sum: f64,
    /// How many of them were classified correctly.
    pub correct: usize,
}

impl Tally {
    /// Adds one batch: its *mean* loss, its size and how many it got right.
    pub fn add_batch(&mut self, mean_loss: f32, batch_size: usize, correct: usize) {
        self.samples += batch_size;
        self.loss_sum += f64::from(mean_loss) * batch_size as f64;
        self.correct += correct;
    }

    /// The mean loss per sample (NaN before any sample).
    pub fn mean_loss(&self) -> f64 {
        self.loss_sum / self.samples as f64
    }

    /// The fraction classified correctly (NaN before any sample).
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.samples as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_averages_over_samples_not_batches() {
        let mut tally = Tally::default();
        tally.add_batch(1.0, 64, 60);
        tally.add_batch(4.0, 16, 0);
        assert_eq!(tally.samples, 80);
        assert!((tally.mean_loss() - (64.0 + 64.0) / 80.0).abs() < 1e-12);
        assert!((tally.accuracy() - 60.0 / 80.0).abs() < 1e-12);
    }

    #[test]
    fn an_empty_tally_has_no_mean() {
        let tally = Tally::default();
        assert!(tally.mean_loss().is_nan());
        assert!(tally.accuracy().is_nan());
    }
}
