//! `cargo run --release -- train [flags]`: trains the course's `ActivatedMLP` built from your
//! parts on MNIST (or Fashion-MNIST), with the flags and the per-epoch output of `length train`.
//!
//! ```text
//! cargo run --release -- train                          # 5 epochs of your SGD, lr 0.1, Xavier
//! cargo run --release -- train --init length            # the notebook's normal(0, 0.01)
//! cargo run --release -- train --optimizer adam --learning-rate 0.001
//! cargo run --release -- train --data-set fashion
//! ```
//!
//! Each epoch uses the notebook's step schedule (the learning rate times 0.1 after epochs 1, 4,
//! 7, ...), then tests on all 10 000 test images. The data is read from `--data-dir`, else
//! `$LENGTH_DATA_DIR`, else `.data/`, and fetched there (verified) when it is missing.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use length_autograd::{Function, Optimizer, Value};
use length_data::{BatchConfig, Batches, DataSetName, MnistLike, MnistOptions, Samples};
use length_exercise::{ActivatedMLP, Adam, InitName, MeanSquaredError, Sgd};
use length_layers::{Model, train_step};
use length_optim::{LearningRateSchedule, StepDecay};
use length_tensor::argmax_rows;

/// Train the course's network, made of your own parts.
#[derive(Debug, Parser)]
#[command(name = "length-exercise", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train ActivatedMLP (784-512-512-10, ReLU, MSE) and test it after every epoch.
    Train(TrainArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OptimizerName {
    /// Your SGD (task 1).
    Sgd,
    /// Your Adam (task 5).
    Adam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DataSetArg {
    /// Handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST.
    Fashion,
}

#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// Number of passes over the training set.
    #[arg(long, default_value_t = 5)]
    num_epochs: usize,
    /// Initial learning rate.
    #[arg(long, default_value_t = 0.1)]
    learning_rate: f32,
    /// Update rule.
    #[arg(long, value_enum, default_value_t = OptimizerName::Sgd)]
    optimizer: OptimizerName,
    /// Weight initialization: xavier, or length (the notebook's normal(0, 0.01)).
    #[arg(long, default_value_t = InitName::Xavier)]
    init: InitName,
    /// Random seed of the initialization.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Data set to train and test on.
    #[arg(long, value_enum, default_value_t = DataSetArg::Mnist)]
    data_set: DataSetArg,
    /// Where the data sets live (default: $LENGTH_DATA_DIR, else .data/).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Samples per training step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Stop each epoch after N batches (for a quick try).
    #[arg(long, value_name = "N")]
    limit_batches: Option<usize>,
}

fn main() -> ExitCode {
    let Command::Train(args) = Cli::parse().command;
    match train(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn train(args: &TrainArgs) -> Result<(), Box<dyn std::error::Error>> {
    if args.num_epochs == 0 || args.batch_size == 0 || args.learning_rate.is_nan() {
        return Err(
            "--num-epochs and --batch-size must be at least 1, --learning-rate a number".into(),
        );
    }
    let (name, title) = match args.data_set {
        DataSetArg::Mnist => (DataSetName::Mnist, "MNIST"),
        DataSetArg::Fashion => (DataSetName::FashionMnist, "Fashion-MNIST"),
    };
    let data = MnistLike::load(
        name,
        &MnistOptions {
            batch_size: args.batch_size,
            data_dir: args.data_dir.clone(),
            ..MnistOptions::default()
        },
    )?;
    let (Some(train_samples), Some(test_samples)) = (data.train_samples(), data.test_samples())
    else {
        return Err("the data set was loaded without its training or test split".into());
    };
    let init = args.init;
    let mut model = ActivatedMLP::new(init, args.seed);
    let mut optimizer: Box<dyn Optimizer> = match args.optimizer {
        OptimizerName::Sgd => Box::new(Sgd::new(args.learning_rate)),
        OptimizerName::Adam => Box::new(Adam::new(args.learning_rate)),
    };
    let schedule = StepDecay::notebook(f64::from(args.learning_rate));
    let batches_per_epoch = data.train_epoch(0).len();
    let total = args
        .limit_batches
        .map_or(batches_per_epoch, |limit| limit.min(batches_per_epoch));
    println!(
        "Training your ActivatedMLP 784-512-512-10 (relu, mse) on {title}: {} training samples \
         in {total} batches of {}, {} test samples.",
        train_samples.len(),
        args.batch_size,
        test_samples.len()
    );
    println!(
        "Optimizer {} lr={} schedule=step, init {init}, epochs {}, seed {}.",
        format!("{:?}", args.optimizer).to_lowercase(),
        args.learning_rate,
        args.num_epochs,
        args.seed
    );

    let mut best = (0.0, 0);
    for epoch in 0..args.num_epochs {
        let learning_rate = schedule.apply(epoch, optimizer.as_mut());
        let mut batches = data.train_epoch(epoch as u64);
        let (mut loss_sum, mut correct, mut samples) = (0.0f64, 0usize, 0usize);
        let start = Instant::now();
        for _ in 0..total {
            let Some(batch) = batches.next_batch() else {
                break;
            };
            let step = train_step(
                &mut model,
                optimizer.as_mut(),
                batch.images_2d(),
                batch.labels,
            )?;
            if !step.loss.is_finite() {
                return Err(format!(
                    "training diverged: the loss became {} in epoch {} (learning rate {learning_rate})",
                    step.loss,
                    epoch + 1
                )
                .into());
            }
            loss_sum += f64::from(step.loss) * step.samples as f64;
            correct += step.correct;
            samples += step.samples;
        }
        let seconds = start.elapsed().as_secs_f64();
        let (test_loss, test_accuracy) = evaluate(&model, test_samples, data.batch_config())?;
        println!(
            "epoch {}/{}  lr {learning_rate}  train loss {:.4} accuracy {:.4}  test loss {test_loss:.4} \
             accuracy {test_accuracy:.4}  training {seconds:.2} s",
            epoch + 1,
            args.num_epochs,
            loss_sum / samples.max(1) as f64,
            correct as f64 / samples.max(1) as f64,
        );
        if test_accuracy > best.0 {
            best = (test_accuracy, epoch + 1);
        }
    }
    println!("Done: best test accuracy {:.4} (epoch {}).", best.0, best.1);
    Ok(())
}

/// The mean loss (your MSE) and the accuracy of `model` on every test sample.
fn evaluate(
    model: &ActivatedMLP,
    samples: &Samples,
    config: &BatchConfig,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let config = BatchConfig {
        batch_size: 250,
        keep_last_batch: true,
        ..config.clone()
    };
    let mut batches = Batches::in_order(samples, &config);
    let (mut loss_sum, mut correct, mut count) = (0.0f64, 0usize, 0usize);
    while let Some(batch) = batches.next_batch() {
        let logits = model.infer(batch.images_2d())?;
        correct += argmax_rows(logits.view())
            .iter()
            .zip(batch.labels)
            .filter(|&(&predicted, &label)| predicted == label as usize)
            .count();
        let loss = MeanSquaredError
            .forward(&[&Value::from(logits), &Value::from(batch.labels.to_owned())])?;
        loss_sum += f64::from(loss[[]]) * batch.len() as f64;
        count += batch.len();
    }
    Ok((
        loss_sum / count.max(1) as f64,
        correct as f64 / count.max(1) as f64,
    ))
}
