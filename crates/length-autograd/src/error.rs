//! The errors a graph can report when the data given to it is wrong.
//!
//! Everything here depends on input from outside the program (a label file, a batch of the wrong
//! width, a ratio typed on a command line), so it is an error value. Mistakes in the code that
//! builds a graph (passing two inputs to a function that takes one, a node of another graph) are
//! panics with messages that name the shapes.

use thiserror::Error;

/// Why a function or a graph refused its inputs.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AutogradError {
    /// A dropout ratio outside `[0, 1)`: with ratio 1 every value would be dropped.
    #[error("dropout ratio must be in [0, 1), got {ratio}")]
    InvalidDropoutRatio {
        /// The ratio that was given.
        ratio: f32,
    },

    /// A class label that does not name one of the columns of the scores it is compared with.
    #[error("{function}: label {label} (sample {sample}) is out of range for {classes} classes")]
    LabelOutOfRange {
        /// The function that read the label.
        function: String,
        /// The offending label.
        label: u32,
        /// Its position in the batch.
        sample: usize,
        /// The number of classes (columns of the scores).
        classes: usize,
    },

    /// Inputs whose shapes do not fit together.
    #[error("{function}: {message}")]
    ShapeMismatch {
        /// The function that found the mismatch.
        function: String,
        /// What was expected and what was given, with both shapes.
        message: String,
    },

    /// Integer labels where an `f32` tensor was expected, or the other way round.
    #[error("{function}: input {index} must be {expected}, got {got}")]
    WrongInputKind {
        /// The function that read the input.
        function: String,
        /// The position of the input.
        index: usize,
        /// What the function needs there ("a tensor" or "labels").
        expected: &'static str,
        /// What it got.
        got: &'static str,
    },
}

impl AutogradError {
    /// A [`ShapeMismatch`](AutogradError::ShapeMismatch) from `function` with a message.
    pub fn shape(function: &str, message: impl Into<String>) -> Self {
        AutogradError::ShapeMismatch {
            function: function.to_string(),
            message: message.into(),
        }
    }
}
