//! `length exercise new DIR`: writes a student's (or, with `--solved`, a teacher's) project.
//!
//! Every file comes from the solved exercise in this package (crates/length-cli/exercise/, which
//! the `length-exercise` crate builds and tests where it is), compiled into the `length` binary:
//! the sources go through [`template::render`], and the project's Cargo.toml is
//! exercise/manifest.toml with each length crate's `LENGTH` written out, either as a path to the
//! crates this binary was built from (the default: works offline) or as a crates.io version
//! (`--published`). Everything the binary embeds lies inside this package, so it can be published.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::template::{self, Mode};
use crate::UsageError;

/// The exercise's files, by their path in the project.
pub const FILES: [(&str, &str); 14] = [
    ("README.md", include_str!("../../exercise/README.md")),
    ("src/lib.rs", include_str!("../../exercise/src/lib.rs")),
    ("src/model.rs", include_str!("../../exercise/src/model.rs")),
    ("src/main.rs", include_str!("../../exercise/src/main.rs")),
    (
        "src/task1_sgd.rs",
        include_str!("../../exercise/src/task1_sgd.rs"),
    ),
    (
        "src/task2_fully_connected.rs",
        include_str!("../../exercise/src/task2_fully_connected.rs"),
    ),
    (
        "src/task3_mean_squared_error.rs",
        include_str!("../../exercise/src/task3_mean_squared_error.rs"),
    ),
    (
        "src/task4_relu.rs",
        include_str!("../../exercise/src/task4_relu.rs"),
    ),
    (
        "src/task5_adam.rs",
        include_str!("../../exercise/src/task5_adam.rs"),
    ),
    (
        "tests/task1_sgd.rs",
        include_str!("../../exercise/tests/task1_sgd.rs"),
    ),
    (
        "tests/task2_fully_connected.rs",
        include_str!("../../exercise/tests/task2_fully_connected.rs"),
    ),
    (
        "tests/task3_mean_squared_error.rs",
        include_str!("../../exercise/tests/task3_mean_squared_error.rs"),
    ),
    (
        "tests/task4_relu.rs",
        include_str!("../../exercise/tests/task4_relu.rs"),
    ),
    (
        "tests/task5_adam.rs",
        include_str!("../../exercise/tests/task5_adam.rs"),
    ),
];

/// The project's Cargo.toml, with `LENGTH` where a length crate's location goes.
const MANIFEST_TEMPLATE: &str = include_str!("../../exercise/manifest.toml");

/// The package name a project has; `check` and `hint` recognise a project by it.
pub const PACKAGE_NAME: &str = "length-exercise";

/// Where the project's `length-*` dependencies come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Path dependencies to the `crates/` folder of a checkout of this repository.
    Path(PathBuf),
    /// crates.io, at this version.
    Published(String),
}

impl Source {
    /// The `crates/` folder this binary was built from, if it still exists.
    ///
    /// # Errors
    /// If the folder is gone (the binary was copied to another machine).
    pub fn this_checkout() -> anyhow::Result<Self> {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the CLI crate lives in a folder")
            .to_path_buf();
        if !crates.join("length-autograd").join("Cargo.toml").is_file() {
            bail!(
                "this length binary was built from {}, which no longer holds the length crates; \
                 pass --published to depend on the crates.io versions instead",
                crates.display()
            );
        }
        Ok(Source::Path(crates))
    }

    /// The crates.io versions of this binary's release.
    pub fn published() -> Self {
        Source::Published(env!("CARGO_PKG_VERSION").to_string())
    }

    /// The dependency table's location part for crate `name`.
    fn locate(&self, name: &str) -> String {
        match self {
            Source::Path(crates) => {
                let path = crates.join(name);
                format!("path = {:?}", path.display().to_string())
            }
            Source::Published(version) => format!("version = \"{version}\""),
        }
    }
}

/// The project's Cargo.toml: crates/length-cli/exercise/manifest.toml, a package of its own (an
/// empty `[workspace]`, so it can live anywhere, even inside another workspace), with each length
/// crate's `LENGTH` written out for `source`.
pub fn manifest(source: &Source) -> String {
    let mut text = String::new();
    for line in MANIFEST_TEMPLATE.lines() {
        match line.strip_suffix(" = LENGTH") {
            Some(name) => text.push_str(&format!("{name} = {{ {} }}", source.locate(name))),
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

/// Writes the project into `dir`, which must be missing or empty.
///
/// # Errors
/// A [`UsageError`] if `dir` has files in it; I/O errors with the path.
pub fn create(dir: &Path, mode: Mode, source: &Source) -> anyhow::Result<()> {
    if dir.is_file() {
        return Err(UsageError(format!("{} is a file, not a folder", dir.display())).into());
    }
    if dir.is_dir() {
        let mut entries = fs::read_dir(dir)
            .with_context(|| format!("cannot read the folder {}", dir.display()))?;
        if entries.next().is_some() {
            return Err(UsageError(format!(
                "{} is not empty; choose a new folder (nothing was written)",
                dir.display()
            ))
            .into());
        }
    }
    let mut files: Vec<(String, String)> = vec![
        ("Cargo.toml".to_string(), manifest(source)),
        (".gitignore".to_string(), "/target\n".to_string()),
    ];
    for (path, text) in FILES {
        let rendered = template::render(text, mode).unwrap_or_else(|error| {
            panic!("the exercise's {path} is not a valid template: {error}")
        });
        files.push((path.to_string(), rendered));
    }
    if let Source::Path(crates) = source {
        // The versions the workspace was built and tested with, so the project builds offline.
        if let Ok(lock) = fs::read_to_string(crates.join("..").join("Cargo.lock")) {
            files.push(("Cargo.lock".to_string(), lock));
        }
    }
    for (path, text) in &files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        }
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Whether `dir` holds an exercise project (its Cargo.toml names the package).
pub fn is_project(dir: &Path) -> bool {
    fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|text| names_the_package(&text))
}

/// Whether the text of a Cargo.toml names the exercise's package.
fn names_the_package(manifest: &str) -> bool {
    manifest.contains(&format!("name = \"{PACKAGE_NAME}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folder of the exercise's files, in this package.
    fn exercise_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("exercise")
    }

    #[test]
    fn every_file_of_the_exercise_is_embedded() {
        let root = exercise_dir();
        let mut on_disk = vec!["README.md".to_string()];
        for folder in ["src", "tests"] {
            for entry in fs::read_dir(root.join(folder)).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                on_disk.push(format!("{folder}/{name}"));
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(path, _)| path.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn every_file_renders_and_each_task_has_its_regions() {
        for (path, text) in FILES {
            let student = template::render(text, Mode::Student).unwrap();
            assert!(!student.contains("SOLUTION"), "{path}");
            template::render(text, Mode::Solved).unwrap();
            if path.starts_with("src/task") {
                assert!(
                    template::count_regions(text) >= 1,
                    "{path} has no solution region"
                );
                assert!(student.contains("todo!(\"Task "), "{path}");
            }
        }
    }

    #[test]
    fn the_manifest_writes_out_where_the_length_crates_are() {
        let local = manifest(&Source::Path(PathBuf::from("/somewhere/crates")));
        assert!(!local.contains("= LENGTH"), "{local}");
        assert!(
            local.contains("length-autograd = { path = \"/somewhere/crates/length-autograd\" }"),
            "{local}"
        );
        assert!(
            local.contains("length-cli = { path = \"/somewhere/crates/length-cli\" }"),
            "{local}"
        );
        assert!(local.contains("\nndarray = \"0.17\"\n"), "{local}");
        assert!(local.contains("\n[workspace]\n"), "{local}");
        assert!(names_the_package(&local), "{local}");

        let published = manifest(&Source::Published("0.1.0".into()));
        assert!(
            published.contains("length-layers = { version = \"0.1.0\" }"),
            "{published}"
        );
        assert!(!published.contains("{ path ="), "{published}");
    }

    /// The `key = value` lines of `section` in a manifest, comments left out.
    fn entries(manifest: &str, section: &str) -> Vec<(String, String)> {
        let start = manifest
            .find(&format!("\n{section}\n"))
            .unwrap_or_else(|| panic!("no {section}"));
        manifest[start + section.len() + 2..]
            .lines()
            .take_while(|line| !line.starts_with('['))
            .filter_map(|line| {
                let (key, value) = line.split_once(" = ")?;
                (!key.starts_with('#')).then(|| (key.trim().to_string(), value.trim().to_string()))
            })
            .collect()
    }

    /// The names of the dependencies in `section`, as the exercise crate writes them
    /// (`name.workspace = true`) or the template does (`name = ...`).
    fn dependency_names(manifest: &str, section: &str) -> Vec<String> {
        let mut names: Vec<String> = entries(manifest, section)
            .into_iter()
            .map(|(key, _)| key.trim_end_matches(".workspace").to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_manifest_has_the_exercise_crate_s_dependencies_at_the_workspace_s_versions() {
        let read =
            |path: PathBuf| fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let package = Path::new(env!("CARGO_MANIFEST_DIR"));
        let exercise_crate = read(package.join("../length-exercise/Cargo.toml"));
        let workspace = read(package.join("../../Cargo.toml"));
        let pinned = entries(&workspace, "[workspace.dependencies]");
        for section in ["[dependencies]", "[dev-dependencies]"] {
            assert_eq!(
                dependency_names(MANIFEST_TEMPLATE, section),
                dependency_names(&exercise_crate, section),
                "{section} of crates/length-cli/exercise/manifest.toml and crates/length-exercise/Cargo.toml"
            );
            for (name, version) in entries(MANIFEST_TEMPLATE, section) {
                if version == "LENGTH" {
                    assert!(name.starts_with("length-"), "{name}");
                    continue;
                }
                let (_, pin) = pinned
                    .iter()
                    .find(|(pinned_name, _)| *pinned_name == name)
                    .unwrap_or_else(|| panic!("the workspace pins no version of {name}"));
                assert_eq!(&version, pin, "the version of {name}");
            }
        }
        let edition = |manifest: &str, section: &str| {
            entries(manifest, section)
                .into_iter()
                .find(|(key, _)| key == "edition")
        };
        assert_eq!(
            edition(MANIFEST_TEMPLATE, "[package]"),
            edition(&workspace, "[workspace.package]")
        );
    }
}
