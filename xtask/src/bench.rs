//! `cargo xtask bench`: runs the criterion kernel benchmarks and prints one table.
//!
//! It runs, one after the other, `cargo bench -p length --bench kernels` (LENGTH next to
//! ndarray's `dot` with ndarray's default features) and `cargo bench -p length-peer-benches
//! --bench peers` (LENGTH next to the `gemm` crate built with AVX-512 and `matrixmultiply` with
//! `avx512` + `threading`; both fall back to AVX2 where the CPU has no AVX-512, as LENGTH does),
//! passing on an optional filter and `--quick`. Two cargo invocations,
//! so that the peers' features never reach the `length` package's ndarray. Then it reads what
//! criterion saved under `<target>/criterion/<group>/<implementation>/new/`: `benchmark.json`
//! (the ids and the throughput) and `estimates.json` (the median time). Each group (one kernel at
//! one shape) becomes a row:
//!
//! ```text
//! kernel  shape  median  GFLOP/s or GB/s  vs ndarray dot  vs gemm  vs matrixmultiply
//! ```
//!
//! where "vs X" is X's median time divided by LENGTH's median *in the same bench process*
//! (`length` in the kernels bench, `length_vs_peers` in the peers bench): above 1 means LENGTH is
//! faster. Matrix-multiply throughput counts 2·m·n·k flops; ReLU throughput counts bytes read
//! plus written. Under the table: the kernel path and thread count LENGTH ran with.
//!
//! Last, the kernels bench's one-core measurements (see [`crate::peak_share`]): one core's FMA
//! peak, measured in the same bench process, and the training step's eight products timed on one
//! thread (the group `step_product_1thread`, the weight gradients fused with an SGD update, the
//! hidden layers' forward products through ReLU, the input gradients back through ReLU), each
//! with its GFLOP/s and share of the peak, and the step's products together. `--kernels-only`
//! includes them; `cargo xtask bench step_product --quick` runs only them (the peers bench then
//! matches nothing). A run reports only the results it saved; `--report-only` reports all
//! criterion has.
//!
//! Then, unless `--kernels-only`, a filter or `--report-only` is given, it times whole training
//! epochs with SGD and Adam, as `cargo xtask bench-epoch` does (see [`crate::epoch`]), and prints
//! their table too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, bail};
use serde_json::Value;

/// Options of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Only run (and report) benchmarks whose id contains this text, e.g. `forward`, `relu`, or
    /// `step_product` (only the one-core block: the FMA peak and the step on one thread).
    filter: Option<String>,
    /// Criterion's quick mode: fewer samples, rougher numbers, much faster.
    #[arg(long)]
    quick: bool,
    /// Do not run anything; print the table from the results of the last run.
    #[arg(long)]
    report_only: bool,
    /// Only the kernel benchmarks, not the training epochs of `cargo xtask bench-epoch`.
    #[arg(long)]
    kernels_only: bool,
    /// Options of the epoch benchmark that follows the kernel table.
    #[command(flatten)]
    epoch: crate::epoch::Args,
}

/// The implementation whose speed the table reports; the others are references.
const LENGTH: &str = "length";

/// LENGTH's result in the peers bench, the one the peers' ratios divide by.
const LENGTH_VS_PEERS: &str = "length_vs_peers";

/// The benches to run: (package, bench target).
const BENCHES: [(&str, &str); 2] = [("length", "kernels"), ("length-peer-benches", "peers")];

/// The reference implementations, the LENGTH result (same process) each is compared with, and
/// the column heading.
const REFERENCES: [(&[&str], &str, &str); 3] = [
    (
        &["ndarray_dot", "ndarray_zip"],
        LENGTH,
        "vs ndarray dot (1 thread, default build)",
    ),
    (&["gemm"], LENGTH_VS_PEERS, "vs gemm (x86-v4 build)"),
    (
        &["matrixmultiply"],
        LENGTH_VS_PEERS,
        "vs matrixmultiply (avx512+threading build)",
    ),
];

/// The file, under criterion's directory, where the kernels bench states its kernel path and
/// thread count (through the `LENGTH_BENCH_INFO` environment variable).
const INFO_FILE: &str = "length-bench-info.txt";

/// The file, under criterion's directory, where the peers bench writes its interleaved
/// comparison (through the `LENGTH_BENCH_INTERLEAVED` environment variable).
const INTERLEAVED_FILE: &str = "length-interleaved.tsv";

/// Runs the benchmarks and prints the table.
pub fn run(args: Args) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let metadata = workspace_metadata(&cargo)?;
    let criterion_dir = metadata.target_directory.join("criterion");
    let info_file = criterion_dir.join(INFO_FILE);
    let interleaved_file = criterion_dir.join(INTERLEAVED_FILE);
    let peak_file = criterion_dir.join(crate::peak_share::PEAK_FILE);
    let share_file = criterion_dir.join(crate::peak_share::SHARE_FILE);
    // A run reports what it measured: results criterion saved earlier, under ids this run did
    // not measure (a renamed benchmark, another filter), stay out of the table.
    let started = (!args.report_only).then(SystemTime::now);
    if !args.report_only {
        std::fs::create_dir_all(&criterion_dir)
            .with_context(|| format!("creating {}", criterion_dir.display()))?;
        // The side files are written only by the benchmarks that this run measures (not under
        // another filter): a file left from an earlier run would be printed as if measured now.
        for side_file in [&info_file, &interleaved_file, &peak_file, &share_file] {
            let _ = std::fs::remove_file(side_file);
        }
        for (package, bench) in BENCHES {
            let mut command = Command::new(&cargo);
            command
                .current_dir(&metadata.workspace_root)
                .env("LENGTH_BENCH_INFO", &info_file)
                .env("LENGTH_BENCH_INTERLEAVED", &interleaved_file)
                .env("LENGTH_BENCH_PEAK", &peak_file)
                .env("LENGTH_BENCH_SHARE", &share_file)
                .args(["bench", "-p", package, "--bench", bench, "--"]);
            if let Some(filter) = &args.filter {
                command.arg(filter);
            }
            if args.quick {
                command.arg("--quick");
            }
            let status = command.status().context("could not start `cargo bench`")?;
            if !status.success() {
                bail!("`cargo bench -p {package} --bench {bench}` failed ({status})");
            }
        }
    }
    let results = read_results(&criterion_dir, started)?;
    let results: Vec<_> = results
        .into_iter()
        .filter(|result| {
            args.filter
                .as_deref()
                .is_none_or(|filter| result.full_id.contains(filter))
        })
        .collect();
    if results.is_empty() {
        bail!(
            "no criterion results under {}; run without --report-only first",
            criterion_dir.display()
        );
    }
    print_table(&results);
    if let Ok(info) = std::fs::read_to_string(&info_file) {
        print!("{info}");
    }
    if let Ok(interleaved) = std::fs::read_to_string(&interleaved_file) {
        println!();
        print_interleaved(&interleaved);
    }
    let peak = std::fs::read_to_string(&peak_file).ok();
    crate::peak_share::print(&results, peak.as_deref());
    if let Ok(share) = std::fs::read_to_string(&share_file) {
        crate::peak_share::print_interleaved(&share);
    }
    if args.kernels_only || args.report_only || args.filter.is_some() {
        return Ok(());
    }
    println!();
    crate::epoch::run(args.epoch)
}

/// What `cargo metadata` says about where things are.
struct Metadata {
    workspace_root: PathBuf,
    target_directory: PathBuf,
}

/// Asks cargo for the workspace root and the target directory (which honours
/// `CARGO_TARGET_DIR` and `.cargo/config.toml`).
fn workspace_metadata(cargo: &str) -> anyhow::Result<Metadata> {
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("could not run `cargo metadata`")?;
    if !output.status.success() {
        bail!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let json: Value = serde_json::from_slice(&output.stdout).context("`cargo metadata` output")?;
    let path = |key: &str| -> anyhow::Result<PathBuf> {
        json[key]
            .as_str()
            .map(PathBuf::from)
            .with_context(|| format!("`cargo metadata` has no {key}"))
    };
    Ok(Metadata {
        workspace_root: path("workspace_root")?,
        target_directory: path("target_directory")?,
    })
}

/// One benchmark's saved result.
pub(crate) struct BenchResult {
    pub(crate) group: String,
    pub(crate) implementation: String,
    pub(crate) full_id: String,
    pub(crate) median_ns: f64,
    pub(crate) throughput: Option<Throughput>,
}

/// Work done per iteration, as declared to criterion.
#[derive(Clone, Copy)]
pub(crate) enum Throughput {
    /// Floating-point operations (declared as criterion "elements").
    Flops(f64),
    Bytes(f64),
}

/// Every `new/benchmark.json` under `dir`, with the median of its `new/estimates.json`; with
/// `since`, only those saved from then on.
fn read_results(dir: &Path, since: Option<SystemTime>) -> anyhow::Result<Vec<BenchResult>> {
    let mut files = Vec::new();
    find_benchmark_files(dir, &mut files)?;
    files.sort();
    if let Some(since) = since {
        let saved_since = |file: &PathBuf| {
            std::fs::metadata(file)
                .and_then(|metadata| metadata.modified())
                .is_ok_and(|modified| modified >= since)
        };
        files.retain(saved_since);
    }
    files.iter().map(|file| read_result(file)).collect()
}

/// Collects `*/new/benchmark.json` below `dir` (criterion's `base/` copies are skipped).
fn find_benchmark_files(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            find_benchmark_files(&path, files)?;
        } else if path.ends_with("new/benchmark.json") {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads one benchmark's ids, throughput and median time.
fn read_result(benchmark_file: &Path) -> anyhow::Result<BenchResult> {
    let read_json = |path: &Path| -> anyhow::Result<Value> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    };
    let benchmark = read_json(benchmark_file)?;
    let estimates = read_json(&benchmark_file.with_file_name("estimates.json"))?;
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let throughput = match &benchmark["throughput"] {
        Value::Object(map) => map.iter().find_map(|(kind, amount)| {
            let amount = amount.as_f64()?;
            match kind.as_str() {
                "Elements" => Some(Throughput::Flops(amount)),
                "Bytes" => Some(Throughput::Bytes(amount)),
                _ => None,
            }
        }),
        _ => None,
    };
    Ok(BenchResult {
        group: text(&benchmark["group_id"]),
        implementation: text(&benchmark["function_id"]),
        full_id: text(&benchmark["full_id"]),
        median_ns: estimates["median"]["point_estimate"]
            .as_f64()
            .with_context(|| format!("no median in {}", benchmark_file.display()))?,
        throughput,
    })
}

/// Prints one row per group that has a LENGTH result.
fn print_table(results: &[BenchResult]) {
    let mut groups: BTreeMap<&str, BTreeMap<&str, &BenchResult>> = BTreeMap::new();
    for result in results {
        groups
            .entry(&result.group)
            .or_default()
            .insert(&result.implementation, result);
    }
    let mut rows = vec![vec![
        "kernel".to_owned(),
        "shape".to_owned(),
        "median".to_owned(),
        "throughput".to_owned(),
    ]];
    rows[0].extend(REFERENCES.iter().map(|(_, _, heading)| heading.to_string()));
    for (group, implementations) in &groups {
        let Some(ours) = implementations.get(LENGTH) else {
            continue;
        };
        let (kernel, shape) = split_group_name(group);
        let mut row = vec![
            kernel,
            shape,
            format_time(ours.median_ns),
            format_throughput(ours),
        ];
        for (names, ours_name, _) in REFERENCES {
            let reference = names.iter().find_map(|name| implementations.get(name));
            let ours = implementations.get(ours_name);
            row.push(match (reference, ours) {
                (Some(reference), Some(ours)) => {
                    format!("{:.2}x", reference.median_ns / ours.median_ns)
                }
                _ => "-".to_owned(),
            });
        }
        rows.push(row);
    }
    if rows.len() == 1 {
        // Only groups without a LENGTH-vs-reference row, e.g. the filter `step_product`.
        return;
    }
    print_rows(&rows);
    println!();
    println!(
        "vs X = median time of X / median time of length in the same bench process \
         (above 1: length is faster)."
    );
}

/// Prints the peers bench's interleaved comparison (tab-separated lines: group, LENGTH's median
/// in ns, then per peer its id and the quartiles of the per-round ratios) as a table.
fn print_interleaved(tsv: &str) {
    let mut rows = vec![vec![
        "kernel".to_owned(),
        "shape".to_owned(),
        "length".to_owned(),
    ]];
    for line in tsv.lines().filter(|line| !line.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [group, length_ns, peers @ ..] = fields.as_slice() else {
            continue;
        };
        let (kernel, shape) = split_group_name(group);
        let mut row = vec![
            kernel,
            shape,
            length_ns.parse().map_or("?".to_owned(), format_time),
        ];
        for peer in peers.chunks(4) {
            let [id, low, median, high] = peer else {
                continue;
            };
            if rows.len() == 1 {
                rows[0].push(format!("vs {id}: median [quartiles]"));
            }
            let ratio = |text: &&str| {
                text.parse::<f64>()
                    .map_or("?".to_owned(), |r| format!("{r:.2}"))
            };
            row.push(format!(
                "{}x [{}-{}]",
                ratio(median),
                ratio(low),
                ratio(high)
            ));
        }
        rows.push(row);
    }
    if rows.len() == 1 {
        return;
    }
    println!(
        "Interleaved (peers bench, same process): rounds of ~1 ms batches by length and each peer \
         in turn; per round the ratio peer time / length time."
    );
    print_rows(&rows);
}

/// Prints `rows` as aligned columns (the first two left-aligned), the first row as the heading.
fn print_rows(rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (index, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, &width))| {
                if column < 2 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        println!("{}", cells.join("  "));
        if index == 0 {
            let rule: Vec<String> = widths.iter().map(|&width| "-".repeat(width)).collect();
            println!("{}", rule.join("  "));
        }
    }
}

/// `forward_64x784_by_512x784T` -> (`forward`, `64x784 · (512x784)ᵀ`).
fn split_group_name(group: &str) -> (String, String) {
    let Some(start) = group.find(|c: char| c.is_ascii_digit()) else {
        return (group.to_owned(), String::new());
    };
    let kernel = group[..start].trim_end_matches('_').to_owned();
    let shape = group[start..]
        .split("_by_")
        .map(|operand| match operand.strip_suffix('T') {
            Some(transposed) => format!("({transposed})ᵀ"),
            None => operand.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" · ");
    (kernel, shape)
}

/// A duration in the unit that keeps three or four significant digits.
fn format_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// GFLOP/s for matrix multiplies, GB/s for memory-bound kernels.
fn format_throughput(result: &BenchResult) -> String {
    match result.throughput {
        Some(Throughput::Flops(flops)) => format!("{:.1} GFLOP/s", flops / result.median_ns),
        Some(Throughput::Bytes(bytes)) => format!("{:.1} GB/s", bytes / result.median_ns),
        None => "-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    /// Writes a result as criterion saves it, `group/implementation/new/`, dated `saved`.
    fn save_result(dir: &Path, group: &str, implementation: &str, saved: SystemTime) {
        let new = dir.join(group).join(implementation).join("new");
        std::fs::create_dir_all(&new).unwrap();
        let benchmark = format!(
            r#"{{"group_id":"{group}","function_id":"{implementation}","full_id":"{group}/{implementation}","throughput":{{"Elements":1000}}}}"#
        );
        std::fs::write(new.join("benchmark.json"), benchmark).unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":500.0}}"#,
        )
        .unwrap();
        let file = std::fs::File::options()
            .write(true)
            .open(new.join("benchmark.json"))
            .unwrap();
        file.set_modified(saved).unwrap();
    }

    #[test]
    fn a_run_reads_only_the_results_it_saved() {
        let dir = std::env::temp_dir().join(format!("length-xtask-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let started = SystemTime::now();
        save_result(&dir, "old", "length", started - Duration::from_secs(3600));
        save_result(&dir, "new", "length", started + Duration::from_secs(1));
        let ids = |since| -> Vec<String> {
            let results = read_results(&dir, since).unwrap();
            results.into_iter().map(|result| result.full_id).collect()
        };
        assert_eq!(ids(Some(started)), ["new/length"]);
        // `--report-only` reports everything criterion has.
        assert_eq!(ids(None), ["new/length", "old/length"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
