//! `length exercise check [DIR] [--json]`: runs the project's tests and says, task by task,
//! where the student stands.
//!
//! It runs `cargo test --release --no-fail-fast --tests` in the project with
//! `LENGTH_EXERCISE_REPORT` naming a temporary file; each task's test appends its outcome there
//! (see [`harness`](super::harness)). A task without a line did not run: the project does not
//! compile (the first compiler error is shown), or its test crashed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use super::harness::{REPORT_ENV, Status, TASKS, Task, TaskReport};
use anyhow::Context;

use super::project;
use crate::UsageError;

/// What `check` found for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The task.
    pub task: Task,
    /// `passed`, `not started`, `failing`, `does not compile` or `did not run`.
    pub status: &'static str,
    /// `Test passed.`, the `todo!`'s text, the first failing check, or what went wrong.
    pub message: String,
}

impl Outcome {
    /// Whether the task passes.
    pub fn passed(&self) -> bool {
        self.status == Status::Passed.as_str()
    }
}

/// Runs `length exercise check`.
pub fn run(dir: Option<PathBuf>, json: bool) -> anyhow::Result<ExitCode> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    if !project::is_project(&dir) {
        return Err(UsageError(format!(
            "{} is not an exercise project (its Cargo.toml does not name the package {}); \
             create one with `length exercise new DIR`",
            dir.display(),
            project::PACKAGE_NAME
        ))
        .into());
    }
    if !json {
        eprintln!(
            "Running the tests in {} (cargo test --release; the first run also compiles the \
             library, which takes a minute or two) ...",
            dir.display()
        );
    }
    let outcomes = run_tests(&dir)?;
    let passed = outcomes.iter().filter(|outcome| outcome.passed()).count();
    if json {
        println!("{}", to_json(&outcomes, passed));
    } else {
        print!("{}", to_text(&outcomes, passed));
    }
    Ok(if passed == outcomes.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs cargo's tests in `dir` and gathers one outcome per task.
fn run_tests(dir: &Path) -> anyhow::Result<Vec<Outcome>> {
    let report_path = std::env::temp_dir().join(format!(
        "length-exercise-report-{}-{}.txt",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["test", "--release", "--no-fail-fast", "--tests"])
        .current_dir(dir)
        .env(REPORT_ENV, &report_path)
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "cannot run {} (is Rust installed? https://rustup.rs)",
                Path::new(&cargo).display()
            )
        })?;
    let reports = std::fs::read_to_string(&report_path).unwrap_or_default();
    let _ = std::fs::remove_file(&report_path);
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(outcomes(&reports, &stderr))
}

/// One outcome per task from the report file's lines; tasks without one get cargo's reason.
pub fn outcomes(reports: &str, cargo_stderr: &str) -> Vec<Outcome> {
    let mut by_task: BTreeMap<u8, TaskReport> = BTreeMap::new();
    for report in reports.lines().filter_map(TaskReport::from_line) {
        by_task.entry(report.task).or_insert(report);
    }
    let compile_error = first_compile_error(cargo_stderr);
    TASKS
        .iter()
        .map(|&task| match by_task.remove(&task.number) {
            Some(report) => Outcome {
                task,
                status: report.status.as_str(),
                message: report.message,
            },
            None => match &compile_error {
                Some(error) => Outcome {
                    task,
                    status: "does not compile",
                    message: error.clone(),
                },
                None => Outcome {
                    task,
                    status: "did not run",
                    message: format!(
                        "its test did not report; run `cargo test --release task{}` to see why",
                        task.number
                    ),
                },
            },
        })
        .collect()
}

/// The first `error` cargo or rustc printed, with the lines that explain it (up to 12).
fn first_compile_error(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.starts_with("error[") || line.starts_with("error:"))?;
    let block: Vec<&str> = lines[start..]
        .iter()
        .enumerate()
        .take_while(|(i, line)| *i == 0 || !line.trim().is_empty())
        .map(|(_, line)| *line)
        .take(12)
        .collect();
    Some(block.join("\n"))
}

/// One line per task, then the count.
pub fn to_text(outcomes: &[Outcome], passed: usize) -> String {
    let mut text = String::new();
    for outcome in outcomes {
        let task = &outcome.task;
        let label = format!("Task {}  {:<17}", task.number, task.name);
        let line = match outcome.status {
            "passed" => "Test passed.".to_string(),
            "not started" => format!("not started ({}: {})", task.file, outcome.message),
            "does not compile" => "the project does not compile:".to_string(),
            status => format!("{status}: {}", outcome.message),
        };
        text.push_str(&format!("{label} {line}\n"));
    }
    if let Some(error) = outcomes
        .iter()
        .find(|outcome| outcome.status == "does not compile")
    {
        text.push_str(&format!("\n{}\n\n", error.message));
    }
    text.push_str(&format!("{passed} of {} tasks pass.\n", outcomes.len()));
    if let Some(next) = outcomes.iter().find(|outcome| !outcome.passed()) {
        text.push_str(&format!(
            "Next: task {}, tested alone by `cargo test --release task{}`; stuck? `length \
             exercise hint {}`.\n",
            next.task.number, next.task.number, next.task.number
        ));
    }
    text
}

/// The outcomes for graders: `{"passed": N, "total": 5, "tasks": [{"task": 1, ...}]}`.
pub fn to_json(outcomes: &[Outcome], passed: usize) -> serde_json::Value {
    serde_json::json!({
        "passed": passed,
        "total": outcomes.len(),
        "tasks": outcomes.iter().map(|outcome| serde_json::json!({
            "task": outcome.task.number,
            "name": outcome.task.name,
            "file": outcome.task.file,
            "status": outcome.status,
            "message": outcome.message,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_task_gets_its_first_report_and_missing_ones_a_reason() {
        let reports = [
            TaskReport {
                task: 1,
                status: Status::Passed,
                message: "Test passed.".into(),
            },
            TaskReport {
                task: 3,
                status: Status::Failing,
                message: "the loss: expected 0.583, got 0.29".into(),
            },
            TaskReport {
                task: 3,
                status: Status::Passed,
                message: "a second line for a task is ignored".into(),
            },
            TaskReport {
                task: 4,
                status: Status::NotStarted,
                message: "Task 4 (forward): max(x, 0)".into(),
            },
        ]
        .map(|report| report.to_line())
        .join("\n");
        let outcomes = outcomes(&reports, "");
        let statuses: Vec<&str> = outcomes.iter().map(|outcome| outcome.status).collect();
        assert_eq!(
            statuses,
            [
                "passed",
                "did not run",
                "failing",
                "not started",
                "did not run"
            ]
        );
        let text = to_text(&outcomes, 1);
        assert!(
            text.contains(
                "Task 3  MeanSquaredError  failing: the loss: expected 0.583, got 0.29\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("not started (src/task4_relu.rs: Task 4 (forward): max(x, 0))"),
            "{text}"
        );
        assert!(
            text.contains("\n1 of 5 tasks pass.\nNext: task 2, "),
            "{text}"
        );
        let json = to_json(&outcomes, 1);
        assert_eq!(json["passed"], 1);
        assert_eq!(json["tasks"][2]["status"], "failing");
    }

    #[test]
    fn a_compile_error_explains_every_missing_task() {
        let stderr = "   Compiling length-exercise v0.1.0\nerror[E0308]: mismatched types\n  --> src/task1_sgd.rs:3:5\n   |\n\nerror: aborting\n";
        let outcomes = outcomes("", stderr);
        assert!(
            outcomes
                .iter()
                .all(|outcome| outcome.status == "does not compile")
        );
        assert_eq!(
            outcomes[0].message,
            "error[E0308]: mismatched types\n  --> src/task1_sgd.rs:3:5\n   |"
        );
    }
}
