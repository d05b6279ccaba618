//! `cargo xtask bench-epoch`: how long one MNIST training epoch of `length train` takes, with SGD
//! and with Adam, and how fast that is in samples/s and effective GFLOP/s.
//!
//! It builds the `length` binary in release mode, then runs, for each optimizer and thread count
//! (the default: one thread per core; with `--single-thread` also `--threads 1`),
//!
//! ```text
//! length train --optimizer sgd  --learning-rate 0.1   --lr-schedule constant --num-epochs N --seed 1 --metrics <tmp>.jsonl
//! length train --optimizer adam --learning-rate 0.001 --lr-schedule constant --num-epochs N --seed 1 --metrics <tmp>.jsonl
//! ```
//!
//! (the course's ActivatedMLP 784-512-512-10, batch 64, 937 steps per epoch), reads the
//! per-epoch `seconds`, `samples_per_second` and `gflop_per_second` the CLI wrote, and prints one
//! table of medians over all epochs of all runs:
//!
//! ```text
//! trainer   optimizer  lr     threads  s/epoch  samples/s  GFLOP/s  vs SGD  vs JAX
//! ```
//!
//! where "vs SGD" is the optimizer's median seconds per epoch over SGD's, same trainer and thread
//! count. The seconds are the training loop only, test evaluation excluded (as the JAX peer's
//! `train_s`). Runs alternate (`--repeat` rounds, each running every row once, in table order) so
//! that a machine busy for a while slows all rows alike. With more than one round, each ratio is
//! also printed round by round (median, lowest and highest): the runs of a round ran side by side,
//! so a host whose speed drifts over minutes moves both sides of a paired ratio alike, and the
//! spread shows how far one comparison can be trusted. With `--single-thread` these per-round
//! ratios include each optimizer's samples/s with the default threads over those with one thread
//! (issue 19 asks for at least 1.7 on SGD with two cores). The data is loaded by `length train`
//! itself, which fetches MNIST on first use exactly as it does for a user ($LENGTH_DATA_DIR or
//! `.data/`, from $LENGTH_DATA_MIRROR or the public hosts).
//!
//! With `--jax PYTHON` (a Python with `jax` and `optax` installed, see `../shared/peers/README.md`)
//! each round also runs the JAX peer once per optimizer, just before LENGTH's runs with that
//! optimizer:
//!
//! ```text
//! PYTHON ../shared/peers/jax_mlp.py --epochs N --scan --optimizer sgd  --lr 0.1
//! PYTHON ../shared/peers/jax_mlp.py --epochs N --scan --optimizer adam --lr 0.001
//! ```
//!
//! (the whole epoch as one XLA program on all cores; the same network, batches and learning
//! rates, Adam by optax with the same β₁, β₂, ε). The table gains a JAX row per optimizer, whose
//! samples/s and GFLOP/s come from its `train_s` and the epoch's fixed work, and a "vs JAX"
//! column: each LENGTH row's median seconds over JAX's with the same optimizer, from the same
//! sitting (above 1: LENGTH is slower).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::Value;

/// Options of `cargo xtask bench-epoch`.
#[derive(clap::Args)]
pub struct Args {
    /// Epochs per run.
    #[arg(long, value_name = "N", default_value_t = 3)]
    epochs: usize,
    /// Rounds: each runs every optimizer, thread count and peer once; the medians are over all
    /// their epochs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: usize,
    /// Also run every optimizer with `--threads 1`.
    #[arg(long)]
    single_thread: bool,
    /// The data directory to pass to `length train --data-dir` (default: the CLI's own).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Also time the JAX peer (SGD and Adam) with this Python interpreter, alternating with
    /// LENGTH's runs.
    #[arg(long, value_name = "PYTHON")]
    jax: Option<PathBuf>,
    /// The JAX peer's script (relative paths from the workspace root).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "../shared/peers/jax_mlp.py"
    )]
    jax_script: PathBuf,
}

/// One optimizer the table compares: its `--optimizer` name (the same for LENGTH's CLI and the
/// JAX peer) and learning rate.
#[derive(PartialEq)]
struct Setting {
    optimizer: &'static str,
    learning_rate: &'static str,
}

/// SGD first: the other rows are compared with it.
const SETTINGS: [Setting; 2] = [
    Setting {
        optimizer: "sgd",
        learning_rate: "0.1",
    },
    Setting {
        optimizer: "adam",
        learning_rate: "0.001",
    },
];

/// Samples in one epoch of the work unit: 937 batches of 64.
const SAMPLES_PER_EPOCH: f64 = 937.0 * 64.0;

/// Matrix-multiply work of one epoch of the work unit, in GFLOP.
const GFLOP_PER_EPOCH: f64 = 192.45;

/// What one epoch measured, from one metrics row (LENGTH) or one `train_s` (JAX).
#[derive(Clone, Copy)]
struct Epoch {
    seconds: f64,
    samples_per_second: f64,
    gflop_per_second: f64,
}

impl Epoch {
    /// An epoch known only by its seconds: the rates follow from the epoch's fixed work.
    fn from_seconds(seconds: f64) -> Self {
        Epoch {
            seconds,
            samples_per_second: SAMPLES_PER_EPOCH / seconds,
            gflop_per_second: GFLOP_PER_EPOCH / seconds,
        }
    }
}

/// Who trains in a row.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Trainer {
    /// `length train`, with `--threads N` or, for `None`, the CLI's default (one per core).
    Length { threads: Option<usize> },
    /// The JAX peer, `--scan` (XLA:CPU uses every core).
    Jax,
}

/// The epochs of every run of one trainer with one optimizer.
struct Row {
    trainer: Trainer,
    setting: &'static Setting,
    /// The thread count the CLI reported (`all` for JAX).
    threads_used: String,
    /// The epochs of each run, one run per round, rounds in order.
    runs: Vec<Vec<Epoch>>,
}

/// The table's rows, in the order each round runs them: per optimizer (SGD first) the JAX peer
/// (with `jax`), LENGTH with the default threads, LENGTH with one thread (with `single_thread`).
/// Runs that are compared with each other run next to each other.
fn rows(jax: bool, single_thread: bool) -> Vec<Row> {
    let mut trainers = Vec::new();
    if jax {
        trainers.push(Trainer::Jax);
    }
    trainers.push(Trainer::Length { threads: None });
    if single_thread {
        trainers.push(Trainer::Length { threads: Some(1) });
    }
    SETTINGS
        .iter()
        .flat_map(|setting| {
            trainers.iter().map(move |&trainer| Row {
                trainer,
                setting,
                threads_used: if trainer == Trainer::Jax { "all" } else { "?" }.to_owned(),
                runs: Vec::new(),
            })
        })
        .collect()
}

/// Builds the CLI, runs every setting, prints the table.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.epochs == 0 || args.repeat == 0 {
        bail!("--epochs and --repeat must be at least 1");
    }
    let root = workspace_root();
    let length = build_cli(&root)?;
    let mut rows = rows(args.jax.is_some(), args.single_thread);
    let runs = rows.len() * args.repeat;
    let mut done = 0;
    for repeat in 0..args.repeat {
        for row in &mut rows {
            done += 1;
            let epochs = match (row.trainer, &args.jax) {
                (Trainer::Jax, Some(python)) => {
                    eprintln!(
                        "[{done}/{runs}] {} {} {}",
                        python.display(),
                        args.jax_script.display(),
                        jax_arguments(&args, row.setting).join(" ")
                    );
                    let seconds = run_jax(python, &root, &args, row.setting)?;
                    seconds.into_iter().map(Epoch::from_seconds).collect()
                }
                (Trainer::Jax, None) => unreachable!("a JAX row without --jax"),
                (Trainer::Length { threads }, _) => {
                    eprintln!(
                        "[{done}/{runs}] length train --optimizer {} --threads {} --num-epochs {}",
                        row.setting.optimizer,
                        threads.map_or("default".to_owned(), |n| n.to_string()),
                        args.epochs
                    );
                    let metrics = std::env::temp_dir().join(format!(
                        "length-bench-epoch-{}-{}-{}-{repeat}.jsonl",
                        std::process::id(),
                        row.setting.optimizer,
                        threads.unwrap_or(0)
                    ));
                    let stdout = train(&length, &root, &args, row, threads, &metrics)?;
                    let epochs = read_metrics(&metrics);
                    let _ = std::fs::remove_file(&metrics);
                    row.threads_used = reported_threads(&stdout).unwrap_or_else(|| "?".to_owned());
                    epochs?
                }
            };
            row.runs.push(epochs);
        }
    }
    print_table(&rows, &args);
    print_paired_ratios(&rows);
    Ok(())
}

/// The JAX peer's arguments for one optimizer: the learning rate is passed, not left to the
/// script's default, so that both trainers read it from [`SETTINGS`].
fn jax_arguments(args: &Args, setting: &Setting) -> Vec<String> {
    [
        "--epochs",
        &args.epochs.to_string(),
        "--scan",
        "--optimizer",
        setting.optimizer,
        "--lr",
        setting.learning_rate,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Runs the JAX peer once with `setting`; returns the `train_s` of each of its epochs.
fn run_jax(python: &Path, root: &Path, args: &Args, setting: &Setting) -> anyhow::Result<Vec<f64>> {
    let output = Command::new(python)
        .current_dir(root)
        .arg(&args.jax_script)
        .args(jax_arguments(args, setting))
        .output()
        .with_context(|| format!("could not start {}", python.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "the JAX peer failed ({}):\n{}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let seconds = jax_epoch_seconds(&stdout);
    if seconds.is_empty() {
        bail!("the JAX peer printed no `train_s=`:\n{stdout}");
    }
    Ok(seconds)
}

/// The `train_s=` value of every `epoch N: train_s=...` line the JAX peer printed.
fn jax_epoch_seconds(stdout: &str) -> Vec<f64> {
    stdout
        .lines()
        .filter(|line| line.starts_with("epoch "))
        .filter_map(|line| line.split_once("train_s=")?.1.split_whitespace().next())
        .filter_map(|value| value.parse().ok())
        .collect()
}

/// The workspace root: the folder above this crate.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// `cargo build --release -p length-cli`, returning the path of the `length` executable (which
/// honours `CARGO_TARGET_DIR` and `.cargo/config.toml`, as cargo reports it).
fn build_cli(root: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            "length-cli",
            "--bin",
            "length",
            "--message-format",
            "json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("could not start `cargo build`")?;
    if !output.status.success() {
        bail!(
            "`cargo build --release -p length-cli` failed ({})",
            output.status
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == "length")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .context("`cargo build` reported no `length` executable")
}

/// Runs one `length train` with `--threads threads` (the default for `None`); returns its
/// standard output.
fn train(
    length: &Path,
    root: &Path,
    args: &Args,
    row: &Row,
    threads: Option<usize>,
    metrics: &Path,
) -> anyhow::Result<String> {
    let mut command = Command::new(length);
    command.current_dir(root).args([
        "train",
        "--optimizer",
        row.setting.optimizer,
        "--learning-rate",
        row.setting.learning_rate,
        "--lr-schedule",
        "constant",
        "--num-epochs",
        &args.epochs.to_string(),
        "--seed",
        "1",
        "--train-verbosity",
        "0",
    ]);
    command.arg("--metrics").arg(metrics);
    if let Some(threads) = threads {
        command.args(["--threads", &threads.to_string()]);
    }
    if let Some(dir) = &args.data_dir {
        command.arg("--data-dir").arg(dir);
    }
    let output = command
        .output()
        .with_context(|| format!("could not start {}", length.display()))?;
    if !output.status.success() {
        bail!(
            "`length train --optimizer {}` failed ({}):\n{}",
            row.setting.optimizer,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The thread count from the CLI's header line (`..., threads 2.`).
fn reported_threads(stdout: &str) -> Option<String> {
    let (_, rest) = stdout.split_once(", threads ")?;
    let count: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!count.is_empty()).then_some(count)
}

/// The epochs of a JSON-lines metrics file.
fn read_metrics(path: &Path) -> anyhow::Result<Vec<Epoch>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the metrics file {}", path.display()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let row: Value = serde_json::from_str(line).context("a metrics row")?;
            let number = |key: &str| {
                row[key]
                    .as_f64()
                    .with_context(|| format!("metrics row without {key}: {line}"))
            };
            Ok(Epoch {
                seconds: number("seconds")?,
                samples_per_second: number("samples_per_second")?,
                gflop_per_second: number("gflop_per_second")?,
            })
        })
        .collect()
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[middle],
        _ => (values[middle - 1] + values[middle]) / 2.0,
    }
}

/// An epoch's seconds, the figure most ratios compare.
fn seconds(epoch: &Epoch) -> f64 {
    epoch.seconds
}

/// An epoch's samples per second, the figure of the thread-count ratio.
fn samples_per_second(epoch: &Epoch) -> f64 {
    epoch.samples_per_second
}

impl Row {
    /// The median of `field` over every epoch of every run.
    fn median_of(&self, field: fn(&Epoch) -> f64) -> f64 {
        median(self.runs.iter().flatten().map(field).collect())
    }

    /// Per run, in order: the median of `field` over its epochs.
    fn run_medians(&self, field: fn(&Epoch) -> f64) -> Vec<f64> {
        let run_median = |run: &Vec<Epoch>| median(run.iter().map(field).collect());
        self.runs.iter().map(run_median).collect()
    }

    /// The row of `rows` with the same optimizer run by `trainer`.
    fn with_trainer<'r>(&self, rows: &'r [Row], trainer: Trainer) -> Option<&'r Row> {
        rows.iter()
            .find(|other| other.trainer == trainer && other.setting == self.setting)
    }

    /// The SGD row of `rows` with the same trainer and thread count, which this row's "vs SGD"
    /// compares with.
    fn sgd_row<'r>(&self, rows: &'r [Row]) -> Option<&'r Row> {
        rows.iter()
            .find(|other| other.trainer == self.trainer && other.setting.optimizer == "sgd")
    }

    /// For a LENGTH row, the JAX row with the same optimizer, which its "vs JAX" compares with.
    fn jax_row<'r>(&self, rows: &'r [Row]) -> Option<&'r Row> {
        match self.trainer {
            Trainer::Length { .. } => self.with_trainer(rows, Trainer::Jax),
            Trainer::Jax => None,
        }
    }

    /// For LENGTH's default-threads row, the one-thread row with the same optimizer.
    fn one_thread_row<'r>(&self, rows: &'r [Row]) -> Option<&'r Row> {
        match self.trainer {
            Trainer::Length { threads: None } => {
                self.with_trainer(rows, Trainer::Length { threads: Some(1) })
            }
            _ => None,
        }
    }

    /// The row's name in the ratio labels: `length, threads 2` or `JAX`.
    fn label(&self) -> String {
        match self.trainer {
            Trainer::Length { .. } => format!("length, threads {}", self.threads_used),
            Trainer::Jax => "JAX".to_owned(),
        }
    }
}

fn print_table(rows: &[Row], args: &Args) {
    println!(
        "\nMNIST, ActivatedMLP 784-512-512-10 (ReLU, MSE), batch 64, 937 steps per epoch, \
         constant learning rate, seed 1.\nMedians over {} epochs x {} run(s) each; seconds of the \
         training loop only (test evaluation excluded).\nThreads: the default uses all cores, \
         or one while that is faster (`length train` decides as it goes); 1 is `--threads 1`.\n\
         JAX: the peer's `--scan` epoch (one XLA program, all cores); vs JAX: seconds over JAX's \
         with the same optimizer.\n",
        args.epochs, args.repeat
    );
    println!(
        "{:<8}  {:<9}  {:>6}  {:>7}  {:>8}  {:>9}  {:>7}  {:>6}  {:>6}",
        "trainer",
        "optimizer",
        "lr",
        "threads",
        "s/epoch",
        "samples/s",
        "GFLOP/s",
        "vs SGD",
        "vs JAX"
    );
    for row in rows {
        let seconds_of = |row: &Row| row.median_of(seconds);
        let ratio = |other: Option<&Row>| {
            other.map_or(String::new(), |other| {
                format!("{:.2}", seconds_of(row) / seconds_of(other))
            })
        };
        let trainer = match row.trainer {
            Trainer::Length { .. } => "length",
            Trainer::Jax => "JAX scan",
        };
        let vs_jax = match row.trainer {
            Trainer::Jax => "1.00".to_owned(),
            Trainer::Length { .. } => ratio(row.jax_row(rows)),
        };
        println!(
            "{:<8}  {:<9}  {:>6}  {:>7}  {:>8.3}  {:>9.0}  {:>7.1}  {:>6}  {:>6}",
            trainer,
            row.setting.optimizer,
            row.setting.learning_rate,
            row.threads_used,
            seconds_of(row),
            row.median_of(samples_per_second),
            row.median_of(|epoch| epoch.gflop_per_second),
            ratio(row.sgd_row(rows)),
            vs_jax
        );
    }
}

/// Every paired comparison the rows allow, each with its ratio in every round: the runs of a
/// round ran next to each other, so a host that is slow for a while slows both sides alike.
///
/// - each optimizer other than SGD over SGD, same trainer and threads (seconds per epoch);
/// - each LENGTH row over JAX with the same optimizer (seconds per epoch);
/// - LENGTH with the default threads over LENGTH with one thread, per optimizer (samples/s).
fn paired_comparisons(rows: &[Row]) -> Vec<(String, Vec<f64>)> {
    let mut comparisons = Vec::new();
    for row in rows {
        let optimizer = row.setting.optimizer;
        if optimizer != "sgd"
            && let Some(sgd) = row.sgd_row(rows)
        {
            comparisons.push((
                format!("{optimizer} vs sgd, {} (s/epoch)", row.label()),
                paired_ratios(&row.run_medians(seconds), &sgd.run_medians(seconds)),
            ));
        }
        if let Some(jax) = row.jax_row(rows) {
            comparisons.push((
                format!("{optimizer}, {} vs JAX (s/epoch)", row.label()),
                paired_ratios(&row.run_medians(seconds), &jax.run_medians(seconds)),
            ));
        }
        if let Some(one) = row.one_thread_row(rows) {
            comparisons.push((
                format!("{optimizer}, {} vs threads 1 (samples/s)", row.label()),
                paired_ratios(
                    &row.run_medians(samples_per_second),
                    &one.run_medians(samples_per_second),
                ),
            ));
        }
    }
    comparisons
}

/// Prints, for each paired comparison (see [`paired_comparisons`]), its spread over the rounds.
/// Only with more than one round.
fn print_paired_ratios(rows: &[Row]) {
    if rows.first().is_none_or(|row| row.runs.len() < 2) {
        return;
    }
    println!("\nPer-round ratios (each round's runs side by side): median [lowest - highest]");
    let comparisons = paired_comparisons(rows);
    let width = comparisons
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0);
    for (label, ratios) in &comparisons {
        print_spread(label, width, ratios);
    }
}

/// `numerators[i] / denominators[i]` for every round both have.
fn paired_ratios(numerators: &[f64], denominators: &[f64]) -> Vec<f64> {
    numerators
        .iter()
        .zip(denominators)
        .map(|(numerator, denominator)| numerator / denominator)
        .collect()
}

/// One line: `label` padded to `width`, then the median, lowest and highest of `ratios`.
fn print_spread(label: &str, width: usize, ratios: &[f64]) {
    let lowest = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    println!(
        "  {label:<width$}  {:.3} [{lowest:.3} - {highest:.3}] over {} rounds",
        median(ratios.to_vec()),
        ratios.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn ratios_pair_the_runs_of_the_same_round() {
        assert_eq!(paired_ratios(&[2.0, 3.0, 5.0], &[1.0, 2.0]), vec![2.0, 1.5]);
    }

    #[test]
    fn the_jax_peers_epoch_seconds_are_read_from_its_output() {
        let output = "compiling...\nepoch 1: train_s=1.976 train_loss=0.048286 test_acc=0.8794\n\
                      epoch 2: train_s=2.190 train_loss=0.028068\nsummary: epochs=2 \
                      median_train_s=2.083\n";
        assert_eq!(jax_epoch_seconds(output), vec![1.976, 2.190]);
        assert!(jax_epoch_seconds("no epochs").is_empty());
    }

    #[test]
    fn the_thread_count_is_read_from_the_header() {
        let header = "Optimizer sgd lr=0.1 schedule=constant, init xavier:1, epochs 3, shuffle \
                      off, seed 1, threads 2.\n";
        assert_eq!(reported_threads(header).as_deref(), Some("2"));
        assert_eq!(reported_threads("no header"), None);
    }

    #[test]
    fn the_jax_peer_is_given_each_optimizer_and_its_learning_rate() {
        let args = Args {
            epochs: 2,
            repeat: 1,
            single_thread: false,
            data_dir: None,
            jax: None,
            jax_script: PathBuf::new(),
        };
        assert_eq!(
            jax_arguments(&args, &SETTINGS[1]).join(" "),
            "--epochs 2 --scan --optimizer adam --lr 0.001"
        );
        assert_eq!(
            jax_arguments(&args, &SETTINGS[0]).join(" "),
            "--epochs 2 --scan --optimizer sgd --lr 0.1"
        );
    }

    #[test]
    fn each_round_runs_jax_before_lengths_runs_with_the_same_optimizer() {
        let order: Vec<(Trainer, &str)> = rows(true, true)
            .iter()
            .map(|row| (row.trainer, row.setting.optimizer))
            .collect();
        let length = |threads| Trainer::Length { threads };
        assert_eq!(
            order,
            [
                (Trainer::Jax, "sgd"),
                (length(None), "sgd"),
                (length(Some(1)), "sgd"),
                (Trainer::Jax, "adam"),
                (length(None), "adam"),
                (length(Some(1)), "adam"),
            ]
        );
        assert_eq!(rows(false, false).len(), SETTINGS.len());
    }

    /// Rows as `rows(true, true)` makes them, each with two rounds of one epoch whose seconds
    /// are `seconds[row][round]`.
    fn measured_rows(seconds: [[f64; 2]; 6]) -> Vec<Row> {
        let mut rows = rows(true, true);
        for (row, seconds) in rows.iter_mut().zip(seconds) {
            row.threads_used = match row.trainer {
                Trainer::Length { threads } => threads.unwrap_or(2).to_string(),
                Trainer::Jax => "all".to_owned(),
            };
            row.runs = seconds
                .iter()
                .map(|&s| vec![Epoch::from_seconds(s)])
                .collect();
        }
        rows
    }

    #[test]
    fn every_length_row_is_compared_with_jax_running_the_same_optimizer() {
        // Rows: JAX sgd, length sgd (2, 1 threads), JAX adam, length adam (2, 1 threads).
        let rows = measured_rows([
            [2.0, 4.0],
            [3.0, 5.0],
            [5.0, 9.0],
            [4.0, 8.0],
            [6.0, 12.0],
            [8.0, 20.0],
        ]);
        let comparisons = paired_comparisons(&rows);
        let ratios = |label: &str| -> Vec<f64> {
            let found = comparisons.iter().find(|(l, _)| l == label);
            found
                .unwrap_or_else(|| panic!("no {label} in {comparisons:?}"))
                .1
                .clone()
        };
        assert_eq!(
            ratios("sgd, length, threads 2 vs JAX (s/epoch)"),
            [1.5, 1.25]
        );
        assert_eq!(
            ratios("sgd, length, threads 1 vs JAX (s/epoch)"),
            [2.5, 2.25]
        );
        assert_eq!(
            ratios("adam, length, threads 2 vs JAX (s/epoch)"),
            [1.5, 1.5]
        );
        assert_eq!(
            ratios("adam, length, threads 1 vs JAX (s/epoch)"),
            [2.0, 2.5]
        );
        assert_eq!(ratios("adam vs sgd, JAX (s/epoch)"), [2.0, 2.0]);
        assert_eq!(
            ratios("adam vs sgd, length, threads 2 (s/epoch)"),
            [2.0, 2.4]
        );
        // Samples per second: default threads over one thread, the inverse of the seconds.
        let threads = ratios("sgd, length, threads 2 vs threads 1 (samples/s)");
        assert!((threads[0] - 5.0 / 3.0).abs() < 1e-12 && (threads[1] - 1.8).abs() < 1e-12);
        let threads = ratios("adam, length, threads 2 vs threads 1 (samples/s)");
        assert!((threads[0] - 8.0 / 6.0).abs() < 1e-12 && (threads[1] - 20.0 / 12.0).abs() < 1e-12);
        // JAX rows are compared with nothing but their own SGD row.
        assert_eq!(comparisons.len(), 9);
    }
}
