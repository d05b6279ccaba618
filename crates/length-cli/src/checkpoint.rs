//! Saved models: named `f32` tensors plus string metadata, in the safetensors format.
//!
//! The format, the atomic save and the bounded, checked loading live in the library
//! ([`length_train::checkpoint`]), so a program built on `length` reads and writes the same
//! files as `length train --save`, `length evaluate` and `length predict`.

pub use length_train::checkpoint::Checkpoint;
