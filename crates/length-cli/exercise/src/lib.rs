//! # The LENGTH exercise
//!
//! LENGTH is a small neural-network library. In this project you write five of its parts
//! yourself, and then train a network built from *your* parts on MNIST:
//!
//! | task | file | what you write |
//! |---|---|---|
//! | 1 | [`task1_sgd`] | the update rule of stochastic gradient descent |
//! | 2 | [`task2_fully_connected`] | the fully connected layer: initialisation, forward, backward, update |
//! | 3 | [`task3_mean_squared_error`] | the mean squared error loss against one-hot labels |
//! | 4 | [`task4_relu`] | the ReLU activation, forward and backward |
//! | 5 | [`task5_adam`] | the bonus task: the Adam optimizer with bias correction |
//!
//! Your parts implement the same traits as the library's own parts (`Optimizer`, `Function`,
//! `Layer` from `length_autograd`), so the library's graph, backward pass and training step use
//! them exactly as they use its own. [`model`] wires your parts into the course's network,
//! `ActivatedMLP` (784-512-512-10 with ReLU), and `src/main.rs` trains it with `length train`'s
//! own code (`cargo run --release -- train [flags]`).
//!
//! Every place you write code says `todo!("Task N: ...")`. Each task has a test file in `tests/`
//! (`cargo test --release task1`) that prints `Test passed.` when your part is right, and says
//! what it expected and what came out when it is not. [`check`] is the small test harness behind
//! those messages (it lives in `length_cli`, beside `length exercise check`, which reads what the
//! tests report).

// STUDENT: // Until you fill in the blanks, some parameters and imports are not used yet.
// STUDENT: #![allow(unused_variables, unused_imports, dead_code)]

pub mod model;
pub mod task1_sgd;
pub mod task2_fully_connected;
pub mod task3_mean_squared_error;
pub mod task4_relu;
pub mod task5_adam;

pub use length_cli::exercise::harness as check;
pub use model::ActivatedMLP;
pub use task1_sgd::Sgd;
pub use task2_fully_connected::FullyConnected;
pub use task3_mean_squared_error::{MeanSquaredError, one_hot};
pub use task4_relu::ReLU;
pub use task5_adam::Adam;
