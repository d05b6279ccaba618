//! What `length train` prints: the header, a line per epoch (within 80 columns), the engineering
//! figures behind `--verbose`, and the summary at the end. The progress bar itself is
//! `progress.rs`; the training loop that produces these rows is `length_train`'s.

use std::time::Instant;

use length_data::MnistLike;
use length_layers::MlpConfig;

use crate::args::TrainArgs;
use crate::metrics::EpochMetrics;
use crate::throughput::Throughput;
use crate::train::RunEnd;

/// `MLP 784-512-512-10 (relu, mse)`.
pub(crate) fn describe_model(config: &MlpConfig) -> String {
    let sizes: Vec<String> = config.sizes.iter().map(usize::to_string).collect();
    let mut text = format!(
        "MLP {} ({}, {}",
        sizes.join("-"),
        config.activation,
        config.loss
    );
    if config.dropout > 0.0 {
        text.push_str(&format!(", dropout {}", config.dropout));
    }
    text.push(')');
    text
}

/// `sgd lr=0.1 schedule=step`.
pub(crate) fn describe_optimizer(args: &TrainArgs) -> String {
    format!(
        "{} lr={} schedule={}",
        format!("{:?}", args.optimizer).to_lowercase(),
        args.learning_rate,
        format!("{:?}", args.lr_schedule).to_lowercase()
    )
}

/// What is about to happen, in short lines (each within 80 columns for the usual flags).
pub(crate) fn print_header(args: &TrainArgs, model: &str, data: &MnistLike, seed: u64) {
    let train_samples = data.train_samples().map_or(0, |s| s.len());
    let batches = train_samples / args.batch_size;
    println!("Training {model} on {}.", args.data_set.title());
    println!(
        "{train_samples} training samples in {} batches of {}, {} test samples.",
        args.limit_batches
            .map_or(batches, |limit| limit.min(batches)),
        args.batch_size,
        data.test_samples().map_or(0, |s| s.len())
    );
    let threads = rayon::current_num_threads();
    println!(
        "Optimizer {}, init {}, epochs {}, threads {threads}.",
        describe_optimizer(args),
        match args.init {
            crate::args::InitName::Xavier => "xavier",
            crate::args::InitName::Length => "length",
        },
        args.num_epochs,
    );
    if args.verbose && args.common.threads.is_none() && threads > 1 {
        println!("Each step runs on all {threads} threads or on 1, whichever is faster now.");
    }
    let seed_note = if args.seed.is_some() {
        String::new()
    } else {
        format!(" (repeat with --seed {seed})")
    };
    println!(
        "Seed {seed}{seed_note}, shuffle {}.",
        if args.shuffle { "on" } else { "off" }
    );
}

/// The line after each epoch, within 80 columns:
/// `epoch 1/5  loss 0.0123 acc 0.9012  test loss 0.0101 acc 0.9185  9.8 s`.
pub(crate) fn epoch_line(row: &EpochMetrics, num_epochs: usize) -> String {
    format!(
        "epoch {}/{num_epochs}  loss {} acc {:.4}  test loss {} acc {:.4}  {:.1} s",
        row.epoch,
        loss_figure(row.train_loss),
        row.train_accuracy,
        loss_figure(row.test_loss),
        row.test_accuracy,
        row.seconds,
    )
}

/// A loss with four decimals (`0.0256`), or in scientific notation once it is too large for
/// that to fit a line (`1.047e32`, from a run that is diverging).
fn loss_figure(loss: f64) -> String {
    if loss.abs() < 1e4 || !loss.is_finite() {
        format!("{loss:.4}")
    } else {
        format!("{loss:.3e}")
    }
}

/// The engineering figures of an epoch (`--verbose`).
pub(crate) fn speed_line(row: &EpochMetrics) -> String {
    let mut line = format!(
        "          training {:.2} s, {:.0} samples/s",
        row.seconds, row.samples_per_second
    );
    if row.gflop_per_second.is_finite() {
        line.push_str(&format!(", {:.1} GFLOP/s", row.gflop_per_second));
    }
    line
}

/// The summary at the end of a run: accuracy, then (with `verbose`) the speed of the training
/// loop, where `epochs` holds each epoch's work and time.
pub(crate) fn print_summary(
    history: &[EpochMetrics],
    epochs: &[Throughput],
    run_start: Instant,
    end: RunEnd,
    verbose: bool,
) {
    let Some(last) = history.last() else {
        return;
    };
    let best = history
        .iter()
        .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
        .unwrap_or(last);
    println!(
        "{}: best test accuracy {:.4} (epoch {}), final {:.4}; {:.1} s.",
        match end {
            RunEnd::Completed => "Done",
            RunEnd::Interrupted => "Stopped by Ctrl-C",
        },
        best.test_accuracy,
        best.epoch,
        last.test_accuracy,
        run_start.elapsed().as_secs_f64(),
    );
    if !verbose {
        return;
    }
    let total = Throughput {
        seconds: epochs.iter().map(|epoch| epoch.seconds).sum(),
        samples: epochs.iter().map(|epoch| epoch.samples).sum(),
        flops: epochs.iter().map(|epoch| epoch.flops).sum(),
    };
    let median = median(epochs.iter().map(|epoch| epoch.seconds).collect());
    println!(
        "Training loop only (test evaluation excluded): {median:.2} s per epoch (median of {}).",
        epochs.len()
    );
    let mut speed = format!("{:.0} samples/s", total.samples_per_second());
    if total.flops.is_finite() {
        let epoch_flops = epochs.iter().map(|epoch| epoch.flops).fold(0.0, f64::max);
        speed.push_str(&format!(
            ", {:.1} GFLOP/s ({:.2} GFLOP of matmul per epoch)",
            total.gflop_per_second(),
            epoch_flops / 1e9
        ));
    }
    println!("{speed}.");
}

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[middle],
        _ => (values[middle - 1] + values[middle]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_or_the_mean_of_the_two_middle_values() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }

    #[test]
    fn an_epoch_line_fits_80_columns_even_for_long_runs() {
        let row = EpochMetrics {
            epoch: 100,
            learning_rate: 0.000_1,
            train_loss: 0.012_345,
            train_accuracy: 0.901_2,
            test_loss: 0.010_1,
            test_accuracy: 0.918_5,
            seconds: 12_345.6,
            samples_per_second: 123_456.0,
            gflop_per_second: 123.4,
        };
        let line = epoch_line(&row, 100);
        assert!(line.len() <= 80, "{} columns: {line}", line.len());
        let diverging = EpochMetrics {
            test_loss: 1.047e32,
            ..row
        };
        let line = epoch_line(&diverging, 100);
        assert!(line.contains("test loss 1.047e32 "), "{line}");
        assert!(line.len() <= 80, "{} columns: {line}", line.len());
        assert!(speed_line(&row).len() <= 80, "{}", speed_line(&row));
    }
}
