//! `length`: the command-line face of LENGTH.
//!
//! ```text
//! length train                                  # the course notebook: MNIST, SGD 0.1, 5 epochs
//! length train --optimizer adam --learning-rate 0.001 --num-epochs 2 --save mnist.safetensors
//! length train --data-set fashion --metrics run.csv --plot run.svg --seed 1
//! length evaluate --model mnist.safetensors    # test loss, accuracy, confusion matrix
//! length predict --model mnist.safetensors digit.png
//! length graph --dot | dot -Tsvg > graph.svg
//! ```
//!
//! A thin shell over the library crates: each subcommand lives in its own file (`train.rs`,
//! `evaluate.rs`, `predict.rs`, `graph.rs`) and only parses, calls the library, and prints. The
//! helpers each have one job: `args.rs` (options and their validation), `data.rs` (loading and
//! fetching the data), `model.rs` (building a model, to and from a checkpoint), `checkpoint.rs`
//! (safetensors files), `metrics.rs` (averages and the metrics file), `progress.rs` (progress
//! bar or log lines), `throughput.rs` (samples/s and GFLOP/s), `governor.rs` (all cores or one, as
//! measured), `plot.rs` (learning curves),
//! `image.rs` (PNG input), `interrupt.rs` (Ctrl-C).
//!
//! Exit codes: 0 on success; 2 for a bad command line (clap's own errors, every value's
//! validation in `args.rs`, and output paths that cannot be written); 1 for anything that goes
//! wrong at run time (a missing or corrupt model, unreadable images, data that cannot be fetched,
//! a diverged training run); 130 when Ctrl-C stopped training (after saving and the summary).
//! Errors are printed as one message with its causes, never as a panic trace.

mod args;
mod checkpoint;
mod data;
mod evaluate;
mod exercise;
mod governor;
mod graph;
mod image;
mod interrupt;
mod metrics;
mod model;
mod plot;
mod predict;
mod progress;
mod throughput;
mod train;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use args::{Cli, Command};

/// A mistake in how the command was called, found after parsing: exits with code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Runs `work` as one of the workers of a rayon thread pool with `threads` threads (`--threads`;
/// default: one per core), on which the kernels and the optimizer's passes run.
///
/// The work runs *on* the pool, not on the main thread, so that every parallel kernel starts at
/// once on the thread that calls it and the other workers join in by stealing parts of it. Called
/// from outside the pool, each kernel would instead be handed to a sleeping worker while the
/// caller waits; when another program keeps a core busy, the woken worker may be the one on that
/// core and wait out the other program's time slice, milliseconds, several times per training
/// step. Started in place, the kernel runs on the free core and the busy one helps when it can:
/// with one core of two kept busy, a default-thread epoch then takes about as long as a
/// `--threads 1` one, instead of nearly twice as long.
pub fn on_thread_pool<R: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> anyhow::Result<R> + Send,
) -> anyhow::Result<R> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0)) // 0: rayon's default, one per core
        .thread_name(|index| format!("length-worker-{index}"))
        .build()
        .map_err(|error| {
            let count = threads.map_or("the default number of".to_owned(), |n| n.to_string());
            anyhow::anyhow!("cannot start {count} threads: {error}")
        })?;
    pool.install(work)
}

fn main() -> ExitCode {
    // A panic is a bug in length, not a user's mistake: say so in one line, without a trace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error (a bug in length, please report it): {info}");
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train::run(args).map(|end| match end {
            train::RunEnd::Completed => ExitCode::SUCCESS,
            train::RunEnd::Interrupted => ExitCode::from(interrupt::INTERRUPTED_EXIT_CODE),
        }),
        Command::Evaluate(args) => evaluate::run(args).map(|()| ExitCode::SUCCESS),
        Command::Predict(args) => predict::run(args).map(|()| ExitCode::SUCCESS),
        Command::Graph(args) => graph::run(args).map(|()| ExitCode::SUCCESS),
        Command::Exercise(args) => exercise::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => match error.downcast_ref::<UsageError>() {
            Some(usage) => Cli::command()
                .error(clap::error::ErrorKind::ValueValidation, usage)
                .exit(),
            None => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_runs_on_a_worker_of_a_pool_of_the_given_size() {
        let (index, threads) = on_thread_pool(Some(3), || {
            Ok((rayon::current_thread_index(), rayon::current_num_threads()))
        })
        .unwrap();
        assert!(index.is_some(), "the work ran outside the pool");
        assert_eq!(threads, 3);
    }
}
