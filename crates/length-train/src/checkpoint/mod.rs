//! Checkpoints: a model's parameters and architecture in a safetensors file.
//!
//! A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's
//! dtype, shape and byte range, plus a free `__metadata__` map of strings), then the raw
//! little-endian tensor bytes. Tensors are named as PyTorch names an `nn.Linear`'s parameters
//! (`fc1.weight` of shape (outputs, inputs), `fc1.bias`), so `safetensors.torch.load_file` or
//! candle read LENGTH's models directly. The metadata carries the architecture:
//!
//! ```text
//! format       = length-mlp
//! architecture = sizes=784,512,512,10 activation=relu loss=mse dropout=0 init=xavier:1 seed=1
//! ```
//!
//! so [`load_mlp`] rebuilds the right model without being told.
//!
//! - **Saving** ([`save`], [`Checkpoint::save`]) is atomic and collision-free: a fresh temporary
//!   file in the destination folder, renamed into place (see `atomic.rs`). The same model gives
//!   the same bytes: the metadata's keys are written in sorted order.
//! - **Loading** ([`load_mlp`], [`Checkpoint::read`]) trusts nothing in the file: the header is
//!   read with a size limit ([`MAX_HEADER_BYTES`]), every tensor's byte range is checked against
//!   the file's length and the architecture's parameters are checked against the tensors
//!   *before* anything is built, only the declared bytes are read, and NaN or infinite weights
//!   are refused.
//!
//! ```
//! use length_layers::{MlpConfig, Model};
//! use length_train::checkpoint;
//!
//! let model = MlpConfig::new([784, 16, 10]).seed(1).build()?;
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("model.safetensors");
//! checkpoint::save(&model, &path)?;
//! let loaded = checkpoint::load_mlp(&path)?;
//! assert_eq!(loaded.metadata["format"], checkpoint::FORMAT);
//! assert_eq!(loaded.model.architecture(), model.architecture());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod atomic;
mod error;
mod file;
mod header;
mod mlp;

use std::path::Path;

use length_layers::Model;

pub use atomic::{STALE_AFTER, TEMP_PREFIX};
pub use error::CheckpointError;
pub use file::Checkpoint;
pub use mlp::{LoadedMlp, load_mlp, mlp_from_bytes, read_mlp};

/// The `format` metadata value that marks a file as a LENGTH model whose `architecture`
/// metadata is an [`MlpConfig`](length_layers::MlpConfig) in its text form.
pub const FORMAT: &str = "length-mlp";

/// The largest header a checkpoint may declare: 1 MiB. LENGTH's 784-512-512-10 model needs
/// under 1 KB, and 400 layers of 4096 about 72 KB.
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Saves `model` with its architecture to `path`:
/// `Checkpoint::from_model(model).save(path)`. Add facts with
/// [`Checkpoint::with_fact`] before [`Checkpoint::save`] to store more.
///
/// # Errors
/// As [`Checkpoint::save`].
pub fn save<M: Model + ?Sized>(model: &M, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    Checkpoint::from_model(model).save(path)
}
