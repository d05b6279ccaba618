//! Saving a file so that it is always whole: write a temporary file next to it, then rename.
//!
//! ```text
//! dir/.length-save-XXXXXX.tmp   ← every byte written, flushed and synced to disk
//! rename → dir/model.safetensors  (atomic: a reader sees the old file or the new, never half)
//! ```
//!
//! Each save gets its own temporary file (a random name from [`tempfile`]), so two saves to the
//! same path never share one: the file that exists afterwards is one of them, whole. On any
//! failure (a full disk, an interrupted write, a rename that is refused) the temporary file is
//! removed. A process killed in the middle of a save cannot remove it; the next save into the
//! same folder removes such leftovers once they are [`STALE_AFTER`] old.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The start of every temporary file name, so that leftovers are recognisable.
pub const TEMP_PREFIX: &str = ".length-save-";

/// The end of every temporary file name.
const TEMP_SUFFIX: &str = ".tmp";

/// How old a leftover temporary file must be before a save removes it. An hour is far longer
/// than any save takes, so a save running at the same time is never disturbed.
pub const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// Writes a file at `path` through `write`, atomically: either the whole new content is at
/// `path` afterwards, or the old file (if any) is untouched and no temporary file is left.
///
/// # Errors
/// The first error of creating, writing, syncing or renaming the temporary file, or the error
/// `write` returned.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    remove_stale_temporaries(dir, STALE_AFTER);
    // Dropping `temp` on any early return below deletes the file.
    let mut temp = temp_file_builder().tempfile_in(dir)?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        write(&mut writer)?;
        writer.flush()?;
    }
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|error| error.error)?;
    // Make the rename itself durable; a folder that cannot be synced is no reason to fail.
    if let Ok(folder) = fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// Temporary files named `.length-save-XXXXXX.tmp`, created with the permissions an ordinary new
/// file gets (`rw-rw-rw-` less the umask, as `std::fs::write` gives), not `tempfile`'s private
/// `rw-------`: the saved model is renamed, permissions and all, into place.
fn temp_file_builder() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    builder
}

/// Removes the temporary files of saves in `dir` that were last written more than `age` ago
/// (left by a process that was killed). Problems are ignored: this is tidying, not saving.
pub(crate) fn remove_stale_temporaries(dir: &Path, age: Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let old_enough = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .is_ok_and(|modified| {
                now.duration_since(modified)
                    .is_ok_and(|elapsed| elapsed > age)
            });
        if old_enough {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `dir` that look like a save's temporary file.
    fn temporaries(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(TEMP_PREFIX))
            .collect()
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        fs::write(&path, b"the old model").unwrap();
        let error = write_atomically(&path, |writer| {
            writer.write_all(&[7; 100_000])?;
            Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "injected: the disk is full",
            ))
        })
        .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(fs::read(&path).unwrap(), b"the old model");
        assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_refused_rename_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        // A directory is in the way: the rename over it fails.
        let path = dir.path().join("occupied");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"x").unwrap();
        assert!(write_atomically(&path, |writer| writer.write_all(b"model")).is_err());
        assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_successful_write_leaves_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        write_atomically(&path, |writer| writer.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    }

    #[cfg(unix)]
    #[test]
    fn the_saved_file_has_an_ordinary_files_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (saved, ordinary) = (dir.path().join("saved"), dir.path().join("ordinary"));
        write_atomically(&saved, |writer| writer.write_all(b"m")).unwrap();
        fs::write(&ordinary, b"m").unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode(&saved), mode(&ordinary));
    }

    #[test]
    fn only_old_leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(format!("{TEMP_PREFIX}killed{TEMP_SUFFIX}"));
        let fresh = dir
            .path()
            .join(format!("{TEMP_PREFIX}running{TEMP_SUFFIX}"));
        let unrelated = dir.path().join(".other.tmp");
        for file in [&old, &fresh, &unrelated] {
            fs::write(file, b"x").unwrap();
        }
        let two_hours_ago = SystemTime::now() - 2 * STALE_AFTER;
        for file in [&old, &unrelated] {
            fs::File::options()
                .write(true)
                .open(file)
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
        write_atomically(&dir.path().join("m.safetensors"), |w| w.write_all(b"m")).unwrap();
        assert!(!old.exists(), "the stale leftover is removed");
        assert!(
            fresh.exists(),
            "a save that may still be running is left alone"
        );
        assert!(unrelated.exists(), "other files are never touched");
    }
}
