//! # length-data
//!
//! The data side of LENGTH: reading IDX files, serving MNIST and Fashion-MNIST in batches, and
//! getting the files onto the machine, verified.
//!
//! | module | what it does |
//! |---|---|
//! | [`idx`] | read and write IDX arrays (every element type, raw or gzip), safely |
//! | [`samples`] | one split kept as bytes (a `u8` per pixel: 47 MB for MNIST's training set) |
//! | [`batches`] | bytes become `f32` one batch at a time, in a reused buffer |
//! | [`data_set`] | LENGTH's interface: `train()` and `test()` batches |
//! | [`mnist`] | MNIST and Fashion-MNIST with LENGTH's options |
//! | [`catalog`] | the data sets' files, SHA-256 sums and public hosts |
//! | `fetch` | verified downloads and copies (feature `download`); `cargo xtask fetch-data` uses it |
//! | [`data_dir`] | where the files live: `$LENGTH_DATA_DIR`, else `.data/` |
//! | [`error`] | [`DataError`], with messages that name the file and what was expected |
//!
//! The main types are re-exported here: [`Mnist`], [`FashionMnist`], [`MnistOptions`],
//! [`DataSet`], [`Batches`], [`Batch`], [`Samples`].
//!
//! A complete run on a tiny in-memory data set, from IDX bytes to batches:
//!
//! ```
//! use length_data::idx::{parse_idx, IdxArray, IdxData};
//! use length_data::{DataSet, DataSetName, MnistLike, MnistOptions, Samples};
//!
//! // Four 2x2 images and their labels, written as IDX bytes, as in MNIST's files.
//! let images = IdxArray::new(vec![4, 2, 2], IdxData::U8((0..16).map(|v| v * 17).collect()));
//! let labels = IdxArray::new(vec![4], IdxData::U8(vec![5, 0, 4, 1]));
//! let images = parse_idx(&images.to_bytes())?;
//! let labels = parse_idx(&labels.to_bytes())?;
//!
//! let train = Samples::from_idx(images, labels)?;
//! let options = MnistOptions { batch_size: 2, sample_dimensions: 2, ..MnistOptions::default() };
//! let data = MnistLike::from_samples(DataSetName::Mnist, Some(train), None, &options)?;
//!
//! let mut batches = data.train();
//! let first = batches.next_batch().unwrap();
//! assert_eq!(first.images.shape(), &[2, 2, 2]);         // (batch, rows, columns)
//! assert_eq!(first.images[[0, 0, 1]], 17.0 / 255.0);    // pixel 17 scaled to [0, 1]
//! assert_eq!(first.labels.to_vec(), vec![5, 0]);        // u32, as the losses take them
//! assert_eq!(batches.len(), 1);                         // one batch left this epoch
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Loading the real MNIST (fetched into `.data/mnist/` on first use with the `download` feature,
//! or beforehand with `cargo xtask fetch-data`):
//!
//! ```no_run
//! use length_data::{DataSet, Mnist, MnistOptions};
//!
//! let mnist = Mnist::load(&MnistOptions { batch_size: 100, ..MnistOptions::default() })?;
//! for epoch in 0..2 {
//!     let mut batches = mnist.train();
//!     while let Some(batch) = batches.next_batch() {
//!         // batch.images: (100, 784) f32 in [0, 1]; batch.labels: (100,) u32
//!     }
//! }
//! # Ok::<(), length_data::DataError>(())
//! ```

pub mod batches;
pub mod catalog;
pub mod data_dir;
pub mod data_set;
pub mod error;
#[cfg(feature = "download")]
pub mod fetch;
pub mod idx;
pub mod mnist;
pub mod samples;

pub use batches::{Batch, BatchConfig, BatchImages, Batches, PendingBatch};
pub use catalog::{
    DataSetName, FileSet, KnownFile, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS,
    UnknownDataSet,
};
pub use data_dir::{
    DATA_DIR_ENV, DEFAULT_DATA_DIR, MIRROR_ENV, default_data_dir, workspace_data_dir,
};
pub use data_set::DataSet;
pub use error::{Attempt, DataError, FetchProblem};
pub use mnist::{CLASSES, FashionMnist, Mnist, MnistLike, MnistOptions};
pub use samples::Samples;
