//! Loading MNIST or Fashion-MNIST for a subcommand, fetching it first when it is missing.
//!
//! The files are looked for in `--data-dir`, else in `$LENGTH_DATA_DIR`, else in `.data/` of the
//! working directory — the same resolution as `cargo xtask fetch-data` and the library
//! ([`length_data::default_data_dir`]). Missing files are fetched by the same code as
//! `cargo xtask fetch-data` ([`length_data::fetch`]): from `$LENGTH_DATA_MIRROR` if set, then
//! from the public hosts, each file verified by SHA-256.

use std::path::PathBuf;

use anyhow::Context;
use length_data::{MnistLike, MnistOptions};

use crate::args::DataSetName;

/// The classes of Fashion-MNIST, by label.
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The classes of MNIST, by label: the digits.
pub const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

impl DataSetName {
    /// The library's name for the data set.
    pub fn library_name(self) -> length_data::DataSetName {
        match self {
            DataSetName::Mnist => length_data::DataSetName::Mnist,
            DataSetName::Fashion => length_data::DataSetName::FashionMnist,
        }
    }

    /// How people write it: `MNIST`, `Fashion-MNIST`.
    pub fn title(self) -> &'static str {
        match self {
            DataSetName::Mnist => "MNIST",
            DataSetName::Fashion => "Fashion-MNIST",
        }
    }

    /// The name of each class, by label.
    pub fn class_names(self) -> &'static [&'static str; 10] {
        match self {
            DataSetName::Mnist => &DIGITS,
            DataSetName::Fashion => &FASHION_CLASSES,
        }
    }
}

/// What to load.
pub struct LoadRequest {
    /// Which data set.
    pub name: DataSetName,
    /// `--data-dir`, if given.
    pub data_dir: Option<PathBuf>,
    /// Whether to read the training split too (the test split is always read).
    pub with_train: bool,
    /// Training batch size.
    pub batch_size: usize,
    /// Shuffle the training set every epoch, with this seed.
    pub shuffle_seed: Option<u64>,
}

/// Loads (and if needed fetches) the data set; pixels are scaled to [0, 1] per batch.
pub fn load(request: &LoadRequest) -> anyhow::Result<MnistLike> {
    let data_dir = request
        .data_dir
        .clone()
        .unwrap_or_else(length_data::default_data_dir);
    let options = MnistOptions {
        batch_size: request.batch_size,
        load_train: request.with_train,
        load_test: true,
        shuffle: request.shuffle_seed.is_some(),
        seed: request.shuffle_seed.unwrap_or(0),
        data_dir: Some(data_dir.clone()),
        ..MnistOptions::default()
    };
    MnistLike::load(request.name.library_name(), &options).with_context(|| {
        format!(
            "cannot load {} from {}; to use files you already have, pass `--data-dir DIR` \
             (DIR/{}/ holding the four .gz files) or set LENGTH_DATA_MIRROR",
            request.name.title(),
            data_dir.display(),
            request.name.library_name().dir_name(),
        )
    })
}
