//! # length-autograd
//!
//! (Crate docs to be written with the graph.)

mod optimizer;

pub use optimizer::{LayerId, Optimizer};
