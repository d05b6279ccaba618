//! `length train`: the course notebook's training loop, with a person watching.
//!
//! For each epoch: set the learning rate from the schedule; for each batch, build a graph, run
//! the model forward with its loss, and call `backward`, which hands each layer's gradients to
//! the optimizer (LENGTH's design: the layers update during the backward pass); then test on
//! every test sample. The loop stops early on Ctrl-C (after the current batch) or when the loss
//! stops being a finite number, in which case nothing is saved.
//!
//! Timing covers the training loop only: each epoch's seconds, samples per second and effective
//! GFLOP/s (see `throughput.rs`) leave out the test pass, as the JAX peer's `train_s` does.
//!
//! With a fixed `--seed` every random choice (weights, shuffling, dropout) is seeded and the
//! kernels give the same bits for any number of threads, so a run repeats exactly.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use length_autograd::Optimizer;
use length_data::{Batches, MnistLike};
use length_layers::{MLP, MlpConfig, Model, train_step};
use length_optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Constant, Cosine, LearningRateSchedule, Momentum,
    MomentumConfig, Sgd, StepDecay,
};

use crate::UsageError;
use crate::args::{MetricsFormat, OptimizerName, PlotFormat, ScheduleName, TrainArgs};
use crate::checkpoint::Checkpoint;
use crate::data::{self, LoadRequest};
use crate::evaluate;
use crate::governor::ThreadGovernor;
use crate::interrupt::StopRequest;
use crate::metrics::{EpochMetrics, MetricsWriter, Tally};
use crate::model::{self, SaveInfo};
use crate::plot;
use crate::progress::{self, EpochProgress};
use crate::throughput::Throughput;

/// Samples per batch of the test pass. Any size gives the same accuracy (the loss may differ in
/// its last bits); 250 keeps the pass's arrays (the batch and two hidden layers, about 1.8 MB)
/// small next to the 55 MB of data, where 1000 added 7 MB to the run's peak memory.
const TEST_BATCH_SIZE: usize = 250;

/// How a training run ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every epoch ran.
    Completed,
    /// Ctrl-C stopped it early (the model was still tested, saved and summarized).
    Interrupted,
}

/// The loss stopped being a finite number.
#[derive(Debug)]
pub struct Diverged {
    epoch: usize,
    iteration: usize,
    loss: f32,
    learning_rate: f32,
    save: Option<PathBuf>,
}

impl fmt::Display for Diverged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "training diverged: the loss became {} in epoch {}, iteration {} (learning rate {}). \
             Try a smaller --learning-rate, e.g. {}.",
            self.loss,
            self.epoch,
            self.iteration,
            self.learning_rate,
            self.learning_rate / 10.0
        )?;
        if let Some(path) = &self.save {
            write!(
                f,
                " The model was not saved; {} was left as it was.",
                path.display()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diverged {}

/// Runs `length train`.
pub fn run(args: TrainArgs) -> anyhow::Result<RunEnd> {
    check_output_paths(&args)?;
    crate::on_thread_pool(args.common.threads, || train(args))
}

/// Loads the data, trains, tests after every epoch, then saves, plots and summarizes.
fn train(args: TrainArgs) -> anyhow::Result<RunEnd> {
    let seed = args.seed.unwrap_or_else(fresh_seed);
    let config = model::config_from_args(&args.architecture, args.init, seed);
    let mut model = config.clone().build()?;
    let data = data::load(&LoadRequest {
        name: args.data_set,
        data_dir: args.common.data_dir.clone(),
        with_train: true,
        batch_size: args.batch_size,
        shuffle_seed: args.shuffle.then_some(seed),
    })?;
    let test = data
        .test_samples()
        .context("the test split was not loaded")?;
    let train_samples = data.train_samples().map_or(0, |samples| samples.len());
    if args.batch_size > train_samples {
        return Err(UsageError(format!(
            "--batch-size {} is larger than the training set ({train_samples} samples)",
            args.batch_size
        ))
        .into());
    }
    let mut optimizer = build_optimizer(args.optimizer, args.learning_rate);
    let schedule = build_schedule(args.lr_schedule, args.learning_rate, args.num_epochs);
    let stop = StopRequest::install()?;
    // Without --threads, each step runs on all cores or on one, whichever is faster right now.
    let mut governor = match args.common.threads {
        None if rayon::current_num_threads() > 1 => Some(ThreadGovernor::new()?),
        _ => None,
    };
    let mut metrics = match &args.metrics {
        Some(path) => Some(MetricsWriter::create(path, metrics_format(path))?),
        None => None,
    };

    print_header(&args, &config, &data, seed);
    let live = progress::is_live();
    let mut history: Vec<EpochMetrics> = Vec::new();
    let mut speeds: Vec<Throughput> = Vec::new();
    let run_start = Instant::now();
    for epoch in 0..args.num_epochs {
        let learning_rate = schedule.apply(epoch, optimizer.as_mut());
        let batches = data.train_epoch(epoch as u64);
        let total = args
            .limit_batches
            .map_or(batches.len(), |limit| limit.min(batches.len()));
        let progress = EpochProgress::start(
            epoch + 1,
            args.num_epochs,
            total,
            args.train_verbosity,
            live,
        );
        let epoch_start = Instant::now();
        let trained = train_epoch(
            &mut model,
            optimizer.as_mut(),
            batches,
            total,
            &progress,
            &stop,
            governor.as_mut(),
        );
        let seconds = epoch_start.elapsed().as_secs_f64();
        progress.finish();
        let tally = trained.map_err(|step| Diverged {
            epoch: epoch + 1,
            iteration: step.iteration,
            loss: step.loss,
            learning_rate,
            save: args.save.clone(),
        })?;
        let speed = Throughput::new(seconds, tally.samples, &config.sizes);
        speeds.push(speed);

        model.set_training(false);
        let tested = evaluate::measure(&model, test, TEST_BATCH_SIZE)?.tally;
        model.set_training(true);
        let row = EpochMetrics {
            epoch: epoch + 1,
            learning_rate,
            train_loss: tally.mean_loss(),
            train_accuracy: tally.accuracy(),
            test_loss: tested.mean_loss(),
            test_accuracy: tested.accuracy(),
            seconds,
            samples_per_second: speed.samples_per_second(),
            gflop_per_second: speed.gflop_per_second(),
        };
        let single_thread_steps = governor
            .as_mut()
            .map_or(0, ThreadGovernor::take_single_thread_steps);
        print_epoch(&row, args.num_epochs, stop.is_raised());
        if single_thread_steps > 0 {
            println!(
                "         {single_thread_steps} of {total} steps ran on one thread (another program \
                 kept a core busy, or a probe)"
            );
        }
        if let Some(metrics) = &mut metrics {
            metrics.write(&row)?;
        }
        history.push(row);
        if stop.is_raised() {
            break;
        }
    }

    let end = if stop.is_raised() {
        RunEnd::Interrupted
    } else {
        RunEnd::Completed
    };
    if let Some(path) = &args.plot {
        let title = format!("{} on {}", describe_model(&config), args.data_set.title());
        plot::draw_curves(path, plot_format(path), &history, &title)?;
        println!("Plotted the learning curves to {}", path.display());
    }
    if let Some(path) = &args.save {
        save(&model, &args, &history, path)?;
        println!("Saved the model to {}", path.display());
    }
    print_summary(&history, &speeds, run_start, end);
    Ok(end)
}

/// Where a training step found a loss that is not a finite number.
struct NonFiniteLoss {
    iteration: usize,
    loss: f32,
}

/// One pass over `total` batches; stops early after the batch during which Ctrl-C came. Each step
/// runs where `governor` says, or on the current thread pool without one.
fn train_epoch(
    model: &mut MLP,
    optimizer: &mut (dyn Optimizer + Send),
    mut batches: Batches<'_>,
    total: usize,
    progress: &EpochProgress,
    stop: &StopRequest,
    mut governor: Option<&mut ThreadGovernor>,
) -> Result<Tally, NonFiniteLoss> {
    let mut tally = Tally::default();
    for iteration in 1..=total {
        let Some(batch) = batches.next_batch() else {
            break;
        };
        let (images, labels) = (batch.images_2d(), batch.labels);
        let mut step = || train_step(&mut *model, &mut *optimizer, images, labels);
        let step = match governor.as_deref_mut() {
            Some(governor) => governor.run(step),
            None => step(),
        }
        .unwrap_or_else(|error| panic!("the data fits the model by construction: {error}"));
        if !step.loss.is_finite() {
            return Err(NonFiniteLoss {
                iteration,
                loss: step.loss,
            });
        }
        tally.add_batch(step.loss, step.samples, step.correct);
        progress.update(iteration, &tally);
        if stop.is_raised() {
            break;
        }
    }
    Ok(tally)
}

/// The optimizer `--optimizer` names, with the initial learning rate and the library's other
/// defaults (momentum 0.9; Adam's betas 0.9, 0.999; AdamW's weight decay 0.01).
fn build_optimizer(name: OptimizerName, learning_rate: f32) -> Box<dyn Optimizer + Send> {
    match name {
        OptimizerName::Sgd => Box::new(Sgd::with_learning_rate(learning_rate)),
        OptimizerName::Momentum => Box::new(Momentum::new(MomentumConfig {
            learning_rate,
            ..MomentumConfig::default()
        })),
        OptimizerName::Adam => Box::new(Adam::new(AdamConfig {
            learning_rate,
            ..AdamConfig::default()
        })),
        OptimizerName::Adamw => Box::new(AdamW::new(AdamWConfig {
            learning_rate,
            ..AdamWConfig::default()
        })),
    }
}

/// The schedule `--lr-schedule` names, starting from the initial learning rate.
fn build_schedule(
    name: ScheduleName,
    learning_rate: f32,
    epochs: usize,
) -> Box<dyn LearningRateSchedule> {
    // Through the shortest decimal form, so 0.1f32 becomes 0.1, not 0.10000000149.
    let initial: f64 = learning_rate
        .to_string()
        .parse()
        .unwrap_or(f64::from(learning_rate));
    match name {
        ScheduleName::Step => Box::new(StepDecay::notebook(initial)),
        ScheduleName::Constant => Box::new(Constant::new(initial)),
        ScheduleName::Cosine => Box::new(Cosine::new(initial, 0.0, epochs)),
    }
}

/// Fails early, before any training, if an output file could not be written later.
fn check_output_paths(args: &TrainArgs) -> anyhow::Result<()> {
    for (flag, path) in [
        ("--save", &args.save),
        ("--metrics", &args.metrics),
        ("--plot", &args.plot),
    ] {
        let Some(path) = path else { continue };
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(UsageError(format!(
                "{flag} {}: the folder {} does not exist",
                path.display(),
                parent.display()
            ))
            .into());
        }
        if path.is_dir() {
            return Err(UsageError(format!("{flag} {}: is a folder", path.display())).into());
        }
    }
    Ok(())
}

/// The metrics format the (already validated) path asks for.
fn metrics_format(path: &Path) -> MetricsFormat {
    MetricsFormat::from_path(path).expect("--metrics was validated while parsing")
}

/// The plot format the (already validated) path asks for.
fn plot_format(path: &Path) -> PlotFormat {
    PlotFormat::from_path(path).expect("--plot was validated while parsing")
}

/// A seed for a run without `--seed`, from the clock.
fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Keep it short enough to type back.
    (nanos % 1_000_000_007) as u64
}

/// `ActivatedMLP 784-512-512-10 (relu, mse)`.
fn describe_model(config: &MlpConfig) -> String {
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
fn describe_optimizer(args: &TrainArgs) -> String {
    format!(
        "{} lr={} schedule={}",
        format!("{:?}", args.optimizer).to_lowercase(),
        args.learning_rate,
        format!("{:?}", args.lr_schedule).to_lowercase()
    )
}

/// What is about to happen, in two lines.
fn print_header(args: &TrainArgs, config: &MlpConfig, data: &MnistLike, seed: u64) {
    let train_samples = data.train_samples().map_or(0, |s| s.len());
    let batches = train_samples / args.batch_size;
    println!(
        "Training {} on {}: {} training samples in {} batches of {}, {} test samples.",
        describe_model(config),
        args.data_set.title(),
        train_samples,
        args.limit_batches
            .map_or(batches, |limit| limit.min(batches)),
        args.batch_size,
        data.test_samples().map_or(0, |s| s.len())
    );
    let seed_note = if args.seed.is_some() {
        String::new()
    } else {
        format!(" (repeat with --seed {seed})")
    };
    println!(
        "Optimizer {}, init {}, epochs {}, shuffle {}, seed {seed}{seed_note}, threads {}{}.",
        describe_optimizer(args),
        config.init,
        args.num_epochs,
        if args.shuffle { "on" } else { "off" },
        rayon::current_num_threads(),
        match args.common.threads {
            None if rayon::current_num_threads() > 1 => " (or 1 while that is faster)",
            _ => "",
        }
    );
}

/// The line after each epoch.
fn print_epoch(row: &EpochMetrics, num_epochs: usize, interrupted: bool) {
    println!(
        "epoch {}/{num_epochs}{}  lr {}  train loss {:.4} accuracy {:.4}  test loss {:.4} \
         accuracy {:.4}  training {:.2} s, {:.0} samples/s, {:.1} GFLOP/s",
        row.epoch,
        if interrupted { " (interrupted)" } else { "" },
        row.learning_rate,
        row.train_loss,
        row.train_accuracy,
        row.test_loss,
        row.test_accuracy,
        row.seconds,
        row.samples_per_second,
        row.gflop_per_second
    );
}

/// The summary at the end of a run: accuracy, then the speed of the training loop, where
/// `epochs` holds each epoch's work and time.
fn print_summary(history: &[EpochMetrics], epochs: &[Throughput], run_start: Instant, end: RunEnd) {
    let Some(last) = history.last() else {
        return;
    };
    let best = history
        .iter()
        .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
        .unwrap_or(last);
    println!(
        "{}: best test accuracy {:.4} (epoch {}), final {:.4}; total {:.1} s.",
        match end {
            RunEnd::Completed => "Done",
            RunEnd::Interrupted => "Stopped by Ctrl-C",
        },
        best.test_accuracy,
        best.epoch,
        last.test_accuracy,
        run_start.elapsed().as_secs_f64(),
    );
    let total = Throughput {
        seconds: epochs.iter().map(|epoch| epoch.seconds).sum(),
        samples: epochs.iter().map(|epoch| epoch.samples).sum(),
        flops: epochs.iter().map(|epoch| epoch.flops).sum(),
    };
    let median = median(epochs.iter().map(|epoch| epoch.seconds).collect());
    let epoch_flops = epochs.iter().map(|epoch| epoch.flops).fold(0.0, f64::max);
    println!(
        "Training loop only (test evaluation excluded): {median:.2} s per epoch (median of {}), \
         {:.0} samples/s, {:.1} GFLOP/s ({:.2} GFLOP of matrix multiplication per epoch).",
        epochs.len(),
        total.samples_per_second(),
        total.gflop_per_second(),
        epoch_flops / 1e9
    );
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

/// Writes the model and what is known about its training to `path`.
fn save(
    model: &MLP,
    args: &TrainArgs,
    history: &[EpochMetrics],
    path: &Path,
) -> anyhow::Result<()> {
    let info = SaveInfo {
        data_set: args.data_set,
        epochs: history.len(),
        test_accuracy: history.last().map_or(f64::NAN, |m| m.test_accuracy),
        optimizer: &describe_optimizer(args),
    };
    let checkpoint: Checkpoint = model::to_checkpoint(model, &info);
    Ok(checkpoint.save(path)?)
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
}
