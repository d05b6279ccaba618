//! A note next to a verified file, so the next process need not hash it again.
//!
//! Hashing MNIST's decompressed 55 MB takes about half a second; every test binary that loads
//! MNIST would pay it. After a file is verified, `.<name>.verified` records its SHA-256, size and
//! modification time. While the file keeps that size and time (nothing replaced or rewrote it),
//! [`fetch::ensure_available`](super::ensure_available) trusts the note.
//! `cargo xtask fetch-data` always hashes.

use super::temp_file::TempFile;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Whether `path` has a note saying it was verified to have content `sha256`, and the file's
/// size and modification time are still the ones noted.
pub(crate) fn matches(path: &Path, sha256: &str) -> bool {
    match (fs::read_to_string(stamp_path(path)), describe(path, sha256)) {
        (Ok(noted), Some(now)) => noted == now,
        _ => false,
    }
}

/// Notes that `path` has just been verified to have content `sha256`. Best effort: a data
/// directory that cannot take the note only costs a hash next time.
pub(crate) fn write(path: &Path, sha256: &str) {
    let (Some(note), Some(dir), Some(name)) =
        (describe(path, sha256), path.parent(), path.file_name())
    else {
        return;
    };
    let stamp = stamp_path(path);
    let Ok(mut temp) = TempFile::new_in(dir, &format!("{}.verified", name.to_string_lossy()))
    else {
        return;
    };
    if temp.file().write_all(note.as_bytes()).is_ok() {
        let _ = temp.persist(&stamp);
    }
}

/// The note's content for the file as it is now: sum, size, modification time.
fn describe(path: &Path, sha256: &str) -> Option<String> {
    let metadata = fs::metadata(path).ok()?;
    let modified = metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!(
        "{sha256} {} {}.{:09}\n",
        metadata.len(),
        modified.as_secs(),
        modified.subsec_nanos()
    ))
}

fn stamp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.verified"))
}

#[cfg(test)]
mod tests {
    use super::{matches, write};

    #[test]
    fn a_note_holds_while_the_file_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.gz");
        std::fs::write(&file, b"content").unwrap();
        assert!(!matches(&file, "abc"), "no note yet");
        write(&file, "abc");
        assert!(matches(&file, "abc"));
        assert!(!matches(&file, "abd"), "another sum");
        std::fs::write(&file, b"other content").unwrap();
        assert!(!matches(&file, "abc"), "the file changed");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "the file and its note, no temporary files: {names:?}"
        );
    }
}
