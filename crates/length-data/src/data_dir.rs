//! Where the data sets live on disk, resolved the same way by the library, the `length` command
//! and `cargo xtask fetch-data`:
//!
//! 1. the environment variable `LENGTH_DATA_DIR`, when set and not empty;
//! 2. otherwise `.data/` (relative to the working directory, for programs), or the workspace
//!    root's `.data/` (for the workspace's tests, so every crate's tests share one copy).
//!
//! Each data set has its own folder inside: `.data/mnist/`, `.data/fashion-mnist/`.

use std::path::{Path, PathBuf};

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "LENGTH_DATA_DIR";

/// The environment variable naming a mirror (a folder or base URL holding the files) that the
/// `download` feature tries before the public hosts.
pub const MIRROR_ENV: &str = "LENGTH_DATA_MIRROR";

/// The data directory used when `LENGTH_DATA_DIR` is not set, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".data";

/// The data directory of programs: `$LENGTH_DATA_DIR`, or else `.data` in the working directory.
pub fn default_data_dir() -> PathBuf {
    data_dir_from_env().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

/// The data directory of tests and examples in this workspace: `$LENGTH_DATA_DIR`, or else the
/// workspace root's `.data/`, wherever the test runs from.
///
/// The workspace root is the nearest folder above this crate's manifest whose `Cargo.toml`
/// declares `[workspace]`; when there is none (the crate was built from a registry),
/// this is [`default_data_dir`].
pub fn workspace_data_dir() -> PathBuf {
    data_dir_from_env().unwrap_or_else(|| {
        workspace_root(Path::new(env!("CARGO_MANIFEST_DIR")))
            .map(|root| root.join(DEFAULT_DATA_DIR))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    })
}

fn data_dir_from_env() -> Option<PathBuf> {
    std::env::var_os(DATA_DIR_ENV)
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

fn workspace_root(manifest_dir: &Path) -> Option<PathBuf> {
    manifest_dir.ancestors().find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        manifest
            .lines()
            .any(|line| line.trim() == "[workspace]")
            .then(|| dir.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::workspace_root;
    use std::path::Path;

    #[test]
    fn the_workspace_root_is_the_folder_declaring_the_workspace() {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = workspace_root(manifest_dir).expect("length-data lives in the workspace");
        // crates/length-data → the workspace root, two levels up.
        assert_eq!(root, manifest_dir.parent().unwrap().parent().unwrap());
        assert!(
            std::fs::read_to_string(root.join("Cargo.toml"))
                .unwrap()
                .contains("[workspace]")
        );
    }
}
