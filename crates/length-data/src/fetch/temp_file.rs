//! A file that becomes visible under its real name only when it is complete.
//!
//! Data is written to a hidden, uniquely named `.<name>.<pid>-<n>-<nanos>.part` file in the
//! target directory, then renamed over the real name in one atomic step. So a reader, another
//! process fetching the same file, or an interrupted run never sees a half-written file under the
//! real name. A temporary file that is not persisted is deleted when dropped.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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
