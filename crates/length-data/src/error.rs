//! The crate's error type: every way outside input (files, options, the network) can go wrong,
//! each with a message that names the file and says what was expected and what was found.

use crate::catalog::DataSetName;
use crate::data_dir::{DATA_DIR_ENV, MIRROR_ENV};
use crate::idx::IdxError;
use std::fmt;
use std::path::{Path, PathBuf};

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
    /// A data set file is not in the folder it is read from: without the `download` feature
    /// (nothing can fetch it), or from [`MnistLike::from_dir`](crate::MnistLike::from_dir)
    /// (which only reads).
    #[error("{}", missing_message(path, *data_set))]
    Missing {
        /// The file that should be there.
        path: PathBuf,
        /// The data set it belongs to.
        data_set: DataSetName,
    },
    /// No source could deliver a verified copy of a file.
    #[error("{}", unavailable_message(file, dir, attempts, set_aside.as_deref()))]
    Unavailable {
        /// The file, as `<data set>/<file name>`.
        file: String,
        /// The folder the file belongs in (`<data directory>/<data set>`).
        dir: PathBuf,
        /// Every source tried, in order, and what went wrong there.
        attempts: Vec<Attempt>,
        /// Where the file that was there before, with the wrong content, was kept (renamed
        /// aside, not deleted), if there was one.
        set_aside: Option<PathBuf>,
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

/// How to get the files by hand, or with a mirror when this build can download.
fn manual_fetch_advice(dir: &Path, data_set: &str, host: &str, can_download: bool) -> String {
    let mirror = if can_download {
        format!(
            "To fetch from a local copy or another host, set {MIRROR_ENV}=DIR_OR_URL (a folder or \
             base URL holding the four .gz files, or `mnist/` and `fashion-mnist/` subfolders \
             with them); or "
        )
    } else {
        "Or ".to_owned()
    };
    format!(
        "{mirror}put the four files of {data_set} into {} yourself (from {host}, or any mirror); \
         {DATA_DIR_ENV} chooses another data directory. Inside the LENGTH repository, \
         `cargo xtask fetch-data --from DIR_OR_URL` does this.",
        dir.display()
    )
}

fn missing_message(path: &Path, data_set: DataSetName) -> String {
    missing_message_when(path, data_set, cfg!(feature = "download"))
}

/// [`missing_message`] of a build with or without the `download` feature.
fn missing_message_when(path: &Path, data_set: DataSetName, can_download: bool) -> String {
    let dir = path.parent().unwrap_or(Path::new("."));
    let host = data_set.public_hosts()[0];
    let why = if can_download {
        "`from_dir` only reads; `load` fetches missing files (from the mirror below, else the \
         public hosts)."
    } else {
        "length-data was built without the `download` feature, so it cannot fetch it (and \
         LENGTH_DATA_MIRROR has no effect): enable the feature (the `length` crate enables it by \
         default; for length-data itself, `features = [\"download\"]`)."
    };
    format!(
        "{} not found. {why} {}",
        path.display(),
        manual_fetch_advice(dir, data_set.dir_name(), host, can_download)
    )
}

fn unavailable_message(
    file: &str,
    dir: &Path,
    attempts: &[Attempt],
    set_aside: Option<&Path>,
) -> String {
    let mut message = format!("could not fetch a verified copy of {file}; tried:");
    if attempts.is_empty() {
        message.push_str("\n  (no sources)");
    }
    for attempt in attempts {
        message.push_str(&format!("\n  - {}: {}", attempt.from, attempt.problem));
    }
    if let Some(kept) = set_aside {
        message.push_str(&format!(
            "\nThe file that was in its place has the wrong content; it was kept as {} (delete \
             it once a verified copy is in place).",
            kept.display()
        ));
    }
    let data_set = file.split('/').next().unwrap_or(file);
    let host = data_set
        .parse::<DataSetName>()
        .map_or("the public hosts", |name| name.public_hosts()[0]);
    message.push('\n');
    message.push_str(&manual_fetch_advice(dir, data_set, host, true));
    message
}

#[cfg(test)]
mod tests {
    use super::missing_message_when;
    use crate::catalog::DataSetName;
    use std::path::Path;

    #[test]
    fn a_build_without_downloads_says_so_and_where_the_files_go() {
        let path = Path::new("/data/fashion-mnist/train-images-idx3-ubyte.gz");
        let message = missing_message_when(path, DataSetName::FashionMnist, false);
        for needed in [
            "built without the `download` feature",
            "put the four files of fashion-mnist into /data/fashion-mnist",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "LENGTH_DATA_MIRROR",
        ] {
            assert!(
                message.contains(needed),
                "{needed:?} missing from: {message}"
            );
        }
        let with_downloads = missing_message_when(path, DataSetName::FashionMnist, true);
        assert!(!with_downloads.contains("without the `download` feature"));
    }
}
