//! `length train`: the course notebook's training, with a person watching.
//!
//! A thin shell over the training library ([`length_train::Trainer`]): check the flags and the
//! destinations, build the model, optimizer and schedule, and call the library with this
//! command's [`Callbacks`](length_train::Callbacks) (progress bar or log lines, the epoch lines,
//! the metrics file, Ctrl-C: `watcher.rs`) and its [`StepRunner`](length_train::StepRunner) (the
//! thread governor). Then save the model first, plot, and summarize.
//!
//! The run stops early on Ctrl-C (after the current batch; the model is still tested and saved)
//! or when the loss stops being a finite number, in which case nothing is saved. A model whose
//! final test loss is not finite is not saved either: it would only overwrite a good file with a
//! useless one.
//!
//! Timing covers the training loop only: each epoch's seconds, samples per second and effective
//! GFLOP/s (see `throughput.rs`) leave out the test pass, as the JAX peer's `train_s` does. These
//! engineering figures, and the thread governor's decisions, are shown with `--verbose`.
//!
//! With a fixed `--seed` every random choice (weights, shuffling, dropout) is seeded and the
//! kernels give the same bits for any number of threads, so a run repeats exactly.
//!
//! Other binaries can run this whole command with a model of their own: see [`run_with`] and
//! [`main_with`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Parser, Subcommand};
use length_autograd::Optimizer;
use length_layers::{MlpConfig, Model};
use length_optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Constant, Cosine, LearningRateSchedule, Momentum,
    MomentumConfig, Sgd, StepDecay,
};
use length_train::{TrainError, Trainer};

use crate::UsageError;
use crate::args::{MetricsFormat, OptimizerName, PlotFormat, ScheduleName, TrainArgs};
use crate::data::{self, LoadRequest};
use crate::destination;
use crate::governor::ThreadGovernor;
use crate::interrupt::{self, StopRequest};
use crate::metrics::MetricsWriter;
use crate::model::{self, CLASSES, INPUTS, SaveInfo};
use crate::plot;
use crate::progress::{self, Display};
use crate::report::{describe_model, describe_optimizer, print_header, print_summary};
use crate::watcher::Watcher;

/// Samples per batch of the test pass. Any size gives the same accuracy (the loss may differ in
/// its last bits); 250 keeps the pass's arrays (the batch and two hidden layers, about 1.8 MB)
/// small next to the 55 MB of data, where 1000 added 7 MB to the run's peak memory.
const TEST_BATCH_SIZE: usize = 250;

/// The most values one layer's output may hold for a whole batch (`--batch-size` times the
/// widest layer): 2^28 `f32`, 1 GiB, and the backward pass keeps a gradient of the same size.
const MAX_BATCH_VALUES: usize = 1 << 28;

/// How a training run ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every epoch ran.
    Completed,
    /// Ctrl-C stopped it early (the model was still tested, saved and summarized).
    Interrupted,
}

impl RunEnd {
    /// The process exit code for this ending: 0, or 130 after Ctrl-C.
    pub fn exit_code(self) -> ExitCode {
        match self {
            RunEnd::Completed => ExitCode::SUCCESS,
            RunEnd::Interrupted => ExitCode::from(interrupt::INTERRUPTED_EXIT_CODE),
        }
    }
}

/// What `length train`'s flags ask of a model, handed to the model builder of [`run_with`].
#[derive(Clone, Debug, PartialEq)]
pub struct ModelRequest {
    /// The MLP the flags describe: sizes (784 inputs, the `--hidden` widths, 10 classes),
    /// activation, loss (also used for the test loss), dropout, initializer and seed.
    pub config: MlpConfig,
    /// Values per input image: 784 (28x28 pixels, scaled to 0-1).
    pub inputs: usize,
    /// Classes to tell apart: 10.
    pub classes: usize,
}

/// A model `length train` can train: any [`Model`] that may move between threads.
pub type TrainableModel = Box<dyn Model + Send>;

/// What `length train`'s flags ask of the optimizer, handed to the optimizer builder of
/// [`run_with_parts`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimizerRequest {
    /// `--optimizer`.
    pub name: OptimizerName,
    /// `--learning-rate`, the rate of the first epoch (the schedule changes it between epochs
    /// through [`LearningRate::set_learning_rate`](length_autograd::LearningRate)).
    pub learning_rate: f32,
}

/// An optimizer `length train` can train with: any [`Optimizer`] that may move between threads.
pub type TrainableOptimizer = Box<dyn Optimizer + Send>;

/// The training loss stopped being a finite number, during training or in the final test.
#[derive(Debug)]
pub struct Diverged {
    /// Where it happened: "the loss became inf in epoch 1, iteration 3 (learning rate 0.1)".
    what: String,
    learning_rate: f32,
    save: Option<PathBuf>,
}

impl fmt::Display for Diverged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "training diverged: {}. Try a smaller --learning-rate, e.g. {}.",
            self.what,
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

/// Runs `length train` with the MLP its flags describe.
pub fn run(args: TrainArgs) -> anyhow::Result<RunEnd> {
    run_with(args, |request| {
        Ok(Box::new(request.config.clone().build()?))
    })
}

/// Runs `length train`'s whole flow — the same flags, checks, output, metrics, plots, saving and
/// exit codes — with the model `build` makes from the [`ModelRequest`] the flags describe.
///
/// `build` may ignore the request's architecture and return any model that takes 784 inputs and
/// gives 10 class scores; the test loss is measured with the request's loss (`--loss`). When the
/// model is not the MLP the flags describe, the output names it by its
/// [`architecture`](Model::architecture) and leaves out GFLOP/s (its work is not known).
///
/// # Errors
/// As `length train`: a [`UsageError`] for flags that make no sense, anything else at run time.
///
/// # Example
/// A binary whose `train` subcommand trains a model of its own (here the flags' MLP again):
/// ```no_run
/// use clap::Parser;
/// use length_cli::args::TrainArgs;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(subcommand)]
///     command: Command,
/// }
///
/// #[derive(clap::Subcommand)]
/// enum Command {
///     Train(TrainArgs),
/// }
///
/// fn main() -> std::process::ExitCode {
///     let Command::Train(args) = Cli::parse().command;
///     let result = length_cli::train::run_with(args, |request| {
///         Ok(Box::new(request.config.clone().build()?))
///     });
///     length_cli::exit_code(result.map(|end| end.exit_code()))
/// }
/// ```
pub fn run_with(
    args: TrainArgs,
    build: impl FnOnce(&ModelRequest) -> anyhow::Result<TrainableModel> + Send,
) -> anyhow::Result<RunEnd> {
    run_with_parts(args, build, library_optimizer)
}

/// [`run_with`], with the optimizer built by the caller too: `build_optimizer` gets the
/// [`OptimizerRequest`] of `--optimizer` and `--learning-rate` and returns the optimizer to train
/// with, or an error for one it does not have (a [`UsageError`] exits with code 2, as a bad flag
/// does). The exercise project trains a student's model with the student's own SGD or Adam so.
///
/// # Errors
/// As [`run_with`], and whatever the builders return.
pub fn run_with_parts(
    args: TrainArgs,
    build_model: impl FnOnce(&ModelRequest) -> anyhow::Result<TrainableModel> + Send,
    build_optimizer: impl FnOnce(&OptimizerRequest) -> anyhow::Result<TrainableOptimizer> + Send,
) -> anyhow::Result<RunEnd> {
    check_sense(&args)?;
    crate::on_thread_pool(args.common.threads, || {
        train(args, build_model, build_optimizer)
    })
}

/// The whole `length train` command, with `build` making the model: parses the process's
/// arguments as `PROGRAM train [flags]`, runs [`run_with`], prints any error as `length` does and
/// returns the exit code. The `main` of an exercise project's training binary is one call:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     length_cli::train::main_with(|request| Ok(Box::new(request.config.clone().build()?)))
/// }
/// ```
pub fn main_with(
    build: impl FnOnce(&ModelRequest) -> anyhow::Result<TrainableModel> + Send,
) -> ExitCode {
    main_with_parts(build, library_optimizer)
}

/// [`main_with`], with the optimizer built by the caller too (see [`run_with_parts`]).
///
/// ```no_run
/// use length_cli::train::{OptimizerRequest, TrainableOptimizer, library_optimizer};
///
/// fn main() -> std::process::ExitCode {
///     length_cli::train::main_with_parts(
///         |request| Ok(Box::new(request.config.clone().build()?)),
///         |request: &OptimizerRequest| -> anyhow::Result<TrainableOptimizer> {
///             library_optimizer(request) // or an optimizer of your own
///         },
///     )
/// }
/// ```
pub fn main_with_parts(
    build_model: impl FnOnce(&ModelRequest) -> anyhow::Result<TrainableModel> + Send,
    build_optimizer: impl FnOnce(&OptimizerRequest) -> anyhow::Result<TrainableOptimizer> + Send,
) -> ExitCode {
    /// `PROGRAM train [flags]`.
    #[derive(Parser)]
    #[command(about = "Train a model with `length train`'s flags and output.")]
    struct TrainCli {
        #[command(subcommand)]
        command: TrainCommand,
    }
    /// The one subcommand.
    #[derive(Subcommand)]
    enum TrainCommand {
        /// Train a model, report the test accuracy after every epoch, optionally save it.
        Train(TrainArgs),
    }
    let TrainCommand::Train(args) = TrainCli::parse().command;
    crate::exit_code(run_with_parts(args, build_model, build_optimizer).map(RunEnd::exit_code))
}

/// Refuses, before any work, flags that together make no sense, and destinations that cannot be
/// written.
fn check_sense(args: &TrainArgs) -> anyhow::Result<()> {
    let widest = args
        .architecture
        .hidden
        .0
        .iter()
        .copied()
        .chain([INPUTS, CLASSES])
        .max()
        .unwrap_or(INPUTS);
    if args.batch_size.saturating_mul(widest) > MAX_BATCH_VALUES {
        return Err(UsageError(format!(
            "--batch-size {} with a layer of {widest} units needs {} values per layer output, \
             more than the {MAX_BATCH_VALUES} (1 GiB) a step may hold; use a smaller batch",
            args.batch_size,
            args.batch_size.saturating_mul(widest)
        ))
        .into());
    }
    for (flag, path) in [
        ("--save", &args.save),
        ("--metrics", &args.metrics),
        ("--plot", &args.plot),
    ] {
        if let Some(path) = path {
            destination::check_writable(flag, path)?;
        }
    }
    Ok(())
}

/// Loads the data, trains with the library, then saves, plots and summarizes.
fn train(
    args: TrainArgs,
    build_model: impl FnOnce(&ModelRequest) -> anyhow::Result<TrainableModel>,
    build_optimizer: impl FnOnce(&OptimizerRequest) -> anyhow::Result<TrainableOptimizer>,
) -> anyhow::Result<RunEnd> {
    let seed = args.seed.unwrap_or_else(fresh_seed);
    let config = model::config_from_args(&args.architecture, args.init, seed);
    let mut model = build_model(&ModelRequest {
        config: config.clone(),
        inputs: INPUTS,
        classes: CLASSES,
    })?;
    let mut optimizer = build_optimizer(&OptimizerRequest {
        name: args.optimizer,
        learning_rate: args.learning_rate,
    })?;
    // The flags' own MLP is described by its sizes, and its work is known.
    let is_flags_mlp = model.architecture() == config.to_string();
    let description = if is_flags_mlp {
        describe_model(&config)
    } else {
        model.architecture()
    };
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
    let schedule = build_schedule(args.lr_schedule, args.learning_rate, args.num_epochs);
    let stop = StopRequest::install()?;
    // Without --threads, each step runs on all cores or on one, whichever is faster right now.
    let mut governor = match args.common.threads {
        None if rayon::current_num_threads() > 1 => Some(ThreadGovernor::default()),
        _ => None,
    };
    let metrics = match &args.metrics {
        Some(path) => Some(MetricsWriter::create(path, metrics_format(path))?),
        None => None,
    };

    print_header(&args, &description, &data, seed);
    let mut watcher = Watcher {
        display: Display {
            live: progress::is_live(),
            print_every: args.train_verbosity,
            verbose: args.verbose,
        },
        progress: None,
        stop: &stop,
        metrics,
        metrics_error: None,
        single_thread_steps: governor.as_ref().map(ThreadGovernor::single_thread_steps),
        sizes: is_flags_mlp.then(|| config.sizes.clone()),
        learning_rate: args.learning_rate,
        history: Vec::new(),
        speeds: Vec::new(),
    };
    let trainer = Trainer::new(&data)
        .epochs(args.num_epochs)
        .schedule(schedule.as_ref())
        .limit_batches(args.limit_batches)
        .test_on(test, config.loss)
        .test_batch_size(TEST_BATCH_SIZE);
    let run_start = Instant::now();
    let fitted = match &mut governor {
        Some(governor) => trainer.fit_with(&mut *model, optimizer.as_mut(), &mut watcher, governor),
        None => trainer.fit(&mut *model, optimizer.as_mut(), &mut watcher),
    };
    watcher.end_epoch();
    if stop.take_notice() {
        eprintln!("{}", interrupt::NOTICE);
    }
    if let Err(error) = fitted {
        return Err(match error {
            TrainError::Diverged {
                epoch,
                iteration,
                loss,
                learning_rate,
            } => Diverged {
                what: format!(
                    "the loss became {loss} in epoch {epoch}, iteration {iteration} \
                     (learning rate {learning_rate})"
                ),
                learning_rate,
                save: args.save.clone(),
            }
            .into(),
            other => anyhow::Error::new(other).context("training failed"),
        });
    }
    let history = std::mem::take(&mut watcher.history);
    if let Some(last) = history.last()
        && !last.test_loss.is_finite()
    {
        return Err(Diverged {
            what: format!(
                "the test loss after epoch {} is {} (learning rate {})",
                last.epoch, last.test_loss, last.learning_rate
            ),
            learning_rate: last.learning_rate,
            save: args.save.clone(),
        }
        .into());
    }

    let end = if stop.is_raised() {
        RunEnd::Interrupted
    } else {
        RunEnd::Completed
    };
    // The model first: whatever fails afterwards, it is on disk.
    let mut failures: Vec<anyhow::Error> = watcher.metrics_error.take().into_iter().collect();
    if let Some(path) = &args.save {
        let info = SaveInfo {
            data_set: args.data_set,
            epochs: history.len(),
            test_accuracy: history.last().map_or(f64::NAN, |m| m.test_accuracy),
            optimizer: &describe_optimizer(&args),
        };
        let checkpoint = model::to_checkpoint(&*model, &info);
        match destination::save_with_fallback(&checkpoint, path) {
            Ok(saved) => println!("Saved the model to {}", saved.display()),
            Err(error) => failures.insert(0, error),
        }
    }
    if let Some(path) = &args.plot {
        let title = format!("{description} on {}", args.data_set.title());
        match plot::draw_curves(path, plot_format(path), &history, &title) {
            Ok(()) => println!("Plotted the learning curves to {}", path.display()),
            Err(error) => failures.push(error),
        }
    }
    print_summary(&history, &watcher.speeds, run_start, end, args.verbose);
    match failures.len() {
        0 => Ok(end),
        _ => {
            let mut failures = failures.into_iter();
            let first = failures.next().expect("one failure at least");
            for other in failures {
                eprintln!("error: {other:#}");
            }
            Err(first)
        }
    }
}

/// The library's optimizer that `--optimizer` names, with the initial learning rate and the
/// library's other defaults (momentum 0.9; Adam's betas 0.9, 0.999; AdamW's weight decay 0.01):
/// what `length train` trains with.
///
/// # Errors
/// None: every name has its optimizer (the `Result` fits [`run_with_parts`]).
pub fn library_optimizer(request: &OptimizerRequest) -> anyhow::Result<TrainableOptimizer> {
    let learning_rate = request.learning_rate;
    Ok(match request.name {
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
    })
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
