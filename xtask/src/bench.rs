//! `cargo xtask bench`: runs the criterion kernel benchmarks and prints one table.

/// Options of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the benchmarks.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask bench is not written yet")
}
