//! Loading an [`MLP`] from a checkpoint: the architecture from the metadata, checked against the
//! tensors the header declares before anything is built.
//!
//! An MLP with sizes `[n₀, n₁, ..., n_L]` has, for each layer `k = 1..L`,
//!
//! ```text
//! fc{k}.weight : (n_k, n_{k−1})      fc{k}.bias : (n_k)
//! ```
//!
//! Loading compares that list with the header's tensors (names, shapes, and first of all their
//! number) before building the model. The header's tensors were already checked to lie inside
//! the file, so the model that is then built is never larger than the file that describes it:
//! `sizes=784,1000000,10` in a 51 KB file is refused, not allocated.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

use length_layers::{MLP, MlpConfig, Model};

use super::file::{open_regular_file, read_tensor};
use super::header::{Header, read_header};
use super::{CheckpointError, FORMAT};

/// A model read back from a checkpoint, with the file's metadata.
#[derive(Debug)]
pub struct LoadedMlp {
    /// The model, in evaluation mode (no dropout).
    pub model: MLP,
    /// Every fact in the file's metadata (`format`, `architecture`, and whatever the saver
    /// added, such as `data_set` or `epochs`).
    pub metadata: BTreeMap<String, String>,
}

/// Loads the [`MLP`] saved at `path` (by [`Checkpoint::save`](super::Checkpoint::save) of
/// [`Checkpoint::from_model`](super::Checkpoint::from_model), or by `length train --save`).
///
/// Reads the header (at most [`MAX_HEADER_BYTES`](super::MAX_HEADER_BYTES)), checks every
/// tensor's dtype, shape and byte range against the file and against the architecture in the
/// metadata, and only then builds the model and reads the declared bytes.
///
/// ```
/// use length_layers::{MlpConfig, Model};
/// use length_train::checkpoint::{self, Checkpoint};
///
/// let model = MlpConfig::new([4, 3, 2]).seed(9).build()?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tiny.safetensors");
/// checkpoint::save(&model, &path)?;
///
/// let loaded = checkpoint::load_mlp(&path)?;
/// assert_eq!(loaded.model.config(), model.config());
/// let x = ndarray::Array2::from_elem((1, 4), 0.5);
/// assert_eq!(loaded.model.infer(x.view())?, model.infer(x.view())?);
///
/// // A file whose architecture asks for more than it holds is refused before it is built.
/// let mut lie = Checkpoint::from_model(&model);
/// lie.metadata.insert("architecture".into(), "sizes=4,1000000,2".into());
/// lie.save(&path)?;
/// assert!(checkpoint::load_mlp(&path).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`CheckpointError::File`] naming `path`, around the reason: the file cannot be read, its
/// header is invalid or larger than the file, its metadata is not a LENGTH architecture, its
/// tensors do not fit that architecture, or a weight is NaN or infinite.
pub fn load_mlp(path: impl AsRef<Path>) -> Result<LoadedMlp, CheckpointError> {
    let path = path.as_ref();
    let read = || {
        let (file, len) = open_regular_file(path)?;
        read_mlp(file, len)
    };
    read().map_err(|error| error.in_file(path))
}

/// [`load_mlp`] from a reader over a file of `len` bytes, standing at its start.
///
/// # Errors
/// As [`load_mlp`], without the path.
pub fn read_mlp(mut reader: impl Read + Seek, len: u64) -> Result<LoadedMlp, CheckpointError> {
    let header = read_header(&mut reader, len)?;
    let config = architecture(&header)?;
    check_tensors_fit(&header, &config)?;
    let mut model = config.build()?;
    let mut parameters = Vec::with_capacity(header.tensors.len());
    for entry in &header.tensors {
        parameters.push((entry.name.clone(), read_tensor(&mut reader, entry)?));
    }
    let views: Vec<_> = parameters
        .iter()
        .map(|(name, value)| (name.clone(), value.view()))
        .collect();
    model.load_parameters(&views)?;
    model.set_training(false);
    Ok(LoadedMlp {
        model,
        metadata: header.metadata,
    })
}

/// [`load_mlp`] from the bytes of a file.
///
/// # Errors
/// As [`load_mlp`], without the path.
pub fn mlp_from_bytes(bytes: &[u8]) -> Result<LoadedMlp, CheckpointError> {
    read_mlp(Cursor::new(bytes), bytes.len() as u64)
}

/// The [`MlpConfig`] in the metadata, after checking the format tag.
fn architecture(header: &Header) -> Result<MlpConfig, CheckpointError> {
    let format = header.metadata.get("format");
    if format.map(String::as_str) != Some(FORMAT) {
        return Err(CheckpointError::Format {
            found: format.cloned(),
            expected: FORMAT,
        });
    }
    let text = header
        .metadata
        .get("architecture")
        .ok_or_else(|| CheckpointError::Architecture("there is none".to_string()))?;
    text.parse().map_err(|error: length_layers::LayersError| {
        CheckpointError::Architecture(error.to_string())
    })
}

/// Checks that the header declares exactly the parameters `config` needs, in their shapes.
fn check_tensors_fit(header: &Header, config: &MlpConfig) -> Result<(), CheckpointError> {
    let mismatch = |reason: String| CheckpointError::Mismatch {
        architecture: config.to_string(),
        reason,
    };
    // The count first: it bounds the list built below by the size of the header.
    let needed = 2 * (config.sizes.len() - 1);
    if needed != header.tensors.len() {
        return Err(mismatch(format!(
            "it needs {needed} tensors, the file holds {}",
            header.tensors.len()
        )));
    }
    let declared: BTreeMap<&str, &[usize]> = header
        .tensors
        .iter()
        .map(|entry| (entry.name.as_str(), entry.shape.as_slice()))
        .collect();
    for (name, shape) in config.parameter_shapes() {
        match declared.get(name.as_str()) {
            None => return Err(mismatch(format!("the file has no tensor {name:?}"))),
            Some(&found) if found != shape.as_slice() => {
                return Err(mismatch(format!(
                    "{name:?} must have shape {shape:?}, the file's has {found:?}"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}
