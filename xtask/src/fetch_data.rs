//! `cargo xtask fetch-data`: fills the data directory with MNIST and Fashion-MNIST.

/// Options of `cargo xtask fetch-data`.
#[derive(clap::Args)]
pub struct Args {}

/// Fetches the data sets.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask fetch-data is not written yet")
}
