//! One training step of a [`Model`] on one batch: the body of every training loop.
//!
//! ```text
//! graph           = a new Graph
//! x               = the batch in a recycled buffer (a constant: it needs no gradient)
//! t               = the labels
//! logits, loss    = model.forward_with_loss(graph, x, t)
//! correct         = #{ i : argmax_j logits_ij = t_i }
//! graph.backward(loss, optimizer)          the layers update themselves on the way back
//! drop the graph                           every array goes back to the pool
//! ```
//!
//! The graph owns its values, and a data loader lends out the same buffer for every batch, so
//! [`train_step`] copies the batch once, into a buffer from `length_autograd::pool`.
//! [`train_step_owned`] takes a buffer the caller has filled instead, such as one the loader
//! converted the batch straight into (`length_data::PendingBatch::images_into`; the trainer
//! converts it transposed, `BatchImages::pixels_into`, and hands it over in column-major
//! order). With the pool, a step after the first allocates almost nothing: the arrays of the last
//! step are handed out again.
//!
//! When the loss is not a finite number the step stops before the backward pass, so a diverging
//! run leaves the parameters as they were before the bad batch; the caller decides what to do.

use length_autograd::{AutogradError, Graph, Optimizer, pool};
use length_tensor::argmax_rows;
use ndarray::{Array2, ArrayView1, ArrayView2, Ix2};

use crate::Model;

/// What one training step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    /// The batch's mean loss, computed before the update.
    pub loss: f32,
    /// How many samples the model classified correctly (before the update).
    pub correct: usize,
    /// The number of samples in the batch.
    pub samples: usize,
}

/// Trains `model` on one batch: forward with the loss, count the correct predictions, and, if the
/// loss is finite, backward, which hands every layer's gradients to `optimizer`.
///
/// `images` is (samples, inputs), `labels` one class per sample.
///
/// ```
/// use length_layers::{MlpConfig, train_step};
/// use length_optim::Sgd;
/// use ndarray::{array, Array2};
///
/// let mut model = MlpConfig::new([2, 8, 2]).seed(3).build()?;
/// let mut optimizer = Sgd::with_learning_rate(0.1);
/// let images = array![[0.0f32, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]];
/// let labels = array![1u32, 0, 1, 0];
/// let first = train_step(&mut model, &mut optimizer, images.view(), labels.view())?;
/// for _ in 0..50 {
///     train_step(&mut model, &mut optimizer, images.view(), labels.view())?;
/// }
/// let last = train_step(&mut model, &mut optimizer, images.view(), labels.view())?;
/// assert!(last.loss < first.loss);
/// assert_eq!((last.correct, last.samples), (4, 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// If the batch does not fit the model (columns, one label per row, labels out of range).
pub fn train_step<M: Model + ?Sized>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    images: ArrayView2<f32>,
    labels: ArrayView1<u32>,
) -> Result<StepOutcome, AutogradError> {
    train_step_owned(model, optimizer, pool::copied(images), labels)
}

/// [`train_step`] on images the graph can take over as they are, without copying them: best
/// taken from `length_autograd::pool::take` and filled in place, so that the step's pool gets the
/// buffer back for the next batch.
///
/// ```
/// use length_autograd::pool;
/// use length_layers::{MlpConfig, train_step, train_step_owned};
/// use length_optim::Sgd;
/// use ndarray::array;
///
/// let config = MlpConfig::new([2, 8, 2]).seed(3);
/// let (mut copied, mut owned) = (config.clone().build()?, config.build()?);
/// let (mut sgd, mut other_sgd) = (Sgd::with_learning_rate(0.1), Sgd::with_learning_rate(0.1));
/// let images = array![[0.0f32, 1.0], [1.0, 0.0]];
/// let labels = array![1u32, 0];
/// let mut batch = pool::take((2, 2));
/// batch.assign(&images);
/// let a = train_step(&mut copied, &mut sgd, images.view(), labels.view())?;
/// let b = train_step_owned(&mut owned, &mut other_sgd, batch, labels.view())?;
/// assert_eq!(a, b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`train_step`].
pub fn train_step_owned<M: Model + ?Sized>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    images: Array2<f32>,
    labels: ArrayView1<u32>,
) -> Result<StepOutcome, AutogradError> {
    let mut graph = Graph::new();
    let x = graph.constant(images);
    let t = graph.labels(labels.to_owned());
    let pass = model.forward_with_loss(&mut graph, x, t)?;
    let loss = graph.scalar(pass.loss);
    let logits = graph
        .value(pass.logits)
        .view()
        .into_dimensionality::<Ix2>()
        .expect("a model's logits are (samples, classes)");
    let correct = argmax_rows(logits)
        .iter()
        .zip(labels)
        .filter(|&(&predicted, &label)| predicted == label as usize)
        .count();
    if loss.is_finite() {
        graph.backward(pass.loss, optimizer);
    }
    Ok(StepOutcome {
        loss,
        correct,
        samples: labels.len(),
    })
}
