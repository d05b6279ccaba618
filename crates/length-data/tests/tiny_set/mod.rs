//! The tiny data set the download tests fetch (20 images of 4x4 and their labels, as gzip IDX
//! files, with sums computed here), and helpers to look at what a fetch left in a folder.

#![allow(dead_code)] // each test binary uses some of the helpers

use crate::http_server::Reply;
use flate2::Compression;
use flate2::write::GzEncoder;
use length_data::DataError;
use length_data::fetch::{ExpectedFile, FetchOptions, FetchPlan};
use length_data::idx::{IdxArray, IdxData};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

pub const IMAGES: &str = "tiny-images-idx3-ubyte.gz";
pub const LABELS: &str = "tiny-labels-idx1-ubyte.gz";

/// A small data set: 20 images of 4x4 and their labels, as gzip IDX files.
pub struct TinySet {
    pub images_gz: Vec<u8>,
    pub labels_gz: Vec<u8>,
    pub plan: FetchPlan,
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn tiny_set() -> TinySet {
    let images = IdxArray::new(
        vec![20, 4, 4],
        IdxData::U8((0..320).map(|i| (i * 7 % 256) as u8).collect()),
    );
    let labels = IdxArray::new(vec![20], IdxData::U8((0..20).map(|i| i % 10).collect()));
    let (images, labels) = (images.to_bytes(), labels.to_bytes());
    TinySet {
        images_gz: gzip(&images),
        labels_gz: gzip(&labels),
        plan: FetchPlan {
            folder: "tiny".into(),
            files: vec![
                ExpectedFile {
                    name: IMAGES.into(),
                    sha256: sha256_hex(&images),
                    size: images.len() as u64,
                },
                ExpectedFile {
                    name: LABELS.into(),
                    sha256: sha256_hex(&labels),
                    size: labels.len() as u64,
                },
            ],
            sources: vec![],
            options: FetchOptions::default(),
        },
    }
}

/// The routes serving the tiny set under `prefix`.
pub fn routes(set: &TinySet, prefix: &str) -> Vec<(String, Reply)> {
    vec![
        (
            format!("{prefix}{IMAGES}"),
            Reply::File(set.images_gz.clone()),
        ),
        (
            format!("{prefix}{LABELS}"),
            Reply::File(set.labels_gz.clone()),
        ),
    ]
}

/// Every file name in a folder, hidden ones included, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The listing of a folder holding exactly these verified files (each with its note).
pub fn verified_listing(files: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = files
        .iter()
        .flat_map(|f| [f.to_string(), format!(".{f}.verified")])
        .collect();
    names.sort();
    names
}

pub fn unavailable(error: DataError) -> (String, Vec<length_data::Attempt>) {
    match error {
        DataError::Unavailable { file, attempts, .. } => (file, attempts),
        other => panic!("expected Unavailable, got {other}"),
    }
}

/// A local mirror laid out like `../shared/datasets`: `<dir>/tiny/<files>`.
pub fn local_mirror(set: &TinySet) -> tempfile::TempDir {
    let mirror = tempfile::tempdir().unwrap();
    std::fs::create_dir(mirror.path().join("tiny")).unwrap();
    std::fs::write(mirror.path().join("tiny").join(IMAGES), &set.images_gz).unwrap();
    std::fs::write(mirror.path().join("tiny").join(LABELS), &set.labels_gz).unwrap();
    mirror
}

/// The one attempt of a plan with one URL source: its problem's message.
pub fn only_problem(error: DataError) -> String {
    let (_, attempts) = unavailable(error);
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    attempts[0].problem.to_string()
}

/// Temporary files in a folder.
pub fn part_files(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|name| name.ends_with(".part"))
        .collect()
}
