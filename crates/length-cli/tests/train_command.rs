//! `length train` as a user meets it: the plain output, flags refused before any work, diverged
//! models never saved, destinations checked before training, and a model that survives a failed
//! save. Each test runs the real binary on real MNIST, with a few batches at most.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{exit_and_streams, scratch};

/// The data directory every test reads (fetched from `$LENGTH_DATA_MIRROR` when missing).
fn data_dir() -> PathBuf {
    length_data::workspace_data_dir()
}

/// `length train` with the data directory set and `args` after it.
fn train(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_length"));
    command
        .arg("train")
        .arg("--data-dir")
        .arg(data_dir())
        .args(args);
    command
}

/// The course's default model, trained for a few batches and written to stdout as plain lines.
fn short_run(extra: &[&str]) -> Output {
    let output = train(&["--num-epochs", "2", "--limit-batches", "40", "--seed", "1"])
        .args(["--train-verbosity", "10"])
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", exit_and_streams(&output));
    output
}

#[test]
fn plain_output_fits_80_columns_and_engineering_figures_need_verbose() {
    for verbose in [false, true] {
        let output = short_run(if verbose { &["--verbose"] } else { &[] });
        let stdout = String::from_utf8_lossy(&output.stdout);
        for line in stdout
            .lines()
            .chain(String::from_utf8_lossy(&output.stderr).lines())
        {
            assert!(
                line.chars().count() <= 80,
                "{} columns: {line:?}\n{}",
                line.chars().count(),
                exit_and_streams(&output)
            );
        }
        assert!(stdout.contains("epoch 1/2  loss "), "{stdout}");
        assert!(stdout.contains("Done: best test accuracy"), "{stdout}");
        // The governor runs the steps when there is more than one core; its second window of 16
        // steps is a probe of one thread, so 40 steps always include some on one thread.
        let governed = std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
        for figure in ["steps ran on one thread", "samples/s", "GFLOP/s"] {
            let expected = verbose && (governed || figure != "steps ran on one thread");
            assert_eq!(stdout.contains(figure), expected, "{figure:?}:\n{stdout}");
        }
    }
}

#[test]
fn absurd_sizes_and_thread_counts_are_refused_at_once_with_a_reason() {
    for (flags, reason) in [
        (
            &["--hidden", "18446744073709551615"][..],
            "wider than 65536",
        ),
        (&["--hidden", "4000000000"], "wider than 65536"),
        (&["--hidden", "60000,60000"], "parameters"),
        (&["--threads", "100000"], "at most 256 threads"),
        (&["--batch-size", "18446744073709551615"], "at most 60000"),
        (
            &["--batch-size", "60000", "--hidden", "65536"],
            "smaller batch",
        ),
    ] {
        let start = Instant::now();
        let output = train(flags).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{flags:?}: {}",
            exit_and_streams(&output)
        );
        assert!(stderr.contains(reason), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{flags:?}: {stderr}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{flags:?} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn a_model_whose_final_test_loss_is_not_finite_is_not_saved() {
    let dir = scratch("not-finite");
    let model = dir.join("m.safetensors");
    std::fs::write(&model, b"an earlier model").unwrap();
    // One step at this rate leaves weights whose test loss is infinite, though the step's own
    // loss (computed before the update) was finite.
    let output = train(&["--learning-rate", "1e8", "--limit-batches", "1"])
        .args(["--num-epochs", "1", "--seed", "1", "--save"])
        .arg(&model)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        exit_and_streams(&output)
    );
    assert!(stderr.contains("test loss after epoch 1 is"), "{stderr}");
    assert!(stderr.contains("was not saved"), "{stderr}");
    assert_eq!(std::fs::read(&model).unwrap(), b"an earlier model");
}

#[cfg(target_os = "linux")]
#[test]
fn unwritable_destinations_are_refused_before_training() {
    // Nobody, not even root, can create files in /proc.
    for flag in ["--save", "--metrics", "--plot"] {
        let path = match flag {
            "--save" => "/proc/m.safetensors",
            "--metrics" => "/proc/m.csv",
            _ => "/proc/p.svg",
        };
        let start = Instant::now();
        let output = train(&["--num-epochs", "1", flag, path]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{flag}: {}",
            exit_and_streams(&output)
        );
        assert!(
            stderr.contains("cannot create files in the folder /proc"),
            "{stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "{flag}: trained anyway: {}",
            exit_and_streams(&output)
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

/// A folder that is read-only, or a tiny file system that fills up, while it exists.
#[cfg(target_os = "linux")]
struct Mounted(PathBuf);

#[cfg(target_os = "linux")]
impl Mounted {
    /// Mounts `options` at `dir` (which must exist) with `mount`, or `None` where that is not
    /// allowed (not root, or in a container without the right).
    fn new(dir: &Path, args: &[&str]) -> Option<Mounted> {
        let status = std::process::Command::new("mount")
            .args(args)
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| Mounted(dir.to_owned()))
    }
}

#[cfg(target_os = "linux")]
impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_read_only_folder_is_refused_before_training() {
    let dir = scratch("read-only");
    let folder = dir.join("ro");
    std::fs::create_dir_all(&folder).unwrap();
    let bind = ["--bind", "-o", "ro", folder.to_str().unwrap()];
    let Some(_mounted) = Mounted::new(&folder, &bind) else {
        eprintln!("skipped: cannot bind-mount here (the /proc case covers the check)");
        return;
    };
    let output = train(&["--num-epochs", "1", "--save"])
        .arg(folder.join("m.safetensors"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        exit_and_streams(&output)
    );
    assert!(stderr.contains("Read-only file system"), "{stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_save_puts_the_model_in_a_fallback_file_and_says_where() {
    let dir = scratch("full");
    let full = dir.join("full");
    let temp = dir.join("tmp");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::create_dir_all(&temp).unwrap();
    let target = full.join("m.safetensors");
    // A 256 KiB file system takes the probe but not the 2.7 MB model. Where it cannot be
    // mounted, the test hook makes the save fail the same way.
    let mounted = Mounted::new(&full, &["-t", "tmpfs", "-o", "size=256k", "tmpfs"]);
    let mut command = train(&["--num-epochs", "1", "--limit-batches", "2", "--seed", "1"]);
    command.arg("--save").arg(&target).env("TMPDIR", &temp);
    if mounted.is_none() {
        command.env(length_cli::destination::FAIL_SAVE_ENV, &target);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        exit_and_streams(&output)
    );
    let fallback = temp.join(format!(
        "length-{}-m.safetensors",
        fallback_pid(&stderr, &temp)
    ));
    assert!(
        stderr.contains(&format!("saved to {} instead", fallback.display())),
        "{stderr}"
    );
    assert!(
        !target.exists(),
        "a partial model was left in {}",
        target.display()
    );
    // The fallback is a whole model: `length evaluate` reads it.
    let evaluated = Command::new(env!("CARGO_BIN_EXE_length"))
        .args(["evaluate", "--data-dir"])
        .arg(data_dir())
        .arg("--model")
        .arg(&fallback)
        .output()
        .unwrap();
    assert!(
        evaluated.status.success(),
        "{}",
        exit_and_streams(&evaluated)
    );
    drop(mounted);
}

/// The process id in the fallback path in `folder` an error message names
/// (`<folder>/length-<pid>-<name>`).
fn fallback_pid(stderr: &str, folder: &Path) -> String {
    let prefix = format!("{}/length-", folder.display());
    let start = stderr.find(&prefix).expect("a fallback path") + prefix.len();
    stderr[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}
