//! `length exercise hint TASK [DIR]`: the next hint for a task, one more each time it is asked,
//! as rustlings does: first a nudge, last nearly the answer.
//!
//! How many hints of each task were shown is kept in [`PROGRESS_FILE`] in the project, one line
//! per task (`task1 2`).

use std::fs;
use std::path::{Path, PathBuf};

use super::harness::{TASKS, Task};
use anyhow::Context;

use super::project;
use crate::UsageError;

/// The file in the project that remembers the hints shown.
pub const PROGRESS_FILE: &str = ".length-exercise-hints";

/// Each task's hints, in order.
pub const HINTS: [&[&str]; 5] = [
    // Task 1: SGD
    &[
        "SGD's delta for a parameter is just the gradient, scaled: no state, no layer id needed. \
         Return one delta for each gradient in `gradients`, in the same order.",
        "ndarray scales a whole array at once: `gradient.mapv(|g| ...)` applies your closure to \
         every element and returns a new array of the same shape (a `Tensor`).",
        "The layer *subtracts* the delta, so the delta has the gradient's sign: \
         `delta = learning_rate · gradient`, not its negative.",
        "`gradients.iter().map(|gradient| gradient.mapv(|g| self.learning_rate * g)).collect()` \
         (copy `self.learning_rate` into a local first if the borrow checker complains).",
    ],
    // Task 2: FullyConnected
    &[
        "Write down the shapes: x is (samples, inputs), W is (inputs, outputs), b is (outputs), \
         g = ∂L/∂y is (samples, outputs). Every gradient has the shape of what it belongs to.",
        "Initialisation: the initializer fills a matrix of shape (outputs, inputs). Make one of \
         zeros, let the initializer fill it, then store its transpose (`.t()`, and \
         `.as_standard_layout().into_owned()` for an array of its own). The bias starts as zeros; \
         there are no gradients yet, so both gradient fields start as `None`.",
        "Forward: `matmul_a_b(x, self.weights.view())` is x · W; then `y += &self.bias` adds the \
         bias to every row.",
        "Backward: ∂L/∂x = g · Wᵀ is `matmul_a_bt(g, self.weights.view())`; ∂L/∂W = xᵀ · g is \
         `matmul_at_b(x, g)`; ∂L/∂b is `g.sum_axis(Axis(0))`. Store the last two in the layer \
         (`self.weight_gradient = Some(...)`, the same for the bias) and return \
         `vec![Some(input_gradient.into_dyn())]`.",
        "Update: `self.weights -= &weights_delta; self.bias -= &bias_delta;`.",
    ],
    // Task 3: MeanSquaredError
    &[
        "N is the number of elements of x, samples · classes, not just the number of samples.",
        "one_hot: start from `Array2::zeros((labels.len(), num_classes))` and set one element per \
         row to 1.0: `matrix[[i, label as usize]] = 1.0`.",
        "Forward: `(&x - &t).mapv(|d| d * d).sum() / x.len() as f32`, returned as \
         `Tensor::from_elem(vec![], loss)`, a tensor of shape [].",
        "Backward: both factors of the derivative matter, the 2 of the square and the 1/N of the \
         mean: ∂L/∂x = 2/N · (x − t) · g. Labels get `None`; a target tensor gets the negated \
         gradient. Return `vec![Some(x_gradient), target_gradient]`.",
    ],
    // Task 4: ReLU
    &[
        "Forward keeps the positive values and turns everything else into 0.",
        "Forward: `x.mapv(|v| if v > 0.0 { v } else { 0.0 })`.",
        "Backward lets the gradient through exactly where x was positive and blocks it \
         elsewhere: ∂L/∂x = g · [x > 0].",
        "Backward: `Zip::from(x).and(output_gradient).map_collect(|&x, &g| if x > 0.0 { g } else \
         { 0.0 })`, returned as `vec![Some(gradient)]`.",
    ],
    // Task 5: Adam
    &[
        "Adam keeps state per layer: look up (or create) the layer's `AdamState` in \
         `self.states` by its `LayerId`, with one zero `m` and one zero `v` per gradient.",
        "Count the layer's step first (`state.step += 1`), so the first step has t = 1; the bias \
         corrections are 1 − β₁ᵗ and 1 − β₂ᵗ (`beta.powi(state.step)`).",
        "Per element: m = β₁·m + (1 − β₁)·g, v = β₂·v + (1 − β₂)·g², then \
         delta = lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).",
        "`Zip::from(m).and(v).and(gradient).map_collect(|m, v, &g| { ...update *m and *v...; \
         delta })` updates the moments in place and returns the delta array.",
    ],
];

/// Runs `length exercise hint TASK [DIR]`.
pub fn run(task: &str, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let task = parse_task(task)?;
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    if !project::is_project(&dir) {
        return Err(UsageError(format!(
            "{} is not an exercise project; run this in the folder `length exercise new` made, \
             or name it: `length exercise hint {} DIR`",
            dir.display(),
            task.number
        ))
        .into());
    }
    let hints = HINTS[usize::from(task.number - 1)];
    let path = dir.join(PROGRESS_FILE);
    let mut shown = read_progress(&path);
    let seen = shown.get(&task.number).copied().unwrap_or(0);
    let index = seen.min(hints.len() - 1);
    shown.insert(task.number, (seen + 1).min(hints.len()));
    write_progress(&path, &shown)?;
    println!(
        "Task {} ({}), hint {} of {}:\n\n{}\n",
        task.number,
        task.name,
        index + 1,
        hints.len(),
        wrap(hints[index], 92)
    );
    if index + 1 < hints.len() {
        println!(
            "Stuck still? `length exercise hint {}` again shows the next one.",
            task.number
        );
    } else {
        println!("That was the last hint for task {}.", task.number);
    }
    Ok(())
}

/// `1`, `task1`, or the task's name (`sgd`, `fully_connected`/`fc`, `mse`, `relu`, `adam`).
fn parse_task(text: &str) -> anyhow::Result<Task> {
    let text = text.trim().to_ascii_lowercase();
    let number = match text.trim_start_matches("task") {
        "1" | "sgd" => 1,
        "2" | "fully_connected" | "fullyconnected" | "fc" => 2,
        "3" | "mse" | "mean_squared_error" | "meansquarederror" => 3,
        "4" | "relu" => 4,
        "5" | "adam" => 5,
        _ => {
            return Err(UsageError(format!(
                "there is no task {text:?}; the tasks are 1 (sgd), 2 (fully_connected), 3 (mse), \
                 4 (relu) and 5 (adam)"
            ))
            .into());
        }
    };
    Ok(TASKS[number - 1])
}

/// How many hints of each task were shown, from the progress file (empty if there is none).
fn read_progress(path: &Path) -> std::collections::BTreeMap<u8, usize> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (task, count) = line.split_once(' ')?;
            Some((
                task.strip_prefix("task")?.parse().ok()?,
                count.parse().ok()?,
            ))
        })
        .collect()
}

fn write_progress(
    path: &Path,
    shown: &std::collections::BTreeMap<u8, usize>,
) -> anyhow::Result<()> {
    let text: String = shown
        .iter()
        .map(|(task, count)| format!("task{task} {count}\n"))
        .collect();
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `text` broken into lines of at most `width` characters (at spaces).
fn wrap(text: &str, width: usize) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_named_by_number_or_name() {
        assert_eq!(parse_task("1").unwrap().number, 1);
        assert_eq!(parse_task("task2").unwrap().number, 2);
        assert_eq!(parse_task("MSE").unwrap().number, 3);
        assert_eq!(parse_task("relu").unwrap().number, 4);
        assert_eq!(parse_task("adam").unwrap().number, 5);
        assert!(parse_task("6").is_err());
    }

    #[test]
    fn every_task_has_at_least_three_hints() {
        assert!(HINTS.iter().all(|hints| hints.len() >= 3));
    }

    #[test]
    fn long_hints_are_wrapped_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), "aa bb\ncc");
    }
}
