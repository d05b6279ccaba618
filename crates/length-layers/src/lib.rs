//! # length-layers
//!
//! LENGTH's layers and models, built on the graph of `length-autograd`:
//!
//! - [`FullyConnected`]: `y = x · W + b`, its weights stored transposed (outputs, inputs).
//! - Initializers: [`Xavier`] (the default) and [`Normal`] (LENGTH's classic `normal(0, 0.01)`),
//!   seeded, so the same seed gives the same weights.
//! - Models: [`MLP`] (LENGTH's 784-512-512-10 without activation, trained with MSE),
//!   [`ActivatedMLP`] (the same with ReLU), and any MLP from an [`MlpConfig`]: sizes,
//!   [`Activation`], [`Loss`], dropout, [`WeightInit`], seed. Models implement [`Model`]:
//!   training on a graph, inference without one, named parameters for checkpoints.
//! - [`train_step()`]: one step of a training loop, as `length train` runs it (the loop below,
//!   with the batch copied into a recycled buffer and the correct predictions counted);
//!   [`train_step_owned`] takes a batch already in such a buffer.
//!
//! ## One training step
//!
//! ```
//! use length_autograd::{functions::Accuracy, Graph};
//! use length_layers::{Activation, Loss, MlpConfig, Model};
//! use length_optim::Sgd;
//! use ndarray::{array, Array2};
//!
//! let mut model = MlpConfig::new([4, 8, 2])
//!     .activation(Activation::ReLU)
//!     .loss(Loss::SoftmaxCrossEntropy)
//!     .seed(1)
//!     .build()?;
//! let mut optimizer = Sgd::with_learning_rate(0.5);
//! let images = Array2::from_shape_fn((6, 4), |(i, j)| if i % 2 == j % 2 { 1.0 } else { 0.0 });
//! let labels = array![0u32, 1, 0, 1, 0, 1];
//!
//! let mut losses = Vec::new();
//! for _ in 0..20 {
//!     let mut graph = Graph::new();
//!     let x = graph.constant(images.clone()); // the graph owns its values (train_step pools this)
//!     let t = graph.labels(labels.clone());
//!     let pass = model.forward_with_loss(&mut graph, x, t)?;
//!     let accuracy = graph.apply(Accuracy, &[pass.logits, t])?;
//!     graph.backward(pass.loss, &mut optimizer); // trains: layers update during backward
//!     losses.push(graph.scalar(pass.loss));
//!     if losses.len() == 1 {
//!         println!("{}", graph.visualize(pass.loss));
//!     }
//!     let _ = graph.scalar(accuracy);
//! } // the graph is dropped: the model is free again
//!
//! assert!(losses[19] < 0.5 * losses[0]);
//! let predictions = model.infer(images.view())?; // no graph for evaluation
//! assert_eq!(predictions.dim(), (6, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod activated_mlp;
mod activation;
mod config;
mod error;
mod fully_connected;
mod initializers;
mod loss;
mod mlp;
mod model;
mod train_step;

pub use activated_mlp::ActivatedMLP;
pub use activation::Activation;
pub use config::{MlpConfig, WeightInit};
pub use error::LayersError;
pub use fully_connected::FullyConnected;
pub use initializers::{Normal, Xavier};
pub use loss::Loss;
pub use mlp::MLP;
pub use model::{ForwardPass, Model};
pub use train_step::{StepOutcome, train_step, train_step_owned};
