//! Saved models: named `f32` tensors plus string metadata, in the safetensors format.
//!
//! A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's
//! dtype, shape and byte range, plus a free `__metadata__` map of strings), then the raw
//! little-endian tensor bytes. Tensors are named as PyTorch names an `nn.Linear`'s parameters
//! (`fc1.weight` of shape (outputs, inputs), `fc1.bias`), so `safetensors.torch.load_file` or
//! candle read our models directly. The metadata carries the architecture, so `length evaluate`
//! and `length predict` rebuild the right model without being told.
//!
//! Files are written to a temporary name next to the target and then renamed over it, so an
//! interrupted write never leaves a half-written model behind.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use length_tensor::Tensor;
use ndarray::IxDyn;
use safetensors::{Dtype, SafeTensors, View};

/// The `format` metadata value that marks a file as a LENGTH model.
pub const FORMAT: &str = "length-mlp";

/// The contents of a model file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    /// Free-form facts: `format`, `architecture`, `data_set`, ...
    pub metadata: BTreeMap<String, String>,
    /// The parameters, by name.
    pub tensors: BTreeMap<String, Tensor>,
}

/// One tensor as safetensors wants to see it: little-endian `f32` bytes and a shape.
struct F32View {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl F32View {
    fn new(tensor: &Tensor) -> Self {
        F32View {
            shape: tensor.shape().to_vec(),
            bytes: tensor.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

impl View for &F32View {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

impl Checkpoint {
    /// Writes the checkpoint to `path` (through a temporary file and a rename).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let views: Vec<(&str, F32View)> = self
            .tensors
            .iter()
            .map(|(name, tensor)| (name.as_str(), F32View::new(tensor)))
            .collect();
        let metadata: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        let bytes = safetensors::serialize(
            views.iter().map(|(name, view)| (*name, view)),
            Some(metadata),
        )
        .context("cannot encode the model as safetensors")?;
        let partial = partial_path(path);
        std::fs::write(&partial, bytes)
            .with_context(|| format!("cannot write the model file {}", partial.display()))?;
        std::fs::rename(&partial, path).with_context(|| {
            let _ = std::fs::remove_file(&partial);
            format!("cannot write the model file {}", path.display())
        })
    }

    /// Reads a checkpoint from `path`; every tensor must be `f32`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the model file {}", path.display()))?;
        Self::from_bytes(&bytes).with_context(|| {
            format!(
                "{} is not a valid model file (safetensors, as written by `length train --save`)",
                path.display()
            )
        })
    }

    /// Decodes a checkpoint from the bytes of a safetensors file.
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        let (_, header) = SafeTensors::read_metadata(bytes)?;
        let metadata = header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let file = SafeTensors::deserialize(bytes)?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.iter() {
            if view.dtype() != Dtype::F32 {
                bail!("tensor {name} is {:?}, but models are f32", view.dtype());
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let tensor = Tensor::from_shape_vec(IxDyn(view.shape()), values)
                .with_context(|| format!("tensor {name} has inconsistent shape"))?;
            tensors.insert(name.to_string(), tensor);
        }
        Ok(Checkpoint { metadata, tensors })
    }

    /// The metadata value under `key`, or an error naming the missing key.
    pub fn require(&self, key: &str) -> anyhow::Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("the model file has no `{key}` in its metadata"))
    }
}

/// `model.safetensors` -> `model.safetensors.partial`, in the same directory.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn example() -> Checkpoint {
        let mut checkpoint = Checkpoint::default();
        checkpoint
            .metadata
            .insert("format".to_string(), FORMAT.to_string());
        checkpoint.tensors.insert(
            "fc1.weight".to_string(),
            array![[1.0f32, -2.0, 3.5], [0.25, 0.0, -0.0]].into_dyn(),
        );
        checkpoint
            .tensors
            .insert("fc1.bias".to_string(), array![0.5f32, -1.5].into_dyn());
        checkpoint
    }

    #[test]
    fn save_then_load_gives_back_the_same_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        example().save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), example());
        assert!(!partial_path(&path).exists());
    }

    #[test]
    fn the_file_is_plain_safetensors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        example().save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
        assert_eq!(header["fc1.weight"]["dtype"], "F32");
        assert_eq!(header["fc1.weight"]["shape"], serde_json::json!([2, 3]));
        assert_eq!(header["__metadata__"]["format"], FORMAT);
        assert_eq!(bytes.len(), 8 + header_len + 4 * (6 + 2));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Checkpoint::from_bytes(b"not a model").is_err());
        assert!(Checkpoint::from_bytes(&[]).is_err());
        let mut truncated = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        example().save(&path).unwrap();
        truncated.extend_from_slice(&std::fs::read(&path).unwrap());
        truncated.truncate(truncated.len() - 3);
        assert!(Checkpoint::from_bytes(&truncated).is_err());
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let error = Checkpoint::load(Path::new("/nonexistent/m.safetensors")).unwrap_err();
        assert!(format!("{error:#}").contains("/nonexistent/m.safetensors"));
    }
}
