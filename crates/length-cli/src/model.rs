//! The model a subcommand works with: built from the command line, or read from a saved file.
//!
//! The command line describes the hidden layers, activation, loss, dropout and initializer; the
//! input width (784 pixels) and the number of classes (10) come from the data. A saved model is
//! a [`Checkpoint`] whose `architecture` metadata is the [`MlpConfig`] text form
//! (`sizes=784,512,512,10 activation=relu loss=mse ...`) and whose tensors are the model's named
//! parameters (`fc1.weight`, `fc1.bias`, ...).

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use length_layers::{Activation, Loss, MLP, MlpConfig, Model, WeightInit};
use length_train::checkpoint::{self, CheckpointError, LoadedMlp};

use crate::args::{ActivationName, ArchitectureArgs, DataSetName, InitName, LossName};
use crate::checkpoint::Checkpoint;

/// Pixels per image: 28x28.
pub const INPUTS: usize = 28 * 28;
/// Classes in both data sets.
pub const CLASSES: usize = 10;

/// The architecture the command-line options describe.
pub fn config_from_args(architecture: &ArchitectureArgs, init: InitName, seed: u64) -> MlpConfig {
    let mut sizes = vec![INPUTS];
    sizes.extend(&architecture.hidden.0);
    sizes.push(CLASSES);
    MlpConfig::new(sizes)
        .activation(match architecture.activation {
            ActivationName::Relu => Activation::ReLU,
            ActivationName::Sigmoid => Activation::Sigmoid,
            ActivationName::None => Activation::None,
        })
        .loss(match architecture.loss {
            LossName::Mse => Loss::MeanSquaredError,
            LossName::CrossEntropy => Loss::SoftmaxCrossEntropy,
        })
        .dropout(architecture.dropout)
        .init(match init {
            InitName::Xavier => WeightInit::Xavier { scale: 1.0 },
            InitName::Length => WeightInit::Normal { std_dev: 0.01 },
        })
        .seed(seed)
}

/// Facts about the training run stored next to the parameters.
pub struct SaveInfo<'a> {
    /// The data set trained on.
    pub data_set: DataSetName,
    /// Epochs completed (an interrupted epoch counts as started, not completed).
    pub epochs: usize,
    /// The last test accuracy measured.
    pub test_accuracy: f64,
    /// The optimizer and learning rate, as text.
    pub optimizer: &'a str,
}

/// The model and its metadata as a checkpoint: [`Checkpoint::from_model`] (format,
/// architecture, version) plus the facts of the run.
pub fn to_checkpoint<M: Model + ?Sized>(model: &M, info: &SaveInfo) -> Checkpoint {
    Checkpoint::from_model(model)
        .with_fact("data_set", info.data_set.as_str())
        .with_fact("epochs", info.epochs.to_string())
        .with_fact("test_accuracy", format!("{:.4}", info.test_accuracy))
        .with_fact("optimizer", info.optimizer)
}

/// A model read back from a file, with the data set it was trained on (when recorded).
pub struct LoadedModel {
    /// The model, in evaluation mode.
    pub model: MLP,
    /// The data set named in the metadata.
    pub data_set: Option<DataSetName>,
}

/// Reads a model saved by `length train --save` (through [`checkpoint::load_mlp`], which checks
/// the file before building anything); checks that it classifies 28x28 images into 10 classes.
pub fn load(path: &Path) -> anyhow::Result<LoadedModel> {
    let loaded = checkpoint::load_mlp(path).map_err(|error| explain(path, &error))?;
    for_mnist(loaded).with_context(|| format!("cannot use the model {}", path.display()))
}

/// Why `path` could not be loaded, in the command's words: a file that cannot be read, or one
/// that is not a model (and why).
fn explain(path: &Path, error: &CheckpointError) -> anyhow::Error {
    match error.cause() {
        CheckpointError::Io(io) => anyhow!("cannot read the model file {}: {io}", path.display()),
        cause => anyhow!(
            "{} is not a valid model file (safetensors, as written by `length train --save`): \
             {cause}",
            path.display()
        ),
    }
}

/// The loaded model, if its input and output sizes fit MNIST-like data.
fn for_mnist(loaded: LoadedMlp) -> anyhow::Result<LoadedModel> {
    let sizes = &loaded.model.config().sizes;
    if sizes.first() != Some(&INPUTS) || sizes.last() != Some(&CLASSES) {
        bail!(
            "its layer sizes are {sizes:?}, but MNIST-like data needs {INPUTS} inputs and \
             {CLASSES} outputs"
        );
    }
    let data_set = loaded
        .metadata
        .get("data_set")
        .and_then(|name| DataSetName::from_name(name));
    Ok(LoadedModel {
        model: loaded.model,
        data_set,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Hidden;
    use length_layers::Model;

    fn small_args() -> ArchitectureArgs {
        ArchitectureArgs {
            hidden: Hidden(vec![16]),
            activation: ActivationName::Relu,
            loss: LossName::CrossEntropy,
            dropout: 0.0,
        }
    }

    fn info() -> SaveInfo<'static> {
        SaveInfo {
            data_set: DataSetName::Fashion,
            epochs: 2,
            test_accuracy: 0.5,
            optimizer: "adam lr=0.001",
        }
    }

    #[test]
    fn the_default_architecture_is_the_notebooks_activated_mlp() {
        let args = ArchitectureArgs {
            hidden: Hidden(vec![512, 512]),
            activation: ActivationName::Relu,
            loss: LossName::Mse,
            dropout: 0.0,
        };
        let config = config_from_args(&args, InitName::Xavier, 0);
        assert_eq!(config, MlpConfig::activated());
    }

    /// What `load` does with a file, from the checkpoint's bytes.
    fn from_checkpoint(checkpoint: &Checkpoint) -> anyhow::Result<LoadedModel> {
        for_mnist(checkpoint::mlp_from_bytes(&checkpoint.to_bytes())?)
    }

    #[test]
    fn a_checkpoint_round_trip_gives_the_same_outputs() {
        let model = config_from_args(&small_args(), InitName::Xavier, 3)
            .build()
            .unwrap();
        let checkpoint = to_checkpoint(&model, &info());
        let loaded = from_checkpoint(&checkpoint).unwrap();
        assert_eq!(loaded.data_set, Some(DataSetName::Fashion));
        let x = ndarray::Array2::from_shape_fn((3, INPUTS), |(i, j)| ((i + j) % 7) as f32 / 7.0);
        assert_eq!(
            loaded.model.infer(x.view()).unwrap(),
            model.infer(x.view()).unwrap()
        );
    }

    #[test]
    fn checkpoints_that_do_not_fit_are_refused() {
        let model = config_from_args(&small_args(), InitName::Xavier, 3)
            .build()
            .unwrap();
        let good = to_checkpoint(&model, &info());

        let mut wrong_shape = good.clone();
        wrong_shape.tensors.insert(
            "fc1.bias".to_string(),
            length_tensor::Tensor::zeros(vec![17]),
        );
        let message = format!("{:#}", from_checkpoint(&wrong_shape).err().unwrap());
        assert!(message.contains("fc1.bias"), "{message}");

        let mut missing = good.clone();
        missing.tensors.remove("fc2.weight");
        assert!(from_checkpoint(&missing).is_err());

        // A whole, valid model, but not for 28x28 images.
        let wrong_sizes = to_checkpoint(&MlpConfig::new([100, 16, 10]).build().unwrap(), &info());
        let message = format!("{:#}", from_checkpoint(&wrong_sizes).err().unwrap());
        assert!(message.contains("784 inputs"), "{message}");

        let mut foreign = good;
        foreign.metadata.remove("format");
        assert!(from_checkpoint(&foreign).is_err());
    }
}
