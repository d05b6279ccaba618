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
//! ## Training steps
//!
//! The course notebook's network on a batch of MNIST's shape (here made up: each class is a bar
//! of bright pixels at its own height; [`data::Mnist`] loads the real digits):
//!
//! ```
//! use length::autograd::Graph;
//! use length::layers::{ActivatedMLP, Model};
//! use length::optim::Sgd;
//! use length::tensor::ndarray::{Array1, Array2};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // 64 images of 28 x 28 = 784 pixels in [0, 1], and their labels 0..=9.
//!     let labels = Array1::from_shape_fn(64, |i| (i % 10) as u32);
//!     let images = Array2::from_shape_fn((64, 784), |(i, pixel)| {
//!         let row = pixel / 28;
//!         if row / 2 == labels[i] as usize + 4 { 1.0 } else { 0.0 }
//!     });
//!
//!     let mut model = ActivatedMLP::new(); // 784-512-512-10, ReLU, MSE, Xavier init
//!     let mut optimizer = Sgd::with_learning_rate(0.1);
//!     let mut losses = Vec::new();
//!     for step in 0..3 {
//!         let mut graph = Graph::new();
//!         let x = graph.constant(images.clone()); // (64, 784) f32, moved into the graph
//!         let t = graph.labels(labels.clone()); // (64,) u32
//!         let pass = model.forward_with_loss(&mut graph, x, t)?;
//!         let accuracy = graph.accuracy(pass.logits, t)?;
//!         graph.backward(pass.loss, &mut optimizer); // gradients, and the layers update
//!         let (loss, accuracy) = (graph.scalar(pass.loss), graph.scalar(accuracy));
//!         println!("step {step}: loss {loss:.4}, accuracy {accuracy:.3}");
//!         losses.push(loss);
//!     } // the graph is dropped: the model is free again
//!     assert!(losses[2] < losses[0]);
//!     Ok(())
//! }
//! ```
//!
//! ## Examples
//!
//! Whole programs to copy from, in `examples/` at the repository root:
//!
//! | command | what it shows |
//! |---|---|
//! | `cargo run --release --example custom_function` | a function of your own (a leaky ReLU): forward, backward, [`check_gradients`](autograd::check_gradients), then training a small network with it |

pub use length_autograd as autograd;
pub use length_data as data;
pub use length_layers as layers;
pub use length_optim as optim;
pub use length_tensor as tensor;

/// The Rust code blocks of `README.md`, compiled and run by `cargo test --doc -p length`, so the
/// README's examples cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
