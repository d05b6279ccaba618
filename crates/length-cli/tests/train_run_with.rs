//! `length_cli::train::run_with` and `run_with_parts`: `length train`'s whole flow with a model
//! (and an optimizer) the caller builds, as the course's exercise project uses it for a
//! student's own model and optimizer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Parser;
use length_autograd::{AutogradError, Graph, LayerId, LearningRate, NodeId, Optimizer};
use length_cli::UsageError;
use length_cli::args::{Cli, Command, OptimizerName, TrainArgs};
use length_cli::train::{ModelRequest, OptimizerRequest, RunEnd, run_with, run_with_parts};
use length_layers::{ForwardPass, LayersError, MLP, Model};
use length_tensor::Tensor;
use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMutD};

/// A model of the caller's own: an MLP that counts its training passes.
struct Counted {
    inner: MLP,
    forward_passes: Arc<AtomicUsize>,
}

impl Model for Counted {
    fn forward<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
    ) -> Result<NodeId, AutogradError> {
        self.inner.forward(graph, x)
    }

    fn forward_with_loss<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
        labels: NodeId,
    ) -> Result<ForwardPass, AutogradError> {
        self.forward_passes.fetch_add(1, Ordering::SeqCst);
        self.inner.forward_with_loss(graph, x, labels)
    }

    fn infer(&self, x: ArrayView2<f32>) -> Result<Array2<f32>, LayersError> {
        self.inner.infer(x)
    }

    fn parameters(&self) -> Vec<(String, ArrayViewD<'_, f32>)> {
        self.inner.parameters()
    }

    fn parameter_mut(&mut self, name: &str) -> Result<ArrayViewMutD<'_, f32>, LayersError> {
        self.inner.parameter_mut(name)
    }

    fn architecture(&self) -> String {
        format!("counted {}", self.inner.architecture())
    }

    fn set_training(&mut self, training: bool) {
        self.inner.set_training(training);
    }

    fn is_training(&self) -> bool {
        self.inner.is_training()
    }
}

#[test]
fn a_callers_model_trains_with_the_flags_of_length_train() {
    let args = short_run(&[]);
    let forward_passes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&forward_passes);
    let mut requested: Option<ModelRequest> = None;
    let end = run_with(args, |request| {
        requested = Some(request.clone());
        Ok(Box::new(Counted {
            inner: request.config.clone().build()?,
            forward_passes: counter,
        }))
    })
    .unwrap();
    assert_eq!(end, RunEnd::Completed);
    let request = requested.expect("the builder was called");
    assert_eq!(request.config.sizes, [784, 16, 10]);
    assert_eq!((request.inputs, request.classes), (784, 10));
    assert_eq!(
        forward_passes.load(Ordering::SeqCst),
        3,
        "one pass per batch"
    );
}

/// An optimizer of the caller's own: SGD as LENGTH writes it, counting its calls.
struct CountedSgd {
    learning_rate: f32,
    calls: Arc<AtomicUsize>,
}

impl LearningRate for CountedSgd {
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}

impl Optimizer for CountedSgd {
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], _layer: LayerId) -> Vec<Tensor> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        gradients
            .iter()
            .map(|g| g.mapv(|g| self.learning_rate * g))
            .collect()
    }
}

/// `length train --num-epochs 1 --limit-batches 3 --hidden 16 --seed 1 EXTRA...`.
fn short_run(extra: &[&str]) -> TrainArgs {
    let data_dir = length_data::workspace_data_dir();
    let mut argv = vec![
        "length",
        "train",
        "--num-epochs",
        "1",
        "--limit-batches",
        "3",
        "--hidden",
        "16",
        "--seed",
        "1",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];
    argv.extend(extra);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Train(args) => args,
        _ => panic!("parsed as another command"),
    }
}

#[test]
fn a_callers_optimizer_trains_and_one_it_does_not_have_is_refused() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let mut requested: Option<OptimizerRequest> = None;
    let end = run_with_parts(
        short_run(&["--optimizer", "adam", "--learning-rate", "0.01"]),
        |request| Ok(Box::new(request.config.clone().build()?)),
        |request| {
            requested = Some(*request);
            Ok(Box::new(CountedSgd {
                learning_rate: request.learning_rate,
                calls: counter,
            }))
        },
    )
    .unwrap();
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(
        requested,
        Some(OptimizerRequest {
            name: OptimizerName::Adam,
            learning_rate: 0.01
        })
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3 * 2,
        "one update per batch and layer (784-16-10 has two)"
    );

    let refused = run_with_parts(
        short_run(&["--optimizer", "momentum"]),
        |request| Ok(Box::new(request.config.clone().build()?)),
        |_| Err(UsageError("no momentum here".into()).into()),
    )
    .unwrap_err();
    assert_eq!(
        refused
            .downcast_ref::<UsageError>()
            .map(ToString::to_string),
        Some("no momentum here".to_string())
    );
}
