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
//! optimizer  lr     threads  s/epoch  samples/s  GFLOP/s  vs SGD
//! ```
//!
//! where "vs SGD" is the optimizer's median seconds per epoch over SGD's at the same thread
//! count. The seconds are the training loop only, test evaluation excluded (as the JAX peer's
//! `train_s`). Runs alternate between the optimizers (`--repeat` times) so that a machine busy for
//! a while slows both alike. With more than one round, each ratio is also printed round by round
//! (median, lowest and highest): the two runs of a round ran side by side, so a host whose speed
//! drifts over minutes moves both sides of a paired ratio alike, and the spread shows how far one
//! comparison can be trusted. The data is loaded by `length train` itself, which fetches MNIST on
//! first use exactly as it does for a user ($LENGTH_DATA_DIR or `.data/`, from
//! $LENGTH_DATA_MIRROR or the public hosts).
//!
//! With `--jax PYTHON` (a Python with `jax` installed, see `../shared/peers/README.md`) each round
//! also runs the JAX peer, `PYTHON ../shared/peers/jax_mlp.py --epochs N --scan` (the whole epoch
//! as one XLA program; SGD, lr 0.1, the same network and batches), before LENGTH's runs, and the
//! table gains its row and a "vs JAX" column: LENGTH's median seconds over JAX's, from the same
//! sitting.

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
    /// Runs per optimizer and thread count, alternating; the medians are over all their epochs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: usize,
    /// Also run every optimizer with `--threads 1`.
    #[arg(long)]
    single_thread: bool,
    /// The data directory to pass to `length train --data-dir` (default: the CLI's own).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Also time the JAX peer with this Python interpreter, alternating with LENGTH's runs.
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

/// One optimizer the table compares: its `--optimizer` name and learning rate.
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

/// What one epoch measured, from one metrics row.
#[derive(Clone, Copy)]
struct Epoch {
    seconds: f64,
    samples_per_second: f64,
    gflop_per_second: f64,
}

/// The epochs of every run of one optimizer at one thread count.
struct Row {
    setting: &'static Setting,
    /// `None`: the CLI's default (one per core).
    threads: Option<usize>,
    /// The thread count the CLI reported.
    threads_used: String,
    /// The epochs of each run, runs in order.
    runs: Vec<Vec<Epoch>>,
}

/// Builds the CLI, runs every setting, prints the table.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.epochs == 0 || args.repeat == 0 {
        bail!("--epochs and --repeat must be at least 1");
    }
    let root = workspace_root();
    let length = build_cli(&root)?;
    let thread_counts: &[Option<usize>] = if args.single_thread {
        &[None, Some(1)]
    } else {
        &[None]
    };
    let mut rows: Vec<Row> = thread_counts
        .iter()
        .flat_map(|&threads| {
            SETTINGS.iter().map(move |setting| Row {
                setting,
                threads,
                threads_used: String::new(),
                runs: Vec::new(),
            })
        })
        .collect();
    let runs = (rows.len() + usize::from(args.jax.is_some())) * args.repeat;
    let mut done = 0;
    // The JAX peer's epoch seconds, one list per run.
    let mut jax_runs = Vec::new();
    for repeat in 0..args.repeat {
        if let Some(python) = &args.jax {
            done += 1;
            eprintln!(
                "[{done}/{runs}] {} {} --epochs {} --scan",
                python.display(),
                args.jax_script.display(),
                args.epochs
            );
            jax_runs.push(run_jax(python, &root, &args)?);
        }
        for row in &mut rows {
            done += 1;
            eprintln!(
                "[{done}/{runs}] length train --optimizer {} --threads {} --num-epochs {}",
                row.setting.optimizer,
                row.threads.map_or("default".to_owned(), |n| n.to_string()),
                args.epochs
            );
            let metrics = std::env::temp_dir().join(format!(
                "length-bench-epoch-{}-{}-{}-{repeat}.jsonl",
                std::process::id(),
                row.setting.optimizer,
                row.threads.unwrap_or(0)
            ));
            let stdout = train(&length, &root, &args, row, &metrics)?;
            let epochs = read_metrics(&metrics);
            let _ = std::fs::remove_file(&metrics);
            row.runs.push(epochs?);
            row.threads_used = reported_threads(&stdout).unwrap_or_else(|| "?".to_owned());
        }
    }
    let jax_seconds: Vec<f64> = jax_runs.concat();
    print_table(&rows, &args, &jax_seconds);
    let jax_run_seconds: Vec<f64> = jax_runs.into_iter().map(median).collect();
    print_paired_ratios(&rows, &jax_run_seconds);
    Ok(())
}

/// Runs the JAX peer once; returns the `train_s` of each of its epochs.
fn run_jax(python: &Path, root: &Path, args: &Args) -> anyhow::Result<Vec<f64>> {
    let output = Command::new(python)
        .current_dir(root)
        .arg(&args.jax_script)
        .args(["--epochs", &args.epochs.to_string(), "--scan"])
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

/// Runs one `length train`; returns its standard output.
fn train(
    length: &Path,
    root: &Path,
    args: &Args,
    row: &Row,
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
    if let Some(threads) = row.threads {
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

impl Row {
    /// The median of `field` over every epoch of every run.
    fn median_of(&self, field: fn(&Epoch) -> f64) -> f64 {
        median(self.runs.iter().flatten().map(field).collect())
    }

    /// Per run, in order: the median seconds of its epochs.
    fn run_seconds(&self) -> Vec<f64> {
        let seconds = |run: &Vec<Epoch>| median(run.iter().map(|epoch| epoch.seconds).collect());
        self.runs.iter().map(seconds).collect()
    }

    /// The SGD row of `rows` with the same thread count, which this row is compared with.
    fn sgd_row<'r>(&self, rows: &'r [Row]) -> Option<&'r Row> {
        rows.iter()
            .find(|other| other.threads == self.threads && other.setting.optimizer == "sgd")
    }
}

fn print_table(rows: &[Row], args: &Args, jax_seconds: &[f64]) {
    println!(
        "\nMNIST, ActivatedMLP 784-512-512-10 (ReLU, MSE), batch 64, 937 steps per epoch, \
         constant learning rate, seed 1.\nMedians over {} epochs x {} run(s) each; seconds of the \
         training loop only (test evaluation excluded).\nThreads: the default uses all cores, \
         or one while that is faster (`length train` decides as it goes); 1 is `--threads 1`.\n",
        args.epochs, args.repeat
    );
    let jax = median(jax_seconds.to_vec());
    println!(
        "{:<9}  {:>6}  {:>7}  {:>8}  {:>9}  {:>7}  {:>6}  {:>6}",
        "optimizer", "lr", "threads", "s/epoch", "samples/s", "GFLOP/s", "vs SGD", "vs JAX"
    );
    if !jax_seconds.is_empty() {
        println!(
            "{:<9}  {:>6}  {:>7}  {:>8.3}  {:>9.0}  {:>7.1}  {:>6}  {:>6}",
            "JAX scan",
            "0.1",
            "all",
            jax,
            SAMPLES_PER_EPOCH / jax,
            GFLOP_PER_EPOCH / jax,
            "",
            "1.00"
        );
    }
    for row in rows {
        let seconds = row.median_of(|epoch| epoch.seconds);
        let sgd = row
            .sgd_row(rows)
            .map_or(f64::NAN, |sgd| sgd.median_of(|epoch| epoch.seconds));
        // JAX's row is SGD: only SGD rows are compared with it.
        let vs_jax = if jax_seconds.is_empty() || row.setting.optimizer != "sgd" {
            String::new()
        } else {
            format!("{:.2}", seconds / jax)
        };
        println!(
            "{:<9}  {:>6}  {:>7}  {:>8.3}  {:>9.0}  {:>7.1}  {:>6.2}  {:>6}",
            row.setting.optimizer,
            row.setting.learning_rate,
            row.threads_used,
            seconds,
            row.median_of(|epoch| epoch.samples_per_second),
            row.median_of(|epoch| epoch.gflop_per_second),
            seconds / sgd,
            vs_jax
        );
    }
}

/// Prints, for each ratio of the table, its spread over the rounds: each round's ratio of the two
/// runs' median epochs, which ran next to each other, so that a host that is slow for a while
/// slows both sides of a ratio alike. Only with more than one round.
fn print_paired_ratios(rows: &[Row], jax_run_seconds: &[f64]) {
    if rows.first().is_none_or(|row| row.runs.len() < 2) {
        return;
    }
    println!("\nPer-round ratios (each round's runs side by side): median [lowest - highest]");
    for row in rows {
        let threads = &row.threads_used;
        if row.setting.optimizer != "sgd" {
            if let Some(sgd) = row.sgd_row(rows) {
                let label = format!("{} vs SGD, threads {threads}", row.setting.optimizer);
                print_spread(
                    &label,
                    &paired_ratios(&row.run_seconds(), &sgd.run_seconds()),
                );
            }
        } else if !jax_run_seconds.is_empty() {
            let label = format!("SGD vs JAX, threads {threads}");
            print_spread(&label, &paired_ratios(&row.run_seconds(), jax_run_seconds));
        }
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

/// One line: `label`, then the median, lowest and highest of `ratios`.
fn print_spread(label: &str, ratios: &[f64]) {
    let lowest = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    println!(
        "  {label:<24}  {:.3} [{lowest:.3} - {highest:.3}] over {} rounds",
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
}
