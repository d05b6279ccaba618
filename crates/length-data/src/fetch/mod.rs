//! Getting the data set files into the data directory, verified (feature `download`).
//!
//! For each file of a [`FetchPlan`]:
//!
//! 1. If the file is already there and the SHA-256 of its decompressed content is the expected
//!    one, it stays ("already present"). A file with the wrong content is removed and fetched
//!    again. ([`ensure_available`] skips the hashing when a note of an earlier verification
//!    matches the file's size and modification time; see `stamp.rs`.)
//! 2. Otherwise the sources are tried in order. Each delivers into a temporary file next to the
//!    target, whose content's SHA-256 is checked; only a verified file is renamed into place, in
//!    one atomic step (see `temp_file.rs`). A wrong or incomplete file is deleted and the next
//!    source is tried.
//! 3. If no source delivers, the error lists every source tried and what went wrong there, and
//!    says how to use a local copy (`--from`, `LENGTH_DATA_MIRROR`).
//!
//! The default sources are the mirror named by `LENGTH_DATA_MIRROR` (a folder or a base URL),
//! then the public hosts. Because files appear only complete and verified, any number of
//! processes may fetch into the same directory at the same time.
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
mod progress;
mod stamp;
mod temp_file;

pub use checksum::{content_sha256, sha256_hex};
pub use progress::Progress;

use crate::catalog::DataSetName;
use crate::error::{Attempt, DataError, FetchProblem};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use temp_file::TempFile;

/// The environment variable naming a mirror (folder or base URL) tried before the public hosts.
pub const MIRROR_ENV: &str = "LENGTH_DATA_MIRROR";

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

/// A file to fetch and the SHA-256 its decompressed content must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedFile {
    /// File name, the same at the source and in the data directory.
    pub name: String,
    /// SHA-256 of the decompressed content, lowercase hex.
    pub sha256: String,
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
}

impl FetchPlan {
    /// The four files of a known data set, from the default sources: the `LENGTH_DATA_MIRROR`
    /// mirror if set, then the data set's public hosts.
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
                })
                .collect(),
            sources: mirror.into_iter().chain(hosts).collect(),
        }
    }

    /// The same files, from these sources only.
    pub fn with_sources(self, sources: Vec<Source>) -> FetchPlan {
        FetchPlan { sources, ..self }
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
/// A file verified before is not hashed again while it is unchanged (a `.<name>.verified` note
/// records its sum, size and modification time). Threads of one process fetch one at a time;
/// several processes may fetch at once (see the [module docs](self)).
pub fn ensure_available(name: DataSetName, data_dir: &Path) -> Result<PathBuf, DataError> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let plan = FetchPlan::for_data_set(name);
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

/// Keeps a valid file in place, or fetches it from the first source that delivers.
fn fetch_file(
    plan: &FetchPlan,
    file: &ExpectedFile,
    target_dir: &Path,
    progress: Progress,
    trust: Trust,
) -> Result<FileReport, DataError> {
    let target = target_dir.join(&file.name);
    let label = format!("{}/{}", plan.folder, file.name);
    if target.exists() && keep_if_valid(&target, file, &label, progress, trust)? {
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
    Err(DataError::Unavailable {
        file: label,
        attempts,
    })
}

/// Whether the file at `target` has the expected content. A file with other content is
/// removed, to be fetched again.
fn keep_if_valid(
    target: &Path,
    file: &ExpectedFile,
    label: &str,
    progress: Progress,
    trust: Trust,
) -> Result<bool, DataError> {
    if trust == Trust::Stamp && stamp::matches(target, &file.sha256) {
        return Ok(true);
    }
    match content_sha256(target) {
        Ok(sum) if sum == file.sha256 => {
            stamp::write(target, &file.sha256);
            return Ok(true);
        }
        Ok(sum) => progress.line(&format!(
            "{label}: present, but its content is wrong (SHA-256 {sum}, expected {}); \
             fetching it again",
            file.sha256
        )),
        Err(error) => progress.line(&format!(
            "{label}: present, but unreadable ({error}); fetching it again"
        )),
    }
    match fs::remove_file(target) {
        Err(source) if source.kind() != io::ErrorKind::NotFound => Err(DataError::Io {
            path: target.to_owned(),
            source,
        }),
        _ => Ok(false),
    }
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
            Source::Url(_) => download_verified(&from, file, target, progress, label),
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
    target: &Path,
    progress: Progress,
    label: &str,
) -> Result<(), Failure> {
    progress.line(&format!("{label}: downloading {url}"));
    let mut temp = new_temp(target, file)?;
    http::download(url, temp.file(), progress, label)?;
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
