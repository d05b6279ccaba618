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
//! bar or log lines), `plot.rs` (learning curves), `image.rs` (PNG input), `interrupt.rs`
//! (Ctrl-C).
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
mod graph;
mod image;
mod interrupt;
mod metrics;
mod model;
mod plot;
mod predict;
mod progress;
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

/// Sizes rayon's global thread pool when `--threads` is given (the kernels run on it).
pub fn configure_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(threads) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|error| anyhow::anyhow!("cannot start {threads} threads: {error}"))?;
    }
    Ok(())
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
