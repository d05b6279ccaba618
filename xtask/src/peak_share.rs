//! The last block of `cargo xtask bench`'s kernel report: how close one core comes to its peak.
//!
//! The kernels bench measures one core's FMA peak (`benches/peak/mod.rs`: independent chains of
//! fused multiply-adds on the widest vector path, best of several ~80 ms runs) and writes it to
//! [`PEAK_FILE`]; its group [`GROUP`] times the eight matrix products of one training step of the
//! 784-512-512-10 MLP, batch 64, on a rayon pool of one thread, the weight gradients fused with
//! an SGD update as the step runs them. This module prints each product's GFLOP/s (2·m·n·k flops
//! over criterion's median time) and its share of the peak, then the step's products together:
//! the flops of all eight over the sum of their median times (a step runs each product once).
//! Between the peak and the products it prints the microkernel alone on one tile with its
//! operands in L1 (group `step_product_kernel_in_l1`): the products' ceiling on this core.
//! Last, when the run measured it, the same share timed interleaved ([`SHARE_FILE`]): the peak
//! and the eight products in turn, round after round, so that a machine whose speed drifts
//! between the criterion groups does not move the figure:
//!
//! ```text
//! one core's FMA peak (AVX-512, 12 chains): 240.1 GFLOP/s
//! the microkernel alone, operands in L1: 190.0 GFLOP/s, 79.1% of the peak (the products' ceiling)
//! product (one thread)                            GFLOP/s  share of peak
//! forward 64x784 by 512x784T                        150.2          62.6%
//! ...
//! the epoch's products (per step)                   140.0          58.3%
//! ...
//! Interleaved, 100 rounds of one core's peak and the step's products in turn (...)
//! 58.9% of the peak (quartiles 57.2% - 60.1%); the peak's median 236.4 GFLOP/s.
//! ```

use crate::bench::{BenchResult, Throughput};

/// The criterion group of the step's products on one thread.
pub const GROUP: &str = "step_product_1thread";

/// The criterion group of the microkernel alone, its operands in L1: the products' ceiling.
const KERNEL_GROUP: &str = "step_product_kernel_in_l1";

/// The file, under criterion's directory, where the kernels bench writes the peak (through the
/// `LENGTH_BENCH_PEAK` environment variable): `path<TAB>chains<TAB>GFLOP/s`.
pub const PEAK_FILE: &str = "length-fma-peak.txt";

/// The file, under criterion's directory, where the kernels bench writes the step's share of the
/// peak timed interleaved (through `LENGTH_BENCH_SHARE`): `rounds<TAB>lower quartile<TAB>median
/// <TAB>upper quartile<TAB>median peak GFLOP/s`, the shares as fractions.
pub const SHARE_FILE: &str = "length-interleaved-share.txt";

/// The step's share of the peak with the peak and the products timed in turn, round by round.
#[derive(Debug, PartialEq)]
struct InterleavedShare {
    rounds: usize,
    quartiles: [f64; 3],
    peak_gflop_per_second: f64,
}

/// Reads the share file's line; `None` if it is not five tab-separated numbers.
fn parse_interleaved(text: &str) -> Option<InterleavedShare> {
    let mut fields = text.trim().split('\t');
    let rounds = fields.next()?.parse().ok()?;
    let mut number = || fields.next()?.parse::<f64>().ok();
    let share = InterleavedShare {
        rounds,
        quartiles: [number()?, number()?, number()?],
        peak_gflop_per_second: number()?,
    };
    fields.next().is_none().then_some(share)
}

/// Prints the interleaved share under the products' block (nothing if the text does not parse).
pub fn print_interleaved(text: &str) {
    let Some(share) = parse_interleaved(text) else {
        return;
    };
    let [low, median, high] = share.quartiles.map(|fraction| 100.0 * fraction);
    println!(
        "Interleaved, {} rounds of one core's peak and the step's products in turn (same process, \
         one thread): the step's products\n{median:.1}% of the peak (quartiles {low:.1}% - \
         {high:.1}%); the peak's median {:.1} GFLOP/s.",
        share.rounds, share.peak_gflop_per_second
    );
}

/// One core's FMA peak, as the kernels bench measured it.
#[derive(Debug, PartialEq)]
struct Peak {
    /// The vector path: `AVX-512`, `AVX2+FMA` or `scalar`.
    path: String,
    /// Independent accumulators.
    chains: usize,
    gflop_per_second: f64,
}

/// Reads the peak file's line; `None` if it is not `path<TAB>chains<TAB>GFLOP/s`.
fn parse_peak(text: &str) -> Option<Peak> {
    let mut fields = text.trim().split('\t');
    let peak = Peak {
        path: fields.next()?.to_owned(),
        chains: fields.next()?.parse().ok()?,
        gflop_per_second: fields.next()?.parse().ok()?,
    };
    fields.next().is_none().then_some(peak)
}

/// One product of the step: its label, flops and median time.
struct Product {
    label: String,
    flops: f64,
    median_ns: f64,
}

impl Product {
    fn gflop_per_second(&self) -> f64 {
        self.flops / self.median_ns
    }
}

/// The step's products among `results`, in criterion's (alphabetical) order.
fn step_products(results: &[BenchResult]) -> Vec<Product> {
    results
        .iter()
        .filter(|result| result.group == GROUP)
        .filter_map(|result| match result.throughput {
            Some(Throughput::Flops(flops)) => Some(Product {
                label: label(&result.implementation),
                flops,
                median_ns: result.median_ns,
            }),
            _ => None,
        })
        .collect()
}

/// The microkernel alone, if the results hold it: its GFLOP/s.
fn kernel_in_l1(results: &[BenchResult]) -> Option<f64> {
    results
        .iter()
        .filter(|result| result.group == KERNEL_GROUP)
        .find_map(|result| match result.throughput {
            Some(Throughput::Flops(flops)) => Some(flops / result.median_ns),
            _ => None,
        })
}

/// `weight_gradient_sgd_update_64x10T_by_64x512` -> `weight gradient sgd update 64x10T by
/// 64x512` (a trailing `T`: the operand is read transposed).
fn label(id: &str) -> String {
    let Some(start) = id.find(|c: char| c.is_ascii_digit()) else {
        return id.replace('_', " ");
    };
    let kernel = id[..start].trim_end_matches('_').replace('_', " ");
    format!("{kernel} {}", id[start..].replace("_by_", " by "))
}

/// The step's products together: all their flops over all their median times.
fn step_total(products: &[Product]) -> Product {
    Product {
        label: "the epoch's products (per step)".to_owned(),
        flops: products.iter().map(|product| product.flops).sum(),
        median_ns: products.iter().map(|product| product.median_ns).sum(),
    }
}

/// Prints the block if `results` hold the step's products; `peak_file` is the peak file's text,
/// if it could be read.
pub fn print(results: &[BenchResult], peak_file: Option<&str>) {
    let products = step_products(results);
    if products.is_empty() {
        return;
    }
    let peak = peak_file.and_then(parse_peak);
    println!();
    match &peak {
        Some(peak) => println!(
            "one core's FMA peak ({}, {} chains): {:.1} GFLOP/s",
            peak.path, peak.chains, peak.gflop_per_second
        ),
        None => println!("one core's FMA peak: not measured (no {PEAK_FILE})"),
    }
    if let Some(gflop_per_second) = kernel_in_l1(results) {
        let share = peak.as_ref().map_or(String::new(), |peak| {
            format!(
                ", {:.1}% of the peak",
                100.0 * gflop_per_second / peak.gflop_per_second
            )
        });
        println!(
            "the microkernel alone, operands in L1: {gflop_per_second:.1} GFLOP/s{share} \
             (the products' ceiling)"
        );
    }
    let total = step_total(&products);
    let width = products
        .iter()
        .map(|product| product.label.chars().count())
        .max()
        .unwrap_or(0)
        .max(total.label.chars().count());
    println!(
        "{:<width$}  {:>7}  {:>13}",
        "product (one thread)", "GFLOP/s", "share of peak"
    );
    for product in products.iter().chain([&total]) {
        let share = peak.as_ref().map_or("-".to_owned(), |peak| {
            format!(
                "{:.1}%",
                100.0 * product.gflop_per_second() / peak.gflop_per_second
            )
        });
        println!(
            "{:<width$}  {:>7.1}  {:>13}",
            product.label,
            product.gflop_per_second(),
            share
        );
    }
    println!(
        "Each product on a rayon pool of one thread, as a training step runs it: the weight \
         gradients fused with an SGD update\n(matmul_at_b_descend_into), the hidden layers' \
         forward products through ReLU (matmul_a_bt_relu_into), the input\ngradients back \
         through ReLU (matmul_a_b_relu_backward_into). Per step: the {} products' flops over \
         the sum of\ntheir median times (a step runs each once).",
        products.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(group: &str, implementation: &str, flops: f64, median_ns: f64) -> BenchResult {
        BenchResult {
            group: group.to_owned(),
            implementation: implementation.to_owned(),
            full_id: format!("{group}/{implementation}"),
            median_ns,
            throughput: Some(Throughput::Flops(flops)),
        }
    }

    #[test]
    fn the_interleaved_share_is_read_from_the_benchs_line() {
        assert_eq!(
            parse_interleaved("100\t0.61\t0.645\t0.67\t238.5\n"),
            Some(InterleavedShare {
                rounds: 100,
                quartiles: [0.61, 0.645, 0.67],
                peak_gflop_per_second: 238.5
            })
        );
        assert_eq!(parse_interleaved("100\t0.61\t0.645\t0.67"), None);
        assert_eq!(parse_interleaved("100\t0.61\t0.645\t0.67\t238.5\t1"), None);
        assert_eq!(parse_interleaved("many\t0.61\t0.645\t0.67\t238.5"), None);
    }

    #[test]
    fn the_peak_is_read_from_the_benchs_line() {
        assert_eq!(
            parse_peak("AVX-512\t12\t240.125\n"),
            Some(Peak {
                path: "AVX-512".to_owned(),
                chains: 12,
                gflop_per_second: 240.125
            })
        );
        assert_eq!(parse_peak("AVX-512\t12"), None);
        assert_eq!(parse_peak("AVX-512\ttwelve\t240"), None);
        assert_eq!(parse_peak("AVX-512\t12\t240\textra"), None);
    }

    #[test]
    fn the_kernels_ceiling_is_its_own_group_and_not_a_product() {
        let results = [
            result(GROUP, "forward_64x784_by_512x784T", 300.0, 2.0),
            result(KERNEL_GROUP, "avx512", 360.0, 2.0),
        ];
        assert_eq!(kernel_in_l1(&results), Some(180.0));
        assert_eq!(step_products(&results).len(), 1);
    }

    #[test]
    fn labels_spell_out_the_form_and_the_shapes() {
        assert_eq!(
            label("weight_gradient_sgd_update_64x10T_by_64x512"),
            "weight gradient sgd update 64x10T by 64x512"
        );
        assert_eq!(
            label("forward_64x784_by_512x784T"),
            "forward 64x784 by 512x784T"
        );
    }

    #[test]
    fn the_step_is_its_products_flops_over_their_summed_times() {
        let results = [
            result(GROUP, "forward_64x784_by_512x784T", 300.0, 2.0),
            result("forward_64x784_by_512x784T", "length", 300.0, 1.0),
            result(GROUP, "input_gradient_64x10_by_10x512", 100.0, 3.0),
        ];
        let products = step_products(&results);
        assert_eq!(products.len(), 2, "only the one-thread group");
        assert_eq!(kernel_in_l1(&results), None);
        assert_eq!(products[0].gflop_per_second(), 150.0);
        let total = step_total(&products);
        // (300 + 100) flops in (2 + 3) ns, not the mean of 150 and 33.3 GFLOP/s.
        assert_eq!(total.gflop_per_second(), 80.0);
    }
}
