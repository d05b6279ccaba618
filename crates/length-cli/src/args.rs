//! The command line: every subcommand's options (clap derive) and their validation.
//!
//! Every value is checked while it is parsed, so a bad flag is reported by clap, with the flag's
//! name and the reason, and the process exits with code 2 before any work starts. The defaults are
//! the course notebook's: MNIST, SGD with learning rate 0.1, batch size 64, 5 epochs, the step
//! schedule, and the 784-512-512-10 ReLU MLP trained with MSE against one-hot labels.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `length`: train, evaluate and use LENGTH's multi-layer perceptrons on MNIST and Fashion-MNIST.
#[derive(Debug, Parser)]
#[command(name = "length", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model, report the test accuracy after every epoch, optionally save it.
    Train(TrainArgs),
    /// Measure a saved model on a test set: loss, accuracy and the confusion matrix.
    Evaluate(EvaluateArgs),
    /// Classify drawings and photos (any size, PNG/JPEG/BMP/GIF/WebP) with a saved model.
    Predict(PredictArgs),
    /// Print a model's computational graph as a table, or as Graphviz DOT.
    Graph(GraphArgs),
    /// The course's exercise: create a student's project, check it, get hints.
    Exercise(crate::exercise::ExerciseArgs),
}

/// The two data sets LENGTH trains on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DataSetName {
    /// Handwritten digits 0-9.
    Mnist,
    /// Zalando's Fashion-MNIST: ten kinds of clothing.
    Fashion,
}

impl DataSetName {
    /// The name used on the command line and in model metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            DataSetName::Mnist => "mnist",
            DataSetName::Fashion => "fashion",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output back.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "mnist" => Some(DataSetName::Mnist),
            "fashion" => Some(DataSetName::Fashion),
            _ => None,
        }
    }
}

/// The update rules `--optimizer` can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerName {
    /// Plain stochastic gradient descent: `w -= lr * g`.
    Sgd,
    /// SGD with momentum 0.9.
    Momentum,
    /// Adam (beta1 0.9, beta2 0.999, eps 1e-8).
    Adam,
    /// Adam with decoupled weight decay.
    Adamw,
}

/// Learning-rate schedules, applied between epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScheduleName {
    /// The course notebook's: x0.1 after epochs 1, 4, 7, ... (lr, lr/10, lr/10, lr/10, lr/100).
    Step,
    /// The same learning rate for every epoch.
    Constant,
    /// Cosine decay from the learning rate towards zero over all epochs.
    Cosine,
}

/// The activation between hidden layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ActivationName {
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// No activation: the network is linear.
    None,
}

/// The training loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LossName {
    /// Mean squared error against one-hot labels (the course's choice).
    Mse,
    /// Softmax cross-entropy against the labels.
    CrossEntropy,
}

/// How the weights start out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitName {
    /// Glorot/Xavier normal: N(0, 2 / (fan_in + fan_out)) for each layer.
    Xavier,
    /// LENGTH's classic normal(0, 0.01).
    Length,
}

/// The shape and nonlinearity of a multi-layer perceptron.
#[derive(Clone, Debug, Args)]
pub struct ArchitectureArgs {
    /// Hidden layer widths, comma separated; `none` for a single linear layer. Each at most
    /// 65536, and at most 100 million parameters in all.
    #[arg(long, value_name = "N,N,...", default_value = "512,512", value_parser = parse_hidden)]
    pub hidden: Hidden,
    /// Activation after every hidden layer.
    #[arg(long, value_enum, default_value_t = ActivationName::Relu)]
    pub activation: ActivationName,
    /// Training loss.
    #[arg(long, value_enum, default_value_t = LossName::Mse)]
    pub loss: LossName,
    /// Dropout rate after every hidden activation while training, in [0, 1).
    #[arg(long, value_name = "R", default_value_t = 0.0, value_parser = parse_dropout,
          allow_negative_numbers = true)]
    pub dropout: f32,
}

/// Hidden layer widths, parsed from `512,512`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hidden(pub Vec<usize>);

/// Options of `length train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Number of passes over the training set.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = parse_at_least_one)]
    pub num_epochs: usize,
    /// Samples per training step (at most 60000, the larger training set).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = parse_batch_size)]
    pub batch_size: usize,
    /// Update rule.
    #[arg(long, value_enum, default_value_t = OptimizerName::Sgd)]
    pub optimizer: OptimizerName,
    /// Data set to train and test on.
    #[arg(long, value_enum, default_value_t = DataSetName::Mnist)]
    pub data_set: DataSetName,
    /// Initial learning rate (finite, > 0).
    #[arg(long, value_name = "LR", default_value_t = 0.1, value_parser = parse_learning_rate,
          allow_negative_numbers = true)]
    pub learning_rate: f32,
    /// Learning-rate schedule across epochs.
    #[arg(long, value_enum, default_value_t = ScheduleName::Step)]
    pub lr_schedule: ScheduleName,
    /// When output is not a terminal, print a progress line every N iterations (0: never).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub train_verbosity: usize,
    /// Also show engineering figures: samples/s, GFLOP/s, and where the steps ran.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// The model.
    #[command(flatten)]
    pub architecture: ArchitectureArgs,
    /// Weight initialization.
    #[arg(long, value_enum, default_value_t = InitName::Xavier)]
    pub init: InitName,
    /// Random seed for initialization, shuffling and dropout; the same seed gives the same numbers
    /// for any number of threads. Without it a seed is drawn and printed.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Shuffle the training set before every epoch.
    #[arg(long)]
    pub shuffle: bool,
    /// Stop each epoch after N training batches (for quick experiments).
    #[arg(long, value_name = "N", value_parser = parse_at_least_one)]
    pub limit_batches: Option<usize>,
    /// The common options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Write one row per epoch to FILE: CSV (.csv) or JSON lines (.jsonl, .json).
    #[arg(long, value_name = "FILE", value_parser = parse_metrics_path)]
    pub metrics: Option<PathBuf>,
    /// Draw the loss and accuracy curves to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", value_parser = parse_plot_path)]
    pub plot: Option<PathBuf>,
    /// Save the trained model to FILE (safetensors).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
}

/// Options every subcommand that touches data shares.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Worker threads for the kernels (default: one per core; at most 256).
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Where the data sets live (default: $LENGTH_DATA_DIR, else .data/ here); missing files are
    /// fetched from $LENGTH_DATA_MIRROR or the public hosts.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Options of `length evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The saved model (safetensors, written by `length train --save`).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Data set to test on (default: the one the model was trained on).
    #[arg(long, value_enum)]
    pub data_set: Option<DataSetName>,
    /// Samples per evaluation batch.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = parse_at_least_one)]
    pub batch_size: usize,
    /// The common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of `length predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The saved model (safetensors, written by `length train --save`).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// How many of the best classes to show per image (1-10).
    #[arg(long, value_name = "K", default_value_t = 3,
          value_parser = clap::value_parser!(u8).range(1..=10))]
    pub top: u8,
    /// Prepare the images as this data set's were made [default: the model's data set].
    #[arg(long, value_enum, value_name = "NAME")]
    pub data_set: Option<DataSetName>,
    /// The images' background: guessed from the border, or given.
    #[arg(long, value_enum, value_name = "KIND", default_value = "auto")]
    pub background: BackgroundChoice,
    /// Also print the 28x28 image the model sees, in shades of ASCII.
    #[arg(long)]
    pub show: bool,
    /// Images (PNG, JPEG, BMP, GIF, WebP; any size), or folders of them.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<PathBuf>,
}

/// What `length predict` takes as an image's background.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackgroundChoice {
    /// Light if the border's median is above half brightness.
    Auto,
    /// Light paper with dark ink: inverted, since the data sets are light on black.
    Light,
    /// Dark, like the data sets' own images: used as it is.
    Dark,
}

/// Options of `length graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Show the graph of a saved model instead of the one the architecture options describe.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["hidden", "activation", "loss", "dropout"])]
    pub model: Option<PathBuf>,
    /// The model to draw, when no `--model` is given.
    #[command(flatten)]
    pub architecture: ArchitectureArgs,
    /// Batch size of the example input the graph is traced with.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = parse_at_least_one)]
    pub batch_size: usize,
    /// Print Graphviz DOT instead of the table.
    #[arg(long)]
    pub dot: bool,
}

/// Parses a count that must be at least one (epochs, batch size, threads).
fn parse_at_least_one(text: &str) -> Result<usize, String> {
    let value: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if value == 0 {
        return Err("must be at least 1".to_string());
    }
    Ok(value)
}

/// The most threads `--threads` accepts. The kernels split their work into at most a few hundred
/// parts, so more threads than this could only wait; and starting tens of thousands of threads
/// takes the system most of a minute before anything is refused.
pub const MAX_THREADS: usize = 256;

/// The widest hidden layer `--hidden` accepts: 65536 units, 64 times the widest course model.
pub const MAX_HIDDEN_WIDTH: usize = 65_536;

/// The most parameters (weights and biases) a model from `--hidden` may have: 100 million, 400 MB
/// of `f32`, which Adam's two moments and the gradients triple. Larger models would exhaust a
/// typical machine's memory, and would take hours per epoch on a CPU anyway.
pub const MAX_PARAMETERS: u128 = 100_000_000;

/// The largest `--batch-size`: the larger training set (MNIST's and Fashion-MNIST's) has 60000
/// samples.
pub const MAX_BATCH_SIZE: usize = 60_000;

/// Parses a worker thread count: 1 to [`MAX_THREADS`].
fn parse_threads(text: &str) -> Result<usize, String> {
    let threads = parse_at_least_one(text)?;
    if threads > MAX_THREADS {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        return Err(format!(
            "at most {MAX_THREADS} threads (this machine has {cores} cores; more threads than \
             cores only wait for each other)"
        ));
    }
    Ok(threads)
}

/// Parses a batch size: 1 to [`MAX_BATCH_SIZE`].
fn parse_batch_size(text: &str) -> Result<usize, String> {
    let batch_size = parse_at_least_one(text)?;
    if batch_size > MAX_BATCH_SIZE {
        return Err(format!(
            "at most {MAX_BATCH_SIZE}, the number of samples in the larger training set"
        ));
    }
    Ok(batch_size)
}

/// Parses a learning rate: a finite number greater than zero.
fn parse_learning_rate(text: &str) -> Result<f32, String> {
    let value: f32 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!(
            "the learning rate must be finite and greater than 0, got {text}"
        ));
    }
    Ok(value)
}

/// Parses a dropout rate in [0, 1).
fn parse_dropout(text: &str) -> Result<f32, String> {
    let value: f32 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !(0.0..1.0).contains(&value) {
        return Err(format!(
            "the dropout rate must be at least 0 and below 1, got {text}"
        ));
    }
    Ok(value)
}

/// Parses `512,512` (or `none`) into hidden layer widths, each 1 to [`MAX_HIDDEN_WIDTH`], with
/// at most [`MAX_PARAMETERS`] parameters between the 784 inputs and the 10 classes.
fn parse_hidden(text: &str) -> Result<Hidden, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(Hidden(Vec::new()));
    }
    let widths = text
        .split(',')
        .map(|width| match width.trim().parse::<usize>() {
            Ok(0) => Err("every hidden layer needs at least 1 unit".to_string()),
            Ok(width) if width > MAX_HIDDEN_WIDTH => Err(format!(
                "a hidden layer of {width} units is wider than {MAX_HIDDEN_WIDTH}, the most \
                 a model trained on a CPU can use"
            )),
            Ok(width) => Ok(width),
            Err(_) => Err(format!(
                "`{width}` is not a layer width; write widths like 512,512 (or `none`)"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let parameters = parameter_count(&widths);
    if parameters > MAX_PARAMETERS {
        return Err(format!(
            "these layers have {parameters} parameters, more than the {MAX_PARAMETERS} that fit \
             in memory with their gradients and optimizer state"
        ));
    }
    Ok(Hidden(widths))
}

/// The weights and biases of an MLP from 784 inputs through `hidden` to 10 classes (in `u128`,
/// saturating, so no list of widths can overflow it).
fn parameter_count(hidden: &[usize]) -> u128 {
    let sizes: Vec<u128> = std::iter::once(crate::model::INPUTS)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(crate::model::CLASSES))
        .map(|size| size as u128)
        .collect();
    sizes
        .windows(2)
        .map(|pair| (pair[0] + 1).saturating_mul(pair[1]))
        .fold(0, u128::saturating_add)
}

/// The formats `--metrics` can write, chosen by the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl MetricsFormat {
    /// The format a path's extension asks for, if it is one we write.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match extension(path).as_deref() {
            Some("csv") => Some(MetricsFormat::Csv),
            Some("jsonl" | "json" | "ndjson") => Some(MetricsFormat::JsonLines),
            _ => None,
        }
    }
}

/// The image formats `--plot` can draw, chosen by the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotFormat {
    /// Scalable vector graphics.
    Svg,
    /// A PNG bitmap.
    Png,
}

impl PlotFormat {
    /// The format a path's extension asks for, if it is one we draw.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match extension(path).as_deref() {
            Some("svg") => Some(PlotFormat::Svg),
            Some("png") => Some(PlotFormat::Png),
            _ => None,
        }
    }
}

/// The lower-cased extension of a path.
fn extension(path: &std::path::Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Accepts a metrics path only if its extension names a format we write.
fn parse_metrics_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    match MetricsFormat::from_path(&path) {
        Some(_) => Ok(path),
        None => Err("the metrics file must end in .csv or .jsonl (JSON lines)".to_string()),
    }
}

/// Accepts a plot path only if its extension names a format we draw.
fn parse_plot_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    match PlotFormat::from_path(&path) {
        Some(_) => Ok(path),
        None => Err("the plot file must end in .svg or .png".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("length").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn train_defaults_are_the_notebooks() {
        let Command::Train(args) = parse(&["train"]).unwrap().command else {
            panic!("expected train");
        };
        assert_eq!(args.num_epochs, 5);
        assert_eq!(args.batch_size, 64);
        assert_eq!(args.optimizer, OptimizerName::Sgd);
        assert_eq!(args.data_set, DataSetName::Mnist);
        assert_eq!(args.learning_rate, 0.1);
        assert_eq!(args.train_verbosity, 50);
        assert_eq!(args.lr_schedule, ScheduleName::Step);
        assert_eq!(args.architecture.hidden, Hidden(vec![512, 512]));
        assert_eq!(args.architecture.activation, ActivationName::Relu);
        assert_eq!(args.architecture.loss, LossName::Mse);
        assert_eq!(args.architecture.dropout, 0.0);
        assert_eq!(args.init, InitName::Xavier);
        assert!(!args.shuffle);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for bad in [
            &["train", "--learning-rate", "0"][..],
            &["train", "--learning-rate", "-1"],
            &["train", "--learning-rate", "nan"],
            &["train", "--learning-rate", "inf"],
            &["train", "--batch-size", "0"],
            &["train", "--num-epochs", "0"],
            &["train", "--dropout", "1"],
            &["train", "--dropout", "-0.1"],
            &["train", "--optimizer", "rmsprop"],
            &["train", "--hidden", "512,0"],
            &["train", "--hidden", "512,,3"],
            &["train", "--threads", "0"],
            &["train", "--threads", "257"],
            &["train", "--threads", "100000"],
            &["train", "--hidden", "18446744073709551615"],
            &["train", "--hidden", "4000000000"],
            &["train", "--hidden", "65537"],
            &["train", "--hidden", "20000,20000"],
            &["train", "--batch-size", "60001"],
            &["train", "--batch-size", "18446744073709551615"],
            &["train", "--metrics", "out.txt"],
            &["train", "--plot", "out.pdf"],
            &["predict", "--model", "m.safetensors"],
            &[
                "predict",
                "--model",
                "m.safetensors",
                "--top",
                "11",
                "a.png",
            ],
        ] {
            let error = parse(bad).expect_err(&format!("{bad:?} should be refused"));
            assert_eq!(error.exit_code(), 2, "{bad:?}");
            // Refused for its value, not mistaken for another flag.
            assert_ne!(
                error.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hidden_widths_parse() {
        assert_eq!(parse_hidden("128").unwrap(), Hidden(vec![128]));
        assert_eq!(parse_hidden(" 256, 64 ").unwrap(), Hidden(vec![256, 64]));
        assert_eq!(parse_hidden("none").unwrap(), Hidden(vec![]));
        // The widest layer alone fits the budget; two of them do not.
        assert!(parse_hidden("65536").is_ok());
        assert!(parse_hidden("65536,65536").is_err());
    }

    #[test]
    fn the_course_model_has_669706_parameters() {
        assert_eq!(parameter_count(&[512, 512]), 669_706);
        assert_eq!(parameter_count(&[]), 7_850);
    }

    #[test]
    fn formats_follow_the_extension() {
        use std::path::Path;
        assert_eq!(
            MetricsFormat::from_path(Path::new("a.CSV")),
            Some(MetricsFormat::Csv)
        );
        assert_eq!(
            MetricsFormat::from_path(Path::new("a.jsonl")),
            Some(MetricsFormat::JsonLines)
        );
        assert_eq!(
            PlotFormat::from_path(Path::new("c.png")),
            Some(PlotFormat::Png)
        );
        assert_eq!(PlotFormat::from_path(Path::new("c")), None);
    }
}
