//! `cargo run --release -- train [flags]`: trains the course's `ActivatedMLP` built from your
//! parts, with your SGD or Adam, on MNIST (or Fashion-MNIST). It is `length train` itself
//! (`length_cli::train`: the same flags, progress bar, per-epoch test accuracy, step schedule,
//! summary, `--save`, `--metrics`, `--plot`), handed your model and your optimizer.
//!
//! ```text
//! cargo run --release -- train                          # 5 epochs of your SGD, lr 0.1, Xavier
//! cargo run --release -- train --init length            # the notebook's normal(0, 0.01)
//! cargo run --release -- train --optimizer adam --learning-rate 0.001
//! cargo run --release -- train --data-set fashion
//! cargo run --release -- train --help                   # every flag
//! ```

use std::process::ExitCode;

use length_cli::UsageError;
use length_cli::args::OptimizerName;
use length_cli::train::{self, ModelRequest, OptimizerRequest, TrainableModel, TrainableOptimizer};
use length_exercise::{ActivatedMLP, Adam, Sgd};

/// Large blocks (batches, weights, gradients) start on a cache-line pair, as in the `length`
/// command: see [`length_tensor::CacheAligned`].
#[global_allocator]
static ALLOCATOR: length_tensor::CacheAligned = length_tensor::CacheAligned;

fn main() -> ExitCode {
    train::main_with_parts(your_model, your_optimizer)
}

/// Your `ActivatedMLP`, with the weights `--init` and `--seed` ask for. Flags that describe
/// another network (`--hidden`, `--activation`, `--loss`, `--dropout`) are refused.
fn your_model(request: &ModelRequest) -> anyhow::Result<TrainableModel> {
    let model = ActivatedMLP::from_config(&request.config)
        .map_err(|error| UsageError(error.to_string()))?;
    Ok(Box::new(model))
}

/// Your SGD (task 1) or your Adam (task 5), starting at `--learning-rate`.
fn your_optimizer(request: &OptimizerRequest) -> anyhow::Result<TrainableOptimizer> {
    match request.name {
        OptimizerName::Sgd => Ok(Box::new(Sgd::new(request.learning_rate))),
        OptimizerName::Adam => Ok(Box::new(Adam::new(request.learning_rate))),
        other => Err(UsageError(format!(
            "--optimizer {}: the exercise trains with your own optimizers, sgd (task 1) or adam \
             (task 5)",
            format!("{other:?}").to_lowercase()
        ))
        .into()),
    }
}
