//! The `length` command end to end, on the real MNIST.
//!
//! The data comes from the workspace's data directory (`$LENGTH_DATA_DIR`, else `.data/` at the
//! workspace root), fetched from `$LENGTH_DATA_MIRROR` when missing — CI points that at
//! `../shared/datasets`. Full-epoch runs hold the course's results: Adam reaches 96% test
//! accuracy in one epoch, the notebook's SGD default 90%. Everything else uses short runs.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{length, run, run_ok, scratch};
use length_data::{DataSetName, MnistLike, MnistOptions};
use std::process::Command;

/// The metrics columns that measure time, which differ from run to run.
const TIMING_COLUMNS: [&str; 3] = ["seconds", "samples_per_second", "gflop_per_second"];

/// The data directory every test reads.
fn data_dir() -> PathBuf {
    length_data::workspace_data_dir()
}

/// The rows of a metrics CSV, as maps from column name to text.
fn read_metrics(path: &Path) -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(line.split(',').map(String::from))
                .collect()
        })
        .collect()
}

/// One column of one metrics row.
fn column<'r>(row: &'r [(String, String)], name: &str) -> &'r str {
    &row.iter().find(|(key, _)| key == name).unwrap().1
}

/// A model trained once for all the tests that need one: the course's Adam run, one epoch.
struct Trained {
    model: PathBuf,
    metrics: PathBuf,
}

fn adam_model() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let dir = scratch("adam");
        let model = dir.join("adam.safetensors");
        let metrics = dir.join("adam.csv");
        run_ok(&[
            "train",
            "--optimizer",
            "adam",
            "--learning-rate",
            "0.001",
            "--num-epochs",
            "1",
            "--seed",
            "1",
            "--data-dir",
            data_dir().to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
            "--save",
            model.to_str().unwrap(),
        ]);
        Trained { model, metrics }
    })
}

#[test]
fn adam_reaches_96_percent_on_mnist_after_one_epoch() {
    let rows = read_metrics(&adam_model().metrics);
    assert_eq!(rows.len(), 1);
    let accuracy: f64 = column(&rows[0], "test_accuracy").parse().unwrap();
    assert!(
        accuracy >= 0.96,
        "test accuracy {accuracy} after one epoch of Adam"
    );
}

#[test]
fn evaluate_on_a_saved_model_repeats_the_end_of_training() {
    let trained = adam_model();
    let rows = read_metrics(&trained.metrics);
    let accuracy: f64 = column(&rows[0], "test_accuracy").parse().unwrap();
    let loss: f64 = column(&rows[0], "test_loss").parse().unwrap();
    let out = run_ok(&[
        "evaluate",
        "--model",
        trained.model.to_str().unwrap(),
        "--data-dir",
        data_dir().to_str().unwrap(),
    ]);
    let expected = format!("10000 samples: loss {loss:.4}  accuracy {accuracy:.4}");
    assert!(out.contains(&expected), "expected {expected:?} in:\n{out}");
    // The confusion matrix: a header, a line of class numbers, and one row per class.
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.ends_with(char::is_numeric))
        .collect();
    assert!(rows.len() >= 10, "{out}");
}

#[test]
fn predict_names_the_first_test_image() {
    let dir = scratch("predict");
    let mnist = MnistLike::from_dir(
        DataSetName::Mnist,
        &length_data::fetch::ensure_available(DataSetName::Mnist, &data_dir()).unwrap(),
        &MnistOptions {
            load_train: false,
            ..MnistOptions::default()
        },
    )
    .unwrap();
    let test = mnist.test_samples().unwrap();
    assert_eq!(test.label(0), 7, "MNIST's first test image is a 7");
    let image = dir.join("first.png");
    write_gray_png(&image, test.image(0));

    let out = run_ok(&[
        "predict",
        "--model",
        adam_model().model.to_str().unwrap(),
        image.to_str().unwrap(),
    ]);
    let line = out.lines().next().unwrap();
    assert!(line.contains("first.png: 7 "), "{out}");
    assert!(line.contains("(scores: 7 "), "{out}");
}

#[test]
fn the_notebook_default_with_xavier_reaches_90_percent_after_one_epoch() {
    let dir = scratch("sgd");
    let metrics = dir.join("sgd.jsonl");
    let out = run_ok(&[
        "train",
        "--num-epochs",
        "1",
        "--seed",
        "2",
        "--verbose",
        "--data-dir",
        data_dir().to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&metrics).unwrap();
    let row: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    let accuracy = row["test_accuracy"].as_f64().unwrap();
    assert!(
        accuracy >= 0.90,
        "test accuracy {accuracy} after one SGD epoch:\n{out}"
    );
    assert_eq!(row["learning_rate"], 0.1);
    assert!(out.contains("Done: best test accuracy"), "{out}");
    // The speed of the training loop, per epoch and in the summary: 937 batches of 64 through
    // 784-512-512-10 are 192.45 GFLOP of matrix multiplication.
    assert!(
        out.contains("Training loop only (test evaluation excluded)")
            && out.contains("(192.45 GFLOP of matmul per epoch)"),
        "{out}"
    );
    let seconds = row["seconds"].as_f64().unwrap();
    let samples_per_second = row["samples_per_second"].as_f64().unwrap();
    let gflop_per_second = row["gflop_per_second"].as_f64().unwrap();
    assert!((samples_per_second * seconds - 59_968.0).abs() < 0.01 * 59_968.0);
    assert!((gflop_per_second * seconds - 192.45).abs() < 0.01 * 192.45);
}

#[test]
fn the_same_seed_gives_the_same_numbers_for_any_thread_count() {
    let dir = scratch("seed");
    let train = |threads: &str, name: &str| {
        let metrics = dir.join(name);
        run_ok(&[
            "train",
            "--num-epochs",
            "2",
            "--limit-batches",
            "20",
            "--shuffle",
            "--dropout",
            "0.2",
            "--optimizer",
            "momentum",
            "--learning-rate",
            "0.05",
            "--seed",
            "7",
            "--threads",
            threads,
            "--data-dir",
            data_dir().to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
        ]);
        read_metrics(&metrics)
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .filter(|(key, _)| !TIMING_COLUMNS.contains(&key.as_str()))
                    .collect()
            })
            .collect::<Vec<Vec<_>>>()
    };
    let first = train("1", "a.csv");
    assert_eq!(first.len(), 2);
    assert_eq!(first, train("1", "b.csv"), "the same seed twice");
    assert_eq!(first, train("2", "c.csv"), "one thread, then two");
}

#[test]
fn output_files_are_written_in_every_format() {
    let dir = scratch("outputs");
    for (metrics, plot) in [("m.csv", "p.svg"), ("m.jsonl", "p.png")] {
        let (metrics, plot) = (dir.join(metrics), dir.join(plot));
        run_ok(&[
            "train",
            "--num-epochs",
            "2",
            "--limit-batches",
            "3",
            "--hidden",
            "32",
            "--loss",
            "cross-entropy",
            "--seed",
            "3",
            "--data-dir",
            data_dir().to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
            "--plot",
            plot.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(&metrics).unwrap();
        assert_eq!(
            text.lines().count(),
            if text.starts_with("epoch") { 3 } else { 2 }
        );
        assert!(std::fs::metadata(&plot).unwrap().len() > 1000);
    }
}

#[test]
fn bad_flags_exit_with_code_2_and_say_why() {
    for (args, needle) in [
        (&["train", "--learning-rate", "-0.1"][..], "learning rate"),
        (&["train", "--learning-rate", "NaN"], "learning rate"),
        (&["train", "--batch-size", "0"], "at least 1"),
        (&["train", "--num-epochs", "0"], "at least 1"),
        (&["train", "--dropout", "1.0"], "dropout"),
        (&["train", "--optimizer", "lbfgs"], "lbfgs"),
        (&["train", "--data-set", "cifar"], "cifar"),
        (
            &["train", "--save", "/no/such/folder/m.safetensors"],
            "does not exist",
        ),
        (&["evaluate"], "--model"),
    ] {
        let output = run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let data_dir = data_dir();
    let output = run(&[
        "train",
        "--batch-size",
        "60001",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("at most 60000") && stderr.contains("training set"),
        "{stderr}"
    );
}

#[test]
fn bad_models_and_images_exit_with_code_1_and_say_why() {
    let dir = scratch("bad-input");
    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a model").unwrap();
    let not_png = dir.join("not.png");
    std::fs::write(&not_png, b"this is not a picture").unwrap();
    let missing = dir.join("missing.safetensors");
    let data_dir = data_dir();
    for (args, needle) in [
        (
            vec!["evaluate", "--model", missing.to_str().unwrap()],
            "cannot read the model file",
        ),
        (
            vec!["evaluate", "--model", garbage.to_str().unwrap()],
            "not a valid model file",
        ),
        (
            vec!["predict", "--model", garbage.to_str().unwrap(), "x.png"],
            "not a valid model file",
        ),
        (
            vec!["graph", "--model", missing.to_str().unwrap()],
            "missing.safetensors",
        ),
    ] {
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // A real model, with an image that is not a PNG.
    let model = dir.join("small.safetensors");
    run_ok(&[
        "train",
        "--num-epochs",
        "1",
        "--limit-batches",
        "1",
        "--hidden",
        "8",
        "--seed",
        "1",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--save",
        model.to_str().unwrap(),
    ]);
    let output = run(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        not_png.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not.png") && stderr.contains("PNG"),
        "{stderr}"
    );
}

#[test]
fn a_diverging_run_stops_and_leaves_the_saved_model_alone() {
    let dir = scratch("diverge");
    let model = dir.join("keep.safetensors");
    std::fs::write(&model, b"an earlier model").unwrap();
    let output = run(&[
        "train",
        "--learning-rate",
        "1e30",
        "--num-epochs",
        "1",
        "--limit-batches",
        "50",
        "--seed",
        "1",
        "--data-dir",
        data_dir().to_str().unwrap(),
        "--save",
        model.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("diverged") && stderr.contains("epoch 1, iteration"),
        "{stderr}"
    );
    assert!(stderr.contains("smaller --learning-rate"), "{stderr}");
    assert_eq!(std::fs::read(&model).unwrap(), b"an earlier model");
}

#[test]
fn missing_data_that_cannot_be_fetched_says_how_to_use_a_local_copy() {
    let dir = scratch("no-data");
    let output = length()
        .args(["train", "--num-epochs", "1", "--limit-batches", "1"])
        .args(["--data-dir", dir.to_str().unwrap()])
        .env("LENGTH_DATA_MIRROR", dir.join("no-mirror-here"))
        // Whatever the machine's network, no host is reached: the proxy refuses at once.
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("LENGTH_DATA_MIRROR"), "{stderr}");
    assert!(stderr.contains("--data-dir"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_after_the_batch_saves_and_summarizes() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = scratch("ctrl-c");
    let model = dir.join("stopped.safetensors");
    let mut child = Command::new(env!("CARGO_BIN_EXE_length"))
        .args([
            "train",
            "--num-epochs",
            "3",
            "--train-verbosity",
            "5",
            "--seed",
            "1",
            "--data-dir",
            data_dir().to_str().unwrap(),
            "--save",
            model.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    // Wait for the first progress line: training has started.
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("iteration 5/") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for line in lines {
        seen.push_str(&line.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(
        seen.contains("epoch 1/3  ") && seen.contains("(interrupted by Ctrl-C after "),
        "{seen}"
    );
    assert!(
        seen.contains("Stopped by Ctrl-C: best test accuracy"),
        "{seen}"
    );
    assert!(!seen.contains("epoch 2/3"), "{seen}");
    let evaluated = run_ok(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--data-dir",
        data_dir().to_str().unwrap(),
    ]);
    assert!(evaluated.contains("10000 samples"), "{evaluated}");
}

/// Writes 28x28 gray pixels as a PNG.
fn write_gray_png(path: &Path, pixels: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), 28, 28);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(pixels).unwrap();
}
