//! Getting the data set files into the data directory, verified (feature `download`).
//!
//! For each file of a [`FetchPlan`]:
//!
//! 1. Temporary files that an earlier, killed run left behind are removed (see below).
//! 2. If the file is already there and the SHA-256 of its decompressed content is the expected
//!    one, it stays ("already present"). ([`ensure_available`] skips the hashing when a note of
//!    an earlier verification matches the file's size and modification time; see `stamp.rs`.)
//! 3. Otherwise the sources are tried in order. Each delivers into a temporary file next to the
//!    target, whose content's SHA-256 is checked; only a verified file is renamed into place, in
//!    one atomic step (see `temp_file.rs`), replacing a wrong file that was there only then. A
//!    wrong or incomplete download is deleted and the next source is tried. A download gives up
//!    on a stalled or crawling host and on a body far larger than the file: see
//!    [`FetchOptions`] for the low-speed limit, the deadline and the size cap, and the
//!    environment variables that set them.
//! 4. If no source delivers, a wrong file that was there is **kept**, renamed aside to
//!    `<name>.corrupt-<seconds since 1970>` (so the next run does not stumble over it and nothing
//!    the user had is lost), and the error lists every source tried, what went wrong there,
//!    where the old file went, and how to use a local copy or mirror (`LENGTH_DATA_MIRROR`).
//!
//! The default sources are the mirror named by `LENGTH_DATA_MIRROR` (a folder or a base URL),
//! then the public hosts. Because files appear only complete and verified, any number of
//! processes may fetch into the same directory at the same time.
//!
//! **Interrupted runs.** A temporary file is deleted when its download fails or the fetching
//! code unwinds (a drop guard). A process that is killed (Ctrl-C, which by default ends a Rust
//! program without unwinding, or `kill -9`) cannot clean up, so its hidden
//! `.<name>.<pid>-<n>-<nanos>.part` file stays until the next fetch into that folder removes it:
//! a temporary file is stale when the process named in it no longer runs (where the system
//! tells, as Linux's `/proc` does) or when it has not changed for a day.
//!
//! ```no_run
//! use length_data::{fetch, DataSetName};
//!
//! // What the workspace's tests do before loading MNIST: fetch it if it is missing.
//! let dir = fetch::ensure_available(DataSetName::Mnist, &length_data::workspace_data_dir())?;
//! assert!(dir.join("train-images-idx3-ubyte.gz").exists());
//! # Ok::<(), length_data::DataError>(())
//! ```

mod checksum;
mod http;
mod options;
mod progress;
mod stamp;
mod temp_file;

pub use crate::data_dir::MIRROR_ENV;
pub use checksum::{content_sha256, sha256_hex};
pub use options::{DEADLINE_ENV, FetchOptions, MIN_SPEED_ENV, SPEED_WINDOW_ENV};
pub use progress::Progress;

use crate::catalog::DataSetName;
use crate::error::{Attempt, DataError, FetchProblem};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use temp_file::TempFile;

/// A place files can be fetched from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A local folder holding the files (`<folder>/<file>`), or holding one subfolder per data
    /// set (`<folder>/mnist/<file>`, `<folder>/fashion-mnist/<file>`). Files are copied.
    Folder(PathBuf),
    /// A base URL (ending in `/`): `<url><file>` is downloaded, and when that is not found,
    /// `<url><data set>/<file>`.
    Url(String),
}

impl Source {
    /// `http://…` and `https://…` are URLs; anything else (optionally `file://…`) is a folder.
    pub fn parse(text: &str) -> Source {
        if text.starts_with("http://") || text.starts_with("https://") {
            let mut url = text.to_owned();
            if !url.ends_with('/') {
                url.push('/');
            }
            Source::Url(url)
        } else {
            Source::Folder(PathBuf::from(text.strip_prefix("file://").unwrap_or(text)))
        }
    }

    /// The mirror named by `LENGTH_DATA_MIRROR`, if it is set and not empty.
    pub fn mirror_from_env() -> Option<Source> {
        std::env::var(MIRROR_ENV)
            .ok()
            .filter(|mirror| !mirror.trim().is_empty())
            .map(|mirror| Source::parse(mirror.trim()))
    }
}

/// A file to fetch, the SHA-256 its decompressed content must have, and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedFile {
    /// File name, the same at the source and in the data directory.
    pub name: String,
    /// SHA-256 of the decompressed content, lowercase hex.
    pub sha256: String,
    /// Bytes of the decompressed content: sets the download's size cap and default deadline
    /// (see [`FetchOptions`]).
    pub size: u64,
}

/// What to fetch, and from where: everything [`fetch`] needs, so tests can inject their own
/// files, sums and servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPlan {
    /// The data set's folder inside the data directory (and inside folder sources), e.g. `mnist`.
    pub folder: String,
    /// The files, with their sums.
    pub files: Vec<ExpectedFile>,
    /// Where to look, in order.
    pub sources: Vec<Source>,
    /// When a download gives up.
    pub options: FetchOptions,
}

impl FetchPlan {
    /// The four files of a known data set, from the default sources: the `LENGTH_DATA_MIRROR`
    /// mirror if set, then the data set's public hosts; with the default [`FetchOptions`]
    /// ([`ensure_available`] and `cargo xtask fetch-data` apply [`FetchOptions::from_env`]).
    pub fn for_data_set(name: DataSetName) -> FetchPlan {
        let mirror = Source::mirror_from_env();
        let hosts = name
            .public_hosts()
            .iter()
            .map(|&url| Source::Url(url.to_owned()));
        FetchPlan {
            folder: name.dir_name().to_owned(),
            files: name
                .files()
                .iter()
                .map(|file| ExpectedFile {
                    name: file.name.to_owned(),
                    sha256: file.sha256.to_owned(),
                    size: file.size,
                })
                .collect(),
            sources: mirror.into_iter().chain(hosts).collect(),
            options: FetchOptions::default(),
        }
    }

    /// The same files, from these sources only.
    pub fn with_sources(self, sources: Vec<Source>) -> FetchPlan {
        FetchPlan { sources, ..self }
    }

    /// The same files and sources, giving up as `options` say.
    pub fn with_options(self, options: FetchOptions) -> FetchPlan {
        FetchPlan { options, ..self }
    }
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// Where the file is now.
    pub path: PathBuf,
    /// How it got there.
    pub outcome: Outcome,
}

/// How a file got into the data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was there already, with the right content.
    AlreadyPresent,
    /// It was copied or downloaded from this path or URL, and verified.
    Fetched {
        /// The path or URL it came from.
        from: String,
    },
}

/// Fetches every file of `plan` into `<data_dir>/<plan.folder>/`; see the [module docs](self).
/// Files already there are hashed to check them.
pub fn fetch(
    plan: &FetchPlan,
    data_dir: &Path,
    progress: Progress,
) -> Result<Vec<FileReport>, DataError> {
    fetch_checking(plan, data_dir, progress, Trust::HashAlways)
}

/// Makes sure the four files of `name` are in `<data_dir>/<name>/`, fetching the missing ones
/// from the default sources ([`FetchPlan::for_data_set`]); returns that folder.
///
/// The download limits come from the environment ([`FetchOptions::from_env`]).
/// A file verified before is not hashed again while it is unchanged (a `.<name>.verified` note
/// records its sum, size and modification time). Threads of one process fetch one at a time;
/// several processes may fetch at once (see the [module docs](self)).
pub fn ensure_available(name: DataSetName, data_dir: &Path) -> Result<PathBuf, DataError> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let plan = FetchPlan::for_data_set(name).with_options(FetchOptions::from_env()?);
    fetch_checking(&plan, data_dir, Progress::auto(), Trust::Stamp)?;
    Ok(data_dir.join(&plan.folder))
}

/// How a file already in the data directory is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trust {
    /// Hash its content.
    HashAlways,
    /// Trust a note that it was verified, if it is unchanged since (see `stamp.rs`); else hash.
    Stamp,
}

fn fetch_checking(
    plan: &FetchPlan,
    data_dir: &Path,
    progress: Progress,
    trust: Trust,
) -> Result<Vec<FileReport>, DataError> {
    let target_dir = data_dir.join(&plan.folder);
    fs::create_dir_all(&target_dir).map_err(|source| DataError::Io {
        path: target_dir.clone(),
        source,
    })?;
    plan.files
        .iter()
        .map(|file| fetch_file(plan, file, &target_dir, progress, trust))
        .collect()
}

/// Why one source failed for one file: a problem of that source (try the next one), or a local
/// problem (the target directory cannot be written: stop).
enum Failure {
    Source(FetchProblem),
    Local(DataError),
}

impl From<FetchProblem> for Failure {
    fn from(problem: FetchProblem) -> Self {
        Failure::Source(problem)
    }
}

/// Keeps a valid file in place, or fetches it from the first source that delivers. A wrong file
/// in place is replaced only by a verified copy, or else kept aside.
fn fetch_file(
    plan: &FetchPlan,
    file: &ExpectedFile,
    target_dir: &Path,
    progress: Progress,
    trust: Trust,
) -> Result<FileReport, DataError> {
    temp_file::remove_stale(target_dir, &file.name);
    let target = target_dir.join(&file.name);
    let label = format!("{}/{}", plan.folder, file.name);
    let wrong_file_present = target.exists() && !is_valid(&target, file, &label, progress, trust);
    if target.exists() && !wrong_file_present {
        return Ok(FileReport {
            path: target,
            outcome: Outcome::AlreadyPresent,
        });
    }
    let mut attempts = Vec::new();
    for source in &plan.sources {
        if let Some(from) =
            try_source(source, plan, file, &target, progress, &label, &mut attempts)?
        {
            stamp::write(&target, &file.sha256);
            return Ok(FileReport {
                path: target,
                outcome: Outcome::Fetched { from },
            });
        }
    }
    let set_aside = if wrong_file_present {
        let kept = set_aside(&target)?;
        progress.line(&format!(
            "{label}: no verified copy; the wrong file was kept as {}",
            kept.display()
        ));
        Some(kept)
    } else {
        None
    };
    Err(DataError::Unavailable {
        file: label,
        dir: target_dir.to_owned(),
        attempts,
        set_aside,
    })
}

/// Whether the file at `target` has the expected content (it stays where it is either way).
fn is_valid(
    target: &Path,
    file: &ExpectedFile,
    label: &str,
    progress: Progress,
    trust: Trust,
) -> bool {
    if trust == Trust::Stamp && stamp::matches(target, &file.sha256) {
        return true;
    }
    match content_sha256(target) {
        Ok(sum) if sum == file.sha256 => {
            stamp::write(target, &file.sha256);
            return true;
        }
        Ok(sum) => progress.line(&format!(
            "{label}: present, but its content is wrong (SHA-256 {sum}, expected {}); \
             fetching a verified copy to replace it",
            file.sha256
        )),
        Err(error) => progress.line(&format!(
            "{label}: present, but unreadable ({error}); fetching a verified copy to replace it"
        )),
    }
    false
}

/// Renames a wrong file at `target` to `<name>.corrupt-<seconds since 1970>` (with `-<n>` added
/// if that exists), so it is neither lost nor read again; returns the new path.
fn set_aside(target: &Path) -> Result<PathBuf, DataError> {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let name = target
        .file_name()
        .expect("the target is a file in the data directory")
        .to_string_lossy();
    let kept = (0..)
        .map(|n| match n {
            0 => target.with_file_name(format!("{name}.corrupt-{seconds}")),
            n => target.with_file_name(format!("{name}.corrupt-{seconds}-{n}")),
        })
        .find(|candidate| !candidate.exists())
        .expect("some name is free");
    fs::rename(target, &kept).map_err(|source| DataError::Io {
        path: target.to_owned(),
        source,
    })?;
    Ok(kept)
}

/// Tries one source: its places for the file in turn, the next only after a "not found".
/// Returns where the verified file came from, or `None` after recording what went wrong.
fn try_source(
    source: &Source,
    plan: &FetchPlan,
    file: &ExpectedFile,
    target: &Path,
    progress: Progress,
    label: &str,
    attempts: &mut Vec<Attempt>,
) -> Result<Option<String>, DataError> {
    let places = match source {
        Source::Folder(folder) => folder_candidates(folder, &plan.folder, &file.name),
        Source::Url(base) => vec![
            format!("{base}{}", file.name),
            format!("{base}{}/{}", plan.folder, file.name),
        ],
    };
    for from in places {
        let result = match source {
            Source::Folder(_) => copy_verified(Path::new(&from), file, target, progress, label),
            Source::Url(_) => {
                download_verified(&from, file, &plan.options, target, progress, label)
            }
        };
        match result {
            Ok(()) => return Ok(Some(from)),
            Err(Failure::Local(error)) => return Err(error),
            Err(Failure::Source(problem)) => {
                let not_found = matches!(problem, FetchProblem::NotFound);
                progress.line(&format!("{label}: {from}: {problem}"));
                attempts.push(Attempt { from, problem });
                if !not_found {
                    break; // the source is there but failed: on to the next source
                }
            }
        }
    }
    Ok(None)
}

/// The places a folder source may hold a file: in the data set's subfolder, or directly.
/// Only existing files are returned, or the first place, to be reported as not found.
fn folder_candidates(folder: &Path, data_set: &str, name: &str) -> Vec<String> {
    let places = [folder.join(data_set).join(name), folder.join(name)];
    let existing: Vec<String> = places
        .iter()
        .filter(|place| place.is_file())
        .map(|place| place.display().to_string())
        .collect();
    if existing.is_empty() {
        places.iter().map(|p| p.display().to_string()).collect()
    } else {
        existing
    }
}

/// Copies a local file into a temporary file next to `target`, then verifies and places it.
fn copy_verified(
    from: &Path,
    file: &ExpectedFile,
    target: &Path,
    progress: Progress,
    label: &str,
) -> Result<(), Failure> {
    let mut source = match File::open(from) {
        Ok(source) => source,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(FetchProblem::NotFound.into());
        }
        Err(error) => return Err(FetchProblem::Transfer(format!("cannot open: {error}")).into()),
    };
    progress.line(&format!("{label}: copying from {}", from.display()));
    let mut temp = new_temp(target, file)?;
    io::copy(&mut source, temp.file())
        .map_err(|error| FetchProblem::Transfer(format!("copy failed: {error}")))?;
    verify_and_place(temp, file, target)
}

/// Downloads a URL into a temporary file next to `target`, then verifies and places it.
fn download_verified(
    url: &str,
    file: &ExpectedFile,
    options: &FetchOptions,
    target: &Path,
    progress: Progress,
    label: &str,
) -> Result<(), Failure> {
    progress.line(&format!("{label}: downloading {url}"));
    let mut temp = new_temp(target, file)?;
    http::download(url, temp.file(), file.size, options, progress, label)?;
    verify_and_place(temp, file, target)
}

fn new_temp(target: &Path, file: &ExpectedFile) -> Result<TempFile, Failure> {
    let dir = target
        .parent()
        .expect("the target is inside the data directory");
    TempFile::new_in(dir, &file.name).map_err(|source| {
        Failure::Local(DataError::Io {
            path: dir.to_owned(),
            source,
        })
    })
}

/// Checks the SHA-256 of the temporary file's content; renames it into place if it is right.
/// A wrong file is deleted (when `temp` is dropped).
fn verify_and_place(mut temp: TempFile, file: &ExpectedFile, target: &Path) -> Result<(), Failure> {
    let local = |source| {
        Failure::Local(DataError::Io {
            path: target.to_owned(),
            source,
        })
    };
    temp.close().map_err(local)?;
    let actual = match content_sha256(temp.path()) {
        Ok(sum) => sum,
        Err(error) => format!("none: the content cannot be read ({error})"),
    };
    if actual != file.sha256 {
        return Err(FetchProblem::Checksum {
            expected: file.sha256.clone(),
            actual,
        }
        .into());
    }
    temp.persist(target).map_err(local)
}
