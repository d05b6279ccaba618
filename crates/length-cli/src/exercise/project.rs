//! `length exercise new DIR`: writes a student's (or, with `--solved`, a teacher's) project.
//!
//! Every file comes from the solved exercise crate in this repository (crates/length-exercise),
//! compiled into the `length` binary: the sources go through [`template::render`], and the
//! project's Cargo.toml is the exercise crate's own, its `workspace = true` dependencies written
//! out, either as paths to the crates this binary was built from (the default: works offline)
//! or as crates.io versions (`--published`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::template::{self, Mode};
use crate::UsageError;

/// The exercise's files, by their path in the project.
pub const FILES: [(&str, &str); 14] = [
    (
        "README.md",
        include_str!("../../../length-exercise/README.md"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../length-exercise/src/lib.rs"),
    ),
    (
        "src/model.rs",
        include_str!("../../../length-exercise/src/model.rs"),
    ),
    (
        "src/main.rs",
        include_str!("../../../length-exercise/src/main.rs"),
    ),
    (
        "src/task1_sgd.rs",
        include_str!("../../../length-exercise/src/task1_sgd.rs"),
    ),
    (
        "src/task2_fully_connected.rs",
        include_str!("../../../length-exercise/src/task2_fully_connected.rs"),
    ),
    (
        "src/task3_mean_squared_error.rs",
        include_str!("../../../length-exercise/src/task3_mean_squared_error.rs"),
    ),
    (
        "src/task4_relu.rs",
        include_str!("../../../length-exercise/src/task4_relu.rs"),
    ),
    (
        "src/task5_adam.rs",
        include_str!("../../../length-exercise/src/task5_adam.rs"),
    ),
    (
        "tests/task1_sgd.rs",
        include_str!("../../../length-exercise/tests/task1_sgd.rs"),
    ),
    (
        "tests/task2_fully_connected.rs",
        include_str!("../../../length-exercise/tests/task2_fully_connected.rs"),
    ),
    (
        "tests/task3_mean_squared_error.rs",
        include_str!("../../../length-exercise/tests/task3_mean_squared_error.rs"),
    ),
    (
        "tests/task4_relu.rs",
        include_str!("../../../length-exercise/tests/task4_relu.rs"),
    ),
    (
        "tests/task5_adam.rs",
        include_str!("../../../length-exercise/tests/task5_adam.rs"),
    ),
];

/// The exercise crate's manifest, whose dependencies the project's Cargo.toml repeats.
const EXERCISE_MANIFEST: &str = include_str!("../../../length-exercise/Cargo.toml");

/// The workspace's manifest: the versions behind `workspace = true`.
const WORKSPACE_MANIFEST: &str = include_str!("../../../../Cargo.toml");

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

/// The project's Cargo.toml: a package of its own (an empty `[workspace]`, so it can live
/// anywhere, even inside another workspace), with the exercise crate's dependencies.
///
/// # Panics
/// If the exercise crate's manifest uses a form this does not know (a mistake in this
/// repository, caught by the tests).
pub fn manifest(source: &Source) -> String {
    let edition = workspace_package_field("edition");
    let mut text = format!(
        "# The LENGTH course exercise, made by `length exercise new`. See README.md.\n\
         [package]\n\
         name = \"{PACKAGE_NAME}\"\n\
         version = \"0.1.0\"\n\
         edition = {edition}\n\
         publish = false\n\
         \n\
         [lib]\n\
         # The examples in the documentation call your code before it is written; the tests in\n\
         # tests/ are the ones that count.\n\
         doctest = false\n"
    );
    let start = EXERCISE_MANIFEST
        .find("\n[dependencies]")
        .expect("the exercise crate has dependencies");
    for line in EXERCISE_MANIFEST[start..].lines() {
        text.push_str(&dependency_line(line, source));
        text.push('\n');
    }
    text.push_str(
        "\n[profile.release]\n\
         # File and line numbers in the messages of panics.\n\
         debug = \"line-tables-only\"\n\
         \n\
         # A project of its own, even inside another Cargo workspace.\n\
         [workspace]\n",
    );
    text
}

/// `line` of the exercise crate's manifest with `workspace = true` written out.
fn dependency_line(line: &str, source: &Source) -> String {
    if let Some(name) = line.strip_suffix(".workspace = true") {
        return format!("{name} = {}", dependency_spec(name, source, None));
    }
    if let Some((name, rest)) = line.split_once(" = { workspace = true, ") {
        let extra = rest.strip_suffix(" }").unwrap_or_else(|| {
            panic!("exercise Cargo.toml: cannot read the dependency line {line:?}")
        });
        return format!("{name} = {}", dependency_spec(name, source, Some(extra)));
    }
    line.to_string()
}

/// The right-hand side for dependency `name`: the workspace's own crates from `source`, others
/// as the workspace pins them; `extra` (such as `features = [...]`) added.
fn dependency_spec(name: &str, source: &Source, extra: Option<&str>) -> String {
    let location = if name.starts_with("length-") {
        source.locate(name)
    } else {
        let pinned = workspace_dependency(name);
        match pinned.strip_prefix("{ ").and_then(|t| t.strip_suffix(" }")) {
            Some(table) => table.to_string(),
            None => format!("version = {pinned}"),
        }
    };
    match extra {
        Some(extra) => format!("{{ {location}, {extra} }}"),
        None if name.starts_with("length-") || location.contains(',') => {
            format!("{{ {location} }}")
        }
        None => location.trim_start_matches("version = ").to_string(),
    }
}

/// The right-hand side of `name` in the workspace's `[workspace.dependencies]`.
fn workspace_dependency(name: &str) -> &'static str {
    section_value("[workspace.dependencies]", name)
        .unwrap_or_else(|| panic!("the workspace pins no version of {name}"))
}

/// A field of `[workspace.package]`, such as `edition`.
fn workspace_package_field(name: &str) -> &'static str {
    section_value("[workspace.package]", name)
        .unwrap_or_else(|| panic!("the workspace has no package field {name}"))
}

/// The value of `key = value` in `section` of the workspace manifest.
fn section_value(section: &str, key: &str) -> Option<&'static str> {
    let start = WORKSPACE_MANIFEST.find(section)? + section.len();
    WORKSPACE_MANIFEST[start..]
        .lines()
        .take_while(|line| !line.starts_with('['))
        .find_map(|line| {
            let (name, value) = line.split_once(" = ")?;
            (name.trim() == key).then(|| value.trim())
        })
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
    fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|text| text.contains(&format!("name = \"{PACKAGE_NAME}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_exercise_crate_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../length-exercise");
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
    fn the_manifest_writes_out_every_workspace_dependency() {
        let crates = PathBuf::from("/somewhere/crates");
        let manifest = manifest(&Source::Path(crates));
        assert!(!manifest.contains("workspace = true"), "{manifest}");
        assert!(
            manifest.contains("length-autograd = { path = \"/somewhere/crates/length-autograd\" }"),
            "{manifest}"
        );
        assert!(
            manifest.contains("length-cli = { path = \"/somewhere/crates/length-cli\" }"),
            "{manifest}"
        );
        assert!(
            manifest.contains(&format!("ndarray = {}", workspace_dependency("ndarray"))),
            "{manifest}"
        );
        assert!(
            manifest.contains(&format!("anyhow = {}", workspace_dependency("anyhow"))),
            "{manifest}"
        );
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        assert_eq!(
            dependency_line(
                "length-data = { workspace = true, features = [\"download\"] }",
                &Source::Path(PathBuf::from("/somewhere/crates"))
            ),
            "length-data = { path = \"/somewhere/crates/length-data\", features = [\"download\"] }"
        );

        let published = super::manifest(&Source::Published("0.1.0".into()));
        assert!(
            published.contains("length-layers = { version = \"0.1.0\" }"),
            "{published}"
        );
        assert!(!published.contains("{ path ="), "{published}");
    }
}
