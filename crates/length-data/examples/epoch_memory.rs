//! Loads MNIST and serves one epoch of training and test batches, printing how long each step
//! took. Run it under `/usr/bin/time -v` to see the peak resident memory:
//!
//! ```text
//! /usr/bin/time -v cargo run --release -p length-data --example epoch_memory
//! ```
//!
//! The pixels stay bytes (47 MB + 7.8 MB for MNIST) and each batch is converted into one reused
//! buffer, so the peak stays near the size of the bytes; a float copy of the training set alone
//! would add 188 MB.

use length_data::{DataError, DataSet, Mnist, MnistOptions, workspace_data_dir};
use std::time::Instant;

fn main() -> Result<(), DataError> {
    let start = Instant::now();
    let mnist = Mnist::load(&MnistOptions {
        batch_size: 100,
        data_dir: Some(workspace_data_dir()),
        ..MnistOptions::default()
    })?;
    let loaded = start.elapsed();

    let start = Instant::now();
    let (mut batches, mut pixel_sum) = (0, 0.0f64);
    for mut split in [mnist.train(), mnist.test()] {
        while let Some(batch) = split.next_batch() {
            pixel_sum += batch.images.iter().map(|&v| f64::from(v)).sum::<f64>();
            batches += 1;
        }
    }
    let served = start.elapsed();

    println!("loaded MNIST in {loaded:.2?}; served {batches} batches of 100 in {served:.2?}");
    println!("sum of all pixel values (scaled to [0, 1]): {pixel_sum:.1}");
    Ok(())
}
