//! A file that becomes visible under its real name only when it is complete.
//!
//! Data is written to a hidden, uniquely named `.<name>.<pid>-<n>-<nanos>.part` file in the
//! target directory, then renamed over the real name in one atomic step. So a reader, another
//! process fetching the same file, or an interrupted run never sees a half-written file under the
//! real name. A temporary file that is not persisted is deleted when dropped.
//!
//! A killed process drops nothing: [`remove_stale`] removes what such a process left, telling
//! its files from those of live processes by the process id in the name.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A temporary file unchanged for this long is stale even if a process with its id runs (ids
/// are reused); no live download goes that long without writing (see `FetchOptions`).
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A temporary file next to its final place; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    /// Creates a new, empty temporary file in `dir` for the file `name`.
    pub(crate) fn new_in(dir: &Path, name: &str) -> io::Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{name}.{}-{n}-{nanos}.part", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        file: Some(file),
                    });
                }
                // Another process with the same id wrote here before; try the next number.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1_000_000 => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Where the temporary file is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open file, to write into.
    pub(crate) fn file(&mut self) -> &mut File {
        self.file
            .as_mut()
            .expect("the file is open until persisted")
    }

    /// Flushes the data to disk and closes the file (before checking what was written).
    pub(crate) fn close(&mut self) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        Ok(())
    }

    /// Closes the file and atomically renames it to `target`, replacing any file there.
    pub(crate) fn persist(mut self, target: &Path) -> io::Result<()> {
        self.close()?;
        fs::rename(&self.path, target)?;
        self.path = PathBuf::new(); // nothing left to delete
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file = None;
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Removes the temporary files for `name` in `dir` (of the file itself and of its `.verified`
/// note) that no live process is writing: those whose process is gone, where the system says
/// (Linux's `/proc`), and those unchanged for a day. Best effort: what cannot be removed stays.
pub(crate) fn remove_stale(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(middle) = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".part"))
        else {
            continue;
        };
        // `middle` is `<pid>-<n>-<nanos>`, or `verified.<pid>-<n>-<nanos>` for a note.
        let id = middle.rsplit('.').next().unwrap_or_default();
        let pid = id.split('-').next().and_then(|pid| pid.parse::<u32>().ok());
        let unchanged_for = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .unwrap_or_default();
        let writer_gone = pid.is_some_and(process_is_gone);
        if writer_gone || unchanged_for > STALE_AFTER {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether the process `pid` has certainly ended: true only where the system tells (a `/proc`
/// file system without `/proc/<pid>`), false where it cannot be known.
fn process_is_gone(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}
