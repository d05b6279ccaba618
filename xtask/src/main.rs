//! `cargo xtask`: the project's chores, written in Rust so they run wherever cargo does.
//!
//! - `cargo xtask fetch-data`: fill the data directory with MNIST and Fashion-MNIST
//!   (see [`fetch_data`](mod@fetch_data)).
//! - `cargo xtask bench`: run the kernel benchmarks and print one table (see [`bench`](mod@bench)).
//! - `cargo xtask bench-epoch`: time whole MNIST training epochs of `length train`, SGD and Adam,
//!   optionally next to the JAX peer with the same optimizers
//!   (see [`epoch`]).

mod bench;
mod epoch;
mod fetch_data;
mod peak_share;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Project chores for LENGTH")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Download (or copy) MNIST and Fashion-MNIST into the data directory, verified by SHA-256.
    FetchData(fetch_data::Args),
    /// Run the kernel benchmarks (criterion) and print one table of GFLOP/s, GB/s and ratios.
    Bench(bench::Args),
    /// Time MNIST training epochs of `length train` with SGD and Adam: s/epoch, samples/s, GFLOP/s.
    BenchEpoch(epoch::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::FetchData(args) => fetch_data::run(args),
        Task::Bench(args) => bench::run(args),
        Task::BenchEpoch(args) => epoch::run(args),
    }
}
