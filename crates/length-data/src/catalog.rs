//! The data sets LENGTH knows: their files, the SHA-256 of each file's decompressed content, and
//! the public hosts that serve them.
//!
//! The sums are of the *decompressed* bytes, so they hold for any gzip wrapper around the same
//! content (re-compressed mirrors, or a host that sends the file uncompressed).

use std::fmt;
use std::str::FromStr;

/// A data set file: its name on the hosts and in the data directory, its content's SHA-256 and
/// size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownFile {
    /// The original file name, e.g. `train-images-idx3-ubyte.gz`.
    pub name: &'static str,
    /// SHA-256 of the decompressed content, lowercase hex.
    pub sha256: &'static str,
    /// Bytes of the decompressed content (header and elements): the bound for reading the file
    /// (no more is inflated) and, in `fetch`, for how much a download may bring.
    pub size: u64,
}

/// The four files of an MNIST-like data set, in the order train images, train labels, test
/// images, test labels.
pub type FileSet = [KnownFile; 4];

/// File name of the training images.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte.gz";
/// File name of the training labels.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte.gz";
/// File name of the test images.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte.gz";
/// File name of the test labels.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte.gz";

const MNIST_FILES: FileSet = [
    KnownFile {
        name: TRAIN_IMAGES,
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        size: 47_040_016,
    },
    KnownFile {
        name: TRAIN_LABELS,
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        size: 60_008,
    },
    KnownFile {
        name: TEST_IMAGES,
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        size: 7_840_016,
    },
    KnownFile {
        name: TEST_LABELS,
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        size: 10_008,
    },
];

const FASHION_MNIST_FILES: FileSet = [
    KnownFile {
        name: TRAIN_IMAGES,
        sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        size: 47_040_016,
    },
    KnownFile {
        name: TRAIN_LABELS,
        sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        size: 60_008,
    },
    KnownFile {
        name: TEST_IMAGES,
        sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        size: 7_840_016,
    },
    KnownFile {
        name: TEST_LABELS,
        sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        size: 10_008,
    },
];

/// The MNIST-like data sets LENGTH can load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataSetName {
    /// Handwritten digits 0–9 (LeCun, Cortes, Burges). CC BY-SA 3.0.
    Mnist,
    /// Zalando's pictures of 10 kinds of clothing, in MNIST's format. MIT licence.
    FashionMnist,
}

impl DataSetName {
    /// Both data sets.
    pub const ALL: [DataSetName; 2] = [DataSetName::Mnist, DataSetName::FashionMnist];

    /// The folder of the data set inside the data directory: `mnist` or `fashion-mnist`.
    pub fn dir_name(self) -> &'static str {
        match self {
            DataSetName::Mnist => "mnist",
            DataSetName::FashionMnist => "fashion-mnist",
        }
    }

    /// The four files, with the SHA-256 of their decompressed content.
    pub fn files(self) -> &'static FileSet {
        match self {
            DataSetName::Mnist => &MNIST_FILES,
            DataSetName::FashionMnist => &FASHION_MNIST_FILES,
        }
    }

    /// The catalogued file called `name` (e.g. [`TRAIN_IMAGES`]), if the data set has one.
    ///
    /// ```
    /// use length_data::{DataSetName, TRAIN_IMAGES};
    ///
    /// let images = DataSetName::Mnist.file(TRAIN_IMAGES).unwrap();
    /// assert_eq!(images.size, 16 + 60_000 * 28 * 28); // header, then one byte per pixel
    /// assert!(DataSetName::Mnist.file("other.gz").is_none());
    /// ```
    pub fn file(self, name: &str) -> Option<&'static KnownFile> {
        self.files().iter().find(|file| file.name == name)
    }

    /// The public hosts serving the files (base URLs ending in `/`), to be tried in this order.
    pub fn public_hosts(self) -> &'static [&'static str] {
        match self {
            DataSetName::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
                "http://yann.lecun.com/exdb/mnist/",
            ],
            DataSetName::FashionMnist => {
                &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
            }
        }
    }
}

impl fmt::Display for DataSetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir_name())
    }
}

/// A name that is neither MNIST nor Fashion-MNIST.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown data set {0:?} (known: mnist, fashion-mnist)")]
pub struct UnknownDataSet(pub String);

impl FromStr for DataSetName {
    type Err = UnknownDataSet;

    /// Accepts `mnist`, and `fashion-mnist`, `fashion_mnist` or `fashion` (any case).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "mnist" => Ok(DataSetName::Mnist),
            "fashion-mnist" | "fashion_mnist" | "fashionmnist" | "fashion" => {
                Ok(DataSetName::FashionMnist)
            }
            _ => Err(UnknownDataSet(name.to_owned())),
        }
    }
}
