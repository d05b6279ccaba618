//! Any bytes as a checkpoint file: loading returns a model or an error, and never panics,
//! aborts, or allocates more than the input's size allows (run with `-malloc_limit_mb`).
//!
//! Both readers run on every input: [`Checkpoint::from_bytes`] (every tensor, any names) and
//! [`checkpoint::mlp_from_bytes`] (the architecture in the metadata, checked against the
//! tensors before the model is built).
#![no_main]

use length_train::checkpoint::{self, Checkpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(read) = Checkpoint::from_bytes(bytes) {
        // What was read is what was declared: at most the input's size in values.
        let values: usize = read.tensors.values().map(|tensor| tensor.len()).sum();
        assert!(4 * values <= bytes.len());
        assert!(read.tensors.values().all(|tensor| tensor.iter().all(|v| v.is_finite())));
    }
    if let Ok(loaded) = checkpoint::mlp_from_bytes(bytes) {
        assert!(!loaded.model.config().sizes.is_empty());
    }
});
