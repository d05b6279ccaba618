//! `length exercise`: the course's exercise, in Rust.
//!
//! ```text
//! length exercise new my-length             # a project with five tasks to do
//! length exercise new --solved key          # the same with the reference solutions (teachers)
//! length exercise check my-length           # one line per task, then "N of 5 tasks pass"
//! length exercise check my-length --json    # the same for graders
//! length exercise hint 2 my-length          # the next hint for task 2
//! ```
//!
//! The project is made from the solved exercise in crates/length-cli/exercise/ (built and tested
//! by CI as the `length-exercise` crate, like any other): `project.rs` writes it, through
//! `template.rs`, which turns solution regions into `todo!`s; `check.rs` runs its tests and reads
//! what each task reported, in the format of [`harness`], the test harness the project's tests
//! call; `hint.rs` holds the hints.

mod check;
pub mod harness;
mod hint;
mod project;
mod template;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

/// Options of `length exercise`.
#[derive(Debug, Args)]
pub struct ExerciseArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ExerciseCommand,
}

/// The subcommands of `length exercise`.
#[derive(Debug, Subcommand)]
pub enum ExerciseCommand {
    /// Create a project for one student: five tasks, their tests, a training binary, a README.
    New {
        /// The folder to create (it must not exist, or be empty).
        dir: PathBuf,
        /// Fill in the reference solutions (for teachers).
        #[arg(long)]
        solved: bool,
        /// Depend on the crates.io releases of the length crates instead of the folder this
        /// binary was built from.
        #[arg(long)]
        published: bool,
    },
    /// Run the project's tests and show, task by task, what passes; exits 0 only when all do.
    Check {
        /// The project (default: the current folder).
        dir: Option<PathBuf>,
        /// Print the result as JSON, for graders.
        #[arg(long)]
        json: bool,
    },
    /// Show the next hint for a task (one more each time).
    Hint {
        /// The task: 1-5, or sgd, fully_connected, mse, relu, adam.
        task: String,
        /// The project (default: the current folder).
        dir: Option<PathBuf>,
    },
}

/// Runs `length exercise ...`.
pub fn run(args: ExerciseArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ExerciseCommand::New {
            dir,
            solved,
            published,
        } => {
            let mode = if solved {
                template::Mode::Solved
            } else {
                template::Mode::Student
            };
            let source = if published {
                project::Source::published()
            } else {
                project::Source::this_checkout()?
            };
            project::create(&dir, mode, &source)?;
            print_next_steps(&dir, mode);
            Ok(ExitCode::SUCCESS)
        }
        ExerciseCommand::Check { dir, json } => check::run(dir, json),
        ExerciseCommand::Hint { task, dir } => hint::run(&task, dir).map(|()| ExitCode::SUCCESS),
    }
}

/// What to do after `new`.
fn print_next_steps(dir: &std::path::Path, mode: template::Mode) {
    let shown = dir.display();
    match mode {
        template::Mode::Student => println!(
            "Created the exercise in {shown}: five tasks, each a todo! in src/task*.rs.\n\
             Start with {shown}/README.md, then:\n\
             \n  cd {shown}\
             \n  cargo test --release task1       # task 1's test: \"Test passed.\" when it is done\
             \n  length exercise check            # where every task stands\
             \n  length exercise hint 1           # a hint for task 1, one more each time\
             \n  cargo run --release -- train     # train your own network, once tasks 1-4 pass"
        ),
        template::Mode::Solved => println!(
            "Created the solved exercise in {shown} (the reference solutions, for teachers).\n\
             \n  cd {shown}\
             \n  length exercise check            # every task: Test passed.\
             \n  cargo run --release -- train     # ActivatedMLP on MNIST with these parts"
        ),
    }
}
