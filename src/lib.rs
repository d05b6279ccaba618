//! # length
//!
//! LENGTH ("Lightning-fast Extensible Neural-network Guarding The HPI") in Rust: one crate that
//! re-exports the whole workspace, for users who want everything behind one dependency.
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`tensor`] | `length-tensor` | the f32 array type and the parallel kernels (matmul, ReLU, softmax) |
//! | [`autograd`] | `length-autograd` | the computational graph, the `Function`/`Layer`/`Optimizer` traits, functions, the gradient checker |
//! | [`layers`] | `length-layers` | `FullyConnected`, initializers, the MLP models |
//! | [`optim`] | `length-optim` | SGD, momentum, Adam, AdamW and learning-rate schedules |
//! | [`data`] | `length-data` | IDX files, MNIST, Fashion-MNIST, batching and downloading |
//!
//! See `ARCHITECTURE.md` at the repository root for how the crates fit together.
//!
//! ## Features
//!
//! - `download` (on by default): [`data`] fetches MNIST and Fashion-MNIST into the data
//!   directory on first use (`$LENGTH_DATA_DIR`, else `.data/`), checks every file's SHA-256, and
//!   tries the mirror named by `$LENGTH_DATA_MIRROR` (a folder or base URL) before the public
//!   hosts. With `default-features = false`, nothing is downloaded: the files must already be
//!   there, and the error says where to put them.
//!
//! ```no_run
//! use length::data::{DataSet, Mnist, MnistOptions};
//!
//! // From any crate that depends on `length`: fetched and verified on first use.
//! let mnist = Mnist::load(&MnistOptions { batch_size: 100, ..MnistOptions::default() })?;
//! assert_eq!(mnist.train().len(), 600);
//! # Ok::<(), length::data::DataError>(())
//! ```

pub use length_autograd as autograd;
pub use length_data as data;
pub use length_layers as layers;
pub use length_optim as optim;
pub use length_tensor as tensor;
