//! Turning the solved exercise into a student's skeleton, and back.
//!
//! The exercise's source files in this repository (crates/length-cli/exercise/) are solved. Two
//! kinds of marked lines make them templates:
//!
//! ```text
//! // SOLUTION BEGIN Task 1: return one delta per gradient      ┐ a student gets
//! ...the reference solution...                                 │   todo!("Task 1: return one
//! // SOLUTION END                                               ┘         delta per gradient")
//! // STUDENT: #![allow(unused_variables)]                       a student gets the line after
//!                                                                `// STUDENT: `; a teacher none
//! ```
//!
//! In [`Mode::Solved`] the solution regions stay as they are, markers included, so a teacher sees
//! where the students write; in [`Mode::Student`] each region becomes one `todo!` with the text
//! after `SOLUTION BEGIN`, at the region's indentation. So the skeleton and the solutions come
//! from one source, and CI, which compiles and tests the solutions, guards the skeleton too.

use std::fmt;

/// The marker that opens a solution region; the rest of its line is the `todo!`'s text.
pub const BEGIN: &str = "// SOLUTION BEGIN";
/// The marker that closes a solution region.
pub const END: &str = "// SOLUTION END";
/// The prefix of a line only a student's copy gets (without the prefix).
pub const STUDENT: &str = "// STUDENT: ";

/// Which project to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Solution regions replaced by `todo!`: the students' project.
    Student,
    /// The reference solutions kept: the teachers' project.
    Solved,
}

/// A template whose markers do not pair up: a mistake in this repository's exercise sources.
#[derive(Debug, PartialEq, Eq)]
pub struct MarkerError {
    /// The 1-based line of the marker.
    pub line: usize,
    /// What is wrong there.
    pub problem: &'static str,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

impl std::error::Error for MarkerError {}

/// `source` as `mode` wants it.
///
/// # Errors
/// If a region is opened twice, closed without being opened, never closed, or has no text for
/// its `todo!`.
pub fn render(source: &str, mode: Mode) -> Result<String, MarkerError> {
    let mut output = String::with_capacity(source.len());
    let mut open: Option<usize> = None;
    for (index, line) in source.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        if let Some(text) = trimmed.strip_prefix(BEGIN) {
            if open.is_some() {
                return Err(MarkerError {
                    line: number,
                    problem: "a solution region begins inside another",
                });
            }
            let text = text.trim();
            if text.is_empty() {
                return Err(MarkerError {
                    line: number,
                    problem: "a solution region needs the text of its todo! after the marker",
                });
            }
            open = Some(number);
            match mode {
                Mode::Student => output.push_str(&format!("{indent}todo!({text:?})\n")),
                Mode::Solved => push_line(&mut output, line),
            }
        } else if trimmed.starts_with(END) {
            if open.take().is_none() {
                return Err(MarkerError {
                    line: number,
                    problem: "a solution region ends that never began",
                });
            }
            if mode == Mode::Solved {
                push_line(&mut output, line);
            }
        } else if let Some(rest) = trimmed.strip_prefix(STUDENT) {
            if mode == Mode::Student {
                push_line(&mut output, &format!("{indent}{rest}"));
            }
        } else if open.is_none() || mode == Mode::Solved {
            push_line(&mut output, line);
        }
    }
    match open {
        Some(line) => Err(MarkerError {
            line,
            problem: "a solution region never ends",
        }),
        None => Ok(output),
    }
}

fn push_line(output: &mut String, line: &str) {
    output.push_str(line);
    output.push('\n');
}

/// The number of solution regions in `source`.
#[cfg(test)]
pub fn count_regions(source: &str) -> usize {
    source
        .lines()
        .filter(|line| line.trim_start().starts_with(BEGIN))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
// STUDENT: #![allow(unused)]
fn rule(g: f32) -> f32 {
    // SOLUTION BEGIN Task 1: return \"lr · g\"
    0.1 * g
    // SOLUTION END
}
";

    #[test]
    fn a_student_gets_a_todo_with_the_regions_text_and_indentation() {
        assert_eq!(
            render(SOURCE, Mode::Student).unwrap(),
            "#![allow(unused)]\nfn rule(g: f32) -> f32 {\n    todo!(\"Task 1: return \\\"lr · g\\\"\")\n}\n"
        );
    }

    #[test]
    fn a_teacher_gets_the_solution_and_its_markers() {
        let solved = render(SOURCE, Mode::Solved).unwrap();
        assert_eq!(
            solved,
            SOURCE
                .lines()
                .skip(1)
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        );
        assert_eq!(count_regions(&solved), 1);
    }

    #[test]
    fn markers_that_do_not_pair_up_are_errors() {
        let cases = [
            ("// SOLUTION BEGIN a\n// SOLUTION BEGIN b\n", 2),
            ("// SOLUTION END\n", 1),
            ("x\n// SOLUTION BEGIN a\n", 2),
            ("// SOLUTION BEGIN\n// SOLUTION END\n", 1),
        ];
        for (source, line) in cases {
            let error = render(source, Mode::Student).unwrap_err();
            assert_eq!(error.line, line, "{source:?}: {error}");
        }
    }
}
