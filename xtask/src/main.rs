//! `cargo xtask`: the project's chores, written in Rust so they run wherever cargo does.
//!
//! - `cargo xtask fetch-data`: fill the data directory with MNIST and Fashion-MNIST.
//! - `cargo xtask bench`: run the kernel benchmarks and print one table.

fn main() {
    println!("xtask: no tasks yet");
}
