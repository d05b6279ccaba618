//! Helpers the `length` binary's integration tests share: run the binary, read its output, and
//! give each test a fresh folder. Each test file includes this module (`mod common;`) and uses
//! what it needs.

// Every test binary compiles this module but none uses all of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `length` binary cargo built for these tests.
pub fn length() -> Command {
    Command::new(env!("CARGO_BIN_EXE_length"))
}

/// Runs `length` with `args`; returns the whole output.
pub fn run(args: &[&str]) -> Output {
    length().args(args).output().unwrap()
}

/// Runs `length` with `args`, expecting success; returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let output = run(args);
    assert!(
        output.status.success(),
        "length {args:?} failed\n{}",
        exit_and_streams(&output)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The exit code, standard output and standard error of `output`, for failure messages.
pub fn exit_and_streams(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh, empty folder for one test's files, inside the target directory: one folder per test
/// file (`CARGO_CRATE_NAME`), one per test inside it.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("length-cli")
        .join(env!("CARGO_CRATE_NAME"))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
