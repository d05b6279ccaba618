//! `length_cli`: the command-line face of LENGTH, as a library the `length` binary is built on.
//!
//! ```text
//! length train                                  # the course notebook: MNIST, SGD 0.1, 5 epochs
//! length train --optimizer adam --learning-rate 0.001 --num-epochs 2 --save mnist.safetensors
//! length train --data-set fashion --metrics run.csv --plot run.svg --seed 1
//! length evaluate --model mnist.safetensors    # test loss, accuracy, confusion matrix
//! length predict --model mnist.safetensors assets/digit-7.png
//! length graph --dot | dot -Tsvg > graph.svg
//! ```
//!
//! A thin shell over the library crates (the training loop itself is `length_train`'s): each
//! subcommand lives in its own file (`train.rs`, `evaluate.rs`, `predict.rs`, `graph.rs`,
//! `exercise/`) and only
//! parses, calls the library, and prints. The helpers each have one job: `args.rs` (options and
//! their validation), `data.rs` (loading and fetching the data), `model.rs` (building a model, to
//! and from a checkpoint), `checkpoint.rs` (safetensors files), `metrics.rs` (the metrics file),
//! `progress.rs` (progress bar or log lines), `report.rs` (what `train` prints), `throughput.rs` (samples/s and GFLOP/s),
//! `governor.rs` (all cores or one, as measured), `plot.rs` (learning curves), `picture.rs`
//! (image files in), `prepare.rs` and `resample.rs` (a picture made into the 28x28 input the data
//! set's images are), `interrupt.rs` (Ctrl-C), `destination.rs` (output files checked before training, and a
//! model saved without loss).
//!
//! Exit codes: 0 on success; 2 for a bad command line (clap's own errors, every value's
//! validation in `args.rs`, and output paths that cannot be written); 1 for anything that goes
//! wrong at run time (a missing or corrupt model, unreadable images, data that cannot be fetched,
//! a diverged training run); 130 when Ctrl-C stopped training (after saving and the summary).
//! Errors are printed as one message with its causes, never as a panic trace.
//!
//! The library target lets other binaries reuse a whole command: [`train::run_with`] runs
//! `length train` (same flags, same output) with a model the caller builds, so a project with its
//! own [`Model`](length_layers::Model) gets `cargo run --release -- train [flags]` for free
//! ([`train::run_with_parts`] also takes the optimizer from the caller). The course's exercise
//! projects (`length exercise new`) do exactly that with a student's own parts, and their tests
//! report to `length exercise check` through [`exercise::harness`].

pub mod args;
pub mod checkpoint;
pub mod data;
pub mod destination;
pub mod evaluate;
pub mod exercise;
pub mod governor;
pub mod graph;
pub mod interrupt;
pub mod metrics;
pub mod model;
pub mod picture;
pub mod plot;
pub mod predict;
pub mod prepare;
pub mod progress;
pub mod report;
pub mod resample;
pub mod throughput;
pub mod train;
mod watcher;

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

/// The exit code of a command's `result`, printing an error the way `length` does: a
/// [`UsageError`] as clap prints a bad flag (exit 2), anything else as `error: ...` with its
/// causes (exit 1).
pub fn exit_code(result: anyhow::Result<std::process::ExitCode>) -> std::process::ExitCode {
    use clap::CommandFactory;
    match result {
        Ok(code) => code,
        Err(error) => match error.downcast_ref::<UsageError>() {
            Some(usage) => args::Cli::command()
                .error(clap::error::ErrorKind::ValueValidation, usage)
                .exit(),
            None => {
                eprintln!("error: {error:#}");
                std::process::ExitCode::FAILURE
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
