//! `length`: the command-line face of LENGTH (the commands live in the `length_cli` library).

use std::process::ExitCode;

use clap::Parser;

use length_cli::args::{Cli, Command};
use length_cli::{evaluate, exercise, graph, predict, train};

/// Large blocks (batches, weights, gradients) start on a cache-line pair: see
/// [`length_tensor::CacheAligned`].
#[global_allocator]
static ALLOCATOR: length_tensor::CacheAligned = length_tensor::CacheAligned;

fn main() -> ExitCode {
    // A panic is a bug in length, not a user's mistake: say so in one line, without a trace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error (a bug in length, please report it): {info}");
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train::run(args).map(train::RunEnd::exit_code),
        Command::Evaluate(args) => evaluate::run(args).map(|()| ExitCode::SUCCESS),
        Command::Predict(args) => predict::run(args).map(|()| ExitCode::SUCCESS),
        Command::Graph(args) => graph::run(args).map(|()| ExitCode::SUCCESS),
        Command::Exercise(args) => exercise::run(args),
    };
    length_cli::exit_code(result)
}
