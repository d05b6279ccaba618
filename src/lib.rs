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
//! | [`train`] | `length-train` | the training loop ([`Trainer`](train::Trainer)), callbacks, evaluation on a test set, checkpoints |
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
//! ## Training as a library call
//!
//! [`train::Trainer`] runs the loop of the steps above over epochs, with a learning-rate
//! schedule, a test pass after each epoch and [`Callbacks`](train::Callbacks) to watch it. The
//! same made-up digits, now as MNIST keeps its images (bytes, 28 x 28), in an
//! [`MnistLike`](data::MnistLike) data set; the test images are dimmer than the training ones:
//!
//! ```
//! use length::data::{DataSetName, MnistLike, MnistOptions, Samples};
//! use length::layers::{ActivatedMLP, Loss};
//! use length::optim::{Sgd, StepDecay};
//! use length::train::{Callbacks, EpochReport, Flow, Trainer};
//!
//! /// Prints one line per epoch.
//! struct PrintEpochs;
//!
//! impl Callbacks for PrintEpochs {
//!     fn on_epoch_end(&mut self, epoch: &EpochReport) -> Flow {
//!         let test = epoch.test.as_ref().expect("a test set is given");
//!         println!(
//!             "epoch {}: train loss {:.4}, test accuracy {:.3}",
//!             epoch.epoch,
//!             epoch.train.mean_loss(),
//!             test.accuracy
//!         );
//!         Flow::Continue
//!     }
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // 256 images of 28 x 28 bytes; each class is a bar of `brightness` at its own height.
//!     let labels: Vec<u8> = (0..256).map(|i| (i % 10) as u8).collect();
//!     let images = |brightness: u8| -> Vec<u8> {
//!         let bar = |label: u8, pixel: usize| (pixel / 28) / 2 == usize::from(label) + 4;
//!         let image = |&label: &u8| (0..784).map(move |p| if bar(label, p) { brightness } else { 0 });
//!         labels.iter().flat_map(image).collect()
//!     };
//!     let train = Samples::new(images(255), labels.clone(), [28, 28])?;
//!     let test = Samples::new(images(160), labels.clone(), [28, 28])?;
//!     // LENGTH's options: batches of 64 in file order, pixels scaled to [0, 1].
//!     let options = MnistOptions::default();
//!     let data = MnistLike::from_samples(DataSetName::Mnist, Some(train), Some(test), &options)?;
//!
//!     let mut model = ActivatedMLP::new();
//!     let mut optimizer = Sgd::with_learning_rate(0.1);
//!     let schedule = StepDecay::notebook(0.1); // 0.1, then 0.01 from the second epoch
//!     let report = Trainer::new(&data)
//!         .epochs(2)
//!         .schedule(&schedule)
//!         .test_on(data.test_samples().unwrap(), Loss::MeanSquaredError)
//!         .fit(&mut model, &mut optimizer, &mut PrintEpochs)?;
//!
//!     let last = report.epochs.last().unwrap();
//!     assert_eq!((report.epochs.len(), last.steps), (2, 4)); // 256 images: 4 batches of 64
//!     assert!(last.test.as_ref().unwrap().accuracy > 0.8); // 0.902 here; chance is 0.1
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
//! | `cargo run --release --example custom_layer` | a layer of your own (a `Linear` written from scratch): [`check_layer_gradients`](autograd::check_layer_gradients) on its input, weight and bias gradients, then training a small network of two with [`apply_layer`](autograd::Graph::apply_layer) |
//! | `cargo run --release --example custom_optimizer` | optimizers of your own: RMSprop as an [`ElementwiseOptimizer`](autograd::ElementwiseOptimizer) (one rule, fused into `FullyConnected`'s backward pass) and a per-layer normalised descent through [`run_update_rule`](autograd::Optimizer::run_update_rule) alone |
//! | `cargo run --release --example train_mnist` | the README's example as a whole program: MNIST (downloaded on first use), the notebook's `ActivatedMLP`, [`Trainer`](train::Trainer) with progress callbacks, a [`checkpoint`](train::checkpoint) saved and loaded back; `-- --epochs N --limit-batches N --save PATH` |
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
pub use length_train as train;

/// The traits whose methods you call or implement, in one import: `use length::prelude::*;`.
///
/// A trait's methods can be called only where the trait is in scope. Without it, asking an
/// optimizer for its learning rate does not compile (`learning_rate` is a method of
/// [`LearningRate`](autograd::LearningRate), which SGD, Adam and every other optimizer implement).
/// The prelude holds only traits; the types you use you name from their modules:
///
/// ```
/// use length::optim::{Sgd, StepDecay};
/// use length::prelude::*;
///
/// let mut sgd = Sgd::with_learning_rate(0.1);
/// StepDecay::notebook(0.1).apply(1, &mut sgd); // the notebook's rate for epoch 2: a tenth
/// assert!((sgd.learning_rate() - 0.01).abs() < 1e-7);
/// ```
pub mod prelude {
    pub use length_autograd::{
        ElementwiseOptimizer, Function, Initializer, Layer, LearningRate, Optimizer,
    };
    pub use length_data::DataSet;
    pub use length_layers::Model;
    pub use length_optim::LearningRateSchedule;
    pub use length_train::{Callbacks, StepRunner};
}

/// The Rust code blocks of `README.md`, compiled and run by `cargo test --doc -p length`, so the
/// README's examples cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
