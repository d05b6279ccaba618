//! The test harness of the exercise: each task's test runs its checks through [`task`], which
//! prints `Test passed.` when they all hold, and the checks say in plain words what they expected
//! and what came out.
//!
//! `length exercise check` runs `cargo test --release` with the environment variable
//! [`REPORT_ENV`] naming a file; [`task`] then appends one [`TaskReport`] line per task to it:
//! passed, not started (a `todo!` was reached) or failing (with the first failing check's
//! message). Both sides of that exchange live here, so they cannot drift apart: an exercise
//! project depends on this crate (for its training binary too) and its `check` module is this
//! one, re-exported.

use std::fmt;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};

use length_tensor::Tensor;
use ndarray::{ArrayViewD, Dimension};

/// The environment variable naming the file [`task`] appends its reports to.
pub const REPORT_ENV: &str = "LENGTH_EXERCISE_REPORT";

/// One of the five tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// 1 to 5.
    pub number: u8,
    /// What the student builds, e.g. `"SGD"`.
    pub name: &'static str,
    /// The source file the student edits, relative to the project.
    pub file: &'static str,
}

/// The five tasks, in the order of the notebook.
pub const TASKS: [Task; 5] = [
    Task {
        number: 1,
        name: "SGD",
        file: "src/task1_sgd.rs",
    },
    Task {
        number: 2,
        name: "FullyConnected",
        file: "src/task2_fully_connected.rs",
    },
    Task {
        number: 3,
        name: "MeanSquaredError",
        file: "src/task3_mean_squared_error.rs",
    },
    Task {
        number: 4,
        name: "ReLU",
        file: "src/task4_relu.rs",
    },
    Task {
        number: 5,
        name: "Adam",
        file: "src/task5_adam.rs",
    },
];

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every check held: "Test passed."
    Passed,
    /// The checks reached a `todo!`.
    NotStarted,
    /// A check failed (or the code panicked).
    Failing,
}

impl Status {
    /// `passed`, `not started`, `failing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::NotStarted => "not started",
            Status::Failing => "failing",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Status::Passed, Status::NotStarted, Status::Failing]
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one task's test: the line [`task`] writes to the report file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskReport {
    /// The task's number.
    pub task: u8,
    /// Where it stands.
    pub status: Status,
    /// `Test passed.`, the `todo!`'s text, or the first failing check's message.
    pub message: String,
}

impl TaskReport {
    /// One line: `task<TAB>status<TAB>message`, with backslashes, tabs and line breaks in the
    /// message escaped.
    ///
    /// ```
    /// use length_cli::exercise::harness::{Status, TaskReport};
    ///
    /// let report = TaskReport { task: 3, status: Status::Failing, message: "a\tb\nc".into() };
    /// assert_eq!(report.to_line(), "3\tfailing\ta\\tb\\nc");
    /// assert_eq!(TaskReport::from_line(&report.to_line()), Some(report));
    /// ```
    pub fn to_line(&self) -> String {
        let message = self
            .message
            .replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n");
        format!("{}\t{}\t{message}", self.task, self.status)
    }

    /// Parses [`to_line`](TaskReport::to_line)'s output; `None` if it is not such a line.
    pub fn from_line(line: &str) -> Option<Self> {
        let mut fields = line.splitn(3, '\t');
        let task = fields.next()?.parse().ok()?;
        let status = Status::from_name(fields.next()?)?;
        let mut message = String::new();
        let mut escaped = false;
        for c in fields.next()?.chars() {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, c) => message.push(c),
                (true, 'n') => (message.push('\n'), escaped = false).1,
                (true, 't') => (message.push('\t'), escaped = false).1,
                (true, c) => (message.push(c), escaped = false).1,
            }
        }
        Some(TaskReport {
            task,
            status,
            message,
        })
    }
}

/// The text `todo!` panics with, before the student's own words.
const TODO_PREFIX: &str = "not yet implemented";

/// Runs task `number`'s checks: prints `Test passed.` if `checks` returns, reports the outcome
/// to the file named by [`REPORT_ENV`] (if set), and panics again if a check failed, so that
/// `cargo test` counts the test as failed and shows the message.
///
/// `Test passed.` is written to the real standard output, so it shows without `--nocapture`.
///
/// ```
/// length_cli::exercise::harness::task(1, || {
///     length_cli::exercise::harness::expect(1 + 1 == 2, || "arithmetic works".into());
/// });
/// ```
///
/// # Panics
/// If `number` is not a task, or when a check fails (with its message).
pub fn task(number: u8, checks: impl FnOnce()) {
    let task = TASKS
        .iter()
        .find(|task| task.number == number)
        .unwrap_or_else(|| panic!("there is no task {number}; the tasks are 1 to 5"));
    let outcome = panic::catch_unwind(AssertUnwindSafe(checks));
    let (status, message) = match &outcome {
        Ok(()) => (Status::Passed, "Test passed.".to_string()),
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            match message.strip_prefix(TODO_PREFIX) {
                Some(rest) => (
                    Status::NotStarted,
                    rest.trim_start_matches([':', ' ']).to_string(),
                ),
                None => (Status::Failing, message),
            }
        }
    };
    report(&TaskReport {
        task: number,
        status,
        message: message.clone(),
    });
    let mut stdout = std::io::stdout();
    let _ = match status {
        Status::Passed => writeln!(stdout, "Task {number} ({}): Test passed.", task.name),
        Status::NotStarted => writeln!(
            stdout,
            "Task {number} ({}): not started yet (todo! in {}: {message})",
            task.name, task.file
        ),
        Status::Failing => writeln!(stdout, "Task {number} ({}): {message}", task.name),
    };
    if let Err(payload) = outcome {
        panic::resume_unwind(payload);
    }
}

/// The text of a panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "the code panicked (with a value that is not text)".to_string()
    }
}

/// Appends `report` to the file named by [`REPORT_ENV`], if it is set.
fn report(report: &TaskReport) {
    let Some(path) = std::env::var_os(REPORT_ENV) else {
        return;
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| writeln!(file, "{}", report.to_line()));
    if let Err(error) = written {
        eprintln!(
            "cannot write the report to {}: {error}",
            std::path::Path::new(&path).display()
        );
    }
}

/// Fails with `message()` unless `condition` holds.
///
/// # Panics
/// If `condition` is false.
pub fn expect(condition: bool, message: impl FnOnce() -> String) {
    if !condition {
        panic!("{}", message());
    }
}

/// Fails unless `got` has shape `expected`, with a message naming `what` and both shapes.
///
/// ```should_panic
/// length_cli::exercise::harness::expect_shape("the deltas", &[5, 3], &[3, 5]);
/// ```
///
/// # Panics
/// If the shapes differ.
pub fn expect_shape(what: &str, got: &[usize], expected: &[usize]) {
    expect(got == expected, || {
        format!("{what}: expected shape {expected:?}, got shape {got:?}")
    });
}

/// Fails unless `got` has `expected`'s shape and every element is within
/// `atol + rtol · |expected|` of it (NumPy's `allclose`). The message names `what`, the shape,
/// how many elements differ and the worst one: where, what was expected, what came out.
///
/// ```
/// use length_cli::exercise::harness::expect_close;
/// use ndarray::array;
///
/// let expected = array![[1.0f32, 2.0]].into_dyn();
/// expect_close("y", array![[1.0f32, 2.000001]].into_dyn().view(), expected.view(), 1e-5, 1e-4);
/// let wrong = std::panic::catch_unwind(|| {
///     expect_close("y", array![[1.0f32, 3.0]].into_dyn().view(), expected.view(), 1e-5, 1e-4)
/// });
/// assert!(wrong.is_err());
/// ```
///
/// # Panics
/// If the shapes differ or an element is not close.
pub fn expect_close(
    what: &str,
    got: ArrayViewD<f32>,
    expected: ArrayViewD<f32>,
    atol: f32,
    rtol: f32,
) {
    expect_shape(what, got.shape(), expected.shape());
    let mut differing = 0;
    let mut worst: Option<(Vec<usize>, f32, f32, f32)> = None;
    for ((index, &g), &e) in got.indexed_iter().zip(expected.iter()) {
        let difference = (g - e).abs();
        let allowed = atol + rtol * e.abs();
        if difference <= allowed {
            continue; // NaN never gets here
        }
        differing += 1;
        let excess = if difference.is_nan() {
            f32::INFINITY
        } else {
            difference - allowed
        };
        if worst.as_ref().is_none_or(|(_, _, _, most)| excess > *most) {
            worst = Some((index.slice().to_vec(), g, e, excess));
        }
    }
    if let Some((index, g, e, _)) = worst {
        panic!(
            "{what}: {differing} of {} values are wrong (shape {:?}); for example at {index:?} \
             expected {e}, got {g}",
            got.len(),
            got.shape()
        );
    }
}

/// Fails unless `analytic`, the gradient a backward pass returned, matches the numerical
/// gradient `numerical` (LENGTH's gradient check), with a message that says so.
///
/// # Panics
/// If the gradient is missing, has the wrong shape, or differs.
pub fn expect_gradient(
    what: &str,
    analytic: Option<&Tensor>,
    numerical: &Tensor,
    atol: f32,
    rtol: f32,
) {
    let Some(analytic) = analytic else {
        panic!(
            "{what}: expected a gradient of shape {:?}, got None",
            numerical.shape()
        );
    };
    expect_close(
        &format!("{what} (compared with the numerical gradient)"),
        analytic.view(),
        numerical.view(),
        atol,
        rtol,
    );
}
