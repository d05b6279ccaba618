//! `length evaluate` and `length predict` on hostile and broken model files (issue 18): each is
//! refused with exit code 1 and a message that says what is wrong, at once, without a large
//! allocation; `length train --save` writes the same bytes for the same run, and two runs saving
//! to one path leave one whole model.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{length, scratch};
use length_layers::{Activation, MLP, MlpConfig, Model};
use length_train::checkpoint::Checkpoint;
use serde_json::{Value, json};

/// A 784-16-10 model, as `length train --hidden 16 --activation relu` makes.
fn small_model() -> MLP {
    MlpConfig::new([784, 16, 10])
        .activation(Activation::ReLU)
        .seed(1)
        .build()
        .unwrap()
}

/// The small model's file with its header changed by `edit`.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let bytes = Checkpoint::from_model(&small_model()).to_bytes();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    edit(&mut header);
    let json = header.to_string().into_bytes();
    let mut file = (json.len() as u64).to_le_bytes().to_vec();
    file.extend(json);
    file.extend(&bytes[8 + len..]);
    file
}

/// Runs `length` with `args`, expecting exit code 1 within a few seconds and `expected` in the
/// error message; returns the output.
fn refused(args: &[&str], expected: &str) -> Output {
    let start = Instant::now();
    let output = length().args(args).output().unwrap();
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "length {args:?}\nstderr:\n{stderr}"
    );
    assert_eq!(
        stderr.matches(expected).count(),
        1,
        "length {args:?}: expected {expected:?} once in\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        elapsed < Duration::from_secs(5),
        "length {args:?} took {elapsed:?}"
    );
    output
}

/// `length evaluate --model FILE` with `bytes` in FILE is refused with `expected` in the message.
fn evaluate_refuses(dir: &Path, name: &str, bytes: &[u8], expected: &str) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    refused(&["evaluate", "--model", path.to_str().unwrap()], expected);
}

#[test]
fn evaluate_refuses_architectures_the_file_does_not_hold() {
    let dir = scratch("architecture");
    let architecture = |sizes: &str| {
        edited(|header| {
            header["__metadata__"]["architecture"] = Value::from(format!("sizes={sizes}"));
        })
    };
    evaluate_refuses(
        &dir,
        "million.safetensors",
        &architecture("784,1000000,10"),
        "\"fc1.weight\" must have shape [1000000, 784], the file's has [16, 784]",
    );
    evaluate_refuses(
        &dir,
        "u64max.safetensors",
        &architecture("784,18446744073709551615,10"),
        "must have shape [18446744073709551615, 784]",
    );
    let deep = format!("784,{}10", "4096,".repeat(400));
    evaluate_refuses(
        &dir,
        "deep.safetensors",
        &architecture(&deep),
        "it needs 802 tensors, the file holds 4",
    );
}

#[test]
fn evaluate_refuses_files_that_claim_more_than_they_hold() {
    let dir = scratch("claims");
    let good = Checkpoint::from_model(&small_model()).to_bytes();
    evaluate_refuses(
        &dir,
        "cut.safetensors",
        &good[..good.len() - 100],
        "only 50820 follow",
    );
    let mut long_header = good.clone();
    long_header[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    evaluate_refuses(
        &dir,
        "header.safetensors",
        &long_header,
        "more than the limit",
    );
    let huge_shape = edited(|header| header["fc1.bias"]["shape"] = json!([u64::MAX]));
    evaluate_refuses(&dir, "shape.safetensors", &huge_shape, "too large to exist");

    // A valid model followed by a 3 GB hole: nothing past the declared bytes is read.
    let sparse = dir.join("sparse.safetensors");
    std::fs::write(&sparse, &good).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&sparse)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    refused(
        &["evaluate", "--model", sparse.to_str().unwrap()],
        "the tensors cover",
    );
    refused(
        &["evaluate", "--model", "/dev/zero"],
        "/dev/zero is not a valid model file (safetensors, as written by `length train --save`): not a regular file",
    );
}

#[test]
fn evaluate_and_predict_refuse_non_finite_weights() {
    let dir = scratch("nan");
    let image = dir.join("digit.png");
    std::fs::write(&image, b"not read: the model is refused first").unwrap();
    for (name, value) in [("nan", f32::NAN), ("inf", f32::INFINITY)] {
        let mut model = small_model();
        model.parameter_mut("fc1.weight").unwrap().fill(value);
        let path = dir.join(format!("{name}.safetensors"));
        Checkpoint::from_model(&model).save(&path).unwrap();
        let path = path.to_str().unwrap();
        refused(&["evaluate", "--model", path], "non-finite value");
        refused(
            &["predict", "--model", path, image.to_str().unwrap()],
            "diverged",
        );
    }
}

/// Runs `length train` briefly (two batches of a 784-16-10 model) with `seed`, saving to `save`.
fn train(seed: &str, save: &Path) -> Command {
    let mut command = length();
    command.args([
        "train",
        "--num-epochs",
        "1",
        "--limit-batches",
        "2",
        "--hidden",
        "16",
        "--seed",
        seed,
        "--data-dir",
        length_data::workspace_data_dir().to_str().unwrap(),
        "--save",
        save.to_str().unwrap(),
    ]);
    command
}

/// Runs a command to completion, expecting success.
fn succeed(mut command: Command) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_same_run_saves_the_same_bytes() {
    let dir = scratch("deterministic");
    let (a, b) = (dir.join("a.safetensors"), dir.join("b.safetensors"));
    succeed(train("5", &a));
    succeed(train("5", &b));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn two_runs_saving_to_one_path_leave_one_whole_model() {
    let dir = scratch("collide");
    let expected: Vec<Checkpoint> = ["1", "2"]
        .iter()
        .map(|seed| {
            let path = dir.join(format!("alone-{seed}.safetensors"));
            succeed(train(seed, &path));
            Checkpoint::read(&path).unwrap()
        })
        .collect();
    let shared = dir.join("shared.safetensors");
    for round in 0..3 {
        let runs: Vec<_> = ["1", "2"]
            .iter()
            .map(|seed| {
                train(seed, &shared)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for run in runs {
            let output = run.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(
                stdout.contains("Saved the model"),
                "round {round}: {stdout}"
            );
        }
        let saved = Checkpoint::read(&shared).unwrap();
        assert!(
            expected.contains(&saved),
            "round {round}: the file is neither run's model"
        );
    }
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.') || name.ends_with(".partial"))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}
