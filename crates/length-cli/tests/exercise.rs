//! `length exercise` end to end: the exercise is sound.
//!
//! - a fresh student's project compiles, and every task reports "not started";
//! - the solved project passes every task, and one epoch of its training binary (`length
//!   train`'s runner with the student's parts) reaches 0.90 test accuracy on the real MNIST with
//!   the default (Xavier) initialisation;
//! - a wrong solution of each task (SGD adding the delta, the fully connected backward without
//!   the transpose, MSE without the 2/N factor, ReLU passing negative values, Adam without bias
//!   correction) is caught by that task's test.
//!
//! The projects are generated into the target directory and built by cargo with one shared
//! `CARGO_TARGET_DIR`, so the dependencies are compiled once and each project or wrong solution
//! recompiles only the student's crate. Cargo names a root package's artifacts without its path,
//! so two projects in one target directory write the same files: the tests that build a project
//! take turns ([`one_build_at_a_time`]).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use common::exit_and_streams;
use length_cli::exercise::harness::{REPORT_ENV, Status, TaskReport};

/// Where the generated projects live, and their shared target directory.
fn exercise_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("exercise-tests")
}

fn shared_target() -> PathBuf {
    exercise_dir().join("target")
}

/// Held while a test builds and runs a project in the shared target directory.
fn one_build_at_a_time() -> MutexGuard<'static, ()> {
    static BUILDING: Mutex<()> = Mutex::new(());
    BUILDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A path for a new project called `name` (removed first if an earlier run left it).
fn fresh(name: &str) -> PathBuf {
    let dir = exercise_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(exercise_dir()).unwrap();
    dir
}

/// The `length` binary, with cargo pointed at the shared target directory.
fn length() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_length"));
    command.env("CARGO_TARGET_DIR", shared_target());
    command
}

/// `length exercise new` with `flags` into `dir`.
fn new_project(dir: &Path, flags: &[&str]) {
    let output = length()
        .args(["exercise", "new"])
        .args(flags)
        .arg(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", exit_and_streams(&output));
}

/// `length exercise check DIR --json`: the exit code and the parsed JSON.
fn check_json(dir: &Path) -> (Option<i32>, serde_json::Value, Output) {
    let output = length()
        .args(["exercise", "check", "--json"])
        .arg(dir)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", exit_and_streams(&output)));
    (output.status.code(), json, output)
}

fn statuses(json: &serde_json::Value) -> Vec<String> {
    json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn new_refuses_a_folder_that_is_not_empty() {
    let dir = fresh("not-empty");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let output = length()
        .args(["exercise", "new"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        exit_and_streams(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not empty"),
        "{}",
        exit_and_streams(&output)
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn hints_come_one_more_each_time() {
    let dir = fresh("hints");
    new_project(&dir, &[]);
    let hint = |task: &str| {
        let output = length()
            .args(["exercise", "hint", task])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", exit_and_streams(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(hint("1").starts_with("Task 1 (SGD), hint 1 of 4:"));
    assert!(hint("sgd").starts_with("Task 1 (SGD), hint 2 of 4:"));
    assert!(hint("relu").starts_with("Task 4 (ReLU), hint 1 of 4:"));
    hint("1");
    let last = hint("1");
    assert!(last.starts_with("Task 1 (SGD), hint 4 of 4:"), "{last}");
    assert!(last.contains("That was the last hint"), "{last}");
    assert!(hint("1").starts_with("Task 1 (SGD), hint 4 of 4:"));
}

#[test]
fn a_fresh_project_compiles_and_no_task_is_started() {
    let _building = one_build_at_a_time();
    let dir = fresh("student");
    new_project(&dir, &[]);
    let sources = std::fs::read_to_string(dir.join("src/task1_sgd.rs")).unwrap();
    assert!(sources.contains("todo!(\"Task 1: "), "{sources}");
    assert!(!sources.contains("SOLUTION"), "{sources}");

    let (code, json, output) = check_json(&dir);
    assert_eq!(code, Some(1), "{}", exit_and_streams(&output));
    assert_eq!(
        statuses(&json),
        vec!["not started"; 5],
        "{}",
        exit_and_streams(&output)
    );
    assert_eq!(json["passed"], 0);
    for (number, task) in json["tasks"].as_array().unwrap().iter().enumerate() {
        let message = task["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("Task {}", number + 1)),
            "{message}"
        );
    }
}

#[test]
fn the_solved_project_passes_every_task_and_its_first_epoch_reaches_90_percent() {
    let _building = one_build_at_a_time();
    let dir = fresh("solved");
    new_project(&dir, &["--solved"]);
    let output = length()
        .args(["exercise", "check"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        exit_and_streams(&output)
    );
    assert_eq!(stdout.matches("Test passed.").count(), 5, "{stdout}");
    assert!(stdout.ends_with("5 of 5 tasks pass.\n"), "{stdout}");

    let data_dir = length_data::workspace_data_dir();
    let train = |flags: &[&str]| {
        Command::new(env!("CARGO"))
            .args(["run", "--release", "--quiet", "--", "train"])
            .args(flags)
            .arg("--data-dir")
            .arg(&data_dir)
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", shared_target())
            .output()
            .unwrap()
    };
    let output = train(&["--num-epochs", "1", "--seed", "1"]);
    assert!(output.status.success(), "{}", exit_and_streams(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("the solved project's training:\n{stdout}");
    // length train's own header and summary.
    for line in [
        "Training MLP 784-512-512-10 (relu, mse) on MNIST.\n",
        "\nOptimizer sgd lr=0.1 schedule=step, init xavier, epochs 1, threads ",
        "\nDone: best test accuracy ",
    ] {
        assert!(
            stdout.contains(line),
            "{line:?} missing: {}",
            exit_and_streams(&output)
        );
    }
    let epoch = stdout
        .lines()
        .find(|line| line.starts_with("epoch 1/1  loss "))
        .unwrap_or_else(|| panic!("no epoch line: {}", exit_and_streams(&output)));
    // `epoch 1/1  loss 0.0123 acc 0.9012  test loss 0.0101 acc 0.9185  9.8 s`, as length train.
    let accuracy: f64 = epoch
        .rsplit_once("test loss")
        .and_then(|(_, rest)| rest.split_once("acc "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no test accuracy in {epoch:?}"));
    assert!(accuracy >= 0.90, "{epoch}");

    // The student's project has only the student's optimizers and the notebook's network.
    for (flags, refusal) in [
        (
            &["--optimizer", "momentum"][..],
            "--optimizer momentum: the exercise trains with your own optimizers",
        ),
        (
            &["--hidden", "128"][..],
            "your ActivatedMLP is 784-512-512-10",
        ),
    ] {
        let output = train(flags);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}",
            exit_and_streams(&output)
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(refusal),
            "{}",
            exit_and_streams(&output)
        );
    }
}

/// A wrong solution: in `file`, `right` (from the reference solution) becomes `wrong`.
struct Mutant {
    task: u8,
    test: &'static str,
    file: &'static str,
    right: &'static str,
    wrong: &'static str,
}

const MUTANTS: [Mutant; 5] = [
    Mutant {
        task: 1,
        test: "task1_sgd",
        file: "src/task1_sgd.rs",
        right: ".map(|gradient| gradient.mapv(|g| learning_rate * g))",
        wrong: ".map(|gradient| gradient.mapv(|g| -learning_rate * g))",
    },
    Mutant {
        task: 2,
        test: "task2_fully_connected",
        file: "src/task2_fully_connected.rs",
        right: "let input_gradient = matmul_a_bt(g, self.weights.view());",
        wrong: "let input_gradient = matmul_a_b(g, self.weights.view());",
    },
    Mutant {
        task: 3,
        test: "task3_mean_squared_error",
        file: "src/task3_mean_squared_error.rs",
        right: "let scale = 2.0 * g / x.len() as f32;",
        wrong: "let scale = g;",
    },
    Mutant {
        task: 4,
        test: "task4_relu",
        file: "src/task4_relu.rs",
        right: "x.mapv(|v| if v > 0.0 { v } else { 0.0 })",
        wrong: "x.mapv(|v| v)",
    },
    Mutant {
        task: 5,
        test: "task5_adam",
        file: "src/task5_adam.rs",
        right: "let m_hat = *m / m_correction;\n                    let v_hat = *v / v_correction;",
        wrong: "let m_hat = *m;\n                    let v_hat = *v;",
    },
];

#[test]
fn a_wrong_solution_of_each_task_is_caught_by_its_test() {
    let _building = one_build_at_a_time();
    let dir = fresh("mutants");
    new_project(&dir, &["--solved"]);
    let report = exercise_dir().join("mutants-report.txt");
    for mutant in &MUTANTS {
        let path = dir.join(mutant.file);
        let solved = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            solved.matches(mutant.right).count(),
            1,
            "task {}: the reference solution changed; update the mutant",
            mutant.task
        );
        std::fs::write(&path, solved.replace(mutant.right, mutant.wrong)).unwrap();
        let _ = std::fs::remove_file(&report);
        let output = Command::new(env!("CARGO"))
            .args(["test", "--release", "--test", mutant.test])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", shared_target())
            .env(REPORT_ENV, &report)
            .output()
            .unwrap();
        std::fs::write(&path, &solved).unwrap();
        assert!(
            !output.status.success(),
            "task {}: {}",
            mutant.task,
            exit_and_streams(&output)
        );
        let reported = std::fs::read_to_string(&report).unwrap_or_default();
        let reports: Vec<TaskReport> = reported.lines().filter_map(TaskReport::from_line).collect();
        assert_eq!(
            reports.len(),
            1,
            "task {}: {reported}\n{}",
            mutant.task,
            exit_and_streams(&output)
        );
        assert_eq!(
            (reports[0].task, reports[0].status),
            (mutant.task, Status::Failing),
            "{:?}",
            reports[0]
        );
        println!(
            "task {} wrong solution caught: {}",
            mutant.task, reports[0].message
        );
    }
}
