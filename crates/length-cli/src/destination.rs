//! Where `length train` writes what it produced, checked before training and saved without loss.
//!
//! Before any work starts, every destination (`--save`, `--metrics`, `--plot`) is checked by
//! actually creating and removing a file in its folder, so a missing, read-only or otherwise
//! unwritable folder is reported at once (exit 2) instead of after an hour of training.
//!
//! At the end, the model is written first (before plots), and a failed save does not lose it:
//!
//! ```text
//! save to --save PATH                         ok: "Saved the model to PATH"
//!   failed (disk full, folder gone, ...):
//!     save to $TMPDIR/length-<pid>-<name>     ok: error naming both paths, exit 1
//!       failed: save to ./length-<pid>-<name> ok: error naming both paths, exit 1
//!         failed: error naming every attempt (the model is lost), exit 1
//! ```
//!
//! For tests on machines where a full or read-only file system cannot be mounted, the
//! environment variable [`FAIL_SAVE_ENV`] names a path whose save fails as if the disk were full.
//! It is a test hook only.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use crate::UsageError;
use crate::checkpoint::Checkpoint;

/// Test hook: a save to exactly this path fails (as on a full disk), to exercise the fallback.
pub const FAIL_SAVE_ENV: &str = "LENGTH_TEST_FAIL_SAVE";

/// Checks that `path` (given as `flag`) can be written: its folder exists and takes a new file,
/// it is not a folder itself, and an existing file there can be opened for writing. Nothing is
/// changed: the probe file is removed again, and an existing file is not truncated.
///
/// # Errors
/// A [`UsageError`] (exit 2) naming the flag, the path and the reason.
pub fn check_writable(flag: &str, path: &Path) -> anyhow::Result<()> {
    let folder = folder_of(path);
    let refuse = |reason: String| -> anyhow::Result<()> {
        Err(UsageError(format!("{flag} {}: {reason}", path.display())).into())
    };
    if !folder.is_dir() {
        return refuse(format!("the folder {} does not exist", folder.display()));
    }
    if path.is_dir() {
        return refuse("is a folder".to_owned());
    }
    if let Err(error) = tempfile::Builder::new()
        .prefix(".length-probe-")
        .tempfile_in(folder)
    {
        return refuse(format!(
            "cannot create files in the folder {}: {error}",
            folder.display()
        ));
    }
    if path.exists()
        && let Err(error) = OpenOptions::new().append(true).open(path)
    {
        return refuse(format!("cannot write the existing file: {error}"));
    }
    Ok(())
}

/// The folder a file path is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Saves `checkpoint` to `path`; if that fails, to a fallback path. Returns where it was saved.
///
/// # Errors
/// When the save to `path` failed: the error names the fallback file the model went to, or, if
/// every fallback failed too, every attempt.
pub fn save_with_fallback(checkpoint: &Checkpoint, path: &Path) -> anyhow::Result<PathBuf> {
    let error = match save(checkpoint, path) {
        Ok(()) => return Ok(path.to_owned()),
        Err(error) => error,
    };
    let mut attempts = vec![format!("{}: {error:#}", path.display())];
    for fallback in fallback_paths(path) {
        match save(checkpoint, &fallback) {
            Ok(()) => {
                return Err(anyhow!(
                    "cannot save the model to {} ({error:#}); it was saved to {} instead",
                    path.display(),
                    fallback.display()
                ));
            }
            Err(fallback_error) => {
                attempts.push(format!("{}: {fallback_error:#}", fallback.display()));
            }
        }
    }
    Err(anyhow!(
        "cannot save the model anywhere, it is lost: {}",
        attempts.join("; ")
    ))
}

/// One save, failing on purpose where [`FAIL_SAVE_ENV`] says.
fn save(checkpoint: &Checkpoint, path: &Path) -> anyhow::Result<()> {
    if std::env::var_os(FAIL_SAVE_ENV).is_some_and(|failing| Path::new(&failing) == path) {
        return Err(anyhow!(
            "no space left on device (injected by {FAIL_SAVE_ENV})"
        ));
    }
    Ok(checkpoint.save(path)?)
}

/// Where a model goes when its destination failed: `length-<pid>-<name>` in the temporary
/// folder, then in the current folder.
fn fallback_paths(path: &Path) -> Vec<PathBuf> {
    let mut name = OsString::from(format!("length-{}-", std::process::id()));
    name.push(path.file_name().unwrap_or("model.safetensors".as_ref()));
    vec![std::env::temp_dir().join(&name), PathBuf::from(&name)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writable_folder_passes_and_keeps_no_probe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        check_writable("--save", &path).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_folder_or_a_folder_as_file_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        for path in [dir.path().join("missing/m.csv"), dir.path().to_owned()] {
            let error = check_writable("--metrics", &path).unwrap_err();
            assert!(error.downcast_ref::<UsageError>().is_some(), "{error}");
            assert!(error.to_string().starts_with("--metrics "), "{error}");
        }
    }

    #[test]
    fn fallbacks_keep_the_file_name_and_name_the_process() {
        let paths = fallback_paths(Path::new("/nowhere/run.safetensors"));
        let name = format!("length-{}-run.safetensors", std::process::id());
        assert_eq!(paths[0], std::env::temp_dir().join(&name));
        assert_eq!(paths[1], PathBuf::from(&name));
    }
}
