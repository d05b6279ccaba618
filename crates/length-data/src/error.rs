//! The crate's error type: every way outside input (files, options, the network) can go wrong,
//! each with a message that names the file and says what was expected and what was found.

use crate::idx::IdxError;
use std::fmt;
use std::path::PathBuf;

/// Why data could not be loaded or fetched.
///
/// `Debug` prints the same explanation as `Display`, so `.unwrap()` and a `main` that returns the
/// error show the message meant for people (which sources were tried, how to fetch by hand).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a valid IDX file.
    #[error("{}: {source}", path.display())]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: IdxError,
    },
    /// Valid IDX arrays that do not form a data set (wrong element type, shapes that disagree,
    /// labels out of range).
    #[error("{what}: {problem}")]
    Format {
        /// Which file or array.
        what: String,
        /// What is wrong.
        problem: String,
    },
    /// An option has a value that cannot work.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A data set file is not in the data directory, and downloading is not compiled in.
    #[error(
        "{} not found. Run `cargo xtask fetch-data` (add `--from DIR_OR_URL` for a local copy or \
         mirror), or enable length-data's `download` feature to fetch it on first use",
        path.display()
    )]
    Missing {
        /// The file that should be there.
        path: PathBuf,
    },
    /// No source could deliver a verified copy of a file.
    #[error("{}", unavailable_message(file, attempts))]
    Unavailable {
        /// The file, as `<data set>/<file name>`.
        file: String,
        /// Every source tried, in order, and what went wrong there.
        attempts: Vec<Attempt>,
    },
}

impl fmt::Debug for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One source tried for a file, and why it did not deliver.
#[derive(Debug)]
pub struct Attempt {
    /// The URL or path that was tried.
    pub from: String,
    /// What went wrong.
    pub problem: FetchProblem,
}

/// Why one source did not deliver a file.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchProblem {
    /// The source does not have the file (HTTP 404, or no such file in the folder).
    NotFound,
    /// The file arrived, but its content is not the expected one; it was discarded.
    Checksum {
        /// The SHA-256 the file must have (of its decompressed content).
        expected: String,
        /// The SHA-256 of what arrived, or why it could not be computed (e.g. a corrupt gzip).
        actual: String,
    },
    /// The transfer failed (no connection, HTTP error, interrupted download, read error).
    Transfer(String),
}

impl fmt::Display for FetchProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchProblem::NotFound => f.write_str("not found"),
            FetchProblem::Checksum { expected, actual } => write!(
                f,
                "wrong content, discarded: SHA-256 of the decompressed file should be {expected}, \
                 got {actual}"
            ),
            FetchProblem::Transfer(message) => f.write_str(message),
        }
    }
}

fn unavailable_message(file: &str, attempts: &[Attempt]) -> String {
    let mut message = format!("could not fetch a verified copy of {file}; tried:");
    if attempts.is_empty() {
        message.push_str("\n  (no sources)");
    }
    for attempt in attempts {
        message.push_str(&format!("\n  - {}: {}", attempt.from, attempt.problem));
    }
    message.push_str(
        "\nWithout internet access, fetch from a local copy or a mirror: \
         `cargo xtask fetch-data --from DIR_OR_URL`, or set the environment variable \
         LENGTH_DATA_MIRROR=DIR_OR_URL (a folder or base URL holding the four .gz files, \
         or `mnist/` and `fashion-mnist/` subfolders with them).",
    );
    message
}
