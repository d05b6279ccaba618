//! `cargo xtask fetch-data`: fills the data directory with MNIST and Fashion-MNIST.
//!
//! Every file is checked by the SHA-256 of its decompressed content and placed atomically; files
//! already present and valid are kept. The work is done by `length_data::fetch`, the same code
//! the library uses to fetch on first use. Downloads give up on a stalled or crawling host and
//! on an oversized body (`LENGTH_FETCH_MIN_SPEED`, `LENGTH_FETCH_SPEED_WINDOW`,
//! `LENGTH_FETCH_DEADLINE`; see `length_data::fetch::FetchOptions`).
//!
//! ```text
//! cargo xtask fetch-data                                   # both data sets from the public hosts
//! cargo xtask fetch-data --data-set mnist --from ../shared/datasets   # copy a local mirror
//! cargo xtask fetch-data --from https://example.org/datasets/         # another host
//! ```

use anyhow::Context;
use length_data::DataSetName;
use length_data::fetch::{self, FetchOptions, FetchPlan, Outcome, Progress, Source};
use std::path::PathBuf;

/// Options of `cargo xtask fetch-data`.
#[derive(clap::Args)]
pub struct Args {
    /// Which data set to fetch.
    #[arg(long, value_enum, default_value_t = Choice::All)]
    data_set: Choice,
    /// The data directory (default: $LENGTH_DATA_DIR, else `.data`); each data set gets a
    /// subfolder, `mnist/` and `fashion-mnist/`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Fetch only from here: a folder holding the four .gz files (or `mnist/` and
    /// `fashion-mnist/` subfolders holding them), or a base URL. Default: $LENGTH_DATA_MIRROR if
    /// set, then the public hosts.
    #[arg(long, value_name = "DIR_OR_URL")]
    from: Option<String>,
}

/// The `--data-set` choices.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Choice {
    Mnist,
    #[value(alias = "fashion-mnist")]
    Fashion,
    All,
}

impl Choice {
    fn data_sets(self) -> &'static [DataSetName] {
        match self {
            Choice::Mnist => &[DataSetName::Mnist],
            Choice::Fashion => &[DataSetName::FashionMnist],
            Choice::All => &DataSetName::ALL,
        }
    }
}

/// Fetches the chosen data sets and prints what happened to each file.
pub fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = args.data_dir.unwrap_or_else(length_data::default_data_dir);
    println!("data directory: {}", data_dir.display());
    for &name in args.data_set.data_sets() {
        let mut plan = FetchPlan::for_data_set(name).with_options(FetchOptions::from_env()?);
        if let Some(from) = &args.from {
            plan = plan.with_sources(vec![Source::parse(from)]);
        }
        let reports = fetch::fetch(&plan, &data_dir, Progress::auto())
            .with_context(|| format!("fetching {name} failed"))?;
        for report in reports {
            let file = report.path.display();
            match report.outcome {
                Outcome::AlreadyPresent => println!("{file}: already present (SHA-256 verified)"),
                Outcome::Fetched { from } => {
                    println!("{file}: fetched from {from} (SHA-256 verified)")
                }
            }
        }
    }
    Ok(())
}
