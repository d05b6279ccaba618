//! MNIST and Fashion-MNIST: 28x28 grey images in ten classes, 60 000 for training and 10 000 for
//! testing, four IDX files per data set.
//!
//! Both are "MNIST-like": same files, same shapes, so one type, [`MnistLike`], loads either, and
//! [`Mnist`] and [`FashionMnist`] name the two. The options are LENGTH's: batch size, scale,
//! sample dimensions, which splits to load, shuffling; plus keeping the last incomplete batch.
//!
//! The pixels stay bytes in memory (see [`Samples`]) and become `f32` one batch at a time.
//!
//! ```no_run
//! use length_data::{DataSet, Mnist, MnistOptions};
//!
//! // Fetches the files into `.data/mnist/` on first use (feature `download`).
//! let mnist = Mnist::load(&MnistOptions { batch_size: 100, ..MnistOptions::default() })?;
//! let mut batches = mnist.train();
//! assert_eq!(batches.len(), 600);
//! while let Some(batch) = batches.next_batch() {
//!     assert_eq!(batch.images.shape(), &[100, 784]);
//! }
//! # Ok::<(), length_data::DataError>(())
//! ```

use crate::batches::{BatchConfig, Batches};
use crate::catalog::{DataSetName, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use crate::data_dir::default_data_dir;
use crate::data_set::DataSet;
use crate::error::DataError;
use crate::idx::read_idx_file_limited;
use crate::samples::Samples;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The number of classes of both data sets; labels are `0..CLASSES`.
pub const CLASSES: usize = 10;

/// LENGTH's options for MNIST-like data sets.
#[derive(Clone, Debug, PartialEq)]
pub struct MnistOptions {
    /// Samples per batch. Default 64.
    pub batch_size: usize,
    /// Pixels become `value / 255 · scale`; `None` keeps the raw values 0–255. Default `Some(1.0)`.
    pub scale: Option<f32>,
    /// 1: images of shape (batch, 784); 2: (batch, 28, 28); 3: (batch, 1, 28, 28). Default 1.
    pub sample_dimensions: usize,
    /// Load the training split. Default true.
    pub load_train: bool,
    /// Load the test split. Default true.
    pub load_test: bool,
    /// Serve the training split in a new random order each epoch. Default false: file order, as
    /// LENGTH (which accepts `shuffle` but ignores it), so the course's numbers reproduce.
    pub shuffle: bool,
    /// Seed of the shuffle: the same seed gives the same order for each epoch. Default 0.
    pub seed: u64,
    /// Serve the last, incomplete batch too. Default false: dropped, as LENGTH does.
    pub keep_last_batch: bool,
    /// The data directory holding `mnist/` and `fashion-mnist/`. Default `None`:
    /// [`default_data_dir`] (`$LENGTH_DATA_DIR`, else `.data`).
    pub data_dir: Option<PathBuf>,
}

impl Default for MnistOptions {
    fn default() -> Self {
        MnistOptions {
            batch_size: 64,
            scale: Some(1.0),
            sample_dimensions: 1,
            load_train: true,
            load_test: true,
            shuffle: false,
            seed: 0,
            keep_last_batch: false,
            data_dir: None,
        }
    }
}

impl MnistOptions {
    /// How batches are cut and converted under these options.
    pub fn batch_config(&self) -> BatchConfig {
        BatchConfig {
            batch_size: self.batch_size,
            scale: self.scale,
            sample_dimensions: self.sample_dimensions,
            keep_last_batch: self.keep_last_batch,
        }
    }
}

/// An MNIST-like data set in memory: its splits as bytes, and how to batch them.
#[derive(Debug)]
pub struct MnistLike {
    name: DataSetName,
    train: Option<Samples>,
    test: Option<Samples>,
    batching: BatchConfig,
    shuffle_seed: Option<u64>,
    epochs_started: AtomicU64,
}

impl MnistLike {
    /// Loads data set `name` from `options.data_dir` (or [`default_data_dir`]). With the
    /// `download` feature, missing files are fetched first (see `fetch::ensure_available`:
    /// from `$LENGTH_DATA_MIRROR` if set, else the public hosts); without it they must be there
    /// already, and the error says where to put them.
    pub fn load(name: DataSetName, options: &MnistOptions) -> Result<Self, DataError> {
        options.batch_config().validate()?;
        let root = options.data_dir.clone().unwrap_or_else(default_data_dir);
        #[cfg(feature = "download")]
        let dir = crate::fetch::ensure_available(name, &root)?;
        #[cfg(not(feature = "download"))]
        let dir = root.join(name.dir_name());
        Self::from_dir(name, &dir, options)
    }

    /// Loads data set `name` from `dir`, the folder holding its four files (never downloads).
    pub fn from_dir(
        name: DataSetName,
        dir: &Path,
        options: &MnistOptions,
    ) -> Result<Self, DataError> {
        options.batch_config().validate()?;
        let read_split =
            |load: bool, images: &str, labels: &str| -> Result<Option<Samples>, DataError> {
                if !load {
                    return Ok(None);
                }
                read_split(name, &dir.join(images), &dir.join(labels)).map(Some)
            };
        let train = read_split(options.load_train, TRAIN_IMAGES, TRAIN_LABELS)?;
        let test = read_split(options.load_test, TEST_IMAGES, TEST_LABELS)?;
        Self::from_samples(name, train, test, options)
    }

    /// A data set from samples already in memory (their labels must be below [`CLASSES`]).
    pub fn from_samples(
        name: DataSetName,
        train: Option<Samples>,
        test: Option<Samples>,
        options: &MnistOptions,
    ) -> Result<Self, DataError> {
        let batching = options.batch_config();
        batching.validate()?;
        for (split, samples) in [("training", &train), ("test", &test)] {
            let labels = samples.as_ref().map(Samples::labels).unwrap_or_default();
            if let Some(index) = labels
                .iter()
                .position(|&label| usize::from(label) >= CLASSES)
            {
                return Err(DataError::Format {
                    what: format!("{name} {split} labels"),
                    problem: format!(
                        "label {} of sample {index} is not a class 0..{CLASSES}",
                        labels[index]
                    ),
                });
            }
        }
        Ok(MnistLike {
            name,
            train,
            test,
            batching,
            shuffle_seed: options.shuffle.then_some(options.seed),
            epochs_started: AtomicU64::new(0),
        })
    }

    /// Which data set this is.
    pub fn name(&self) -> DataSetName {
        self.name
    }

    /// The training split, if it was loaded.
    pub fn train_samples(&self) -> Option<&Samples> {
        self.train.as_ref()
    }

    /// The test split, if it was loaded.
    pub fn test_samples(&self) -> Option<&Samples> {
        self.test.as_ref()
    }

    /// How batches are cut and converted.
    pub fn batch_config(&self) -> &BatchConfig {
        &self.batching
    }

    /// The training batches of epoch `epoch` (0-based): in file order, or, when shuffling, in
    /// the order that the seed and the epoch determine. [`DataSet::train`] counts epochs itself.
    ///
    /// # Panics
    ///
    /// If the training split was not loaded (`load_train: false`).
    pub fn train_epoch(&self, epoch: u64) -> Batches<'_> {
        let samples = self.train.as_ref().unwrap_or_else(|| {
            panic!(
                "{}: the training split was not loaded (MnistOptions::load_train is false)",
                self.name
            )
        });
        match self.shuffle_seed {
            Some(seed) => Batches::shuffled(samples, &self.batching, seed, epoch),
            None => Batches::in_order(samples, &self.batching),
        }
    }
}

impl DataSet for MnistLike {
    /// Batches of the next epoch (the first call serves epoch 0).
    ///
    /// # Panics
    ///
    /// If the training split was not loaded (`load_train: false`).
    fn train(&self) -> Batches<'_> {
        self.train_epoch(self.epochs_started.fetch_add(1, Ordering::Relaxed))
    }

    /// # Panics
    ///
    /// If the test split was not loaded (`load_test: false`).
    fn test(&self) -> Batches<'_> {
        let samples = self.test.as_ref().unwrap_or_else(|| {
            panic!(
                "{}: the test split was not loaded (MnistOptions::load_test is false)",
                self.name
            )
        });
        Batches::in_order(samples, &self.batching)
    }
}

/// Reads one split: an images file and a labels file, each with the byte limit of its
/// catalogued size (a file claiming more is refused before it is inflated).
fn read_split(name: DataSetName, images: &Path, labels: &Path) -> Result<Samples, DataError> {
    for path in [images, labels] {
        if !path.exists() {
            return Err(DataError::Missing {
                path: path.to_owned(),
                data_set: name,
            });
        }
    }
    let read = |path: &Path| {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        let limit = name.file(&file_name).map_or(u64::MAX, |known| known.size);
        read_idx_file_limited(path, limit)
    };
    Samples::from_idx_named(
        read(images)?,
        read(labels)?,
        &images.display().to_string(),
        &labels.display().to_string(),
    )
}

/// Declares a named MNIST-like data set: a thin wrapper over [`MnistLike`].
macro_rules! mnist_like {
    ($(#[$doc:meta])* $type:ident, $name:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $type(MnistLike);

        impl $type {
            /// Loads the data set (see [`MnistLike::load`]); fetches missing files with the
            /// `download` feature.
            pub fn load(options: &MnistOptions) -> Result<Self, DataError> {
                MnistLike::load($name, options).map($type)
            }

            /// Loads the data set from `dir`, the folder holding its four files.
            pub fn from_dir(dir: &Path, options: &MnistOptions) -> Result<Self, DataError> {
                MnistLike::from_dir($name, dir, options).map($type)
            }

            /// The data set as an [`MnistLike`].
            pub fn into_inner(self) -> MnistLike {
                self.0
            }
        }

        impl Deref for $type {
            type Target = MnistLike;

            fn deref(&self) -> &MnistLike {
                &self.0
            }
        }

        impl DataSet for $type {
            fn train(&self) -> Batches<'_> {
                self.0.train()
            }

            fn test(&self) -> Batches<'_> {
                self.0.test()
            }
        }
    };
}

mnist_like!(
    /// MNIST: handwritten digits 0–9; the first training image is a 5.
    Mnist,
    DataSetName::Mnist
);

mnist_like!(
    /// Fashion-MNIST: ten kinds of clothing (0 T-shirt/top … 9 ankle boot); the first training
    /// image is an ankle boot.
    FashionMnist,
    DataSetName::FashionMnist
);
