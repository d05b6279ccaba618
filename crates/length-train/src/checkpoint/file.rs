//! [`Checkpoint`]: named `f32` tensors plus string metadata, written to and read from a
//! safetensors file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

use length_layers::Model;
use length_tensor::Tensor;
use ndarray::IxDyn;

use super::atomic::write_atomically;
use super::header::{self, TensorEntry};
use super::{CheckpointError, FORMAT};

/// The contents of a checkpoint file: metadata and named parameters.
///
/// Saving writes a temporary file in the destination's folder and renames it over the
/// destination, so the file at the path is always one whole checkpoint; the same checkpoint
/// always gives the same bytes. Reading checks the header against the file before reading any
/// tensor and refuses NaN and infinite values.
///
/// ```
/// use length_layers::{MlpConfig, Model};
/// use length_train::checkpoint::Checkpoint;
///
/// let model = MlpConfig::new([4, 3, 2]).build()?;
/// let checkpoint = Checkpoint::from_model(&model).with_fact("epochs", "5");
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tiny.safetensors");
/// checkpoint.save(&path)?;
///
/// let read = Checkpoint::read(&path)?;
/// assert_eq!(read, checkpoint);
/// assert_eq!(read.metadata["epochs"], "5");
/// assert_eq!(read.metadata["architecture"], model.architecture());
/// assert_eq!(read.tensors["fc1.weight"].shape(), &[3, 4]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    /// Free-form facts: `format`, `architecture`, `data_set`, ...; kept in key order.
    pub metadata: BTreeMap<String, String>,
    /// The parameters, by name; stored in name order.
    pub tensors: BTreeMap<String, Tensor>,
}

impl Checkpoint {
    /// A model's parameters with the metadata that lets [`load_mlp`](super::load_mlp) rebuild
    /// it: `format` ([`FORMAT`]), `architecture` ([`Model::architecture`]) and `length_version`.
    pub fn from_model<M: Model + ?Sized>(model: &M) -> Self {
        let tensors = model
            .parameters()
            .into_iter()
            .map(|(name, value)| (name, value.to_owned()))
            .collect();
        Checkpoint {
            metadata: BTreeMap::new(),
            tensors,
        }
        .with_fact("format", FORMAT)
        .with_fact("architecture", model.architecture())
        .with_fact("length_version", env!("CARGO_PKG_VERSION"))
    }

    /// The checkpoint with one more fact in its metadata (replacing one of the same key).
    pub fn with_fact(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Writes the checkpoint as a safetensors file to `writer`: the header (metadata keys in
    /// sorted order), then each tensor's little-endian `f32` values, in name order.
    ///
    /// # Errors
    /// The first error of `writer`.
    pub fn write_to(&self, writer: &mut dyn Write) -> io::Result<()> {
        let header = header::encode_header(
            &self.metadata,
            self.tensors
                .iter()
                .map(|(name, tensor)| (name.as_str(), tensor.shape())),
        );
        writer.write_all(&(header.len() as u64).to_le_bytes())?;
        writer.write_all(&header)?;
        for tensor in self.tensors.values() {
            for value in tensor.iter() {
                writer.write_all(&value.to_le_bytes())?;
            }
        }
        Ok(())
    }

    /// The bytes of the safetensors file [`save`](Checkpoint::save) writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write_to(&mut bytes)
            .expect("writing to a Vec cannot fail");
        bytes
    }

    /// Writes the checkpoint to `path`, atomically: through a fresh temporary file in the same
    /// folder (named `.length-save-*.tmp`), synced, then renamed over `path`. On failure the
    /// temporary file is removed and an existing file at `path` is untouched. Temporary files
    /// older than an hour that killed saves left in the folder are removed.
    ///
    /// # Errors
    /// [`CheckpointError::File`] around the I/O error, naming `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        let path = path.as_ref();
        write_atomically(path, |writer| self.write_to(writer))
            .map_err(|error| CheckpointError::from(error).in_file(path))
    }

    /// Reads every tensor and the metadata of the safetensors file at `path`. Reads only what
    /// the header declares, after checking it against the file's length; every tensor must be
    /// `F32` and finite.
    ///
    /// # Errors
    /// [`CheckpointError::File`] around the reason, naming `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, CheckpointError> {
        let path = path.as_ref();
        let read = || {
            let (file, len) = open_regular_file(path)?;
            Checkpoint::read_from(file, len)
        };
        read().map_err(|error| error.in_file(path))
    }

    /// [`read`](Checkpoint::read) from a reader over a file of `len` bytes, standing at its
    /// start.
    ///
    /// # Errors
    /// As [`read`](Checkpoint::read), without the path.
    pub fn read_from(mut reader: impl Read + Seek, len: u64) -> Result<Self, CheckpointError> {
        let header = header::read_header(&mut reader, len)?;
        let mut tensors = BTreeMap::new();
        for entry in &header.tensors {
            tensors.insert(entry.name.clone(), read_tensor(&mut reader, entry)?);
        }
        Ok(Checkpoint {
            metadata: header.metadata,
            tensors,
        })
    }

    /// [`read`](Checkpoint::read) from the bytes of a file.
    ///
    /// # Errors
    /// As [`read`](Checkpoint::read), without the path.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        Checkpoint::read_from(Cursor::new(bytes), bytes.len() as u64)
    }
}

/// Opens `path` for reading if it is a regular file (not a directory, a device such as
/// `/dev/zero`, or a pipe, whose length says nothing about what reading gives), with its length.
pub(crate) fn open_regular_file(path: &Path) -> Result<(File, u64), CheckpointError> {
    // Checked before opening too: opening a pipe would wait for a writer.
    if !std::fs::metadata(path)?.is_file() {
        return Err(CheckpointError::NotAFile);
    }
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(CheckpointError::NotAFile);
    }
    Ok((file, metadata.len()))
}

/// Reads the tensor `entry` describes (only its declared bytes, in chunks) and checks that
/// every value is finite.
pub(crate) fn read_tensor(
    reader: &mut (impl Read + Seek),
    entry: &TensorEntry,
) -> Result<Tensor, CheckpointError> {
    const CHUNK_BYTES: usize = 64 * 1024;
    reader.seek(SeekFrom::Start(entry.start))?;
    let mut remaining = usize::try_from(entry.len).map_err(|_| CheckpointError::Tensor {
        name: entry.name.clone(),
        reason: format!("its {} bytes do not fit in memory", entry.len),
    })?;
    let mut values = Vec::with_capacity(remaining / 4);
    let mut chunk = vec![0u8; CHUNK_BYTES.min(remaining)];
    while remaining > 0 {
        let bytes = &mut chunk[..CHUNK_BYTES.min(remaining)];
        reader.read_exact(bytes)?;
        values.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        remaining -= bytes.len();
    }
    if let Some(index) = values.iter().position(|value| !value.is_finite()) {
        return Err(CheckpointError::NonFinite {
            name: entry.name.clone(),
            index,
            value: values[index],
        });
    }
    Ok(Tensor::from_shape_vec(IxDyn(&entry.shape), values)
        .expect("the header check made the byte count match the shape"))
}
