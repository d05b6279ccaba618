//! Everything that can go wrong when a checkpoint is written or read.

use std::path::PathBuf;

use length_layers::LayersError;

/// Why a checkpoint could not be saved or loaded.
///
/// Every check that a file can fail is one variant, so a caller (or a test) can tell a file that
/// lies about its sizes from one whose weights are not finite. The messages name the tensor and
/// the numbers involved.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing failed at the operating system's level (a missing file, a full disk,
    /// a file that ended early).
    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// The error happened while reading or writing the file at `path`. The message includes
    /// the inner error's (so it is not also given as [`source`](std::error::Error::source), which
    /// would print it twice in a chain); [`cause`](CheckpointError::cause) reaches it.
    #[error("{}: {error}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong with it.
        error: Box<CheckpointError>,
    },

    /// The path names a directory, a device (such as `/dev/zero`) or a pipe, not a file.
    #[error("not a regular file")]
    NotAFile,

    /// The file is shorter than the 8 bytes that give the header's length.
    #[error("the file has {len} bytes, too few for a safetensors file (at least 8)")]
    TooShort {
        /// The file's length in bytes.
        len: u64,
    },

    /// The header is declared larger than any checkpoint header needs.
    #[error("the header declares {declared} bytes, more than the limit of {limit}")]
    HeaderTooLarge {
        /// The header length the file declares.
        declared: u64,
        /// [`MAX_HEADER_BYTES`](super::MAX_HEADER_BYTES).
        limit: u64,
    },

    /// The header (or a tensor) is declared to extend past the end of the file.
    #[error("the file declares {declared} bytes of {what}, but only {available} follow")]
    BeyondFile {
        /// `"header"` or a tensor's name.
        what: String,
        /// The number of bytes declared.
        declared: u64,
        /// The number of bytes the file actually has there.
        available: u64,
    },

    /// The header is not the JSON a safetensors file has, or its tensors do not tile the data.
    #[error("invalid safetensors header: {0}")]
    Header(String),

    /// A tensor's entry in the header is inconsistent (dtype, shape or byte range).
    #[error("tensor {name:?}: {reason}")]
    Tensor {
        /// The tensor's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The metadata does not say this is a LENGTH model.
    #[error("its format is {found:?}, not {expected:?}: it was not written by LENGTH")]
    Format {
        /// The `format` value found (`None` when there is none).
        found: Option<String>,
        /// [`FORMAT`](super::FORMAT).
        expected: &'static str,
    },

    /// The metadata has no `architecture`, or one that does not parse.
    #[error("its architecture metadata is invalid: {0}")]
    Architecture(String),

    /// The architecture needs parameters the file does not hold (or in other shapes).
    #[error(
        "its tensors do not fit its architecture {:?}: {reason}",
        abbreviated(architecture)
    )]
    Mismatch {
        /// The architecture text from the metadata.
        architecture: String,
        /// The first difference found.
        reason: String,
    },

    /// A weight is NaN or infinite: the model diverged before it was saved.
    #[error(
        "tensor {name:?} holds a non-finite value ({value} at index {index}): \
         the model diverged before it was saved"
    )]
    NonFinite {
        /// The tensor's name.
        name: String,
        /// The flat index of the first such value.
        index: usize,
        /// The value.
        value: f32,
    },

    /// Building the model or loading its parameters failed.
    #[error(transparent)]
    Layers(#[from] LayersError),
}

/// `text`, cut to its first 100 characters (with " ...") if longer: an architecture of 400
/// layers would otherwise fill the screen.
fn abbreviated(text: &str) -> String {
    const LIMIT: usize = 100;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{} ...", &text[..cut]),
        None => text.to_string(),
    }
}

impl CheckpointError {
    /// This error, marked as having happened with the file at `path`.
    pub(crate) fn in_file(self, path: impl Into<PathBuf>) -> CheckpointError {
        CheckpointError::File {
            path: path.into(),
            error: Box::new(self),
        }
    }

    /// The error without the file it happened with: the variant that says what went wrong.
    ///
    /// ```
    /// use length_train::checkpoint::{self, CheckpointError};
    ///
    /// let error = checkpoint::load_mlp("/nonexistent/model.safetensors").unwrap_err();
    /// assert!(error.to_string().starts_with("/nonexistent/model.safetensors: "));
    /// assert!(matches!(error.cause(), CheckpointError::Io(_)));
    /// ```
    pub fn cause(&self) -> &CheckpointError {
        match self {
            CheckpointError::File { error, .. } => error.cause(),
            other => other,
        }
    }
}
